/**
 * @module web-test/pages/replication.page
 * Chromium side of the replication spec (served at /pages/replication.html). Blocks are
 * `web-test/peers/blocks.ts`'s, so the page and Node agree on every byte.
 * - `local({ kind, blocks, blockSize })`: two of our cores in this page (memory or IndexedDB
 *   storage) replicate over piped streams: sparse get, full download, live append, bytes and
 *   tree hash checked; on IndexedDB the reader is then reopened and must still hold them.
 * - `read({ url, key, blocks, blockSize, sparse })`: a reader of `key` dials a WebSocket
 *   (hypercore@10 in Node serves it), gets one block sparsely, downloads everything, checks
 *   every byte; `live({ index })` waits until block `index` arrives through 'append' events.
 * - `write({ blocks, blockSize })` makes a writer (returns its key); `dial({ url })`
 *   replicates it over a WebSocket to Node; `append({ text })` appends one more block.
 * - The WebSocket stream itself against a plain `ws` server (web-test/peers/byte-peer.ts):
 *   `echo({ url, sizes })` (bytes both ways in order, then end() from the page),
 *   `floodStart({ url, hwm, chunk, max })` / `floodFinish()` (writes stall with the socket's
 *   buffer bounded while Node does not read, then complete), `watch({ url })` (how the stream
 *   ends when Node closes or resets the connection).
 * - `close()` closes every core and stream of the page.
 */
import { Hypercore } from '../../src/core/hypercore.js'
import { MemoryDirectory } from '../../src/storage/memory.js'
import { deleteDatabase } from '../../src/storage/indexeddb/index.js'
import { connectWebSocket, type WebSocketStream } from '../../src/transport/websocket.js'
import { HypercoreError } from '../../src/errors.js'
import type { ByteStream } from '../../src/transport/types.js'
import type { RawStream } from '../../src/replication/secret-stream/index.js'
import { hex, fromHex } from '../../test/helpers/assert.js'
import { blockBytes, mismatches } from '../peers/blocks.js'

type Kind = 'memory' | 'idb'
const te = new TextEncoder()
const td = new TextDecoder()
let seq = 0

const cores: Hypercore[] = []
const streams: ByteStream[] = []
const databases: string[] = []
let reader: Hypercore | null = null
let writer: Hypercore | null = null
let appendEvents = 0

/** A storage place for one core: a fresh IndexedDB database name, or a memory directory. */
function place (kind: Kind, role: string): string | MemoryDirectory {
  if (kind === 'memory') return new MemoryDirectory()
  const name = `replication-${role}-${Date.now()}-${seq++}`
  databases.push(name)
  return name
}

async function open (storage: string | MemoryDirectory, key?: Uint8Array): Promise<Hypercore> {
  const core = key === undefined ? new Hypercore(storage) : new Hypercore(storage, key)
  await core.ready()
  cores.push(core)
  return core
}

const makeBlocks = (n: number, size: number): Uint8Array[] => Array.from({ length: n }, (_, i) => blockBytes(i, size))

function nextAppend (core: Hypercore): Promise<number> {
  return new Promise(resolve => core.once('append', () => resolve(core.length)))
}

