/** @module test/core/format/tree-file — the tree node file (spec §6.2). */
import { test } from 'node:test'
import { TreeFile, NODE_BYTES, decodeNode, encodeNode } from '../../../src/core/format/tree-file.js'
import type { TreeNode } from '../../../src/tree/types.js'
import { bytesEqual, deepEqual, equal, fromHex, ok, rejectsWithCode, throwsWithCode } from '../../helpers/assert.js'
import { ram, readAll, VECTORS } from './helpers.js'

const vectorNodes: TreeNode[] = VECTORS.compat.nodes.map((n: any) => ({ index: n.index, size: n.size, hash: fromHex(n.hash) }))

function node (index: number, size = index + 1): TreeNode {
  return { index, size, hash: new Uint8Array(32).fill((index % 250) + 1) }
}

test('tree file: a, b, c writes hypercore@10\'s 200 bytes (node 3 a zero hole)', async () => {
  const file = ram()
  const t = await TreeFile.open(file)
  t.put(vectorNodes)
  equal(t.dirty, true)
  deepEqual(await t.get(4), vectorNodes[3], 'buffered nodes are visible before flush')
  await t.flush()
  equal(t.dirty, false)
  const bytes = await readAll(file)
  equal(bytes.byteLength, VECTORS.compat.storage.tree.byteLength)
  bytesEqual(bytes, VECTORS.compat.storage.tree.hex)
  // and the pre-flush vector: just node 0
  bytesEqual(bytes.subarray(0, NODE_BYTES), VECTORS.compat.storageBeforeFlush.treeFileHex)
  // reading back from a fresh open
  const r = await TreeFile.open(ram(bytes))
  for (const n of vectorNodes) deepEqual(await r.get(n.index), n)
  equal(await r.get(3), null, 'all-zero record = absent')
  equal(await r.get(5), null, 'past the end = absent')
  equal(await r.get(1000), null)
})

test('tree file: record codec, u64 sizes above 2^32, zero-size nodes with a hash are present', () => {
  const big: TreeNode = { index: 9, size: 2 ** 40 + 7, hash: new Uint8Array(32).fill(3) }
  deepEqual(decodeNode(9, encodeNode(big)), big)
  const empty: TreeNode = { index: 0, size: 0, hash: new Uint8Array(32).fill(1) }
  deepEqual(decodeNode(0, encodeNode(empty)), empty, 'size 0 is a real (empty) block')
  equal(decodeNode(0, new Uint8Array(40)), null)
  const bad = new Uint8Array(40).fill(0xff)
  throwsWithCode(() => decodeNode(0, bad), 'DECODING_ERROR')
})

test('tree file: truncate cuts at 40·(2t−1) (0 for t = 0) and blanks nodes crossing the end, as hypercore@10 does', async () => {
  // a full tree of 8 blocks: nodes 0..14
  const all = Array.from({ length: 15 }, (_, i) => node(i))
  for (const t of [0, 1, 2, 3, 4, 5, 6, 7]) {
    const file = ram()
    const tf = await TreeFile.open(file)
    tf.put(all)
    await tf.flush()
    tf.truncate(t)
    const cut = t === 0 ? 0 : 2 * t - 1
    // crossing = index < cut and span reaches past leaf 2(t-1)
    const crossing = (i: number): boolean => {
      const d = Math.log2((i ^ (i + 1)) + 1) - 1 // trailing ones
      return i < cut && i + 2 ** d - 1 > 2 * (t - 1)
    }
    for (let i = 0; i < 15; i++) {
      const want = i >= cut || crossing(i) ? null : all[i]
      deepEqual(await tf.get(i), want, `t=${t} before flush, node ${i}`)
    }
    await tf.flush()
    const bytes = await readAll(file)
    // hypercore@10 also writes a blank record for node `cut` when its walk up from the last
    // leaf reaches it (t not a power of two), so the file ends one record later.
    const blankAtCut = t > 0 && (t & (t - 1)) !== 0
    equal(bytes.byteLength, (cut + (blankAtCut ? 1 : 0)) * NODE_BYTES, `t=${t} file length`)
    const r = await TreeFile.open(ram(bytes))
    for (let i = 0; i < 15; i++) {
      const want = i >= cut || crossing(i) ? null : all[i]
      deepEqual(await r.get(i), want, `t=${t} reopened, node ${i}`)
    }
  }
})

test('tree file: truncate(2) of a, b, c then new nodes (the fork in vectors.truncate)', async () => {
  const file = ram()
  const t = await TreeFile.open(file)
  t.put(vectorNodes)
  await t.flush()
  t.truncate(2)
  const d = node(4, 1)
  t.put([d])
  deepEqual(await t.get(4), d, 'put after truncate survives')
  deepEqual(await t.get(1), vectorNodes[1])
  await t.flush()
  const bytes = await readAll(file)
  equal(bytes.byteLength, 200)
  bytesEqual(bytes.subarray(0, 120), fromHex(VECTORS.compat.storage.tree.hex).subarray(0, 120))
  ok(bytes.subarray(120, 160).every(b => b === 0))
  deepEqual(await (await TreeFile.open(ram(bytes))).get(4), d)
})

test('tree file: the LRU cache serves repeat reads and stays bounded', async () => {
  const file = ram()
  const t = await TreeFile.open(file, { cacheSize: 4 })
  t.put(Array.from({ length: 20 }, (_, i) => node(i)))
  await t.flush()
  let reads = 0
  const read = file.read.bind(file)
  file.read = (o, n, cb) => { reads++; read(o, n, cb) }
  const r = await TreeFile.open(file, { cacheSize: 4 })
  reads = 0
  for (let k = 0; k < 3; k++) deepEqual(await r.get(7), node(7))
  equal(reads, 1, 'one disk read for three gets')
  for (let i = 0; i < 10; i++) await r.get(i)
  reads = 0
  await r.get(9); await r.get(8)
  equal(reads, 0, 'recent nodes cached')
  await r.get(0)
  equal(reads, 1, 'old node evicted')
})

test('tree file: refuses a hypercore 9 (SLEEP) tree with a typed error', async () => {
  const sleep = new Uint8Array(32 + 40)
  sleep.set([0x05, 0x02, 0x57, 0x02, 0x00, 0x00, 0x28, 0x07])
  sleep.set(new TextEncoder().encode('BLAKE2b'), 8)
  const err = await rejectsWithCode(() => TreeFile.open(ram(sleep)), 'STORAGE_NOT_SUPPORTED')
  ok(/hypercore 9/.test(err.message))
})

test('tree file: bad arguments are BAD_ARGUMENT', async () => {
  const t = await TreeFile.open(ram())
  await rejectsWithCode(() => t.get(-1), 'BAD_ARGUMENT')
  throwsWithCode(() => t.put([{ index: 1, size: 1, hash: new Uint8Array(31) }]), 'BAD_ARGUMENT')
  throwsWithCode(() => t.truncate(1.5), 'BAD_ARGUMENT')
})
