/**
 * @module replication/replicator/watchdog
 * The replicator's clock and what happens when a peer fails (health.ts). One interval,
 * running only while something can time out (requests in flight, `update()` waiting), ticks
 * four times per request timeout (twice per hedge delay when that is shorter): a peer whose
 * oldest request waited a whole timeout (inflight.ts) loses every request to other peers and
 * gets a strike; one silent for the hedge delay has its block requests also asked elsewhere
 * (scheduler.ts `hedge`); `update()`'s deadlines are re-checked. A strike brings a backoff,
 * after which the scheduler looks at the peer again; the last strike ends its connection with
 * the failure's typed error. Every timer stops on close.
 */
import { HypercoreError } from '../../errors.js'
import type { Peer } from './peer.js'
import type { Replicator } from './replicator.js'

export class Watchdog {
  private readonly _rep: Replicator
  private readonly _period: number
  private _timer: ReturnType<typeof setInterval> | null = null
  private _closed = false

  constructor (rep: Replicator) {
    this._rep = rep
    this._period = Math.max(5, Math.floor(Math.min(rep.policy.requestTimeout / 4, rep.policy.hedgeAfter / 2)))
  }

  get running (): boolean { return this._timer !== null }

  /** Starts the clock (it stops by itself when nothing is left to watch). */
  watch (): void {
    if (this._timer !== null || this._closed) return
    this._timer = setInterval(() => { if (!this._tick()) this._stop() }, this._period)
  }

  close (): void {
    this._closed = true
    this._stop()
    for (const p of this._rep.peers) this.forget(p)
  }

  /** The peer is gone: its backoff timer goes too. */
  forget (peer: Peer): void {
    if (peer.backoffTimer !== null) clearTimeout(peer.backoffTimer)
    peer.backoffTimer = null
  }

  /**
   * A failure of `peer` (health.ts): a strike and a backoff, or, at `maxStrikes`, the end of
   * its connection with `err`.
   */
  fail (peer: Peer, err: HypercoreError): void {
    if (peer.closed || this._closed) return
    const drop = peer.health.strike(err)
    if (drop !== null) {
      peer.destroy(drop)
      return
    }
    this._wakeAfterBackoff(peer)
  }

  private _stop (): void {
    if (this._timer === null) return
    clearInterval(this._timer)
    this._timer = null
  }

  /** Stalled peers lose their requests; deadlines are re-checked. False: nothing to watch. */
  private _tick (): boolean {
    const rep = this._rep
    if (this._closed) return false
    const now = Date.now()
    let busy = false
    const silent: Peer[] = []
    for (const p of [...rep.peers]) {
      if (p.inflight.size === 0) continue
      busy = true
      const waited = now - p.inflight.headSince
      if (waited >= rep.policy.requestTimeout) this._timedOut(p)
      else if (waited >= rep.policy.hedgeAfter) silent.push(p)
    }
    if (silent.length > 0) {
      // The hedges of one tick leave as one batch per connection.
      const peers = rep.peers.slice()
      for (const p of peers) p.channel.cork()
      try {
        for (const p of silent) if (!p.closed) rep.scheduler.hedge(p)
      } finally {
        for (const p of peers) p.channel.uncork()
      }
    }
    if (rep.updating) {
      busy = true
      rep.checkUpdates()
      rep.scheduler.kick() // whatever update() waits for is being asked for
    }
    return busy
  }

  /** The peer's oldest request waited `requestTimeout`: its requests go to others, it gets a strike. */
  private _timedOut (peer: Peer): void {
    const rep = this._rep
    rep.scheduler.timeout(peer)
    this.fail(peer, HypercoreError.REQUEST_TIMEOUT(`peer did not answer a request within ${rep.policy.requestTimeout} ms`))
    rep.scheduler.kick()
    rep.checkUpdates()
  }

  private _wakeAfterBackoff (peer: Peer): void {
    this.forget(peer)
    // +1: a timer may fire a millisecond early by the wall clock the backoff is kept in.
    peer.backoffTimer = setTimeout(() => {
      peer.backoffTimer = null
      if (peer.closed || this._closed) return
      if (peer.health.backedOff()) return this._wakeAfterBackoff(peer)
      this._rep.scheduler.kick()
      this._rep.checkUpdates()
    }, Math.max(0, peer.health.backoffUntil - Date.now()) + 1)
  }
}
