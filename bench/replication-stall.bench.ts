/**
 * @module bench/replication-stall.bench
 * How long replication holds the event loop: a writer and a reader in one process over a
 * piped stream (the worst case: no network turn between messages), downloading N MiB while a
 * 5 ms interval measures the longest gap between its ticks. Before the mux sliced its input
 * (replication/mux/mux.ts, `maxBusyMs`), such a download held the loop for its whole length.
 * Also the download's MB/s, to show the slicing costs no throughput.
 *
 * Run: node --import tsx bench/replication-stall.bench.ts [MiB] [sizes in KiB, comma-separated]
 */
import { pathToFileURL } from 'node:url'
import { Hypercore } from '../src/core/hypercore.js'
import { MemoryStorage } from '../src/storage/memory.js'

async function fill (w: Hypercore, totalBytes: number, blockSize: number): Promise<void> {
  const block = new Uint8Array(blockSize).fill(0x61)
  const n = Math.ceil(totalBytes / blockSize)
  const batch = Math.max(1, Math.floor((1 << 20) / blockSize))
  for (let i = 0; i < n; i += batch) await w.append(Array.from({ length: Math.min(batch, n - i) }, () => block))
}

/** One download; the longest event-loop stall during it (ms) and its MB/s. */
export async function stallDuringDownload (mib: number, blockSize: number): Promise<{ stallMs: number, mbps: number }> {
  const w = new Hypercore(() => new MemoryStorage())
  await w.ready()
  await fill(w, mib * 2 ** 20, blockSize)
  const r = new Hypercore(() => new MemoryStorage(), w.key!)
  await r.ready()
  const a: any = w.replicate(true, { keepAlive: false })
  const b: any = r.replicate(false, { keepAlive: false })
  a.pipe(b).pipe(a)
  await new Promise(resolve => r.once('peer-add', resolve))
  await r.update({ wait: true })
  let last = performance.now()
  let worst = 0
  const probe = setInterval(() => {
    const now = performance.now()
    worst = Math.max(worst, now - last - 5)
    last = now
  }, 5)
  const t0 = performance.now()
  await r.download({ start: 0, end: r.length }).done()
  const s = (performance.now() - t0) / 1000
  worst = Math.max(worst, performance.now() - last - 5)
  clearInterval(probe)
  a.destroy()
  b.destroy()
  await r.close()
  await w.close()
  return { stallMs: Math.round(worst), mbps: Math.round(mib * 2 ** 20 / 1e6 / s * 10) / 10 }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const mib = Number(process.argv[2] ?? 32)
  const sizes = (process.argv[3] ?? '1,64').split(',').map(Number)
  console.log(`replicate ${mib} MiB in one process, memory storage: longest event-loop stall`)
  for (const kib of sizes) {
    const { stallMs, mbps } = await stallDuringDownload(mib, kib * 1024)
    console.log(`${kib} KiB blocks: longest stall ${stallMs} ms, ${mbps} MB/s`)
  }
}
