/**
 * @module bench/pages/idb.page
 * IndexedDB throughput (served at /bench/idb.html): our IdbStorage against raw IndexedDB
 * writing the same bytes, in the same page and run. `await testApi.run(opts)` returns JSON:
 * - ours, one tick: `totalMiB` written as sequential `chunk`-byte writes issued in one tick
 *   (→ one transaction of 64 KiB pages), then read back with `readChunk`-byte range reads
 *   from a freshly opened database (cold cache: every page comes from IndexedDB);
 * - ours, flushed groups: the same writes in groups of `groupMiB`, each awaited;
 * - raw: the same `chunk`-byte records `put` in ONE transaction (the fastest raw
 *   write measured), read back with getAll over key ranges of `readChunk` bytes or one getAll of all
 *   (the faster counts);
 * - raw, 64 KiB records: the same bytes as records of our page size, to show our own overhead.
 * MB = 10^6 bytes. Each variant runs `rounds` times; the best round is reported.
 */
import { IdbStorage } from '../../src/storage/indexeddb/database.js'
import { deleteDatabase } from '../../src/storage/indexeddb/connection.js'
import { promisify } from '../../src/storage/promises.js'

interface Opts { totalMiB?: number, chunk?: number, readChunk?: number, groupMiB?: number, rounds?: number }

const MB = 1e6

function chunks (total: number, chunk: number): Uint8Array[] {
  const out: Uint8Array[] = []
  for (let i = 0; i < total / chunk; i++) {
    const c = new Uint8Array(chunk)
    for (let j = 0; j < chunk; j += 64) c[j] = (i + j) & 0xff
    c[0] = i & 0xff
    c[1] = (i >> 8) & 0xff
    out.push(c)
  }
  return out
}

function check (got: Uint8Array, want: Uint8Array, what: string): void {
  if (got.byteLength !== want.byteLength || got[0] !== want[0] || got[1] !== want[1] || got[got.byteLength - 64] !== want[want.byteLength - 64]) {
    throw new Error(`${what}: read back wrong bytes`)
  }
}

async function oursRound (data: Uint8Array[], chunk: number, readChunk: number, groupBytes: number | null): Promise<{ write: number, read: number }> {
  const name = `bench-ours-${Date.now()}-${Math.random()}`
  const total = data.length * chunk
  const db = new IdbStorage(name)
  const f = promisify(db.file('data'))
  await f.open()
  const t0 = performance.now()
  const perGroup = groupBytes === null ? data.length : groupBytes / chunk
  for (let g = 0; g < data.length; g += perGroup) {
    const writes: Array<Promise<void>> = []
    for (let i = g; i < Math.min(data.length, g + perGroup); i++) writes.push(f.write(i * chunk, data[i]))
    await Promise.all(writes)
  }
  const t1 = performance.now()
  await db.close()
  const cold = new IdbStorage(name)
  const r = promisify(cold.file('data'))
  await r.stat()
  const t2 = performance.now()
  for (let off = 0; off < total; off += readChunk) {
    const got = await r.read(off, Math.min(readChunk, total - off))
    check(got.subarray(0, chunk), data[off / chunk], 'ours')
  }
  const t3 = performance.now()
  await cold.destroy()
  return { write: total / MB / ((t1 - t0) / 1000), read: total / MB / ((t3 - t2) / 1000) }
}

function rawOpen (name: string): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(name)
    req.onupgradeneeded = () => req.result.createObjectStore('records')
    req.onsuccess = () => resolve(req.result)
    req.onerror = () => reject(req.error)
  })
}

