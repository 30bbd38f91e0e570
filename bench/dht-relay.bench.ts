/**
 * @module bench/dht-relay.bench
 * A Chromium page on the HyperDHT through our DHT relay, against hyperswarm in Node, on a local
 * testnet (`hyperdht/testnet`, loopback), in the same run:
 *   ours      a page (`new Swarm({ dht: { relay } })`, web-test/pages/dht.page.ts) downloads a
 *             hypercore@10 core from a Node hyperswarm peer through the relay: the page runs
 *             Noise and the secret stream, the relay forwards ciphertext over a WebSocket;
 *   reference a second Node hyperswarm peer running hypercore@10 downloads the same core from the
 *             same seeder, straight over UDX.
 * Each round times `download()` from the reader's open to done, then checks every block (ours in
 * the page); rounds alternate; the best of each is kept. Also the size of the DHT relay client,
 * the chunk `new Swarm({ dht })` loads on demand (from dist/browser/size.json: run the build).
 * Run: node --import tsx bench/dht-relay.bench.ts [--quick]
 */
import path from 'node:path'
import os from 'node:os'
import fs from 'node:fs'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import type { Server } from 'node:http'
import b4a from 'b4a'
import { chromium, type Page } from '@playwright/test'
import { chromiumLaunchOptions } from '../playwright.config.js'
// @ts-expect-error plain ESM script without types
import { bundlePages } from '../scripts/bundle-pages.mjs'
// @ts-expect-error plain ESM script without types
import { createStaticServer } from '../scripts/static-server.mjs'
import { createSignalServer } from '../src/signaling/server/index.js'
import { blockBytes, mismatches } from '../web-test/peers/blocks.js'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const require = createRequire(import.meta.url)
const createTestnet = require('hyperdht/testnet')
const DHT = require('hyperdht')
const Hyperswarm = require('hyperswarm')
const RefHypercore = require('hypercore')
const RAM = require('random-access-memory')

export interface DhtRelayBenchResult {
  totalMiB: number
  blockKiB: number
  /** Page ← hyperswarm through the relay. */
  oursMBps: number
  /** Node hyperswarm ← Node hyperswarm, direct. */
  referenceMBps: number
  ratio: number
  rounds: Array<{ oursMBps: number, referenceMBps: number }>
  /** The DHT relay client chunk, minified and gzipped (bytes), and the base bundle's gzipped size. */
  clientChunk: { minified: number, gzipped: number } | null
  baseGzipped: number | null
  chromium: string
}

type Api = Record<string, (arg?: unknown) => any>
const call = (page: Page, fn: string, arg?: unknown): Promise<any> =>
  page.evaluate(([f, a]) => ((globalThis as unknown as { testApi: Api }).testApi[f as string])(a), [fn, arg] as const)

export async function dhtRelayBench ({ quick = false, blockKiB = 64 }: { quick?: boolean, blockKiB?: number } = {}): Promise<DhtRelayBenchResult> {
  const totalMiB = quick ? 16 : 64
  const blockSize = blockKiB * 1024
  const blocks = totalMiB * 1024 / blockKiB
  const net = await createTestnet(3, { host: '127.0.0.1' })
  const relay = await createSignalServer({ port: 0, dhtRelay: { bootstrap: net.bootstrap.map((n: any) => `${n.host}:${n.port}`), dhtHost: '127.0.0.1' } })
  // The DHT nodes bind loopback: on a machine whose only network is loopback, a node on every
  // interface advertises addresses nobody reaches.
  const node = (): any => new Hyperswarm({ dht: new DHT({ bootstrap: net.bootstrap, host: '127.0.0.1' }) })
  const seederCore = new RefHypercore(RAM)
  for (let i = 0; i < blocks; i += 64) await seederCore.append(Array.from({ length: Math.min(64, blocks - i) }, (_, j) => b4a.from(blockBytes(i + j, blockSize))))
  const seeder = node()
  seeder.on('connection', (c: any) => { c.on('error', () => {}); seederCore.replicate(c) })
  await seeder.join(seederCore.discoveryKey, { server: true, client: false }).flushed()
  const key = b4a.toString(seederCore.key, 'hex')

  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'hcw-dht-bench-'))
  await bundlePages(path.join(root, 'bench/pages'), out, { minify: true })
  const server = await createStaticServer({ roots: { '/bench': out } }) as Server
  const address = server.address()
  const url = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}/bench/dht-relay.html`
  const browser = await chromium.launch(chromiumLaunchOptions)

  async function ours (): Promise<number> {
    const context = await browser.newContext()
    const page = await context.newPage()
    try {
      await page.goto(url)
      await page.waitForFunction(() => (globalThis as unknown as { testApi?: unknown }).testApi)
      await call(page, 'start', { relay: [relay.dhtRelayUrl] })
      const t0 = Date.now()
      await call(page, 'open', { key })
      await call(page, 'downloadStart', { blocks })
      const r = await call(page, 'downloadFinish', { blockSize })
      const ms = Date.now() - t0
      if (r.mismatches.length !== 0 || r.contiguousLength !== blocks) throw new Error(`page download: ${JSON.stringify({ ...r, mismatches: r.mismatches.length })}`)
      return totalMiB * 2 ** 20 / 1e6 / (ms / 1000)
    } finally {
      await call(page, 'close').catch(() => {})
      await context.close()
    }
  }

  async function reference (): Promise<number> {
    const swarm = node()
    const core = new RefHypercore(RAM, seederCore.key)
    try {
      await core.ready()
      swarm.on('connection', (c: any) => { c.on('error', () => {}); core.replicate(c) })
      const t0 = Date.now()
      swarm.join(core.discoveryKey, { server: false, client: true })
      await core.download({ start: 0, end: blocks }).done()
      const ms = Date.now() - t0
      const got = []
      for (let i = 0; i < blocks; i++) got.push(await core.get(i))
      if (mismatches(got, blockSize).length !== 0) throw new Error('reference download: blocks differ')
      return totalMiB * 2 ** 20 / 1e6 / (ms / 1000)
    } finally {
      await swarm.destroy()
      await core.close()
    }
  }

  const rounds: Array<{ oursMBps: number, referenceMBps: number }> = []
  try {
    for (let r = 0; r < (quick ? 2 : 3); r++) {
      const a = r % 2 === 0 ? await reference() : await ours()
      const b = r % 2 === 0 ? await ours() : await reference()
      rounds.push(r % 2 === 0 ? { referenceMBps: a, oursMBps: b } : { oursMBps: a, referenceMBps: b })
    }
  } finally {
    await browser.close()
    server.close()
    fs.rmSync(out, { recursive: true, force: true })
    await seeder.destroy()
    await seederCore.close()
    await relay.close()
    await net.destroy()
  }
  const oursMBps = Math.max(...rounds.map(r => r.oursMBps))
  const referenceMBps = Math.max(...rounds.map(r => r.referenceMBps))
  const sizeFile = path.join(root, 'dist/browser/size.json')
  const size = fs.existsSync(sizeFile) ? JSON.parse(fs.readFileSync(sizeFile, 'utf8')) : null
  return {
    totalMiB,
    blockKiB,
    oursMBps,
    referenceMBps,
    ratio: oursMBps / referenceMBps,
    rounds,
    clientChunk: size?.dht === undefined ? null : { minified: size.dht.minified, gzipped: size.dht.gzipped },
    baseGzipped: size?.gzipped ?? null,
    chromium: browser.version()
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const res = await dhtRelayBench({ quick: process.argv.includes('--quick') })
  console.log(JSON.stringify(res, null, 2))
}
