/**
 * @module storage/indexeddb/database
 * `IdbStorage`: one IndexedDB database holding all the files of a core (spec §6: oplog, tree,
 * bitfield, data, header), so one transaction can cover an append's data, tree and oplog
 * writes. `db.file(name)` returns a random-access file; `db` itself is a storage factory.
 *
 * How it stays fast and safe (NOTES-ENV: one put per transaction is 10× slower than one
 * transaction for many puts; getAll reads ranges ~3× faster than writes):
 * - files are split into fixed-size pages (64 KiB default); a write is merged into its pages;
 * - every mutation of one tick (or up to an explicit `flush()`) goes into ONE readwrite
 *   transaction, together with the new file sizes; a mutation's callback fires only after
 *   that transaction's `complete`;
 * - reads see pending writes; a read that needs stored pages makes ONE getAll request;
 * - a small LRU keeps committed pages, so sequential appends do not re-read their last page.
 * At most one transaction is in flight. Batches queued behind it were built on its pages, so
 * if it fails they fail with it: after a failure only committed bytes remain, in storage and
 * in what reads return.
 *
 * Every operation is ordered through one queue (`_enqueue`): a step that needs stored pages
 * waits for them before later steps run, so reads and writes apply in issue order.
 *
 * The connection is held only while files opened through this database are open: when the
 * last one closes, pending writes are committed and the connection is released (an open
 * connection blocks `indexedDB.deleteDatabase` and version upgrades for as long as the page
 * lives). Opening a file again reopens it transparently, re-reading sizes and pages (another
 * tab may have written in between). `close()` ends the database for good.
 */
import b4a from 'b4a'
import { promisifyRequest } from 'idb-keyval'
import { HypercoreError } from '../../errors.js'
import type { FileProvider, StorageFactory } from '../types.js'
import { Batch, FileChanges, MAX_PAGE, META_KEY, PageCache, SIZE_PAGE, type MetaRecord, type PageRecord, type SizeRecord } from './batch.js'
import { IdbConnection, assertIndexedDB, deleteDatabase, type TransactionHook } from './connection.js'
import { IdbFile } from './file.js'
import { nextMacrotask } from './tick.js'

export const DEFAULT_IDB_PAGE_SIZE = 65536
const FORMAT_VERSION = 1

export interface IdbStorageOptions {
  /** Page size in bytes for a NEW database (an existing one keeps the size it was made with). */
  pageSize?: number
  /** Committed pages kept in memory (default 32). */
  cachePages?: number
  /** Object store name (default 'pages'). */
  storeName?: string
  /** Test hook: called with every transaction before any request is made in it. */
  onTransaction?: TransactionHook
}

export class IdbStorage implements FileProvider {
  readonly name: string
  readonly connection: IdbConnection
  pageSize: number
  closed = false

  private readonly _cache: PageCache
  private readonly _sizes = new Map<string, number>()
  private _meta: 'unknown' | 'stored' | 'missing' = 'unknown'
  private _pending: Batch | null = null
  private _inflight: Batch | null = null
  private _scheduled = false
  private _applying = 0
  private _queued = 0
  private _deferred = false
  private _queue: Promise<unknown> = Promise.resolve()
  /** Files opened through this database and not closed yet (see the top of this file). */
  private _openFiles = 0

  constructor (name: string, opts: IdbStorageOptions = {}) {
    if (typeof name !== 'string' || name === '') throw HypercoreError.BAD_ARGUMENT('database name must be a non-empty string')
    const pageSize = opts.pageSize ?? DEFAULT_IDB_PAGE_SIZE
    if (!Number.isSafeInteger(pageSize) || pageSize < 512) throw HypercoreError.BAD_ARGUMENT('pageSize must be an integer ≥ 512')
    assertIndexedDB()
    this.name = name
    this.pageSize = pageSize
    this._cache = new PageCache(opts.cachePages ?? 32)
    this.connection = new IdbConnection(name, opts.storeName ?? 'pages')
    if (opts.onTransaction !== undefined) this.connection.onTransaction = opts.onTransaction
  }

  file (name: string): IdbFile {
    if (typeof name !== 'string') throw HypercoreError.BAD_ARGUMENT('file name must be a string')
    return new IdbFile(this, name)
  }

  get factory (): StorageFactory {
    return name => this.file(name)
  }

