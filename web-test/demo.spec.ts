/**
 * @module web-test/demo.spec
 * The `npm start` demo, driven as a person uses it, on its own demo server (pages and the
 * signaling server on free ports, see demo/serve.mjs); peers connect over WebRTC (the swarm):
 *  - datasets: browser A shares a folder; browser B (another context: another profile)
 *    opens the link, fetches one file, reloads (resume from IndexedDB), downloads the rest
 *    with a reload in the middle, and saves every file: the bytes equal the source files,
 *    and no block is fetched twice across the reloads;
 *  - the failures a person can hit: a bad link, a link nobody seeds;
 *  - the offline log: the writer appends while offline (page served by its service worker),
 *    the entries survive a reload, then sync to a reader in another context and arrive live.
 * Screenshots go to test-results/demo-*.png.
 */
import { test, expect, type Browser, type BrowserContext, type Page } from '@playwright/test'
import fs from 'node:fs'
import { randomBytes } from 'node:crypto'
import os from 'node:os'
import path from 'node:path'
import { startDemo, type DemoServer } from '../demo/serve.mjs'
// The signaling server from src/ (no build needed for this spec); `npm start` uses dist/'s.
import { createSignalServer } from '../src/signaling/server/index.js'

let demo: DemoServer
let dir: string
const files: Record<string, Buffer> = {}

test.beforeAll(async () => {
  demo = await startDemo({ port: 0, createSignalServer })
  expect(demo.signalUrl).not.toBeNull()
  // A folder of files: two large ones (several 64 KiB blocks, the last one short), a small
  // text file, an empty file, and one in a subfolder.
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'demo-spec-'))
  const root = path.join(dir, 'field-notes')
  fs.mkdirSync(path.join(root, 'raw'), { recursive: true })
  const random = (n: number, seed: number): Buffer => {
    const b = Buffer.alloc(n)
    let x = seed
    for (let i = 0; i < n; i++) { x = (x * 1103515245 + 12345) >>> 0; b[i] = x >>> 24 }
    return b
  }
  files['field-notes/readme.txt'] = Buffer.from('Notes from the field, shared browser to browser.\n')
  files['field-notes/empty.dat'] = Buffer.alloc(0)
  files['field-notes/raw/samples.bin'] = random(3 * 1024 * 1024 + 123, 1)
  files['field-notes/photo.bin'] = random(2 * 1024 * 1024 + 77, 2)
  for (const [rel, bytes] of Object.entries(files)) fs.writeFileSync(path.join(dir, rel), bytes)
})

test.afterAll(async () => {
  await demo?.close()
  if (dir !== undefined) fs.rmSync(dir, { recursive: true, force: true })
})

/** A fresh browser profile; WebRTC needs media permission for host candidates. */
async function profile (browser: Browser): Promise<BrowserContext> {
  return browser.newContext({ permissions: ['camera', 'microphone'], viewport: { width: 1100, height: 900 } })
}

/** test-results/demo-<name>.png (DEMO_SCREENSHOTS moves them, e.g. out of a folder other runs clean). */
async function shot (page: Page, name: string): Promise<void> {
  await page.screenshot({ path: path.join(process.env.DEMO_SCREENSHOTS ?? 'test-results', `demo-${name}.png`), fullPage: true, animations: 'disabled' })
}

const fileRow = (page: Page, p: string) => page.locator(`li.file[data-path="${p}"]`)

