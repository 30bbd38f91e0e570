/**
 * @module bench/lib/chromium
 * Runs benchmark pages (bench/pages/*.page.ts) in Debian's Chromium with the launch options
 * of the Playwright tests: bundles the pages (minified, plain esbuild), serves them on
 * loopback, and evaluates `testApi.run(args)` in a fresh page, returning its JSON.
 */
import path from 'node:path'
import os from 'node:os'
import fs from 'node:fs'
import { fileURLToPath } from 'node:url'
import type { Server } from 'node:http'
import { chromium, type Browser } from '@playwright/test'
import { chromiumLaunchOptions } from '../../playwright.config.js'
// @ts-expect-error plain ESM script without types
import { bundlePages } from '../../scripts/bundle-pages.mjs'
// @ts-expect-error plain ESM script without types
import { createStaticServer } from '../../scripts/static-server.mjs'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')

export interface BenchBrowser {
  run<T = unknown> (page: string, args?: unknown): Promise<T>
  close (): Promise<void>
  version: string
}

export async function openBenchBrowser (): Promise<BenchBrowser> {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'hcw-bench-'))
  await bundlePages(path.join(root, 'bench/pages'), out, { minify: true })
  const server = await createStaticServer({ roots: { '/bench': out } }) as Server
  const address = server.address()
  const port = typeof address === 'object' && address !== null ? address.port : 0
  const browser: Browser = await chromium.launch(chromiumLaunchOptions)
  return {
    version: browser.version(),
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
