/**
 * @module web-test/demo.spec
 * The `npm start` demo, driven as a person uses it, on its own demo server (pages and the
 * signaling server on free ports, see demo/serve.mjs); peers connect over WebRTC (the swarm):
 *  - datasets are Hyperdrives: browser A shares a folder; browser B (another context: another
 *    profile) opens the link, fetches one file, reloads (resume from IndexedDB), downloads the
 *    rest with a reload in the middle, and saves every file and then all of them as a zip: the
 *    bytes equal the source files, and no block is fetched twice across the reloads; A leaves
 *    and a third profile gets everything from B;
 *  - `npm run demo:fetch` (hyperdrive@11 on corestore@6, in Node) downloads a folder a browser
 *    shares, byte for byte: what the page shares is a standard Hyperdrive;
 *  - the failures a person can hit: a bad link, a link nobody seeds, a link to something that
 *    is not a drive (an offline log), a drive whose files never come (a peer with the file
 *    list only), a full disk, a peer leaving;
 *  - the offline log: the writer appends while offline (page served by its service worker),
 *    the entries survive a reload, then sync to a reader in another context and arrive live;
 *  - the ?relay fallback (a log and a dataset), and two tabs of one browser without a server.
 * Screenshots go to test-results/demo-*.png.
 */
import { test, expect, type Browser, type BrowserContext, type Page } from '@playwright/test'
import fs from 'node:fs'
import { randomBytes } from 'node:crypto'
import { execFile } from 'node:child_process'
import { createRequire } from 'node:module'
import os from 'node:os'
import path from 'node:path'
import zlib from 'node:zlib'
import { startDemo, type DemoServer } from '../demo/serve.mjs'
// The signaling server from src/ (no build needed for this spec); `npm start` uses dist/'s.
import { createSignalServer } from '../src/signaling/server/index.js'
import { Corestore, MemoryDirectory } from '../src/index.js'
import { Swarm } from '../src/swarm/index.js'
import { WebSocketSignalingClient } from '../src/signaling/ws-client.js'
import { connectStores } from '../test/store/helpers.js'

const require = createRequire(import.meta.url)
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..')

let demo: DemoServer
let dir: string
const files: Record<string, Buffer> = {}

test.beforeAll(async () => {
  demo = await startDemo({ port: 0, createSignalServer })
  expect(demo.signalUrl).not.toBeNull()
  // A folder of files: two large ones (several 64 KiB blocks, the last one short), a small
  // text file, an empty file, and one in a subfolder.
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'demo-spec-'))
  const top = path.join(dir, 'field-notes')
  fs.mkdirSync(path.join(top, 'raw'), { recursive: true })
  files['field-notes/readme.txt'] = Buffer.from('Notes from the field, shared browser to browser.\n')
  files['field-notes/empty.dat'] = Buffer.alloc(0)
  files['field-notes/raw/samples.bin'] = random(8 * 1024 * 1024 + 123, 1)
  files['field-notes/photo.bin'] = random(2 * 1024 * 1024 + 77, 2)
  for (const [rel, bytes] of Object.entries(files)) fs.writeFileSync(path.join(dir, rel), bytes)
})

test.afterAll(async () => {
  await demo?.close()
  if (dir !== undefined) fs.rmSync(dir, { recursive: true, force: true })
})

function random (n: number, seed: number): Buffer {
  const b = Buffer.alloc(n)
  let x = seed
  for (let i = 0; i < n; i++) { x = (x * 1103515245 + 12345) >>> 0; b[i] = x >>> 24 }
  return b
}

/** A fresh browser profile; WebRTC needs media permission for host candidates. */
async function profile (browser: Browser): Promise<BrowserContext> {
  return browser.newContext({ permissions: ['camera', 'microphone'], viewport: { width: 1100, height: 900 } })
}

/** test-results/demo-<name>.png (DEMO_SCREENSHOTS moves them, e.g. out of a folder other runs clean). */
async function shot (page: Page, name: string): Promise<void> {
  await page.screenshot({ path: path.join(process.env.DEMO_SCREENSHOTS ?? 'test-results', `demo-${name}.png`), fullPage: true, animations: 'disabled' })
}

const fileRow = (page: Page, p: string) => page.locator(`li.file[data-path="${p}"]`)

