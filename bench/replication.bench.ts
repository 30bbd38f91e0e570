/**
 * @module bench/replication.bench
 * Replication throughput: a writer with N MiB of blocks, a fresh reader downloading all of
 * it over an in-process pipe, ours ↔ ours against hypercore@10 ↔ hypercore@10 in the same
 * run (memory storage both), for 1 KiB, 16 KiB and 64 KiB blocks. Also heap after a 10 MiB
 * and a 100 MiB download (ours), to show memory stays flat.
 * Run: node --expose-gc --import tsx bench/replication.bench.ts [MiB] [sizes in KiB, comma-separated]
 */
import { createRequire } from 'node:module'
import { Hypercore } from '../src/core/hypercore.js'
import { MemoryStorage } from '../src/storage/memory.js'

const require = createRequire(import.meta.url)
const RefHypercore = require('hypercore') as any
const RAM = require('random-access-memory') as any

interface Kind {
  name: string
  writer: () => Promise<any>
  reader: (key: Uint8Array) => Promise<any>
}
const ours: Kind = {
  name: 'ours',
  writer: async () => { const c = new Hypercore(() => new MemoryStorage()); await c.ready(); return c },
  reader: async (key) => { const c = new Hypercore(() => new MemoryStorage(), key); await c.ready(); return c }
}
const ref: Kind = {
  name: 'hypercore@10',
  writer: async () => { const c = new RefHypercore(RAM); await c.ready(); return c },
  reader: async (key) => { const c = new RefHypercore(RAM, key); await c.ready(); return c }
}

async function fill (w: any, totalBytes: number, blockSize: number): Promise<void> {
  const block = new Uint8Array(blockSize).fill(0x61)
  const n = Math.ceil(totalBytes / blockSize)
  const batch = Math.max(1, Math.floor((1 << 20) / blockSize))
  for (let i = 0; i < n; i += batch) await w.append(Array.from({ length: Math.min(batch, n - i) }, () => block))
}

/** MB/s of one full download (writer already filled). */
async function replicateMBps (kind: Kind, w: any, totalBytes: number): Promise<{ mbps: number, heapMiB: number }> {
  const r = await kind.reader(w.key)
  const a = w.replicate(true, { keepAlive: false })
  const b = r.replicate(false, { keepAlive: false })
  a.pipe(b).pipe(a)
  const t0 = performance.now()
  await new Promise(resolve => r.once('peer-add', resolve))
  await r.update({ wait: true })
  await r.download({ start: 0, end: r.length }).done()
  const s = (performance.now() - t0) / 1000
  ;(globalThis as any).gc?.()
  const heapMiB = process.memoryUsage().heapUsed / 2 ** 20
  a.destroy(); b.destroy()
  await r.close()
  return { mbps: totalBytes / 1e6 / s, heapMiB }
}

async function main (): Promise<void> {
  const mib = Number(process.argv[2] ?? 100)
  const sizes = (process.argv[3] ?? '1,16,64').split(',').map(Number)
  const total = mib * 2 ** 20
  console.log(`replicate ${mib} MiB, memory storage, in-process pipe`)
  for (const kb of sizes) {
    const row: string[] = []
    const res: Record<string, number> = {}
    for (const kind of [ref, ours]) {
      const w = await kind.writer()
      await fill(w, total, kb * 1024)
      const { mbps } = await replicateMBps(kind, w, total)
      await w.close()
      res[kind.name] = mbps
      row.push(`${kind.name} ${mbps.toFixed(1)} MB/s`)
    }
    console.log(`${kb} KiB blocks: ${row.join(', ')}, ratio ${(res.ours / res['hypercore@10']).toFixed(2)}x`)
  }
  if (process.argv[4] !== 'noheap') {
    for (const m of [10, 100]) {
      const w = await ours.writer()
      await fill(w, m * 2 ** 20, 64 * 1024)
      const { heapMiB } = await replicateMBps(ours, w, m * 2 ** 20)
      await w.close()
      console.log(`heap after a ${m} MiB download (64 KiB blocks, both cores on memory storage in this process): ${heapMiB.toFixed(1)} MiB`)
    }
  }
}

await main()
