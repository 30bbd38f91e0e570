/**
 * @module bench/hyperdrive.bench
 * Hyperdrive in the browser against hyperdrive@11 on hypercore@10 in Node, in the same run:
 * a writer fills a drive (`files` small files in folders of 100 and a `bigMiB` MiB file,
 * bench/lib/hyperdrive-load.ts), then a fresh reader, already connected, (1) opens the drive by
 * key and lists every file, (2) reads the big file through `createReadStream`.
 * - ours: hyperdrive@11, unchanged, on our Corestore in two Chromium pages (own contexts)
 *   over WebRTC (`createWebRtcPeer`; signals relayed by this process); the writer's store in
 *   memory, the reader's in IndexedDB, as a browser app would keep it;
 * - reference: hyperdrive@11 on corestore@6 (hypercore@10), both stores in memory, in this
 *   Node process over an in-process pipe.
 * Each figure is ours' time divided by the reference's (best of the rounds each; rounds
 * alternate the two), so above 1 is slower; the transports differ (WebRTC data channel
 * against a pipe), which is part of what a browser pays.
 *
 * Library: `hyperdriveBench({ files, bigMiB, rounds })`.
 * Run: node --import tsx bench/hyperdrive.bench.ts [files] [bigMiB] [rounds] [--memory]
 * (`--memory`: the page reader's store in memory, a diagnostic of what IndexedDB costs.)
 */
import path from 'node:path'
import os from 'node:os'
import fs from 'node:fs'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import type { Server } from 'node:http'
import { chromium, type Browser, type Page } from '@playwright/test'
import { chromiumLaunchOptions } from '../playwright.config.js'
import { fillDrive, timeList, timeRead } from './lib/hyperdrive-load.js'
// @ts-expect-error plain ESM script without types
import { bundlePages } from '../scripts/bundle-pages.mjs'
// @ts-expect-error plain ESM script without types
import { createStaticServer } from '../scripts/static-server.mjs'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const require = createRequire(import.meta.url)
const Hyperdrive = require('hyperdrive') as any
const RefCorestore = require('corestore') as any
const RAM = require('random-access-memory') as any

export interface HyperdriveBenchTimes { listMs: number, readMs: number }

export interface HyperdriveBenchResult {
  files: number
  bigMiB: number
  /** Best round of each, in ms. */
  ours: HyperdriveBenchTimes
  reference: HyperdriveBenchTimes
  /** ours / reference: the time it takes, relative (above 1: slower). */
  listRatio: number
  readRatio: number
  /** ours' read in MB/s (10^6 bytes), for scale. */
  oursReadMBps: number
  rounds: Array<{ ours: HyperdriveBenchTimes, reference: HyperdriveBenchTimes }>
  chromium: string
}

type Api = Record<string, (arg?: unknown) => any>
const call = (page: Page, fn: string, arg?: unknown): Promise<any> =>
  page.evaluate(([f, a]) => ((globalThis as unknown as { testApi: Api }).testApi[f as string])(a), [fn, arg] as const)

function check (what: string, got: { count: number, bytes: number, fingerprint: string }, files: number, bigMiB: number, fingerprint: string): void {
  if (got.count !== files || got.bytes !== bigMiB * 2 ** 20 || got.fingerprint !== fingerprint) {
    throw new Error(`${what}: listed ${got.count} of ${files} files, read ${got.bytes} bytes (fingerprint ${got.fingerprint}, want ${fingerprint})`)
  }
}

/** One round of ours: a fresh page pair connected over WebRTC. */
async function measureOurs (browser: Browser, url: string, files: number, bigMiB: number, round: number, readerInMemory: boolean): Promise<HyperdriveBenchTimes> {
  const pages: Page[] = []
  try {
    for (let i = 0; i < 2; i++) {
      // Chromium offers WebRTC host candidates only to a page with media permission.
      const context = await browser.newContext({ permissions: ['camera', 'microphone'] })
      const page = await context.newPage()
      await page.goto(url)
      await page.waitForFunction(() => (globalThis as unknown as { testApi?: unknown }).testApi)
      pages.push(page)
    }
    const [w, r] = pages as [Page, Page]
    await w.exposeFunction('sendSignal', (d: unknown) => call(r, 'signal', d))
    await r.exposeFunction('sendSignal', (d: unknown) => call(w, 'signal', d))
    await call(r, 'start', { initiator: false, name: readerInMemory ? '' : `hyperdrive-bench-${Date.now()}-${round}` })
    await call(w, 'start', { initiator: true, name: '' })
    const { key, fingerprint } = await call(w, 'write', { files, bigMiB })
    await call(r, 'connected')
    const list = await call(r, 'list', { key })
    const read = await call(r, 'read')
    check('ours', { ...list, ...read }, files, bigMiB, fingerprint)
    return { listMs: list.ms, readMs: read.ms }
  } finally {
    for (const p of pages) {
      await call(p, 'close').catch(() => {})
      await p.context().close()
    }
  }
}

