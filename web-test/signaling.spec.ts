import { test, expect, type Page } from '@playwright/test'
import { createSignalServer, type SignalServer } from '../src/signaling/server/index.js'
import { signalingConformance } from '../test/signaling/conformance.js'
import { randomHex, sortedIds } from '../test/signaling/fakes.js'

// Signaling in real Chromium: the conformance suite inside one page for each client
// (BroadcastChannel; WebSocketSignaling against our server started here in Node), and two
// pages of one browser context meeting each other over BroadcastChannel and over the
// server, with the smaller id offering and signals arriving intact both ways. Fake WebRTC
// peers: real connections are web-test/webrtc.spec.ts's job.

let server: SignalServer
test.beforeAll(async () => { server = await createSignalServer({ port: 0 }) })
test.afterAll(async () => { await server.close() })

const caseCount = signalingConformance({ create: () => { throw new Error('unused') } }).length

async function open (page: Page): Promise<void> {
  await page.goto('/pages/signaling.html')
  await page.waitForFunction(() => (globalThis as any).testApi)
}

for (const kind of ['broadcast-channel', 'ws'] as const) {
  test(`conformance suite passes in Chromium: ${kind}`, async ({ page }) => {
    await open(page)
    const opts = kind === 'ws' ? { url: server.url } : { channelName: 'conf-' + randomHex().slice(0, 8) }
    const r = await page.evaluate(([kind, opts]) => (globalThis as any).testApi.conformance(kind, opts), [kind, opts] as const)
    expect(r.failed, JSON.stringify(r.failed, null, 2)).toEqual([])
    expect(r.passed.length).toBe(caseCount)
  })

  test(`two pages of one context meet over ${kind} and exchange signals both ways`, async ({ context }) => {
    const [lo, hi] = sortedIds(2)
    const topic = randomHex()
    const opts = kind === 'ws' ? { url: server.url } : { channelName: 'pair-' + randomHex().slice(0, 8) }
    const a = await context.newPage()
    const b = await context.newPage()
    await open(a)
    await open(b)
    // The larger id starts and joins first: the meeting must not depend on who was first.
    for (const [page, id] of [[b, hi], [a, lo]] as const) {
      await page.evaluate(([kind, id, opts]) => (globalThis as any).testApi.start(kind, id, opts), [kind, id, opts] as const)
      await page.evaluate((t) => (globalThis as any).testApi.join(t), topic)
    }
    const ca = await a.evaluate(() => (globalThis as any).testApi.waitConnects(1))
    expect(ca).toEqual([{ peerId: hi, topic, initiator: true }])
    const offer = { type: 'offer', sdp: 'v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\na=ice-ufrag:ü✓\r\n' + 'x'.repeat(3000) }
    await a.evaluate((d) => (globalThis as any).testApi.emit(0, d), offer)
    const cb = await b.evaluate(() => (globalThis as any).testApi.waitConnects(1))
    expect(cb).toEqual([{ peerId: lo, topic, initiator: false }])
    expect(await b.evaluate(() => (globalThis as any).testApi.waitReceived(0, 1))).toEqual([offer])
    const answer = { type: 'answer', sdp: 'v=0\r\n' }
    const cand = { type: 'candidate', candidate: { candidate: 'candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host', sdpMid: '0', sdpMLineIndex: 0 } }
    await b.evaluate(([x, y]) => { (globalThis as any).testApi.emit(0, x); (globalThis as any).testApi.emit(0, y) }, [answer, cand] as const)
    expect(await a.evaluate(() => (globalThis as any).testApi.waitReceived(0, 2))).toEqual([answer, cand])
    // Still exactly one meeting on each side after the round trip.
    expect(await a.evaluate(() => (globalThis as any).testApi.waitConnects(1))).toHaveLength(1)
    expect(await b.evaluate(() => (globalThis as any).testApi.waitConnects(1))).toHaveLength(1)
    for (const p of [a, b]) {
      expect(await p.evaluate(() => (globalThis as any).testApi.errors())).toEqual([])
      await p.evaluate(() => (globalThis as any).testApi.close())
    }
  })
}