/** Shares `folder` (or `files`) from a new profile; returns the page and its share link. */
async function share (browser: Browser, pick: { folder: string } | { files: Array<{ name: string, mimeType: string, buffer: Buffer }> }): Promise<{ page: Page, link: string }> {
  const page = await (await profile(browser)).newPage()
  await page.goto(demo.url + 'index.html')
  await expect(page.locator('body')).toHaveAttribute('data-ready', 'true')
  if ('folder' in pick) await page.locator('#pick-folder').setInputFiles(pick.folder)
  else await page.locator('#pick-files').setInputFiles(pick.files)
  await page.getByRole('button', { name: 'Share' }).click()
  await expect(page.locator('#ds-role')).toHaveText('Sharing')
  return { page, link: await page.locator('#share-link').inputValue() }
}

/** The files of a stored (uncompressed) zip by path, each CRC checked with zlib's. */
function unzip (zip: Buffer): Record<string, Buffer> {
  const end = zip.length - 22
  expect(zip.readUInt32LE(end)).toBe(0x06054b50)
  const count = zip.readUInt16LE(end + 10)
  let at = zip.readUInt32LE(end + 16)
  const out: Record<string, Buffer> = {}
  for (let i = 0; i < count; i++) {
    expect(zip.readUInt32LE(at)).toBe(0x02014b50)
    const [crc, size, nameLen, offset] = [zip.readUInt32LE(at + 16), zip.readUInt32LE(at + 24), zip.readUInt16LE(at + 28), zip.readUInt32LE(at + 42)]
    const name = zip.subarray(at + 46, at + 46 + nameLen).toString('utf8')
    const start = offset + 30 + zip.readUInt16LE(offset + 26) + zip.readUInt16LE(offset + 28)
    out[name] = zip.subarray(start, start + size)
    expect(zlib.crc32(out[name]!), `CRC of ${name}`).toBe(crc)
    at += 46 + nameLen + zip.readUInt16LE(at + 30) + zip.readUInt16LE(at + 32)
  }
  return out
}

/** `npm run demo:fetch -- <link> <out>`: its exit code and output. */
function fetchScript (link: string, out: string, ...more: string[]): Promise<{ code: number, stdout: string, stderr: string }> {
  return new Promise(resolve => {
    execFile(process.execPath, ['--import', 'tsx', path.join(root, 'demo/fetch.ts'), link, out, ...more], { cwd: root, timeout: 90_000 }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : 1, stdout, stderr })
    })
  })
}

test('share a folder as a Hyperdrive, open the link in another profile, resume after reloads, save every file and all as a zip byte for byte, then seed to a third', async ({ browser }) => {
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
  expect(total).toBe(1 + 0 + 129 + 33) // blocks of the blobs core: readme, empty, samples (128+1), photo (32+1)
  await expect(a.locator('#ds-summary')).toContainText('a Hyperdrive')
  await shot(a, 'share-seeding')

  // B: another profile opens the link without starting (?paused), fetches one file only
  const ctxB = await profile(browser)
  const b = await ctxB.newPage()
  await b.goto(link.replace('index.html#', 'index.html?paused#'))
  await expect(b.locator('#ds-name')).toHaveText('field-notes')
  await expect(b.locator('li.file')).toHaveCount(4)
  // the drive's paths, in path order
  expect(await b.locator('li.file').evaluateAll(els => els.map(e => e.getAttribute('data-path')))).toEqual(Object.keys(files).sort())
  await expect(b.locator('#ds-role')).toHaveText('Paused')
  await expect(b.locator('#stat-resumed')).toHaveText('0 blocks')
  await expect(b.locator('#notice')).toBeHidden()
  await expect(b.locator('#stat-peers')).toHaveText('1')
  await b.getByRole('button', { name: 'Get field-notes/photo.bin' }).click()
  await expect(fileRow(b, 'field-notes/photo.bin').locator('.file-status')).toHaveText('✓ verified')
  await expect(b.locator('#stat-blocks')).toHaveText(`33 / ${total}`) // photo's 33
  await shot(b, 'download-one-file')

  // reload: the file is still there (IndexedDB), and the page says it resumed
  await b.reload()
  await expect(b.locator('#stat-resumed')).toHaveText('33 blocks')
  await expect(b.locator('#stat-fetched')).toHaveText('0 (0 B)')
  await expect(b.locator('#notice')).toHaveAttribute('data-reason', 'resumed')
  await expect(fileRow(b, 'field-notes/photo.bin').locator('.file-status')).toHaveText('✓ verified')
  // download the rest, and reload in the middle of it: the page reloads itself on the first
  // block that arrives (body[data-blocks] moves with each block), with its CPU slowed down
  // (Chromium's emulation, over CDP) so that the local transfer is caught half way
  const cdpB = await ctxB.newCDPSession(b)
  await cdpB.send('Emulation.setCPUThrottlingRate', { rate: 10 })
  await Promise.all([
    b.waitForEvent('load'),
    b.evaluate(() => {
      new MutationObserver((_, obs) => { if (document.body.dataset.blocks !== '33') { obs.disconnect(); location.reload() } })
        .observe(document.body, { attributes: true, attributeFilter: ['data-blocks'] })
      ;(document.getElementById('btn-download') as HTMLButtonElement).click()
    })
  ])
  await cdpB.send('Emulation.setCPUThrottlingRate', { rate: 1 })
  await expect(b.locator('body')).toHaveAttribute('data-have-at-open', /^\d+$/)
  const haveAtOpen = Number(await b.locator('body').getAttribute('data-have-at-open'))
  expect(haveAtOpen).toBeGreaterThanOrEqual(33)
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
  // save all: one zip with the folder's paths
  const [zip] = await Promise.all([b.waitForEvent('download'), b.getByRole('button', { name: 'Save all (.zip)' }).click()])
  expect(zip.suggestedFilename()).toBe('field-notes.zip')
  const unzipped = unzip(fs.readFileSync((await zip.path())!))
  expect(Object.keys(unzipped).sort()).toEqual(Object.keys(files).sort())
  for (const [rel, bytes] of Object.entries(files)) expect(unzipped[rel]!.equals(bytes), `${rel} in the zip equals the source`).toBe(true)
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
  await c.evaluate(() => scrollTo(0, 0))
  await shot(c, 'download-mobile')
  await a.context().close()
  await c.context().close()
  await ctxB.close()
})

