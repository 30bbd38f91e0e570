/**
 * @module bench/pages/core.page
 * Hypercore on IndexedDB in Chromium (served at /bench/core.html). `await testApi.run(opts)`
 * returns plain JSON for one of two benchmarks, each against a reference measured in the
 * same page and run:
 * - `{ kind: 'append', blocks, batches, rounds }`: append `blocks` 1 KiB blocks to a new core
 *   on IndexedDB in batches of each size in `batches` (every append awaited, so durable when
 *   it resolves), against raw IndexedDB putting the same 1 KiB blocks as records in ONE
 *   transaction. Rounds alternate ours/raw; the best round of each counts.
 * - `{ kind: 'open', big, small, blockSize, batch, rounds }`: builds a `big`-block and a
 *   `small`-block core (tiny blocks in large batches, so setup stays short), then times
 *   `new Hypercore(name)` → `ready()` → first `get` (the last block) on each, alternating;
 *   the median of each counts. Opening reads the header, not the core (core/open.ts).
 */
import { Hypercore } from '../../src/core/hypercore.js'
import { IdbStorage } from '../../src/storage/indexeddb/database.js'
import { deleteDatabase } from '../../src/storage/indexeddb/connection.js'

const KiB = 1024

function blocksOf (n: number, size: number): Uint8Array[] {
  const out: Uint8Array[] = []
  for (let i = 0; i < n; i++) {
    const b = new Uint8Array(size)
    for (let j = 0; j < size; j += 64) b[j] = (i + j) & 0xff
    b[0] = i & 0xff
    b[1] = (i >> 8) & 0xff
    out.push(b)
  }
  return out
}

const uniq = (tag: string): string => `bench-core-${tag}-${Date.now()}-${Math.random().toString(36).slice(2)}`

/** Blocks per second appending `blocks` in batches of `batch` to a new IndexedDB core. */
async function oursAppend (blocks: Uint8Array[], batch: number): Promise<number> {
  const name = uniq('append')
  const core = new Hypercore(new IdbStorage(name))
  await core.ready()
  const t0 = performance.now()
  for (let i = 0; i < blocks.length; i += batch) await core.append(blocks.slice(i, i + batch))
  const ms = performance.now() - t0
  if (core.length !== blocks.length) throw new Error(`appended ${core.length} of ${blocks.length}`)
  await core.close()
  await deleteDatabase(name)
  return blocks.length / (ms / 1000)
}

/** The same bytes regrouped into records of `size` bytes (64 KiB: our IdbStorage page size). */
function regroup (blocks: Uint8Array[], size: number): Uint8Array[] {
  const per = Math.max(1, Math.floor(size / blocks[0]!.byteLength))
  const out: Uint8Array[] = []
  for (let i = 0; i < blocks.length; i += per) {
    const group = blocks.slice(i, i + per)
    const rec = new Uint8Array(group.reduce((n, b) => n + b.byteLength, 0))
    let at = 0
    for (const b of group) { rec.set(b, at); at += b.byteLength }
    out.push(rec)
  }
  return out
}

/** Blocks per second putting the same bytes as `records` in ONE readwrite transaction. */
async function rawPut (records: Uint8Array[], blocks = records.length): Promise<number> {
  const name = uniq('raw')
  const db = await new Promise<IDBDatabase>((resolve, reject) => {
    const req = indexedDB.open(name)
    req.onupgradeneeded = () => req.result.createObjectStore('blocks')
    req.onsuccess = () => resolve(req.result)
    req.onerror = () => reject(req.error)
  })
  const t0 = performance.now()
  await new Promise<void>((resolve, reject) => {
    const tx = db.transaction('blocks', 'readwrite')
    const store = tx.objectStore('blocks')
    for (let i = 0; i < records.length; i++) store.put(records[i], i)
    tx.oncomplete = () => resolve()
    tx.onabort = () => reject(tx.error)
  })
  const ms = performance.now() - t0
  db.close()
  await deleteDatabase(name)
  return blocks / (ms / 1000)
}

export interface AppendOpts { blocks?: number, batches?: number[], rounds?: number }
export interface AppendRow {
  batch: number
  oursBlocksPerSec: number
  oursMBps: number
  /** Raw: one record per 1 KiB block, all in one transaction. */
  rawMBps: number
  ratio: number
  /** Raw: the same bytes as 64 KiB records (our page size) in one transaction: the harder reference. */
  raw64kMBps: number
  ratio64k: number
}

