/**
 * @module storage/indexeddb/journal
 * The write-ahead journal of an IndexedDB database: a small commit stores only the bytes it
 * changed, as ONE record, instead of every page it touched.
 *
 * Why: Chromium charges a read-write transaction per request far more than per byte. An
 * append of one 1 KiB block changes a few hundred bytes of the oplog and 1 KiB of data, but
 * stored as pages it is three puts (its data page, its oplog page, the sizes record), about
 * twice the time of a transaction putting one small record. Journaled, it is one put.
 *
 * How it stays correct:
 * - a journal record lists, for each page the commit changed, the byte range it changed and
 *   those bytes, and the new size of each file it changed; records are keyed `[2, seq]` and
 *   replay in `seq` order on top of the page records (`replay`);
 * - a page changed by a journaled commit is *journaled*: its newest bytes exist only as its
 *   page record plus journal ranges, so memory keeps the whole page (never evicted) until a
 *   *checkpoint* stores it;
 * - a checkpoint is a commit in page mode that also stores every journaled page and the sizes
 *   record, and deletes every journal record, in one transaction: after it the pages alone are
 *   the truth. Any commit that is not a plain write (truncate, delete, unlink), or is large
 *   (its pages cost no more than its bytes), or would take the journal past its bounds, is a
 *   checkpoint; so is the last commit before the database is closed.
 *
 * A journal range replays over the page record that was stored when it was written, or over
 * a newer record only through a checkpoint, which deletes it: no range is ever applied over
 * bytes written after it.
 */
import { HypercoreError } from '../../errors.js'
import type { Batch, FileChanges } from './batch.js'

/** Journal records are keyed `[JOURNAL_KEY, seq]`: an array key starting with a number sorts apart from `[file, page]`. */
export const JOURNAL_KEY = 2
export const JOURNAL_RANGE_LO: [number, number] = [JOURNAL_KEY, 0]
export const JOURNAL_RANGE_HI: [number, number] = [JOURNAL_KEY, Number.MAX_SAFE_INTEGER]

/** A commit changing more bytes than this is stored as pages (a big write costs its bytes either way, and then again at the checkpoint). */
const MAX_COMMIT_BYTES = 16 * 1024
/** Journal bytes before a checkpoint: bounds replay at open and the records kept. */
const MAX_JOURNAL_BYTES = 256 * 1024
/** Journaled pages before a checkpoint: bounds the memory they pin (64 × 32 KiB pages: 2 MiB). */
const MAX_JOURNALED_PAGES = 64

/**
 * One journal record: `w` lists `file, page, offset, length` four entries per range (offsets
 * inside the page), `b` holds the ranges' bytes one after another, `s` each changed file's size.
 */
export interface JournalRecord { q: number, s: Record<string, number>, w: Array<string | number>, b: Uint8Array }

interface JournaledPage { name: string, page: number, bytes: Uint8Array }

export class Journal {
  /** The next record's sequence number. */
  seq = 0
  /** Bytes and records in the stored journal. */
  bytes = 0
  records = 0
  private readonly _pages = new Map<string, JournaledPage>()

  /** The newest bytes of a journaled page, or undefined if the page records alone tell. */
  lookup (name: string, page: number): Uint8Array | undefined {
    return this._pages.get(pageKey(name, page))?.bytes
  }

  get empty (): boolean {
    return this.records === 0 && this._pages.size === 0
  }

  /** True when `batch` may commit as one journal record; otherwise it commits as pages and checkpoints. */
  fits (batch: Batch): boolean {
    if (batch.checkpoint) return false
    let bytes = 0
    let newPages = 0
    for (const [name, f] of batch.files) {
      if (!f.journalable) return false
      for (const [page, p] of f.pages) {
        bytes += Math.max(0, p.hi - p.lo)
        if (!this._pages.has(pageKey(name, page))) newPages++
      }
    }
    return bytes <= MAX_COMMIT_BYTES && this.bytes + bytes <= MAX_JOURNAL_BYTES && this._pages.size + newPages <= MAX_JOURNALED_PAGES
  }

  /** The record that stores `batch` (see `fits`). */
  record (batch: Batch): JournalRecord {
    let total = 0
    for (const f of batch.files.values()) for (const p of f.pages.values()) total += Math.max(0, p.hi - p.lo)
    const b = new Uint8Array(total)
    const w: Array<string | number> = []
    const s: Record<string, number> = {}
    let at = 0
    for (const [name, f] of batch.files) {
      s[name] = f.size
      for (const [page, p] of f.pages) {
        if (p.hi <= p.lo) continue
        b.set(p.buf.subarray(p.lo, p.hi), at)
        w.push(name, page, p.lo, p.hi - p.lo)
        at += p.hi - p.lo
      }
    }
    return { q: this.seq, s, w, b }
  }

