/**
 * @module replication/replicator/remote-bitfield
 * What one peer has told us it stores (§5.7 "availability announcements"), in memory that
 * does not depend on the lengths the peer names:
 *
 * - **runs**: sorted, disjoint intervals `[start, end)` for long claims (`range` messages of
 *   64 blocks or more, whole words of ones in a `bitfield`, a block announced right next to a
 *   run). One run costs 16 bytes whatever its length: `range{start 0, length 2^52}` is one run.
 * - **pages**: 32,768-bit pages of words, allocated only where a short claim lands (a single
 *   block announced far from any run, a `bitfield` word that is not all ones).
 *
 * Every operation costs O(log runs) plus the runs and pages it actually touches (which exist,
 * and which the budgets bound), never the span of a message. Pages are charged to budgets
 * (budget.ts: the peer's cap, its core's, the process's); when one is full, pages are
 * forgotten (`lossy`): a forgotten block only looks absent from this peer.
 */
import { Budget, type BudgetHolder } from './budget.js'

const PAGE_BITS = 32768
const PAGE_WORDS = PAGE_BITS / 32
export const PAGE_BYTES = PAGE_WORDS * 4
/** What one run is charged (two doubles). */
export const RUN_BYTES = 16
/** Claims at least this long are kept as a run, not as bits. */
const RUN_MIN = 64
/** Indexes past this are not blocks anyone can have (and lose precision in a double). */
const MAX_INDEX = Number.MAX_SAFE_INTEGER
const FULL = 0xffffffff

export interface RemoteBitfieldOptions {
  /** The budget pages and runs are charged to (its ancestors too); null: unlimited. */
  budget?: Budget | null
  /** Most bytes this peer's announcements may take (its own oldest pages go first). */
  maxBytes?: number
  /** Most runs (disjoint long claims) kept; further ones are forgotten. Default 16384. */
  maxRuns?: number
}

export class RemoteBitfield implements BudgetHolder {
  /** Something announced was forgotten (a cap or budget was full). */
  lossy = false
  private readonly _starts: number[] = []
  private readonly _ends: number[] = []
  private readonly _pages = new Map<number, Uint32Array>()
  private _bytes = 0
  private readonly _budget: Budget | null
  private readonly _maxBytes: number
  private readonly _maxRuns: number

  constructor (opts: RemoteBitfieldOptions = {}) {
    this._budget = opts.budget ?? null
    this._maxBytes = opts.maxBytes ?? Infinity
    this._maxRuns = opts.maxRuns ?? 16384
    this._budget?.add(this)
  }

  /** Bytes this structure is charged for (pages and runs). */
  get bytes (): number { return this._bytes }
  get pageCount (): number { return this._pages.size }
  get runCount (): number { return this._starts.length }
  /** Blocks `[0, contiguousLength)` are all claimed (the run starting at 0, if any). */
  get contiguousLength (): number { return this._starts.length > 0 && this._starts[0] === 0 ? this._ends[0]! : 0 }

  get (index: number): boolean {
    const n = this._starts.length
    if (n > 0) {
      if (index < this._ends[0]!) {
        if (index >= this._starts[0]!) return true
      } else {
        const k = this._runAfter(index)
        if (k < n && this._starts[k]! <= index) return true
      }
    }
    if (this._pages.size === 0) return false
    const page = this._pages.get(Math.floor(index / PAGE_BITS))
    if (page === undefined) return false
    const local = index % PAGE_BITS
    return (page[local >>> 5]! & (1 << (local & 31))) !== 0
  }

  /** `range{drop:false}`: the peer has `[start, start + length)`. */
  setRange (start: number, length: number): void {
    if (!(length > 0) || !(start >= 0) || start >= MAX_INDEX) return
    const end = Math.min(start + length, MAX_INDEX)
    if (end - start >= RUN_MIN || this._touchesRun(start, end)) this._addRun(start, end)
    else this._setBits(start, end)
  }

  /** `range{drop:true}`: the peer no longer has `[start, start + length)`. */
  clearRange (start: number, length: number): void {
    if (!(length > 0) || !(start >= 0) || start >= MAX_INDEX) return
    this._removeSpan(start, Math.min(start + length, MAX_INDEX))
  }

