/**
 * @module replication/mux/mux
 * A Protomux-compatible multiplexer (§5.5): many channels over one message stream, paired by
 * `(protocol, id)` with the remote's opens in either order, with batching (cork/uncork) and
 * on-demand opening (`pair`). Same bytes on the wire as protomux@3, our own state machine.
 *
 * Hostile peers: every frame is untrusted. Malformed bytes → DECODING_ERROR, broken rules or
 * exhausted limits → PROTOCOL_ERROR, and either destroys this stream only. Memory held for a
 * peer before we agree to talk to it (remote opens waiting for a local channel and the
 * messages sent on them) is capped by MuxOptions; everything else is bounded by our own
 * channels.
 *
 * Input is read only as fast as we can handle it (inbox.ts): a channel may hold the stream's
 * input (`holdInput`), and after `maxBusyMs` of dispatching without the event loop getting a
 * turn the mux stops reading until it has had one, cutting a batch between items if needed.
 */
import { HypercoreError } from '../../errors.js'
import { ControlType } from '../../wire/message-types.js'
import {
  MAX_BATCH_BYTES, decodeChannelIdBody, decodeFrame, decodeOpenBody, deferItem, encodeItem, encodeItemWith,
  openBody, channelIdBody, type OpenBody
} from '../../wire/mux-frames.js'
import { encode, type Codec, type State } from '../../wire/codec.js'
import { Channel, channelKey } from './channel.js'
import { Batcher } from './batcher.js'
import { Inbox } from './inbox.js'
import { RemoteTable, type RemoteChannel } from './remote-table.js'
import type { ChannelOptions, MessageStream, MuxOptions, PairNotify } from './types.js'
import c from 'compact-encoding'

export class Mux {
  /** What `Protomux.isProtomux` checks: code written for protomux accepts a Mux as one. */
  readonly isProtomux = true
  readonly stream: MessageStream
  destroyed = false
  /**
   * False from a write the stream asked us to wait after until its 'drain' (protomux's
   * field: hypercore@10's replicator, running on a Mux, holds its answers while false).
   */
  drained = true
  /** Why the mux was destroyed (null for a clean close). */
  error: HypercoreError | null = null


  private readonly _channels = new Set<Channel>()
  /** Live channels per key (for `unique` and `opened` without scanning every channel). */
  private readonly _byKey = new Map<string, Channel[]>()
  private readonly _local = new Map<number, Channel>()
  private readonly _free: number[] = []
  private _nextId = 1
  private readonly _remote: RemoteTable
  /** Our opened channels whose remote open has not come yet, FIFO per key. */
  private readonly _waiting = new Map<string, Channel[]>()
  private readonly _notify = new Map<string, PairNotify>()
  private readonly _notifyAnyId = new Map<string, PairNotify>()

  private readonly _batcher: Batcher
  /** The incoming side's pace: holds and turns (inbox.ts). */
  private readonly _inbox: Inbox

  private readonly _ondata = (frame: unknown): void => this._onframe(frame)
  private readonly _ondrain = (): void => {
    this.drained = true
    for (const ch of [...this._channels]) ch._drain()
  }
  private readonly _onerror = (err: unknown): void => {
    if (this.error === null) this.error = toTyped(err, 'CONNECTION_CLOSED')
  }
  private readonly _onstreamclose = (): void => this._teardownAll()

  constructor (stream: MessageStream, opts: MuxOptions = {}) {
    this.stream = stream
    this._remote = new RemoteTable(opts.maxUnpairedChannels ?? 4096, opts.maxUnpairedBytes ?? 4 * 1024 * 1024)
    this._batcher = new Batcher((frame) => { if (!this.destroyed) this.drained = this.stream.write(frame) }, opts.maxBatchBytes ?? MAX_BATCH_BYTES)
    this._inbox = new Inbox(stream, {
      destroyed: () => this.destroyed,
      frame: (frame) => this._handleFrame(frame),
      item: (channel, body) => {
        const item = decodeFrame(body, channel)
        this._dispatch(channel, item.type, item.payload, true)
      },
      fail: (err) => this.destroy(err),
      cork: () => this.cork(),
      uncork: () => this.uncork()
    }, opts.maxBusyMs ?? 10)
    stream.on('data', this._ondata)
    stream.on('drain', this._ondrain)
    stream.on('error', this._onerror)
    stream.on('close', this._onstreamclose)
    if (stream.destroyed === true) this._teardownAll()
  }

