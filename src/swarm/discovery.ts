/**
 * @module swarm/discovery
 * One joined topic: the handle `swarm.join()` returns. It decides when the first discovery
 * round is over (`flushed()`) and schedules re-announcements after a peer dropped.
 *
 * The signaling interface does not say when a lookup is complete, so a round ends when no
 * new attempt started on the topic for `quiet` ms and every attempt it started settled
 * (connected or failed), and any client that offers `flushed(topic)` said it is done. A hard
 * cap (`max` ms) keeps a busy topic from never flushing.
 *
 * Re-announcing (leave + join on every client) is how a dropped peer is found again: it is
 * still in the signaling room, so announcing ourselves makes one side offer again. Several
 * drops share one timer, and it is skipped if every dropped peer came back meanwhile.
 */
import type { TopicHex } from '../signaling/types.js'
import type { Discovery, JoinOptions } from './types.js'

export interface DiscoveryHooks {
  /** Attempts in progress on this topic. */
  pending (): number
  /** True if we are connected to this peer id now. */
  connected (peerId: string): boolean
  /** Re-announce the topic on every signaling client (`refresh(topic)`, else leave + join). */
  reannounce (topic: TopicHex): void
  /** What clients that can tell have to say about their first lookup. */
  clientsFlushed (topic: TopicHex): Promise<void>
  leave (topic: TopicHex): Promise<void>
}

export class TopicDiscovery implements Discovery {
  readonly topic: TopicHex
  readonly options: Required<JoinOptions>
  private readonly _hooks: DiscoveryHooks
  private readonly _quiet: number
  private readonly _max: number
  private readonly _flushed: Promise<void>
  private _resolveFlushed: () => void = () => {}
  private _done = false
  private _quietOver = false
  private _clientsDone = false
  private _quietTimer: ReturnType<typeof setTimeout> | null = null
  private _maxTimer: ReturnType<typeof setTimeout> | null = null
  private _refreshTimer: ReturnType<typeof setTimeout> | null = null
  private _refreshAt = 0
  /** Peers whose loss the scheduled re-announcement is for ('' = an unknown peer). */
  private readonly _missing = new Set<string>()
  private _refreshWhenIdle = false
  closed = false

  constructor (topic: TopicHex, options: Required<JoinOptions>, hooks: DiscoveryHooks, timing: { quiet: number, max: number }) {
    this.topic = topic
    this.options = options
    this._hooks = hooks
    this._quiet = timing.quiet
    this._max = timing.max
    this._flushed = new Promise(resolve => { this._resolveFlushed = resolve })
  }

  flushed (): Promise<void> { return this._flushed }

  refresh (): void {
    if (!this.closed) this._hooks.reannounce(this.topic)
  }

  destroy (): Promise<void> { return this._hooks.leave(this.topic) }

  /** The clients were asked to join: the first round starts now. */
  started (): void {
    if (this.closed || this._done) return
    this._maxTimer = setTimeout(() => { this._maxTimer = null; this._finish() }, this._max)
    this._hooks.clientsFlushed(this.topic).then(() => { this._clientsDone = true; this.check() }, () => { this._clientsDone = true; this.check() })
    this.activity()
  }

  /** An attempt started on this topic: the round is still finding peers. */
  activity (): void {
    if (this.closed || this._done) return
    this._quietOver = false
    if (this._quietTimer !== null) clearTimeout(this._quietTimer)
    this._quietTimer = setTimeout(() => { this._quietTimer = null; this._quietOver = true; this.check() }, this._quiet)
  }

  /** Something settled: maybe the round is over, or a deferred re-announcement can go. */
  check (): void {
    if (this._refreshWhenIdle && !this.closed && this._hooks.pending() === 0) {
      this._refreshWhenIdle = false
      this.refresh()
    }
    if (this._done || !this._quietOver || !this._clientsDone) return
    if (this._hooks.pending() > 0) return
    this._finish()
  }

  /** Re-announce in `delay` ms because `peerId` dropped (or an attempt failed); earliest wins. */
  scheduleRefresh (delay: number, peerId: string | null): void {
    if (this.closed) return
    this._missing.add(peerId ?? '')
    const at = Date.now() + delay
    if (this._refreshTimer !== null && this._refreshAt <= at) return
    if (this._refreshTimer !== null) clearTimeout(this._refreshTimer)
    this._refreshAt = at
    this._refreshTimer = setTimeout(() => this._onRefresh(), delay)
  }

  private _onRefresh (): void {
    this._refreshTimer = null
    let needed = false
    for (const p of this._missing) if (p === '' || !this._hooks.connected(p)) needed = true
    this._missing.clear()
    if (!needed) return
    // Clients implement a re-announcement as leave + join, and leaving forgets the signals
    // of attempts in progress on the topic: wait until none is left (check() runs on each).
    if (this._hooks.pending() > 0) this._refreshWhenIdle = true
    else this.refresh()
  }

  /** Stops everything (leave or destroy); a pending flushed() resolves. */
  close (): void {
    this.closed = true
    if (this._refreshTimer !== null) clearTimeout(this._refreshTimer)
    this._refreshTimer = null
    this._missing.clear()
    this._refreshWhenIdle = false
    this._finish()
  }

  private _finish (): void {
    if (this._quietTimer !== null) clearTimeout(this._quietTimer)
    if (this._maxTimer !== null) clearTimeout(this._maxTimer)
    this._quietTimer = this._maxTimer = null
    if (this._done) return
    this._done = true
    this._resolveFlushed()
  }
}
