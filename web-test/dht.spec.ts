/**
 * @module web-test/dht.spec
 * A Chromium page on the HyperDHT through our DHT relay (web-test/pages/dht.page.ts), on a
 * local testnet (`hyperdht/testnet`, loopback), against a Node hyperswarm peer running the
 * real hypercore@10:
 * 1. the page downloads 20 MiB from the hyperswarm peer and verifies every block; then the
 *    page writes a core and the hyperswarm peer downloads it;
 * 2. a page and a Node peer of ours meet both through our WebRTC signaling and over the DHT:
 *    one connection each side, and it replicates;
 * 3. the relay is killed mid-download: the page moves to a second relay and finishes;
 * 4. bad input to the relay endpoint (junk frames, text, floods, oversized messages) while the
 *    page downloads: each offender is closed with its code, the page finishes.
 * The DHT nodes bind 127.0.0.1 (a node on every interface is unreachable on a loopback-only
 * machine; test/dht/helpers.ts).
 */
import { test, expect, type Browser, type Page } from '@playwright/test'
import { createRequire } from 'node:module'
import b4a from 'b4a'
import { WebSocket } from 'ws'
import { createSignalServer, type SignalServer } from '../src/signaling/server/index.js'
import { Swarm } from '../src/swarm/index.js'
import { WebSocketSignaling } from '../src/signaling/ws-client.js'
import { Hypercore } from '../src/core/hypercore.js'
import { MemoryDirectory } from '../src/storage/memory.js'
import { blockBytes, mismatches } from './peers/blocks.js'
import { createTestPeer } from '../test/swarm/test-peer.js'

const require = createRequire(import.meta.url)
const createTestnet = require('hyperdht/testnet')
const DHT = require('hyperdht')
const Hyperswarm = require('hyperswarm')
const RefHypercore = require('hypercore')
const RAM = require('random-access-memory')

type Api = Record<string, (arg?: unknown) => unknown>
const api = (page: Page, fn: string, arg?: unknown): Promise<any> =>
  page.evaluate(([f, a]) => ((globalThis as unknown as { testApi: Api }).testApi[f as string])(a), [fn, arg] as const)

const BLOCK = 64 * 1024
const BLOCKS = 320 // 20 MiB

let net: any
let closers: Array<() => Promise<unknown>> = []
test.beforeEach(async () => { net = await createTestnet(3, { host: '127.0.0.1' }) })
test.afterEach(async () => {
  for (const c of closers.reverse()) await c().catch(() => {})
  closers = []
  await net.destroy()
})

async function relay (): Promise<SignalServer & { dhtRelayUrl: string }> {
  const s = await createSignalServer({ port: 0, dhtRelay: { bootstrap: net.bootstrap.map((n: any) => `${n.host}:${n.port}`), dhtHost: '127.0.0.1' } })
  closers.push(() => s.close())
  return s as SignalServer & { dhtRelayUrl: string }
}

function hyperswarm (): any {
  const hs = new Hyperswarm({ dht: new DHT({ bootstrap: net.bootstrap, host: '127.0.0.1' }) })
  closers.push(() => hs.destroy())
  return hs
}

/** A hyperswarm + hypercore@10 peer serving BLOCKS deterministic blocks. */
async function refSeeder (blocks = BLOCKS): Promise<{ hs: any, core: any }> {
  const core = new RefHypercore(RAM)
  closers.push(() => core.close())
  for (let i = 0; i < blocks; i += 64) await core.append(Array.from({ length: Math.min(64, blocks - i) }, (_, j) => b4a.from(blockBytes(i + j, BLOCK))))
  const hs = hyperswarm()
  hs.on('connection', (c: any) => { c.on('error', () => {}); core.replicate(c) })
  await hs.join(core.discoveryKey, { server: true, client: false }).flushed()
  return { hs, core }
}

async function openPage (browser: Browser, relay: string[], signalingUrl?: string): Promise<{ page: Page, self: string, errors: string[] }> {
  const ctx = await browser.newContext({ permissions: ['camera', 'microphone'] })
  closers.push(() => ctx.close())
  const page = await ctx.newPage()
  const errors: string[] = []
  page.on('pageerror', e => errors.push(e.message))
  await page.goto('/pages/dht.html')
  await page.waitForFunction(() => (globalThis as unknown as { testApi?: unknown }).testApi)
  closers.push(() => api(page, 'close'))
  const self = await api(page, 'start', { relay, signalingUrl })
  return { page, self, errors }
}

async function fullDownload (page: Page, treeHash: string): Promise<Record<string, any>> {
  const r = await api(page, 'downloadFinish', { blockSize: BLOCK })
  expect(r.length).toBe(BLOCKS)
  expect(r.contiguousLength).toBe(BLOCKS)
  expect(r.mismatches).toEqual([])
  expect(r.treeHash).toBe(treeHash)
  return r
}

