/**
 * @module web-test/webrtc.spec
 * The WebRTC transport in real Chromium: two pages (each in its own context, given media
 * permissions so Chromium offers loopback host candidates) exchange signals
 * through this test process and replicate a core over `createWebRtcPeer`'s stream; the
 * reader checks every block. Then Node (`@roamhq/wrtc`) ↔ Chromium: bytes both ways and a
 * core written in Node, read in the page.
 */
import { test, expect, type Browser, type Page } from '@playwright/test'
import { createRequire } from 'node:module'
import { createWebRtcPeer } from '../src/transport/webrtc.js'
import type { SignalData } from '../src/transport/types.js'
import { Hypercore } from '../src/core/hypercore.js'
import { MemoryStorage } from '../src/storage/memory.js'

const require = createRequire(import.meta.url)

type Api = Record<string, (...args: any[]) => any>
const api = (page: Page, fn: string, arg?: unknown): Promise<any> =>
  page.evaluate(([f, a]) => ((globalThis as unknown as { testApi: Api }).testApi[f as string])(a), [fn, arg] as const)

/** Same blocks as webrtc.page.ts writes and checks. */
function blockBytes (i: number, size: number): Uint8Array {
  const b = new Uint8Array(size)
  for (let j = 0; j < size; j++) b[j] = (i * 131 + j * 7) & 0xff
  new DataView(b.buffer).setUint32(0, i)
  return b
}

async function openPage (browser: Browser, errors: string[]): Promise<Page> {
  const context = await browser.newContext({ permissions: ['camera', 'microphone'] })
  const page = await context.newPage()
  page.on('pageerror', e => errors.push(e.message))
  await page.goto('/pages/webrtc.html')
  await page.waitForFunction(() => (globalThis as unknown as { testApi?: unknown }).testApi)
  return page
}

/** Two pages whose peers signal each other through this process. */
async function pagePair (browser: Browser, trickle: boolean, errors: string[]): Promise<[Page, Page]> {
  const a = await openPage(browser, errors)
  const b = await openPage(browser, errors)
  await a.exposeFunction('sendSignal', (d: SignalData) => api(b, 'signal', d))
  await b.exposeFunction('sendSignal', (d: SignalData) => api(a, 'signal', d))
  await api(b, 'start', { initiator: false, trickle })
  await api(a, 'start', { initiator: true, trickle })
  return [a, b]
}

for (const trickle of [true, false]) {
  test(`two Chromium pages replicate a core over WebRTC (trickle: ${trickle})`, async ({ browser }) => {
    const errors: string[] = []
    const [a, b] = await pagePair(browser, trickle, errors)
    const blocks = trickle ? 256 : 32
    const blockSize = 16 * 1024 + 3 // not a multiple of the message size
    const key = await api(a, 'write', { blocks, blockSize })
    const res = await api(b, 'read', { key, blocks, blockSize })
    expect(res).toMatchObject({ length: blocks, verified: blocks })
    if (!trickle) {
      expect(await api(a, 'signalsSent')).toBe(1)
      expect(await api(b, 'signalsSent')).toBe(1)
    }
    console.log(`Chromium ↔ Chromium (trickle ${trickle}): ${(blocks * blockSize / 1e6).toFixed(1)} MB in ${res.ms.toFixed(0)} ms`)
    await api(a, 'close')
    await api(b, 'close')
    expect(errors).toEqual([])
    await a.context().close()
    await b.context().close()
  })
}

test('Chromium pages: half close then a clean close on both sides; destroy mid-transfer → CONNECTION_CLOSED on the other', async ({ browser }) => {
  const errors: string[] = []
  let [a, b] = await pagePair(browser, true, errors)
  // Both end at once: each still reads the other's last bytes (the FIN is an empty message).
  const [ra, rb] = await Promise.all([api(a, 'halfClose', 'last words of a'), api(b, 'halfClose', 'last words of b')])
  expect(ra).toEqual({ received: 'last words of b', error: null })
  expect(rb).toEqual({ received: 'last words of a', error: null })
  for (const p of [a, b]) await p.context().close()

  ;[a, b] = await pagePair(browser, true, errors)
  const failed = api(a, 'floodUntilError')
  await api(b, 'receive', 1 << 20)
  const t0 = Date.now()
  await api(b, 'destroy')
  expect(await failed).toBe('CONNECTION_CLOSED')
  expect(Date.now() - t0).toBeLessThan(5000)
  expect(errors).toEqual([])
  for (const p of [a, b]) await p.context().close()
})

test('Node (@roamhq/wrtc) ↔ Chromium: bytes both ways, then a core written in Node read in the page', async ({ browser }) => {
  const wrtc = require('@roamhq/wrtc') as unknown
  const errors: string[] = []
  const page = await openPage(browser, errors)
  let node = createWebRtcPeer({ initiator: true, wrtc })
  node.stream.on('error', () => {}) // closed by the page's side at the end
  // The page's signals go to whichever Node peer is current (one binding per page).
  await page.exposeFunction('sendSignal', (d: SignalData) => { node.signal(d) })
  await api(page, 'start', { initiator: false })
  node.onSignal(d => { void api(page, 'signal', d) })

  const fromPage = api(page, 'exchange', 'hello from chromium')
  const fromNode = new Promise<string>(resolve => node.stream.once('data', (c: unknown) => resolve(new TextDecoder().decode(c as Uint8Array))))
  node.stream.write(new TextEncoder().encode('hello from node'))
  expect(await fromNode).toBe('hello from chromium')
  expect(await fromPage).toBe('hello from node')

  // A second connection for the replication (the first carried plain bytes).
  node.destroy()
  await api(page, 'close')
  node = createWebRtcPeer({ initiator: true, wrtc })
  node.stream.on('error', () => {})
  await api(page, 'start', { initiator: false })
  node.onSignal(d => { void api(page, 'signal', d) })

  const blocks = 64
  const blockSize = 64 * 1024
  const core = new Hypercore(() => new MemoryStorage())
  await core.ready()
  await core.append(Array.from({ length: blocks }, (_, i) => blockBytes(i, blockSize)))
  core.replicate(true, { stream: node.stream as never, keepAlive: false })
  const res = await api(page, 'read', { key: Buffer.from(core.key!).toString('hex'), blocks, blockSize })
  expect(res).toMatchObject({ length: blocks, verified: blocks })
  console.log(`Node → Chromium: ${(blocks * blockSize / 1e6).toFixed(1)} MB in ${res.ms.toFixed(0)} ms`)
  await core.close()
  await api(page, 'close')
  node.destroy()
  expect(errors).toEqual([])
  await page.context().close()
})

test('a peer whose page is closed without a goodbye is dropped as CONNECTION_CLOSED once ICE stays disconnected (not after the ~15 s ICE failure)', async ({ browser }) => {
  const errors: string[] = []
  const [a, b] = await pagePair(browser, true, errors)
  const failed = api(a, 'floodUntilError')
  await api(b, 'receive', 1 << 20)
  await b.context().close() // the page vanishes: its peer is told nothing
  // ICE reports 'disconnected' ~5 s after the page is gone, then our 3 s grace ends it as
  // CONNECTION_CLOSED; without that, ICE 'failed' at ~15 s would end it as WEBRTC_FAILED.
  expect(await failed).toBe('CONNECTION_CLOSED')
  expect(errors).toEqual([])
  await a.context().close()
})
