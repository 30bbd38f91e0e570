/**
 * @module replication/replicator/health
 * How much we trust one peer to answer: strikes, backoff and the decision to drop it.
 *
 * A *failure* is a request that timed out (its peer's oldest request waited `requestTimeout`,
 * inflight.ts), an answer that proves nothing (data lacking what was asked, an upgrade shorter
 * than the length the peer claimed, noData to an upgrade it offered), or a run of refusals of
 * blocks it announced. Each failure is a strike: the peer gets no new requests for a backoff
 * that doubles with each strike (half a timeout, then one, two, … up to eight), and at
 * `maxStrikes` it is dropped with the failure's typed error. Strikes are forgiven one per
 * sixteen timeouts of good behaviour, so an honest peer that stalled once recovers, while one
 * that stalls every few requests is soon gone. Backoff is what breaks re-ask loops: nothing is
 * asked again of a peer that just failed until its backoff ends.
 */
import type { HypercoreError } from '../../errors.js'

export interface HealthPolicy {
  /** Milliseconds a peer's oldest request may wait for its answer. */
  requestTimeout: number
  /** Milliseconds of silence after which its block requests are also asked elsewhere (scheduler.ts). */
  hedgeAfter: number
  /** Strikes before the peer is dropped. */
  maxStrikes: number
}

/** Refusals (noData for blocks the peer announced) in a row that count as one strike. */
export const REFUSALS_PER_STRIKE = 16
/** One strike is forgiven per this many request timeouts without a new one. */
const FORGIVE_AFTER = 16

export class PeerHealth {
  readonly policy: HealthPolicy
  strikes = 0
  lastStrikeAt = 0
  /** No new requests go to the peer before this time (ms). */
  backoffUntil = 0
  /** Refusals of announced blocks since its last good answer. */
  refusals = 0

  constructor (policy: HealthPolicy) {
    this.policy = policy
  }

  backedOff (now = Date.now()): boolean { return now < this.backoffUntil }

  /** Records a failure: backoff, and the error to drop the peer with once it has too many. */
  strike (failure: HypercoreError, now = Date.now()): HypercoreError | null {
    const t = this.policy.requestTimeout
    if (this.strikes > 0) this.strikes = Math.max(0, this.strikes - Math.floor((now - this.lastStrikeAt) / (FORGIVE_AFTER * t)))
    this.strikes++
    this.lastStrikeAt = now
    this.backoffUntil = now + Math.min(t / 2 * 2 ** (this.strikes - 1), 8 * t)
    return this.strikes >= this.policy.maxStrikes ? failure : null
  }

  /** A refused block it had announced: true when that makes a strike. */
  refused (): boolean {
    return ++this.refusals % REFUSALS_PER_STRIKE === 0
  }

  /** A useful answer. */
  good (): void {
    this.refusals = 0
  }
}
