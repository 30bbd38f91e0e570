/**
 * @module swarm/backoff
 * When to look for a peer again after it dropped or an attempt failed: exponential delays
 * (initial · 2^failures, capped) with ±25 % jitter so that two peers that lost each other at
 * the same moment do not re-announce in lockstep. A connection that stayed up long enough
 * resets the count, so a peer that is usually fine reconnects quickly after one drop.
 */
import { retryDelay } from '../signaling/retry-delay.js'

export interface BackoffOptions {
  initial?: number
  max?: number
  /** A connection that lived at least this long clears the failure count. Default 10 × initial. */
  stableAfter?: number
  random?: () => number
}

export class Backoff {
  readonly initial: number
  readonly max: number
  readonly stableAfter: number
  private readonly _random: () => number
  /** Consecutive failures per key (peer id, or topic for peers we never knew). */
  private readonly _failures = new Map<string, number>()

  constructor (opts: BackoffOptions = {}) {
    this.initial = opts.initial ?? 1000
    this.max = Math.max(this.initial, opts.max ?? 60000)
    this.stableAfter = opts.stableAfter ?? 10 * this.initial
    this._random = opts.random ?? Math.random
  }

  /** Records a failure (or a drop after `livedMs`) and returns the delay before trying again. */
  fail (key: string, livedMs = 0): number {
    const before = livedMs >= this.stableAfter ? 0 : this._failures.get(key) ?? 0
    this._failures.set(key, before + 1)
    return retryDelay(before, this.initial, this.max, this._random)
  }

  /** The key connected: nothing to back off from (its next drop starts at `initial` again once stable). */
  reset (key: string): void {
    this._failures.delete(key)
  }

  failures (key: string): number {
    return this._failures.get(key) ?? 0
  }

  clear (): void {
    this._failures.clear()
  }
}
