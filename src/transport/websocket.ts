/**
 * @module transport/websocket
 * A WebSocket as a byte duplex (`ByteStream`): what `core.replicate(isInitiator, { stream })`
 * runs the secret stream over. Works with the browser's `WebSocket` and with `ws` sockets in
 * Node, client side (`connectWebSocket`) or server side (`webSocketStream(wsFromServer)`).
 *
 * Semantics, because a WebSocket is not a TCP socket:
 * - Each `write` is one binary message; each message received is one chunk. Text messages are
 *   a protocol error (the peer is not speaking bytes).
 * - Writes are held until the socket opens (streamx holds them until `_open` calls back).
 * - Outbound backpressure: a write completes once the socket's `bufferedAmount` is at or
 *   below a small high-water mark, so a fast writer cannot pile megabytes into the socket.
 *   Inbound: a browser WebSocket cannot be paused; a `ws` socket can (`pause`/`resume`), and is.
 * - There is no half-close. `end()` closes the socket (code 1000) after the queued messages;
 *   a browser drops whatever the peer still sends after that. A clean close from the peer
 *   (1000, or 1005 "no status") ends the stream both ways; any other close, an error or a
 *   failed connect destroys it with `CONNECTION_CLOSED`. `destroy()` closes with code 4000.
 */
import { Duplex } from 'streamx'
import { HypercoreError } from '../errors.js'
import { WebSocketImpl } from '#platform/websocket'
import type { ByteStream } from './types.js'

/**
 * What we use of a WebSocket. The browser's `WebSocket` and `ws`'s both fit (events are
 * typed loosely because the two libraries' event classes differ).
 */
export interface WebSocketLike {
  binaryType: string
  readonly readyState: number
  readonly bufferedAmount: number
  onopen: ((ev: any) => unknown) | null
  onmessage: ((ev: any) => unknown) | null
  onclose: ((ev: any) => unknown) | null
  onerror: ((ev: any) => unknown) | null
  send (data: Uint8Array): void
  close (code?: number, reason?: string): void
  /** `ws` only: stop/restart reading from the TCP socket (inbound backpressure). */
  pause?: () => void
  resume?: () => void
}

export interface WebSocketStreamOptions {
  /**
   * Bytes the socket may hold unsent before a write waits (default 256 KiB). Small on
   * purpose: enough to keep the link busy between polls, not enough to hide a slow peer.
   */
  highWaterMark?: number
  /** Aborting destroys the stream with `REQUEST_CANCELLED` (e.g. `AbortSignal.timeout(ms)` while connecting). */
  signal?: AbortSignal
}

export interface ConnectWebSocketOptions extends WebSocketStreamOptions {
  protocols?: string | string[]
}

type Callback = (err: Error | null) => void

const CONNECTING = 0
const OPEN = 1
/** Close codes the peer uses for a deliberate, complete close. 1005 = a close() without a code. */
const CLEAN_CODES = new Set([1000, 1005])
/** Our code for an abrupt teardown: browsers only let close() send 1000 or 3000–4999. */
const ABORT_CODE = 4000
const DEFAULT_HWM = 256 * 1024
/** Poll period while the socket's buffer is above the high-water mark (browsers clamp nested timers to 4 ms anyway). */
const POLL_MS = 2

function _noop (): void {}

/**
 * Calls `done` once `socket.bufferedAmount <= limit` (synchronously if it already is) and
 * returns a function that cancels the wait. Polling, because `ws` in Node has no
 * `bufferedamountlow` event and neither does the browser's WebSocket; this is the one place
 * to change if either ever gets one.
 */
export function whenBufferedBelow (socket: Pick<WebSocketLike, 'bufferedAmount'>, limit: number, done: () => void): () => void {
  if (socket.bufferedAmount <= limit) {
    done()
    return _noop
  }
  let timer: ReturnType<typeof setTimeout> | null = null
  const poll = (): void => {
    if (socket.bufferedAmount <= limit) {
      timer = null
      done()
    } else {
      timer = setTimeout(poll, POLL_MS)
    }
  }
  timer = setTimeout(poll, POLL_MS)
  return () => { if (timer !== null) clearTimeout(timer); timer = null }
}

