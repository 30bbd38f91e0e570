/**
 * @module core/read-stream
 * `core.createReadStream({ start, end, live, snapshot })`: a streamx Readable of
 * blocks, also an async iterator, browser-safe. `snapshot` (default true) fixes `end` to the
 * length when the stream starts; otherwise `end` follows the core on every read. `live` never
 * ends: it waits for new blocks (gets wait for them).
 */
import { Readable } from 'streamx'
import { HypercoreError } from '../errors.js'

/** The session methods a read stream needs. */
export interface ReadSource {
  readonly length: number
  ready (): Promise<void>
  get (index: number, opts?: { wait?: boolean, signal?: AbortSignal }): Promise<unknown>
}

export interface ReadStreamOptions {
  start?: number
  /** Exclusive; -1 (default) = the core's length (or forever when live). */
  end?: number
  live?: boolean
  snapshot?: boolean
}

export class ReadStream extends Readable {
  private readonly _src: ReadSource
  private _index: number
  private _end: number
  private readonly _live: boolean
  private readonly _snapshot: boolean
  /** Cancels the get in flight when the stream is destroyed (a live read may wait forever). */
  private readonly _abort = new AbortController()

  constructor (src: ReadSource, opts: ReadStreamOptions = {}) {
    super()
    const start = opts.start ?? 0
    const end = opts.end ?? -1
    if (!Number.isSafeInteger(start) || start < 0) throw HypercoreError.BAD_ARGUMENT('start must be a non-negative integer')
    if (!Number.isSafeInteger(end) || end < -1) throw HypercoreError.BAD_ARGUMENT('end must be an integer ≥ -1')
    this._src = src
    this._index = start
    this._end = end
    this._live = opts.live === true
    this._snapshot = opts.snapshot !== false
  }

  override _open (cb: (err: Error | null) => void): void {
    this._src.ready().then(() => {
      if (this._end === -1 && !this._live && this._snapshot) this._end = this._src.length
      cb(null)
    }, cb)
  }

  override _read (cb: (err: Error | null) => void): void {
    const end = this._end !== -1 ? this._end : (this._live ? Infinity : this._src.length)
    if (this._index >= end) {
      this.push(null)
      cb(null)
      return
    }
    const i = this._index++
    this._src.get(i, { wait: true, signal: this._abort.signal }).then((value) => {
      this.push(value)
      cb(null)
    }, err => cb(this._abort.signal.aborted ? null : err))
  }

  override _predestroy (): void {
    this._abort.abort()
  }
}
