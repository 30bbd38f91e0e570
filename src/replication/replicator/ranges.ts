/**
 * @module replication/replicator/ranges
 * `core.download(range)` with peers (seed; §5.7): `{start, end}` (end -1 follows the core
 * forever), `{blocks}`, `linear`. Each range keeps a cursor at its first block not yet
 * stored, so a scheduling pass looks at a bounded window past it, never the whole range.
 * Progress ('progress' events: blocks and bytes done of the total) is counted from the
 * core's own updates, so a page can draw a bar; `done()` resolves once every block is
 * stored, `destroy()` rejects it with REQUEST_CANCELLED and cancels what only it wanted.
 */
import { EventEmitter } from 'events'
import { HypercoreError } from '../../errors.js'
import { tick } from './types.js'
import type { CoreUpdate } from '../../core/core.js'
import type { Replicator } from './replicator.js'
import { RemoteBitfield } from './remote-bitfield.js'

export interface RangeSpec {
  start?: number
  /** Exclusive; -1 follows the core as it grows (never done). */
  end?: number
  blocks?: number[]
  /** Fetch in order (ours always go in order; kept for API compatibility). */
  linear?: boolean
}

export interface RangeProgress {
  /** Blocks of the range stored locally. */
  blocks: number
  /** Blocks in the range (for end -1: up to the core's current length). */
  totalBlocks: number
  /** Bytes downloaded for this range since it started (stored sizes). */
  bytes: number
}

/** How far past its cursor a range looks per pass (bounds the work when nobody has blocks). */
const SCAN_WINDOW = 4096

export class RangeHandle extends EventEmitter {
  readonly start: number
  readonly end: number
  readonly blocks: number[] | null
  readonly linear: boolean
  destroyed = false
  private readonly _rep: Replicator
  /** Blocks of the range counted as stored (runs + sparse pages, not one entry per block; never forgets). */
  private readonly _have = new RemoteBitfield({ maxRuns: Infinity })
  private _count = 0
  private _bytes = 0
  private _cursor = 0
  /**
   * Scan start: every index in [cursor, next) was stored or asked for, so a pass starts
   * here instead of walking the whole in-flight window again (one pass per answer). A
   * request that ends without the block (noData, cancel, a dropped peer) resets it (`rescan`).
   */
  private _next = 0
  private _ready = false
  /** Updates that arrived before `_init` finished, replayed once it has. */
  private readonly _early: Array<[CoreUpdate, number]> = []
  private _resolve: () => void = () => {}
  private _reject: (err: Error) => void = () => {}
  private readonly _done: Promise<void>
  /** @internal When it was made, on the requests' `tick()` clock. */
  readonly createdAt = tick()

  constructor (rep: Replicator, spec: RangeSpec) {
    super()
    const start = spec.start ?? 0
    const end = spec.end ?? -1
    if (!Number.isSafeInteger(start) || start < 0) throw HypercoreError.BAD_ARGUMENT('download start must be a non-negative integer')
    if (!Number.isSafeInteger(end) || end < -1) throw HypercoreError.BAD_ARGUMENT('download end must be an integer ≥ -1')
    if (spec.blocks !== undefined && !spec.blocks.every(b => Number.isSafeInteger(b) && b >= 0)) throw HypercoreError.BAD_ARGUMENT('download blocks must be non-negative integers')
    this._rep = rep
    this.start = start
    this.end = end
    this.blocks = spec.blocks !== undefined ? [...new Set(spec.blocks)].sort((a, b) => a - b) : null
    this.linear = spec.linear === true
    this._cursor = this.blocks === null ? start : 0
    this._next = this._cursor
    this._done = new Promise<void>((resolve, reject) => { this._resolve = resolve; this._reject = reject })
    this._done.catch(() => {})
  }

  done (): Promise<void> { return this._done }

  get progress (): RangeProgress {
    return { blocks: this._count, totalBlocks: this._total(), bytes: this._bytes }
  }

