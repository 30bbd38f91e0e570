/**
 * @module web-test/suites/webrtc
 * The WebRTC transport between real browser pages (page: web-test/pages/webrtc.page.ts):
 * two pages, each in a profile of its own, exchange signals through this test process and
 * replicate a core over `createWebRtcPeer`'s stream; the reader checks every block. Then
 * half close, destroy mid-transfer, a page closed without a goodbye, and Node
 * (`@roamhq/wrtc`) ↔ the browser. `replicateOverWebRtc` also pairs two browsers (the Firefox
 * runner's Firefox ↔ Chromium test).
 */
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { createWebRtcPeer } from '../../src/transport/webrtc.js'
import type { SignalData } from '../../src/transport/types.js'
import { Hypercore } from '../../src/core/hypercore.js'
import { MemoryStorage } from '../../src/storage/memory.js'
import type { BrowserCase, TestPage } from './page.js'

const require = createRequire(import.meta.url)

/** Same blocks as webrtc.page.ts writes and checks. */
function blockBytes (i: number, size: number): Uint8Array {
  const b = new Uint8Array(size)
  for (let j = 0; j < size; j++) b[j] = (i * 131 + j * 7) & 0xff
  new DataView(b.buffer).setUint32(0, i)
  return b
}

/** `page` (a fresh page, e.g. from `newProfile`) on the WebRTC test page. */
export async function webrtcPage (page: TestPage): Promise<TestPage> {
  await page.open('/pages/webrtc.html')
  return page
}

/** Connects the peers of two WebRTC pages: their signals go through this process; `a` initiates. */
export async function connectPages (a: TestPage, b: TestPage, trickle: boolean): Promise<void> {
  await a.expose('sendSignal', (d: SignalData) => b.call('signal', d))
  await b.expose('sendSignal', (d: SignalData) => a.call('signal', d))
  await b.call('start', { initiator: false, trickle })
  await a.call('start', { initiator: true, trickle })
}

/** `a` writes a core, `b` replicates and checks every block; both close. Returns the transfer's ms. */
export async function replicateOverWebRtc (a: TestPage, b: TestPage, { trickle, blocks }: { trickle: boolean, blocks: number }): Promise<number> {
  await connectPages(a, b, trickle)
  const blockSize = 16 * 1024 + 3 // not a multiple of the message size
  const key = await a.call<string>('write', { blocks, blockSize })
  const res = await b.call<{ length: number, verified: number, ms: number }>('read', { key, blocks, blockSize })
  assert.equal(res.length, blocks)
  assert.equal(res.verified, blocks)
  if (!trickle) {
    assert.equal(await a.call('signalsSent'), 1)
    assert.equal(await b.call('signalsSent'), 1)
  }
  await a.call('close')
  await b.call('close')
  assert.deepEqual([...a.errors, ...b.errors], [])
  return res.ms
}

const mb = (blocks: number): string => (blocks * (16 * 1024 + 3) / 1e6).toFixed(1)

