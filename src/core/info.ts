/**
 * @module core/info
 * `core.info({ storage })`: the numbers describing a core, and with `storage: true`
 * the size of each of its files (apparent size, from `stat`).
 */
import { promisify } from '../storage/promises.js'
import type { RandomAccessStorage } from '../storage/types.js'

export interface StorageInfo {
  oplog: number
  tree: number
  blocks: number
  bitfield: number
}

export interface Info {
  key: Uint8Array
  discoveryKey: Uint8Array
  length: number
  contiguousLength: number
  byteLength: number
  fork: number
  padding: number
  storage: StorageInfo | null
}

async function size (s: RandomAccessStorage): Promise<number> {
  if (!s.statable) return 0
  return (await promisify(s).stat()).size
}

export async function storageInfo (files: { oplog: RandomAccessStorage, tree: RandomAccessStorage, data: RandomAccessStorage, bitfield: RandomAccessStorage }): Promise<StorageInfo> {
  const [oplog, tree, blocks, bitfield] = await Promise.all([size(files.oplog), size(files.tree), size(files.data), size(files.bitfield)])
  return { oplog, tree, blocks, bitfield }
}
