import { test, expect, type Page } from '@playwright/test'
import { cryptoReady } from '../src/crypto/index.js'
import { createSignalServer, type SignalServer } from '../src/signaling/server/index.js'
import { signalingConformance } from '../test/signaling/conformance.js'
import { keyOf, randomHex, sortedIds } from '../test/signaling/fakes.js'

// Signaling in real Chromium: the conformance suite inside one page for each client
// (BroadcastChannel; WebSocketSignaling against our server started here in Node), and two
// pages of one browser context meeting each other over BroadcastChannel and over the
// server, with the smaller id offering and signals arriving intact both ways. Then the
// attacks peer ids and signed signals stop, with a hostile script in one page: taking over
// another page's id on our server, signals forged or replayed through our server, and
// forged or replayed on a BroadcastChannel. Fake WebRTC peers: real connections are
// web-test/webrtc.spec.ts's job.

let server: SignalServer
test.beforeAll(async () => {
  await cryptoReady()
  server = await createSignalServer({ port: 0 })
})
test.afterAll(async () => { await server.close() })

const caseCount = signalingConformance({ create: () => { throw new Error('unused') } }).length

async function open (page: Page): Promise<void> {
  await page.goto('/pages/signaling.html')
  await page.waitForFunction(() => (globalThis as any).testApi)
}

/** The secret key (hex) behind an id of fakes.ts, to hand to a page. */
const sk = (id: string): string => Buffer.from(keyOf(id).secretKey).toString('hex')

const offer = { type: 'offer', sdp: 'v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\na=ice-ufrag:ü✓\r\n' + 'x'.repeat(3000) }

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
      expect(await page.evaluate(([kind, key, opts]) => (globalThis as any).testApi.start(kind, key, opts), [kind, sk(id), opts] as const)).toBe(id)
      await page.evaluate((t) => (globalThis as any).testApi.join(t), topic)
    }
    const ca = await a.evaluate(() => (globalThis as any).testApi.waitConnects(1))
    expect(ca).toEqual([{ peerId: hi, topic, initiator: true }])
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

test('a page cannot take another page\'s peer id on our server: refused (4006 / 4000), the victim keeps its connection and its offers', async ({ context }) => {
  const [lo, hi] = sortedIds(2) // hi: the victim (page a); lo: the honest peer that offers to it (page b)
  const topic = randomHex()
  const opts = { url: server.url }
  const a = await context.newPage()
  const b = await context.newPage()
  await open(a)
  await open(b)
  await a.evaluate(([key, opts]) => (globalThis as any).testApi.start('ws', key, opts), [sk(hi), opts] as const)
  await a.evaluate((t) => (globalThis as any).testApi.joinFlushed(t), topic)
  // A hostile script in page b says hello with the victim's id: signed with its own key, then unsigned.
  const attacker = await b.evaluate(() => (globalThis as any).testApi.newKey())
  for (const [signer, closed] of [[attacker.secretKey, { code: 4006, reason: 'peer id not proven' }], [null, { code: 4000, reason: 'malformed message' }]] as const) {
    const nonce = await b.evaluate((url) => (globalThis as any).testApi.rawOpen(url), server.url)
    expect(nonce).toMatch(/^[0-9a-f]{64}$/)
    await b.evaluate(([url, nonce, id, signer]) => (globalThis as any).testApi.rawHello(url, nonce, id, signer), [server.url, nonce, hi, signer] as const)
    expect(await b.evaluate(() => (globalThis as any).testApi.rawClosed())).toEqual(closed)
    expect(await b.evaluate(() => (globalThis as any).testApi.rawTypes())).toEqual(['challenge'])
  }
  await expect.poll(() => server.stats()).toMatchObject({ connections: 1, peers: 1, rooms: 1, memberships: 1 })
  // Page b's honest client (the smaller id) offers to the victim: the offer reaches page a.
  await b.evaluate(([key, opts]) => (globalThis as any).testApi.start('ws', key, opts), [sk(lo), opts] as const)
  await b.evaluate((t) => (globalThis as any).testApi.join(t), topic)
  expect(await b.evaluate(() => (globalThis as any).testApi.waitConnects(1))).toEqual([{ peerId: hi, topic, initiator: true }])
  await b.evaluate((d) => (globalThis as any).testApi.emit(0, d), offer)
  expect(await a.evaluate(() => (globalThis as any).testApi.waitConnects(1))).toEqual([{ peerId: lo, topic, initiator: false }])
  expect(await a.evaluate(() => (globalThis as any).testApi.waitReceived(0, 1))).toEqual([offer])
  expect(await a.evaluate(() => (globalThis as any).testApi.connectedHistory())).toEqual([true])
  expect(await a.evaluate(() => (globalThis as any).testApi.errors())).toEqual([])
  for (const p of [a, b]) await p.evaluate(() => (globalThis as any).testApi.close())
})

