/**
 * @module test/vectors/tree-vectors
 * The tree values of vectors.json as a shared suite (Node and Chromium): the flat-tree
 * examples of §1.3, nodes, roots, tree hashes, byte lengths and signatures per length (§2.5),
 * truncation (§3.5, §6.2) and the tree file bytes (§6.2). The proof vectors live in
 * proof-vectors.ts. Cases assume `cryptoReady()` has resolved.
 */
import * as flat from '../../src/tree/flat.js'
import { leafNode, parentNode, rootsHash } from '../../src/tree/nodes.js'
import { MerkleTree, truncation } from '../../src/tree/merkle-tree.js'
import { MemoryNodeStore } from '../../src/tree/memory-node-store.js'
import { bytesEqual, deepEqual, equal, rejectsWithCode, throwsWithCode, type SuiteCase } from '../helpers/assert.js'
import { Writer, nodeJson, signTree, textBlocks, vectorKeyPair } from '../tree/helpers.js'
import { vectors } from './fixtures.js'

export const treeVectorCases: Array<SuiteCase<void>> = [
  {
    name: 'flat: fullRoots matches the §1.3 examples',
    async run () {
      const cases: Array<[number, number[]]> = [[0, []], [1, [0]], [2, [1]], [3, [1, 4]], [4, [3]], [5, [3, 8]], [7, [3, 9, 12]], [40, [31, 71]]]
      for (const [len, roots] of cases) deepEqual(flat.fullRoots(len), roots, `length ${len}`)
    }
  },
  {
    name: 'flat: rootOf, pathToRoot and missingNodes (§3.1)',
    async run () {
      equal(flat.rootOf(4, 3), 4)
      equal(flat.rootOf(0, 3), 1)
      equal(flat.rootOf(6, 3), -1)
      // Against the definition (walk up while the parent's span stays inside the tree), for
      // every node of small trees and around lengths past 2^32.
      const walk = (i: number, length: number): number => {
        if (flat.rightSpan(i) >= 2 * length) return -1
        while (flat.rightSpan(flat.parent(i)) < 2 * length) i = flat.parent(i)
        return i
      }
      for (let length = 0; length <= 70; length++) {
        for (let i = 0; i < 2 * length + 4; i++) equal(flat.rootOf(i, length), walk(i, length), `rootOf(${i}, ${length})`)
      }
      for (const length of [2 ** 32 - 1, 2 ** 32, 2 ** 32 + 5, 2 ** 40 + 2 ** 33 + 7]) {
        for (const block of [0, 1, 2 ** 31, 2 ** 32 - 2, length - 1, length - 2, length - 6]) {
          for (let i = 2 * block, d = 0; d < 4; d++, i = flat.parent(i)) equal(flat.rootOf(i, length), walk(i, length), `rootOf(${i}, ${length})`)
        }
      }
      deepEqual(flat.pathToRoot(0, 4), [0, 1, 3])
      deepEqual(flat.pathToRoot(4, 3), [4])
      // has nothing but the root: nodes = root depth
      equal(await flat.missingNodes(0, 4, (i) => i === 3), 2)
      // has node 1: missing only the leaf
      equal(await flat.missingNodes(0, 4, (i) => i === 1 || i === 3), 1)
      // leaf known
      equal(await flat.missingNodes(2, 4, () => true), 0)
      // leaf is a root
      equal(await flat.missingNodes(4, 3, () => false), 0)
    }
  },
  {
    name: 'nodes: leaves, parent and tree hashes equal the vectors (§2.5)',
    async run () {
      const [a, b, c] = textBlocks('a', 'b', 'c')
      const n0 = leafNode(0, a)
      const n2 = leafNode(1, b)
      const n4 = leafNode(2, c)
      const n1 = parentNode(n2, n0) // order of arguments does not matter
      deepEqual([n0, n1, n2, n4].map(nodeJson), vectors.compat.nodes)
      bytesEqual(n0.hash, vectors.compat.leafHashBlock0)
      const rootsByLength = [[n0], [n1], [n1, n4]]
      for (const v of vectors.compat.perLength) {
        const roots = rootsByLength[v.length - 1]
        deepEqual(roots.map(nodeJson), v.roots)
        bytesEqual(rootsHash(roots), v.treeHash, `treeHash ${v.length}`)
      }
      throwsWithCode(() => parentNode(n0, n4), 'BAD_ARGUMENT')
    }
  },
  {
    name: 'merkle tree: append a, b, c gives the vector roots, hashes, byte lengths and signatures',
    async run () {
      const w = new Writer(vectorKeyPair())
      for (const [i, block] of textBlocks('a', 'b', 'c').entries()) {
        w.append(block)
        const v = vectors.compat.perLength[i]
        equal(w.tree.length, v.length)
        equal(w.tree.byteLength, v.byteLength)
        deepEqual(w.tree.roots.map(nodeJson), v.roots)
        bytesEqual(w.tree.hash(), v.treeHash)
        bytesEqual(w.tree.signature, v.signature)
      }
      // every node written once complete: 0, 1, 2, 4 (node 3 is not complete at length 3, §6.2)
      deepEqual(w.store.indexes(), [0, 1, 2, 4])
      // earlier lengths from stored nodes
      for (const v of vectors.compat.perLength) {
        bytesEqual(await w.tree.treeHash(v.length), v.treeHash)
        const t = await MerkleTree.open(w.store, { length: v.length })
        deepEqual(t.roots.map(nodeJson), v.roots)
        equal(t.byteLength, v.byteLength)
      }
      await rejectsWithCode(() => w.tree.treeHash(4), 'BAD_ARGUMENT')
      deepEqual(await Promise.all([0, 1, 2, 3].map((i) => w.tree.byteOffset(i))), [0, 1, 2, 3])
      deepEqual(await w.tree.byteRange(2), [2, 1])
      deepEqual(await w.tree.seek(0), [0, 0])
      deepEqual(await w.tree.seek(2), [2, 0])
      deepEqual(await w.tree.seek(3), [3, 0])
      await rejectsWithCode(() => w.tree.seek(4), 'BAD_ARGUMENT')
      equal(await w.tree.missingNodes(0), 0)
    }
  },
  {
    name: 'merkle tree: truncate(2) then append "d" gives the truncate vectors (§3.5)',
    async run () {
      const w = new Writer(vectorKeyPair())
      w.append(...textBlocks('a', 'b', 'c'))
      const batch = await w.tree.truncate(2)
      deepEqual(batch.truncation, { dropFrom: 3, blank: [] })
      equal(batch.fork, 1)
      batch.signature = signTree(batch.hash(), batch.length, batch.fork, w.keyPair.secretKey)
      w.store.truncate(batch.truncation!.dropFrom)
      batch.commit()
      w.blocks.length = 2
      const t = vectors.truncate
      equal(w.tree.length, t.afterTruncateTo2.length)
      equal(w.tree.fork, t.afterTruncateTo2.fork)
      bytesEqual(w.tree.hash(), t.afterTruncateTo2.treeHash)
      bytesEqual(w.tree.signature, t.afterTruncateTo2.signature)
      w.append(...textBlocks('d'))
      equal(w.tree.length, t.afterAppendD.length)
      equal(w.tree.fork, t.afterAppendD.fork)
      bytesEqual(w.tree.hash(), t.afterAppendD.treeHash)
      bytesEqual(w.tree.signature, t.afterAppendD.signature)
      // a stale batch does not commit
      const stale = w.tree.batch().append(new Uint8Array([1]))
      w.append(...textBlocks('e'))
      throwsWithCode(() => stale.commit(), 'INVALID_OPERATION')
    }
  },
  {
    name: 'truncation: nodes crossing the new end are blanked, the rest dropped (§6.2)',
    async run () {
      // length 3 → 1: node 1 (spans 0..2) crosses the end at 2; dropFrom = 1 removes it anyway
      deepEqual(truncation(1, 3), { dropFrom: 1, blank: [] })
      // length 8 → 5 (roots 3, 8): node 7 (0..14) is cut by dropFrom 9? no: 7 < 9 and crosses → blank
      deepEqual(truncation(5, 8), { dropFrom: 9, blank: [7] })
      // length 8 → 6 (roots 3, 9): 11 (8..14) crosses, index 11 ≥ dropFrom 11 → dropped; 7 < 11 → blank
      deepEqual(truncation(6, 8), { dropFrom: 11, blank: [7] })
      deepEqual(truncation(0, 8), { dropFrom: 0, blank: [] })
      deepEqual(truncation(4, 4), { dropFrom: 7, blank: [] })
    }
  },
  {
    name: 'tree file vector: a, b, c stores nodes 0, 1, 2, 4 with the vector bytes (§6.2)',
    async run () {
      const hex = vectors.compat.storage.tree.hex
      const store = new MemoryNodeStore()
      const w = new Writer(vectorKeyPair())
      w.append(...textBlocks('a', 'b', 'c'))
      const record = (i: number): string => {
        const n = w.store.getSync(i)!
        let sizeHex = ''
        for (let k = 0; k < 8; k++) sizeHex += (Math.floor(n.size / 2 ** (8 * k)) & 0xff).toString(16).padStart(2, '0')
        return sizeHex + nodeJson(n).hash
      }
      for (const i of w.store.indexes()) equal(hex.slice(80 * i, 80 * i + 80), record(i), `node ${i}`)
      equal(store.size, 0)
      // the file is 5 records long (index 3 is a hole of zeros) and, before the writer's
      // second flush, held only node 0
      equal(vectors.compat.storage.tree.byteLength, 5 * 40)
      equal(hex.slice(3 * 80, 4 * 80), '0'.repeat(80), 'node 3 is not written')
      equal(vectors.compat.storageBeforeFlush.treeFileHex, record(0))
    }
  }
]
