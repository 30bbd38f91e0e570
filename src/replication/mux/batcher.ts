/**
 * @module replication/mux/batcher
 * The outgoing side of cork/uncork (§5.5): while corked, every frame (channel message or
 * control) becomes an item of one batch frame, written at the last uncork or whenever the
 * batch reaches its size cap. A batch of one item is still sent as a batch, as protomux does
 * (transcript seq 8: `00 00 01 05 00 07 00 00 00`).
 */
import { type BatchItem, batchItemSize, encodeBatch } from '../../wire/mux-frames.js'

export class Batcher {
  private readonly _write: (frame: Uint8Array) => void
  private readonly _maxBytes: number
  private _corked = 0
  private _items: BatchItem[] = []
  private _bytes = 0
  private _channel = -1

  constructor (write: (frame: Uint8Array) => void, maxBytes: number) {
    this._write = write
    this._maxBytes = maxBytes
  }

  /** True while writes must be queued as batch items. */
  get corked (): boolean {
    return this._corked > 0
  }

  /** Bytes queued (approximately the batch frame's size). */
  get bytes (): number {
    return this._bytes
  }

  cork (): void {
    this._corked++
  }

  /** Undoes one `cork`; the last one writes the batch. Extra calls do nothing. */
  uncork (): void {
    if (this._corked === 0) return
    if (--this._corked === 0) this.flush()
  }

  add (item: BatchItem): void {
    let size = batchItemSize(item, this._items.length === 0 ? item.channel : this._channel)
    if (this._items.length > 0 && this._bytes + size > this._maxBytes) {
      this.flush()
      size = batchItemSize(item, item.channel)
    }
    this._items.push(item)
    this._bytes += size
    this._channel = item.channel
  }

  flush (): void {
    if (this._items.length === 0) return
    const frame = encodeBatch(this._items)
    this.clear()
    this._write(frame)
  }

  /** Drops what is queued (the stream is gone). */
  clear (): void {
    this._items = []
    this._bytes = 0
    this._channel = -1
  }
}
