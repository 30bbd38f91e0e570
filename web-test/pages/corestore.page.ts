/**
 * @module web-test/pages/corestore.page
 * Chromium side of the Corestore spec (served at /pages/corestore.html): a store on IndexedDB
 * (one database for all its cores) replicating many cores over one WebSocket.
 * - `write({ name, count, blocks, closeSome })`: a store with `count` named cores of `blocks`
 *   blocks each; the last `closeSome` are closed again (a peer's request reopens them);
 * - `dial({ url })`: the page's store replicates over a WebSocket to a Node corestore@6;
 * - `read({ name, url, keys, index })`: a store gets every key, dials, and reads block `index`
 *   of each;
 * - `reopen({ name, keys })` (after a page reload): the stored cores read back, by key;
 * - `databases()`: the IndexedDB databases this origin has (one per store);
 * - `appendOne()`: one more block on `core-0` (so the database commits again);
 * - `storedFiles({ name })`: the files the store's database holds (its sizes record);
 * - `close()`.
 * Everything returned is plain JSON.
 */
import { Corestore, connectWebSocket, deleteDatabase, type Hypercore } from '../../src/index.js'
import { hex, fromHex } from '../../test/helpers/assert.js'

let store: Corestore | null = null
const cleanups: Array<() => Promise<unknown>> = []
const text = (b: unknown): string => new TextDecoder().decode(b as Uint8Array)

async function write ({ name, count, blocks, closeSome }: { name: string, count: number, blocks: number, closeSome: number }): Promise<string[]> {
  store = new Corestore(name)
  const s = store
  cleanups.push(async () => { await s.close(); await deleteDatabase(name) })
  const cores: Hypercore[] = []
  for (let i = 0; i < count; i++) cores.push(s.get({ name: `core-${i}` }))
  await Promise.all(cores.map(c => c.ready()))
  await Promise.all(cores.map((c, i) => c.append(Array.from({ length: blocks }, (_, j) => new TextEncoder().encode(`${i}:${j}`)))))
  const keys = cores.map(c => hex(c.key!))
  for (const c of cores.slice(count - closeSome)) await c.close()
  return keys
}

function dial ({ url }: { url: string }): void {
  const stream = connectWebSocket(url)
  const protocol = store!.replicate(true, { stream: stream as any, keepAlive: false }) as any
  protocol.on('error', () => {})
  cleanups.unshift(async () => { protocol.destroy() })
}

async function read ({ name, url, keys, index }: { name: string, url: string, keys: string[], index: number }): Promise<{ values: string[], openCores: number, ms: number }> {
  const started = performance.now()
  store = new Corestore(name)
  const s = store
  cleanups.push(async () => { await s.close() })
  const cores = keys.map(k => s.get({ key: fromHex(k) }))
  await Promise.all(cores.map(c => c.ready()))
  dial({ url })
  const values = await Promise.all(cores.map(async c => text(await c.get(index, { timeout: 30000 }))))
  return { values, openCores: s.cores.size, ms: Math.round(performance.now() - started) }
}

async function reopen ({ name, keys, index }: { name: string, keys: string[], index: number }): Promise<{ values: string[], lengths: number[] }> {
  const s = new Corestore(name)
  const cores = keys.map(k => s.get({ key: fromHex(k), createIfMissing: false }))
  await Promise.all(cores.map(c => c.ready()))
  const values = await Promise.all(cores.map(async c => text(await c.get(index, { wait: false }))))
  const lengths = cores.map(c => c.length)
  await s.close()
  await deleteDatabase(name)
  return { values, lengths }
}

async function databases (): Promise<string[]> {
  return (await indexedDB.databases()).map(d => d.name ?? '').sort()
}

/** Appends one block to the store's core `core-0` (a commit after whatever the store looked at). */
async function appendOne (): Promise<number> {
  const core = store!.get({ name: 'core-0' })
  await core.ready()
  await core.append(new TextEncoder().encode('one more'))
  const length = core.length
  await core.close()
  return length
}

/** The file names the store's database records sizes for (format 2: one record, key 1). */
async function storedFiles ({ name }: { name: string }): Promise<string[]> {
  const db = await new Promise<IDBDatabase>((resolve, reject) => {
    const req = indexedDB.open(name)
    req.onsuccess = () => resolve(req.result)
    req.onerror = () => reject(req.error)
  })
  try {
    const record = await new Promise<{ sizes: Record<string, number> } | undefined>((resolve, reject) => {
      const req = db.transaction('pages', 'readonly').objectStore('pages').get(1)
      req.onsuccess = () => resolve(req.result)
      req.onerror = () => reject(req.error)
    })
    return Object.keys(record?.sizes ?? {}).sort()
  } finally {
    db.close()
  }
}

async function close (): Promise<void> {
  for (const c of cleanups.splice(0)) await c().catch(() => {})
  store = null
}

;(globalThis as any).testApi = { write, dial, read, reopen, databases, appendOne, storedFiles, close }
