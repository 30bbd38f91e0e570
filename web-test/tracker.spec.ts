/**
 * @module web-test/tracker.spec
 * Two Chromium pages find each other through a WebTorrent tracker (bittorrent-tracker's
 * server, WebSocket only, started here on loopback) with `TrackerSignaling`, connect over
 * WebRTC and move bytes both ways; closing one client makes the tracker drop it.
 */
import { test, expect, type Browser, type Page } from '@playwright/test'

const TOPIC = '5a'.repeat(32)
const ID_A = 'a1'.repeat(32)
const ID_B = 'b2'.repeat(32)
const BYTES = 512 * 1024

interface Api {
  join (url: string, self: string, topic: string, numOffers: number): void
  waitConnected (): Promise<{ req: { peerId: string | null, topic: string, initiator: boolean, trickle?: boolean } }>
  exchange (n: number, seed: number): Promise<{ sentHash: string, receivedHash: string }>
  close (): Promise<void>
  errors (): string[]
}

async function openPage (browser: Browser): Promise<{ page: Page, pageErrors: string[] }> {
  // Chromium offers host candidates only to pages with media permission.
  const context = await browser.newContext({ permissions: ['camera', 'microphone'] })
  const page = await context.newPage()
  const pageErrors: string[] = []
  page.on('pageerror', e => pageErrors.push(e.message))
  await page.goto('/pages/tracker.html')
  await page.waitForFunction(() => (globalThis as unknown as { testApi?: unknown }).testApi)
  return { page, pageErrors }
}

test('two pages meet through a tracker and exchange data over WebRTC', async ({ browser }) => {
  // Untyped ESM package: a specifier in a variable keeps tsc from looking for declarations.
  const pkg = 'bittorrent-tracker'
  const { Server } = await import(pkg) as any
  const server = new Server({ udp: false, http: false, ws: true, stats: false })
  server.on('warning', () => {})
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const url = `ws://127.0.0.1:${server.ws.address().port as number}`
  const next = (event: string, peerHex: string): Promise<any> => new Promise(resolve => {
    const on = (addr: string, params: any): void => {
      if (addr !== peerHex) return
      server.off(event, on)
      resolve(params)
    }
    server.on(event, on)
  })
  const a = await openPage(browser)
  const b = await openPage(browser)
  try {
    const inA = next('start', ID_A.slice(0, 40))
    await a.page.evaluate(([u, s, t]) => (globalThis as unknown as { testApi: Api }).testApi.join(u!, s!, t!, 1), [url, ID_A, TOPIC])
    expect((await inA).info_hash).toBe(TOPIC.slice(0, 40))
    // A waits in the swarm; B's offer is handed to A, which answers: B initiates.
    await b.page.evaluate(([u, s, t]) => (globalThis as unknown as { testApi: Api }).testApi.join(u!, s!, t!, 1), [url, ID_B, TOPIC])
    const [ca, cb] = await Promise.all([a, b].map(p => p.page.evaluate(() => (globalThis as unknown as { testApi: Api }).testApi.waitConnected())))
    expect(ca!.req).toEqual({ peerId: ID_B, topic: TOPIC, initiator: false, trickle: false })
    expect(cb!.req).toEqual({ peerId: null, topic: TOPIC, initiator: true, trickle: false })

    const t0 = Date.now()
    const [xa, xb] = await Promise.all([a, b].map((p, i) => p.page.evaluate(([n, seed]) => (globalThis as unknown as { testApi: Api }).testApi.exchange(n!, seed!), [BYTES, i + 1])))
    console.log(`tracker pages: ${BYTES} bytes each way in ${Date.now() - t0} ms`)
    expect(xa!.receivedHash).toBe(xb!.sentHash)
    expect(xb!.receivedHash).toBe(xa!.sentHash)
    expect(xa!.sentHash).not.toBe(xb!.sentHash)

    const stopped = next('stop', ID_B.slice(0, 40))
    await b.page.evaluate(() => (globalThis as unknown as { testApi: Api }).testApi.close())
    expect((await stopped).event).toBe('stopped')
    expect(server.torrents[TOPIC.slice(0, 40)].peers.length).toBe(1)

    for (const p of [a, b]) {
      expect(p.pageErrors).toEqual([])
      expect(await p.page.evaluate(() => (globalThis as unknown as { testApi: Api }).testApi.errors())).toEqual([])
    }
  } finally {
    await a.page.evaluate(() => (globalThis as unknown as { testApi: Api }).testApi.close()).catch(() => {})
    await Promise.all([a.page.context().close(), b.page.context().close()])
    await new Promise<void>(resolve => server.close(() => resolve()))
  }
})
