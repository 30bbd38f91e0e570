/**
 * @module test/tree/tree-vectors
 * The tree values in vectors.json (§2.5, §6.2): nodes, roots, tree hashes, byte lengths per
 * length, signatures, truncation, and the flat-tree helpers of §1.3.
 */
import { test, before } from 'node:test'
import { cryptoReady } from '../../src/crypto/sodium.js'
import * as flat from '../../src/tree/flat.js'
import { leafNode, parentNode, rootsHash } from '../../src/tree/nodes.js'
import { MerkleTree, truncation } from '../../src/tree/merkle-tree.js'
import { MemoryNodeStore } from '../../src/tree/memory-node-store.js'
import { bytesEqual, deepEqual, equal, rejectsWithCode, throwsWithCode } from '../helpers/assert.js'
import { Writer, nodeJson, textBlocks, vectorKeyPair, vectors } from './helpers.js'

before(async () => { await cryptoReady() })

test('flat: fullRoots matches the §1.3 examples', () => {
  const cases: Array<[number, number[]]> = [[0, []], [1, [0]], [2, [1]], [3, [1, 4]], [4, [3]], [5, [3, 8]], [7, [3, 9, 12]], [40, [31, 71]]]
  for (const [len, roots] of cases) deepEqual(flat.fullRoots(len), roots, `length ${len}`)
})

test('flat: rootOf, pathToRoot and missingNodes (§3.1)', async () => {
  equal(flat.rootOf(4, 3), 4)
  equal(flat.rootOf(0, 3), 1)
  equal(flat.rootOf(6, 3), -1)
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
})

test('nodes: leaves, parent and tree hashes equal the vectors (§2.5)', () => {
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
})

test('merkle tree: append a, b, c gives the vector roots, hashes, byte lengths and signatures', async () => {
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
})

test('merkle tree: truncate(2) then append "d" gives the truncate vectors (§3.5)', async () => {
  const w = new Writer(vectorKeyPair())
  w.append(...textBlocks('a', 'b', 'c'))
  const batch = await w.tree.truncate(2)
  deepEqual(batch.truncation, { dropFrom: 3, blank: [] })
  equal(batch.fork, 1)
  batch.signature = (await import('./helpers.js')).signTree(batch.hash(), batch.length, batch.fork, w.keyPair.secretKey)
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
  bytesEqual(w.tree.hash(), t.afterAppendD.treeHash)
  bytesEqual(w.tree.signature, t.afterAppendD.signature)
  // a stale batch does not commit
  const stale = w.tree.batch().append(new Uint8Array([1]))
  w.append(...textBlocks('e'))
  throwsWithCode(() => stale.commit(), 'INVALID_OPERATION')
})

test('truncation: nodes crossing the new end are blanked, the rest dropped (§6.2)', () => {
  // length 3 → 1: node 1 (spans 0..2) crosses the end at 2; dropFrom = 1 removes it anyway
  deepEqual(truncation(1, 3), { dropFrom: 1, blank: [] })
  // length 8 → 5 (roots 3, 8): node 7 (0..14) is cut by dropFrom 9? no: 7 < 9 and crosses → blank
  deepEqual(truncation(5, 8), { dropFrom: 9, blank: [7] })
  // length 8 → 6 (roots 3, 9): 11 (8..14) crosses, index 11 ≥ dropFrom 11 → dropped; 7 < 11 → blank
  deepEqual(truncation(6, 8), { dropFrom: 11, blank: [7] })
  deepEqual(truncation(0, 8), { dropFrom: 0, blank: [] })
  deepEqual(truncation(4, 4), { dropFrom: 7, blank: [] })
})

test('tree file vector: a, b, c stores nodes 0, 1, 2, 4 with the vector bytes (§6.2)', () => {
  const hex = vectors.compat.storage.tree.hex
  const store = new MemoryNodeStore()
  const w = new Writer(vectorKeyPair())
  w.append(...textBlocks('a', 'b', 'c'))
  for (const i of w.store.indexes()) {
    const n = w.store.getSync(i)!
    const rec = hex.slice(80 * i, 80 * i + 80)
    let sizeHex = ''
    for (let k = 0; k < 8; k++) sizeHex += (Math.floor(n.size / 2 ** (8 * k)) & 0xff).toString(16).padStart(2, '0')
    equal(rec, sizeHex + nodeJson(n).hash, `node ${i}`)
  }
  equal(store.size, 0)
})
