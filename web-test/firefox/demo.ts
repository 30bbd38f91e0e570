/**
 * @module web-test/firefox/demo
 * The demo's sharing flow across browsers (what web-test/demo.spec.ts drives in Chromium
 * alone), on its own demo server with the signaling server from src/; peers meet through it
 * and connect over WebRTC (the swarm):
 *  - a person shares files in Firefox (the file picker, then Share): a Hyperdrive (hyperdrive@11
 *    bundled into the page) on a Corestore in Firefox's IndexedDB;
 *  - another opens the link in Chromium, the download completes, and each saved file equals
 *    its source byte for byte;
 *  - the Firefox sharer leaves; a third person opens the link in Firefox and gets everything
 *    from the Chromium reader, who now seeds.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type { Browser } from '@playwright/test'
import type { ElementHandle, Page } from 'puppeteer-core'
import { startDemo } from '../../demo/serve.mjs'
import { createSignalServer } from '../../src/signaling/server/index.js'
import { chromiumContextOptions } from '../suites/playwright.js'
import type { FirefoxRun } from './harness.js'

/** Deterministic pseudo-random bytes (the same generator as demo.spec.ts). */
function random (n: number, seed: number): Buffer {
  const b = Buffer.alloc(n)
  let x = seed
  for (let i = 0; i < n; i++) { x = (x * 1103515245 + 12345) >>> 0; b[i] = x >>> 24 }
  return b
}

/** Waits until `selector` matches in a Firefox page (puppeteer's default 30 s, or `timeout`). */
async function until (page: Page, selector: string, timeout = 30_000): Promise<void> {
  await page.waitForSelector(selector, { timeout })
}

export function demoTests (firefox: () => FirefoxRun, chromium: () => Browser, timeout: number): void {
  test('demo: files shared in Firefox download in Chromium byte for byte; a Firefox reader then gets them from the Chromium reader', { timeout }, async () => {
    const demo = await startDemo({ port: 0, createSignalServer })
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'demo-firefox-'))
    const files: Record<string, Buffer> = {
      'notes.txt': Buffer.from('Notes shared from Firefox.\n'),
      'samples.bin': random(2 * 1024 * 1024 + 123, 1) // 33 blocks of 64 KiB, the last one short
    }
    for (const [name, bytes] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), bytes)
    const sharer = await firefox().browser.createBrowserContext()
    const third = await firefox().browser.createBrowserContext()
    const reader = await chromium().newContext({ ...chromiumContextOptions, acceptDownloads: true })
    try {
      // A, in Firefox: pick the files, share, read the link
      const a = await sharer.newPage()
      await a.goto(demo.url + 'index.html')
      await until(a, 'body[data-ready="true"]')
      const input = await a.$('#pick-files') as ElementHandle<HTMLInputElement>
      await input.uploadFile(...Object.keys(files).map(f => path.join(dir, f)))
      await a.waitForFunction(() => document.querySelector('#picked')?.textContent?.startsWith('2 files'))
      await a.click('#btn-share')
      await a.waitForFunction(() => document.querySelector('#ds-role')?.textContent === 'Sharing', { timeout: 30_000 })
      const link = await a.$eval('#share-link', el => (el as HTMLInputElement).value)
      assert.match(link, /#[a-z0-9]{52}$/)
      const total = await a.$eval('#stat-blocks', el => Number(el.textContent!.split(' / ')[1]))
      assert.equal(total, 1 + 33) // blocks of the drive's blobs core: notes.txt, samples.bin

      // B, in Chromium: open the link, download everything, save each file
      const b = await reader.newPage()
      await b.goto(link)
      await b.locator('body[data-complete="true"]').waitFor({ state: 'attached', timeout: 60_000 })
      assert.equal(await b.locator('#stat-blocks').textContent(), `${total} / ${total}`)
      for (const [name, bytes] of Object.entries(files)) {
        const [download] = await Promise.all([b.waitForEvent('download'), b.getByRole('button', { name: `Save ${name}` }).click()])
        assert.equal(download.suggestedFilename(), name)
        assert.ok(fs.readFileSync((await download.path())!).equals(bytes), `${name}: the bytes saved in Chromium equal the source`)
      }

      // The Firefox sharer leaves; C, in Firefox, gets everything from B
      await a.close({ runBeforeUnload: true })
      const c = await third.newPage()
      await c.goto(link)
      await until(c, 'body[data-complete="true"]', 60_000)
      assert.equal(await c.$eval('#stat-blocks', el => el.textContent), `${total} / ${total}`)
      assert.notEqual(await b.locator('#stat-uploaded').textContent(), '0 B')
    } finally {
      await third.close().catch(() => {})
      await sharer.close().catch(() => {})
      await reader.close()
      await demo.close()
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })
}