  destroy (): void {
    if (this.destroyed) return
    this.destroyed = true
    this._rep.ranges.remove(this)
    this._reject(HypercoreError.REQUEST_CANCELLED('Download was cancelled'))
  }

  /** @internal Ends the range with `err` (done() rejects); the caller has removed it from its set. */
  _fail (err: Error): void {
    if (this.destroyed) return
    this.destroyed = true
    this._reject(err)
  }

  /** @internal Counts what is already stored, then starts. */
  async _init (): Promise<void> {
    const core = this._rep.core
    if (this.blocks !== null) {
      for (const i of this._indexesUpTo(core.length)) if (await core.bitfield.get(i)) this._mark(i, 0)
    } else {
      // The stored runs, a bitfield word at a time: not one read (and one await) per block of
      // the range, which for a fresh replica of a long core was most of the start.
      const end = this.end === -1 ? core.length : Math.min(this.end, core.length)
      let i = this.start < end ? await core.bitfield.firstSet(this.start) : -1
      while (i !== -1 && i < end) {
        const j = Math.min(await core.bitfield.firstUnset(i), end)
        for (let k = i; k < j; k++) this._mark(k, 0)
        i = j < end ? await core.bitfield.firstSet(j) : -1
      }
    }
    this._ready = true
    // Blocks stored while the bitfield was being read (after their index was checked) would
    // otherwise never count, and the range would wait for ever: replay what happened meanwhile.
    for (const [u, bytes] of this._early.splice(0)) this._onlocal(u, bytes)
    this._check()
  }

  /** @internal A core update: count blocks of ours that arrived. */
  _onlocal (u: CoreUpdate, blockBytes: number): void {
    if (!this._ready) {
      this._early.push([u, blockBytes])
      return
    }
    if (u.type === 'download') this._mark(u.start, blockBytes)
    if (u.type === 'append' && this._rep.core.writable) for (const i of this._indexesIn(u.start, u.end)) this._mark(i, 0)
    else if (u.type === 'truncate' || u.type === 'clear') {
      for (const i of this._indexesIn(u.start, u.end)) if (this._have.get(i)) this._count--
      this._have.clearRange(u.start, u.end - u.start)
      this._cursor = this.blocks === null ? Math.min(this._cursor, Math.max(this.start, u.start)) : 0
      this._next = this._cursor
    }
    this._check()
  }

  /** @internal True if this range still needs `index`. */
  _wants (index: number): boolean {
    if (!this._ready || this._have.get(index)) return false
    if (this.blocks !== null) return this.blocks.includes(index)
    return index >= this.start && (this.end === -1 || index < this.end)
  }

  /** @internal One scheduling pass: request blocks from the cursor on, while peers have room. */
  _fill (): void {
    if (!this._ready) return
    const rep = this._rep
    const length = rep.core.length
    let scanned = 0
    if (this.blocks !== null) {
      while (this._cursor < this.blocks.length && this._have.get(this.blocks[this._cursor]!)) this._cursor++
      let contiguous = true
      for (let k = Math.max(this._cursor, this._next); k < this.blocks.length && scanned < SCAN_WINDOW && rep.scheduler.hasCapacity(); k++, scanned++) {
        const i = this.blocks[k]!
        const sent = i < length && (this._have.get(i) || rep.scheduler.tryBlock(i, 0) === 'sent')
        if (sent && contiguous) this._next = k + 1
        else contiguous = false
      }
      return
    }
    const end = this.end === -1 ? length : Math.min(this.end, length)
    while (this._cursor < end && this._have.get(this._cursor)) this._cursor++
    let contiguous = true
    for (let i = Math.max(this._cursor, this._next); i < end && scanned < SCAN_WINDOW && rep.scheduler.hasCapacity(); i++, scanned++) {
      const sent = this._have.get(i) || rep.scheduler.tryBlock(i, 0) === 'sent'
      if (sent && contiguous) this._next = i + 1
      else contiguous = false
    }
  }

  /** @internal A request ended without its block: the next pass looks from the cursor again. */
  _rescan (): void {
    this._next = this._cursor
  }

