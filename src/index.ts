/**
 * @module hypercore-web
 * Public entry point: the layers that exist so far (errors, crypto, Merkle tree, storage).
 */
export { HypercoreError, ERROR_CODES } from './errors.js'
export type { ErrorCode } from './errors.js'

export * as crypto from './crypto/index.js'
export { cryptoReady } from './crypto/index.js'

export { MerkleTree, TreeBatch } from './tree/merkle-tree.js'
export { generateProof } from './tree/proof-generate.js'
export { verifyProof } from './tree/proof-verify.js'
export type { NodeReader, ProofRequest, TreeNode } from './tree/types.js'

export * from './storage/index.js'
export { defaultStorage } from '#platform/storage'
