/**
 * @module replication/mux/channel
 * One Protomux channel (a protocol + id opened by both sides, §5.5) and its typed message
 * senders. The channel holds its own lifecycle flags and callbacks; the id tables, pairing
 * and the bytes on the wire belong to the Mux, which this file reaches only through the
 * methods marked "for the Mux" on both sides.
 */
import { HypercoreError } from '../../errors.js'
import { encode as encodeValue, decode as decodeValue } from '../../wire/codec.js'
import type { Mux } from './mux.js'
import type { ChannelOptions, Codec, Handler, MessageOptions } from './types.js'

/** A registered message type of a channel; `send` writes one message of it. */
export class Message<T = unknown> {
  readonly channel: Channel
  /** The type number on the wire: this message's index in the channel's list. */
  readonly type: number
  readonly encoding: Codec<T>
  /** See MessageOptions.deferred. */
  readonly deferred: boolean
  onmessage: Handler<[message: T, channel: Channel]> | null

  constructor (channel: Channel, type: number, opts: MessageOptions<T>) {
    this.channel = channel
    this.type = type
    this.encoding = opts.encoding
    this.deferred = opts.deferred === true
    this.onmessage = opts.onmessage ?? null
  }

  /**
   * Sends one message. Allowed once this side has opened (the remote buffers messages that
   * arrive before its own open, §5.5). Returns false when nothing was sent (not opened yet,
   * closed) or the stream wants the writer to wait for drain.
   */
  send (value: T): boolean {
    const ch = this.channel
    if (ch.closed || ch.localId === 0) return false
    return ch.mux._send(ch, this.type, this.encoding, value, this.deferred)
  }
}

/** Serialises a key so `(protocol, id)` can index a Map: hex id first, so '/' splits it unambiguously. */
export function channelKey (protocol: string, id: Uint8Array | null | undefined): string {
  let h = ''
  if (id) for (const b of id) h += (b < 16 ? '0' : '') + b.toString(16)
  return h + '/' + protocol
}

export class Channel<H = unknown> {
  readonly mux: Mux
  readonly protocol: string
  /** null when absent or empty: the two are the same on the wire (§1.1). */
  readonly id: Uint8Array | null
  /** `(protocol, id)` as a Map key. */
  readonly key: string
  readonly messages: Message[] = []
  userData: unknown
  /** Our id for this channel on the wire (0 until `open`). */
  localId = 0
  /** The remote's id for it (0 until paired). */
  remoteId = 0
  /** True once both sides have opened, until it closes. */
  opened = false
  closed = false
  /** True after `ondestroy` ran. */
  destroyed = false
  /** The remote's handshake, decoded, once opened. */
  handshake: H | null = null

  private readonly _handshakeEncoding: Codec<H> | null
  private readonly _opts: ChannelOptions<H>
  private _pendingHandlers = 0
  /** Waiting for `fullyOpened` (settled on open or close) and `fullyClosed` (on destroy). */
  private _openWaiters: Array<(opened: boolean) => void> = []
  private _closeWaiters: Array<() => void> = []

  /** Use `mux.createChannel`. */
  constructor (mux: Mux, opts: ChannelOptions<H>) {
    this.mux = mux
    this.protocol = opts.protocol
    this.id = opts.id && opts.id.byteLength > 0 ? opts.id : null
    this.key = channelKey(this.protocol, this.id)
    this.userData = opts.userData ?? null
    this._handshakeEncoding = opts.handshake ?? null
    this._opts = opts
    for (const m of opts.messages ?? []) this.addMessage(m)
  }

  /** Adds the next message type (type number = its index). */
  addMessage<T> (opts: MessageOptions<T>): Message<T> {
    const m = new Message<T>(this as Channel, this.messages.length, opts)
    this.messages.push(m as Message)
    return m
  }

  /** Sends our open with `handshake`. A second call, or one after close, does nothing. */
  open (handshake?: H): void {
    if (this.closed || this.localId !== 0) return
    let bytes: Uint8Array = new Uint8Array(0)
    if (this._handshakeEncoding !== null) {
      if (handshake === undefined) throw HypercoreError.BAD_ARGUMENT(`channel ${this.protocol} needs a handshake to open`)
      bytes = encodeValue(this._handshakeEncoding, handshake)
    }
    this.mux._openLocal(this as Channel, bytes)
  }

  /** Sends close (when we had opened) and closes locally. Idempotent. */
  close (): void {
    if (this.closed) return
    this.mux._closeLocal(this as Channel)
  }

  /** Holds this connection's writes until `uncork`, then sends them as one batch (§5.5). */
  cork (): void { this.mux.cork() }
  uncork (): void { this.mux.uncork() }

  // protomux@3's names, which code written for it (hypercore@10's replicator) uses.
  /** The stream has not asked writers to wait. */
  get drained (): boolean { return this.mux.drained }
  /** Resolves true once both sides opened, false if the channel closed first. */
  fullyOpened (): Promise<boolean> {
    if (this.opened || this.closed) return Promise.resolve(this.opened)
    return new Promise(resolve => this._openWaiters.push(resolve))
  }

  /** Resolves once the channel closed and its handlers settled (after `ondestroy`). */
  fullyClosed (): Promise<void> {
    if (this.destroyed) return Promise.resolve()
    return new Promise(resolve => this._closeWaiters.push(resolve))
  }

  /** For the Mux: both sides opened. */
  _fullyOpen (remoteHandshake: Uint8Array): void {
    // Decode before flipping state: a bad handshake is the peer's fault and destroys the stream.
    this.handshake = this._handshakeEncoding === null ? null : decodeValue(this._handshakeEncoding, remoteHandshake)
    this.opened = true
    this._run(this._opts.onopen, this.handshake, this as Channel)
    for (const w of this._openWaiters.splice(0)) w(true)
  }

  /** For the Mux: a message for this channel arrived. Unknown types are ignored (§5.5). */
  _receive (type: number, payload: Uint8Array): void {
    const m = this.messages[type]
    if (m === undefined) return
    const value = decodeValue(m.encoding, payload)
    if (m.onmessage !== null) this._run(m.onmessage, value, this as Channel)
  }

  /** For the Mux: the channel is closed (state already torn down there). */
  _closed (isRemote: boolean): void {
    this.closed = true
    this.opened = false
    for (const w of this._openWaiters.splice(0)) w(false)
    this._run(this._opts.onclose, isRemote, this as Channel)
    this._maybeDestroy()
  }

  /** For the Mux: the stream drained. */
  _drain (): void {
    if (!this.closed) this._run(this._opts.ondrain, this as Channel)
  }

  /**
   * Runs a handler. Errors (thrown or rejected) go to the Mux, which destroys the stream
   * unless this channel has closed meanwhile (late errors of a finished channel are moot).
   */
  private _run<A extends unknown[]> (fn: Handler<A> | undefined | null, ...args: A): void {
    if (!fn) return
    let result: void | Promise<void>
    try {
      result = fn(...args)
    } catch (err) {
      this.mux._handlerError(this as Channel, err)
      return
    }
    if (result && typeof result.then === 'function') {
      this._pendingHandlers++
      result.then(() => this._settled(), (err: unknown) => {
        this._settled()
        this.mux._handlerError(this as Channel, err)
      })
    }
  }

  private _settled (): void {
    this._pendingHandlers--
    this._maybeDestroy()
  }

  private _maybeDestroy (): void {
    if (!this.closed || this.destroyed || this._pendingHandlers > 0) return
    this.destroyed = true
    this._run(this._opts.ondestroy, this as Channel)
    for (const w of this._closeWaiters.splice(0)) w()
  }
}