  private _mark (index: number, bytes: number): void {
    if (!this._wantsIndex(index) || this._have.get(index)) return
    this._have.setRange(index, 1)
    this._count++
    this._bytes += bytes
    if (bytes > 0 || this._ready) this.emit('progress', this.progress)
  }

  /** @internal Whether this range covers block `index` (stored or not). */
  _wantsIndex (index: number): boolean {
    if (this.blocks !== null) return this.blocks.includes(index)
    return index >= this.start && (this.end === -1 || index < this.end)
  }

  private _total (): number {
    if (this.blocks !== null) return this.blocks.length
    if (this.end === -1) return Math.max(0, this._rep.core.length - this.start)
    return this.end - this.start
  }

  private _check (): void {
    if (this.destroyed || this.end === -1 && this.blocks === null) return
    if (this._count < this._total()) return
    this._rep.ranges.remove(this)
    this._resolve()
  }

  private * _indexesUpTo (length: number): Iterable<number> {
    yield * this._indexesIn(0, length)
  }

  private * _indexesIn (from: number, to: number): Iterable<number> {
    if (this.blocks !== null) {
      for (const b of this.blocks) if (b >= from && b < to) yield b
      return
    }
    const end = this.end === -1 ? to : Math.min(this.end, to)
    for (let i = Math.max(this.start, from); i < end; i++) yield i
  }
}

/** Every live range of one core. */
export class RangeDownloads {
  private readonly _rep: Replicator
  private readonly _ranges = new Set<RangeHandle>()

  constructor (rep: Replicator) {
    this._rep = rep
  }

  add (spec: RangeSpec): RangeHandle {
    const r = new RangeHandle(this._rep, spec)
    this._ranges.add(r)
    // A failed start (the bitfield could not be read) rejects done(): an 'error' event with no
    // listener would throw out of this promise handler instead.
    r._init().then(() => this._rep.scheduler.kick(), (err: unknown) => {
      this._ranges.delete(r)
      r._fail(err instanceof Error ? err : HypercoreError.STORAGE_IO(String(err)))
    })
    return r
  }

  remove (r: RangeHandle): void {
    if (!this._ranges.delete(r)) return
    // Cancel requests only this range wanted (§3.4: the caller gave up).
    if (r.destroyed) this._rep.scheduler.cancelUnwanted()
  }

  /** A block request ended without the block (see RangeHandle._next). */
  rescan (): void {
    for (const r of this._ranges) r._rescan()
  }

  wants (index: number): boolean {
    for (const r of this._ranges) if (r._wants(index)) return true
    return false
  }

  fill (): void {
    if (!this._rep.scheduler.canRefill()) return
    for (const r of this._ranges) {
      if (!this._rep.scheduler.hasCapacity()) return
      r._fill()
    }
  }

  /** A core update (appends, truncations, clears); downloads come through `ondownload`. */
  onlocal (u: CoreUpdate): void {
    if (u.type === 'download') return
    for (const r of [...this._ranges]) r._onlocal(u, 0)
  }

  /** A block a peer sent was stored (`bytes`: its stored size). */
  ondownload (index: number, bytes: number): void {
    const u: CoreUpdate = { type: 'download', ancestors: 0, length: 0, fork: 0, start: index, end: index + 1 }
    for (const r of [...this._ranges]) r._onlocal(u, bytes)
  }

  /**
   * Storing block `index` failed here (a full disk: STORAGE_QUOTA, a lost database): the
   * ranges that want it cannot finish, so their `done()` rejects with that error instead of
   * retrying for ever. The block may be fetched again by a new range once space is freed.
   */
  failBlock (index: number, err: Error, sentAt: number): void {
    for (const r of [...this._ranges]) {
      // A range made after the failed request was sent (a retry once space was freed) keeps going.
      if (r.destroyed || !r._wantsIndex(index) || r.createdAt > sentAt) continue
      this._ranges.delete(r)
      r._fail(err)
    }
  }

  abort (err: Error): void {
    for (const r of [...this._ranges]) {
      this._ranges.delete(r)
      r._fail(err)
    }
  }
}
