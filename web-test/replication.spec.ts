/**
 * @module web-test/replication.spec
 * Replication in real Chromium:
 * (a) two of our cores in one page, on memory and on IndexedDB storage: writer appends, the
 *     reader gets one block sparsely, downloads everything, sees a live append; every byte is
 *     checked (and, on IndexedDB, is still there after the reader reopens);
 * (b) a page and the real hypercore@10 in this Node process, through a WebSocket (a `ws`
 *     server on port 0, web-test/peers/ref-peer.ts), both directions: hypercore@10 writer →
 *     page reader (get, download, live append event), page writer → hypercore@10 reader
 *     (this process checks the bytes it received);
 * (c) the WebSocket byte stream itself in Chromium against a plain `ws` server
 *     (web-test/peers/byte-peer.ts): order and integrity, backpressure, clean close, reset.
 */
import { test, expect, type Page } from '@playwright/test'
import { blockBytes } from './peers/blocks.js'
import { RAM, RefHypercore, serveRefCore } from './peers/ref-peer.js'
import { startBytePeer } from './peers/byte-peer.js'

type Api = Record<string, (arg?: unknown) => unknown>
const api = (page: Page, fn: string, arg?: unknown): Promise<any> =>
  page.evaluate(([f, a]) => ((globalThis as unknown as { testApi: Api }).testApi[f as string])(a), [fn, arg] as const)

const hexOf = (b: Uint8Array): string => Buffer.from(b).toString('hex')

async function openPage (page: Page, errors: string[]): Promise<void> {
  page.on('pageerror', e => errors.push(e.message))
  // Console errors count too (a replication stream error is logged there), except the
  // browser's own request for a favicon the test server does not have.
  page.on('console', m => { if (m.type() === 'error' && !m.location().url.endsWith('/favicon.ico')) errors.push(`${m.text()} (${m.location().url})`) })
  await page.goto('/pages/replication.html')
  await page.waitForFunction(() => (globalThis as unknown as { testApi?: unknown }).testApi)
}

for (const kind of ['memory', 'idb'] as const) {
  test(`two of our cores replicate inside one page (${kind} storage): sparse get, full download, live append, bytes verified`, async ({ page }) => {
    const errors: string[] = []
    await openPage(page, errors)
    const blocks = 300
    const blockSize = 1000
    const r = await api(page, 'local', { kind, blocks, blockSize })
    console.log(`in-page replication on ${kind}: ${r.ms} ms for ${blocks} blocks of ${blockSize} B`)
    expect(r.updated).toBe(true)
    expect(r.sparseHex).toBe(hexOf(blockBytes(r.sparseIndex, blockSize)))
    expect(r.hasNeighbour, 'sparse: the neighbour was not downloaded by get').toBe(false)
    expect(r.mismatches).toEqual([])
    expect(r.lengthAfterEvent).toBe(blocks + 1)
    expect(r.readerLength).toBe(blocks + 1)
    expect(r.live).toBe('live block')
    expect(r.sameTree).toBe(true)
    if (kind === 'idb') expect(r.reopened).toEqual({ length: blocks + 1, contiguousLength: blocks + 1, mismatches: [], live: 'live block' })
    await api(page, 'close')
    expect(errors).toEqual([])
  })
}

test('hypercore@10 in Node writes, a Chromium page reads through a WebSocket: sparse get, full download, live append event', async ({ page }) => {
  const errors: string[] = []
  await openPage(page, errors)
  const blocks = 200
  const blockSize = 4096
  const core = new RefHypercore(RAM)
  await core.ready()
  await core.append(Array.from({ length: blocks }, (_, i) => Buffer.from(blockBytes(i, blockSize))))
  const server = await serveRefCore(core)
  try {
    const r = await api(page, 'read', { url: server.url, key: hexOf(core.key), blocks, blockSize, sparse: 123 })
    expect(r.updated).toBe(true)
    expect(r.length).toBe(blocks)
    expect(r.sparseHex).toBe(hexOf(blockBytes(123, blockSize)))
    expect(r.hasNeighbour).toBe(false)
    expect(r.mismatches).toEqual([])
    expect(r.contiguousLength).toBe(blocks)
    expect(server.connections).toBe(1)

    const live = api(page, 'live', { index: blocks })
    await core.append(Buffer.from('appended in node'))
    const l = await live
    expect(l.text).toBe('appended in node')
    expect(l.length).toBe(blocks + 1)
    expect(l.appendEvents).toBeGreaterThanOrEqual(1)
    expect(server.errors).toEqual([])
  } finally {
    await api(page, 'close')
    await server.close()
    await core.close()
  }
  expect(errors).toEqual([])
})

