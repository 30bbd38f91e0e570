/**
 * @module hypercore-web
 * Public entry point: `Hypercore` (default and named export) and the layers under it
 * (errors, crypto, Merkle tree, storage, the core's on-disk format).
 */
import { Hypercore } from './core/hypercore.js'

export default Hypercore
export { Hypercore }
// `require('hypercore-web')` from CommonJS gives the class itself, as `require('hypercore')`
// does (Node ≥ 20.19 returns this export for require() of an ES module); ESM imports are unchanged.
export { Hypercore as 'module.exports' }
export type { HypercoreOptions, GetOptions } from './core/hypercore.js'
export type { Info, StorageInfo, ReplicatorHook, ValueEncoding, DownloadRange, ReadStreamOptions, CoreUpdate } from './core/index.js'
export { Core, ReadStream, Download, SnapshotView } from './core/index.js'
export { HypercoreError, ERROR_CODES } from './errors.js'
export type { ErrorCode } from './errors.js'

export * as crypto from './crypto/index.js'
export { cryptoReady } from './crypto/index.js'

export { MerkleTree, TreeBatch } from './tree/merkle-tree.js'
export { generateProof } from './tree/proof-generate.js'
export { verifyProof } from './tree/proof-verify.js'
export type { NodeReader, ProofRequest, TreeNode } from './tree/types.js'

export * from './storage/index.js'
export { Corestore, type CorestoreOptions, type CorestoreGetOptions, type StoreStorageInput } from './store/index.js'
export { defaultStorage } from '#platform/storage'

export * from './transport/index.js'
export * from './signaling/index.js'
export * from './swarm/index.js'
