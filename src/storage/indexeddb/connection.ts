/**
 * @module storage/indexeddb/connection
 * One IndexedDB database opened through idb-keyval's `createStore`, plus what idb-keyval
 * leaves to us: waiting for a whole transaction with a precise error, reopening the store
 * ONCE after a lost connection (and retrying the transaction once), noticing another
 * connection's delete or upgrade (`versionchange`), and checking, inside every transaction,
 * that the database is still the one we loaded.
 *
 * That last check is what keeps a wiped database from being patched: when the user clears
 * site data (or the browser resets a broken store) under a live page, the next transaction
 * on a reopened store would run against a NEW, empty database; writing our cached pages
 * into it would leave a reload with neither the old core nor a clean new one. A database
 * cannot be deleted or replaced while a connection to it is open (a delete waits for every
 * connection to close; clearing site data force-closes them), so the check is needed once
 * per connection: its first transaction reads the database's meta record first and, if its
 * identity changed, aborts before any write applies (requests in one transaction run in
 * order) and fails with STORAGE_LOST, never retried.
 */
import { createStore, type UseStore } from 'idb-keyval'
import { HypercoreError } from '../../errors.js'
import { abortReason, isLostConnection, mapIdbError } from './errors.js'

export type TransactionHook = (tx: IDBTransaction, mode: IDBTransactionMode) => void

/** What a transaction expects to find in the meta record (undefined = no record). */
export type MetaGuard = (meta: unknown) => boolean

/** The cause of a STORAGE_LOST that means "this is not our database any more" (never retried). */
export const DATABASE_REPLACED = Object.freeze({ reason: 'the database was deleted, replaced or upgraded' })

export function isDatabaseReplaced (err: unknown): boolean {
  return HypercoreError.is(err, 'STORAGE_LOST') && err.cause === DATABASE_REPLACED
}

export function databaseReplaced (message: string): HypercoreError {
  return HypercoreError.STORAGE_LOST(message, DATABASE_REPLACED)
}

export class IdbConnection {
  readonly dbName: string
  readonly storeName: string
  /** How many times a store was created (1 + reopens): tests check the reopen-once rule. */
  opens = 0
  /** Test hook: sees every transaction before any request is made in it. */
  onTransaction: TransactionHook | null = null
  /**
   * Checked against the meta record (key `metaKey`) at the start of the first transaction of
   * each connection, when set. Setting it (the owner learned what its database is) counts as
   * that check for the connection that read it.
   */
  get guard (): MetaGuard | null { return this._guard }
  set guard (g: MetaGuard | null) {
    this._guard = g
    this._checkedDb = g !== null ? this._db : null
  }

  private _guard: MetaGuard | null = null
  /** Called once another connection asks to delete or upgrade the database (our connection is closed first). */
  onVersionChange: (() => void) | null = null
  private readonly _metaKey: IDBValidKey
  private _store: UseStore | null = null
  private _db: IDBDatabase | null = null
  /**
   * The connection that was checked against the guard (see the top of this file). Compared
   * with each transaction's own `db`: idb-keyval opens a new connection by itself after a
   * `close` event (the browser force-closed ours, as clearing site data does), and that one
   * must be checked before anything is written through it.
   */
  private _checkedDb: IDBDatabase | null = null

  constructor (dbName: string, storeName = 'pages', metaKey: IDBValidKey = 0) {
    this.dbName = dbName
    this.storeName = storeName
    this._metaKey = metaKey
  }

  /**
   * Runs `fn` in one transaction and resolves with its result once the transaction has
   * COMPLETED (so a write is durable when this resolves). A lost connection reopens the
   * store once and runs `fn` again in a fresh transaction (`fn` must be re-runnable); the
   * meta guard then tells a reopened old database from a new one.
   */
  run<T> (mode: IDBTransactionMode, fn: (store: IDBObjectStore) => T | Promise<T>): Promise<T> {
    return this._attempt(mode, fn).catch((err: unknown) => this._retry(mode, fn, err))
  }

