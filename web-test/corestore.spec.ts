import { test, expect, type Page } from '@playwright/test'
import { RAM, RefCorestore, serveRefStore } from './peers/ref-store-peer.js'

// A Corestore on IndexedDB in Chromium with many cores (50), replicating with a Node
// corestore@6 over one WebSocket, both directions:
// (a) the page writes 50 named cores (10 of them closed again, so the Node peer's requests
//     open them on demand) and corestore@6 reads a block of each; the store is one database,
//     and a core the page does not have leaves no trace in it;
// (b) corestore@6 writes 50 cores, the page's store reads a block of each over one stream,
//     and after a reload reads them back from IndexedDB without the network.

type Api = Record<string, (arg?: unknown) => unknown>
const api = (page: Page, fn: string, arg?: unknown): Promise<any> =>
  page.evaluate(([f, a]) => ((globalThis as unknown as { testApi: Api }).testApi[f as string])(a), [fn, arg] as const)

const COUNT = 50

async function openPage (page: Page, errors: string[]): Promise<void> {
  page.on('pageerror', e => errors.push(e.message))
  await page.goto('/pages/corestore.html')
  await page.waitForFunction(() => (globalThis as unknown as { testApi?: unknown }).testApi)
}

test(`a Chromium Corestore on IndexedDB writes ${COUNT} cores; a Node corestore@6 reads them all over one WebSocket (closed cores opened on demand)`, async ({ page }) => {
  const errors: string[] = []
  await openPage(page, errors)
  const name = `store-w-${Date.now()}`
  const keys: string[] = await api(page, 'write', { name, count: COUNT, blocks: 3, closeSome: 10 })
  expect(keys.length).toBe(COUNT)
  expect((await api(page, 'databases')).filter((d: string) => d.startsWith('store-w-'))).toEqual([name])
  const reader = new RefCorestore(RAM.reusable())
  const cores = keys.map(k => reader.get({ key: Buffer.from(k, 'hex') }))
  await Promise.all(cores.map((c: any) => c.ready()))
  const server = await serveRefStore(reader)
  try {
    await api(page, 'dial', { url: server.url })
    const values = await Promise.all(cores.map(async (c: any) => Buffer.from(await c.get(2, { timeout: 30000 })).toString()))
    expect(values).toEqual(keys.map((_, i) => `${i}:2`))
    // A core the page does not have: refused, and nothing about it is written to its database.
    const unknown = reader.get({ key: Buffer.alloc(32, 7) })
    await unknown.ready()
    expect(await unknown.get(0, { timeout: 500 }).catch((e: any) => e.code)).toBe('REQUEST_TIMEOUT')
    expect(await api(page, 'appendOne')).toBe(4)
    const files: string[] = await api(page, 'storedFiles', { name })
    expect(files.length).toBe(COUNT * 5 + 1)
    expect(files.filter(f => f.includes(unknown.discoveryKey.toString('hex')))).toEqual([])
    expect(server.connections).toBe(1)
    expect(server.errors).toEqual([])
  } finally {
    await api(page, 'close')
    await server.close()
    await reader.close()
  }
  expect(errors).toEqual([])
})

test(`a Node corestore@6 writes ${COUNT} cores; a Chromium Corestore on IndexedDB reads them over one WebSocket and reads them back after a reload`, async ({ page }) => {
  const errors: string[] = []
  await openPage(page, errors)
  const writer = new RefCorestore(RAM.reusable())
  const keys: string[] = []
  for (let i = 0; i < COUNT; i++) {
    const core = writer.get({ name: `core-${i}` })
    await core.ready()
    await core.append([Buffer.from(`${i}:0`), Buffer.from(`${i}:1`)])
    keys.push(core.key.toString('hex'))
  }
  const server = await serveRefStore(writer)
  const name = `store-r-${Date.now()}`
  try {
    const r = await api(page, 'read', { name, url: server.url, keys, index: 1 })
    console.log(`Chromium store read ${COUNT} cores over one WebSocket in ${r.ms} ms`)
    expect(r.values).toEqual(keys.map((_, i) => `${i}:1`))
    expect(r.openCores).toBe(COUNT)
    expect(server.connections).toBe(1)
    expect(server.errors).toEqual([])
    await api(page, 'close')
  } finally {
    await server.close()
    await writer.close()
  }
  await page.reload()
  await page.waitForFunction(() => (globalThis as unknown as { testApi?: unknown }).testApi)
  const back = await api(page, 'reopen', { name, keys, index: 1 })
  expect(back.lengths).toEqual(keys.map(() => 2))
  expect(back.values).toEqual(keys.map((_, i) => `${i}:1`))
  expect(errors).toEqual([])
})
