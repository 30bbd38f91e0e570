/**
 * @module replication/replicator/types
 * Shapes shared by the replicator's files: our outstanding requests and the limits.
 */
import type { DataMessage, RequestMessage } from '../../wire/messages.js'
import type { Peer } from './peer.js'

/** What a request was for: how the answer is matched and applied (§3.3.4). */
export type RequestKind = 'block' | 'upgrade' | 'reorg' | 'hash'

/** A request we sent and have not had an answer for. */
export interface Outstanding {
  peer: Peer
  kind: RequestKind
  message: RequestMessage
  /** The caller's priority: 1 for a `get`, 0 for background ranges (§5.7). */
  priority: number
  /** Its answer arrived and is being verified/stored: never cancel it, never ask again meanwhile. */
  answered?: boolean
  /** A block request also sent to another peer (a hedge): whichever answers first wins. */
  hedged?: boolean
  /** When it was sent, on the `tick()` clock (a storage failure fails only ranges older than it). */
  sentAt?: number
  /** For an upgrade: the peer's length it was asked to prove (what it claimed when we asked). */
  target?: number
  /** For a 'hash' request (reorg narrowing): gets the matching answer, or null when there is none. */
  resolve?: (data: DataMessage | null) => void
}

export interface ReplicatorOptions {
  /** Requests in flight per peer (hypercore@10 on plain streams: 16 × 3 = 48, §5.7). */
  maxInflight?: number
  /** Remote requests queued per peer before it counts as a flood (PROTOCOL_ERROR). */
  maxRemoteQueue?: number
  /** Ask a longer peer for its signed length as soon as it announces one (default true). */
  eagerUpgrade?: boolean
  /**
   * Milliseconds a peer's oldest request may wait for its answer before every request to it
   * is given to other peers and it gets a strike (health.ts). Default 10000. Must exceed the
   * time one block takes over the slowest link. Also bounds how long `update()` waits for a
   * peer that does not open, sync or acknowledge, and the conflict check.
   */
  requestTimeout?: number
  /**
   * Milliseconds a peer may stay silent with block requests out before each of them is also
   * asked of another peer that has the block (first answer wins, the other is cancelled).
   * Not a failure: the peer is struck only at `requestTimeout`. Default `requestTimeout / 8`.
   */
  hedgeAfter?: number
  /** Failures (timeouts, answers that prove nothing) before a peer is dropped. Default 3. */
  maxStrikes?: number
  /** Most bytes one peer's availability announcements may take here. Default 4 MiB. */
  maxPeerBitfieldBytes?: number
  /** Most bytes all peers' announcements of this core may take. Default 16 MiB (process-wide: `processBitfieldBudget`). */
  maxCoreBitfieldBytes?: number
}

let clock = 0
/** A process-wide counter ordering requests and download ranges (not time: only order matters). */
export function tick (): number { return ++clock }

export const DEFAULT_MAX_INFLIGHT = 48
export const DEFAULT_MAX_REMOTE_QUEUE = 2048
export const DEFAULT_REQUEST_TIMEOUT = 10000
export const DEFAULT_MAX_STRIKES = 3
/** At most this many upgrade requests are in flight at once, each to a different peer. */
export const MAX_UPGRADES = 2
/** Blocks per `want` segment: one 256 KiB bitfield segment (§5.7). */
export const WANT_SEGMENT = 2097152

/** Work a peer asked of us, answered in arrival order (serve.ts). */
export type RemoteWork =
  | { kind: 'request', message: RequestMessage }
  /** Our bitfield words for one `want` segment (§5.7). */
  | { kind: 'want', segment: number }
  /** Our contiguous prefix, for a `want` inside it. */
  | { kind: 'contig' }
