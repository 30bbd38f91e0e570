/**
 * @module replication/secret-stream/raw-link
 * The secret stream's connection to the raw byte stream underneath (spec §5.1), in one of
 * two shapes behind one small interface:
 *
 * - `StreamLink`: the caller gave a raw duplex (a socket, a WebSocket/WebRTC stream, …). We
 *   *write* frames to it and *read* chunks from it.
 * - `BridgeLink`: no raw stream was given, so we create one (`stream.rawStream`) the way the
 *   reference does, for the caller to pipe to the other side. Here the roles flip: bytes the
 *   caller writes into the bridge are our input, and our frames come out of its readable side.
 *
 * Both report the same four things (data, end, drain, close) and offer the same controls, so
 * the secret stream never cares which one it has. Backpressure goes both ways: `send` returns
 * false when the raw side is full (wait for `onDrain`), and `pauseInput` stops reading until
 * the secret stream's reader catches up.
 */
import { Duplex, getStreamError } from 'streamx'
import { HypercoreError } from '../../errors.js'

/**
 * The least a raw transport must offer: a duplex of Uint8Array chunks with pause/resume and
 * pipe (Node sockets and streams, streamx duplexes and the bridge all qualify).
 */
export interface RawStream {
  write (data: Uint8Array): boolean
  pipe<T> (dest: T): T
  end (data?: unknown): unknown
  destroy (err?: Error): unknown
  pause (): unknown
  resume (): unknown
  on (event: string, listener: (...args: any[]) => void): unknown
  once (event: string, listener: (...args: any[]) => void): unknown
  removeListener (event: string, listener: (...args: any[]) => void): unknown
}

/** What a link reports to its secret stream. */
export interface LinkHooks {
  onData (chunk: Uint8Array): void
  onEnd (): void
  onDrain (): void
  /** The raw side closed or failed; `err` is its error when it had one. */
  onClose (err: Error | null): void
}

export interface RawLink {
  /** The duplex the user sees as `secretStream.rawStream`. */
  readonly stream: RawStream
  /** Queues bytes for the peer; false means "full: wait for onDrain". */
  send (data: Uint8Array): boolean
  /** Bytes sent but not yet taken by the raw side (as far as it tells). */
  readonly pendingBytes: number
  /** No more bytes from us (half-close). */
  end (): void
  /** Tears the raw side down (after an error, or a destroy before a clean end). */
  destroy (err?: Error): void
  pauseInput (): void
  resumeInput (): void
  /** Stops reporting to the hooks (the secret stream is gone). */
  detach (): void
}

function _noop (): void {}

/** A raw duplex given by the caller. */
export class StreamLink implements RawLink {
  readonly stream: RawStream
  private _hooks: LinkHooks | null
  private readonly _ondata = (chunk: unknown): void => { _deliver(this._hooks, chunk) }
  private readonly _onend = (): void => { this._hooks?.onEnd() }
  private readonly _ondrain = (): void => { this._hooks?.onDrain() }
  private readonly _onerror = (err: Error): void => { this._hooks?.onClose(err ?? null) }
  private readonly _onclose = (): void => { this._hooks?.onClose(null) }

  constructor (stream: RawStream, hooks: LinkHooks) {
    this.stream = stream
    this._hooks = hooks
    stream.on('data', this._ondata)
    stream.on('end', this._onend)
    stream.on('drain', this._ondrain)
    stream.on('error', this._onerror)
    stream.on('close', this._onclose)
  }

  send (data: Uint8Array): boolean { return this.stream.write(data) }
  get pendingBytes (): number { return _buffered((this.stream as { _writableState?: unknown })._writableState) ?? (this.stream as { writableLength?: number }).writableLength ?? 0 }
  end (): void { this.stream.end() }
  destroy (err?: Error): void { this.stream.destroy(err) }
  pauseInput (): void { this.stream.pause() }
  resumeInput (): void { this.stream.resume() }

