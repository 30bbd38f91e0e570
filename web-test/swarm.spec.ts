/**
 * @module web-test/swarm.spec
 * The swarm in real Chromium, one Swarm and one core per page
 * (web-test/pages/swarm.page.ts), every block's bytes checked against web-test/peers/blocks.ts:
 * 1. two pages (separate contexts) through our signaling server: full download, tree hash;
 * 2. three pages: a reader downloads from two seeders at once (both serve blocks), one
 *    seeder's page closes mid-download, the other finishes it;
 * 3. two tabs of one context over BroadcastChannel only (no server);
 * 4. two pages through bittorrent-tracker's server (WebSocket, loopback) with TrackerSignaling;
 * 5. a page and the real hypercore@10 in Node over WebRTC (@roamhq/wrtc), both directions;
 * 6. while pages are connected through our server, a Node client sends junk, a huge message
 *    and a flood: each is closed with its code, and the pages keep replicating and meeting.
 */
import { test, expect, type Browser, type BrowserContext, type Page } from '@playwright/test'
import { createSignalServer, type SignalServer } from '../src/signaling/server/index.js'
import type { SignalData } from '../src/transport/types.js'
import { blockBytes } from './peers/blocks.js'
import { RAM, RefHypercore } from './peers/ref-peer.js'
import { refRtcPeer, type RefRtcPeer } from './peers/swarm-ref-rtc.js'
import { abuse } from './peers/swarm-abuser.js'
import type { SignalingSpec } from './pages/swarm.page.js'

type Api = Record<string, (arg?: unknown) => unknown>
const api = (page: Page, fn: string, arg?: unknown): Promise<any> =>
  page.evaluate(([f, a]) => ((globalThis as unknown as { testApi: Api }).testApi[f as string])(a), [fn, arg] as const)

const hexOf = (b: Uint8Array): string => Buffer.from(b).toString('hex')

// Each test that uses our signaling server starts its own, so its stats are the test's alone.
let server: SignalServer
test.beforeEach(async () => { server = await createSignalServer({ port: 0 }) })
test.afterEach(async () => { await server.close() })

interface Opened { page: Page, errors: string[] }

/** A page of `context` (a new one with media permissions when none is given: Chromium offers loopback host candidates only to pages with media permission). */
async function openPage (browser: Browser, context?: BrowserContext): Promise<Opened> {
  const ctx = context ?? await browser.newContext({ permissions: ['camera', 'microphone'] })
  const page = await ctx.newPage()
  const errors: string[] = []
  page.on('pageerror', e => errors.push(e.message))
  page.on('console', m => { if (m.type() === 'error' && !m.location().url.endsWith('/favicon.ico')) errors.push(m.text()) })
  await page.goto('/pages/swarm.html')
  await page.waitForFunction(() => (globalThis as unknown as { testApi?: unknown }).testApi)
  return { page, errors }
}

/** A page whose swarm uses `signaling` and holds a writer of `blocks` deterministic blocks. */
async function writerPage (browser: Browser, signaling: SignalingSpec[], blocks: number, blockSize: number, context?: BrowserContext, idleTimeout?: number): Promise<Opened & { self: string, key: string, discoveryKey: string, treeHash: string }> {
  const p = await openPage(browser, context)
  const self = await api(p.page, 'start', { signaling, idleTimeout })
  const { key, discoveryKey, treeHash } = await api(p.page, 'write', { blocks, blockSize })
  return { ...p, self, key, discoveryKey, treeHash }
}

async function readerPage (browser: Browser, signaling: SignalingSpec[], key: string, context?: BrowserContext, idleTimeout?: number): Promise<Opened & { self: string }> {
  const p = await openPage(browser, context)
  const self = await api(p.page, 'start', { signaling, idleTimeout })
  await api(p.page, 'open', { key })
  return { ...p, self }
}

/** The reader's full download: every block's bytes, and the writer's tree hash. */
async function expectFullCopy (reader: Page, blocks: number, blockSize: number, treeHash: string): Promise<any> {
  api(reader, 'downloadStart', { blocks }).catch(() => {})
  const r = await api(reader, 'downloadFinish', { blockSize })
  expect(r.length).toBe(blocks)
  expect(r.contiguousLength).toBe(blocks)
  expect(r.mismatches).toEqual([])
  expect(r.treeHash).toBe(treeHash)
  return r
}

