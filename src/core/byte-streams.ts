/**
 * @module core/byte-streams
 * hypercore@10's other two streams, browser-safe (streamx):
 * - `createByteStream({ byteOffset, byteLength, prefetch })`: the core as one run of bytes
 *   from `byteOffset` (padding excluded), `byteLength` of them (default: to the end as it is
 *   when the stream opens, after an `update()`); it finds the first block with `seek` and asks
 *   peers for the next `prefetch` blocks ahead of the one it reads;
 * - `createWriteStream()`: what is written is appended, every write batch in one append.
 */
import { Readable, Writable } from 'streamx'
import { HypercoreError } from '../errors.js'
import type { DownloadRange } from './download.js'

/** The session methods the byte stream needs. */
export interface ByteSource {
  readonly byteLength: number
  ready (): Promise<void>
  update (): Promise<boolean>
  seek (bytes: number): Promise<[number, number] | null>
  get (index: number, opts: { valueEncoding: 'binary', signal?: AbortSignal }): Promise<unknown>
  download (range: DownloadRange): { destroy (): void }
}

export interface ByteStreamOptions {
  byteOffset?: number
  /** Bytes to read (default -1: to the end of the core as it is when the stream opens). */
  byteLength?: number
  /** Blocks fetched ahead of the one being read (default 32). */
  prefetch?: number
}

export class ByteStream extends Readable {
  private readonly _src: ByteSource
  private readonly _offset: number
  private _remaining: number
  private readonly _prefetch: number
  private _index = 0
  private _skip = 0
  private _located = false
  private _range: { destroy (): void } | null = null
  private readonly _abort = new AbortController()

  constructor (src: ByteSource, opts: ByteStreamOptions = {}) {
    super()
    const offset = opts.byteOffset ?? 0
    const length = opts.byteLength ?? -1
    const prefetch = opts.prefetch ?? 32
    if (!Number.isSafeInteger(offset) || offset < 0) throw HypercoreError.BAD_ARGUMENT('byteOffset must be a non-negative integer')
    if (!Number.isSafeInteger(length) || length < -1) throw HypercoreError.BAD_ARGUMENT('byteLength must be an integer ≥ -1')
    if (!Number.isSafeInteger(prefetch) || prefetch < 0) throw HypercoreError.BAD_ARGUMENT('prefetch must be a non-negative integer')
    this._src = src
    this._offset = offset
    this._remaining = length
    this._prefetch = prefetch
  }

  override _open (cb: (err: Error | null) => void): void {
    this._opened().then(() => cb(null), cb)
  }

  private async _opened (): Promise<void> {
    await this._src.ready()
    if (this._remaining !== -1) return
    await this._src.update()
    this._remaining = Math.max(this._src.byteLength - this._offset, 0)
  }

  override _read (cb: (err: Error | null) => void): void {
    this._next().then(() => cb(null), err => cb(this._abort.signal.aborted ? null : err as Error))
  }

  private async _next (): Promise<void> {
    if (this._remaining === 0) {
      this.push(null)
      return
    }
    if (!this._located) {
      this._located = true
      const at = await this._src.seek(this._offset)
      if (at === null) throw HypercoreError.BAD_ARGUMENT(`byteOffset ${this._offset} is past the end of the core`)
      this._index = at[0]
      this._skip = at[1]
    }
    if (this._prefetch > 0) {
      this._range?.destroy()
      this._range = this._src.download({ start: this._index + 1, end: this._index + 1 + this._prefetch, linear: true })
    }
    let data = await this._src.get(this._index++, { valueEncoding: 'binary', signal: this._abort.signal }) as Uint8Array
    if (this._skip > 0) {
      data = data.subarray(this._skip)
      this._skip = 0
    }
    if (data.byteLength > this._remaining) data = data.subarray(0, this._remaining)
    this._remaining -= data.byteLength
    this.push(data)
    if (this._remaining === 0) this.push(null)
  }

  override _predestroy (): void {
    this._abort.abort()
    this._range?.destroy()
  }
}

/** The session method the write stream needs. */
export interface AppendTarget {
  append (blocks: unknown[]): Promise<unknown>
}

export class WriteStream extends Writable {
  private readonly _target: AppendTarget

  constructor (target: AppendTarget) {
    super()
    this._target = target
  }

  override _writev (batch: unknown[], cb: (err: Error | null) => void): void {
    this._target.append(batch).then(() => cb(null), cb)
  }
}
