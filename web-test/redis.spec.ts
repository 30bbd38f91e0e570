/**
 * @module web-test/redis.spec
 * Two signaling server processes sharing rooms through one Redis (Debian's redis-server), behind
 * one address (a TCP balancer handing connections to each in turn: test/signaling/redis-helpers.ts),
 * in real Chromium (web-test/pages/dht.page.ts with signaling only):
 * two pages, one on each instance, meet and replicate over WebRTC; the first page's instance
 * is killed outright, the page reconnects (to the other instance), the pages meet again and
 * replicate a new core.
 */
import { test, expect, type Browser, type Page } from '@playwright/test'
import { balancer, startInstance, startRedis } from '../test/signaling/redis-helpers.js'

type Api = Record<string, (arg?: unknown) => unknown>
const api = (page: Page, fn: string, arg?: unknown): Promise<any> =>
  page.evaluate(([f, a]) => ((globalThis as unknown as { testApi: Api }).testApi[f as string])(a), [fn, arg] as const)

const BLOCK = 16 * 1024
const BLOCKS = 64

async function openPage (browser: Browser, signalingUrl: string, closers: Array<() => Promise<unknown>>): Promise<Page> {
  const ctx = await browser.newContext({ permissions: ['camera', 'microphone'] })
  closers.push(() => ctx.close())
  const page = await ctx.newPage()
  await page.goto('/pages/dht.html')
  await page.waitForFunction(() => (globalThis as unknown as { testApi?: unknown }).testApi)
  closers.push(() => api(page, 'close'))
  await api(page, 'start', { relay: [], signalingUrl })
  await expect.poll(() => api(page, 'signalingConnected'), { timeout: 10_000 }).toBe(true)
  return page
}

async function copyFrom (writer: Page, reader: Page): Promise<void> {
  const { key } = await api(writer, 'write', { blocks: BLOCKS, blockSize: BLOCK })
  await api(reader, 'open', { key, server: true })
  await api(reader, 'downloadStart', { blocks: BLOCKS })
  const r = await api(reader, 'downloadFinish', { blockSize: BLOCK })
  expect(r.mismatches).toEqual([])
  expect(r.contiguousLength).toBe(BLOCKS)
}

test('two pages on two instances sharing one Redis meet and replicate; one instance killed, its page reconnects to the other and meets again', async ({ browser }) => {
  const closers: Array<() => Promise<unknown>> = []
  const redis = await startRedis()
  try {
    const one = await startInstance(redis.url)
    const two = await startInstance(redis.url)
    closers.push(() => one.kill(), () => two.kill())
    const lb = await balancer([one.port, two.port])
    closers.push(() => lb.close())
    // In turn: the first page's connection goes to `one`, the second's to `two`.
    const first = await openPage(browser, lb.url, closers)
    const second = await openPage(browser, lb.url, closers)
    await copyFrom(first, second)
    expect((await api(first, 'stats')).open).toBe(1)

    await one.kill()
    await expect.poll(() => api(first, 'signalingConnected'), { timeout: 10_000, intervals: [50] }).toBe(false)
    await expect.poll(() => api(first, 'signalingConnected'), { timeout: 15_000 }).toBe(true)
    // The pages' WebRTC connection outlives the server: drop it, so they have to meet again.
    expect(await api(first, 'dropConnections')).toBe(1)
    // Usually within seconds. On a loaded machine a first attempt has failed here, and a failed
    // attempt ends only at the swarm's 20 s connect timeout: the window allows that attempt and
    // the retry after it.
    await expect.poll(async () => (await api(second, 'stats')).connections.filter((c: any) => c.closedAt === null).length, { timeout: 45_000 }).toBe(1)
    const stats = await api(second, 'stats')
    expect(stats.connections.length).toBe(2)
    await copyFrom(first, second)
  } finally {
    for (const c of closers.reverse()) await c().catch(() => {})
    await redis.stop()
  }
})