test('signals forged or replayed through our server by another page are dropped and reported; the genuine ones arrive', async ({ context }) => {
  const [lo, hi, other] = sortedIds(3) // hi: the victim (page a); lo: the sender in page b, a raw socket with its own key
  const topic = randomHex()
  const a = await context.newPage()
  const b = await context.newPage()
  await open(a)
  await open(b)
  await a.evaluate(([key, url]) => (globalThis as any).testApi.start('ws', key, { url }), [sk(hi), server.url] as const)
  await a.evaluate((t) => (globalThis as any).testApi.joinFlushed(t), topic)
  const nonce = await b.evaluate((url) => (globalThis as any).testApi.rawOpen(url), server.url)
  await b.evaluate(([url, nonce, id, key]) => (globalThis as any).testApi.rawHello(url, nonce, id, key), [server.url, nonce, lo, sk(lo)] as const)
  expect((await b.evaluate(() => (globalThis as any).testApi.rawNext('welcome'))).peerId).toBe(lo)
  await b.evaluate((t) => (globalThis as any).testApi.rawSend({ type: 'join', topic: t }), topic)
  expect((await b.evaluate(() => (globalThis as any).testApi.rawNext('peers'))).peers).toEqual([hi])
  const mallory = await b.evaluate(() => (globalThis as any).testApi.newKey())
  const data = JSON.stringify(offer)
  const cand = JSON.stringify({ type: 'candidate', candidate: { candidate: 'c', sdpMid: '0', sdpMLineIndex: 0 } })
  /** A signal from page b to the victim whose signature covers (from, to, topic, seq, signedData) by `key`. */
  const signal = (o: { seq: number, key: string, data?: string, signedData?: string, signedTo?: string }): Promise<unknown> =>
    b.evaluate(async ([o, lo, hi, topic, data]) => {
      const api = (globalThis as any).testApi
      const signature = api.signSignal(lo, o.signedTo ?? hi, topic, o.seq, o.signedData ?? o.data ?? data, o.key)
      api.rawSend({ type: 'signal', to: hi, topic, data: o.data ?? data, seq: o.seq, signature })
    }, [o, lo, hi, topic, data] as const)
  await signal({ seq: 1, key: mallory.secretKey }) // in lo's name, by another key
  await signal({ seq: 2, key: sk(lo), data: data.replace('127.0.0.1', '10.6.6.6'), signedData: data }) // altered after signing
  await signal({ seq: 3, key: sk(lo), signedTo: other }) // signed for another peer
  await signal({ seq: 10, key: sk(lo) }) // genuine
  await signal({ seq: 10, key: sk(lo) }) // the same again
  await signal({ seq: 5, key: sk(lo) }) // an older counter
  await signal({ seq: 11, key: sk(lo), data: cand }) // genuine
  expect(await a.evaluate(() => (globalThis as any).testApi.waitErrors(5))).toEqual(['INVALID_SIGNATURE', 'INVALID_SIGNATURE', 'INVALID_SIGNATURE', 'SIGNAL_REPLAYED', 'SIGNAL_REPLAYED'])
  expect(await a.evaluate(() => (globalThis as any).testApi.waitReceived(0, 2))).toEqual([offer, JSON.parse(cand)])
  expect(await a.evaluate(() => (globalThis as any).testApi.responders())).toEqual([{ peerId: lo, topic, received: [offer, JSON.parse(cand)] }])
  expect(await a.evaluate(() => (globalThis as any).testApi.errorCodes())).toHaveLength(5)
  expect(await a.evaluate(() => (globalThis as any).testApi.connectedHistory())).toEqual([true])
  await b.evaluate(() => (globalThis as any).testApi.rawClose())
  await a.evaluate(() => (globalThis as any).testApi.close())
})