test('npm run demo:fetch downloads a folder a browser shares, with hyperdrive@11 on corestore@6 in Node, byte for byte', async ({ browser }) => {
  const { page: a, link } = await share(browser, { folder: path.join(dir, 'field-notes') })
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'demo-fetch-'))
  try {
    const run = await fetchScript(link, out, '--timeout', '60')
    console.log(run.stdout + run.stderr)
    expect(run.code, run.stderr).toBe(0)
    expect(run.stdout).toContain('hyperdrive@11.')
    expect(run.stdout).toContain('corestore@6.')
    expect(run.stdout).toMatch(/"field-notes": 4 files, 10 MiB in 163 blocks of the blobs core/)
    for (const [rel, bytes] of Object.entries(files)) {
      expect(fs.readFileSync(path.join(out, rel)).equals(bytes), `${rel} fetched by Node equals the source`).toBe(true)
    }
    // the files' times come from the entries' metadata (a browser's File.lastModified: whole ms)
    expect(Math.round(fs.statSync(path.join(out, 'field-notes/readme.txt')).mtimeMs)).toBe(Math.floor(fs.statSync(path.join(dir, 'field-notes/readme.txt')).mtimeMs))
    // the page saw Node as a peer and uploaded to it
    await expect(a.locator('#stat-uploaded')).not.toHaveText('0 B')
  } finally {
    fs.rmSync(out, { recursive: true, force: true })
    await a.context().close()
  }
})

test('a bad link, a link nobody seeds and a link that is not a drive say so (in the page and in demo:fetch)', async ({ browser }) => {
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

  // An offline log's link (a Hypercore, not a drive) opened as a dataset
  const ctxW = await profile(browser)
  const w = await ctxW.newPage()
  await w.goto(demo.url + 'log.html')
  await expect(w.locator('body')).toHaveAttribute('data-role', 'writer')
  await w.getByLabel('New entry').fill('not a file')
  await w.getByRole('button', { name: 'Add' }).click()
  await expect(w.locator('body')).toHaveAttribute('data-entries', '1')
  const logId = (await w.locator('#log-link').inputValue()).split('#')[1]!
  await page.goto(demo.url + 'index.html#' + logId)
  await expect(page.locator('#notice')).toHaveAttribute('data-reason', 'not-drive', { timeout: 30_000 })
  await expect(page.locator('#notice')).toContainText('not a Hyperdrive')
  await expect(page.locator('#ds-name')).toHaveText('Not a shared folder')
  await shot(page, 'not-a-drive')
  const run = await fetchScript(demo.url + 'index.html#' + logId, path.join(os.tmpdir(), 'demo-fetch-never-written'), '--timeout', '30')
  expect(run.code).toBe(1)
  expect(run.stderr).toContain('not a Hyperdrive')
  const nobody = await fetchScript(demo.url + 'index.html#' + 'y'.repeat(52), path.join(os.tmpdir(), 'demo-fetch-never-written'), '--timeout', '3')
  expect(nobody.code).toBe(1)
  expect(nobody.stderr).toContain('nobody sharing this drive was found')
  await ctxW.close()
  await ctx.close()
})

