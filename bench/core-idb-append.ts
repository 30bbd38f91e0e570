/**
 * @module bench/core-idb-append
 * Appending to a Hypercore on IndexedDB in Chromium, four figures, each a ratio against a
 * reference measured in the same page and run (bench/pages/core.page.ts → core-append/):
 * 1. batches of 100 blocks, awaited in turn: IndexedDB blocks/s ÷ memory storage blocks/s
 *    (target ≥ 0.5x); also ÷ raw IndexedDB storing each batch's bytes in one transaction per
 *    batch (the least a batch costs to store), and the most figure 1 could be given both;
 * 2. one block per `await core.append(block)`: our appends/s ÷ raw IndexedDB readwrite
 *    transactions/s, one 1 KiB put per transaction committed at once and awaited in turn
 *    (target ≥ 0.8x), with the most it can be; also ÷ the same without `tx.commit()`;
 * 3. 1,000 single-block appends issued at once and awaited together: IndexedDB ÷ memory
 *    (target ≥ 0.5x);
 * 4. single-block appends awaited in turn while two readers stream the same core (a read
 *    stream and a `get` loop over a cold core, each starting over at its end), time with
 *    readers ÷ without (target ≤ 1.5x), with the worst single append of each and the reads
 *    the readers made inside the window.
 * Every measurement has a time limit: one that exceeds it is reported as "did not finish".
 * Run: node --import tsx bench/core-idb-append.ts [--quick] [--json] [--firefox]
 * (--firefox: in Firefox ESR instead of Chromium, bench/lib/firefox.ts)
 */
import { openBenchBrowser, type BenchBrowser } from './lib/chromium.js'
import type { BatchedOpts, BatchedResult, BurstOpts, BurstResult, SingleOpts, SingleResult } from './pages/core-append/throughput.js'
import type { ReadersOpts, ReadersResult } from './pages/core-append/readers.js'

export interface IdbAppendOpts { batched: BatchedOpts, single: SingleOpts, burst: BurstOpts, readers: ReadersOpts }

export interface IdbAppendResult {
  opts: IdbAppendOpts
  batched: BatchedResult
  single: SingleResult
  burst: BurstResult
  readers: ReadersResult
  /** Seconds each figure took in the page, and in total. */
  seconds: Record<string, number>
}

/** Sizes that keep each figure stable within a few seconds (quick: well under a minute in all). */
export function idbAppendOpts (quick: boolean): IdbAppendOpts {
  return quick
    ? {
        batched: { blocks: 3_000, batch: 100, rounds: 2, limitMs: 15_000 },
        single: { appends: 200, rounds: 2, limitMs: 15_000 },
        burst: { appends: 1_000, rounds: 3, limitMs: 15_000 },
        readers: { existing: 4_000, appends: 100, rounds: 2, limitMs: 10_000 }
      }
    : {
        batched: { blocks: 20_000, batch: 100, rounds: 3, limitMs: 30_000 },
        single: { appends: 500, rounds: 3, limitMs: 30_000 },
        burst: { appends: 1_000, rounds: 5, limitMs: 30_000 },
        readers: { existing: 8_000, appends: 200, rounds: 3, limitMs: 20_000 }
      }
}

/** Runs the four figures in one page. Opens its own browser unless given one. */
export async function idbAppendBench (quick = false, browser?: BenchBrowser, opts: IdbAppendOpts = idbAppendOpts(quick)): Promise<IdbAppendResult> {
  const b = browser ?? await openBenchBrowser()
  // The page caps every measurement; this only guards against a page that stops answering.
  let timer: NodeJS.Timeout | undefined
  const guard = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error('the core benchmark page did not answer within 10 minutes')), 600_000)
  })
  try {
    const r = await Promise.race([b.run<Omit<IdbAppendResult, 'opts'>>('core', { kind: 'append', ...opts }), guard])
    return { opts, ...r }
  } finally {
    clearTimeout(timer)
    if (browser === undefined) await b.close()
  }
}

/** "1.23x", or "n/a" when one side did not finish. */
export const ratioText = (r: number | null): string => r === null ? 'n/a' : `${r}x`

/** "did not finish in N s (k of m)". */
export function dnfText (d: { limitS: number, done: number, of: number }): string {
  return `did not finish in ${d.limitS} s (${d.done} of ${d.of} done)`
}

/** A measured value with its unit, or why there is none (its time limit, with how far it got). */
export function valueText (v: number | null, unit: string, d?: { limitS: number, done: number, of: number }): string {
  if (v !== null) return `${v >= 1000 ? Math.round(v).toLocaleString('en') : v} ${unit}${d !== undefined ? ` (one round ${dnfText(d)})` : ''}`
  return d !== undefined ? dnfText(d) : 'n/a'
}

/** "n (stream) + m (get loop)": each reader's reads in figure 4's best window with readers. */
export function readsText (q: ReadersResult): string {
  const name = { stream: 'read stream', get: 'get loop' }
  return (q.readsDuringWindow ?? [0, 0]).map((n, i) => `${n} (${name[q.kinds[i]!]})`).join(' + ')
}