/** A streamx Duplex of `Uint8Array` over one WebSocket. */
export class WebSocketStream extends Duplex {
  readonly socket: WebSocketLike
  private readonly _hwm: number
  private _openCb: Callback | null = null
  private _writeCb: Callback | null = null
  private _cancelWait: () => void = _noop
  private _inputPaused = false
  private _opened = false
  private readonly _signal: AbortSignal | null
  private readonly _onabort = (): void => { this.destroy(HypercoreError.REQUEST_CANCELLED('WebSocket stream aborted')) }

  constructor (socket: WebSocketLike, opts: WebSocketStreamOptions = {}) {
    // Arguments are checked before the stream exists: a streamx stream, once made, opens
    // itself on a later tick. eagerOpen: learn at once that a connect failed, even if nobody
    // reads or writes yet.
    const hwm = checkArgs(socket, opts)
    super({ eagerOpen: true })
    this.socket = socket
    this._hwm = hwm
    this._opened = socket.readyState === OPEN
    // Handlers are set now, not in _open: messages may arrive before streamx opens us.
    socket.binaryType = 'arraybuffer'
    socket.onopen = () => this._onopen()
    socket.onmessage = (ev: { data: unknown }) => this._onmessage(ev.data)
    socket.onclose = (ev: { code: number, reason?: string }) => this._onclose(ev.code, ev.reason ?? '')
    socket.onerror = (ev: { error?: unknown, message?: string }) => this._onerror(ev)
    this._signal = opts.signal ?? null
    if (this._signal !== null) {
      if (this._signal.aborted) queueMicrotask(this._onabort)
      else this._signal.addEventListener('abort', this._onabort, { once: true })
    }
  }

  override _open (cb: Callback): void {
    const state = this.socket.readyState
    if (state === OPEN) cb(null)
    else if (state === CONNECTING) this._openCb = cb
    else cb(HypercoreError.CONNECTION_CLOSED('the WebSocket is already closing or closed'))
  }

  override _read (cb: Callback): void {
    // The reader caught up: let a paused `ws` socket read from TCP again.
    if (this._inputPaused) {
      this._inputPaused = false
      this.socket.resume?.()
    }
    cb(null)
  }

  override _write (data: unknown, cb: Callback): void {
    if (!(data instanceof Uint8Array)) return cb(HypercoreError.BAD_ARGUMENT('a WebSocket stream carries Uint8Array chunks'))
    if (this.socket.readyState !== OPEN) return cb(HypercoreError.CONNECTION_CLOSED('write after the WebSocket closed'))
    try {
      this.socket.send(data)
    } catch (err) {
      return cb(HypercoreError.CONNECTION_CLOSED('WebSocket send failed', err))
    }
    this._writeCb = cb
    this._cancelWait = whenBufferedBelow(this.socket, this._hwm, () => this._releaseWrite(null))
  }

  override _final (cb: Callback): void {
    // No half-close in WebSocket: ending our side closes the socket. Browsers and `ws` both
    // send the messages queued before the close frame.
    if (this.socket.readyState === OPEN) this.socket.close(1000)
    cb(null)
  }

  override _predestroy (): void {
    // streamx waits for a pending open or write callback before _destroy: release them.
    const err = HypercoreError.CONNECTION_CLOSED('WebSocket stream destroyed')
    const open = this._openCb
    this._openCb = null
    if (open !== null) open(err)
    this._releaseWrite(err)
  }

  override _destroy (cb: Callback): void {
    const s = this.socket
    s.onopen = s.onmessage = s.onclose = null
    // A late error event (e.g. `ws` reporting a close during connect) must not crash Node.
    s.onerror = _noop
    this._signal?.removeEventListener('abort', this._onabort)
    if (s.readyState === CONNECTING || s.readyState === OPEN) {
      // Reaching here with the socket still open means no clean end both ways: tell the peer.
      try { s.close(ABORT_CODE, 'destroyed') } catch {}
    }
    cb(null)
  }