  /** A new channel, or null when `unique` (the default) and one with this key is live. */
  createChannel<H = unknown> (opts: ChannelOptions<H>): Channel<H> | null {
    if (this.destroyed) return null
    const key = channelKey(opts.protocol, opts.id)
    if (opts.unique !== false && this._byKey.has(key)) return null
    const ch = new Channel<H>(this, opts)
    this._channels.add(ch as Channel)
    push(this._byKey, key, ch as Channel)
    return ch
  }

  /** True when a channel with this key is open on both sides. */
  opened ({ protocol, id }: { protocol: string, id?: Uint8Array | null }): boolean {
    return this._byKey.get(channelKey(protocol, id))?.some((ch) => ch.opened) ?? false
  }

  /**
   * Calls `notify` when the remote opens `(protocol, id)` (any id when `id` is undefined)
   * and no local channel waits for it. Open a channel before `notify` returns (or before its
   * promise settles) to accept; otherwise the open is rejected.
   */
  pair ({ protocol, id }: { protocol: string, id?: Uint8Array | null }, notify: PairNotify): void {
    if (id === undefined) this._notifyAnyId.set(protocol, notify)
    else this._notify.set(channelKey(protocol, id), notify)
  }

  unpair ({ protocol, id }: { protocol: string, id?: Uint8Array | null }): void {
    if (id === undefined) this._notifyAnyId.delete(protocol)
    else this._notify.delete(channelKey(protocol, id))
  }

  /** Holds every write (of every channel) until the matching `uncork`, then sends one batch. */
  cork (): void {
    this._batcher.cork()
  }

  uncork (): void {
    this._batcher.uncork()
  }

  /**
   * Stops reading the stream until every holder has called `releaseInput`: a channel whose
   * answers to the peer are behind (the peer sends faster than it reads them) stops taking
   * more work. Frames already being dispatched finish first.
   */
  holdInput (): void {
    this._inbox.hold()
  }

  releaseInput (): void {
    this._inbox.release()
  }

  /** True while some holder keeps the stream from being read. */
  get inputHeld (): boolean { return this._inbox.held }

  /** Counters for tests and diagnostics: what this peer costs us right now. */
  get stats (): { channels: number, remoteChannels: number, unpairedChannels: number, unpairedBytes: number, batchedBytes: number } {
    return {
      channels: this._channels.size,
      remoteChannels: this._remote.byId.size,
      unpairedChannels: this._remote.unpairedCount,
      unpairedBytes: this._remote.unpairedBytes,
      batchedBytes: this._batcher.bytes
    }
  }

  isIdle (): boolean {
    return this._channels.size === 0
  }

  [Symbol.iterator] (): IterableIterator<Channel> {
    return this._channels.values()
  }

  /** Destroys the stream (with `err` when given) and closes every channel. Idempotent. */
  destroy (err?: unknown): void {
    if (this.destroyed) return
    const typed = err === undefined ? null : toTyped(err, 'ASSERTION')
    if (typed !== null && this.error === null) this.error = typed
    this._teardownAll()
    this.stream.destroy(typed ?? undefined)
  }

  // ---- for Channel and Message ----

  /** @internal */
  _send<T> (ch: Channel, type: number, encoding: Codec<T>, value: T, deferred = false): boolean {
    if (this.destroyed) return false
    if (this._batcher.corked) {
      this._batcher.add(deferred ? deferItem(ch.localId, type, encoding, value) : { channel: ch.localId, body: encodeItemWith(type, encoding, value) })
      return true
    }
    // One allocation for the common unbatched case: `uint channel ‖ uint type ‖ value`.
    const state: State = { start: 0, end: 0, buffer: null }
    c.uint.preencode(state, ch.localId)
    c.uint.preencode(state, type)
    encoding.preencode(state, value)
    state.buffer = new Uint8Array(state.end)
    state.start = 0
    c.uint.encode(state, ch.localId)
    c.uint.encode(state, type)
    encoding.encode(state, value)
    this.drained = this.stream.write(state.buffer)
    return this.drained
  }

