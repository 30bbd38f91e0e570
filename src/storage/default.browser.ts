/**
 * @module storage/default.browser
 * The browser's meaning of a storage path: an IndexedDB database of that name holding all the
 * files of the core (one transaction can then cover an append's data, tree and oplog writes).
 * For a store of many cores (`defaultStoreStorage`), ONE database holding every core's files
 * under its prefix: one connection and one writer lock per store however many cores are open,
 * and the writes of all its cores share transactions.
 */
import { IdbStorage, idbStorageId } from './indexeddb/database.js'
import type { MultiCoreStorage, StorageFactory } from './types.js'

export interface DefaultStorageOptions {
  /** Open without the writer lock, read-only (hypercore@10's `unlocked`). */
  unlocked?: boolean
}

export function defaultStorage (name: string, opts: DefaultStorageOptions = {}): StorageFactory {
  const db = new IdbStorage(name, { readOnly: opts.unlocked === true })
  return Object.assign(db.factory, { storageId: db.storageId })
}

/** The identity of the place `defaultStorage(name)` opens (storage/types.ts `IdentifiedStorage`). */
export function defaultStorageId (name: string): string {
  return idbStorageId(name)
}

export interface StoreStorageOptions {
  /** Node's lock file; here the database's own writer lock (taken by its first open file) plays that part. */
  lock?: string | null
  /** Node's descriptor pool; one database needs none. */
  poolSize?: number
}

/**
 * A database of many cores: file `cores/ab/cd/<hex>/oplog` is a file of that name in the one
 * database (the page sizes follow the last path segment). The database's Web Lock excludes
 * another tab opening the same store, as corestore@6's `primary-key` lock does between
 * processes.
 */
export function defaultStoreStorage (name: string, _opts: StoreStorageOptions = {}): MultiCoreStorage {
  const db = new IdbStorage(name)
  return {
    file: n => db.file(n),
    // '\u0000' cannot start a file name the store makes, so no core's id is another database's.
    idOf: prefix => idbStorageId(name) + '\u0000' + prefix,
    close: () => db.close(),
    exists: name => db.exists(name)
  }
}
