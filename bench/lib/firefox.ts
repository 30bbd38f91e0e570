/**
 * @module bench/lib/firefox
 * Runs benchmark pages (bench/pages/*.page.ts) in Debian's Firefox ESR, the same way
 * ./chromium.ts runs them in Chromium (the same minified bundles, a fresh page per run), with
 * the Firefox runner's launch options (web-test/firefox/harness.ts: puppeteer-core over
 * WebDriver BiDi). Same interface, so a benchmark takes either: e.g.
 * `node --import tsx bench/core-idb-append.ts --quick --firefox`.
 */
import path from 'node:path'
import os from 'node:os'
import fs from 'node:fs'
import { fileURLToPath } from 'node:url'
import type { Server } from 'node:http'
import puppeteer from 'puppeteer-core'
import { firefoxLaunchOptions } from '../../web-test/firefox/harness.js'
import type { BenchBrowser } from './chromium.js'
// @ts-expect-error plain ESM script without types
import { bundlePages } from '../../scripts/bundle-pages.mjs'
// @ts-expect-error plain ESM script without types
import { createStaticServer } from '../../scripts/static-server.mjs'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')

export async function openFirefoxBenchBrowser (): Promise<BenchBrowser> {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'hcw-bench-ff-'))
  await bundlePages(path.join(root, 'bench/pages'), out, { minify: true })
  const server = await createStaticServer({ roots: { '/bench': out } }) as Server
  const address = server.address()
  const port = typeof address === 'object' && address !== null ? address.port : 0
  const browser = await puppeteer.launch({
    ...firefoxLaunchOptions,
    extraPrefsFirefox: {
      ...firefoxLaunchOptions.extraPrefsFirefox,
      // Driven by WebDriver BiDi, Firefox records an async stack at every promise reaction,
      // as for a page under the debugger (a Gecko profile of our appends spent 19% of the time
      // in js::SavedStacks::saveCurrentStack): a user's browser does not, and it halved the
      // speed of promise-heavy code here. Benchmarks measure what users get.
      'javascript.options.asyncstack': false
    }
  })
  return {
    version: await browser.version(),
    async run<T> (name: string, args?: unknown): Promise<T> {
      const page = await browser.newPage()
      try {
        await page.goto(`http://127.0.0.1:${port}/bench/${name}.html`)
        await page.waitForFunction(() => (globalThis as any).testApi)
        return await page.evaluate(a => (globalThis as any).testApi.run(a), args) as T
      } finally {
        await page.close()
      }
    },
    async close () {
      await browser.close()
      server.close()
      fs.rmSync(out, { recursive: true, force: true })
    }
  }
}