  /** @internal Local open: take an id, send open, pair with a waiting remote open if any. */
  _openLocal (ch: Channel, handshake: Uint8Array): void {
    if (this.destroyed) {
      this._teardown(ch, false)
      return
    }
    const localId = this._free.pop() ?? this._nextId++
    ch.localId = localId
    this._local.set(localId, ch)
    this._control(ControlType.OPEN, encode(openBody, { localId, protocol: ch.protocol, id: ch.id, handshake }))
    const remote = this._remote.takeUnpaired(ch.key)
    if (remote === undefined) {
      push(this._waiting, ch.key, ch)
      return
    }
    remote.reserved = ch
    ch.remoteId = remote.remoteId
    // Like protomux, onopen does not run inside open(): the caller (often a pair handler)
    // finishes first. Messages arriving meanwhile keep queueing behind the held ones.
    queueMicrotask(() => this._pairReserved(remote, ch))
  }

  /** @internal */
  _closeLocal (ch: Channel): void {
    if (ch.localId !== 0 && !this.destroyed) this._control(ControlType.CLOSE, encode(channelIdBody, ch.localId))
    this._teardown(ch, false)
  }

  /** @internal A channel handler threw or rejected. */
  _handlerError (ch: Channel, err: unknown): void {
    if (ch.closed) return
    this.destroy(err)
  }

  // ---- incoming ----

  private _onframe (frame: unknown): void {
    if (this.destroyed) return
    if (!(frame instanceof Uint8Array)) {
      this.destroy(HypercoreError.BAD_ARGUMENT('the message stream delivered something that is not a Uint8Array'))
      return
    }
    // Empty frames are keep-alives (§5.4) and carry nothing for us.
    if (frame.byteLength === 0) return
    this._inbox.push(frame)
  }

  private _handleFrame (frame: Uint8Array): void {
    try {
      const { channel, type, payload } = decodeFrame(frame)
      this._dispatch(channel, type, payload, false)
    } catch (err) {
      this.destroy(err)
    }
  }

  private _dispatch (channel: number, type: number, payload: Uint8Array, inBatch: boolean): void {
    if (channel !== 0) {
      this._onmessage(channel, type, payload)
      return
    }
    switch (type) {
      case ControlType.BATCH:
        if (inBatch) throw HypercoreError.DECODING_ERROR('batch inside a batch')
        this._onbatch(payload)
        return
      case ControlType.OPEN:
        this._onopen(decodeOpenBody(payload))
        return
      case ControlType.REJECT:
        this._onreject(decodeChannelIdBody(payload))
        return
      case ControlType.CLOSE:
        this._onclose(decodeChannelIdBody(payload))
        // Unknown control types are ignored, like unknown message types (§5.5).
    }
  }

  private _onbatch (payload: Uint8Array): void {
    this._inbox.batch(payload)
  }

  private _onmessage (remoteId: number, type: number, payload: Uint8Array): void {
    const remote = this._remote.get(remoteId)
    if (remote === undefined) return // unknown or already closed: stale, ignore
    if (remote.channel !== null) {
      remote.channel._receive(type, payload)
      return
    }
    // Sent before we opened our side: hold it (copied, not a view of a possibly large frame).
    this._remote.hold(remote, type, payload)
  }

  private _onopen (open: OpenBody): void {
    const key = channelKey(open.protocol, open.id)
    const remote = this._remote.add(open, key)
    const waiting = shift(this._waiting, key)
    if (waiting !== undefined) {
      this._pair(remote, waiting)
      return
    }
    this._remote.queueUnpaired(remote)

    const notify = this._notify.get(key) ?? this._notifyAnyId.get(open.protocol)
    if (notify === undefined) {
      this._reject(remote)
      return
    }
    let result: void | Promise<void>
    try {
      result = notify(open.id, open.protocol)
    } catch (err) {
      this.destroy(err)
      return
    }
    if (result && typeof result.then === 'function') {
      result.then(() => this._rejectIfUnpaired(remote), (err: unknown) => this.destroy(err))
    } else {
      this._rejectIfUnpaired(remote)
    }
  }

  private _onreject (localId: number): void {
    const ch = this._local.get(localId)
    // Only an open still waiting for the remote can be rejected.
    if (ch !== undefined && ch.remoteId === 0) this._teardown(ch, true)
  }