  private _releaseWrite (err: Error | null): void {
    this._cancelWait()
    this._cancelWait = _noop
    const cb = this._writeCb
    this._writeCb = null
    if (cb !== null) cb(err)
  }

  private _onopen (): void {
    this._opened = true
    const cb = this._openCb
    this._openCb = null
    if (cb !== null) cb(null)
  }

  private _onmessage (data: unknown): void {
    if (this.destroying) return
    let chunk: Uint8Array
    if (data instanceof ArrayBuffer) chunk = new Uint8Array(data)
    else if (ArrayBuffer.isView(data)) chunk = new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
    else return void this.destroy(HypercoreError.PROTOCOL_ERROR('the WebSocket peer sent a text message; this stream carries bytes'))
    if (chunk.byteLength === 0) return
    if (!this.push(chunk) && this.socket.pause !== undefined && !this._inputPaused) {
      this._inputPaused = true
      this.socket.pause()
    }
  }

  private _onclose (code: number, reason: string): void {
    if (this.destroying) return
    if (!this._opened) return void this.destroy(HypercoreError.CONNECTION_CLOSED(`could not connect the WebSocket (code ${code})`))
    if (!CLEAN_CODES.has(code)) {
      return void this.destroy(HypercoreError.CONNECTION_CLOSED(`WebSocket closed abruptly (code ${code}${reason === '' ? '' : `: ${reason}`})`))
    }
    // A clean close ends both ways (nothing can be sent any more). A write still waiting
    // with bytes unsent in the socket was lost: that is an error, not an end.
    if (this._writeCb !== null) this._releaseWrite(this.socket.bufferedAmount > 0 ? HypercoreError.CONNECTION_CLOSED('the peer closed the WebSocket before our data was sent') : null)
    this.push(null)
    this.end(undefined)
  }

  private _onerror (ev: { error?: unknown, message?: string }): void {
    if (this.destroying) return
    const what = this._opened ? 'WebSocket error' : 'could not connect the WebSocket'
    const detail = typeof ev?.message === 'string' && ev.message !== '' ? `: ${ev.message}` : ''
    this.destroy(HypercoreError.CONNECTION_CLOSED(what + detail, ev?.error ?? undefined))
  }
}

/** Wraps an open or connecting WebSocket (browser, or `ws` client or server side) as a `ByteStream`. */
export function webSocketStream (socket: WebSocketLike, opts: WebSocketStreamOptions = {}): ByteStream {
  return new WebSocketStream(socket, opts)
}

/** Opens a WebSocket to `url` with this platform's WebSocket class and wraps it. */
export function connectWebSocket (url: string, opts: ConnectWebSocketOptions = {}): ByteStream {
  let socket: WebSocketLike
  try {
    socket = new WebSocketImpl(url, opts.protocols) as unknown as WebSocketLike
  } catch (err) {
    throw HypercoreError.BAD_ARGUMENT(`cannot open a WebSocket to ${JSON.stringify(url)}: ${(err as Error)?.message ?? String(err)}`)
  }
  return webSocketStream(socket, opts)
}

/** The high-water mark to use, after checking that `socket` is a WebSocket; BAD_ARGUMENT otherwise. */
function checkArgs (socket: WebSocketLike, opts: WebSocketStreamOptions): number {
  if (socket === null || typeof socket !== 'object' || typeof socket.send !== 'function' || typeof socket.close !== 'function' || typeof socket.readyState !== 'number') {
    throw HypercoreError.BAD_ARGUMENT('webSocketStream needs a WebSocket (the browser\'s or a `ws` one)')
  }
  const hwm = opts.highWaterMark ?? DEFAULT_HWM
  if (!Number.isFinite(hwm) || hwm < 0) throw HypercoreError.BAD_ARGUMENT('highWaterMark must be a non-negative number')
  return hwm
}