  /** Commits everything issued so far; resolves once it is durable (rejects with the typed fault). */
  async flush (): Promise<void> {
    await this._enqueue(() => {})
    const waits: Array<Promise<void>> = []
    if (this._inflight !== null) waits.push(this._inflight.done)
    if (this._pending !== null) waits.push(this._pending.done)
    this._kick(true)
    await Promise.all(waits)
  }

  /** Flushes, then closes the connection. Files opened on this database fail with STORAGE_CLOSED after. */
  async close (): Promise<void> {
    if (this.closed) return
    try {
      await this.flush()
    } finally {
      this.closed = true
      this._cache.clear()
      this._sizes.clear()
      await this.connection.close()
    }
  }

  /** Closes and deletes the whole database. */
  async destroy (): Promise<void> {
    await this.close().catch(() => {})
    await deleteDatabase(this.name)
  }

  /** Files currently open (their connection is held while this is above zero). */
  get openFiles (): number {
    return this._openFiles
  }

  // --- operations for IdbFile (each ordered through the queue) ---

  /** A file opens: counted at once, so a release racing with it keeps the connection. */
  _retain (): void {
    this._openFiles++
  }

  /**
   * A file closed. The last one commits what is pending and releases the connection, unless
   * another file opened meanwhile or new writes arrived (they keep it until their own close).
   */
  async _release (): Promise<void> {
    if (--this._openFiles > 0 || this.closed) return
    await this._releaseIfIdle()
  }

  /** Commits what is pending, then drops the connection and what was read through it, if no file is open. */
  private async _releaseIfIdle (): Promise<void> {
    try {
      await this.flush()
    } finally {
      await this._enqueue(async () => {
        if (this._openFiles > 0 || this._pending !== null || this._inflight !== null) return
        await this.connection.close()
        this._cache.clear()
        this._sizes.clear()
        this._meta = 'unknown'
      }).catch(() => {})
    }
  }

  _load (name: string): Promise<void> {
    return this._enqueue(async () => {
      if (this._knownSize(name) !== undefined && this._meta !== 'unknown') return
      const needMeta = this._meta === 'unknown'
      const [meta, size] = await this.connection.run('readonly', store => Promise.all([
        needMeta ? request<MetaRecord | undefined>(store.get(META_KEY)) : Promise.resolve(undefined),
        request<SizeRecord | undefined>(store.get([name, SIZE_PAGE]))
      ]))
      if (needMeta && this._meta === 'unknown') {
        if (meta !== undefined) this.pageSize = meta.pageSize
        this._meta = meta !== undefined ? 'stored' : 'missing'
      }
      if (this._knownSize(name) === undefined) this._sizes.set(name, size?.size ?? 0)
    })
  }

  _size (name: string): Promise<number> {
    return this._enqueue(() => this._currentSize(name))
  }

  _read (name: string, offset: number, size: number): Promise<Uint8Array> {
    return this._enqueue(async () => {
      if (offset + size > this._currentSize(name)) throw HypercoreError.STORAGE_OUT_OF_BOUNDS()
      const out = b4a.alloc(size)
      if (size === 0) return out
      const ps = this.pageSize
      const first = Math.floor(offset / ps)
      const last = Math.floor((offset + size - 1) / ps)
      const pages = await this._pages(name, first, last, last - first < 4)
      for (let page = first; page <= last; page++) {
        const bytes = pages[page - first]
        if (bytes === null || bytes === undefined) continue
        const start = page * ps
        const from = Math.max(offset, start)
        const to = Math.min(offset + size, start + bytes.byteLength)
        if (to > from) out.set(bytes.subarray(from - start, to - start), from - offset)
      }
      return out
    })
  }

  _write (name: string, offset: number, data: Uint8Array): Promise<void> {
    if (data.byteLength === 0) return this._enqueue(() => {}) // does not extend the file (as pwrite)
    const end = offset + data.byteLength
    return this._mutate(name, async (f, size) => {
      const ps = this.pageSize
      const first = Math.floor(offset / ps)
      const last = Math.floor((end - 1) / ps)
      // A page needs its old bytes unless the write covers everything stored in it.
      const needs = (page: number): boolean => {
        const start = page * ps
        const stored = Math.min(ps, Math.max(0, size - start))
        return !(offset <= start && end >= start + stored)
      }
      const edges = needs(first) || needs(last) ? await this._edgePages(name, first, last, needs) : new Map<number, Uint8Array | null>()
      for (let page = first; page <= last; page++) {
        const start = page * ps
        const from = Math.max(offset, start) - start
        const to = Math.min(end, start + ps) - start
        const p = this._pendingPage(f, page, edges.get(page) ?? null, to)
        p.buf.set(data.subarray(start + from - offset, start + to - offset), from)
      }
      f.size = Math.max(size, end)
    })
  }

