/**
 * @module signaling/types
 * A signaling client finds peers in a topic and carries their WebRTC signals; it never
 * carries replication data. Every client (our WebSocket server's client, BroadcastChannel,
 * the WebTorrent tracker) implements `SignalingClient`, and the swarm runs several at once.
 *
 * The client does not make WebRTC connections itself: the swarm hands it a
 * `SignalingContext` whose `connect()` does, so every client shares one transport, one peer
 * cap and one deduplication rule.
 *
 * A peer id is the hex of an Ed25519 public key, the swarm's Noise static key. Our own
 * rendezvous clients make it prove itself (./auth.ts): to the server with a signed challenge,
 * to the receiving peer with a signature on every signal, which the context's `sign()` makes
 * without handing out the secret key. Ids a server merely lists are hints; the swarm checks
 * the Noise static key after the handshake whatever the client.
 */
import type { PreparedHandshake } from '../replication/secret-stream/index.js'
import type { ByteStream, SignalData, WebRtcPeer } from '../transport/types.js'

/** A peer's id on the signaling layer: lowercase hex of its Noise static public key (Ed25519). */
export type PeerId = string
/** A topic as lowercase hex (a core's 32-byte discovery key). */
export type TopicHex = string

export interface ConnectRequest {
  /**
   * The remote peer's id, or null when unknown (tracker offers go to a random peer). When we
   * answer (`initiator: false`) through our rendezvous clients, it is the id that signed the
   * offer; when we offer, it is the id the signaling listed. Either way the swarm compares it
   * with the Noise static key after the handshake.
   */
  peerId: PeerId | null
  topic: TopicHex
  initiator: boolean
  /** See `WebRtcPeerOptions.trickle`. */
  trickle?: boolean
}

/**
 * A connection a discovery brought as a byte stream of its own rather than through WebRTC
 * (the DHT relay's connections), handed to the swarm once known who is at the other end.
 */
export interface AttachRequest {
  /** The remote's key, as the discovery's own handshake authenticated it. */
  peerId: PeerId
  /** The topic it was found on; null for a peer that connected to us. */
  topic: TopicHex | null
  /** We started it (the Noise initiator). */
  initiator: boolean
  /** The raw byte stream; the swarm wraps it in its secret stream. */
  stream: ByteStream
  /** A Noise handshake already done (HyperDHT's IK): the secret stream starts at the header exchange with these keys. */
  handshake: PreparedHandshake
}

/** What the swarm lends each signaling client. */
export interface SignalingContext {
  /** Our peer id. */
  readonly self: PeerId
  /**
   * Signs `message` with the secret key of `self`. Only signaling's own signables are signed
   * (`helloSignable`, `signalSignable` in ./auth.ts, recognised by their domain prefix): anything
   * else throws BAD_ARGUMENT, so a signaling client cannot get the key to sign other things.
   */
  sign (message: Uint8Array): Uint8Array
  /**
   * Whether the swarm wants a (new) connection to this peer now: not yet connected, under the
   * cap. `topic` null: the peer is connecting to us (any topic we joined as a server).
   */
  wants (peerId: PeerId | null, topic: TopicHex | null): boolean
  /** Start a WebRTC connection; the swarm owns it from here (handshake, dedup, close). */
  connect (req: ConnectRequest): WebRtcPeer
  /** Hand over a connection the client made itself (the DHT relay's); the swarm owns it from here. */
  attach? (req: AttachRequest): void
}

export interface SignalingClient {
  /** A short name for logs and errors ('ws-server', 'broadcast-channel', 'tracker'). */
  readonly name: string
  /** Connects; idempotent. Failing to connect emits 'error' and retries with backoff; it never throws into the swarm. */
  start (ctx: SignalingContext): void
  /**
   * Announce ourselves in a topic and look for peers there; idempotent. `opts` are the swarm's
   * join options (a rendezvous needs both sides in the room, so most clients ignore them).
   */
  join (topic: TopicHex, opts?: { server: boolean, client: boolean }): void
  leave (topic: TopicHex): void
  /** Optional: resolves when the first lookup of `topic` (since its latest join) is done; the swarm's `flushed()` waits for it. */
  flushed? (topic: TopicHex): Promise<void>
  /** Optional: announce ourselves on `topic` again now, keeping pending signals (else the swarm calls leave + join). */
  refresh? (topic: TopicHex): void
  /** Stops for good, releasing sockets, channels and timers; idempotent. */
  close (): Promise<void>
  on (event: 'error', listener: (err: Error) => void): unknown
  off (event: 'error', listener: (err: Error) => void): unknown
}
