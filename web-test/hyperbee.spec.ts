import { test, expect, type Page } from '@playwright/test'
import { createRequire } from 'node:module'
import { RAM, RefHypercore, serveRefCore } from './peers/ref-peer.js'
import { beeOpts, beeWorkload } from '../test/compat/hyperbee-workload.js'

// Hyperbee (hyperbee@2, unchanged, extension on) on our core in Chromium, on real IndexedDB:
// (a) the shared workload gives the same reads and the same tree hash as hypercore@10 running
//     it in this Node process, and reads back after a page reload;
// (b) a page reader replicates a Hyperbee from a Node hypercore@10 writer over a WebSocket,
//     its lookups answered through Hyperbee's extension; and a page writer serves a Node
//     hypercore@10 reader, whose extension request the page answers.

const require = createRequire(import.meta.url)
const Hyperbee = require('hyperbee')
const crypto = require('hypercore-crypto')

type Api = Record<string, (arg?: unknown) => unknown>
const api = (page: Page, fn: string, arg?: unknown): Promise<any> =>
  page.evaluate(([f, a]) => ((globalThis as unknown as { testApi: Api }).testApi[f as string])(a), [fn, arg] as const)

async function openPage (page: Page, errors: string[]): Promise<void> {
  page.on('pageerror', e => errors.push(e.message))
  await page.goto('/pages/hyperbee.html')
  await page.waitForFunction(() => (globalThis as unknown as { testApi?: unknown }).testApi)
}

async function filledWriter (core: any): Promise<any> {
  const db = new Hyperbee(core, beeOpts)
  await db.ready()
  const b = db.batch()
  for (let i = 0; i < 300; i++) await b.put(`key-${String(i).padStart(4, '0')}`, { i })
  await b.flush()
  return db
}

test('Hyperbee on IndexedDB and memory in Chromium: the same reads and tree hash as hypercore@10; the IndexedDB bee reads back after a reload', async ({ page }) => {
  const errors: string[] = []
  await openPage(page, errors)
  const theirs = await beeWorkload(Hyperbee, new RefHypercore(RAM, { keyPair: crypto.keyPair(Buffer.alloc(32, 7)) }))
  const name = `bee-${Date.now()}`
  expect(await api(page, 'workload', { kind: 'indexeddb', name })).toEqual(theirs)
  expect(await api(page, 'workload', { kind: 'memory', name: '' })).toEqual(theirs)
  await page.reload()
  await page.waitForFunction(() => (globalThis as unknown as { testApi?: unknown }).testApi)
  const back = await api(page, 'reopen', { name })
  expect(back.version).toBe(theirs.version)
  expect(back.ada).toEqual({ born: 1815 })
  expect(back.keys).toEqual(['charlie', 'delta', 'echo', 'people\u0000ada', 'x-ray', 'yankee', 'zulu'])
  expect(errors).toEqual([])
})

test('a Chromium Hyperbee reader (IndexedDB) replicates from a Node hypercore@10 writer; its lookup is answered by the writer\'s extension', async ({ page }) => {
  const errors: string[] = []
  await openPage(page, errors)
  const wdb = await filledWriter(new RefHypercore(RAM))
  const gets: string[] = []
  const onget = wdb.extension.onget.bind(wdb.extension)
  wdb.extension.onget = (m: any, from: any) => { gets.push(Buffer.from(m.key).toString()); onget(m, from) }
  const server = await serveRefCore(wdb.core)
  try {
    const r = await api(page, 'read', { url: server.url, key: Buffer.from(wdb.core.key).toString('hex'), name: `bee-reader-${Date.now()}` })
    expect(r.value).toEqual({ i: 42 })
    expect(r.version).toBe(wdb.version)
    expect(gets).toEqual(['key-0042'])
    expect(r.caches.length).toBe(1)
    expect(r.caches[0].length).toBeGreaterThan(1)
    expect(r.cached).toEqual(r.caches[0].map(() => true))
    expect(r.tail).toEqual(['key-0297', 'key-0298', 'key-0299'])
    expect(r.stored).toBeLessThan(wdb.core.length)
    expect(server.errors).toEqual([])
  } finally {
    await api(page, 'close')
    await server.close()
    await wdb.close()
  }
  expect(errors).toEqual([])
})

test('a Node hypercore@10 Hyperbee reader replicates from a Chromium writer (IndexedDB); the page answers its extension request', async ({ page }) => {
  const errors: string[] = []
  await openPage(page, errors)
  const key = Buffer.from(await api(page, 'write', { count: 300, name: `bee-writer-${Date.now()}` }), 'hex')
  const rcore = new RefHypercore(RAM, key)
  const rdb = new Hyperbee(rcore, beeOpts)
  const caches: number[][] = []
  const oncache = rdb.extension.oncache.bind(rdb.extension)
  rdb.extension.oncache = (m: any, from: any) => { caches.push([...m.blocks]); oncache(m, from) }
  const server = await serveRefCore(rcore)
  try {
    await api(page, 'dial', { url: server.url })
    await rdb.ready()
    await rcore.update({ wait: true })
    expect((await rdb.get('key-0042')).value).toEqual({ i: 42 })
    expect(await api(page, 'writerGets')).toEqual(['key-0042'])
    expect(caches.length).toBe(1)
    for (const seq of caches[0]!) expect(await rcore.has(seq)).toBe(true)
    expect(server.errors).toEqual([])
  } finally {
    await api(page, 'close')
    await server.close()
    await rdb.close()
  }
  expect(errors).toEqual([])
})