/** Figure 4's "did not finish" details, if a variant hit its limit. */
export function readersDnfText (q: ReadersResult): string[] {
  return Object.entries(q.dnf).map(([variant, d]) => `${variant} readers: did not finish in ${d.limitS} s (${d.done} of ${d.of} appends; worst append so far ${d.worstMsSoFar ?? 'n/a'} ms;` +
    ` ${d.reads[0]} + ${d.reads[1]} reads by the readers, ${d.idb.readonlyTx} readonly and ${d.idb.readwriteTx} readwrite IndexedDB transactions in the window;` +
    ` the pending append ${d.finishedAfterStopMs === null ? 'had not finished 10 s after the readers stopped' : `finished ${d.finishedAfterStopMs} ms after the readers stopped`})`)
}

/** The four figures as plain text lines. */
export function idbAppendSummary (r: IdbAppendResult): string {
  const { batched: b, single: s, burst: u, readers: q } = r
  const lines = [
    `1. batches of ${b.batch}, ${b.blocks} × 1 KiB: IndexedDB ${valueText(b.idbBlocksPerSec, 'blocks/s', b.dnf.idb)} vs memory ${valueText(b.memoryBlocksPerSec, 'blocks/s', b.dnf.memory)}` +
      ` → ${ratioText(b.ratio)} (target ≥ 0.5x)`,
    `   vs raw IndexedDB storing each batch's bytes, one transaction per batch: ${valueText(b.rawPerBatchBlocksPerSec, 'blocks/s', b.dnf.rawPerBatch)} → ${ratioText(b.ratioToRawPerBatch)};` +
      ` the most figure 1 can be (memory's work, then that write): ${ratioText(b.ceiling)}; ours made ${b.idbTxPerAppend ?? 'n/a'} readwrite transactions per append`,
    `2. one block per append, in turn, ${s.appends}: ours ${valueText(s.oursPerSec, 'appends/s', s.dnf.ours)} vs raw IndexedDB one transaction per put ${valueText(s.rawTxPerSec, 'tx/s', s.dnf.raw)} (ours on memory: ${valueText(s.memoryPerSec, 'appends/s', s.dnf.memory)})` +
      ` → ${ratioText(s.ratio)} (target ≥ 0.8x; the most it can be: ${ratioText(s.ceiling)}); ours made ${s.idbTxPerAppend ?? 'n/a'} readwrite transactions per append`,
    `   vs raw IndexedDB without tx.commit(): ${valueText(s.rawPlainTxPerSec, 'tx/s', s.dnf.rawPlain)} → ${ratioText(s.ratioToPlain)}`,
    `3. ${u.appends} appends issued at once: IndexedDB ${valueText(u.idbPerSec, 'appends/s', u.dnf.idb)} vs memory ${valueText(u.memoryPerSec, 'appends/s', u.dnf.memory)}` +
      ` → ${ratioText(u.ratio)} (target ≥ 0.5x); rounds ${u.ms.idb.join(', ') || '-'} ms vs ${u.ms.memory.join(', ') || '-'} ms; ours made ${u.idbTx ?? 'n/a'} readwrite transactions`,
    `4. ${q.appends} appends in turn on a ${q.existing}-block core: without readers ${valueText(q.withoutMs, 'ms')} (median ${q.medianMs.without ?? 'n/a'} ms, worst ${q.worstMs.without ?? 'n/a'} ms),` +
      ` with two readers ${valueText(q.withMs, 'ms')} (median ${q.medianMs.with ?? 'n/a'} ms, worst ${q.worstMs.with ?? 'n/a'} ms) → ${ratioText(q.ratio)} the time (target ≤ 1.5x)`
  ]
  if (q.readsDuringWindow !== null) {
    lines.push(`   during that window the readers made ${readsText(q)} reads; the page made ${q.idbDuringWindow?.readonlyTx ?? 0} readonly and ${q.idbDuringWindow?.readwriteTx ?? 0} readwrite IndexedDB transactions`)
  }
  for (const line of readersDnfText(q)) lines.push(`   ${line}`)
  lines.push(`   seconds in the page: ${Object.entries(r.seconds).map(([k, v]) => `${k} ${v}`).join(', ')}`)
  return lines.join('\n')
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const quick = process.argv.includes('--quick')
  // --firefox: the same page in Firefox ESR (bench/lib/firefox.ts), for its figures beside Chromium's.
  const opening = process.argv.includes('--firefox') ? import('./lib/firefox.js').then(m => m.openFirefoxBenchBrowser()) : openBenchBrowser()
  opening.then(async browser => {
    try {
      const r = await idbAppendBench(quick, browser)
      console.log(process.argv.includes('--json') ? JSON.stringify(r, null, 2) : `${browser.version}\n${idbAppendSummary(r)}`)
    } finally {
      await browser.close()
    }
  }).catch(err => { console.error(err); process.exitCode = 1 })
}
