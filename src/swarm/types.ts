/**
 * @module swarm/types
 * The swarm's public shapes: its options, what a 'connection' event carries, the handle
 * `join()` returns. The swarm finds peers per topic through signaling clients, connects
 * them over WebRTC and hands out Noise-encrypted `SecretStream`s, like hyperswarm does.
 */
import type { KeyPair } from '../crypto/index.js'
import type { SecretStream } from '../replication/secret-stream/index.js'
import type { SignalingClient, TopicHex } from '../signaling/types.js'
import type { DhtOptions } from '../dht/client.js'
import type { IceServer, WebRtcPeer, WebRtcPeerOptions } from '../transport/types.js'

export type { DhtOptions }

export interface SwarmOptions {
  /** Where peers are found; several may run at once. Optional with `dht`. */
  signaling?: SignalingClient[]
  /**
   * Join the HyperDHT (hyperswarm's network) through a DHT relay: `{ relay: 'ws://…' }` (or a
   * list, tried in turn). The relay never holds our key nor sees plaintext. Its client is
   * loaded on demand, so pages without this option do not carry it.
   */
  dht?: DhtOptions
  /** Our static Noise key pair; its public key (hex) is our peer id. Default: a fresh one. */
  keyPair?: KeyPair
  /** Most connections (established and being set up) at once. Default 16. */
  maxPeers?: number
  iceServers?: IceServer[]
  /** A WebRTC implementation for Node (`@roamhq/wrtc`). */
  wrtc?: unknown
  /** Makes the WebRTC connection; default the transport's `createWebRtcPeer`. */
  createPeer?: (opts: WebRtcPeerOptions) => WebRtcPeer
  /** A connection attempt that has not finished its handshake after this many ms fails. Default 20000. */
  connectTimeout?: number
  /** Keep-alive interval of each secret stream in ms (0 = off). Default 5000, as hypercore. */
  keepAlive?: number
  /** A connection that receives nothing for this many ms is dropped (0 = never). Default 20000. */
  idleTimeout?: number
  /**
   * A discovery round of a topic is over when no new attempt started for this many ms and
   * every attempt it started has settled (connected or failed). Default 1000.
   */
  flushQuiet?: number
  /** Reconnection backoff: first delay and cap, in ms. Default 1000 and 60000. */
  backoff?: { initial?: number, max?: number }
}

export interface JoinOptions {
  /**
   * As hyperswarm's: `server` announces the topic, `client` looks it up and connects to the
   * peers found. Both default true; at least one must be true. Over the DHT they mean exactly
   * that; over signaling both sides must be in the room to exchange WebRTC signals, so there a
   * topic is always announced and looked up.
   */
  server?: boolean
  client?: boolean
}

/** What the swarm knows about a connected peer (hyperswarm's PeerInfo, reduced). */
export interface PeerInfo {
  /** The peer's Noise static public key, checked by the handshake. */
  readonly publicKey: Uint8Array
  /** Topics (hex) on which we found this peer; grows when more topics lead to it. */
  readonly topics: TopicHex[]
  /** True if we made the WebRTC offer and started the Noise handshake. */
  readonly initiator: boolean
  /** Name of the signaling client that brought the connection. */
  readonly signaling: string
}

/** The handle `swarm.join()` returns. */
export interface Discovery {
  readonly topic: TopicHex
  /** Resolves once the first discovery round of this topic is over (see `SwarmOptions.flushQuiet`). */
  flushed (): Promise<void>
  /** Re-announces the topic on every signaling client now. */
  refresh (): void
  /** Same as `swarm.leave(topic)`. */
  destroy (): Promise<void>
}

export interface SwarmEvents {
  /** A new, handshaken, deduplicated connection. */
  connection: [stream: SecretStream, info: PeerInfo]
  /** A connection we had handed out closed. */
  disconnection: [stream: SecretStream, info: PeerInfo]
  /**
   * Something went wrong without stopping the swarm: a signaling client's error, a failed
   * connection attempt, a peer whose Noise key differs from the id the signaling announced
   * (`INVALID_HANDSHAKE`). Always a HypercoreError or the client's own error.
   */
  warning: [err: Error]
  /** `destroy()` finished. */
  close: []
}

/** @deprecated The optional `flushed`/`refresh` now live on `SignalingClient` itself. */
export type FlushableSignalingClient = SignalingClient

export type { SecretStream }
