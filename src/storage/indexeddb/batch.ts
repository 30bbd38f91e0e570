/**
 * @module storage/indexeddb/batch
 * The uncommitted changes of one IndexedDB transaction: per file, the pages written (merged
 * in place, so many small writes to one page cost one record), ranges of pages dropped by
 * truncate/del, and the new file size. A batch is filled during one tick, then frozen and
 * committed as ONE readwrite transaction; its `done` promise settles with that transaction.
 *
 * Record layout in the object store (out-of-line keys):
 *   [file, page]  → { i: page, b: Uint8Array }   page ≥ 0; `b` may be shorter than a page
 *                                                (missing tail bytes are zeros); carrying `i`
 *                                                lets one getAll() over a key range return
 *                                                pages with their numbers.
 *   0             → MetaRecord                   database meta (format version, page sizes, id)
 *   1             → { sizes: { [file]: size } }  format 2: every file's logical size
 *   [file, -1]    → { size }                     format 1: the file's logical size
 *   [2, seq]      → JournalRecord                format 3: a journaled commit (journal.ts)
 *
 * Format 2 keeps all sizes in one record because a transaction costs about a tenth of a
 * millisecond per request in Chromium, bytes mattering much less: an append then puts three
 * records (its data page, its oplog page, the sizes) where format 1 put four. Format 1
 * databases keep their layout. Format 3 adds the journal, so a small commit is one put.
 */

import { JOURNAL_RANGE_HI, JOURNAL_RANGE_LO } from './journal.js'

export const MAX_PAGE = Number.MAX_SAFE_INTEGER
export const SIZE_PAGE = -1
export const META_KEY = 0
export const SIZES_KEY = 1

export interface PageRecord { i: number, b: Uint8Array }
export interface SizeRecord { size: number }
export interface SizesRecord { sizes: Record<string, number> }
/**
 * `id` names this database's incarnation: written with the first commit (or added to an older
 * record that lacks it) and checked by the first transaction of every later connection, so a
 * database that was wiped and recreated under a live page is told apart from the one we
 * loaded (connection.ts). `pageSizes` (format 2) gives files of these names (or ending in
 * `/name`) their own page size; the others use `pageSize`.
 */
export interface MetaRecord { version: number, pageSize: number, pageSizes?: Record<string, number>, id?: string }

/** The page size of file `name` under `meta` (names match as hypercore@10's storage does: `x` or `…/x`). */
export function pageSizeOf (meta: MetaRecord, name: string): number {
  const sizes = meta.pageSizes
  if (sizes !== undefined) {
    for (const [file, size] of Object.entries(sizes)) if (name === file || name.endsWith('/' + file)) return size
  }
  return meta.pageSize
}

/**
 * A page being written: its buffer (at least `len` bytes, grown as writes need), the length
 * that is meaningful, the byte range `[lo, hi)` this batch wrote (what a journal record
 * stores; empty while `lo >= hi`), and how many leading bytes of `buf` other views share
 * (committed bytes this page appends to in place: never modified, database.ts `_pendingPage`).
 */
export interface PendingPage { buf: Uint8Array, len: number, lo: number, hi: number, shared: number }

export class FileChanges {
  readonly pages = new Map<number, PendingPage>()
  /** Inclusive page ranges to delete before the pages above are put. */
  readonly drops: Array<[number, number]> = []
  size: number
  readonly pageSize: number
  /**
   * The file was unlinked in this batch and not written since: its size record is deleted
   * instead of stored. A write or truncate after the unlink (a new file of the same name)
   * clears it, or the new file's pages would be stored without a size and turn up later
   * inside a hole.
   */
  unlinked = false
  /**
   * Only plain writes changed this file in the batch, so its changes are byte ranges a
   * journal record can carry (journal.ts); a drop, truncate or unlink clears it.
   */
  journalable = true

  constructor (size: number, pageSize: number) {
    this.size = size
    this.pageSize = pageSize
  }

  /** Page content in this batch: bytes, `null` for a page this batch dropped, `undefined` if untouched. */
  lookup (page: number): Uint8Array | null | undefined {
    const p = this.pages.get(page)
    if (p !== undefined) return p.buf.subarray(0, p.len)
    for (const [lo, hi] of this.drops) if (page >= lo && page <= hi) return null
    return undefined
  }