test('a drive whose files never come (the only peer has its file list, not its blobs core) says so, in the page and in demo:fetch', async ({ browser }) => {
  // In Node: a drive written on our Corestore, and a seeder that copied its db core only.
  const Hyperdrive = require('hyperdrive') as any
  const writerStore = new Corestore(new MemoryDirectory())
  const writer = new Hyperdrive(writerStore)
  await writer.put('/half/a.bin', random(200_000, 3))
  await writer.put('/half/b.txt', Buffer.from('b'))
  const seederStore = new Corestore(new MemoryDirectory())
  const db = seederStore.get({ key: writer.key })
  await db.ready()
  const copying = connectStores(writerStore, seederStore)
  await db.download({ start: 0, end: writer.core.length }).done()
  await copying.done()
  await writer.close()
  const swarm = new Swarm({ signaling: [new WebSocketSignalingClient({ url: demo.signalUrl! })], wrtc: require('@roamhq/wrtc') })
  swarm.on('connection', stream => seederStore.replicate(stream))
  swarm.join(db.discoveryKey!)
  const ctx = await profile(browser)
  try {
    const page = await ctx.newPage()
    await page.goto(demo.url + 'index.html#' + db.id)
    await expect(page.locator('li.file')).toHaveCount(2, { timeout: 30_000 })
    await expect(page.locator('#notice')).toHaveAttribute('data-reason', 'no-blobs', { timeout: 30_000 })
    await expect(page.locator('#notice')).toContainText('none of the connected peers has the files themselves')
    await expect(page.locator('#stat-blocks')).toHaveText('0 / 5')
    await shot(page, 'no-blobs')
    // demo:fetch says the same
    const run = await fetchScript(demo.url + 'index.html#' + db.id, path.join(os.tmpdir(), 'demo-fetch-never-written'), '--timeout', '5')
    expect(run.code, run.stdout + run.stderr).toBe(1)
    expect(run.stdout).toMatch(/: 2 files, 195 KiB in 5 blocks of the blobs core/)
    expect(run.stderr).toContain('no peer sent the files themselves')
  } finally {
    await ctx.close()
    await swarm.destroy()
    await seederStore.close()
  }
})

test('storage full (QuotaExceeded) and a peer who leaves say so', async ({ browser }) => {
  const origin = demo.url.replace(/\/$/, '')
  // random bytes: Chromium compresses IndexedDB values, so a run of one byte would fit anywhere
  const big = { name: 'big.bin', mimeType: 'application/octet-stream', buffer: randomBytes(3 * 1024 * 1024) }
  // A seeder with room
  const { page: a, link } = await share(browser, { files: [big] })

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

test('the ?relay fallback (no WebRTC): a log and a dataset sync through the demo server relay', async ({ browser }) => {
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

  // a dataset: the page's store replicates over the relay's pipes
  const bytes = random(200_000, 4)
  await w.goto(demo.url + 'index.html?relay')
  await w.locator('#pick-files').setInputFiles([{ name: 'relayed.bin', mimeType: 'application/octet-stream', buffer: bytes }])
  await w.getByRole('button', { name: 'Share' }).click()
  await expect(w.locator('#ds-role')).toHaveText('Sharing')
  const driveLink = await w.locator('#share-link').inputValue()
  expect(driveLink).toContain('index.html?relay#')
  await r.goto(driveLink)
  await expect(r.locator('body')).toHaveAttribute('data-complete', 'true', { timeout: 30_000 })
  const [download] = await Promise.all([r.waitForEvent('download'), r.getByRole('button', { name: 'Save relayed.bin' }).click()])
  expect(fs.readFileSync((await download.path())!).equals(bytes)).toBe(true)
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
    await expect(b.locator('#stat-fetched')).toContainText('5 (') // the file's 5 blocks, from tab A
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
