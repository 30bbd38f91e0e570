/**
 * @module storage/indexeddb/connection
 * One IndexedDB database opened through idb-keyval's `createStore`, plus what idb-keyval
 * leaves to us: waiting for a whole transaction with a precise error, reopening the store
 * ONCE after a lost connection (and retrying the transaction once), and closing it.
 */
import { createStore, type UseStore } from 'idb-keyval'
import { HypercoreError } from '../../errors.js'
import { abortReason, isLostConnection, mapIdbError } from './errors.js'

export type TransactionHook = (tx: IDBTransaction, mode: IDBTransactionMode) => void

export class IdbConnection {
  readonly dbName: string
  readonly storeName: string
  /** How many times a store was created (1 + reopens): tests check the reopen-once rule. */
  opens = 0
  /** Test hook: sees every transaction before any request is made in it. */
  onTransaction: TransactionHook | null = null
  private _store: UseStore | null = null
  private _db: IDBDatabase | null = null

  constructor (dbName: string, storeName = 'pages') {
    this.dbName = dbName
    this.storeName = storeName
  }

  /**
   * Runs `fn` in one transaction and resolves with its result once the transaction has
   * COMPLETED (so a write is durable when this resolves). A lost connection reopens the
   * store once and runs `fn` again in a fresh transaction (`fn` must be re-runnable).
   */
  async run<T> (mode: IDBTransactionMode, fn: (store: IDBObjectStore) => T | Promise<T>): Promise<T> {
    try {
      return await this._attempt(mode, fn)
    } catch (err) {
      if (!isLostConnection(err)) throw mapIdbError(err)
      this._drop()
      try {
        return await this._attempt(mode, fn)
      } catch (err2) {
        if (isLostConnection(err2)) this._drop() // the next operation starts from a fresh store
        throw mapIdbError(err2)
      }
    }
  }

  /** The underlying IDBDatabase, once a transaction has been made (tests use it to simulate faults). */
  get db (): IDBDatabase | null {
    return this._db
  }

  async close (): Promise<void> {
    const store = this._store
    if (store !== null && this._db === null) {
      await store('readonly', s => { this._db = s.transaction.db }).catch(() => {})
    }
    this._drop()
  }

  private _drop (): void {
    const db = this._db
    this._db = null
    this._store = null
    if (db !== null) {
      try { db.close() } catch {}
    }
  }

  private _attempt<T> (mode: IDBTransactionMode, fn: (store: IDBObjectStore) => T | Promise<T>): Promise<T> {
    if (this._store === null) {
      this._store = createStore(this.dbName, this.storeName)
      this.opens++
    }
    return this._store(mode, (store) => {
      const tx = store.transaction
      this._db = tx.db
      // The hook sees the transaction first, so its listeners run before ours resolve anything.
      if (this.onTransaction !== null) this.onTransaction(tx, mode)
      const done = transactionDone(tx)
      let result: T | Promise<T>
      try {
        result = fn(store)
      } catch (err) {
        try { tx.abort() } catch {}
        // A request on an already-aborted transaction throws TransactionInactiveError; the
        // transaction's own abort reason (e.g. QuotaExceededError) is the real fault then.
        const name = (err as { name?: string } | null)?.name
        if (name === 'TransactionInactiveError') return done.then(() => { throw err })
        done.catch(() => {})
        throw err
      }
      return Promise.all([result, done]).then(([r]) => r)
    })
  }
}

/** Resolves on `complete`; rejects with the transaction's error (or an AbortError) on `abort`. */
export function transactionDone (tx: IDBTransaction): Promise<void> {
  return new Promise((resolve, reject) => {
    tx.addEventListener('complete', () => resolve())
    tx.addEventListener('abort', () => reject(abortReason(tx)))
  })
}

/** Deletes a whole database (tests, `IdbStorage.destroy()`). */
export function deleteDatabase (dbName: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = indexedDB.deleteDatabase(dbName)
    req.onsuccess = () => resolve()
    req.onerror = () => reject(mapIdbError(req.error))
    req.onblocked = () => {} // resolves once the other connections close
  })
}

export function assertIndexedDB (): void {
  if (typeof indexedDB === 'undefined') throw HypercoreError.STORAGE_NOT_SUPPORTED('IndexedDB is not available here')
}
