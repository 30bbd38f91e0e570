/**
 * @module bench/core-idb-open
 * Opening a 1,000,000-block Hypercore on IndexedDB against a 1,000-block one in Chromium:
 * time to `ready()` plus a first `get`, median of alternating rounds (bench/pages/core.page.ts).
 * Target ≤ 2x (opening reads the header, not the core). The big core is built from 8-byte
 * blocks in batches of 50,000 so setup stays within about a minute.
 * Run: node --import tsx bench/core-idb-open.ts [bigLength] [rounds]
 */
import { openBenchBrowser, type BenchBrowser } from './lib/chromium.js'

export interface IdbOpenResult {
  big: number
  small: number
  blockSize: number
  batch: number
  buildMs: { big: number, small: number }
  openMs: { big: number, small: number, bigAll: number[], smallAll: number[] }
  ratio: number
}

/** `quick` builds a 200,000-block core instead. Opens its own browser unless given one. */
export async function idbOpenBench (quick = false, browser?: BenchBrowser, opts: { big?: number, rounds?: number } = {}): Promise<IdbOpenResult> {
  const b = browser ?? await openBenchBrowser()
  try {
    return await b.run<IdbOpenResult>('core', { kind: 'open', big: opts.big ?? (quick ? 200_000 : 1_000_000), small: 1_000, blockSize: 8, batch: 50_000, rounds: opts.rounds ?? (quick ? 5 : 9) })
  } finally {
    if (browser === undefined) await b.close()
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const big = process.argv[2] !== undefined ? Number(process.argv[2]) : undefined
  const rounds = process.argv[3] !== undefined ? Number(process.argv[3]) : undefined
  idbOpenBench(false, undefined, { big, rounds }).then(r => console.log(JSON.stringify(r, null, 2)), err => { console.error(err); process.exitCode = 1 })
}
