/**
 * @module test/core/format/tree-file-cache
 * The tree file's read cache under concurrency: a record read from the file while puts,
 * flushes, truncates or cache evictions land is cached only when it cannot be stale, and a
 * blank record (a sparse reader's hole) is cached even while other nodes are being written.
 * Reads are held with their bytes taken at call time, so a held read returns what the file
 * held before the racing write — the stale value a wrong cache would keep.
 */
import { test } from 'node:test'
import { decodeNode, TreeFile } from '../../../src/core/format/tree-file.js'
import type { RandomAccessStorage } from '../../../src/storage/types.js'
import type { TreeNode } from '../../../src/tree/types.js'
import { bytesEqual, deepEqual, equal } from '../../helpers/assert.js'
import { ram, readAll } from './helpers.js'

function node (index: number, size = index + 1): TreeNode {
  return { index, size, hash: new Uint8Array(32).fill((index % 250) + 1) }
}

interface Gated {
  file: RandomAccessStorage
  /** Reads that reached the storage. */
  reads: () => number
  /** Holds the callback of the next read (its bytes are taken now); resolves the release function once that read is issued. */
  holdNext: () => Promise<() => void>
}

/** A file with nodes 0..9 except 5 (a blank record inside the file). */
async function gatedFile (): Promise<Gated> {
  const file = ram()
  const w = await TreeFile.open(file)
  w.put([0, 1, 2, 3, 4, 6, 7, 8, 9].map(i => node(i)))
  await w.flush()
  let reads = 0
  let hold: ((release: () => void) => void) | null = null
  const read = file.read.bind(file)
  file.read = (offset, size, cb) => {
    reads++
    const h = hold
    hold = null
    if (h === null) return read(offset, size, cb)
    read(offset, size, (err, data) => { h(() => cb(err, data)) })
  }
  return {
    file,
    reads: () => reads,
    holdNext: async () => await new Promise(resolve => { hold = resolve })
  }
}

test('tree file cache: a blank read while other nodes are put and flushed is cached', async () => {
  const g = await gatedFile()
  const t = await TreeFile.open(g.file)
  const held = g.holdNext()
  const pending = t.get(5)
  const release = await held
  t.put([node(10), node(11)])
  await t.flush()
  release()
  equal(await pending, null)
  const before = g.reads()
  equal(await t.get(5), null)
  equal(g.reads(), before, 'the blank came from the cache')
})

test('tree file cache: a put to the same index while its blank is read wins, before and after the flush', async () => {
  const g = await gatedFile()
  const t = await TreeFile.open(g.file)
  const held = g.holdNext()
  const pending = t.get(5)
  const release = await held
  t.put([node(5, 99)])
  release()
  deepEqual(await pending, node(5, 99), 'the pending put wins over the blank read')
  await t.flush()
  deepEqual(await t.get(5), node(5, 99))
})

test('tree file cache: a put flushed while its blank is read is not hidden by the stale blank', async () => {
  const g = await gatedFile()
  const t = await TreeFile.open(g.file)
  const held = g.holdNext()
  const pending = t.get(5)
  const release = await held
  t.put([node(5, 99)])
  await t.flush()
  release()
  deepEqual(await pending, node(5, 99))
  deepEqual(await t.get(5), node(5, 99))
  t.clearCache()
  deepEqual(await t.get(5), node(5, 99), 'and it is on disk')
})

test('tree file cache: a node read while a truncate lands is not cached', async () => {
  const g = await gatedFile()
  const t = await TreeFile.open(g.file)
  const held = g.holdNext()
  const pending = t.get(8)
  const release = await held
  t.truncate(3) // cuts at flat index 5
  await t.flush()
  release()
  equal(await pending, null, 'the truncate wins')
  equal(await t.get(8), null)
  t.put([node(8, 77)])
  await t.flush()
  deepEqual(await t.get(8), node(8, 77))
})