async function closeAll (...pages: Opened[]): Promise<void> {
  for (const p of pages) {
    // A page the test closed itself still has its context to close.
    if (!p.page.isClosed()) await api(p.page, 'close').catch(() => {})
    await p.page.context().close()
  }
}

test('two pages replicate a core over WebRTC through the Swarm and our signaling server', async ({ browser }) => {
  const blocks = 256
  const blockSize = 4096
  const ws: SignalingSpec[] = [{ kind: 'ws', url: server.url }]
  const w = await writerPage(browser, ws, blocks, blockSize)
  const r = await readerPage(browser, ws, w.key)
  try {
    // findingPeers: update() waits for the swarm's first round instead of returning at length
    // 0. (Its boolean is racy here: the length may already have arrived with the first sync.)
    expect((await api(r.page, 'update')).length).toBe(blocks)
    expect(await api(r.page, 'waitPeers', 1)).toEqual([w.self])
    const got = await expectFullCopy(r.page, blocks, blockSize, w.treeHash)
    expect(got.downloadedFrom).toEqual({ [w.self]: blocks })
    const ws1 = await api(w.page, 'stats')
    expect(ws1.connections).toBe(1)
    expect(ws1.signaledBy).toEqual(['ws-server'])
    expect(ws1.uploadedTo).toEqual({ [r.self]: blocks })
    expect(server.stats().peers).toBe(2)
    expect([...w.errors, ...r.errors]).toEqual([])
  } finally {
    await closeAll(w, r)
  }
})

test('three pages: a reader downloads from two seeders at once; one seeder closes mid-download and the other finishes it', async ({ browser }) => {
  const blocks = 512 // 8 MiB
  const blockSize = 16 * 1024
  const ws: SignalingSpec[] = [{ kind: 'ws', url: server.url }]
  // A closed page sends nothing: the reader learns of it when its idle timeout expires (with
  // the default 20 s, the loss was seen after 16-18 s). 2 s (keep-alives every 500 ms) keeps
  // this short; every page must use it, or a quiet live seeder's keep-alives come too late.
  const idle = 2000
  const a = await writerPage(browser, ws, blocks, blockSize, undefined, idle)
  // The second seeder is a reader that first copies everything from the writer.
  const b = await readerPage(browser, ws, a.key, undefined, idle)
  const r0 = await expectFullCopy(b.page, blocks, blockSize, a.treeHash)
  expect(r0.downloadedFrom).toEqual({ [a.self]: blocks })
  const c = await readerPage(browser, ws, a.key, undefined, idle)
  try {
    expect((await api(c.page, 'waitPeers', 2))).toEqual([a.self, b.self].sort())
    // Seeder a dies in the middle of serving (its JavaScript stops at its 48th upload; then
    // the page closes): the requests it had accepted are never answered.
    await api(a.page, 'hangAfterUploads', 48)
    const t0 = Date.now()
    api(c.page, 'downloadStart', { blocks }).catch(() => {})
    const early = await api(c.page, 'waitDownloaded', blocks / 8)
    const closing = a.page.close()
    const r = await api(c.page, 'downloadFinish', { blockSize })
    const finished = Date.now()
    await closing
    // The download does not wait for the dead seeder to be noticed: what it had been asked is
    // hedged to the live one after the silence, well before the idle timeout ends that link.
    const lost = await api(c.page, 'waitRemoved', a.self)
    console.log(`two seeders → one: ${blocks * blockSize / 2 ** 20} MiB in ${finished - t0} ms (the hung seeder dropped after ${lost.at - t0} ms); served ${JSON.stringify(early)} at 1/8, ${JSON.stringify(r.downloadedFrom)} in all`)
    expect(r.length).toBe(blocks)
    expect(r.contiguousLength).toBe(blocks)
    expect(r.mismatches).toEqual([])
    expect(r.treeHash).toBe(a.treeHash)
    // Each block counted once, both seeders served, b served everything a did not (and each
    // block once: a hedge that won ends the hung seeder's request, so nothing is hedged twice).
    expect(r.downloaded).toBe(blocks)
    expect(r.downloadedFrom[a.self]).toBeGreaterThan(0)
    expect(r.downloadedFrom[b.self]).toBeGreaterThan(0)
    expect(r.downloadedFrom[a.self] + r.downloadedFrom[b.self]).toBe(blocks)
    // What a served before it hung (its last answers may have been stuck in its buffers).
    expect(r.downloadedFrom[a.self]).toBeLessThanOrEqual(48)
    expect((await api(b.page, 'stats')).uploadedTo[c.self]).toBe(r.downloadedFrom[b.self])
    // How the reader learnt of it: the secret stream's idle timeout, on that one connection.
    expect((await api(c.page, 'stats')).streamErrors.map((e: { code: string }) => e.code)).toEqual(['REQUEST_TIMEOUT'])
    expect([...a.errors, ...b.errors, ...c.errors]).toEqual([])
  } finally {
    await closeAll(a, b, c)
  }
})

