/**
 * @module test/tree/cached-reads
 * The synchronous read paths (`NodeReader.getCached`, `MerkleTree.byteOffsetCached`,
 * `byteRangeCached`, `missingNodesCached`) give exactly what the async walks give, answer
 * `undefined` (never a wrong value) on a cache miss, and the async methods still work then.
 */
import { test, before } from 'node:test'
import { cryptoReady } from '../../src/crypto/sodium.js'
import { TreeFile } from '../../src/core/format/tree-file.js'
import * as flat from '../../src/tree/flat.js'
import { MemoryNodeStore } from '../../src/tree/memory-node-store.js'
import { MerkleTree } from '../../src/tree/merkle-tree.js'
import type { NodeReader } from '../../src/tree/types.js'
import { deepEqual, equal, ok, throwsWithCode } from '../helpers/assert.js'
import { ram } from '../core/format/helpers.js'
import { Writer, vectorKeyPair } from './helpers.js'

before(async () => { await cryptoReady() })

function blocks (n: number): Uint8Array[] {
  // Sizes 0..6 so every offset differs from index × size.
  return Array.from({ length: n }, (_, i) => new Uint8Array(i % 7).fill(i & 0xff))
}

/** The same store without the sync path: forces the async walks. */
function asyncOnly (store: NodeReader): NodeReader {
  return { get: (i) => store.get(i) }
}

test('byteOffsetCached / byteRangeCached equal the async walk for every block of several lengths', async () => {
  for (const length of [1, 2, 3, 5, 8, 13, 31, 64, 100]) {
    const w = new Writer(vectorKeyPair())
    w.append(...blocks(length))
    const slow = new MerkleTree(asyncOnly(w.store), { length, roots: w.tree.roots, fork: 0 })
    let expected = 0
    for (let i = 0; i <= length; i++) {
      equal(w.tree.byteOffsetCached(i), expected, `offset of ${i} at length ${length}`)
      equal(await slow.byteOffset(i), expected, `async offset of ${i} at length ${length}`)
      equal(slow.byteOffsetCached(i), i === length ? expected : undefined, 'no getCached: no sync answer (but the end is the byte length)')
      if (i < length) {
        deepEqual(w.tree.byteRangeCached(i), [expected, i % 7])
        deepEqual(await slow.byteRange(i), [expected, i % 7])
        expected += i % 7
      }
    }
    throwsWithCode(() => w.tree.byteOffsetCached(length + 1), 'BAD_ARGUMENT')
    throwsWithCode(() => w.tree.byteRangeCached(length), 'BAD_ARGUMENT')
  }
})

test('byteRangeCached in order stays exact across appends and a truncation that keeps the fork', async () => {
  const w = new Writer(vectorKeyPair())
  w.append(...blocks(10))
  const walk = (i: number): [number, number] => [w.tree.byteOffsetCached(i)!, w.tree.getCached(2 * i)!.size]
  for (let i = 0; i < 6; i++) deepEqual(w.tree.byteRangeCached(i), walk(i), `block ${i}`)
  // Cut to 3 on the same fork, then blocks of other sizes: block 6 follows block 5 by index
  // only; its offset must come from the new tree.
  const cut = await w.tree.truncate(3, w.tree.fork)
  w.store.put(cut.nodes)
  cut.commit()
  w.append(...Array.from({ length: 7 }, (_, i) => new Uint8Array(20 + i)))
  for (const i of [6, 7, 3, 4, 9]) deepEqual(w.tree.byteRangeCached(i), walk(i), `block ${i} after the cut`)
})

test('missingNodesCached equals flat.missingNodes on a sparse store; a missing left node is BLOCK_NOT_AVAILABLE', async () => {
  const w = new Writer(vectorKeyPair())
  w.append(...blocks(40))
  // A reader that holds the roots plus a scattering of nodes (as a sparse replica does).
  const sparse = new MemoryNodeStore()
  sparse.put(w.tree.roots)
  for (const i of [0, 1, 3, 7, 20, 22, 21, 50, 51, 60]) sparse.put([(await w.store.get(i))!])
  const tree = new MerkleTree(sparse, { length: 40, roots: w.tree.roots, fork: 0 })
  const has = (i: number): boolean => sparse.has(i)
  for (let i = 0; i < 2 * 40; i++) {
    equal(tree.missingNodesCached(i), await flat.missingNodes(i, 40, has), `missingNodes(${i})`)
    equal(await tree.missingNodes(i), await flat.missingNodes(i, 40, has))
  }
  equal(tree.missingNodesCached(200), 0, 'outside the tree: nothing to ask for')
  // Block 30 (leaf 60) is right of node 15 under root 31; the sparse store lacks node 15.
  throwsWithCode(() => tree.byteOffsetCached(30), 'BLOCK_NOT_AVAILABLE')
})

test('TreeFile.getCached: buffered, flushing, cut and cached nodes answer now; a miss is undefined; past the end is null', async () => {
  const w = new Writer(vectorKeyPair())
  w.append(...blocks(16))
  const all = await Promise.all(Array.from({ length: 31 }, (_, i) => w.store.get(i)))
  const file = ram()
  const t = await TreeFile.open(file, { cacheSize: 4 })
  equal(t.getCached(0), null, 'empty file: absent')
  t.put(all.map(n => n!))
  deepEqual(t.getCached(5), all[5], 'buffered')
  const flushing = t.flush()
  deepEqual(t.getCached(6), all[6], 'being flushed')
  await flushing
  // At most 4 nodes stay cached (two generations of 2), the newest among them; the rest must
  // come from the file.
  const hits: number[] = []
  for (let i = 0; i < 31; i++) {
    const c = t.getCached(i)
    if (c === undefined) continue
    deepEqual(c, all[i])
    hits.push(i)
  }
  ok(hits.length >= 2 && hits.length <= 4, `hits ${hits.join(',')}`)
  ok(hits.includes(30), 'the newest node is cached')
  equal(t.getCached(31), null, 'past the end of the file')
  deepEqual(await t.get(2), all[2], 'a miss reads the file')
  deepEqual(t.getCached(2), all[2], '…and is cached after')
  t.truncate(4)
  equal(t.getCached(9), null, 'cut off')
  throwsWithCode(() => t.getCached(-1), 'BAD_ARGUMENT')

  // A tree over the small-cache file: the sync paths fall back, the async ones still agree.
  const reopened = await TreeFile.open(file, { cacheSize: 2 })
  const tree = new MerkleTree(reopened, { length: 16, roots: w.tree.roots, fork: 0 })
  equal(tree.byteOffsetCached(13), undefined, 'cold cache: no sync answer')
  equal(await tree.byteOffset(13), await w.tree.byteOffset(13))
  deepEqual(await tree.byteRange(7), await w.tree.byteRange(7))
  equal(await tree.missingNodes(10), 0)
})