  _truncate (name: string, length: number): Promise<void> {
    return this._mutate(name, (f, size) => this._cut(name, f, size, length))
  }

  _del (name: string, offset: number, length: number): Promise<void> {
    return this._mutate(name, async (f, size) => {
      if (offset >= size) return
      const end = offset + length
      if (end >= size) return this._cut(name, f, size, offset) // a range reaching the end truncates
      const ps = this.pageSize
      const firstFull = Math.ceil(offset / ps)
      const lastFull = Math.floor(end / ps) - 1
      f.drop(firstFull, lastFull)
      this._cache.drop(name, firstFull, lastFull)
      // Zero the partial pages at the edges (if they hold anything).
      for (const page of new Set([Math.floor(offset / ps), Math.floor((end - 1) / ps)])) {
        if (page >= firstFull && page <= lastFull) continue
        const [bytes] = await this._pages(name, page, page, true)
        if (bytes === null || bytes === undefined) continue
        const start = page * ps
        const from = Math.max(offset, start) - start
        const to = Math.min(end - start, bytes.byteLength)
        if (to <= from) continue
        this._pendingPage(f, page, bytes, 0).buf.fill(0, from, to)
      }
    })
  }

  async _unlink (name: string): Promise<void> {
    await this._mutate(name, (f) => {
      f.drop(0, MAX_PAGE)
      f.size = 0
      f.unlinked = true
      this._cache.drop(name, 0, MAX_PAGE)
    }, 0)
    // A file is unlinked after it closed (random-access semantics), so this may have
    // reopened a connection that no open file holds: let it go again.
    if (this._openFiles === 0 && !this.closed) await this._releaseIfIdle()
  }

  // --- internals ---

  private _enqueue<T> (step: () => T | Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(HypercoreError.STORAGE_CLOSED('IndexedDB storage is closed'))
    this._queued++
    const p = this._queue.then(step).finally(() => {
      // A commit that came due while operations were still queued waits for them: writes
      // issued in one tick stay in one transaction even when one of them had to read pages.
      if (--this._queued === 0 && this._deferred) {
        this._deferred = false
        this._kick()
      }
    })
    this._queue = p.catch(() => {})
    return p
  }

  /** Applies a change to the pending batch (in queue order), then waits for its transaction. */
  private async _mutate (name: string, change: (f: FileChanges, size: number) => void | Promise<void>, knownSize?: number): Promise<void> {
    const batch = await this._enqueue(async () => {
      // While a change waits for stored pages its batch must not start committing.
      this._applying++
      try {
        const size = knownSize ?? this._currentSize(name)
        const batch = this._batch()
        await change(batch.file(name, size), size)
        return batch
      } finally {
        this._applying--
      }
    })
    await batch.done
  }

  /** Truncates to `length`: drops whole pages past it, trims the page it ends in. */
  private async _cut (name: string, f: FileChanges, size: number, length: number): Promise<void> {
    if (length < size) {
      const ps = this.pageSize
      const keep = Math.ceil(length / ps)
      f.drop(keep, MAX_PAGE)
      this._cache.drop(name, keep, MAX_PAGE)
      const tail = length % ps
      if (tail !== 0) {
        const [bytes] = await this._pages(name, keep - 1, keep - 1, true)
        if (bytes !== null && bytes !== undefined && bytes.byteLength > tail) {
          const p = this._pendingPage(f, keep - 1, bytes, 0)
          p.buf.fill(0, tail, p.len)
          p.len = tail
        }
      }
    }
    f.size = length
  }

  /** The pending page to modify in place (copied from its current bytes on first touch). */
  private _pendingPage (f: FileChanges, page: number, base: Uint8Array | null, minLen: number) {
    let p = f.pages.get(page)
    if (p === undefined) {
      // First touch in this batch: copy, never modify committed or in-flight bytes.
      const buf = new Uint8Array(this.pageSize)
      if (base !== null) buf.set(base)
      p = { buf, len: base?.byteLength ?? 0 }
      f.pages.set(page, p)
    }
    p.len = Math.max(p.len, minLen)
    return p
  }