async function local ({ kind, blocks, blockSize }: { kind: Kind, blocks: number, blockSize: number }): Promise<Record<string, unknown>> {
  const t0 = performance.now()
  const w = await open(place(kind, 'w'))
  await w.append(makeBlocks(blocks, blockSize))
  const readerPlace = place(kind, 'r')
  const r = await open(readerPlace, w.key!)
  const a = w.replicate(true, { keepAlive: false }) as unknown as ByteStream
  const b = r.replicate(false, { keepAlive: false }) as unknown as ByteStream
  a.pipe(b).pipe(a)

  const updated = await r.update({ wait: true })
  const sparseIndex = blocks - 3
  const sparse = await r.get(sparseIndex) as Uint8Array
  const hasNeighbour = await r.has(sparseIndex - 1)
  await r.download({ start: 0, end: blocks }).done()
  const got: Array<Uint8Array | null> = []
  for (let i = 0; i < blocks; i++) got.push(await r.get(i, { wait: false }) as Uint8Array | null)

  const appended = nextAppend(r)
  await w.append(te.encode('live block'))
  const lengthAfterEvent = await appended
  const live = td.decode(await r.get(blocks) as Uint8Array)
  const sameTree = hex(await r.treeHash()) === hex(await w.treeHash())
  const ms = Math.round(performance.now() - t0)
  a.destroy()
  b.destroy()

  // On IndexedDB the replicated blocks must be in the database: reopen and read them offline.
  let reopened: Record<string, unknown> | null = null
  if (kind === 'idb') {
    await r.close()
    const again = await open(readerPlace)
    const back: Array<Uint8Array | null> = []
    for (let i = 0; i < blocks; i++) back.push(await again.get(i, { wait: false }) as Uint8Array | null)
    reopened = { length: again.length, contiguousLength: again.contiguousLength, mismatches: mismatches(back, blockSize), live: td.decode(await again.get(blocks, { wait: false }) as Uint8Array) }
  }
  return {
    updated,
    length: blocks + 1,
    readerLength: r.length,
    sparseIndex,
    sparseHex: hex(sparse),
    hasNeighbour,
    mismatches: mismatches(got, blockSize),
    lengthAfterEvent,
    live,
    sameTree,
    reopened,
    ms
  }
}

/** Replicates `core` over a new WebSocket to `url` (we dial, so we are the initiator). */
function dialCore (core: Hypercore, url: string): void {
  const stream = connectWebSocket(url)
  streams.push(stream)
  // The cast: streamx's typings declare end(data) with a required argument, which RawStream's
  // end() does not accept (see the report; at run time any streamx Duplex is a RawStream).
  const protocol = core.replicate(true, { stream: stream as unknown as RawStream, keepAlive: false }) as unknown as ByteStream
  protocol.on('error', (err: Error) => console.log('replication stream error:', err.message))
}

async function read ({ url, key, blocks, blockSize, sparse, kind }: { url: string, key: string, blocks: number, blockSize: number, sparse: number, kind?: Kind }): Promise<Record<string, unknown>> {
  const r = reader = await open(place(kind ?? 'memory', 'from-node'), fromHex(key))
  r.on('append', () => { appendEvents++ })
  dialCore(r, url)
  const updated = await r.update({ wait: true })
  const length = r.length
  const sparseBlock = await r.get(sparse) as Uint8Array
  const hasNeighbour = await r.has(sparse === 0 ? 1 : sparse - 1)
  await r.download({ start: 0, end: blocks }).done()
  const got: Array<Uint8Array | null> = []
  for (let i = 0; i < blocks; i++) got.push(await r.get(i, { wait: false }) as Uint8Array | null)
  return { updated, length, sparseHex: hex(sparseBlock), hasNeighbour, mismatches: mismatches(got, blockSize), contiguousLength: r.contiguousLength }
}

async function live ({ index }: { index: number }): Promise<Record<string, unknown>> {
  const r = reader!
  while (r.length <= index) await nextAppend(r)
  return { length: r.length, appendEvents, text: td.decode(await r.get(index) as Uint8Array) }
}

async function write ({ blocks, blockSize, kind }: { blocks: number, blockSize: number, kind?: Kind }): Promise<string> {
  const w = writer = await open(place(kind ?? 'memory', 'to-node'))
  await w.append(makeBlocks(blocks, blockSize))
  return hex(w.key!)
}

function dial ({ url }: { url: string }): void { dialCore(writer!, url) }

async function append ({ text }: { text: string }): Promise<number> {
  await writer!.append(te.encode(text))
  return writer!.length
}

interface Ending { events: string[], error: { code: string | null, message: string } | null }

