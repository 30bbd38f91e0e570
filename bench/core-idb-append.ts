/**
 * @module bench/core-idb-append
 * Append to a Hypercore on IndexedDB in Chromium against raw IndexedDB writing the same
 * bytes in one transaction (as one record per 1 KiB block, and as 64 KiB records), in the
 * same page and run (bench/pages/core.page.ts).
 * Run: node --import tsx bench/core-idb-append.ts [blocks] [rounds]
 */
import { openBenchBrowser, type BenchBrowser } from './lib/chromium.js'

export interface IdbAppendResult {
  blocks: number
  /** ratio: vs raw 1 KiB records (one per block) in one transaction; ratio64k: vs the same bytes as 64 KiB records. */
  rows: Array<{ batch: number, oursBlocksPerSec: number, oursMBps: number, rawMBps: number, ratio: number, raw64kMBps: number, ratio64k: number }>
}

/** Batches of 100, 1,000 and 10,000 blocks (`quick`: fewer blocks and rounds). Opens its own browser unless given one. */
export async function idbAppendBench (quick = false, browser?: BenchBrowser, opts: { blocks?: number, rounds?: number } = {}): Promise<IdbAppendResult> {
  const b = browser ?? await openBenchBrowser()
  try {
    return await b.run<IdbAppendResult>('core', { kind: 'append', blocks: opts.blocks ?? (quick ? 5_000 : 20_000), batches: [100, 1000, 10_000], rounds: opts.rounds ?? (quick ? 2 : 3) })
  } finally {
    if (browser === undefined) await b.close()
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const blocks = process.argv[2] !== undefined ? Number(process.argv[2]) : undefined
  const rounds = process.argv[3] !== undefined ? Number(process.argv[3]) : undefined
  idbAppendBench(false, undefined, { blocks, rounds }).then(r => console.log(JSON.stringify(r, null, 2)), err => { console.error(err); process.exitCode = 1 })
}