test('a Chromium page writes, hypercore@10 in Node reads through a WebSocket: the Node side gets every byte and a live append', async ({ page }) => {
  const errors: string[] = []
  await openPage(page, errors)
  const blocks = 200
  const blockSize = 4096
  const key = await api(page, 'write', { blocks, blockSize })
  const core = new RefHypercore(RAM, Buffer.from(key, 'hex'))
  await core.ready()
  const server = await serveRefCore(core)
  try {
    // hypercore@10's update() answers false while it has no peer: wait for the channel first.
    const joined = new Promise<void>(resolve => core.once('peer-add', () => resolve()))
    await api(page, 'dial', { url: server.url })
    await joined
    expect(await core.update({ wait: true })).toBe(true)
    expect(core.length).toBe(blocks)
    expect(hexOf(await core.get(77))).toBe(hexOf(blockBytes(77, blockSize)))
    expect(await core.has(76)).toBe(false)
    await core.download({ start: 0, end: blocks }).done()
    const bad: number[] = []
    for (let i = 0; i < blocks; i++) {
      if (hexOf(await core.get(i, { wait: false })) !== hexOf(blockBytes(i, blockSize))) bad.push(i)
    }
    expect(bad).toEqual([])
    expect(core.contiguousLength).toBe(blocks)

    const appended = new Promise<void>(resolve => core.once('append', () => resolve()))
    expect(await api(page, 'append', { text: 'appended in chromium' })).toBe(blocks + 1)
    await appended
    expect(core.length).toBe(blocks + 1)
    expect(Buffer.from(await core.get(blocks)).toString()).toBe('appended in chromium')
    expect(server.errors).toEqual([])
  } finally {
    await api(page, 'close')
    await server.close()
    await core.close()
  }
  expect(errors).toEqual([])
})

test('the WebSocket byte stream in Chromium against a plain ws server: bytes both ways in order (1 MiB included), clean end from the page', async ({ page }) => {
  const errors: string[] = []
  await openPage(page, errors)
  const peer = await startBytePeer()
  try {
    const sizes = [1, 125, 126, 65535, 65536, 1024 * 1024, 7]
    const result = api(page, 'echo', { url: peer.url, sizes })
    const conn = await peer.accept()
    const r = await result
    expect(r.same).toBe(true)
    expect(r.received).toBe(sizes.reduce((a, b) => a + b, 0))
    expect(r.error).toBeNull()
    expect([...r.events].sort()).toEqual(['close', 'end', 'finish'])
    expect(conn.received.map(b => b.byteLength)).toEqual(sizes)
    conn.received.forEach((b, i) => expect(hexOf(b), `message ${i}`).toBe(hexOf(blockBytes(i, sizes[i]))))
    expect(await conn.closed).toEqual({ code: 1000, reason: '' })
  } finally {
    await peer.close()
  }
  expect(errors).toEqual([])
})

test('backpressure in Chromium: while Node does not read, writes stall with bufferedAmount bounded; once it reads, every byte arrives in order', async ({ page }) => {
  const errors: string[] = []
  await openPage(page, errors)
  const peer = await startBytePeer()
  try {
    const hwm = 64 * 1024
    const chunk = 64 * 1024
    const started = api(page, 'floodStart', { url: peer.url, hwm, chunk, max: 4096 })
    const conn = await peer.accept()
    const stall = await started
    console.log(`Chromium stalled after ${(stall.written / 1048576).toFixed(1)} MiB, max bufferedAmount ${stall.maxBuffered}`)
    expect(stall.stalled).toBe(true)
    expect(stall.maxBuffered).toBeLessThanOrEqual(hwm + chunk)
    expect(conn.receivedBytes()).toBeLessThan(stall.written)
    // The stall is the kernel's socket buffers being full, megabytes, not the 256 MiB we would write.
    expect(stall.written).toBeLessThan(64 * 1024 * 1024)
    conn.ws.resume()
    const fin = await api(page, 'floodFinish')
    await conn.bytes(fin.written)
    expect(fin.error).toBeNull()
    expect(conn.receivedBytes()).toBe(fin.written)
    const bad = conn.received.map((b, i) => hexOf(b) === hexOf(blockBytes(i, chunk)) ? -1 : i).filter(i => i >= 0)
    expect(bad).toEqual([])
  } finally {
    await peer.close()
  }
  expect(errors).toEqual([])
})

for (const how of ['close', 'reset'] as const) {
  test(`Node ${how === 'close' ? 'closes the WebSocket cleanly (1000): the page stream ends with no error' : 'resets the connection: the page stream fails with CONNECTION_CLOSED'}`, async ({ page }) => {
    const errors: string[] = []
    await openPage(page, errors)
    const peer = await startBytePeer()
    try {
      const result = api(page, 'watch', { url: peer.url })
      const conn = await peer.accept()
      await conn.bytes(5)
      if (how === 'close') conn.ws.close(1000)
      else conn.ws.terminate()
      const r = await result
      if (how === 'close') {
        expect(r.error).toBeNull()
        expect([...r.events].sort()).toEqual(['close', 'end', 'finish'])
      } else {
        expect(r.error?.code).toBe('CONNECTION_CLOSED')
        expect(r.error?.message).toMatch(/1006/)
      }
    } finally {
      await peer.close()
    }
    expect(errors).toEqual([])
  })
}
