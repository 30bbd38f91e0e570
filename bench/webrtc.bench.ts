/**
 * @module bench/webrtc.bench
 * Replication over WebRTC between two Chromium pages against the raw data channel's ceiling,
 * in the same run: ours = a core of `totalMiB` replicated through `createWebRtcPeer` +
 * `core.replicate` (reader times replicate → download done, then checks every block); raw = a
 * bare RTCDataChannel moving the same bytes in 16 KiB messages with the same backpressure.
 * Every measurement gets a fresh page pair (own contexts with media permissions: Chromium
 * offers loopback host candidates only then); signals are relayed by this
 * process. Rounds alternate raw/ours; the best of each is kept. Also, as a diagnostic, ours
 * with both cores in one page over an in-memory pipe (the CPU ceiling of our stack).
 * Run: node --import tsx bench/webrtc.bench.ts [--quick] [blockKiB]
 */
import path from 'node:path'
import os from 'node:os'
import fs from 'node:fs'
import { fileURLToPath } from 'node:url'
import type { Server } from 'node:http'
import { chromium, type Browser, type Page } from '@playwright/test'
import { chromiumLaunchOptions } from '../playwright.config.js'
// @ts-expect-error plain ESM script without types
import { bundlePages } from '../scripts/bundle-pages.mjs'
// @ts-expect-error plain ESM script without types
import { createStaticServer } from '../scripts/static-server.mjs'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')

export interface WebRtcBenchResult {
  totalMiB: number
  blockKiB: number
  oursMBps: number
  rawMBps: number
  ratio: number
  /**
   * Diagnostic: both cores in one page over an in-memory pipe (no WebRTC), i.e. what our
   * replication stack costs in one renderer. Far above oursMBps means the network is the limit.
   */
  inPageMBps: number
  rounds: Array<{ oursMBps: number, rawMBps: number }>
  chromium: string
}

type Api = Record<string, (arg?: unknown) => any>
const call = (page: Page, fn: string, arg?: unknown): Promise<any> =>
  page.evaluate(([f, a]) => ((globalThis as unknown as { testApi: Api }).testApi[f as string])(a), [fn, arg] as const)

async function pagePair (browser: Browser, url: string, signalFn: string): Promise<[Page, Page]> {
  const pages: Page[] = []
  for (let i = 0; i < 2; i++) {
    const context = await browser.newContext({ permissions: ['camera', 'microphone'] })
    const page = await context.newPage()
    await page.goto(url)
    await page.waitForFunction(() => (globalThis as unknown as { testApi?: unknown }).testApi)
    pages.push(page)
  }
  const [a, b] = pages
  await a.exposeFunction('sendSignal', (d: unknown) => call(b, signalFn, d))
  await b.exposeFunction('sendSignal', (d: unknown) => call(a, signalFn, d))
  return [a, b]
}

async function closePair (pages: Page[]): Promise<void> {
  for (const p of pages) {
    await call(p, 'close').catch(() => {})
    await p.context().close()
  }
}

async function measureOurs (browser: Browser, url: string, total: number, blockSize: number): Promise<number> {
  const [a, b] = await pagePair(browser, url, 'oursSignal')
  try {
    await call(b, 'oursStart', { initiator: false })
    await call(a, 'oursStart', { initiator: true })
    const blocks = Math.ceil(total / blockSize)
    const key = await call(a, 'oursWrite', { blocks, blockSize })
    const { start, end, verified } = await call(b, 'oursRead', { key, blocks, blockSize })
    if (verified !== blocks) throw new Error(`verified ${verified} of ${blocks} blocks`)
    return blocks * blockSize / 1e6 / ((end - start) / 1000)
  } finally {
    await closePair([a, b])
  }
}

async function measureInPage (browser: Browser, url: string, total: number, blockSize: number): Promise<number> {
  const context = await browser.newContext()
  const page = await context.newPage()
  try {
    await page.goto(url)
    await page.waitForFunction(() => (globalThis as unknown as { testApi?: unknown }).testApi)
    return await call(page, 'oursInPage', { blocks: Math.ceil(total / blockSize), blockSize })
  } finally {
    await context.close()
  }
}

async function measureRaw (browser: Browser, url: string, total: number): Promise<number> {
  const [a, b] = await pagePair(browser, url, 'rawSignal')
  try {
    await call(b, 'rawStart', { initiator: false })
    await call(a, 'rawStart', { initiator: true })
    const received = call(b, 'rawReceive', { total })
    const start = await call(a, 'rawSend', { total })
    const end = await received
    return total / 1e6 / ((end - start) / 1000)
  } finally {
    await closePair([a, b])
  }
}

export async function webrtcBench ({ quick = false, blockKiB = 64 }: { quick?: boolean, blockKiB?: number } = {}): Promise<WebRtcBenchResult> {
  const totalMiB = quick ? 16 : 64
  const total = totalMiB * 2 ** 20
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'hcw-webrtc-bench-'))
  await bundlePages(path.join(root, 'bench/pages'), out, { minify: true })
  const server = await createStaticServer({ roots: { '/bench': out } }) as Server
  const address = server.address()
  const port = typeof address === 'object' && address !== null ? address.port : 0
  const url = `http://127.0.0.1:${port}/bench/webrtc.html`
  const browser = await chromium.launch(chromiumLaunchOptions)
  const rounds: Array<{ oursMBps: number, rawMBps: number }> = []
  let inPageMBps = 0
  try {
    for (let r = 0; r < (quick ? 2 : 3); r++) {
      const rawMBps = await measureRaw(browser, url, total)
      const oursMBps = await measureOurs(browser, url, total, blockKiB * 1024)
      rounds.push({ oursMBps, rawMBps })
    }
    inPageMBps = await measureInPage(browser, url, total, blockKiB * 1024)
  } finally {
    await browser.close()
    server.close()
    fs.rmSync(out, { recursive: true, force: true })
  }
  const oursMBps = Math.max(...rounds.map(r => r.oursMBps))
  const rawMBps = Math.max(...rounds.map(r => r.rawMBps))
  return { totalMiB, blockKiB, oursMBps, rawMBps, ratio: oursMBps / rawMBps, inPageMBps, rounds, chromium: browser.version() }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const blockKiB = Number(process.argv.slice(2).find(a => /^\d+$/.test(a)) ?? 64)
  const res = await webrtcBench({ quick: process.argv.includes('--quick'), blockKiB })
  for (const r of res.rounds) console.log(`round: raw ${r.rawMBps.toFixed(1)} MB/s, ours ${r.oursMBps.toFixed(1)} MB/s`)
  console.log(`in one page over a pipe (no WebRTC): ${res.inPageMBps.toFixed(1)} MB/s`)
  console.log(`WebRTC Chromium ↔ Chromium, ${res.totalMiB} MiB, ${res.blockKiB} KiB blocks: ours ${res.oursMBps.toFixed(1)} MB/s, raw data channel ${res.rawMBps.toFixed(1)} MB/s, ratio ${res.ratio.toFixed(2)}x (Chromium ${res.chromium})`)
}
