/**
 * @module signaling/server/token-bucket
 * Per-connection rate limit: `burst` tokens, refilled at `perSecond`; each message takes one.
 * Lazily refilled from the clock on each take, so an idle connection costs no timer.
 */
export interface RateLimit {
  /** Sustained messages per second. */
  perSecond: number
  /** Messages allowed at once after a quiet period. */
  burst: number
}

export class TokenBucket {
  private tokens: number
  private last: number

  constructor (private readonly limit: RateLimit, private readonly now: () => number = Date.now) {
    this.tokens = limit.burst
    this.last = now()
  }

  /** Takes a token; false when the bucket is empty (the caller closes the connection). */
  take (): boolean {
    const t = this.now()
    this.tokens = Math.min(this.limit.burst, this.tokens + (t - this.last) * this.limit.perSecond / 1000)
    this.last = t
    if (this.tokens < 1) return false
    this.tokens -= 1
    return true
  }
}