  private async _retry<T> (mode: IDBTransactionMode, fn: (store: IDBObjectStore) => T | Promise<T>, err: unknown): Promise<T> {
    if (isDatabaseReplaced(err) || !isLostConnection(err)) throw mapIdbError(err)
    this._drop()
    try {
      return await this._attempt(mode, fn)
    } catch (err2) {
      if (isLostConnection(err2)) this._drop() // the next operation starts from a fresh store
      throw mapIdbError(err2)
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
    this._checkedDb = null
    if (db !== null) {
      try { db.close() } catch {}
    }
  }

  private _adopt (db: IDBDatabase): void {
    if (this._db === db) return
    this._db = db
    // Another tab deleting or upgrading the database waits (blocked) until every connection
    // closes: close ours at once, and tell the owner the database is going away.
    db.onversionchange = () => {
      if (this._db === db) this._drop()
      else try { db.close() } catch {}
      this.onVersionChange?.()
    }
  }

  private _attempt<T> (mode: IDBTransactionMode, fn: (store: IDBObjectStore) => T | Promise<T>): Promise<T> {
    // The connection we hold: the transaction is made now, not a promise hop later. One closed
    // under us throws here, and the store's own path below reopens it.
    const db = this._db
    if (db !== null && this._store !== null) {
      let store: IDBObjectStore | null = null
      try {
        store = db.transaction(this.storeName, mode).objectStore(this.storeName)
      } catch {}
      if (store !== null) {
        try {
          return this._inTransaction(mode, store, fn)
        } catch (err) {
          return Promise.reject(err)
        }
      }
    }
    if (this._store === null) {
      this._store = createStore(this.dbName, this.storeName)
      this.opens++
    }
    return this._store(mode, store => this._inTransaction(mode, store, fn))
  }

  private _inTransaction<T> (mode: IDBTransactionMode, store: IDBObjectStore, fn: (store: IDBObjectStore) => T | Promise<T>): Promise<T> {
    const tx = store.transaction
    this._adopt(tx.db)
    // The hook sees the transaction first, so its listeners run before ours resolve anything.
    if (this.onTransaction !== null) this.onTransaction(tx, mode)
    const done = transactionDone(tx)
    let checked: Promise<void> = Promise.resolve()
    let checking = false
    let result: T | Promise<T>
    try {
      if (this._guard !== null && tx.db !== this._checkedDb) {
        const db = tx.db
        checking = true
        checked = checkMeta(store, this._metaKey, this._guard).then(() => { this._checkedDb = db })
      }
      result = fn(store)
      // Every request of a synchronous `fn` is issued: commit now rather than when this task
      // ends (what runs after us in the task would delay the commit). Not while the guard's
      // read may still have to abort the transaction.
      if (mode === 'readwrite' && !checking && !(result instanceof Promise) && typeof tx.commit === 'function') {
        try { tx.commit() } catch {} // not active any more: its abort event reports why
      }
    } catch (err) {
      try { tx.abort() } catch {}
      // A request on an already-aborted transaction throws TransactionInactiveError; the
      // transaction's own abort reason (e.g. QuotaExceededError) is the real fault then.
      const name = (err as { name?: string } | null)?.name
      if (name === 'TransactionInactiveError') return checked.then(() => done).then(() => { throw err })
      done.catch(() => {})
      checked.catch(() => {})
      throw err
    }
    // Nothing to wait for but the transaction (the usual commit): its outcome is the result.
    if (!checking && !(result instanceof Promise)) return done.then(() => result as T)
    // The guard's verdict comes first: it aborts the transaction, whose abort event would
    // otherwise report a plain AbortError.
    return checked.then(() => Promise.all([result, done])).then(([r]) => r, (err: unknown) => {
      done.catch(() => {})
      return Promise.resolve(result).catch(() => {}).then(() => { throw err })
    })
  }
}



/** Reads the meta record first thing in the transaction; aborts it (nothing applies) if the guard refuses. */
function checkMeta (store: IDBObjectStore, key: IDBValidKey, guard: MetaGuard): Promise<void> {
  const req = store.get(key)
  return new Promise((resolve, reject) => {
    req.onsuccess = () => {
      if (guard(req.result)) return resolve()
      try { store.transaction.abort() } catch {}
      reject(databaseReplaced('IndexedDB: the database was deleted or replaced under this page (site data cleared?); nothing more is written to it'))
    }
    // A failing read means the transaction is aborting for a reason of its own (quota, an
    // explicit abort): its abort event reports that, not this request's AbortError.
    req.onerror = (e) => { e.preventDefault(); resolve() }
  })
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
    req.onblocked = () => {} // resolves once the other connections close (ours close on versionchange)
  })
}

export function assertIndexedDB (): void {
  if (typeof indexedDB === 'undefined') throw HypercoreError.STORAGE_NOT_SUPPORTED('IndexedDB is not available here')
}
