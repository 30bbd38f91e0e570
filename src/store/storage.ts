/**
 * @module store/storage
 * What a store is given as its storage, made into one `MultiCoreStorage` (storage/types.ts):
 * - a path: the platform's store storage (`#platform/storage`): a directory in Node (with
 *   corestore@6's layout, lock file and descriptor pool), one IndexedDB database in a browser;
 * - a `name => storage` function or a random-access class (npm's `RAM`): called with every
 *   full file name (`primary-key`, `cores/ab/cd/<hex>/oplog`), as corestore@6 calls it;
 * - a multi-file storage (`MemoryDirectory`, `IdbStorage`): its `file(name)`.
 * Each core then sees its own folder as a `name => storage` function (`coreStorage`).
 */
import { defaultStoreStorage } from '#platform/storage'
import { HypercoreError } from '../errors.js'
import { toStorageFactory, isRandomAccessClass, isRandomAccessStorage } from '../storage/factory.js'
import { promisify } from '../storage/promises.js'
import type { FileProvider, MultiCoreStorage, RandomAccessClass, StorageFactory } from '../storage/types.js'
import { PRIMARY_KEY_FILE } from './layout.js'

/** Everything `new Corestore(storage)` accepts. */
export type StoreStorageInput = string | StorageFactory | RandomAccessClass | FileProvider | MultiCoreStorage

export interface StoreStorageOptions {
  /** Node: how many file handles the store keeps open at most (default 512). */
  poolSize?: number
}

/** Ids for storages that do not name their place: two stores on one object share cores. */
const ids = new WeakMap<object, string>()
let nextId = 0

function idOfObject (x: object): string {
  let id = ids.get(x)
  if (id === undefined) ids.set(x, id = 'store:' + String(++nextId))
  return id
}

function isMultiCore (x: unknown): x is MultiCoreStorage {
  const s = x as Partial<MultiCoreStorage> | null
  return typeof x === 'object' && x !== null && typeof s!.file === 'function' && typeof s!.idOf === 'function' && typeof s!.close === 'function'
}

export function toStoreStorage (input: StoreStorageInput, opts: StoreStorageOptions = {}): MultiCoreStorage {
  if (typeof input === 'string') {
    if (input === '') throw HypercoreError.BAD_ARGUMENT('a store path must be a non-empty string')
    return defaultStoreStorage(input, { lock: PRIMARY_KEY_FILE, poolSize: opts.poolSize })
  }
  if (isMultiCore(input)) return input
  if (input == null || isRandomAccessStorage(input) || (typeof input !== 'function' && typeof input !== 'object')) {
    throw HypercoreError.BAD_ARGUMENT('a store needs a path, a function from file name to storage, a random-access class or a multi-file storage')
  }
  const factory = toStorageFactory(input)
  // A class makes a new, separate file each time: nothing to share between stores.
  const own = (input as { storageId?: unknown }).storageId
  const base = isRandomAccessClass(input) ? null : typeof own === 'string' ? own : idOfObject(input)
  // A multi-file storage that can look for a file without creating it (`IdbStorage.exists`).
  const exists = (input as { exists?: unknown }).exists
  return {
    file: name => factory(name),
    idOf: prefix => base === null ? null : base + '\u0000' + prefix,
    // The caller's storage: the caller closes it (its files close with the store's cores).
    close: async () => {},
    ...(typeof exists === 'function' && typeof input === 'object' ? { exists: (name: string) => (exists as (n: string) => Promise<boolean>).call(input, name) } : {})
  }
}

/** The files of the core stored under `prefix`, as the storage a `Hypercore` takes. */
export function coreStorage (storage: MultiCoreStorage, prefix: string): StorageFactory {
  const factory: StorageFactory = name => storage.file(prefix + '/' + name)
  const id = storage.idOf(prefix)
  return id === null ? factory : Object.assign(factory, { storageId: id })
}

/**
 * True when a core is stored under `prefix` (a non-empty oplog). Looked at through a handle
 * that is closed again at once; the Node directory's `exists` creates nothing, so a peer
 * asking for keys we do not have cannot fill the directory with empty folders.
 */
export async function coreExists (storage: MultiCoreStorage, prefix: string): Promise<boolean> {
  const name = prefix + '/oplog'
  if (storage.exists !== undefined) return storage.exists(name)
  const file = storage.file(name)
  const io = promisify(file)
  try {
    if (!file.statable) return true // cannot tell: let the open decide
    return (await io.stat()).size > 0
  } catch {
    return false
  } finally {
    await io.close().catch(() => {})
  }
}
