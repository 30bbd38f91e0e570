/**
 * @module replication/replicator/inflight
 * Our requests to one peer, in the order they were sent, with a head-of-line clock: the time
 * the oldest unanswered request became the oldest. A responder answers in arrival order
 * (§3.4), so an honest peer, however slow its link, answers its oldest request within one
 * request's time of answering the previous one; a peer whose oldest request waits longer than
 * the request timeout has stalled (health.ts). Answering newer requests does not reset the
 * clock, so a peer cannot hold old requests for ever by answering cheap new ones.
 *
 * A request *withdrawn* because another peer answered it first (a hedge, scheduler.ts) is no
 * answer either: the clock keeps running, even across a moment with nothing in flight, so a
 * peer that never answers still times out (and is struck) however often its requests are
 * hedged away from it, until it answers one of them, late.
 */
import type { Outstanding } from './types.js'

export class InflightTable {
  private readonly _map = new Map<number, Outstanding>()
  /** When the current oldest request became the oldest (ms, `Date.now()`). */
  headSince = 0
  /** The clock of requests withdrawn unanswered, for the next request (null: none pending). */
  private _silentSince: number | null = null

  get size (): number { return this._map.size }

  /** The oldest request still unanswered. */
  get head (): Outstanding | undefined { return this._map.values().next().value }

  get (id: number): Outstanding | undefined { return this._map.get(id) }
  has (id: number): boolean { return this._map.has(id) }
  values (): IterableIterator<Outstanding> { return this._map.values() }
  keys (): IterableIterator<number> { return this._map.keys() }

  set (id: number, req: Outstanding): void {
    if (this._map.size === 0) this.headSince = this._silentSince ?? Date.now()
    this._silentSince = null
    this._map.set(id, req)
  }

  /** Removes a request someone else answered, without restarting the clock. */
  withdraw (id: number): boolean {
    const had = this._map.delete(id)
    if (had && this._map.size === 0) this._silentSince = this.headSince
    return had
  }

  /**
   * The peer answered a request we had withdrawn: it is slow, not silent, so withdrawn
   * requests stop counting against it. (Requests still in flight keep their clock: late
   * answers to old ids must not keep a peer that ignores its current ones alive.)
   */
  heard (): void {
    this._silentSince = null
  }

  delete (id: number): boolean {
    const wasHead = this._map.keys().next().value === id
    const had = this._map.delete(id)
    if (had && wasHead) this.headSince = Date.now()
    return had
  }
}