  /** `record` (of `batch`, whose pages are now exactly `pageBytes`) is durable. */
  committed (record: JournalRecord, batch: Batch, pageBytes: (f: FileChanges, page: number) => Uint8Array): void {
    this.seq = record.q + 1
    this.records++
    this.bytes += record.b.byteLength
    for (const [name, f] of batch.files) {
      for (const page of f.pages.keys()) this._pages.set(pageKey(name, page), { name, page, bytes: pageBytes(f, page) })
    }
  }

  /**
   * The journaled pages a checkpoint of `batch` stores: all but those the batch rewrites or
   * drops. Cut to size: structured clone stores a view's whole buffer, and a journaled page
   * may share one with room to grow.
   */
  pagesToStore (batch: Batch): Array<[string, number, Uint8Array]> {
    const out: Array<[string, number, Uint8Array]> = []
    for (const { name, page, bytes } of this._pages.values()) {
      const f = batch.files.get(name)
      if (f !== undefined && f.lookup(page) !== undefined) continue
      out.push([name, page, bytes.byteOffset === 0 && bytes.buffer.byteLength === bytes.byteLength ? bytes : bytes.slice()])
    }
    return out
  }

  /** A checkpoint is durable: the journaled pages are plain stored pages now (handed to `stored`, e.g. a cache). */
  checkpointed (stored: (name: string, page: number, bytes: Uint8Array) => void): void {
    for (const { name, page, bytes } of this._pages.values()) stored(name, page, bytes)
    this._pages.clear()
    this.bytes = 0
    this.records = 0
  }

  /** Forgets everything (the database was released or lost; what is stored replays at the next load). */
  reset (): void {
    this._pages.clear()
    this.bytes = 0
    this.records = 0
    this.seq = 0
  }

  /**
   * Loads the stored journal: `records` in key order, `stored` the page records they change
   * (fetched by the caller: `pagesOf(records)`). Returns each journaled file's size.
   */
  replay (records: JournalRecord[], stored: Map<string, Uint8Array | null>): Map<string, number> {
    this.reset()
    const sizes = new Map<string, number>()
    for (const r of records) {
      let at = 0
      for (let i = 0; i < r.w.length; i += 4) {
        const name = r.w[i] as string
        const page = r.w[i + 1] as number
        const offset = r.w[i + 2] as number
        const length = r.w[i + 3] as number
        const k = pageKey(name, page)
        const base = this._pages.get(k)?.bytes ?? stored.get(k) ?? null
        const bytes = grow(base, offset + length)
        bytes.set(r.b.subarray(at, at + length), offset)
        at += length
        this._pages.set(k, { name, page, bytes })
      }
      for (const [name, size] of Object.entries(r.s)) sizes.set(name, size)
      this.bytes += r.b.byteLength
      this.records++
      this.seq = r.q + 1
    }
    return sizes
  }
}

/**
 * The stored journal records, checked before anything is replayed: a record this library did
 * not write (another version, a damaged database) fails the open with STORAGE_IO instead of
 * replaying garbage. `pageSize` gives each file's page size (ranges stay inside a page).
 */
export function checkJournal (records: unknown[], pageSize: (name: string) => number): JournalRecord[] {
  for (const r of records) {
    if (!isJournalRecord(r, pageSize)) throw HypercoreError.STORAGE_IO('IndexedDB: a journal record of this database is malformed; it was not replayed')
  }
  return records as JournalRecord[]
}

function isJournalRecord (r: unknown, pageSize: (name: string) => number): boolean {
  if (typeof r !== 'object' || r === null) return false
  const { q, s, w, b } = r as Partial<JournalRecord>
  if (!isUint(q) || typeof s !== 'object' || s === null || !Array.isArray(w) || w.length % 4 !== 0 || !(b instanceof Uint8Array)) return false
  if (!Object.values(s).every(isUint)) return false
  let bytes = 0
  for (let i = 0; i < w.length; i += 4) {
    const [name, page, offset, length] = w.slice(i, i + 4)
    if (typeof name !== 'string' || !isUint(page) || !isUint(offset) || !isUint(length) || offset + length > pageSize(name)) return false
    bytes += length
  }
  return bytes === b.byteLength
}

function isUint (n: unknown): n is number {
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0
}

/** The `[file, page]` records the journal ranges of `records` apply to. */
export function pagesOf (records: JournalRecord[]): Array<[string, number]> {
  const seen = new Map<string, [string, number]>()
  for (const r of records) {
    for (let i = 0; i < r.w.length; i += 4) seen.set(pageKey(r.w[i] as string, r.w[i + 1] as number), [r.w[i] as string, r.w[i + 1] as number])
  }
  return [...seen.values()]
}

/** A page's key in the journal's maps. */
export function pageKey (name: string, page: number): string {
  return name + '\u0000' + page
}

/** A fresh copy of `base` at least `len` bytes long (the tail past `base` is zeros, as a short page record's). */
function grow (base: Uint8Array | null, len: number): Uint8Array {
  const out = new Uint8Array(Math.max(len, base?.byteLength ?? 0))
  if (base !== null) out.set(base)
  return out
}
