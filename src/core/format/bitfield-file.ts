/**
 * @module core/format/bitfield-file
 * The `bitfield` file (spec §6.3): one bit per block ("has block i"), kept in memory as
 * 4096-byte pages (32,768 bits each) of little-endian u32 words and written back page by page
 * at `pageIndex · 4096`. Pages are read lazily on first touch; pages never set stay holes.
 * Ranges and scans work a word (32 bits) at a time, so contiguousLength and download
 * bookkeeping stay cheap for millions of blocks.
 */
import { HypercoreError } from '../../errors.js'
import { promisify, type StoragePromises } from '../../storage/promises.js'
import type { RandomAccessStorage } from '../../storage/types.js'

export const BITFIELD_PAGE_BYTES = 4096
export const BITS_PER_PAGE = BITFIELD_PAGE_BYTES * 8
const WORDS_PER_PAGE = BITFIELD_PAGE_BYTES / 4

/**
 * The file is the raw memory of Uint32 words (§9: "host order", little-endian everywhere that
 * matters). On a big-endian host the words would land byte-swapped, so refuse rather than
 * write a file no one else can read.
 */
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1

interface Page {
  bytes: Uint8Array
  words: Uint32Array
  dirty: boolean
}

function _newPage (): Page {
  const bytes = new Uint8Array(BITFIELD_PAGE_BYTES)
  return { bytes, words: new Uint32Array(bytes.buffer), dirty: false }
}

