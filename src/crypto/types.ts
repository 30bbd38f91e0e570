/**
 * @module crypto/types
 * Plain data shapes shared by the crypto layer and the Merkle tree (spec §2.1).
 */

/** A Merkle tree node: flat index (§1.3), byte size of the leaves under it, and its 32-byte hash. */
export interface TreeNode {
  index: number
  size: number
  hash: Uint8Array
}

/** An Ed25519 key pair in libsodium's layout: secretKey (64) = seed (32) ‖ publicKey (32). */
export interface KeyPair {
  publicKey: Uint8Array
  secretKey: Uint8Array
}
