/**
 * @module web-test/pages/hyperbee.page
 * Browser side (Chromium and Firefox) of the Hyperbee tests (served at /pages/hyperbee.html): hyperbee@2, unchanged,
 * bundled with our core as an app would bundle it.
 * - `workload({ kind, name })` runs the shared Hyperbee workload (test/compat/hyperbee-workload.ts)
 *   on IndexedDB (a storage name string) or memory, with the spec's seed key pair, so the spec
 *   can compare it with hypercore@10 running the same workload in Node;
 * - `reopen({ name })` (after a page reload): the IndexedDB Hyperbee reads back;
 * - `read({ url, key })`: a Hyperbee reader on IndexedDB dials a Node hypercore@10 writer over
 *   a WebSocket and looks up keys, its extension on, recording the extension's traffic;
 * - `write({ count })` + `dial({ url })`: a Hyperbee writer on IndexedDB for a Node reader.
 * Everything returned is plain JSON.
 */
import Hypercore, { deleteDatabase, connectWebSocket } from '../../src/index.js'
import { MemoryDirectory } from '../../src/storage/memory.js'
import { keyPair } from '../../src/crypto/sign.js'
import { cryptoReady } from '../../src/crypto/sodium.js'
import { hex, fromHex } from '../../test/helpers/assert.js'
import { beeOpts, beeWorkload, keysOf } from '../../test/compat/hyperbee-workload.js'
// @ts-expect-error hyperbee ships no types
import Hyperbee from 'hyperbee'

const cleanups: Array<() => Promise<unknown>> = []

async function workload ({ kind, name }: { kind: 'indexeddb' | 'memory', name: string }): Promise<Record<string, unknown>> {
  await cryptoReady()
  const storage = kind === 'memory' ? new MemoryDirectory() : name
  return await beeWorkload(Hyperbee, new Hypercore(storage, { keyPair: keyPair(new Uint8Array(32).fill(7)) }))
}

async function reopen ({ name }: { name: string }): Promise<Record<string, unknown>> {
  const db = new Hyperbee(new Hypercore(name, { createIfMissing: false }), beeOpts)
  await db.ready()
  const out = {
    version: db.version,
    ada: (await db.sub('people').get('ada')).value,
    keys: await keysOf(db.createReadStream())
  }
  await db.close()
  await deleteDatabase(name)
  return out
}

/** Replicates `core` over a WebSocket to `url` (the page dials: initiator). */
function dialCore (core: Hypercore, url: string): void {
  const stream = connectWebSocket(url)
  const protocol = core.replicate(true, { stream: stream as any, keepAlive: false }) as any
  protocol.on('error', () => {})
  cleanups.push(async () => { protocol.destroy() })
}

async function read ({ url, key, name }: { url: string, key: string, name: string }): Promise<Record<string, unknown>> {
  const core = new Hypercore(name, fromHex(key))
  const db = new Hyperbee(core, beeOpts)
  const caches: number[][] = []
  const oncache = db.extension.oncache.bind(db.extension)
  let onCacheArrived: () => void
  const cacheArrived = new Promise<void>(resolve => { onCacheArrived = resolve })
  db.extension.oncache = (m: { blocks: number[] }, from: unknown) => { caches.push([...m.blocks]); oncache(m, from); onCacheArrived() }
  dialCore(core, url)
  await db.ready()
  await core.update({ wait: true })
  const value = (await db.get('key-0042')).value
  // The extension's answer to this one lookup (the range read below sends its own requests);
  // the lookup may finish from its own requests before that answer arrives.
  await cacheArrived
  const cachesForGet = caches.slice()
  const blocks = cachesForGet[0] ?? []
  for (;;) {
    const next = new Promise(resolve => core.once('download', resolve)) // before looking: none is missed
    if ((await Promise.all(blocks.map(seq => core.has(seq)))).every(Boolean)) break
    await next
  }
  // (Were they not downloaded, the wait above would time the test out.)
  const cached: boolean[] = []
  for (const seq of blocks) cached.push(await core.has(seq))
  const tail = await keysOf(db.createReadStream({ gte: 'key-0297' }))
  const out = { value, version: db.version, caches: cachesForGet, cached, tail, stored: (await core.info()).contiguousLength }
  cleanups.push(async () => { await db.close(); await deleteDatabase(name) })
  return out
}

let writer: any = null

async function write ({ count, name }: { count: number, name: string }): Promise<string> {
  await cryptoReady()
  writer = new Hyperbee(new Hypercore(name), beeOpts)
  await writer.ready()
  const b = writer.batch()
  for (let i = 0; i < count; i++) await b.put(`key-${String(i).padStart(4, '0')}`, { i })
  await b.flush()
  const gets: string[] = []
  const onget = writer.extension.onget.bind(writer.extension)
  writer.extension.onget = (m: { key: Uint8Array }, from: unknown) => { gets.push(new TextDecoder().decode(m.key)); onget(m, from) }
  ;(globalThis as any).writerGets = gets
  cleanups.push(async () => { await writer.close(); await deleteDatabase(name) })
  return hex(writer.core.key)
}

function dial ({ url }: { url: string }): void { dialCore(writer.core, url) }

function writerGets (): string[] { return (globalThis as any).writerGets ?? [] }

async function close (): Promise<void> {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => {})
}

;(globalThis as any).testApi = { workload, reopen, read, write, dial, writerGets, close }