  detach (): void {
    if (this._hooks === null) return
    this._hooks = null
    const s = this.stream
    s.removeListener('data', this._ondata)
    s.removeListener('end', this._onend)
    s.removeListener('drain', this._ondrain)
    s.removeListener('close', this._onclose)
    // Keep swallowing errors: a late socket error after we are gone must not crash the process.
    s.removeListener('error', this._onerror)
    s.on('error', _noop)
  }
}

/** The internal raw side made when no raw stream is given (`stream.rawStream` to pipe to the peer). */
class RawBridge extends Duplex {
  constructor (private readonly _link: BridgeLink, ready: Promise<unknown>) {
    super({
      // Input written before the secret stream has started waits here (streamx holds writes until open).
      open (cb) { ready.then(() => cb(null), (err: Error) => cb(err)) }
    })
    // Errors surface on the secret stream; the bridge itself must never crash a process
    // because nobody listens to it (it is usually only piped).
    this.on('error', _noop)
  }

  override _write (data: unknown, cb: (err: Error | null) => void): void {
    this._link._input(data, cb)
  }

  override _final (cb: (err: Error | null) => void): void {
    this._link._inputEnded()
    cb(null)
  }

  override _read (cb: (err: Error | null) => void): void {
    this._link._outputDrained()
    cb(null)
  }

  override _predestroy (): void {
    this._link._closed(getStreamError(this))
  }
}

export class BridgeLink implements RawLink {
  readonly stream: RawStream
  private _hooks: LinkHooks | null
  private _paused = false
  private _heldWrite: ((err: Error | null) => void) | null = null
  private readonly _bridge: RawBridge

  constructor (hooks: LinkHooks, ready: Promise<unknown>) {
    this._hooks = hooks
    this._bridge = new RawBridge(this, ready)
    this.stream = this._bridge as unknown as RawStream
  }

  send (data: Uint8Array): boolean { return this._bridge.push(data) }
  get pendingBytes (): number { return _buffered((this._bridge as unknown as { _readableState?: unknown })._readableState) ?? 0 }
  end (): void { this._bridge.push(null) }
  destroy (err?: Error): void { this._bridge.destroy(err) }
  pauseInput (): void { this._paused = true }

  resumeInput (): void {
    this._paused = false
    const cb = this._heldWrite
    this._heldWrite = null
    if (cb !== null) cb(null)
  }

  detach (): void {
    this._hooks = null
    this.resumeInput()
  }

  /** @internal bytes the peer wrote into the bridge. */
  _input (chunk: unknown, cb: (err: Error | null) => void): void {
    _deliver(this._hooks, chunk)
    // Hold the write callback while our reader is full: the pipe feeding the bridge then stops.
    if (this._paused && this._hooks !== null) this._heldWrite = cb
    else cb(null)
  }

  /** @internal */
  _inputEnded (): void { this._hooks?.onEnd() }
  /** @internal */
  _outputDrained (): void { this._hooks?.onDrain() }

  /** @internal */
  _closed (err: Error | null): void {
    const cb = this._heldWrite
    this._heldWrite = null
    if (cb !== null) cb(null)
    this._hooks?.onClose(err)
  }
}

/** A streamx (or Node) stream state's buffered byte count, when it has one. */
function _buffered (state: unknown): number | null {
  const b = (state as { buffered?: unknown } | undefined)?.buffered
  return typeof b === 'number' ? b : null
}

/** Hands a raw chunk to the hooks; a chunk that is not bytes is a broken transport. */
function _deliver (hooks: LinkHooks | null, chunk: unknown): void {
  if (hooks === null) return
  if (chunk instanceof Uint8Array) hooks.onData(chunk)
  else if (chunk instanceof ArrayBuffer) hooks.onData(new Uint8Array(chunk))
  else hooks.onClose(HypercoreError.BAD_ARGUMENT('the raw stream must carry Uint8Array chunks'))
}