async function rawRound (data: Uint8Array[], chunk: number, readChunk: number): Promise<{ write: number, read: number }> {
  const name = `bench-raw-${Date.now()}-${Math.random()}`
  const total = data.length * chunk
  const db = await rawOpen(name)
  const t0 = performance.now()
  await new Promise<void>((resolve, reject) => {
    const tx = db.transaction('records', 'readwrite')
    const store = tx.objectStore('records')
    for (let i = 0; i < data.length; i++) store.put(data[i], i)
    tx.oncomplete = () => resolve()
    tx.onabort = () => reject(tx.error)
  })
  const t1 = performance.now()
  db.close()
  const cold = await rawOpen(name)
  const perRead = readChunk / chunk
  const t2 = performance.now()
  for (let i = 0; i < data.length; i += perRead) {
    const got = await new Promise<Uint8Array[]>((resolve, reject) => {
      const req = cold.transaction('records', 'readonly').objectStore('records').getAll(IDBKeyRange.bound(i, i + perRead - 1))
      req.onsuccess = () => resolve(req.result as Uint8Array[])
      req.onerror = () => reject(req.error)
    })
    check(got[0], data[i], 'raw')
  }
  const t3 = performance.now()
  // Also one getAll over everything (the fastest raw read); the better raw read counts.
  const whole = await new Promise<Uint8Array[]>((resolve, reject) => {
    const req = cold.transaction('records', 'readonly').objectStore('records').getAll()
    req.onsuccess = () => resolve(req.result as Uint8Array[])
    req.onerror = () => reject(req.error)
  })
  const t4 = performance.now()
  check(whole[whole.length - 1], data[data.length - 1], 'raw getAll')
  cold.close()
  await deleteDatabase(name)
  return { write: total / MB / ((t1 - t0) / 1000), read: total / MB / (Math.min(t3 - t2, t4 - t3) / 1000) }
}

/** The same bytes as 64 KiB records: raw IndexedDB with our page size, i.e. our pure overhead. */
function regroup (data: Uint8Array[], chunk: number, size: number): Uint8Array[] {
  const per = size / chunk
  const out: Uint8Array[] = []
  for (let i = 0; i < data.length; i += per) {
    const rec = new Uint8Array(size)
    for (let j = 0; j < per; j++) rec.set(data[i + j], j * chunk)
    out.push(rec)
  }
  return out
}

const round2 = (x: number): number => Math.round(x * 100) / 100

async function run (opts: Opts = {}): Promise<unknown> {
  const totalMiB = opts.totalMiB ?? 32
  const chunk = opts.chunk ?? 4096
  const readChunk = opts.readChunk ?? 4 * 1024 * 1024
  const groupMiB = opts.groupMiB ?? 4
  const rounds = opts.rounds ?? 3
  const data = chunks(totalMiB * 1024 * 1024, chunk)
  const data64k = regroup(data, chunk, 65536)
  const best = { oursTick: { write: 0, read: 0 }, oursGroups: { write: 0, read: 0 }, raw: { write: 0, read: 0 }, raw64k: { write: 0, read: 0 } }
  const all: Array<Record<string, unknown>> = []
  for (let i = 0; i < rounds; i++) {
    // Interleaved so that drift in the machine's speed hits every variant alike.
    const raw = await rawRound(data, chunk, readChunk)
    const tick = await oursRound(data, chunk, readChunk, null)
    const groups = await oursRound(data, chunk, readChunk, groupMiB * 1024 * 1024)
    const raw64k = await rawRound(data64k, 65536, readChunk)
    all.push({ raw, oursTick: tick, oursGroups: groups, raw64k })
    for (const [k, v] of [['raw', raw], ['oursTick', tick], ['oursGroups', groups], ['raw64k', raw64k]] as const) {
      best[k].write = Math.max(best[k].write, v.write)
      best[k].read = Math.max(best[k].read, v.read)
    }
  }
  const mbps = (v: { write: number, read: number }) => ({ writeMBps: round2(v.write), readMBps: round2(v.read) })
  return {
    runtime: navigator.userAgent,
    setup: { totalMiB, writeBytes: chunk, readBytes: readChunk, groupMiB, rounds, pageSize: 65536 },
    best: { raw: mbps(best.raw), raw64kRecords: mbps(best.raw64k), oursOneTick: mbps(best.oursTick), oursFlushGroups: mbps(best.oursGroups) },
    ratioToRaw: {
      oneTick: { write: round2(best.oursTick.write / best.raw.write), read: round2(best.oursTick.read / best.raw.read) },
      flushGroups: { write: round2(best.oursGroups.write / best.raw.write), read: round2(best.oursGroups.read / best.raw.read) }
    },
    ratioToRaw64kRecords: {
      oneTick: { write: round2(best.oursTick.write / best.raw64k.write), read: round2(best.oursTick.read / best.raw64k.read) },
      flushGroups: { write: round2(best.oursGroups.write / best.raw64k.write), read: round2(best.oursGroups.read / best.raw64k.read) }
    },
    rounds: all.map(r => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, mbps(v as { write: number, read: number })])))
  }
}

;(globalThis as unknown as { testApi: unknown }).testApi = { run }
