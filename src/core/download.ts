/**
 * @module core/download
 * `core.download(range)` before the core has opened (Hypercore 10's shape: `done()`,
 * `destroy()`). Without a network every block is either here or will only ever arrive by an
 * append, so such a range is "done" when all its blocks are stored locally; once the core is
 * open, download() returns the replicator's range instead (replication/replicator/ranges.ts).
 */
import { HypercoreError } from '../errors.js'

export interface DownloadRange {
  start?: number
  /** Exclusive; -1 = follow the core forever (never done). */
  end?: number
  blocks?: number[]
  linear?: boolean
}

export class Download {
  readonly start: number
  readonly end: number
  readonly blocks: number[] | null
  private _destroyed = false
  private _done: Promise<void>
  private _reject: (err: Error) => void = () => {}

  constructor (range: DownloadRange, waitAll: (indexes: number[] | { start: number, end: number }) => Promise<void>) {
    const start = range.start ?? 0
    const end = range.end ?? -1
    if (!Number.isSafeInteger(start) || start < 0) throw HypercoreError.BAD_ARGUMENT('download start must be a non-negative integer')
    if (!Number.isSafeInteger(end) || end < -1) throw HypercoreError.BAD_ARGUMENT('download end must be an integer ≥ -1')
    this.start = start
    this.end = end
    this.blocks = range.blocks !== undefined ? [...range.blocks] : null
    const cancelled = new Promise<void>((_resolve, reject) => { this._reject = reject })
    cancelled.catch(() => {})
    const work = this.blocks !== null
      ? waitAll(this.blocks)
      : end === -1 ? new Promise<void>(() => {}) : waitAll({ start, end })
    this._done = Promise.race([work, cancelled])
    this._done.catch(() => {})
  }

  /** Resolves once every block of the range is stored; rejects REQUEST_CANCELLED on destroy. */
  done (): Promise<void> {
    return this._done
  }

  get destroyed (): boolean {
    return this._destroyed
  }

  destroy (): void {
    if (this._destroyed) return
    this._destroyed = true
    this._reject(HypercoreError.REQUEST_CANCELLED('Download was cancelled'))
  }
}
