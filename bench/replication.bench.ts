/**
 * @module bench/replication.bench
 * Replication throughput: a writer with N MiB of blocks, a fresh reader downloading all of
 * it over an in-process pipe, ours ↔ ours against hypercore@10 ↔ hypercore@10 in the same
 * run (memory storage both), for 1 KiB, 16 KiB and 64 KiB blocks. Also heap after a 10 MiB
 * and a 100 MiB download (ours), to show memory stays flat.
 *
 * Each figure is wall-clock MB/s of the download, best of `rounds` (the two implementations
 * alternate within a round, so a noisy neighbour on the shared machine hits both alike), plus
 * MB per CPU-second of this process (`cpu`): the download is one thread's work plus GC helpers,
 * so on a loaded machine the CPU figure moves far less than the wall figure.
 *
 * Library: `replicationBench({ mib, sizesKiB, rounds, heap, log })` → one row per block size.
 * Run: node --import tsx bench/replication.bench.ts [MiB] [sizes in KiB, comma-separated] [noheap] [rounds]
 */
import { createRequire } from 'node:module'
import { pathToFileURL } from 'node:url'
import v8 from 'node:v8'
import vm from 'node:vm'
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

export interface ReplicationBenchOptions {
  /** MiB replicated per download (default 100). */
  mib?: number
  /** Block sizes in KiB (default [1, 16, 64]). */
  sizesKiB?: number[]
  /** Downloads per implementation and size; the best is kept (default 1). */
  rounds?: number
  /** Measure our heap after a 10 MiB and a 100 MiB download (default true). */
  heap?: boolean
  /** Progress lines (default: none). */
  log?: (line: string) => void
}

export interface ReplicationBenchRow {
  /** bytes */
  blockSize: number
  /** wall-clock MB/s (10^6 bytes), best round */
  oursMBps: number
  refMBps: number
  /** oursMBps / refMBps */
  ratio: number
  /** MB per CPU-second of this process, best round, and their ratio */
  oursCpuMBps: number
  refCpuMBps: number
  cpuRatio: number
  /** Our heapUsed in MiB after gc, after a 10 / 100 MiB download at 64 KiB blocks (the same in every row; null when not measured). */
  heapAt10MiB: number | null
  heapAt100MiB: number | null
}

/** A full GC before reading heapUsed, with or without --expose-gc (bench/run.ts may not pass it). */
function _gc (): void {
  const g = (globalThis as { gc?: () => void }).gc
  if (g !== undefined) return g()
  v8.setFlagsFromString('--expose-gc')
  ;(vm.runInNewContext('gc') as () => void)()
}

async function fill (w: any, totalBytes: number, blockSize: number): Promise<void> {
  const block = new Uint8Array(blockSize).fill(0x61)
  const n = Math.ceil(totalBytes / blockSize)
  const batch = Math.max(1, Math.floor((1 << 20) / blockSize))
  for (let i = 0; i < n; i += batch) await w.append(Array.from({ length: Math.min(batch, n - i) }, () => block))
}

interface Download { mbps: number, cpuMBps: number, heapMiB: number }

/** One full download from a filled writer to a fresh reader. */
async function download (kind: Kind, w: any, totalBytes: number): Promise<Download> {
  const r = await kind.reader(w.key)
  const a = w.replicate(true, { keepAlive: false })
  const b = r.replicate(false, { keepAlive: false })
  a.pipe(b).pipe(a)
  const t0 = performance.now()
  const c0 = process.cpuUsage()
  await new Promise(resolve => r.once('peer-add', resolve))
  await r.update({ wait: true })
  await r.download({ start: 0, end: r.length }).done()
  const s = (performance.now() - t0) / 1000
  const c = process.cpuUsage(c0)
  _gc()
  const heapMiB = process.memoryUsage().heapUsed / 2 ** 20
  a.destroy(); b.destroy()
  await r.close()
  return { mbps: totalBytes / 1e6 / s, cpuMBps: totalBytes / 1e6 / ((c.user + c.system) / 1e6), heapMiB }
}

async function filledDownload (kind: Kind, totalBytes: number, blockSize: number): Promise<Download> {
  const w = await kind.writer()
  await fill(w, totalBytes, blockSize)
  const d = await download(kind, w, totalBytes)
  await w.close()
  return d
}

const _r2 = (x: number): number => Math.round(x * 100) / 100

/** Replication MB/s, ours against hypercore@10, per block size (see the module comment). */
export async function replicationBench (opts: ReplicationBenchOptions = {}): Promise<ReplicationBenchRow[]> {
  const mib = opts.mib ?? 100
  const sizes = opts.sizesKiB ?? [1, 16, 64]
  const rounds = opts.rounds ?? 1
  const log = opts.log ?? (() => {})
  const total = mib * 2 ** 20
  const rows: ReplicationBenchRow[] = []
  for (const kb of sizes) {
    const best = { ours: { mbps: 0, cpuMBps: 0 }, ref: { mbps: 0, cpuMBps: 0 } }
    for (let i = 0; i < rounds; i++) {
      for (const [key, kind] of [['ref', ref], ['ours', ours]] as const) {
        const d = await filledDownload(kind, total, kb * 1024)
        best[key].mbps = Math.max(best[key].mbps, d.mbps)
        best[key].cpuMBps = Math.max(best[key].cpuMBps, d.cpuMBps)
      }
    }
    const row: ReplicationBenchRow = {
      blockSize: kb * 1024,
      oursMBps: _r2(best.ours.mbps),
      refMBps: _r2(best.ref.mbps),
      ratio: _r2(best.ours.mbps / best.ref.mbps),
      oursCpuMBps: _r2(best.ours.cpuMBps),
      refCpuMBps: _r2(best.ref.cpuMBps),
      cpuRatio: _r2(best.ours.cpuMBps / best.ref.cpuMBps),
      heapAt10MiB: null,
      heapAt100MiB: null
    }
    rows.push(row)
    log(`${kb} KiB blocks: hypercore@10 ${row.refMBps.toFixed(1)} MB/s (cpu ${row.refCpuMBps.toFixed(1)}), ` +
      `ours ${row.oursMBps.toFixed(1)} MB/s (cpu ${row.oursCpuMBps.toFixed(1)}), ratio ${row.ratio.toFixed(2)}x (cpu ${row.cpuRatio.toFixed(2)}x)`)
  }
  if (opts.heap ?? true) {
    const heap: number[] = []
    for (const m of [10, 100]) {
      const { heapMiB } = await filledDownload(ours, m * 2 ** 20, 64 * 1024)
      heap.push(_r2(heapMiB))
      log(`heap after a ${m} MiB download (64 KiB blocks, both cores on memory storage in this process): ${heapMiB.toFixed(1)} MiB`)
    }
    for (const row of rows) { row.heapAt10MiB = heap[0]!; row.heapAt100MiB = heap[1]! }
  }
  return rows
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const mib = Number(process.argv[2] ?? 100)
  console.log(`replicate ${mib} MiB, memory storage, in-process pipe`)
  await replicationBench({
    mib,
    sizesKiB: (process.argv[3] ?? '1,16,64').split(',').map(Number),
    heap: process.argv[4] !== 'noheap',
    rounds: Number(process.argv[5] ?? 1),
    log: (line) => console.log(line)
  })
}
