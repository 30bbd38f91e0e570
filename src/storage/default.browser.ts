/**
 * @module storage/default.browser
 * The browser's meaning of a storage path: an IndexedDB database of that name holding all the
 * files of the core (one transaction can then cover an append's data, tree and oplog writes).
 */
import { IdbStorage, idbStorageId } from './indexeddb/database.js'
import type { StorageFactory } from './types.js'

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
