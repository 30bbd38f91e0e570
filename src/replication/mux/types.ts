/**
 * @module replication/mux/types
 * The small interfaces the multiplexer is built against: the message stream below it (one
 * write = one whole message, e.g. our secret-stream or any framed duplex) and the options
 * of channels and messages above it.
 */
import type { Codec } from '../../wire/codec.js'
import type { Channel } from './channel.js'

export type { Codec }

/**
 * A message-preserving duplex: each `write` sends one whole message and each `'data'` event
 * delivers one. A streamx `Duplex` over secret-stream fits, as does a Node stream in object mode.
 */
export interface MessageStream {
  /** Returns false when the caller should wait for `'drain'` (advisory: the mux keeps writing). */
  write (message: Uint8Array): boolean
  destroy (err?: Error): void
  /**
   * The mux listens for `'data'` (one `Uint8Array` message), `'drain'`, `'error'`, `'close'`.
   * Loosely typed so any EventEmitter-style duplex (streamx, Node) fits as is.
   */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  on (event: string, listener: (...args: any[]) => void): unknown
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  removeListener (event: string, listener: (...args: any[]) => void): unknown
  readonly destroyed?: boolean
  /** Stop / restart `'data'` events (streamx and Node readables). Without them the mux cannot hold input. */
  pause?: () => unknown
  resume?: () => unknown
}

/** A handler may be sync or async; a throw or rejection destroys the stream (a closed channel's are dropped). */
export type Handler<A extends unknown[]> = (...args: A) => void | Promise<void>

export interface MessageOptions<T> {
  encoding: Codec<T>
  onmessage?: Handler<[message: T, channel: Channel]>
  /**
   * The sender never changes a value after `send` (each is a fresh object of its own): while
   * the mux is corked, one is encoded straight into the batch when the batch is written,
   * instead of into a buffer of its own first (one copy of the message, not two). Leave it
   * off for values a caller may reuse (an extension payload). Default false.
   */
  deferred?: boolean
}

export interface ChannelOptions<H = unknown> {
  /** Matched with the remote's open together with `id` (§5.5). */
  protocol: string
  /** Optional binary id (hypercore: the discovery key). An empty id is the same as none. */
  id?: Uint8Array | null
  /** Encoding of the open handshake payload (hypercore: `wire/messages` `handshake`). */
  handshake?: Codec<H>
  /** Message types in wire order: the index is the type number (each may have its own value type). */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  messages?: Array<MessageOptions<any>>
  /** When true (the default) createChannel returns null while a channel with the same key is live. */
  unique?: boolean
  userData?: unknown
  /** Both sides have opened; `handshake` is the remote's decoded handshake. */
  onopen?: Handler<[handshake: H | null, channel: Channel]>
  /** Closed by us, by the remote (close or reject), or because the stream went away. */
  onclose?: Handler<[isRemote: boolean, channel: Channel]>
  /** After onclose, once every promise returned by this channel's handlers has settled. */
  ondestroy?: Handler<[channel: Channel]>
  /** The stream asked writers to wait and has now drained. */
  ondrain?: Handler<[channel: Channel]>
}

/** Called when the remote opens a channel nobody here is waiting for; open one to accept it. */
export type PairNotify = (id: Uint8Array | null, protocol: string) => void | Promise<void>

export interface MuxOptions {
  /**
   * Most remote opens that may wait for a local channel at once (each one is a pending
   * `pair` callback). Beyond it the peer is flooding: PROTOCOL_ERROR. Default 4096.
   */
  maxUnpairedChannels?: number
  /**
   * Most bytes held for remote channels that are not paired yet: their open handshakes and
   * the messages sent on them before we opened (+64 bytes of bookkeeping each). Honest
   * peers send almost nothing before the pair completes (hypercore waits for our open).
   * Default 4 MiB.
   */
  maxUnpairedBytes?: number
  /** A corked batch is written out once it reaches this size. Default 8 MiB (§5.5). */
  maxBatchBytes?: number
  /**
   * Milliseconds of dispatching incoming messages without giving the event loop a turn,
   * after which the mux stops reading until it has had one (a batch is continued where it
   * stopped). Default 25.
   */
  maxBusyMs?: number
}