  /** A `bitfield` message overwrites the peer's bits for its span (§5.7). */
  applyWords (start: number, words: Uint32Array): void {
    // hypercore@10 ignores a bitfield that does not start on a word.
    if (words.length === 0 || start % 32 !== 0) return
    const end = start + 32 * words.length
    if (!Number.isSafeInteger(end)) return
    this._removeSpan(start, end)
    let pageIndex = -1
    let page: Uint32Array | null = null
    for (let w = 0; w < words.length; w++) {
      const word = words[w]!
      if (word === 0) continue
      if (word === FULL) {
        let v = w + 1
        while (v < words.length && words[v] === FULL) v++
        if ((v - w) * 32 >= RUN_MIN) {
          this._addRun(start + 32 * w, start + 32 * v)
          w = v - 1
          continue
        }
      }
      const bit = start + 32 * w
      const p = Math.floor(bit / PAGE_BITS)
      if (p !== pageIndex) {
        pageIndex = p
        page = this._page(p, true)
      }
      if (page !== null) page[(bit % PAGE_BITS) >>> 5] = word
    }
  }

  /** Drops everything at and past `length` (the peer truncated, §3.5). */
  truncate (length: number): void {
    if (length < MAX_INDEX) this._removeSpan(Math.max(0, length), MAX_INDEX)
  }

  /** Forgets the oldest page (or the last run): for budgets under pressure. */
  evict (): number {
    this.lossy = true
    const first = this._pages.keys().next()
    if (first.done !== true) {
      this._pages.delete(first.value)
      this._uncharge(PAGE_BYTES)
      return PAGE_BYTES
    }
    if (this._starts.length === 0) return 0
    this._starts.pop()
    this._ends.pop()
    this._uncharge(RUN_BYTES)
    return RUN_BYTES
  }

  /** Frees everything and leaves the budget (the peer is gone). Idempotent. */
  dispose (): void {
    this._pages.clear()
    this._starts.length = 0
    this._ends.length = 0
    this._uncharge(this._bytes)
    this._budget?.remove(this)
  }

  // --- runs ------------------------------------------------------------------------------

