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
  /** When it was sent, on the `tick()` clock (a storage failure fails only ranges older than it). */
  sentAt?: number
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
}

let clock = 0
/** A process-wide counter ordering requests and download ranges (not time: only order matters). */
export function tick (): number { return ++clock }

export const DEFAULT_MAX_INFLIGHT = 48
export const DEFAULT_MAX_REMOTE_QUEUE = 2048
/** Blocks per `want` segment: one 256 KiB bitfield segment (§5.7). */
export const WANT_SEGMENT = 2097152
