/**
 * @module replication/replicator/inflight
 * Our requests to one peer, in the order they were sent, with a head-of-line clock: the time
 * the oldest unanswered request became the oldest. A responder answers in arrival order
 * (§3.4), so an honest peer, however slow its link, answers its oldest request within one
 * request's time of answering the previous one; a peer whose oldest request waits longer than
 * the request timeout has stalled (health.ts). Answering newer requests does not reset the
 * clock, so a peer cannot hold old requests for ever by answering cheap new ones.
 */
import type { Outstanding } from './types.js'

export class InflightTable {
  private readonly _map = new Map<number, Outstanding>()
  /** When the current oldest request became the oldest (ms, `Date.now()`). */
  headSince = 0

  get size (): number { return this._map.size }

  /** The oldest request still unanswered. */
  get head (): Outstanding | undefined { return this._map.values().next().value }

  get (id: number): Outstanding | undefined { return this._map.get(id) }
  has (id: number): boolean { return this._map.has(id) }
  values (): IterableIterator<Outstanding> { return this._map.values() }
  keys (): IterableIterator<number> { return this._map.keys() }

  set (id: number, req: Outstanding): void {
    if (this._map.size === 0) this.headSince = Date.now()
    this._map.set(id, req)
  }

  delete (id: number): boolean {
    const wasHead = this._map.keys().next().value === id
    const had = this._map.delete(id)
    if (had && wasHead) this.headSince = Date.now()
    return had
  }
}
