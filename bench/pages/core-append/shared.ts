/**
 * @module bench/pages/core-append/shared
 * Helpers of the IndexedDB append benchmarks (bench/pages/core.page.ts): test blocks, cores
 * opened through the public API only (a name string = an IndexedDB database in the browser;
 * `MemoryDirectory` = memory storage), database cleanup, a time limit for a measurement that
 * may never finish, and counters of the page's IndexedDB traffic (kept by wrapping the
 * IndexedDB prototypes, so they do not depend on how the library is built inside).
 */
import { Hypercore, MemoryDirectory } from '../../../src/index.js'

export const KiB = 1024

export const round2 = (x: number): number => Math.round(x * 100) / 100

/** `n` distinct blocks of `size` bytes (cheap to make, not all zeros). */
export function blocksOf (n: number, size: number): Uint8Array[] {
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

/** A database name no other round uses. */
export const uniq = (tag: string): string => `bench-core-${tag}-${Date.now()}-${Math.random().toString(36).slice(2)}`

/** A new (or existing, by name) core in IndexedDB, ready. */
export async function idbCore (name: string): Promise<Hypercore> {
  const core = new Hypercore(name)
  await core.ready()
  return core
}

/** A new core on memory storage, ready. */
export async function memoryCore (): Promise<Hypercore> {
  const core = new Hypercore(new MemoryDirectory())
  await core.ready()
  return core
}

/** Opens (creating) a raw database with one object store `blocks`. */
export function openRawDb (name: string): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(name)
    req.onupgradeneeded = () => req.result.createObjectStore('blocks')
    req.onsuccess = () => resolve(req.result)
    req.onerror = () => reject(req.error)
  })
}

/**
 * Deletes a database, giving up after `ms` (a connection left open by a measurement that
 * did not finish blocks the deletion until the page closes, which then completes it).
 */
export function dropDatabase (name: string, ms = 5000): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms)
    const req = indexedDB.deleteDatabase(name)
    req.onsuccess = () => { clearTimeout(timer); resolve(true) }
    req.onerror = () => { clearTimeout(timer); resolve(false) }
  })
}

/** Closes a core and deletes its database, each step capped (a stuck core must not hang the page). */
export async function dispose (core: Hypercore, name: string | null, ms = 5000): Promise<void> {
  await within(core.close(), ms)
  if (name !== null) await dropDatabase(name, ms)
}

export type Limited<T> = { ok: true, value: T } | { ok: false }

/** `p`'s value, or `{ ok: false }` once `ms` have passed (p keeps running: stop it through its own flag). */
export function within<T> (p: Promise<T>, ms: number): Promise<Limited<T>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => resolve({ ok: false }), ms)
    p.then(value => { clearTimeout(timer); resolve({ ok: true, value }) }, err => { clearTimeout(timer); reject(err) })
  })
}

/** What a capped loop reports: how far it got, and a flag that tells it to stop early. */
export interface Progress { done: number, stop: boolean }

/** A figure's JSON when the measurement hit its time limit. */
export interface DidNotFinish { dnf: true, limitS: number, done: number, of: number }

export const dnf = (limitMs: number, p: Progress, of: number): DidNotFinish => ({ dnf: true, limitS: round2(limitMs / 1000), done: p.done, of })

/** IndexedDB traffic of the page since it loaded. */
export interface IdbCounts { readonlyTx: number, readwriteTx: number, readRequests: number }

const counts: IdbCounts = { readonlyTx: 0, readwriteTx: 0, readRequests: 0 }

export function idbCounts (): IdbCounts {
  return { ...counts }
}

export function idbCountsSince (before: IdbCounts): IdbCounts {
  return { readonlyTx: counts.readonlyTx - before.readonlyTx, readwriteTx: counts.readwriteTx - before.readwriteTx, readRequests: counts.readRequests - before.readRequests }
}

/**
 * Counts transactions by mode and read requests, whoever makes them (the library or the raw
 * reference): a few nanoseconds per call against milliseconds per transaction.
 */
function installCounters (): void {
  if (typeof IDBDatabase === 'undefined') return
  const tx = IDBDatabase.prototype.transaction
  IDBDatabase.prototype.transaction = function (this: IDBDatabase, ...args: Parameters<typeof tx>) {
    if (args[1] === 'readwrite') counts.readwriteTx++
    else counts.readonlyTx++
    return tx.apply(this, args)
  } as typeof tx
  const proto = IDBObjectStore.prototype as unknown as Record<string, (...a: unknown[]) => unknown>
  for (const m of ['get', 'getAll', 'getAllKeys', 'getKey', 'openCursor', 'openKeyCursor', 'count']) {
    const orig = proto[m]
    if (typeof orig !== 'function') continue
    proto[m] = function (this: unknown, ...a: unknown[]) {
      counts.readRequests++
      return orig.apply(this, a)
    }
  }
}

installCounters()

/** One timed round: its milliseconds and the IndexedDB traffic during it, or how far it got. */
export type Round = { ms: number, idb: IdbCounts } | DidNotFinish

/** Best (shortest) finished round of a variant, every round's time, and the first time-out if any. */
export interface Best { bestMs: number | null, allMs: number[], idb: IdbCounts | null, dnf: DidNotFinish | null }

/**
 * Runs `rounds` rounds of each variant, alternating them (a, b, a, b…), and keeps each one's
 * best round. A variant that hits its time limit is not run again (each retry would cost the
 * whole limit); its finished rounds, if any, still count.
 */
export async function alternate (rounds: number, variants: Array<() => Promise<Round>>): Promise<Best[]> {
  const out: Best[] = variants.map(() => ({ bestMs: null, allMs: [], idb: null, dnf: null }))
  for (let r = 0; r < rounds; r++) {
    for (let v = 0; v < variants.length; v++) {
      const o = out[v]!
      if (o.dnf !== null) continue
      const res = await variants[v]!()
      if ('dnf' in res) { o.dnf = res; continue }
      o.allMs.push(round2(res.ms))
      if (o.bestMs === null || res.ms < o.bestMs) { o.bestMs = round2(res.ms); o.idb = res.idb }
    }
  }
  return out
}

/** Items per second of a best round (null if none finished). */
export const perSec = (items: number, b: Best): number | null => b.bestMs === null ? null : Math.round(items / (b.bestMs / 1000))

export const ratioOf = (a: number | null, b: number | null): number | null => a === null || b === null ? null : round2(a / b)

/**
 * Times `run` on a fresh core from `open`, capped at `limitMs`, then closes the core and
 * deletes its database. `expect` is the length the core must reach.
 */
export async function timedOnCore (open: () => Promise<{ core: Hypercore, name: string | null }>, run: (core: Hypercore, p: Progress) => Promise<void>, expect: number, limitMs: number): Promise<Round> {
  const { core, name } = await open()
  const p: Progress = { done: 0, stop: false }
  const before = idbCounts()
  const t0 = performance.now()
  const r = await within(run(core, p), limitMs)
  const ms = performance.now() - t0
  const idb = idbCountsSince(before)
  p.stop = true
  if (r.ok && core.length !== expect) throw new Error(`core has ${core.length} blocks, expected ${expect}`)
  await dispose(core, name)
  return r.ok ? { ms, idb } : dnf(limitMs, p, expect)
}

export async function openIdb (): Promise<{ core: Hypercore, name: string }> {
  const name = uniq('idb')
  return { core: await idbCore(name), name }
}

export async function openMemory (): Promise<{ core: Hypercore, name: null }> {
  return { core: await memoryCore(), name: null }
}
