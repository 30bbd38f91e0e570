/**
 * @module bench/idb.bench
 * Runs the IndexedDB benchmark page (bench/pages/idb.page.ts) in Debian's Chromium with the
 * same launch options as the Playwright tests, and prints its JSON.
 * Run: node --import tsx bench/idb.bench.ts [totalMiB] [rounds]
 */
import path from 'node:path'
import os from 'node:os'
import fs from 'node:fs'
import { fileURLToPath } from 'node:url'
import type { Server } from 'node:http'
import { chromium } from '@playwright/test'
import { chromiumLaunchOptions } from '../playwright.config.js'
// @ts-expect-error plain ESM script without types
import { bundlePages } from '../scripts/bundle-pages.mjs'
// @ts-expect-error plain ESM script without types
import { createStaticServer } from '../scripts/static-server.mjs'

async function main (): Promise<void> {
  const totalMiB = Number(process.argv[2] ?? 32)
  const rounds = Number(process.argv[3] ?? 3)
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'hcw-bench-'))
  await bundlePages(path.join(root, 'bench/pages'), out, { minify: true })
  const server = await createStaticServer({ roots: { '/bench': out } }) as Server
  const address = server.address()
  const port = typeof address === 'object' && address !== null ? address.port : 0
  const browser = await chromium.launch(chromiumLaunchOptions)
  try {
    const page = await browser.newPage()
    await page.goto(`http://127.0.0.1:${port}/bench/idb.html`)
    await page.waitForFunction(() => (globalThis as any).testApi)
    const result = await page.evaluate(([t, r]) => (globalThis as any).testApi.run({ totalMiB: t, rounds: r }), [totalMiB, rounds])
    console.log(JSON.stringify(result, null, 2))
  } finally {
    await browser.close()
    server.close()
    fs.rmSync(out, { recursive: true, force: true })
  }
}

main().catch(err => { console.error(err); process.exitCode = 1 })
