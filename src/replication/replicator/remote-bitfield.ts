/**
 * @module replication/replicator/remote-bitfield
 * What one peer has told us it stores (§5.7 "availability announcements"): a contiguous
 * prefix (from `range{start 0}`) plus sparse bits (from `range` and `bitfield` messages),
 * kept as lazily allocated pages of 32-bit words so a peer announcing a few blocks far
 * out costs a few KiB, not a bitmap of the whole core.
 */

const PAGE_BITS = 32768
const PAGE_WORDS = PAGE_BITS / 32
/** Most pages one peer may make us hold (4 KiB each: 64 MiB would be 2^31 blocks announced sparsely). */
const MAX_PAGES = 16384

export class RemoteBitfield {
  /** Blocks `[0, contiguousLength)` are all there. */
  contiguousLength = 0
  private readonly _pages = new Map<number, Uint32Array>()

  get (index: number): boolean {
    if (index < this.contiguousLength) return true
    const page = this._pages.get(Math.floor(index / PAGE_BITS))
    if (page === undefined) return false
    const local = index % PAGE_BITS
    return (page[local >>> 5]! & (1 << (local & 31))) !== 0
  }

  /** `range{drop:false}`: a start at or inside the prefix grows it; anything else sets bits. */
  setRange (start: number, length: number): void {
    if (length <= 0) return
    if (start <= this.contiguousLength) {
      this.contiguousLength = Math.max(this.contiguousLength, start + length)
      this._growPrefix()
      return
    }
    this._fill(start, start + length, true)
  }

  /** `range{drop:true}`: clears bits and cuts the prefix at `start`. */
  clearRange (start: number, length: number): void {
    if (length <= 0) return
    const end = start + length
    if (start < this.contiguousLength) {
      const oldPrefix = this.contiguousLength
      this.contiguousLength = start
      // What was past the cut inside the old prefix is still there: keep it as bits.
      if (end < oldPrefix) this._fill(end, oldPrefix, true)
    }
    this._fill(Math.max(start, this.contiguousLength), end, false)
  }

  /** A `bitfield` message overwrites the peer's bits for its span (§5.7). */
  applyWords (start: number, words: Uint32Array): void {
    for (let w = 0; w < words.length; w++) {
      const bit = start + 32 * w
      if (bit + 32 <= this.contiguousLength) continue
      const word = words[w]!
      if (word === 0 && !this._pages.has(Math.floor(bit / PAGE_BITS))) continue
      const page = this._page(Math.floor(bit / PAGE_BITS))
      if (page === null) return
      page[(bit % PAGE_BITS) >>> 5] = word
    }
    this._growPrefix()
  }

  /** Drops everything at and past `length` (the peer truncated, §3.5). */
  truncate (length: number): void {
    if (this.contiguousLength > length) this.contiguousLength = length
    for (const p of [...this._pages.keys()]) if (p * PAGE_BITS >= length) this._pages.delete(p)
    const last = this._pages.get(Math.floor(length / PAGE_BITS))
    if (last !== undefined) this._fill(length, (Math.floor(length / PAGE_BITS) + 1) * PAGE_BITS, false)
  }

  private _fill (start: number, end: number, value: boolean): void {
    for (let i = start; i < end;) {
      const p = Math.floor(i / PAGE_BITS)
      const pageEnd = Math.min(end, (p + 1) * PAGE_BITS)
      let page = this._pages.get(p)
      if (page === undefined) {
        if (!value) { i = pageEnd; continue }
        const made = this._page(p)
        if (made === null) return
        page = made
      }
      for (let j = i; j < pageEnd; j++) {
        const local = j % PAGE_BITS
        if ((local & 31) === 0 && j + 32 <= pageEnd) {
          page[local >>> 5] = value ? 0xffffffff : 0
          j += 31
          continue
        }
        if (value) page[local >>> 5]! |= (1 << (local & 31))
        else page[local >>> 5]! &= ~(1 << (local & 31))
      }
      i = pageEnd
    }
  }

  /** Moves bits that now continue the prefix into it (a whole word at a time where it can). */
  private _growPrefix (): void {
    for (;;) {
      const i = this.contiguousLength
      const page = this._pages.get(Math.floor(i / PAGE_BITS))
      if (page === undefined) return
      const local = i % PAGE_BITS
      if ((local & 31) === 0 && page[local >>> 5] === 0xffffffff) {
        this.contiguousLength += 32
        continue
      }
      if ((page[local >>> 5]! & (1 << (local & 31))) === 0) return
      this.contiguousLength++
    }
  }

  private _page (p: number): Uint32Array | null {
    let page = this._pages.get(p)
    if (page === undefined) {
      if (this._pages.size >= MAX_PAGES) return null
      page = new Uint32Array(PAGE_WORDS)
      this._pages.set(p, page)
    }
    return page
  }
}