test('two tabs of one context find each other over BroadcastChannel only and replicate', async ({ browser }) => {
  const blocks = 128
  const blockSize = 2048
  const context = await browser.newContext({ permissions: ['camera', 'microphone'] })
  const bc: SignalingSpec[] = [{ kind: 'bc', channelName: 'swarm-spec-' + Math.random().toString(16).slice(2) }]
  const w = await writerPage(browser, bc, blocks, blockSize, context)
  const r = await readerPage(browser, bc, w.key, context)
  try {
    expect((await api(r.page, 'update')).length).toBe(blocks)
    expect(await api(r.page, 'waitPeers', 1)).toEqual([w.self])
    await expectFullCopy(r.page, blocks, blockSize, w.treeHash)
    const live = api(r.page, 'waitBlock', { index: blocks })
    expect(await api(w.page, 'append', { text: 'live over a tab' })).toBe(blocks + 1)
    expect(await live).toBe('live over a tab')
    for (const p of [w, r]) expect((await api(p.page, 'stats')).signaledBy).toEqual(['broadcast-channel'])
    expect([...w.errors, ...r.errors]).toEqual([])
  } finally {
    await closeAll(w, r)
  }
})

test('two pages meet through a bittorrent-tracker server (WebSocket) with TrackerSignaling and replicate', async ({ browser }) => {
  const pkg = 'bittorrent-tracker' // untyped ESM package: a variable keeps tsc off it
  const { Server } = await import(pkg) as any
  const tracker = new Server({ udp: false, http: false, ws: true, stats: false })
  tracker.on('warning', () => {})
  await new Promise<void>(resolve => tracker.listen(0, '127.0.0.1', resolve))
  const url = `ws://127.0.0.1:${tracker.ws.address().port as number}`
  const blocks = 128
  const blockSize = 8192
  const tr: SignalingSpec[] = [{ kind: 'tracker', announce: [url] }]
  const w = await writerPage(browser, tr, blocks, blockSize)
  const r = await readerPage(browser, tr, w.key)
  try {
    expect(await api(r.page, 'waitPeers', 1)).toEqual([w.self])
    await expectFullCopy(r.page, blocks, blockSize, w.treeHash)
    const live = api(r.page, 'waitBlock', { index: blocks })
    await api(w.page, 'append', { text: 'live via tracker' })
    expect(await live).toBe('live via tracker')
    // The tracker saw the topic: the first 20 bytes of the discovery key are its info hash.
    expect(Object.keys(tracker.torrents)).toEqual([w.discoveryKey.slice(0, 40)])
    for (const p of [w, r]) expect((await api(p.page, 'stats')).signaledBy).toEqual(['tracker'])
    expect([...w.errors, ...r.errors]).toEqual([])
  } finally {
    await closeAll(w, r)
    await new Promise<void>(resolve => tracker.close(() => resolve()))
  }
})