async function appendBench (opts: AppendOpts): Promise<{ blocks: number, rows: AppendRow[] }> {
  const n = opts.blocks ?? 10_000
  const rounds = opts.rounds ?? 3
  const blocks = blocksOf(n, KiB)
  const records64k = regroup(blocks, 64 * KiB)
  await oursAppend(blocks.slice(0, 500), 100) // warm up: sodium, JIT, IndexedDB
  await rawPut(blocks.slice(0, 500))
  const rows: AppendRow[] = []
  for (const batch of opts.batches ?? [100, 1000, 10_000]) {
    let ours = 0
    let raw = 0
    let raw64k = 0
    for (let r = 0; r < rounds; r++) {
      ours = Math.max(ours, await oursAppend(blocks, batch))
      raw = Math.max(raw, await rawPut(blocks))
      raw64k = Math.max(raw64k, await rawPut(records64k, blocks.length))
    }
    const mbps = (blocksPerSec: number): number => round2(blocksPerSec * KiB / 1e6)
    rows.push({
      batch,
      oursBlocksPerSec: Math.round(ours),
      oursMBps: mbps(ours),
      rawMBps: mbps(raw),
      ratio: round2(ours / raw),
      raw64kMBps: mbps(raw64k),
      ratio64k: round2(ours / raw64k)
    })
  }
  return { blocks: n, rows }
}

export interface OpenOpts { big?: number, small?: number, blockSize?: number, batch?: number, rounds?: number }

/** Builds a core of `length` tiny blocks in big batches; returns its name and the build time. */
async function build (length: number, blockSize: number, batch: number): Promise<{ name: string, ms: number }> {
  const name = uniq(`open-${length}`)
  const t0 = performance.now()
  const core = new Hypercore(new IdbStorage(name))
  await core.ready()
  const group = blocksOf(Math.min(batch, length), blockSize)
  for (let i = 0; i < length; i += batch) await core.append(group.slice(0, Math.min(batch, length - i)))
  await core.close()
  return { name, ms: Math.round(performance.now() - t0) }
}

/** ms from `new Hypercore` to `ready()` and a first `get` of the last block. */
async function openOnce (name: string, length: number): Promise<number> {
  const t0 = performance.now()
  const core = new Hypercore(new IdbStorage(name), { createIfMissing: false })
  await core.ready()
  const last = await core.get(length - 1) as Uint8Array
  const ms = performance.now() - t0
  if (core.length !== length || last.byteLength === 0) throw new Error(`opened ${core.length}, expected ${length}`)
  await core.close()
  return ms
}

async function openBench (opts: OpenOpts): Promise<unknown> {
  const big = opts.big ?? 1_000_000
  const small = opts.small ?? 1_000
  const blockSize = opts.blockSize ?? 8
  const batch = opts.batch ?? 50_000
  const rounds = opts.rounds ?? 7
  const b = await build(big, blockSize, batch)
  const s = await build(small, blockSize, batch)
  await openOnce(s.name, small) // warm up
  const bigMs: number[] = []
  const smallMs: number[] = []
  for (let r = 0; r < rounds; r++) {
    smallMs.push(await openOnce(s.name, small))
    bigMs.push(await openOnce(b.name, big))
  }
  await deleteDatabase(b.name)
  await deleteDatabase(s.name)
  const med = (xs: number[]): number => round2([...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!)
  return {
    big, small, blockSize, batch,
    buildMs: { big: b.ms, small: s.ms },
    openMs: { big: med(bigMs), small: med(smallMs), bigAll: bigMs.map(round2), smallAll: smallMs.map(round2) },
    ratio: round2(med(bigMs) / med(smallMs))
  }
}

const round2 = (x: number): number => Math.round(x * 100) / 100

async function run (opts: ({ kind: 'append' } & AppendOpts) | ({ kind: 'open' } & OpenOpts)): Promise<unknown> {
  if (opts.kind === 'append') return appendBench(opts)
  return openBench(opts)
}

;(globalThis as unknown as { testApi: unknown }).testApi = { run }
