/**
 * @module tree/types
 * The small interfaces the Merkle tree layer is written against. The tree never touches
 * storage itself: it reads nodes through a `NodeReader` (the core backs it by the
 * 40-byte-per-node tree file of §6.2 plus an in-memory cache) and hands back the nodes a
 * batch created, for the caller to persist.
 */
import type { TreeNode } from '../crypto/hash.js'

export type { TreeNode }

/** Read access to stored tree nodes. `null` means "not stored" (never an error). */
export interface NodeReader {
  get (index: number): Promise<TreeNode | null>
  /**
   * Optional synchronous answer from memory: the node, `null` when it is known to be absent,
   * `undefined` when only `get` can tell (a cache miss). The hot paths of replication (proofs,
   * byte offsets, missingNodes) try this first: one block costs ~10 node reads, and a promise
   * plus a microtask per read was most of their cost (bench/replication.bench.ts).
   */
  getCached? (index: number): TreeNode | null | undefined
}

/**
 * Checks a signature over the signable of `(treeHash, length, fork)` (§2.2/§2.3). The
 * signable layout depends on the core's mode (compat, manifest v0/v1), so the tree layer
 * only calls back; the crypto `Verifier` supplies the implementation.
 */
export type VerifySignature = (treeHash: Uint8Array, length: number, fork: number, signature: Uint8Array) => boolean

/** The parts of a `request` message that ask for a proof (§3.1, §5.6). */
export interface ProofRequest {
  fork: number
  block?: { index: number, nodes: number } | null
  hash?: { index: number, nodes: number } | null
  seek?: { bytes: number, padding: number } | null
  upgrade?: { start: number, length: number } | null
}

/** The proof parts of a `data` message (§3.2). `block.value` is the stored block bytes. */
export interface Proof {
  fork: number
  block: { index: number, value: Uint8Array, nodes: TreeNode[] } | null
  hash: { index: number, nodes: TreeNode[] } | null
  seek: { bytes: number, nodes: TreeNode[] } | null
  upgrade: { start: number, length: number, nodes: TreeNode[], additionalNodes: TreeNode[], signature: Uint8Array } | null
}
