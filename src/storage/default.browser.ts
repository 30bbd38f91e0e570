/**
 * @module storage/default.browser
 * The browser's meaning of a storage path: an IndexedDB database of that name holding all the
 * files of the core (one transaction can then cover an append's data, tree and oplog writes).
 */
import { IdbStorage } from './indexeddb/database.js'
import type { StorageFactory } from './types.js'

export function defaultStorage (name: string): StorageFactory {
  return new IdbStorage(name).factory
}