test('tree file cache: a blank read whose racing put was evicted from the cache meanwhile is not cached', async () => {
  const g = await gatedFile()
  const t = await TreeFile.open(g.file, { cacheSize: 2 }) // generations of 1 entry
  const held = g.holdNext()
  const pending = t.get(5)
  const release = await held
  t.put([node(5, 99)])
  await t.flush()
  // Push node 5 out of both generations.
  await t.get(0); await t.get(1); await t.get(2)
  release()
  const got = await pending
  // The stale blank must not be remembered: the next get reads the file again.
  ok5(got)
  deepEqual(await t.get(5), node(5, 99))
})

/** A read racing a put and an eviction may answer either value, but never poison later gets. */
function ok5 (got: TreeNode | null): void {
  if (got !== null) deepEqual(got, node(5, 99))
}

test('tree file cache: concurrent gets of one node share one read', async () => {
  const g = await gatedFile()
  const t = await TreeFile.open(g.file)
  const before = g.reads()
  const got = await Promise.all([t.get(5), t.get(5), t.get(7), t.get(5), t.get(7)])
  deepEqual(got, [null, null, node(7), null, node(7)])
  equal(g.reads() - before, 2)
})

test('tree file cache: a get after a racing put was evicted does not join the stale read', async () => {
  const g = await gatedFile()
  const t = await TreeFile.open(g.file, { cacheSize: 2 })
  const held = g.holdNext()
  const first = t.get(5)
  const release = await held
  t.put([node(5, 99)])
  await t.flush()
  await t.get(0); await t.get(1); await t.get(2) // node 5 leaves the cache
  const second = t.get(5)
  release()
  ok5(await first)
  deepEqual(await second, node(5, 99), 'a fresh read, not the one started before the put')
})

test('tree file cache: a flush skips nodes the file already holds, and the bytes stay the same', async () => {
  const file = ram()
  const t = await TreeFile.open(file)
  t.put([0, 1, 2, 3, 4].map(i => node(i)))
  await t.flush()
  const before = await readAll(file)
  const writes: number[] = []
  const write = file.write.bind(file)
  file.write = (offset, data, cb) => { writes.push(offset / 40); write(offset, data, cb) }
  // The same nodes again (fresh objects), one changed, one new.
  t.put([0, 1, 2, 3, 4].map(i => node(i)).concat([node(6)]))
  t.put([node(2, 50)])
  await t.flush()
  deepEqual(writes, [2, 6])
  const after = await readAll(file)
  bytesEqual(after.subarray(0, 2 * 40), before.subarray(0, 2 * 40))
  deepEqual(decodeNode(2, after, 2 * 40), node(2, 50))
  bytesEqual(after.subarray(3 * 40, 5 * 40), before.subarray(3 * 40, 5 * 40))
  deepEqual(decodeNode(6, after, 6 * 40), node(6))
})

test('tree file cache: a known node put again before a truncate that cuts at its index is written back (as with a cold cache)', async () => {
  const bytesAfter = async (warm: boolean): Promise<Uint8Array> => {
    const file = ram()
    const w = await TreeFile.open(file)
    w.put([0, 1, 2, 3, 4, 5, 6].map(i => node(i)))
    await w.flush()
    const t = warm ? w : await TreeFile.open(file)
    t.put([node(5)]) // 2·3 − 1: the cut index of truncate(3)
    t.truncate(3)
    await t.flush()
    return await readAll(file)
  }
  const cold = await bytesAfter(false)
  equal(cold.byteLength, 6 * 40, 'node 5 is written back past the cut')
  bytesEqual(await bytesAfter(true), cold)
})

/** A RAM file counting reads, and optionally failing the next write. */
function countingFile (bytes?: Uint8Array): { file: RandomAccessStorage, reads: () => number, failNextWrite: () => void } {
  const file = ram(bytes)
  let reads = 0
  let fail = false
  const read = file.read.bind(file)
  const write = file.write.bind(file)
  file.read = (offset, size, cb) => { reads++; read(offset, size, cb) }
  file.write = (offset, data, cb) => {
    if (!fail) return write(offset, data, cb)
    fail = false
    // A torn write: the first record lands, then the write fails.
    write(offset, data.subarray(0, 40), () => cb?.(new Error('disk full')))
  }
  return { file, reads: () => reads, failNextWrite: () => { fail = true } }
}