test('share a folder, open the link in another profile, resume after reloads, save every file byte for byte, then seed to a third', async ({ browser }) => {
  const a = await (await profile(browser)).newPage()
  await a.goto(demo.url + 'index.html')
  await expect(a.locator('body')).toHaveAttribute('data-ready', 'true')
  await shot(a, 'share-empty')
  await a.locator('#pick-folder').setInputFiles(path.join(dir, 'field-notes'))
  await expect(a.locator('#picked')).toContainText('4 files')
  await expect(a.locator('#ds-title')).toHaveValue('field-notes')
  await a.getByRole('button', { name: 'Share' }).click()
  await expect(a.locator('#ds-role')).toHaveText('Sharing')
  const link = await a.locator('#share-link').inputValue()
  expect(link).toMatch(/#[a-z0-9]{52}$/)
  expect(a.url()).toBe(link)
  const total = Number((await a.locator('#stat-blocks').textContent())!.split(' / ')[1])
  expect(total).toBe(1 + 1 + 0 + 49 + 33) // the index, readme, empty, samples (48+1), photo (32+1)
  await shot(a, 'share-seeding')

  // B: another profile opens the link without starting (?paused), fetches one file only
  const ctxB = await profile(browser)
  const b = await ctxB.newPage()
  await b.goto(link.replace('index.html#', 'index.html?paused#'))
  await expect(b.locator('#ds-name')).toHaveText('field-notes')
  await expect(b.locator('li.file')).toHaveCount(4)
  await expect(b.locator('#ds-role')).toHaveText('Paused')
  await expect(b.locator('#stat-resumed')).toHaveText('0 blocks')
  await expect(b.locator('#notice')).toBeHidden()
  await expect(b.locator('#stat-peers')).toHaveText('1')
  await b.getByRole('button', { name: 'Get field-notes/photo.bin' }).click()
  await expect(fileRow(b, 'field-notes/photo.bin').locator('.file-status')).toHaveText('✓ verified')
  await expect(b.locator('#stat-blocks')).toHaveText(`34 / ${total}`) // the index + photo's 33
  await shot(b, 'download-one-file')

  // reload: the file is still there (IndexedDB), and the page says it resumed
  await b.reload()
  await expect(b.locator('#stat-resumed')).toHaveText('34 blocks')
  await expect(b.locator('#stat-fetched')).toHaveText('0 (0 B)')
  await expect(b.locator('#notice')).toHaveAttribute('data-reason', 'resumed')
  await expect(fileRow(b, 'field-notes/photo.bin').locator('.file-status')).toHaveText('✓ verified')
  // download the rest, and reload in the middle of it
  await b.getByRole('button', { name: 'Download everything' }).click()
  await expect(b.locator('body')).not.toHaveAttribute('data-blocks', '34')
  await b.reload()
  await expect(b.locator('body')).toHaveAttribute('data-have-at-open', /^\d+$/)
  const haveAtOpen = Number(await b.locator('body').getAttribute('data-have-at-open'))
  expect(haveAtOpen).toBeGreaterThanOrEqual(34)
  test.info().annotations.push({ type: 'blocks stored when the page reloaded mid-download', description: `${haveAtOpen} of ${total}` })
  console.log(`reloaded mid-download with ${haveAtOpen} of ${total} blocks stored`)
  await expect(b.locator('body')).toHaveAttribute('data-complete', 'true', { timeout: 60_000 })
  await expect(b.locator('#notice')).toHaveAttribute('data-reason', 'complete')
  await expect(b.locator('#ds-role')).toHaveText('Complete · seeding')
  // nothing already stored was fetched again after the reload
  expect(Number(await b.locator('body').getAttribute('data-fetched'))).toBe(total - haveAtOpen)
  await shot(b, 'download-complete')

  // save every file: the bytes are the source files'
  for (const [rel, bytes] of Object.entries(files)) {
    const [download] = await Promise.all([b.waitForEvent('download'), b.getByRole('button', { name: `Save ${rel}` }).click()])
    expect(download.suggestedFilename()).toBe(path.basename(rel))
    const saved = fs.readFileSync((await download.path())!)
    expect(saved.equals(bytes), `${rel} saved bytes equal the source`).toBe(true)
  }
  // the seeder saw the upload
  await expect(a.locator('#stat-uploaded')).not.toHaveText('0 B')

  // several readers: the writer leaves; a third profile gets everything from B, who finished
  await a.close({ runBeforeUnload: true })
  const c = await (await profile(browser)).newPage()
  await c.goto(link)
  await expect(c.locator('body')).toHaveAttribute('data-complete', 'true', { timeout: 60_000 })
  await expect(b.locator('#stat-uploaded')).not.toHaveText('0 B')
  const [download] = await Promise.all([c.waitForEvent('download'), c.getByRole('button', { name: 'Save field-notes/raw/samples.bin' }).click()])
  expect(fs.readFileSync((await download.path())!).equals(files['field-notes/raw/samples.bin']!)).toBe(true)
  await shot(b, 'reader-seeding')

  // the same page on a phone
  await c.setViewportSize({ width: 390, height: 844 })
  await shot(c, 'download-mobile')
  await a.context().close()
  await c.context().close()
  await ctxB.close()
})

test('a bad link and a link nobody seeds say so', async ({ browser }) => {
  const ctx = await profile(browser)
  const page = await ctx.newPage()
  await page.goto(demo.url + 'index.html#this-is-not-a-key')
  await expect(page.locator('#notice')).toHaveAttribute('data-reason', 'bad-link')
  await expect(page.locator('#notice')).toContainText('not a dataset key')
  await shot(page, 'bad-link')
  await page.goto(demo.url + 'index.html#' + 'y'.repeat(52))
  await expect(page.locator('#notice')).toHaveAttribute('data-reason', 'no-peers', { timeout: 15_000 })
  await expect(page.locator('#notice')).toContainText('No peers yet')
  await shot(page, 'no-peers')
  await ctx.close()
})

test('storage full (QuotaExceeded) and a peer who leaves say so', async ({ browser }) => {
  const origin = demo.url.replace(/\/$/, '')
  // random bytes: Chromium compresses IndexedDB values, so a run of one byte would fit anywhere
  const big = { name: 'big.bin', mimeType: 'application/octet-stream', buffer: randomBytes(3 * 1024 * 1024) }
  // A seeder with room
  const a = await (await profile(browser)).newPage()
  await a.goto(demo.url + 'index.html')
  await a.locator('#pick-files').setInputFiles([big])
  await a.getByRole('button', { name: 'Share' }).click()
  await expect(a.locator('#ds-role')).toHaveText('Sharing')
  const link = await a.locator('#share-link').inputValue()

  // A reader whose origin may store 1 MiB only (Chromium's quota override, over CDP)
  const ctxB = await profile(browser)
  const b = await ctxB.newPage()
  const cdp = await ctxB.newCDPSession(b)
  await cdp.send('Storage.overrideQuotaForOrigin', { origin, quotaSize: 1024 * 1024 })
  await b.goto(link)
  await expect(b.locator('#notice')).toHaveAttribute('data-reason', 'quota', { timeout: 30_000 })
  await expect(b.locator('#notice')).toContainText('out of storage space')
  await shot(b, 'quota')
  // sharing more than fits is refused up front, with the same words
  await b.goto(demo.url + 'index.html')
  await b.locator('#pick-files').setInputFiles([big])
  await b.getByRole('button', { name: 'Share' }).click()
  await expect(b.locator('#notice')).toHaveAttribute('data-reason', 'quota')
  await ctxB.close()

  // A reader who has part of it when the seeder leaves
  const c = await (await profile(browser)).newPage()
  await c.goto(link.replace('index.html#', 'index.html?paused#'))
  await expect(c.locator('#stat-peers')).toHaveText('1')
  await a.close({ runBeforeUnload: true }) // as a person closes the tab
  await expect(c.locator('#notice')).toHaveAttribute('data-reason', 'peer-gone', { timeout: 30_000 })
  await expect(c.locator('#stat-peers')).toHaveText('0')
  await shot(c, 'peer-gone')
  await c.context().close()
  await a.context().close()
})

test('offline log: append offline (service worker serves the page), keep across reload, sync to a reader, live entries', async ({ browser }) => {
  const ctxW = await profile(browser)
  const w = await ctxW.newPage()
  await w.goto(demo.url + 'log.html')
  await expect(w.locator('body')).toHaveAttribute('data-sw', 'ready')
  await expect(w.locator('body')).toHaveAttribute('data-role', 'writer')
  const link = await w.locator('#log-link').inputValue()

  await ctxW.setOffline(true)
  await w.reload() // no network to the server: the service worker answers
  await expect(w.locator('body')).toHaveAttribute('data-ready', 'true')
  await expect(w.locator('#notice')).toHaveAttribute('data-reason', 'offline')
  for (const [i, text] of ['first entry, written offline', 'second one, still offline'].entries()) {
    await w.getByLabel('New entry').fill(text)
    await w.getByRole('button', { name: 'Add' }).click()
    await expect(w.locator('body')).toHaveAttribute('data-entries', String(i + 1))
  }
  await w.reload()
  await expect(w.locator('body')).toHaveAttribute('data-entries', '2')
  await expect(w.locator('.entry .text').first()).toHaveText('second one, still offline')
  await shot(w, 'log-writer-offline')

  await ctxW.setOffline(false)
  await expect(w.locator('#notice')).toBeHidden()
  const ctxR = await profile(browser)
  const r = await ctxR.newPage()
  await r.goto(link)
  await expect(r.locator('body')).toHaveAttribute('data-role', 'reader')
  await expect(r.locator('body')).toHaveAttribute('data-entries', '2', { timeout: 30_000 })
  await w.getByLabel('New entry').fill('live: written while the reader watches')
  await w.getByRole('button', { name: 'Add' }).click()
  await expect(r.locator('body')).toHaveAttribute('data-entries', '3')
  await expect(r.locator('.entry .text').first()).toHaveText('live: written while the reader watches')
  await shot(r, 'log-reader')
  await shot(w, 'log-writer')
  await ctxW.close()
  await ctxR.close()
})

test('the ?relay fallback (no WebRTC): a log syncs through the demo server relay', async ({ browser }) => {
  const ctxW = await profile(browser)
  const w = await ctxW.newPage()
  await w.goto(demo.url + 'log.html?relay')
  await expect(w.locator('body')).toHaveAttribute('data-role', 'writer')
  await w.getByLabel('New entry').fill('through the relay')
  await w.getByRole('button', { name: 'Add' }).click()
  await expect(w.locator('body')).toHaveAttribute('data-entries', '1')
  const link = await w.locator('#log-link').inputValue()
  expect(link).toContain('log.html?relay#') // the link takes its reader to the same network
  const ctxR = await profile(browser)
  const r = await ctxR.newPage()
  await r.goto(link)
  await expect(r.locator('body')).toHaveAttribute('data-entries', '1', { timeout: 30_000 })
  await expect(r.locator('.entry .text').first()).toHaveText('through the relay')
  await ctxW.close()
  await ctxR.close()
})

test('tabs of one browser, no signaling server: the second tab keeps its own copy and gets it over BroadcastChannel', async ({ browser }) => {
  const local = await startDemo({ port: 0, bundle: false, signaling: false })
  try {
    expect(local.signalUrl).toBeNull()
    const ctx = await profile(browser)
    const a = await ctx.newPage()
    await a.goto(local.url + 'index.html')
    await a.locator('#pick-files').setInputFiles([{ name: 'notes.txt', mimeType: 'text/plain', buffer: files['field-notes/raw/samples.bin']!.subarray(0, 300_000) }])
    await a.getByRole('button', { name: 'Share' }).click()
    await expect(a.locator('#ds-role')).toHaveText('Sharing')
    const b = await ctx.newPage() // another tab, same browser profile (same IndexedDB)
    await b.goto(await a.locator('#share-link').inputValue())
    await expect(b.locator('body')).toHaveAttribute('data-complete', 'true', { timeout: 30_000 })
    await expect(b.locator('#notice')).toHaveAttribute('data-reason', 'complete')
    await expect(b.locator('#stat-fetched')).toContainText('6 (') // the index + 5 blocks, from tab A
    const [download] = await Promise.all([b.waitForEvent('download'), b.getByRole('button', { name: 'Save notes.txt' }).click()])
    expect(fs.readFileSync((await download.path())!).equals(files['field-notes/raw/samples.bin']!.subarray(0, 300_000))).toBe(true)

    // the log: a second tab of one's own log follows it live
    const w = await ctx.newPage()
    await w.goto(local.url + 'log.html')
    await expect(w.locator('body')).toHaveAttribute('data-role', 'writer')
    const r = await ctx.newPage()
    await r.goto(local.url + 'log.html')
    await expect(r.locator('body')).toHaveAttribute('data-role', 'reader')
    await expect(r.locator('#notice')).toHaveAttribute('data-reason', 'other-tab')
    await w.getByLabel('New entry').fill('from the first tab')
    await w.getByRole('button', { name: 'Add' }).click()
    await expect(r.locator('body')).toHaveAttribute('data-entries', '1', { timeout: 30_000 })
    await shot(r, 'log-second-tab')
    await ctx.close()
  } finally {
    await local.close()
  }
})