  /** Current bytes of the edge pages a write needs (middle pages are fully overwritten). */
  private async _edgePages (name: string, first: number, last: number, needs: (page: number) => boolean): Promise<Map<number, Uint8Array | null>> {
    const out = new Map<number, Uint8Array | null>()
    for (const page of new Set([first, last])) {
      if (!needs(page)) continue
      const [bytes] = await this._pages(name, page, page, true)
      out.set(page, bytes ?? null)
    }
    return out
  }

  /**
   * Current bytes of pages [first, last]: pending batch, then in-flight batch, then the cache
   * of committed pages, then ONE getAll over the key range of whatever is still missing.
   * `null` = hole (reads as zeros).
   */
  private async _pages (name: string, first: number, last: number, cache: boolean): Promise<Array<Uint8Array | null>> {
    const out: Array<Uint8Array | null | undefined> = []
    let lo = Infinity
    let hi = -Infinity
    const p = this._pending?.files.get(name)
    const q = this._inflight?.files.get(name)
    for (let page = first; page <= last; page++) {
      let bytes = p?.lookup(page)
      if (bytes === undefined) bytes = q?.lookup(page)
      if (bytes === undefined) bytes = this._cache.get(name, page)
      if (bytes === undefined) { lo = Math.min(lo, page); hi = Math.max(hi, page) }
      out.push(bytes)
    }
    if (lo <= hi) {
      const records = await this.connection.run('readonly', store =>
        request<PageRecord[]>(store.getAll(IDBKeyRange.bound([name, lo], [name, hi]))))
      const found = new Map<number, Uint8Array>()
      for (const r of records) found.set(r.i, r.b)
      for (let page = lo; page <= hi; page++) {
        if (out[page - first] !== undefined) continue
        const bytes = found.get(page) ?? null
        out[page - first] = bytes
        if (bytes !== null && cache) this._cache.set(name, page, bytes)
      }
    }
    return out as Array<Uint8Array | null>
  }

  private _knownSize (name: string): number | undefined {
    return this._pending?.files.get(name)?.size ?? this._inflight?.files.get(name)?.size ?? this._sizes.get(name)
  }

  private _currentSize (name: string): number {
    const size = this._knownSize(name)
    if (size === undefined) throw HypercoreError.ASSERTION(`IndexedDB file ${name} used before it was loaded`)
    return size
  }

  private _batch (): Batch {
    if (this._pending === null) {
      this._pending = new Batch()
      if (!this._scheduled) {
        this._scheduled = true
        nextMacrotask(() => { this._scheduled = false; this._kick() })
      }
    }
    return this._pending
  }

  /** Starts committing the pending batch unless a transaction is already in flight. */
  private _kick (force = false): void {
    if (this._applying > 0 || (!force && this._queued > 0)) { this._deferred = true; return }
    if (this._inflight !== null || this._pending === null) return
    const batch = this._pending
    this._pending = null
    this._inflight = batch
    batch.frozen = true
    const meta: MetaRecord | null = this._meta === 'stored' ? null : { version: FORMAT_VERSION, pageSize: this.pageSize }
    this.connection.run('readwrite', store => batch.apply(store, this.pageSize, meta)).then(() => {
      if (meta !== null) this._meta = 'stored'
      for (const [name, f] of batch.files) {
        for (const [lo, hi] of f.drops) this._cache.drop(name, lo, hi)
        for (const [page, pg] of f.pages) this._cache.set(name, page, pg.buf.subarray(0, pg.len))
        this._sizes.set(name, f.size)
      }
      this._inflight = null
      batch.resolve()
    }, (err: unknown) => {
      this._inflight = null
      // Whatever is pending was built on the failed batch's pages and sizes: it fails too.
      const dependent = this._pending
      this._pending = null
      batch.reject(err)
      if (dependent !== null) dependent.reject(err)
    }).finally(() => {
      if (this._pending !== null && !this._scheduled) this._kick()
    })
  }
}

function request<T> (req: IDBRequest): Promise<T> {
  return promisifyRequest(req as IDBRequest<T>)
}
