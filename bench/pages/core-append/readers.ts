/**
 * @module bench/pages/core-append/readers
 * Append latency while two readers stream the same core (figure 4 of the IndexedDB append
 * benchmarks). Each round builds a core of `existing` 1 KiB blocks in a fresh database,
 * closes it and opens it again (cold caches: the readers' blocks come from IndexedDB, as
 * the core is several times larger than the storage's page cache), then times `appends`
 * single-block appends awaited in turn:
 * - without readers;
 * - with two readers on the same session, started before the window and kept running through
 *   it: by default one iterates `core.createReadStream()` over the stored blocks from the start,
 *   the other loops `await core.get(i)` from the middle (`kinds` picks two streams or two get
 *   loops instead); each starts over when it reaches the end.
 * Reads made by each reader inside the window are counted (and the page's IndexedDB read
 * requests), so a figure where the readers did not really run shows it. Rounds alternate;
 * the best round of each counts for the time ratio; the worst single append is over all rounds.
 * A window that exceeds `limitMs` is reported as not finished, with how many appends were done,
 * and how long the pending append still took once the readers were stopped.
 */
import type { Hypercore } from '../../../src/index.js'
import { KiB, blocksOf, dispose, idbCore, idbCounts, idbCountsSince, round2, uniq, within, type IdbCounts, type Progress } from './shared.js'

export type ReaderKind = 'stream' | 'get'

export interface ReadersOpts {
  existing: number
  appends: number
  rounds: number
  limitMs: number
  /** Reads each reader makes before the window opens (default 50). */
  warmReads?: number
  /** What the two readers are (default: one read stream, one get loop). */
  kinds?: [ReaderKind, ReaderKind]
}

export interface Window {
  totalMs: number
  medianMs: number
  worstMs: number
  /** Reads each reader completed inside the window (in `kinds` order); [0, 0] without readers. */
  reads: [number, number]
  idb: IdbCounts
}

export interface ReadersDnf {
  limitS: number
  done: number
  of: number
  reads: [number, number]
  idb: IdbCounts
  worstMsSoFar: number | null
  /** ms the pending append still took after the readers were stopped (null: not within 10 s). */
  finishedAfterStopMs: number | null
}

export interface ReadersResult {
  existing: number
  appends: number
  withoutMs: number | null
  withMs: number | null
  /** Time with readers ÷ time without (best rounds). */
  ratio: number | null
  medianMs: { without: number | null, with: number | null }
  worstMs: { without: number | null, with: number | null }
  kinds: [ReaderKind, ReaderKind]
  /** Reads by each reader (in `kinds` order) in the best round's window with readers. */
  readsDuringWindow: [number, number] | null
  /** The page's IndexedDB traffic in that window (read requests = get/getAll/cursors, all callers). */
  idbDuringWindow: IdbCounts | null
  rounds: { without: Window[], with: Window[] }
  /** A variant that hit its time limit (it is not run again). */
  dnf: { without?: ReadersDnf, with?: ReadersDnf }
}

interface Reader { reads: number, stop: () => Promise<void> }

/** Streams blocks [from, end), then [0, end) over and over, until stopped. */
function streamReader (core: Hypercore, from: number, end: number): Reader {
  let stopped = false
  let stream: ReturnType<Hypercore['createReadStream']> | null = null
  const r: Reader = { reads: 0, stop: async () => {} }
  const loop = (async () => {
    let start = from
    while (!stopped) {
      stream = core.createReadStream({ start, end })
      for await (const block of stream) {
        if ((block as Uint8Array).byteLength !== KiB) throw new Error('stream reader: wrong block')
        r.reads++
        if (stopped) break
      }
      start = 0
    }
  })().catch((err: unknown) => { if (!stopped) throw err })
  loop.catch(() => {})
  r.stop = async () => { stopped = true; stream?.destroy(); await within(loop, 10_000) }
  return r
}

/** `await core.get(i)` for i from `from` to `end` - 1, then from 0 again, until stopped. */
function getLoopReader (core: Hypercore, from: number, end: number): Reader {
  let stopped = false
  const r: Reader = { reads: 0, stop: async () => {} }
  const loop = (async () => {
    for (let i = from; !stopped; i = (i + 1) % end) {
      const block = await core.get(i) as Uint8Array
      if (block.byteLength !== KiB) throw new Error('get reader: wrong block')
      r.reads++
      // Reads answered from memory resolve in microtasks only: without a task boundary now and
      // then, this loop would keep the page (its timers, the appends' transactions) from running.
      if (r.reads % 64 === 0) await new Promise(resolve => setTimeout(resolve, 0))
    }
  })().catch((err: unknown) => { if (!stopped) throw err })
  loop.catch(() => {})
  r.stop = async () => { stopped = true; await within(loop, 10_000) }
  return r
}