test('a page and hypercore@10 in Node over WebRTC (@roamhq/wrtc): Node writes → page reads (live too), page writes → Node reads', async ({ browser }) => {
  const blocks = 96
  const blockSize = 16 * 1024 + 5
  const p = await openPage(browser)
  let node: RefRtcPeer | null = null
  // The page's signals go to whichever Node peer is current.
  await p.page.exposeFunction('sendSignal', (d: SignalData) => { node?.signal(d) })
  const toPage = (d: SignalData): void => { void api(p.page, 'rtcSignal', d).catch(() => {}) }
  const writer = new RefHypercore(RAM)
  let reader: any = null
  try {
    await writer.ready()
    await writer.append(Array.from({ length: blocks }, (_, i) => Buffer.from(blockBytes(i, blockSize))))
    // Node offers and is the Noise initiator; the page answers.
    await api(p.page, 'rtcStart', { initiator: false, role: 'reader', key: hexOf(writer.key) })
    node = refRtcPeer(writer, true, toPage)
    const r = await api(p.page, 'rtcRead', { blocks, blockSize, sparse: 61 })
    expect(r).toMatchObject({ updated: true, length: blocks, sparseOk: true, hasNeighbour: false, mismatches: [] })
    expect(r.treeHash).toBe(hexOf(await writer.treeHash()))
    const live = api(p.page, 'waitBlock', { index: blocks })
    await writer.append(Buffer.from('live from hypercore@10'))
    expect(await live).toBe('live from hypercore@10')
    expect(node.errors).toEqual([])
    node.destroy()
    await api(p.page, 'close')

    // The other way: the page offers and writes; Node reads.
    const w = await api(p.page, 'rtcStart', { initiator: true, role: 'writer', blocks, blockSize })
    reader = new RefHypercore(RAM, Buffer.from(w.key, 'hex'))
    await reader.ready()
    node = refRtcPeer(reader, false, toPage)
    expect(await reader.update({ wait: true })).toBe(true)
    expect(reader.length).toBe(blocks)
    await reader.download({ start: 0, end: blocks }).done()
    const bad: number[] = []
    for (let i = 0; i < blocks; i++) {
      if (hexOf(await reader.get(i, { wait: false })) !== hexOf(blockBytes(i, blockSize))) bad.push(i)
    }
    expect(bad).toEqual([])
    expect(hexOf(await reader.treeHash())).toBe(w.treeHash)
    const appended = new Promise<void>(resolve => reader.once('append', () => resolve()))
    expect(await api(p.page, 'append', { text: 'live from chromium' })).toBe(blocks + 1)
    await appended
    expect(Buffer.from(await reader.get(blocks)).toString()).toBe('live from chromium')
    expect(node.errors).toEqual([])
    expect(p.errors).toEqual([])
  } finally {
    node?.destroy()
    await closeAll(p)
    await writer.close()
    await reader?.close()
  }
})

test('bad clients of the signaling server are closed with their code while the pages keep replicating and meeting', async ({ browser }) => {
  const blocks = 64
  const blockSize = 4096
  const ws: SignalingSpec[] = [{ kind: 'ws', url: server.url }]
  const w = await writerPage(browser, ws, blocks, blockSize)
  const r = await readerPage(browser, ws, w.key)
  let late: (Opened & { self: string }) | null = null
  try {
    expect(await api(r.page, 'waitPeers', 1)).toEqual([w.self])
    await expectFullCopy(r.page, blocks, blockSize, w.treeHash)
    expect(server.stats()).toMatchObject({ connections: 2, peers: 2, rooms: 1, memberships: 2 })

    const results = await Promise.all((['not-json', 'junk-json', 'huge', 'flood'] as const).map(k => abuse(server.url, k)))
    expect(results.map(x => x.code)).toEqual([4000, 4000, 1009, 4029])
    // The flood went past the server's burst of 100 messages (so 4029 is the rate limit's answer).
    expect(results[3]!.sent).toBeGreaterThan(100)
    // Every bad client is gone; the pages' memberships are all that is left. (The server
    // notices a socket's close a moment after the client does: no event to await from here.)
    await expect.poll(() => server.stats()).toMatchObject({ connections: 2, peers: 2, rooms: 1, memberships: 2 })

    // The existing connection still replicates new appends...
    const live = api(r.page, 'waitBlock', { index: blocks })
    await api(w.page, 'append', { text: 'after the abuse' })
    expect(await live).toBe('after the abuse')
    // ...and the server still introduces newcomers: a third page finds both and downloads.
    late = await readerPage(browser, ws, w.key)
    expect(await api(late.page, 'waitPeers', 2)).toEqual([w.self, r.self].sort())
    api(late.page, 'downloadStart', { blocks: blocks + 1 }).catch(() => {})
    const got = await api(late.page, 'downloadFinish', { blockSize })
    expect(got.length).toBe(blocks + 1)
    expect(got.mismatches).toEqual([blocks]) // the last block is the text, not a test block
    expect(await api(late.page, 'waitBlock', { index: blocks })).toBe('after the abuse')
    expect(server.stats()).toMatchObject({ connections: 3, peers: 3, memberships: 3 })
    expect([...w.errors, ...r.errors, ...late.errors]).toEqual([])
  } finally {
    await closeAll(w, r, ...(late === null ? [] : [late]))
  }
})
