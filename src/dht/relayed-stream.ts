/**
 * @module dht/relayed-stream
 * The page's raw byte stream of one DHT connection, carried by the relay's WebSocket next to
 * the page's other connections: what the swarm wraps in its secret stream (with the keys of
 * the page's own Noise IK handshake), so everything written here is already ciphertext.
 *
 * It opens when the relay says the peer's raw stream is connected (`OPEN`); writes wait until
 * then (streamx holds them), are cut into `DATA` messages of at most `MAX_DATA_BYTES`, and
 * complete once the WebSocket's backlog is small again. `end()` is `END` (a half close, as
 * UDX streams have), `destroy()` is `CLOSE`; the relay's `CLOSE` destroys it with
 * CONNECTION_CLOSED and the relay's reason.
 */
import { Duplex } from 'streamx'
import { HypercoreError } from '../errors.js'
import { MSG, MAX_DATA_BYTES, type PageMessage } from './protocol.js'

/** What a relayed stream needs from the relay connection it runs on. */
export interface RelayLink {
  /** Sends a message; false if the relay connection is gone. */
  send (msg: PageMessage): boolean
  /** Calls `done` once the WebSocket's backlog is small (now, if it is); returns a canceller. */
  whenWritable (done: () => void): () => void
  /** The stream is gone: forget its id. */
  forget (id: number): void
}

type Callback = (err: Error | null) => void

export class RelayedStream extends Duplex {
  readonly id: number
  private readonly _link: RelayLink
  private _openCb: Callback | null = null
  private _opened = false
  private _closedByRelay = false
  private _writeCb: Callback | null = null
  private _cancel: () => void = () => {}

  constructor (link: RelayLink, id: number) {
    super({ eagerOpen: true })
    this._link = link
    this.id = id
  }

  /** The relay connected the peer's raw stream. */
  onOpen (): void {
    this._opened = true
    const cb = this._openCb
    this._openCb = null
    if (cb !== null) cb(null)
  }

  onData (data: Uint8Array): void {
    if (this.destroying) return
    // Copied: the message's buffer is the WebSocket's, and a reader may keep the chunk.
    if (data.byteLength > 0) this.push(data.slice())
  }

  onEnd (): void {
    if (!this.destroying) this.push(null)
  }

  onClose (reason: string): void {
    this._closedByRelay = true
    this.destroy(HypercoreError.CONNECTION_CLOSED(`DHT connection closed by the relay: ${reason === '' ? 'no reason' : reason}`))
  }

  override _open (cb: Callback): void {
    if (this._opened) cb(null)
    else this._openCb = cb
  }

  override _write (data: unknown, cb: Callback): void {
    if (!(data instanceof Uint8Array)) return cb(HypercoreError.BAD_ARGUMENT('a relayed stream carries Uint8Array chunks'))
    for (let off = 0; off < data.byteLength; off += MAX_DATA_BYTES) {
      if (!this._link.send({ type: MSG.DATA, stream: this.id, data: data.subarray(off, off + MAX_DATA_BYTES) })) {
        return cb(HypercoreError.CONNECTION_CLOSED('the relay connection is gone'))
      }
    }
    this._writeCb = cb
    this._cancel = this._link.whenWritable(() => this._release(null))
  }

  override _final (cb: Callback): void {
    this._link.send({ type: MSG.END, stream: this.id })
    cb(null)
  }

  override _predestroy (): void {
    const err = HypercoreError.CONNECTION_CLOSED('relayed stream destroyed')
    const open = this._openCb
    this._openCb = null
    if (open !== null) open(err)
    this._release(err)
  }

  override _destroy (cb: Callback): void {
    if (!this._closedByRelay) this._link.send({ type: MSG.CLOSE, stream: this.id, reason: '' })
    this._link.forget(this.id)
    cb(null)
  }

  private _release (err: Error | null): void {
    this._cancel()
    this._cancel = () => {}
    const cb = this._writeCb
    this._writeCb = null
    if (cb !== null) cb(err)
  }
}