test('tree file cache: holes the file grew past since open are blank without a read; written records are read', async () => {
  const f = countingFile()
  const t = await TreeFile.open(f.file)
  t.put([node(0), node(6)])
  await t.flush()
  t.clearCache()
  equal(t.byteLength, 7 * 40)
  equal(await t.get(3), null)
  equal(f.reads(), 0, 'a hole inside the file, never written: no read')
  deepEqual(await t.get(6), node(6))
  deepEqual(await t.get(0), node(0))
  equal(f.reads(), 1, 'one read: the run of records around node 6 holds node 0 too')
  // The same file opened again: everything in it may be a record, so holes are read once.
  const again = await TreeFile.open(f.file)
  const opened = f.reads()
  equal(await again.get(3), null)
  equal(f.reads(), opened + 1)
})

test('tree file cache: after a cut, records past it are blank until written again', async () => {
  for (const reopen of [false, true]) {
    const f = countingFile()
    let t = await TreeFile.open(f.file)
    t.put(Array.from({ length: 10 }, (_, i) => node(i)))
    await t.flush()
    if (reopen) t = await TreeFile.open(f.file) // the cut then falls below the records known at open
    t.truncate(3) // cut at 5
    await t.flush()
    t.put([node(8, 80)])
    await t.flush()
    t.clearCache()
    const before = f.reads()
    equal(await t.get(7), null, `reopen=${String(reopen)}: cut off`)
    equal(await t.get(6), null)
    equal(f.reads(), before, 'records cut off and not written since: no read')
    deepEqual(await t.get(8), node(8, 80))
    deepEqual(await t.get(2), node(2))
    // Same answers from the bytes alone.
    const cold = await TreeFile.open(f.file)
    for (const i of [2, 6, 7, 8]) deepEqual(await cold.get(i), await t.get(i), `node ${i}`)
  }
})

test('tree file cache: a torn flush keeps its nodes buffered, and the retry makes them readable', async () => {
  const f = countingFile()
  const t = await TreeFile.open(f.file)
  t.put([node(0)])
  await t.flush()
  t.put([node(4), node(5), node(6)])
  f.failNextWrite()
  let failed = false
  try { await t.flush() } catch { failed = true }
  equal(failed, true)
  deepEqual(await t.get(5), node(5), 'still buffered')
  await t.flush()
  t.clearCache()
  for (const i of [4, 5, 6]) deepEqual(await t.get(i), node(i))
  equal(await t.get(2), null)
})

test('tree file cache: a run of records read while a flush writes inside it never serves the record it missed', async () => {
  const g = await gatedFile()
  const t = await TreeFile.open(g.file, { cacheSize: 4 }) // generations of 2: evictions come fast
  const held = g.holdNext()
  const pending = t.get(0) // reads the run 0..9, whose record 5 is blank now
  const release = await held
  t.put([node(5, 55)])
  await t.flush()
  release()
  deepEqual(await pending, node(0))
  for (let round = 0; round < 4; round++) {
    deepEqual(await t.get(5), node(5, 55), `round ${round}`)
    for (const i of [1, 2, 3, 4, 6, 7, 8]) deepEqual(await t.get(i), node(i), `node ${i}`) // push node 5 out of the cache
  }
  // In order, with a cache that keeps them: one read for the whole run, not one per node.
  const cold = await TreeFile.open(g.file)
  const reads = g.reads()
  for (let i = 0; i < 10; i++) deepEqual(await cold.get(i), i === 5 ? node(5, 55) : node(i), `node ${i}`)
  equal(g.reads(), reads + 1, 'one read for the run')
})
