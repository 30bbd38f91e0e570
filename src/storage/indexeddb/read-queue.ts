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
 */
import type { PageRecord } from './batch.js'

/** Runs `fn` in one read-only transaction (the connection's `run`). */
export type ReadOnlyRunner = <T>(fn: (store: IDBObjectStore) => Promise<T>) => Promise<T>

interface Wanted {
  name: string
  lo: number
  hi: number
  resolve: (records: PageRecord[]) => void
  reject: (err: unknown) => void
}

export class ReadQueue {
  private readonly _run: ReadOnlyRunner
  private _queued: Wanted[] = []
  private _inflight = false
  private _scheduled = false

  constructor (run: ReadOnlyRunner) {
    this._run = run
  }

  /** The stored records of pages `[lo, hi]` of file `name`. */
  get (name: string, lo: number, hi: number): Promise<PageRecord[]> {
    return new Promise((resolve, reject) => {
      this._queued.push({ name, lo, hi, resolve, reject })
      // Reads asked for in the same tick share the transaction: start it after this one.
      if (!this._inflight && !this._scheduled) {
        this._scheduled = true
        queueMicrotask(() => { this._scheduled = false; this._next() })
      }
    })
  }

  private _next (): void {
    if (this._inflight || this._queued.length === 0) return
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
        this._next()
      })
  }
}

function request (req: IDBRequest): Promise<PageRecord[]> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result as PageRecord[])
    req.onerror = () => reject(req.error)
  })
}
