/**
 * @module core/waits
 * Waiting for blocks that are not stored yet (`get` with `wait`, `onwait`, `timeout`).
 * Locally a block can only arrive by an append; the replication layer plugs in through
 * `ReplicatorHook`, set on the core's `replicator` slot, and is asked to fetch.
 */
import { HypercoreError } from '../errors.js'

/** What the network layer provides to the core. All of it is optional to the core. */
export interface ReplicatorHook {
  /** Starts fetching block `index`; resolves when it is stored (or rejects). */
  request (index: number, signal: AbortSignal): Promise<void>
  /** Looks for a longer signed length; true if the core grew. */
  update (opts: { wait: boolean }): Promise<boolean>
  /** The last `findingPeers()` hook finished: pending updates may settle now. */
  onFindingPeersDone?: () => void
  /** The core's last session closed: leave every connection. */
  close?: () => void
  /** A session opened, closed or called `setActive`: whether the core is wanted may have changed. */
  updateActivity?: () => void
}

interface Waiter {
  index: number
  resolve: () => void
  reject: (err: Error) => void
  /** Asks the replicator for the block, once one exists (no-op after the first time). */
  startRequest: () => void
}

/** Gives the current replicator's fetch for a block, or null while the core replicates with no one. */
export type Requester = () => ((signal: AbortSignal) => Promise<void>) | null

/** The blocks one session is waiting for; woken by appends, rejected on close or timeout. */
export class BlockWaits {
  private readonly _waiters = new Set<Waiter>()
  /** Set by `abort`: the session is closing, and a wait that starts now fails at once. */
  private _aborted: Error | null = null

  get size (): number {
    return this._waiters.size
  }

  /**
   * Resolves once `has(index)` is true, checked now and after every wake-up; rejects with
   * REQUEST_TIMEOUT after `timeout` ms (0 = never) or with `abort()`'s error.
   */
  wait (index: number, has: (i: number) => Promise<boolean>, timeout: number, requester: Requester, signal?: AbortSignal | null): Promise<void> {
    if (this._aborted !== null) return Promise.reject(this._aborted)
    return new Promise<void>((resolve, reject) => {
      const controller = new AbortController()
      let timer: ReturnType<typeof setTimeout> | null = null
      const onabort = (): void => finish(HypercoreError.REQUEST_CANCELLED())
      const finish = (err: Error | null): void => {
        if (!this._waiters.delete(w)) return
        if (timer !== null) clearTimeout(timer)
        signal?.removeEventListener('abort', onabort)
        controller.abort()
        if (err === null) resolve()
        else reject(err)
      }
      let requested = false
      const w: Waiter = {
        index,
        resolve: () => { has(index).then(ok => { if (ok) finish(null) }, err => finish(err as Error)) },
        reject: (err) => finish(err),
        startRequest: () => {
          if (requested || controller.signal.aborted) return
          const request = requester()
          if (request === null) return
          requested = true
          request(controller.signal).then(() => w.resolve(), err => { if (!controller.signal.aborted) finish(err as Error) })
        }
      }
      this._waiters.add(w)
      if (signal != null) {
        if (signal.aborted) return finish(HypercoreError.REQUEST_CANCELLED())
        signal.addEventListener('abort', onabort, { once: true })
      }
      if (timeout > 0) timer = setTimeout(() => finish(HypercoreError.REQUEST_TIMEOUT()), timeout)
      w.startRequest()
      w.resolve() // it may have arrived between the caller's check and now
    })
  }

  /** Re-checks the waiters whose block may now be present. */
  wake (start: number, end: number): void {
    for (const w of [...this._waiters]) if (w.index >= start && w.index < end) w.resolve()
  }

  /** A replicator was attached: waiters that began with none ask it now. */
  replicatorAttached (): void {
    for (const w of [...this._waiters]) w.startRequest()
  }

  /** Rejects every waiter, and every wait started from now on (session closing: SESSION_CLOSED). */
  abort (err: Error): void {
    this._aborted = err
    for (const w of [...this._waiters]) w.reject(err)
  }
}
