/**
 * @module core/mutex
 * A FIFO async lock. Every mutation of a core (append, truncate, clear, purge) runs under it,
 * so concurrent appends are serialised and each sees the state the previous one left (§6.1:
 * one oplog entry per mutation, written in order).
 */
export class Mutex {
  private _tail: Promise<void> = Promise.resolve()
  private _held = 0

  /** True while a holder runs or waiters queue. */
  get locked (): boolean {
    return this._held > 0
  }

  /** Runs `fn` once every earlier holder has finished (whether it resolved or threw). */
  run<T> (fn: () => Promise<T>): Promise<T> {
    this._held++
    const result = this._tail.then(fn)
    this._tail = result.then(() => { this._held-- }, () => { this._held-- })
    return result
  }
}
