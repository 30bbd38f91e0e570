/**
 * @module storage/indexeddb/read-queue
 * Page reads of one database, gathered into as few read-only transactions as possible: at
 * most one is in flight, and every read asked for meanwhile goes into the next one (one
 * getAll per file range).
 *
 * Why: a read-write transaction waits for every read-only transaction created before it on
 * the same store. Readers that each make their own transactions (a writer serving two peers,
 * two read streams) keep a queue of them ahead of every commit; gathered, a commit waits for
 * at most one, and the readers' transactions are fewer and fuller.
 *
 * Writes go first. Transactions on one store run in the order they were created, so with
 * readers and a writer both busy they would alternate and every commit would wait for a read.
 * Instead a read transaction is not started while a commit is pending or in flight, unless
 * the waiting reads have waited READ_MAX_WAIT_MS: readers still get a turn that often (their
 * transaction takes every read asked for meanwhile), and a busy writer loses at most about
 * one read transaction's time in that many milliseconds, however short its commits are (a
 * count of commits would let readers take a third of the time of a writer committing single
 * appends). A read starts at the next task, not the next microtask, so a writer
 * reacting to its last commit (an `await append()` loop) issues its next write first.
 */
import type { PageRecord } from './batch.js'
import { nextMacrotask } from './tick.js'

/** How long waiting reads let a busy writer go first (see the top of this file). */
const READ_MAX_WAIT_MS = 4

/** Runs `fn` in one read-only transaction (the connection's `run`). */
export type ReadOnlyRunner = <T>(fn: (store: IDBObjectStore) => Promise<T>) => Promise<T>

interface Wanted {
  /** A read a write waits for (a mutation building on a stored page): never held back. */
  urgent: boolean
  name: string
  lo: number
  hi: number
  resolve: (records: PageRecord[]) => void
  reject: (err: unknown) => void
}

/** What the queue needs to know of the database's writes. */
export interface WriteState {
  /** A commit is pending or in flight. */
  busy (): boolean
}

export class ReadQueue {
  private readonly _run: ReadOnlyRunner
  private readonly _writes: WriteState
  private _queued: Wanted[] = []
  private _inflight = false
  private _scheduled = false
  /** When the reads waiting now started to wait for a busy writer (null: none waits). */
  private _waitingSince: number | null = null

  constructor (run: ReadOnlyRunner, writes: WriteState = { busy: () => false }) {
    this._run = run
    this._writes = writes
  }

  /** A commit completed: waiting reads may go now (or after waiting longer, see the top). */
  committed (): void {
    if (this._queued.length === 0 || this._inflight) return
    this._schedule()
  }

  /** The stored records of pages `[lo, hi]` of file `name` (`urgent`: a write waits for it). */
  get (name: string, lo: number, hi: number, urgent = false): Promise<PageRecord[]> {
    return new Promise((resolve, reject) => {
      this._queued.push({ urgent, name, lo, hi, resolve, reject })
      if (!this._inflight) this._schedule()
    })
  }

  /** Reads asked for in the same tick share the transaction: it starts at the next task. */
  private _schedule (): void {
    if (this._scheduled) return
    this._scheduled = true
    nextMacrotask(() => { this._scheduled = false; this._next() })
  }

  private _next (): void {
    if (this._inflight || this._queued.length === 0) return
    const urgent = this._queued.some(w => w.urgent)
    if (!urgent && this._writes.busy()) {
      const now = performance.now()
      if (this._waitingSince === null) this._waitingSince = now
      if (now - this._waitingSince < READ_MAX_WAIT_MS) return // `committed` calls again
    }
    this._waitingSince = null
    const batch = this._queued
    this._queued = []
    this._inflight = true
    this._run(store => Promise.all(batch.map(w => request(store.getAll(IDBKeyRange.bound([w.name, w.lo], [w.name, w.hi]))))))
      .then(results => {
        for (let i = 0; i < batch.length; i++) batch[i]!.resolve(results[i]!)
      }, (err: unknown) => {
        for (const w of batch) w.reject(err)
      })
      .finally(() => {
        this._inflight = false
        if (this._queued.length > 0) this._schedule()
      })
  }
}

function request (req: IDBRequest): Promise<PageRecord[]> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result as PageRecord[])
    req.onerror = () => reject(req.error)
  })
}
