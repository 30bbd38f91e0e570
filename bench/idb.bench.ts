/**
 * @module bench/idb.bench
 * Runs the IndexedDB benchmark page (bench/pages/idb.page.ts) in Chromium and prints its JSON.
 * Run: node --import tsx bench/idb.bench.ts [totalMiB] [rounds]
 */
import { openBenchBrowser } from './lib/chromium.js'

async function main (): Promise<void> {
  const totalMiB = Number(process.argv[2] ?? 32)
  const rounds = Number(process.argv[3] ?? 3)
  const browser = await openBenchBrowser()
  try {
    console.log(JSON.stringify(await browser.run('idb', { totalMiB, rounds }), null, 2))
  } finally {
    await browser.close()
  }
}

main().catch(err => { console.error(err); process.exitCode = 1 })