  private _onclose (remoteId: number): void {
    const remote = this._remote.get(remoteId)
    if (remote === undefined) return
    if (remote.channel !== null) this._teardown(remote.channel, true)
    else this._remote.drop(remote)
  }

  // ---- pairing ----

  private _pair (remote: RemoteChannel, ch: Channel): void {
    const pending = remote.pending
    remote.reserved = null
    this._remote.release(remote) // paired: what it holds is no longer charged to the unpaired budget
    remote.channel = ch
    ch.remoteId = remote.remoteId
    ch._fullyOpen(remote.open.handshake)
    for (const m of pending) {
      if (ch.closed || this.destroyed) break
      ch._receive(m.type, m.payload)
    }
  }

  private _pairReserved (remote: RemoteChannel, ch: Channel): void {
    if (this.destroyed || ch.closed) return
    // The remote closed it before we got here: it is closed for us too.
    if (this._remote.get(remote.remoteId) !== remote) {
      this._teardown(ch, true)
      return
    }
    // The remote's handshake and held messages are decoded now: errors are the peer's.
    try {
      this._pair(remote, ch)
    } catch (err) {
      this.destroy(err)
    }
  }

  private _rejectIfUnpaired (remote: RemoteChannel): void {
    if (this.destroyed || remote.channel !== null || remote.reserved !== null || this._remote.get(remote.remoteId) !== remote) return
    this._reject(remote)
  }

  private _reject (remote: RemoteChannel): void {
    this._remote.drop(remote)
    this._control(ControlType.REJECT, encode(channelIdBody, remote.remoteId))
  }

  // ---- teardown ----

  /** Closes one channel's state on our side (no bytes sent here). */
  private _teardown (ch: Channel, isRemote: boolean): void {
    if (ch.closed) return
    if (ch.localId !== 0 && this._local.get(ch.localId) === ch) {
      this._local.delete(ch.localId)
      this._free.push(ch.localId)
    }
    const remote = ch.remoteId === 0 ? undefined : this._remote.get(ch.remoteId)
    if (remote !== undefined && (remote.channel === ch || remote.reserved === ch)) {
      this._remote.drop(remote)
    }
    remove(this._waiting, ch.key, ch)
    remove(this._byKey, ch.key, ch)
    this._channels.delete(ch)
    ch._closed(isRemote)
  }

  private _teardownAll (): void {
    if (this.destroyed) return
    this.destroyed = true
    this.stream.removeListener('data', this._ondata)
    this.stream.removeListener('drain', this._ondrain)
    this._inbox.clear()
    this._batcher.clear()
    for (const remote of [...this._remote.byId.values()]) if (remote.channel === null) this._remote.drop(remote)
    for (const ch of [...this._channels]) this._teardown(ch, true)
    this._notify.clear()
    this._notifyAnyId.clear()
  }

  // ---- outgoing ----

  private _control (type: number, body: Uint8Array): void {
    if (this._batcher.corked) this._batcher.add({ channel: 0, body: encodeItem(type, body) })
    else this.drained = this.stream.write(encodeItem(0, encodeItem(type, body)))
  }
}

/** Any error as a HypercoreError: ours pass through; anything else is wrapped with `code`. */
function toTyped (err: unknown, code: 'ASSERTION' | 'CONNECTION_CLOSED'): HypercoreError {
  if (HypercoreError.is(err)) return err
  const msg = err instanceof Error ? err.message : String(err)
  return new HypercoreError(code, msg, { cause: err })
}

function push<K, V> (map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key)
  if (list === undefined) map.set(key, [value])
  else list.push(value)
}

function remove<K, V> (map: Map<K, V[]>, key: K, value: V): boolean {
  const list = map.get(key)
  const i = list === undefined ? -1 : list.indexOf(value)
  if (list === undefined || i === -1) return false
  list.splice(i, 1)
  if (list.length === 0) map.delete(key)
  return true
}

function shift<K, V> (map: Map<K, V[]>, key: K): V | undefined {
  const list = map.get(key)
  if (list === undefined) return undefined
  const v = list.shift()
  if (list.length === 0) map.delete(key)
  return v
}