/** A core of `blocks` in a fresh database, closed and reopened so nothing of it is cached. */
async function prebuilt (blocks: Uint8Array[]): Promise<{ core: Hypercore, name: string }> {
  const name = uniq('readers')
  const w = await idbCore(name)
  for (let i = 0; i < blocks.length; i += 1000) await w.append(blocks.slice(i, i + 1000))
  await w.close()
  return { core: await idbCore(name), name }
}

async function untilReads (readers: Reader[], n: number, ms: number): Promise<void> {
  const t0 = performance.now()
  while (readers.some(r => r.reads < n)) {
    if (performance.now() - t0 > ms) throw new Error(`readers made only ${readers.map(r => r.reads).join(' and ')} reads in ${ms} ms before the window`)
    await new Promise(resolve => setTimeout(resolve, 5))
  }
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0

async function round (existing: Uint8Array[], appends: Uint8Array[], withReaders: boolean, o: ReadersOpts): Promise<Window | ReadersDnf> {
  const { core, name } = await prebuilt(existing)
  const kinds = o.kinds ?? ['stream', 'get']
  const start = (kind: ReaderKind, from: number): Reader => kind === 'stream' ? streamReader(core, from, existing.length) : getLoopReader(core, from, existing.length)
  const readers = withReaders ? [start(kinds[0], 0), start(kinds[1], Math.floor(existing.length / 2))] : []
  try {
    await untilReads(readers, o.warmReads ?? 50, 10_000)
    const reads0 = readers.map(r => r.reads)
    const readsNow = (): [number, number] => withReaders ? [readers[0]!.reads - reads0[0]!, readers[1]!.reads - reads0[1]!] : [0, 0]
    const before = idbCounts()
    const lat: number[] = []
    const p: Progress = { done: 0, stop: false }
    const run = (async () => {
      for (let i = 0; i < appends.length && !p.stop; i++) {
        const t = performance.now()
        await core.append(appends[i])
        lat.push(performance.now() - t)
        p.done++
      }
    })()
    const t0 = performance.now()
    const r = await within(run, o.limitMs)
    const totalMs = performance.now() - t0
    const reads = readsNow()
    const idb = idbCountsSince(before)
    if (!r.ok) {
      p.stop = true
      const stoppedAt = performance.now()
      for (const reader of readers) await reader.stop()
      const after = await within(run.catch(() => {}), 10_000)
      return {
        limitS: round2(o.limitMs / 1000), done: p.done, of: appends.length, reads, idb,
        worstMsSoFar: lat.length > 0 ? round2(Math.max(...lat)) : null,
        finishedAfterStopMs: after.ok ? round2(performance.now() - stoppedAt) : null
      }
    }
    if (core.length !== existing.length + appends.length) throw new Error(`core has ${core.length} blocks, expected ${existing.length + appends.length}`)
    return { totalMs: round2(totalMs), medianMs: round2(median(lat)), worstMs: round2(Math.max(...lat)), reads, idb }
  } finally {
    for (const reader of readers) await reader.stop()
    await dispose(core, name)
  }
}

export async function appendsWhileReading (o: ReadersOpts): Promise<ReadersResult> {
  const existing = blocksOf(o.existing, KiB)
  const appends = blocksOf(o.appends, KiB).map(b => { b[2] = 0xa5; return b })
  const without: Window[] = []
  const withR: Window[] = []
  let dnf: ReadersDnf | null = null
  let dnfWithout: ReadersDnf | null = null
  for (let r = 0; r < o.rounds; r++) {
    if (dnfWithout === null) {
      const w = await round(existing, appends, false, o)
      if ('limitS' in w) dnfWithout = w
      else without.push(w)
    }
    if (dnf === null) {
      const w = await round(existing, appends, true, o)
      if ('limitS' in w) dnf = w
      else withR.push(w)
    }
  }
  const best = (ws: Window[]): Window | null => ws.reduce<Window | null>((a, w) => a === null || w.totalMs < a.totalMs ? w : a, null)
  const worst = (ws: Window[]): number | null => ws.length === 0 ? null : Math.max(...ws.map(w => w.worstMs))
  const bw = best(without)
  const br = best(withR)
  return {
    existing: o.existing,
    appends: o.appends,
    kinds: o.kinds ?? ['stream', 'get'],
    withoutMs: bw?.totalMs ?? null,
    withMs: br?.totalMs ?? null,
    ratio: bw !== null && br !== null ? round2(br.totalMs / bw.totalMs) : null,
    medianMs: { without: bw?.medianMs ?? null, with: br?.medianMs ?? null },
    worstMs: { without: worst(without), with: worst(withR) },
    readsDuringWindow: br?.reads ?? null,
    idbDuringWindow: br?.idb ?? null,
    rounds: { without, with: withR },
    dnf: { ...(dnfWithout === null ? {} : { without: dnfWithout }), ...(dnf === null ? {} : { with: dnf }) }
  }
}
