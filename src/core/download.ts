/**
 * @module core/download
 * What `core.download(range)` returns, with hypercore@10's shape: `done()` (and its alias
 * `downloaded()`) resolves true once every block of the range is stored, false if the range
 * was destroyed or the core closed first, and rejects only for a real failure (a block that
 * cannot be stored: STORAGE_QUOTA and the like); `destroy()`; `progress` events where the
 * replicator gives them.
 *
 * The work is done by an inner range: the replicator's (replication/replicator/ranges.ts) once
 * the core is open, or a local wait before (without a network every block is either here or
 * will only ever arrive by an append).
 */
import { EventEmitter } from 'events'
import { HypercoreError } from '../errors.js'

export interface DownloadRange {
  start?: number
  /** Exclusive; -1 = follow the core forever (never done). */
  end?: number
  /** hypercore@10's other form of the end: `end = start + length`. */
  length?: number
  blocks?: number[]
  linear?: boolean
  /** hypercore@10: done once no connected peer has more of the range, rather than waiting for one. */
  ifAvailable?: boolean
}

/** The range with `length` folded into `end`, checked (BAD_ARGUMENT). */
export function normalizeRange (range: DownloadRange = {}): DownloadRange {
  if (typeof range !== 'object' || range === null) throw HypercoreError.BAD_ARGUMENT('download range must be an object')
  const start = range.start ?? 0
  if (!Number.isSafeInteger(start) || start < 0) throw HypercoreError.BAD_ARGUMENT('download start must be a non-negative integer')
  let end = range.end
  if (end === undefined && range.length !== undefined) {
    if (!Number.isSafeInteger(range.length) || range.length < -1) throw HypercoreError.BAD_ARGUMENT('download length must be an integer ≥ -1')
    end = range.length === -1 ? -1 : start + range.length
  }
  end ??= -1
  if (!Number.isSafeInteger(end) || end < -1) throw HypercoreError.BAD_ARGUMENT('download end must be an integer ≥ -1')
  const out: DownloadRange = { start, end }
  if (range.blocks !== undefined) {
    if (!Array.isArray(range.blocks) || !range.blocks.every(b => Number.isSafeInteger(b) && b >= 0)) throw HypercoreError.BAD_ARGUMENT('download blocks must be non-negative integers')
    out.blocks = range.blocks
  }
  if (range.linear === true) out.linear = true
  if (range.ifAvailable === true) out.ifAvailable = true
  return out
}

/** What a download handle drives: a range of the replicator, or a local wait. */
export interface InnerRange {
  done (): Promise<void>
  destroy (): void
  on?: (event: string, listener: (...args: unknown[]) => void) => unknown
}

export class Download extends EventEmitter {
  readonly start: number
  readonly end: number
  readonly blocks: number[] | null
  private _inner: InnerRange | null = null
  private _destroyed = false
  private readonly _done: Promise<boolean>

  /** `inner` may come later (the core is still opening): a destroy before then wins. */
  constructor (range: DownloadRange, inner: Promise<InnerRange>) {
    super()
    this.start = range.start ?? 0
    this.end = range.end ?? -1
    this.blocks = range.blocks !== undefined ? [...range.blocks] : null
    this._done = inner.then((r) => {
      this._inner = r
      r.on?.('progress', (...args: unknown[]) => this.emit('progress', ...args))
      if (this._destroyed) r.destroy()
      return r.done()
    }).then(() => !this._destroyed, (err: unknown) => {
      // hypercore@10: a range that was destroyed, or whose core closed, is "not done" (false).
      if (this._destroyed || HypercoreError.is(err, 'REQUEST_CANCELLED') || HypercoreError.is(err, 'SESSION_CLOSED')) return false
      throw err
    })
    this._done.catch(() => {})
  }

  /** True once every block of the range is stored; false if destroyed or the core closed first. */
  done (): Promise<boolean> {
    return this._done
  }

  /** hypercore@10's alias of `done()`. */
  downloaded (): Promise<boolean> {
    return this._done
  }

  get destroyed (): boolean {
    return this._destroyed
  }

  destroy (): void {
    if (this._destroyed) return
    this._destroyed = true
    this._inner?.destroy()
  }
}