  drop (lo: number, hi: number): void {
    this.journalable = false
    if (lo > hi) return
    for (const page of this.pages.keys()) if (page >= lo && page <= hi) this.pages.delete(page)
    this.drops.push([lo, hi])
  }
}

export class Batch {
  readonly files = new Map<string, FileChanges>()
  readonly done: Promise<void>
  resolve!: () => void
  reject!: (err: unknown) => void
  /** Frozen once handed to a transaction: later writes go to a new batch. */
  frozen = false
  /** Commit as pages and store every journaled page with them (journal.ts), even if the batch is empty. */
  checkpoint = false

  constructor () {
    this.done = new Promise<void>((resolve, reject) => {
      this.resolve = resolve
      this.reject = reject
    })
    this.done.catch(() => {}) // waiters attach their own handlers; avoid an unhandled rejection
  }

  file (name: string, currentSize: number, pageSize: number): FileChanges {
    let f = this.files.get(name)
    if (f === undefined) this.files.set(name, f = new FileChanges(currentSize, pageSize))
    return f
  }

  /**
   * Issues this batch's requests on `store` as pages (re-runnable: a retry after a lost
   * connection issues the same requests again). `sizes`: format 2's record of every file's
   * size (null: format 1, one size record per file). A checkpoint (`journaled`: the journaled
   * pages this batch does not rewrite) stores those pages first, then deletes the journal.
   * Drops come after them and before the batch's pages, so a page rewritten after a truncate
   * in the same batch survives and a journaled page the batch dropped does not.
   */
  apply (store: IDBObjectStore, meta: MetaRecord | null, sizes: Record<string, number> | null, journaled: Array<[string, number, Uint8Array]> | null = null): void {
    if (meta !== null) store.put(meta, META_KEY)
    if (journaled !== null) {
      for (const [name, page, bytes] of journaled) store.put({ i: page, b: bytes } satisfies PageRecord, [name, page])
      store.delete(IDBKeyRange.bound(JOURNAL_RANGE_LO, JOURNAL_RANGE_HI))
    }
    for (const [name, f] of this.files) {
      for (const [lo, hi] of f.drops) store.delete(IDBKeyRange.bound([name, lo], [name, hi]))
      for (const [page, p] of f.pages) store.put({ i: page, b: committedBytes(p) } satisfies PageRecord, [name, page])
      if (sizes !== null) continue
      if (f.unlinked) store.delete([name, SIZE_PAGE])
      else store.put({ size: f.size } satisfies SizeRecord, [name, SIZE_PAGE])
    }
    if (sizes !== null) store.put({ sizes } satisfies SizesRecord, SIZES_KEY)
  }
}

/**
 * The exact bytes stored for a page. Structured clone copies a view's WHOLE ArrayBuffer, so a
 * buffer longer than the page's bytes is cut to size once here (pending pages are allocated
 * at the size their writes need, so usually it is not).
 */
export function committedBytes (p: PendingPage): Uint8Array {
  if (p.len === p.buf.byteLength && p.buf.byteOffset === 0 && p.buf.buffer.byteLength === p.len) return p.buf
  const out = new Uint8Array(p.len)
  out.set(p.buf.subarray(0, p.len))
  p.buf = out
  return out
}

/** A small LRU of COMMITTED pages, so sequential appends find their last partial page without a read. */
export class PageCache {
  private readonly _max: number
  private readonly _map = new Map<string, { name: string, page: number, bytes: Uint8Array }>()

  constructor (max: number) {
    this._max = max
  }

  get (name: string, page: number): Uint8Array | undefined {
    const key = name + '\u0000' + page
    const e = this._map.get(key)
    if (e === undefined) return undefined
    this._map.delete(key)
    this._map.set(key, e)
    return e.bytes
  }

  set (name: string, page: number, bytes: Uint8Array): void {
    if (this._max === 0) return
    const key = name + '\u0000' + page
    this._map.delete(key)
    this._map.set(key, { name, page, bytes })
    if (this._map.size > this._max) this._map.delete(this._map.keys().next().value as string)
  }

  delete (name: string, page: number): void {
    this._map.delete(name + '\u0000' + page)
  }

  drop (name: string, lo: number, hi: number): void {
    for (const [key, e] of this._map) if (e.name === name && e.page >= lo && e.page <= hi) this._map.delete(key)
  }

  clear (): void {
    this._map.clear()
  }
}