export const webrtcCases: BrowserCase[] = [
  ...[true, false].map((trickle): BrowserCase => ({
    title: b => `two ${b} pages replicate a core over WebRTC (trickle: ${trickle})`,
    async run ({ name, newProfile }) {
      const a = await webrtcPage(await newProfile())
      const b = await webrtcPage(await newProfile())
      const blocks = trickle ? 256 : 32
      const ms = await replicateOverWebRtc(a, b, { trickle, blocks })
      console.log(`${name} ↔ ${name} (trickle ${trickle}): ${mb(blocks)} MB in ${ms.toFixed(0)} ms`)
      await a.close()
      await b.close()
    }
  })),
  {
    title: b => `${b} pages: half close then a clean close on both sides; destroy mid-transfer → CONNECTION_CLOSED on the other`,
    async run ({ newProfile }) {
      let a = await webrtcPage(await newProfile())
      let b = await webrtcPage(await newProfile())
      await connectPages(a, b, true)
      // Both end at once: each still reads the other's last bytes (the FIN is an empty message).
      const [ra, rb] = await Promise.all([a.call('halfClose', 'last words of a'), b.call('halfClose', 'last words of b')])
      assert.deepEqual(ra, { received: 'last words of b', error: null })
      assert.deepEqual(rb, { received: 'last words of a', error: null })
      const errors = [...a.errors, ...b.errors]
      for (const p of [a, b]) await p.close()

      a = await webrtcPage(await newProfile())
      b = await webrtcPage(await newProfile())
      await connectPages(a, b, true)
      const failed = a.call<string>('floodUntilError')
      await b.call('receive', 1 << 20)
      const t0 = Date.now()
      await b.call('destroy')
      assert.equal(await failed, 'CONNECTION_CLOSED')
      assert.ok(Date.now() - t0 < 5000, `the other side heard of the destroy after ${Date.now() - t0} ms`)
      assert.deepEqual([...errors, ...a.errors, ...b.errors], [])
      for (const p of [a, b]) await p.close()
    }
  },
  {
    title: b => `Node (@roamhq/wrtc) ↔ ${b}: bytes both ways, then a core written in Node read in the page`,
    async run ({ name, newProfile }) {
      const wrtc = require('@roamhq/wrtc') as unknown
      const page = await webrtcPage(await newProfile())
      let node = createWebRtcPeer({ initiator: true, wrtc })
      node.stream.on('error', () => {}) // closed by the page's side at the end
      // The page's signals go to whichever Node peer is current (one binding per page).
      await page.expose('sendSignal', (d: SignalData) => { node.signal(d) })
      await page.call('start', { initiator: false })
      node.onSignal(d => { void page.call('signal', d) })

      const fromPage = page.call<string>('exchange', `hello from ${name}`)
      const fromNode = new Promise<string>(resolve => node.stream.once('data', (c: unknown) => resolve(new TextDecoder().decode(c as Uint8Array))))
      node.stream.write(new TextEncoder().encode('hello from node'))
      assert.equal(await fromNode, `hello from ${name}`)
      assert.equal(await fromPage, 'hello from node')

      // A second connection for the replication (the first carried plain bytes).
      node.destroy()
      await page.call('close')
      node = createWebRtcPeer({ initiator: true, wrtc })
      node.stream.on('error', () => {})
      await page.call('start', { initiator: false })
      node.onSignal(d => { void page.call('signal', d) })

      const blocks = 64
      const blockSize = 64 * 1024
      const core = new Hypercore(() => new MemoryStorage())
      await core.ready()
      await core.append(Array.from({ length: blocks }, (_, i) => blockBytes(i, blockSize)))
      core.replicate(true, { stream: node.stream as never, keepAlive: false })
      const res = await page.call('read', { key: Buffer.from(core.key!).toString('hex'), blocks, blockSize })
      assert.equal(res.length, blocks)
      assert.equal(res.verified, blocks)
      console.log(`Node → ${name}: ${(blocks * blockSize / 1e6).toFixed(1)} MB in ${res.ms.toFixed(0)} ms`)
      await core.close()
      await page.call('close')
      node.destroy()
      assert.deepEqual(page.errors, [])
      await page.close()
    }
  },
  {
    title: () => 'a peer whose page is closed without a goodbye is dropped as CONNECTION_CLOSED once ICE stays disconnected (not after the ~15 s ICE failure)',
    async run ({ newProfile }) {
      const a = await webrtcPage(await newProfile())
      const b = await webrtcPage(await newProfile())
      await connectPages(a, b, true)
      const failed = a.call<string>('floodUntilError')
      await b.call('receive', 1 << 20)
      const errors = [...b.errors]
      await b.close() // the page vanishes: its peer is told nothing
      // ICE reports 'disconnected' ~5 s after the page is gone, then our 3 s grace ends it as
      // CONNECTION_CLOSED; without that, ICE 'failed' at ~15 s would end it as WEBRTC_FAILED.
      assert.equal(await failed, 'CONNECTION_CLOSED')
      assert.deepEqual([...errors, ...a.errors], [])
      await a.close()
    }
  }
]
