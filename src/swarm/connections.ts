/**
 * @module swarm/connections
 * Bookkeeping of the swarm's connections: attempts still in their WebRTC/Noise setup, and
 * established connections by remote public key, plus the one rule that decides which of two
 * connections to the same peer survives.
 *
 * Why a rule both sides compute alike: two peers may connect twice at once (two topics, two
 * signaling servers, both sides offering). Each side only learns the remote key after the
 * handshake, and each may see the two connections finish in a different order. If both keep
 * "the one whose initiator has the larger public key, else the one with the smaller
 * handshake hash", they end up on the same connection whatever the order: both inputs are
 * the same on both ends (the handshake hash is shared by the two ends of a Noise session).
 * Larger, not smaller, because that is hyperswarm's tie-break for two connections started by
 * the two sides (it keeps the one its "expected initiator", the larger key, started): a page
 * and a hyperswarm peer that reach each other both ways over the DHT keep the same one.
 */
import type { SecretStream } from '../replication/secret-stream/index.js'
import type { PeerId, TopicHex } from '../signaling/types.js'
import type { WebRtcPeer } from '../transport/types.js'
import type { PeerInfo } from './types.js'

/** Why a stream was closed by us, so its close is not mistaken for a peer dropping. */
export type EndReason = 'dedup' | 'replaced' | 'cap' | 'rejected' | 'destroyed'

/** A connection attempt: signaling started it, the handshake has not finished. */
export interface Attempt {
  readonly peer: WebRtcPeer
  readonly stream: SecretStream
  /** The peer id the signaling announced (null: unknown, e.g. a tracker offer). */
  readonly announced: PeerId | null
  /** Null for a peer that connected to us by itself (a DHT peer: it found us on some topic we serve). */
  readonly topic: TopicHex | null
  /** Every topic on which this peer was found while the attempt ran (first: `topic`). */
  readonly topics: TopicHex[]
  readonly initiator: boolean
  readonly signaling: string
  timer: ReturnType<typeof setTimeout> | null
  /** Set when we end it ourselves. */
  ended: EndReason | null
  error: Error | null
}

/** An established connection handed to the user. */
export interface Connection {
  readonly stream: SecretStream
  readonly peer: WebRtcPeer
  readonly info: PeerInfo & { topics: TopicHex[] }
  readonly remote: PeerId
  readonly openedAt: number
  ended: EndReason | null
}

/** Lowercase hex of a 32-byte key. */
export function isPeerId (id: unknown): id is PeerId {
  return typeof id === 'string' && /^[0-9a-f]{64}$/.test(id)
}

function compareBytes (a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!
  return a.length - b.length
}

/** What the rule looks at for one connection. */
export interface Candidate {
  /** We started the Noise handshake on it. */
  initiator: boolean
  handshakeHash: Uint8Array
}

/**
 * True if `a` should be kept over `b` (two connections between us, `self`, and `remote`).
 * Both ends get the same answer for the same pair of connections.
 */
export function keepFirst (a: Candidate, b: Candidate, self: Uint8Array, remote: Uint8Array): boolean {
  const ia = a.initiator ? self : remote
  const ib = b.initiator ? self : remote
  const byInitiator = compareBytes(ia, ib)
  if (byInitiator !== 0) return byInitiator > 0
  return compareBytes(a.handshakeHash, b.handshakeHash) <= 0
}

/** Attempts and connections, indexed the ways the swarm asks about them. */
export class ConnectionTable {
  readonly attempts = new Set<Attempt>()
  readonly byRemote = new Map<PeerId, Connection>()
  private _idle: Array<() => void> = []

  /** Connections and attempts together: what the peer cap counts. */
  get size (): number {
    return this.attempts.size + this.byRemote.size
  }

  pendingFor (topic: TopicHex): number {
    let n = 0
    for (const a of this.attempts) if (a.topic === topic) n++
    return n
  }

  /** An attempt to `peerId` that we started (we made the offer), or null. */
  initiating (peerId: PeerId): Attempt | null {
    for (const a of this.attempts) if (a.initiator && a.announced === peerId) return a
    return null
  }

  removeAttempt (a: Attempt): void {
    if (a.timer !== null) clearTimeout(a.timer)
    a.timer = null
    if (this.attempts.delete(a) && this.attempts.size === 0) this._wakeIdle()
  }

  /** Resolves when no attempt is in progress. */
  idle (): Promise<void> {
    if (this.attempts.size === 0) return Promise.resolve()
    return new Promise(resolve => this._idle.push(resolve))
  }

  /** Wakes `idle()` waiters (no attempt left, or the swarm is closing). */
  _wakeIdle (): void {
    for (const w of this._idle.splice(0)) w()
  }
}
