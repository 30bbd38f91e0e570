/**
 * @module storage/default.node
 * Node's meaning of a storage path: a directory holding one random-access file per core file
 * (spec §6: oplog, tree, bitfield, data, header), as hypercore@10 does with random-access-file,
 * including its lock on `oplog` (options as `fileStorage`: `lock`, `unlocked`, `readOnly`).
 * For a store of many cores (`defaultStoreStorage`), a directory whose files share a bounded
 * pool of handles, as corestore@6's directory does.
 */
import path from 'node:path'
import { FileStorage, fileStorage, fileStorageId, type FileDirectoryOptions } from './file.node.js'
import { FilePool } from './pool.js'
import { promisify } from './promises.js'
import type { MultiCoreStorage, RandomAccessStorage, StorageFactory } from './types.js'

export function defaultStorage (name: string, opts?: FileDirectoryOptions): StorageFactory {
  return fileStorage(name, opts)
}

/** The identity of the place `defaultStorage(name)` opens (storage/types.ts `IdentifiedStorage`). */
export function defaultStorageId (name: string): string {
  return fileStorageId(name)
}

export interface StoreStorageOptions {
  /** The file that carries the store's lock (held while it is open); no other file is locked. */
  lock?: string | null
  /** At most this many pooled file handles open at once (default 512, as corestore@6). */
  poolSize?: number
}

/**
 * A directory of many cores. Every file but the lock file goes through one `FilePool`: its
 * handle may be closed when idle and reopened on use, so thousands of cores stay within the
 * process's descriptors. The cores' own `oplog` files are not locked (corestore@6 locks only
 * its `primary-key`), since a lock would pin its handle outside the pool.
 */
export function defaultStoreStorage (directory: string, opts: StoreStorageOptions = {}): MultiCoreStorage {
  const pool = new FilePool(opts.poolSize)
  const lock = opts.lock ?? null
  return {
    file (name: string): RandomAccessStorage {
      if (name === lock) return new FileStorage(name, { directory, lock: true })
      return pool.file(() => new FileStorage(name, { directory }))
    },
    idOf: prefix => fileStorageId(path.join(directory, prefix)),
    close: async () => {},
    exists: async (name) => {
      // Read-only: a missing file is neither created nor are its folders.
      const probe = new FileStorage(name, { directory, readOnly: true })
      const io = promisify(probe)
      try {
        return (await io.stat()).size > 0
      } finally {
        await io.close().catch(() => {})
      }
    }
  }
}