  /** The first run whose end is past `x`. */
  private _runAfter (x: number): number {
    let lo = 0
    let hi = this._ends.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (this._ends[mid]! > x) hi = mid
      else lo = mid + 1
    }
    return lo
  }

  /** The first run whose end is at or past `x` (a run ending at x touches x). */
  private _runTouching (x: number): number {
    let lo = 0
    let hi = this._ends.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (this._ends[mid]! >= x) hi = mid
      else lo = mid + 1
    }
    return lo
  }

  /** The first run starting after `x`. */
  private _startAfter (x: number): number {
    let lo = 0
    let hi = this._starts.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (this._starts[mid]! > x) hi = mid
      else lo = mid + 1
    }
    return lo
  }

  /** `[s, e)` overlaps or is adjacent to a run (so it extends that run, no page needed). */
  private _touchesRun (s: number, e: number): boolean {
    const k = this._runTouching(s)
    return k < this._starts.length && this._starts[k]! <= e
  }

  private _addRun (s: number, e: number): void {
    const k1 = this._runTouching(s)
    const k2 = this._startAfter(e)
    if (k1 >= k2) {
      if (this._starts.length >= this._maxRuns || !this._charge(RUN_BYTES)) {
        this.lossy = true
        return
      }
      this._starts.splice(k1, 0, s)
      this._ends.splice(k1, 0, e)
    } else {
      s = Math.min(s, this._starts[k1]!)
      e = Math.max(e, this._ends[k2 - 1]!)
      this._starts.splice(k1, k2 - k1, s)
      this._ends.splice(k1, k2 - k1, e)
      this._uncharge((k2 - k1 - 1) * RUN_BYTES)
    }
    // Pages wholly inside the run say nothing more.
    this._forPages(s, e, (p, lo, hi) => { if (lo === 0 && hi === PAGE_BITS) this._deletePage(p) })
  }

  private _removeSpan (s: number, e: number): void {
    const k1 = this._runAfter(s)
    const k2 = this._startAfter(e - 1)
    if (k1 < k2) {
      const left = this._starts[k1]! < s ? this._starts[k1]! : -1
      const right = this._ends[k2 - 1]! > e ? this._ends[k2 - 1]! : -1
      const keepS: number[] = []
      const keepE: number[] = []
      if (left !== -1) { keepS.push(left); keepE.push(s) }
      // A split needs one more run: when none may be added, forget the right part.
      if (right !== -1 && (left === -1 || k2 - k1 > 1 || (this._starts.length < this._maxRuns && this._charge(RUN_BYTES)))) {
        keepS.push(e)
        keepE.push(right)
      } else if (right !== -1) {
        this.lossy = true
      }
      const removed = k2 - k1
      this._starts.splice(k1, removed, ...keepS)
      this._ends.splice(k1, removed, ...keepE)
      const freed = removed - keepS.length
      if (freed > 0) this._uncharge(freed * RUN_BYTES)
    }
    this._forPages(s, e, (p, lo, hi) => {
      if (lo === 0 && hi === PAGE_BITS) {
        this._deletePage(p)
        return
      }
      const page = this._pages.get(p)!
      _fill(page, lo, hi, false)
      if (_isEmpty(page)) this._deletePage(p)
    })
  }

  // --- pages -----------------------------------------------------------------------------

  private _setBits (s: number, e: number): void {
    for (let i = s; i < e;) {
      const p = Math.floor(i / PAGE_BITS)
      const base = p * PAGE_BITS
      const hi = Math.min(e - base, PAGE_BITS)
      const page = this._page(p, true)
      if (page !== null) {
        _fill(page, i - base, hi, true)
        if (page[(hi - 1) >>> 5] === FULL && _isFull(page)) {
          // A page of ones is one run.
          this._deletePage(p)
          this._addRun(base, base + PAGE_BITS)
        }
      }
      i = base + hi
    }
  }

  /**
   * Calls `fn(page, lo, hi)` for each existing page meeting `[s, e)`, with the local bit span:
   * O(min(pages in the span, pages held)), never the span itself.
   */
  private _forPages (s: number, e: number, fn: (p: number, lo: number, hi: number) => void): void {
    if (this._pages.size === 0) return
    const first = Math.floor(s / PAGE_BITS)
    const last = Math.floor((e - 1) / PAGE_BITS)
    const span = (p: number): void => {
      const base = p * PAGE_BITS
      fn(p, Math.max(s - base, 0), Math.min(e - base, PAGE_BITS))
    }
    if (last - first < this._pages.size) {
      for (let p = first; p <= last; p++) if (this._pages.has(p)) span(p)
    } else {
      for (const p of [...this._pages.keys()]) if (p >= first && p <= last) span(p)
    }
  }

  private _page (p: number, create: boolean): Uint32Array | null {
    const have = this._pages.get(p)
    if (have !== undefined || !create) return have ?? null
    if (!this._charge(PAGE_BYTES)) {
      this.lossy = true
      return null
    }
    const page = new Uint32Array(PAGE_WORDS)
    this._pages.set(p, page)
    return page
  }

  private _deletePage (p: number): void {
    if (this._pages.delete(p)) this._uncharge(PAGE_BYTES)
  }

  // --- budget ----------------------------------------------------------------------------

  private _charge (n: number): boolean {
    while (this._bytes + n > this._maxBytes) {
      const first = this._pages.keys().next()
      if (first.done === true) return false
      this.lossy = true
      this._deletePage(first.value)
    }
    if (this._budget !== null && !this._budget.reserve(this, n)) return false
    this._bytes += n
    this._budget?.charge(n)
    return true
  }

  private _uncharge (n: number): void {
    if (n <= 0) return
    this._bytes -= n
    this._budget?.release(n)
  }
}

/** Sets or clears bits `[lo, hi)` of a page, a word at a time. */
function _fill (page: Uint32Array, lo: number, hi: number, value: boolean): void {
  let i = lo
  while (i < hi) {
    const w = i >>> 5
    const bit = i & 31
    const n = Math.min(32 - bit, hi - i)
    const mask = n === 32 ? FULL : (((1 << n) - 1) << bit) >>> 0
    page[w] = value ? (page[w]! | mask) : (page[w]! & ~mask)
    i += n
  }
}

function _isFull (page: Uint32Array): boolean {
  for (let w = 0; w < PAGE_WORDS; w++) if (page[w] !== FULL) return false
  return true
}

function _isEmpty (page: Uint32Array): boolean {
  for (let w = 0; w < PAGE_WORDS; w++) if (page[w] !== 0) return false
  return true
}
