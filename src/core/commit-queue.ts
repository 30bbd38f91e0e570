/**
 * @module core/commit-queue
 * Mutations whose writes were issued but may not be durable yet, made visible in order.
 *
 * A mutation is split in two (mutations.ts, verified.ts): a *prepare* step, under the core's
 * lock, that computes the change and issues its writes, and an *apply* step that changes the
 * in-memory state and tells the sessions, run only once every write of the mutation is
 * durable. On storage whose files form a durability group (storage/types.ts: writes become
 * durable in the order issued, and fail after an earlier failure), the lock is released as
 * soon as a mutation's writes are issued: the next one prepares while the first commits, and
 * the storage groups them into one transaction. Nothing is visible before it is durable, so
 * a peer is never shown a length or a block that a failed commit then takes back (a writer
 * that signed a length and lost it would fork its own core).
 *
 * A failure fails the mutation whose write failed and every mutation queued after it (each
 * was prepared on top of it), even one whose own writes later succeeded; `failed` stays set
 * until the core has put its write cursors back (Core.recover), before anything new prepares.
 */
import { HypercoreError } from '../errors.js'

/** One prepared mutation (see the top of this file). */
export interface Step<T> {
  /** Settles when every write the mutation issued is durable (or one failed). */
  durable: Promise<unknown>
  /** The visible change, run in queue order once durable; its result is the caller's. */
  apply: () => Promise<T>
}

interface Entry {
  step: Step<unknown>
  locked: boolean
  resolve: (value: unknown) => void
  reject: (err: unknown) => void
}

export class CommitQueue {
  /** The error of a failed mutation, until recovery (see the top of this file). */
  failed: HypercoreError | null = null
  /** Called with each failure (a lost database closes the core). */
  onFailure: ((err: HypercoreError) => void) | null = null
  /**
   * Called after each apply, before the mutation resolves, with the number of mutations still
   * queued and whether the mutation's caller holds the core's lock while it waits (the flush
   * schedule, core.ts).
   */
  afterApply: ((remaining: number, locked: boolean) => Promise<void>) | null = null

  private readonly _entries: Entry[] = []
  private _running = false
  private _idle: Array<() => void> = []

  /** Mutations queued and not yet applied (or failed). */
  get size (): number {
    return this._entries.length
  }

  /**
   * Queues a prepared mutation; resolves with its apply's result once visible. `locked`: the
   * caller holds the core's lock until this settles.
   */
  push<T> (step: Step<T>, locked: boolean): Promise<T> {
    step.durable.catch(() => {}) // awaited in order below; until then it must not count as unhandled
    return new Promise<T>((resolve, reject) => {
      this._entries.push({ step, locked, resolve: resolve as (v: unknown) => void, reject })
      if (!this._running) void this._run()
    })
  }

  /** Resolves once every queued mutation was applied or failed. */
  drain (): Promise<void> {
    if (this._entries.length === 0 && !this._running) return Promise.resolve()
    return new Promise(resolve => this._idle.push(resolve))
  }

  private async _run (): Promise<void> {
    this._running = true
    while (this._entries.length > 0) {
      const e = this._entries[0]!
      try {
        await e.step.durable
        if (this.failed !== null) throw this.failed
        const value = await e.step.apply()
        this._entries.shift()
        if (this.afterApply !== null) await this.afterApply(this._entries.length, e.locked).catch(() => {})
        e.resolve(value)
      } catch (err) {
        this._entries.shift()
        const typed = toTyped(err)
        if (this.failed === null) {
          this.failed = typed
          this.onFailure?.(typed)
        }
        e.reject(typed)
      }
    }
    this._running = false
    const idle = this._idle
    this._idle = []
    for (const fn of idle) fn()
  }
}

function toTyped (err: unknown): HypercoreError {
  return err instanceof HypercoreError ? err : HypercoreError.STORAGE_IO(err instanceof Error ? err.message : String(err), err)
}