test('a signal forged or replayed on the BroadcastChannel by another page is dropped and reported; the real peer is met', async ({ context }) => {
  const [lo, hi] = sortedIds(2) // lo (page c) offers to hi (page a); page b is a hostile script of the same origin
  const topic = randomHex()
  const channelName = 'forged-' + randomHex().slice(0, 8)
  const [a, b, c] = [await context.newPage(), await context.newPage(), await context.newPage()]
  for (const p of [a, b, c]) await open(p)
  await b.evaluate((name) => (globalThis as any).testApi.listen(name), channelName)
  await a.evaluate(([key, channelName]) => (globalThis as any).testApi.start('broadcast-channel', key, { channelName }), [sk(hi), channelName] as const)
  await a.evaluate((t) => (globalThis as any).testApi.join(t), topic)
  // In lo's name, signed by page b's own key, before lo even exists.
  await b.evaluate(([name, lo, hi, topic, data]) => {
    const api = (globalThis as any).testApi
    const mallory = api.newKey()
    api.post(name, { type: 'signal', from: lo, to: hi, topic, data, seq: 1, signature: api.signSignal(lo, hi, topic, 1, data, mallory.secretKey) })
  }, [channelName, lo, hi, topic, JSON.stringify(offer)] as const)
  expect(await a.evaluate(() => (globalThis as any).testApi.waitErrors(1))).toEqual(['INVALID_SIGNATURE'])
  expect(await a.evaluate(() => (globalThis as any).testApi.responders())).toEqual([])
  // The real lo offers; page b hears that signal on the channel and posts it again, then altered.
  await c.evaluate(([key, channelName]) => (globalThis as any).testApi.start('broadcast-channel', key, { channelName }), [sk(lo), channelName] as const)
  await c.evaluate((t) => (globalThis as any).testApi.join(t), topic)
  expect(await c.evaluate(() => (globalThis as any).testApi.waitConnects(1))).toEqual([{ peerId: hi, topic, initiator: true }])
  await c.evaluate((d) => (globalThis as any).testApi.emit(0, d), offer)
  expect(await a.evaluate(() => (globalThis as any).testApi.waitReceived(0, 1))).toEqual([offer])
  const real = await b.evaluate(([name, lo]) => (globalThis as any).testApi.waitHeard(name, { type: 'signal', from: lo }), [channelName, lo] as const)
  expect(real.data).toBe(JSON.stringify(offer))
  await b.evaluate(([name, real]) => {
    const api = (globalThis as any).testApi
    api.post(name, real)
    api.post(name, { ...real, data: real.data.replace('127.0.0.1', '10.6.6.6') })
  }, [channelName, real] as const)
  expect(await a.evaluate(() => (globalThis as any).testApi.waitErrors(3))).toEqual(['INVALID_SIGNATURE', 'SIGNAL_REPLAYED', 'INVALID_SIGNATURE'])
  // lo's next signal still arrives; the victim answered only lo's real offer.
  const cand = { type: 'candidate', candidate: { candidate: 'c' } }
  await c.evaluate((d) => (globalThis as any).testApi.emit(0, d), cand)
  expect(await a.evaluate(() => (globalThis as any).testApi.waitReceived(0, 2))).toEqual([offer, cand])
  expect(await a.evaluate(() => (globalThis as any).testApi.responders())).toEqual([{ peerId: lo, topic, received: [offer, cand] }])
  expect(await c.evaluate(() => (globalThis as any).testApi.errors())).toEqual([])
  for (const p of [a, c]) await p.evaluate(() => (globalThis as any).testApi.close())
})