/** How `s` ends: its end/finish/close events in order and its error (code and message). */
function ending (s: ByteStream): Promise<Ending> {
  return new Promise(resolve => {
    const events: string[] = []
    let error: Ending['error'] = null
    s.on('end', () => events.push('end'))
    s.on('finish', () => events.push('finish'))
    s.on('error', (err: Error) => { error = { code: HypercoreError.is(err) ? err.code : null, message: err.message } })
    s.once('close', () => { events.push('close'); resolve({ events, error }) })
  })
}

function sameBytes (chunks: Uint8Array[], expected: Uint8Array[]): boolean {
  const flat = (cs: Uint8Array[]): number[] => cs.flatMap(c => Array.from(c))
  const a = flat(chunks)
  const b = flat(expected)
  return a.length === b.length && a.every((v, i) => v === b[i])
}

async function echo ({ url, sizes }: { url: string, sizes: number[] }): Promise<Record<string, unknown>> {
  const s = connectWebSocket(url + '/echo')
  const chunks = sizes.map((n, i) => blockBytes(i, n))
  const total = sizes.reduce((a, b) => a + b, 0)
  const end = ending(s)
  const got: Uint8Array[] = []
  let n = 0
  const all = new Promise<void>(resolve => s.on('data', (c: unknown) => { got.push(c as Uint8Array); n += (c as Uint8Array).byteLength; if (n >= total) resolve() }))
  // Written while still connecting: the stream holds them until the socket opens.
  for (const c of chunks) s.write(c)
  await all
  const same = sameBytes(got, chunks)
  s.end(undefined)
  return { same, received: n, ...(await end) }
}

let flood: { s: WebSocketStream, done: Promise<void>, written: () => number } | null = null

async function floodStart ({ url, hwm, chunk, max }: { url: string, hwm: number, chunk: number, max: number }): Promise<Record<string, unknown>> {
  const s = connectWebSocket(url + '/paused', { highWaterMark: hwm }) as WebSocketStream
  s.resume()
  let maxBuffered = 0
  const send = s.socket.send.bind(s.socket)
  s.socket.send = (d: Uint8Array) => { send(d); maxBuffered = Math.max(maxBuffered, s.socket.bufferedAmount) }
  let waiting = false
  let stop = false
  let written = 0
  let lastWrite = performance.now()
  const done = (async () => {
    for (let i = 0; i < max && !stop; i++) {
      const more = s.write(blockBytes(i, chunk))
      written += chunk
      lastWrite = performance.now()
      if (!more) {
        waiting = true
        await new Promise<void>(resolve => s.once('drain', () => resolve()))
        waiting = false
      }
    }
  })()
  flood = { s, done, written: () => written }
  // Stalled: the writer has waited for 'drain' for 300 ms while the socket holds more than
  // the mark (our stream is holding the write back). Chromium's bufferedAmount lags behind
  // the network, so a short wait alone is not a stall; the absence of progress has no event.
  const deadline = performance.now() + 30000
  while (!(waiting && s.socket.bufferedAmount > hwm && performance.now() - lastWrite > 300)) {
    if (performance.now() > deadline || written >= max * chunk) return { stalled: false, written, maxBuffered }
    await new Promise(resolve => setTimeout(resolve, 10))
  }
  stop = true
  return { stalled: true, written, maxBuffered, bufferedAmount: s.socket.bufferedAmount }
}

async function floodFinish (): Promise<Record<string, unknown>> {
  const f = flood!
  flood = null
  await f.done
  const end = ending(f.s)
  f.s.end(undefined)
  return { written: f.written(), ...(await end) }
}

async function watch ({ url }: { url: string }): Promise<Ending> {
  const s = connectWebSocket(url + '/watch')
  s.resume()
  const end = ending(s)
  s.write(te.encode('hello'))
  return await end
}

async function close (): Promise<void> {
  for (const s of streams.splice(0)) s.destroy()
  for (const c of cores.splice(0)) await c.close()
  for (const name of databases.splice(0)) await deleteDatabase(name)
  reader = writer = null
}

(globalThis as unknown as { testApi: unknown }).testApi = { local, read, live, write, dial, append, echo, floodStart, floodFinish, watch, close }
