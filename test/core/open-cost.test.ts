/**
 * @module test/core/open-cost
 * Opening a core reads its header, not the core ("open time is independent of
 * length"). Measured as storage traffic, which is deterministic: the bytes and reads an open
 * needs for a 100,000-block core are within a small constant of those for a 10-block core.
 */
import { test } from 'node:test'
import Hypercore from '../../src/index.js'
import { MemoryDirectory } from '../../src/storage/memory.js'
import type { RandomAccessStorage } from '../../src/storage/types.js'
import { equal, ok } from '../helpers/assert.js'

function counting (dir: MemoryDirectory): { factory: (name: string) => RandomAccessStorage, stats: { reads: number, bytes: number } } {
  const stats = { reads: 0, bytes: 0 }
  const factory = (name: string): RandomAccessStorage => {
    const f = dir.file(name)
    const read = f.read.bind(f)
    f.read = (offset, size, cb) => { stats.reads++; stats.bytes += size; read(offset, size, cb) }
    return f
  }
  return { factory, stats }
}

async function openCost (length: number): Promise<{ reads: number, bytes: number }> {
  const dir = new MemoryDirectory()
  const w = new Hypercore(dir)
  const batch = Array.from({ length: 1000 }, (_, i) => new Uint8Array([i & 0xff, 1, 2, 3]))
  for (let n = 0; n < length; n += 1000) await w.append(batch.slice(0, Math.min(1000, length - n)))
  await w.append(new Uint8Array([9])) // leave an entry in the oplog to replay
  await w.close()
  const { factory, stats } = counting(dir)
  const r = new Hypercore(factory)
  await r.ready()
  equal(r.length, length + 1)
  await r.close()
  return stats
}

test('open cost does not grow with the length of the core (10 vs 100,000 blocks)', async () => {
  const small = await openCost(10)
  const big = await openCost(100_000)
  console.log(`open cost: 10 blocks ${JSON.stringify(small)}, 100,000 blocks ${JSON.stringify(big)}`)
  // The big core has more roots (log n) to read; everything else is the same header and oplog.
  // A tree node read takes the run of 32 records around it (tree-file.ts, READ_AHEAD).
  ok(big.reads <= small.reads + 20, `reads: ${small.reads} vs ${big.reads}`)
  ok(big.bytes <= small.bytes + 20 * 32 * 40 + 4096, `bytes: ${small.bytes} vs ${big.bytes}`)
})