test('a page joins the HyperDHT through the relay, downloads 20 MiB from hyperswarm + hypercore@10 and verifies it; the hyperswarm peer reads what the page writes', async ({ browser }) => {
  const server = await relay()
  const { hs, core } = await refSeeder()
  const { page, errors } = await openPage(browser, [server.dhtRelayUrl])
  await api(page, 'open', { key: b4a.toString(core.key, 'hex') })
  await api(page, 'downloadStart', { blocks: BLOCKS })
  const r = await fullDownload(page, b4a.toString(await core.treeHash(), 'hex'))
  console.log(`page ← hyperswarm through the relay: ${(BLOCKS * BLOCK / 1e6 / (r.ms / 1000)).toFixed(1)} MB/s`)

  // The page writes; the hyperswarm peer finds it on the DHT (the page announces through the relay) and reads.
  const { key } = await api(page, 'write', { blocks: 16, blockSize: 4096 })
  const copy = new RefHypercore(RAM, b4a.from(key, 'hex'))
  closers.push(() => copy.close())
  await copy.ready()
  hs.on('connection', (c: any) => copy.replicate(c))
  for (const c of hs.connections) copy.replicate(c)
  hs.join(copy.discoveryKey, { server: false, client: true })
  const got = []
  for (let i = 0; i < 16; i++) got.push(await copy.get(i, { timeout: 30_000 }))
  expect(mismatches(got, 4096)).toEqual([])
  const stats = await api(page, 'stats')
  expect(stats.open).toBe(1)
  expect(stats.connections.every((c: any) => c.signaling === 'dht-relay')).toBe(true)
  expect(errors).toEqual([])
})

test('a page and a Node peer meet both through our WebRTC signaling and over the DHT: one connection, and it replicates', async ({ browser }) => {
  const server = await relay()
  const node = new Swarm({
    signaling: [WebSocketSignaling({ url: server.url })],
    dht: { relay: server.dhtRelayUrl },
    createPeer: createTestPeer,
    iceServers: [],
    flushQuiet: 300,
    backoff: { initial: 200, max: 2000 }
  })
  closers.push(() => node.destroy())
  const writer = new Hypercore(new MemoryDirectory())
  closers.push(() => writer.close())
  await writer.append(Array.from({ length: 64 }, (_, i) => blockBytes(i, BLOCK)))
  node.on('connection', (s) => writer.replicate(s))
  node.join(writer.discoveryKey!)
  const { page } = await openPage(browser, [server.dhtRelayUrl], server.url)
  await api(page, 'open', { key: b4a.toString(writer.key!, 'hex'), server: true })
  await expect.poll(async () => (await api(page, 'stats')).open, { timeout: 30_000 }).toBe(1)
  // Long enough for every other way of meeting to have been tried and resolved.
  await page.waitForTimeout(4000)
  const stats = await api(page, 'stats')
  expect(stats.open).toBe(1)
  expect(node.connections.size).toBe(1)
  const kept = stats.connections.filter((c: any) => c.closedAt === null)
  expect(kept.length).toBe(1)
  expect(kept[0].remote).toBe(node.self)
  await api(page, 'downloadStart', { blocks: 64 })
  const r = await api(page, 'downloadFinish', { blockSize: BLOCK })
  expect(r.mismatches).toEqual([])
  expect(r.contiguousLength).toBe(64)
  console.log(`ways tried: ${stats.connections.map((c: any) => `${c.signaling}${c.closedAt === null ? ' (kept)' : ''}`).join(', ')}`)
})

test('the relay is killed mid-download: the page moves to the second relay and finishes', async ({ browser }) => {
  const first = await relay()
  const second = await relay()
  const { core } = await refSeeder()
  const { page } = await openPage(browser, [first.dhtRelayUrl, second.dhtRelayUrl])
  await api(page, 'open', { key: b4a.toString(core.key, 'hex') })
  await api(page, 'downloadStart', { blocks: BLOCKS })
  await expect.poll(() => api(page, 'downloaded'), { timeout: 60_000, intervals: [20] }).toBeGreaterThan(BLOCKS / 5)
  expect(await api(page, 'downloaded')).toBeLessThan(BLOCKS)
  await first.close()
  await fullDownload(page, b4a.toString(await core.treeHash(), 'hex'))
  const stats = await api(page, 'stats')
  expect(stats.warnings.some((w: string) => w.includes(first.dhtRelayUrl!))).toBe(true)
  expect(stats.connections.length).toBeGreaterThanOrEqual(2)
})

test('junk, text, floods and oversized messages to the relay endpoint close those clients; the page downloading through it finishes', async ({ browser }) => {
  const server = await relay()
  const { core } = await refSeeder()
  const { page } = await openPage(browser, [server.dhtRelayUrl])
  await api(page, 'open', { key: b4a.toString(core.key, 'hex') })
  await api(page, 'downloadStart', { blocks: BLOCKS })
  const abuse = async (payload: (ws: WebSocket) => void): Promise<number> => {
    const ws = new WebSocket(server.dhtRelayUrl)
    ws.on('error', () => {})
    await new Promise<void>((resolve) => ws.once('message', () => resolve())) // the challenge
    payload(ws)
    return await new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)))
  }
  const codes = await Promise.all([
    abuse(ws => ws.send(new Uint8Array([0xee, 1, 2, 3]))),
    abuse(ws => ws.send('hello')),
    abuse(ws => ws.send(new Uint8Array(200 * 1024))),
    abuse(ws => { for (let i = 0; i < 500; i++) ws.send(new Uint8Array([4, ...new Uint8Array(32)])) })
  ])
  expect(codes).toEqual([4000, 4000, 1009, 4001])
  await fullDownload(page, b4a.toString(await core.treeHash(), 'hex'))
  expect(server.stats().dhtRelay!.pages).toBe(1)
})
