/**
 * @module storage/default.node
 * Node's meaning of a storage path: a directory holding one random-access file per core file
 * (spec §6: oplog, tree, bitfield, data, header), as hypercore@10 does with random-access-file.
 */
import { fileStorage } from './file.node.js'
import type { StorageFactory } from './types.js'

export function defaultStorage (name: string): StorageFactory {
  return fileStorage(name)
}