function _popcount (x: number): number {
  x -= (x >>> 1) & 0x55555555
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333)
  return (((x + (x >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24
}

/** Index of the lowest set bit of a non-zero word. */
function _lowestBit (w: number): number {
  return 31 - Math.clz32(w & -w)
}

/** Bits [lo, hi) of a word as a mask, 0 ≤ lo < hi ≤ 32. */
function _mask (lo: number, hi: number): number {
  const upper = hi === 32 ? 0xffffffff : ((1 << hi) - 1)
  return (upper & ~((1 << lo) - 1)) >>> 0
}

function _checkIndex (i: number, name: string): void {
  if (!Number.isSafeInteger(i) || i < 0) throw HypercoreError.BAD_ARGUMENT(`${name} must be a non-negative integer, got ${String(i)}`)
}

export interface BitfieldFileOptions {
  /** Read every page at open, so the sync `has()` works everywhere. Default false (lazy). */
  preload?: boolean
}

export class BitfieldFile {
  readonly storage: RandomAccessStorage
  private readonly _io: StoragePromises
  private readonly _pages = new Map<number, Page>()
  private readonly _loading = new Map<number, Promise<Page | null>>()
  /** Bytes in the file as far as we know (stat at open, grown by our flushes). */
  private _fileBytes: number
  /** Pages that exist in the file (up to its size); pages at or past this are all zero. */
  private _filePages: number
  /** One past the highest page held in memory or on disk. */
  private _maxPage: number

  private constructor (storage: RandomAccessStorage, fileBytes: number) {
    this.storage = storage
    this._io = promisify(storage)
    this._fileBytes = fileBytes
    this._filePages = Math.ceil(fileBytes / BITFIELD_PAGE_BYTES)
    this._maxPage = this._filePages
  }

  /** Opens the bitfield over `storage` (stat only, unless `preload`). */
  static async open (storage: RandomAccessStorage, opts: BitfieldFileOptions = {}): Promise<BitfieldFile> {
    if (!LITTLE_ENDIAN) throw HypercoreError.STORAGE_NOT_SUPPORTED('the bitfield file format needs a little-endian host')
    const { size } = await promisify(storage).stat()
    const b = new BitfieldFile(storage, size)
    if (opts.preload === true) await b.loadAll()
    return b
  }

  /** Number of pages that are dirty (changed since the last flush). */
  get dirtyPages (): number {
    let n = 0
    for (const p of this._pages.values()) if (p.dirty) n++
    return n
  }

  /** One past the last bit that may be set (a multiple of 32768). */
  get bitLength (): number {
    return this._maxPage * BITS_PER_PAGE
  }

  /** Reads every page of the file into memory. */
  async loadAll (): Promise<void> {
    for (let p = 0; p < this._filePages; p++) await this._load(p)
  }

  /**
   * Loads the pages holding bits `[start, end]` (the page of `end` included). Afterwards a
   * `setRange` inside them, and a `firstUnset(end)` that ends in them, need no I/O: the core
   * reads before a mutation's commit point so nothing after it can fail on a read (§6.1).
   */
  async loadRange (start: number, end: number): Promise<void> {
    _checkIndex(start, 'start')
    _checkIndex(end, 'end')
    const last = Math.min(Math.floor(end / BITS_PER_PAGE), this._filePages - 1)
    for (let p = Math.floor(start / BITS_PER_PAGE); p <= last; p++) await this._load(p)
  }

  /** True if page `p` is in memory, or is known to be all zero without reading. */
  isLoaded (pageIndex: number): boolean {
    return this._pages.has(pageIndex) || pageIndex >= this._filePages
  }

  /** Bit `i`. Loads its page if needed. */
  async get (i: number): Promise<boolean> {
    _checkIndex(i, 'index')
    const page = await this._page(Math.floor(i / BITS_PER_PAGE), false)
    return page !== null && _bit(page, i % BITS_PER_PAGE)
  }

  /**
   * Bit `i`, synchronously, from pages already in memory (after `loadAll`/`preload`, or once
   * the page was touched). Throws ASSERTION if the page is on disk but not loaded.
   */
  has (i: number): boolean {
    _checkIndex(i, 'index')
    const p = Math.floor(i / BITS_PER_PAGE)
    const page = this._pages.get(p)
    if (page !== undefined) return _bit(page, i % BITS_PER_PAGE)
    if (p >= this._filePages) return false
    throw HypercoreError.ASSERTION(`bitfield page ${p} is not loaded: await get() or loadAll() first`)
  }

  /** Sets bit `i` to `value`. Returns true if it changed. */
  async set (i: number, value: boolean): Promise<boolean> {
    _checkIndex(i, 'index')
    const page = await this._page(Math.floor(i / BITS_PER_PAGE), value)
    if (page === null) return false // clearing a bit in a hole
    const local = i % BITS_PER_PAGE
    const w = local >>> 5
    const m = 1 << (local & 31)
    const old = page.words[w]!
    const next = value ? (old | m) : (old & ~m)
    if (next === old) return false
    page.words[w] = next
    page.dirty = true
    return true
  }

  /** Sets bits `[start, start + length)` to `value`, a word at a time. */
  async setRange (start: number, length: number, value: boolean): Promise<void> {
    _checkIndex(start, 'start')
    _checkIndex(length, 'length')
    const end = start + length
    let i = start
    while (i < end) {
      const p = Math.floor(i / BITS_PER_PAGE)
      const pageStart = p * BITS_PER_PAGE
      const lo = i - pageStart
      const hi = Math.min(end - pageStart, BITS_PER_PAGE)
      const page = await this._page(p, value)
      if (page !== null) {
        _fillPage(page.words, lo, hi, value)
        page.dirty = true
      }
      i = pageStart + hi
    }
  }

  /** The first set bit at or after `from`, or -1. */
  async firstSet (from = 0): Promise<number> {
    _checkIndex(from, 'from')
    for (let p = Math.floor(from / BITS_PER_PAGE); p < this._maxPage; p++) {
      const page = await this._page(p, false)
      if (page === null) continue
      const base = p * BITS_PER_PAGE
      const r = _scan(page.words, Math.max(0, from - base), false)
      if (r !== -1) return base + r
    }
    return -1
  }

  /** The first unset bit at or after `from` (always exists: past the end everything is 0). */
  async firstUnset (from = 0): Promise<number> {
    _checkIndex(from, 'from')
    let p = Math.floor(from / BITS_PER_PAGE)
    for (; p < this._maxPage; p++) {
      const page = await this._page(p, false)
      const base = p * BITS_PER_PAGE
      const local = Math.max(0, from - base)
      if (page === null) return base + local
      const r = _scan(page.words, local, true)
      if (r !== -1) return base + r
    }
    return Math.max(from, p * BITS_PER_PAGE)
  }

  /** Number of set bits in `[start, start + length)` (default: all of them). */
  async count (start = 0, length = Math.max(0, this.bitLength - start)): Promise<number> {
    _checkIndex(start, 'start')
    _checkIndex(length, 'length')
    const end = Math.min(start + length, this.bitLength)
    let n = 0
    let i = start
    while (i < end) {
      const p = Math.floor(i / BITS_PER_PAGE)
      const pageStart = p * BITS_PER_PAGE
      const hi = Math.min(end - pageStart, BITS_PER_PAGE)
      const page = await this._page(p, false)
      if (page !== null) n += _countPage(page.words, i - pageStart, hi)
      i = pageStart + hi
    }
    return n
  }

  /**
   * Writes dirty pages at `pageIndex · 4096` (§6.3); runs of adjacent dirty pages go out as
   * one write. Every write is issued at once (a storage that commits in issue order puts them
   * in one transaction). A page stays dirty if its write fails.
   */
  async flush (): Promise<void> {
    const dirty = [...this._pages.entries()].filter(([, pg]) => pg.dirty).map(([p]) => p).sort((a, b) => a - b)
    const writes: Array<Promise<void>> = []
    let k = 0
    while (k < dirty.length) {
      let run = 1
      while (k + run < dirty.length && dirty[k + run] === dirty[k]! + run) run++
      const first = dirty[k]!
      // Always a copy: the storage may keep the buffer, and set() may change a page mid-write.
      let buf: Uint8Array
      if (run === 1) {
        buf = this._pages.get(first)!.bytes.slice()
      } else {
        buf = new Uint8Array(run * BITFIELD_PAGE_BYTES)
        for (let j = 0; j < run; j++) buf.set(this._pages.get(first + j)!.bytes, j * BITFIELD_PAGE_BYTES)
      }
      // Clear the flags first: a set() racing with the write marks the page dirty again.
      for (let j = 0; j < run; j++) this._pages.get(first + j)!.dirty = false
      const n = run
      writes.push(this._io.write(first * BITFIELD_PAGE_BYTES, buf).then(() => {
        this._fileBytes = Math.max(this._fileBytes, (first + n) * BITFIELD_PAGE_BYTES)
        this._filePages = Math.ceil(this._fileBytes / BITFIELD_PAGE_BYTES)
      }, (err: unknown) => {
        for (let j = 0; j < n; j++) this._pages.get(first + j)!.dirty = true
        throw err
      }))
      k += run
    }
    await settleAll(writes)
  }

  /** Closes the file. Unflushed changes are lost (flush first). */
  async close (): Promise<void> {
    await this._io.close()
  }

  // --- internals -------------------------------------------------------------------------

  /**
   * Page `p`: from memory, else read from the file, else (past the file) a new zero page when
   * `create`, or null meaning "all zero". Concurrent loads of one page share one read.
   */
  private async _page (p: number, create: boolean): Promise<Page | null> {
    const have = this._pages.get(p)
    if (have !== undefined) return have
    if (p < this._filePages) {
      const page = await this._load(p)
      if (page !== null) return page
    }
    if (!create) return null
    const fresh = this._pages.get(p) ?? _newPage()
    this._pages.set(p, fresh)
    if (p >= this._maxPage) this._maxPage = p + 1
    return fresh
  }

  private _load (p: number): Promise<Page | null> {
    const have = this._pages.get(p)
    if (have !== undefined) return Promise.resolve(have)
    let pending = this._loading.get(p)
    if (pending === undefined) {
      pending = this._read(p).finally(() => this._loading.delete(p))
      this._loading.set(p, pending)
    }
    return pending
  }

  private async _read (p: number): Promise<Page | null> {
    const offset = p * BITFIELD_PAGE_BYTES
    // hypercore writes whole pages, but a file cut short mid-page must still load (zero-padded)
    const n = Math.min(BITFIELD_PAGE_BYTES, this._fileBytes - offset)
    if (n <= 0) return null
    const bytes = await this._io.read(offset, n)
    // Someone may have created the page while we read (a set past a stale size); keep theirs.
    const raced = this._pages.get(p)
    if (raced !== undefined) return raced
    const page = _newPage()
    page.bytes.set(bytes.subarray(0, n))
    this._pages.set(p, page)
    return page
  }
}

function _bit (page: Page, local: number): boolean {
  return (page.words[local >>> 5]! & (1 << (local & 31))) !== 0
}

/** Sets bits [lo, hi) of a page's words. */
function _fillPage (words: Uint32Array, lo: number, hi: number, value: boolean): void {
  if (lo >= hi) return
  const wlo = lo >>> 5
  const whi = (hi - 1) >>> 5
  if (wlo === whi) {
    const m = _mask(lo & 31, ((hi - 1) & 31) + 1)
    words[wlo] = value ? (words[wlo]! | m) : (words[wlo]! & ~m)
    return
  }
  const mFirst = _mask(lo & 31, 32)
  const mLast = _mask(0, ((hi - 1) & 31) + 1)
  words[wlo] = value ? (words[wlo]! | mFirst) : (words[wlo]! & ~mFirst)
  words.fill(value ? 0xffffffff : 0, wlo + 1, whi)
  words[whi] = value ? (words[whi]! | mLast) : (words[whi]! & ~mLast)
}

/** First bit at or after `local` that is set (or unset, with `invert`), -1 if none in the page. */
function _scan (words: Uint32Array, local: number, invert: boolean): number {
  let wi = local >>> 5
  if (wi >= WORDS_PER_PAGE) return -1
  const flip = invert ? 0xffffffff : 0
  let w = ((words[wi]! ^ flip) & _mask(local & 31, 32)) >>> 0
  while (w === 0) {
    if (++wi >= WORDS_PER_PAGE) return -1
    w = (words[wi]! ^ flip) >>> 0
  }
  return (wi << 5) + _lowestBit(w)
}

function _countPage (words: Uint32Array, lo: number, hi: number): number {
  if (lo >= hi) return 0
  const wlo = lo >>> 5
  const whi = (hi - 1) >>> 5
  if (wlo === whi) return _popcount(words[wlo]! & _mask(lo & 31, ((hi - 1) & 31) + 1))
  let n = _popcount(words[wlo]! & _mask(lo & 31, 32))
  for (let w = wlo + 1; w < whi; w++) n += _popcount(words[w]!)
  return n + _popcount(words[whi]! & _mask(0, ((hi - 1) & 31) + 1))
}

/** Waits for every promise, then rejects with the first failure (so each one's cleanup has run). */
async function settleAll (all: Array<Promise<void>>): Promise<void> {
  const results = await Promise.allSettled(all)
  for (const r of results) if (r.status === 'rejected') throw r.reason
}