/** One round of the reference: corestore@6 stores in memory over an in-process pipe. */
async function measureReference (files: number, bigMiB: number): Promise<HyperdriveBenchTimes> {
  const wstore = new RefCorestore(RAM.reusable())
  const rstore = new RefCorestore(RAM.reusable())
  const writer = new Hyperdrive(wstore.session())
  const fingerprint = await fillDrive(writer, { files, bigMiB })
  const a = wstore.replicate(true, { keepAlive: false })
  const b = rstore.replicate(false, { keepAlive: false })
  a.pipe(b).pipe(a)
  try {
    await b.noiseStream.opened
    const list = await timeList(() => new Hyperdrive(rstore.session(), writer.key))
    const read = await timeRead(list.drive)
    check('reference', { ...list, ...read }, files, bigMiB, fingerprint)
    await list.drive.close()
    return { listMs: list.ms, readMs: read.ms }
  } finally {
    a.destroy()
    b.destroy()
    await writer.close()
    await wstore.close()
    await rstore.close()
  }
}

const _r = (x: number, d = 2): number => Math.round(x * 10 ** d) / 10 ** d

export interface HyperdriveBenchOptions {
  /** Small files in the drive (default 10,000). */
  files?: number
  /** The big file's size in MiB (default 50). */
  bigMiB?: number
  /** Rounds of each; the best is kept (default 3). */
  rounds?: number
  /** Diagnostic: the page reader's store in memory instead of IndexedDB (what IndexedDB costs). */
  readerInMemory?: boolean
  log?: (line: string) => void
}

export async function hyperdriveBench ({ files = 10_000, bigMiB = 50, rounds = 3, readerInMemory = false, log = () => {} }: HyperdriveBenchOptions = {}): Promise<HyperdriveBenchResult> {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'hcw-hyperdrive-bench-'))
  await bundlePages(path.join(root, 'bench/pages'), out, { minify: true })
  const server = await createStaticServer({ roots: { '/bench': out } }) as Server
  const address = server.address()
  const port = typeof address === 'object' && address !== null ? address.port : 0
  const url = `http://127.0.0.1:${port}/bench/hyperdrive.html`
  const browser = await chromium.launch(chromiumLaunchOptions)
  const all: Array<{ ours: HyperdriveBenchTimes, reference: HyperdriveBenchTimes }> = []
  try {
    for (let i = 0; i < rounds; i++) {
      const reference = await measureReference(files, bigMiB)
      const ours = await measureOurs(browser, url, files, bigMiB, i, readerInMemory)
      all.push({ ours, reference })
      log(`round ${i + 1}: list ${files} files: ours ${ours.listMs.toFixed(0)} ms, hyperdrive@11 on hypercore@10 ${reference.listMs.toFixed(0)} ms; ` +
        `read ${bigMiB} MiB: ours ${ours.readMs.toFixed(0)} ms, reference ${reference.readMs.toFixed(0)} ms`)
    }
  } finally {
    await browser.close()
    server.close()
    fs.rmSync(out, { recursive: true, force: true })
  }
  const best = (pick: (r: typeof all[number]) => number): number => Math.min(...all.map(pick))
  const ours = { listMs: _r(best(r => r.ours.listMs), 0), readMs: _r(best(r => r.ours.readMs), 0) }
  const reference = { listMs: _r(best(r => r.reference.listMs), 0), readMs: _r(best(r => r.reference.readMs), 0) }
  return {
    files,
    bigMiB,
    ours,
    reference,
    listRatio: _r(best(r => r.ours.listMs) / best(r => r.reference.listMs)),
    readRatio: _r(best(r => r.ours.readMs) / best(r => r.reference.readMs)),
    oursReadMBps: _r(bigMiB * 2 ** 20 / 1e6 / (best(r => r.ours.readMs) / 1000), 1),
    rounds: all,
    chromium: browser.version()
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const readerInMemory = process.argv.includes('--memory')
  const [files, bigMiB, rounds] = process.argv.slice(2).filter(a => /^\d+$/.test(a)).map(Number)
  const res = await hyperdriveBench({ files: files || undefined, bigMiB: bigMiB || undefined, rounds: rounds || undefined, readerInMemory, log: line => console.log(line) })
  console.log(`list ${res.files} files: ours (Chromium ↔ Chromium, WebRTC, reader on ${readerInMemory ? 'memory' : 'IndexedDB'}) ${res.ours.listMs} ms, ` +
    `hyperdrive@11 on hypercore@10 (Node, pipe) ${res.reference.listMs} ms: ${res.listRatio}x the time`)
  console.log(`read a ${res.bigMiB} MiB file: ours ${res.ours.readMs} ms (${res.oursReadMBps} MB/s), reference ${res.reference.readMs} ms: ${res.readRatio}x the time (Chromium ${res.chromium})`)
}
