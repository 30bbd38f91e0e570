/**
 * @module storage/default.node
 * Node's meaning of a storage path: a directory holding one random-access file per core file
 * (spec §6: oplog, tree, bitfield, data, header), as hypercore@10 does with random-access-file,
 * including its lock on `oplog` (options as `fileStorage`: `lock`, `unlocked`, `readOnly`).
 */
import { fileStorage, fileStorageId, type FileDirectoryOptions } from './file.node.js'
import type { StorageFactory } from './types.js'

export function defaultStorage (name: string, opts?: FileDirectoryOptions): StorageFactory {
  return fileStorage(name, opts)
}

/** The identity of the place `defaultStorage(name)` opens (storage/types.ts `IdentifiedStorage`). */
export function defaultStorageId (name: string): string {
  return fileStorageId(name)
}
