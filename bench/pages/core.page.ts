/**
 * @module bench/pages/core.page
 * Hypercore on IndexedDB in Chromium (served at /bench/core.html). `await testApi.run(opts)`
 * returns plain JSON for one of two benchmarks, each figure against a reference measured in
 * the same page and run:
 * - `{ kind: 'append', batched, single, burst, readers }`: the append figures of
 *   core-append/ (throughput.ts: batches of 100 vs memory storage, one block per append vs
 *   raw IndexedDB one transaction per append, 1,000 appends issued at once vs memory;
 *   readers.ts: append latency while two readers stream the core vs without readers). A key
 *   left out skips that figure. Every measurement is capped by a time limit.
 * - `{ kind: 'open', big, small, blockSize, batch, rounds }`: builds a `big`-block and a
 *   `small`-block core (tiny blocks in large batches, so setup stays short), then times
 *   `new Hypercore(name)` → `ready()` → first `get` (the last block) on each, alternating;
 *   the median of each counts. Opening reads the header, not the core (core/open.ts).
 * Cores are opened through the public API only (a name string = an IndexedDB database).
 */
import { Hypercore } from '../../src/index.js'
import { blocksOf, dropDatabase, idbCore, round2, uniq } from './core-append/shared.js'
import { batched, burstAppends, single, type BatchedOpts, type BurstOpts, type SingleOpts } from './core-append/throughput.js'
import { appendsWhileReading, type ReadersOpts } from './core-append/readers.js'

export interface AppendOpts { batched?: BatchedOpts, single?: SingleOpts, burst?: BurstOpts, readers?: ReadersOpts, warmup?: boolean }

async function appendBench (o: AppendOpts): Promise<unknown> {
  if (o.warmup !== false) {
    // Sodium, JIT and IndexedDB warm up before the first figure (not counted).
    await batched({ blocks: 500, batch: 100, rounds: 1, limitMs: 30_000 })
    await single({ appends: 50, rounds: 1, limitMs: 30_000 })
  }
  const t0 = performance.now()
  const out: Record<string, unknown> = {}
  const timed = async (key: string, fn: () => Promise<unknown>): Promise<void> => {
    const t = performance.now()
    out[key] = await fn()
    ;(out.seconds as Record<string, number>)[key] = round2((performance.now() - t) / 1000)
  }
  out.seconds = {}
  if (o.batched !== undefined) await timed('batched', () => batched(o.batched!))
  if (o.single !== undefined) await timed('single', () => single(o.single!))
  if (o.burst !== undefined) await timed('burst', () => burstAppends(o.burst!))
  if (o.readers !== undefined) await timed('readers', () => appendsWhileReading(o.readers!))
  ;(out.seconds as Record<string, number>).total = round2((performance.now() - t0) / 1000)
  return out
}

export interface OpenOpts { big?: number, small?: number, blockSize?: number, batch?: number, rounds?: number }

/** Builds a core of `length` tiny blocks in big batches; returns its name and the build time. */
async function build (length: number, blockSize: number, batch: number): Promise<{ name: string, ms: number }> {
  const name = uniq(`open-${length}`)
  const t0 = performance.now()
  const core = await idbCore(name)
  const group = blocksOf(Math.min(batch, length), blockSize)
  for (let i = 0; i < length; i += batch) await core.append(group.slice(0, Math.min(batch, length - i)))
  await core.close()
  return { name, ms: Math.round(performance.now() - t0) }
}

/** ms from `new Hypercore` to `ready()` and a first `get` of the last block. */
async function openOnce (name: string, length: number): Promise<number> {
  const t0 = performance.now()
  const core = new Hypercore(name, { createIfMissing: false })
  await core.ready()
  const last = await core.get(length - 1) as Uint8Array
  const ms = performance.now() - t0
  if (core.length !== length || last.byteLength === 0) throw new Error(`opened ${core.length}, expected ${length}`)
  await core.close()
  return ms
}

async function openBench (opts: OpenOpts): Promise<unknown> {
  const big = opts.big ?? 1_000_000
  const small = opts.small ?? 1_000
  const blockSize = opts.blockSize ?? 8
  const batch = opts.batch ?? 50_000
  const rounds = opts.rounds ?? 7
  const b = await build(big, blockSize, batch)
  const s = await build(small, blockSize, batch)
  await openOnce(s.name, small) // warm up
  const bigMs: number[] = []
  const smallMs: number[] = []
  for (let r = 0; r < rounds; r++) {
    smallMs.push(await openOnce(s.name, small))
    bigMs.push(await openOnce(b.name, big))
  }
  await dropDatabase(b.name, 60_000)
  await dropDatabase(s.name, 60_000)
  const med = (xs: number[]): number => round2([...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!)
  return {
    big, small, blockSize, batch,
    buildMs: { big: b.ms, small: s.ms },
    openMs: { big: med(bigMs), small: med(smallMs), bigAll: bigMs.map(round2), smallAll: smallMs.map(round2) },
    ratio: round2(med(bigMs) / med(smallMs))
  }
}

async function run (opts: ({ kind: 'append' } & AppendOpts) | ({ kind: 'open' } & OpenOpts)): Promise<unknown> {
  if (opts.kind === 'append') return appendBench(opts)
  return openBench(opts)
}

;(globalThis as unknown as { testApi: unknown }).testApi = { run }
