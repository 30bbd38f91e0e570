/**
 * @module tree/nodes
 * Construction of Merkle tree nodes (§2.1): leaves from stored block bytes, parents from two
 * siblings, and the values derived from a list of full roots (tree hash, byte length).
 * Hashing itself lives in crypto/hash; this module only decides indexes, sizes and order.
 */
import { leafHash, parentHash, treeHash } from '../crypto/hash.js'
import { HypercoreError } from '../errors.js'
import * as flat from './flat.js'
import type { TreeNode } from './types.js'

/** Leaf node of block `blockIndex` over its *stored* bytes (with encryption padding, §2.1). */
export function leafNode (blockIndex: number, data: Uint8Array): TreeNode {
  return { index: flat.leafIndex(blockIndex), size: data.byteLength, hash: leafHash(data) }
}

/**
 * Parent of two sibling nodes, in either argument order: the hash always puts the node
 * with the smaller index on the left (§2.1).
 */
export function parentNode (a: TreeNode, b: TreeNode): TreeNode {
  if (flat.sibling(a.index) !== b.index) {
    throw HypercoreError.BAD_ARGUMENT(`nodes ${a.index} and ${b.index} are not siblings`)
  }
  const [left, right] = a.index < b.index ? [a, b] : [b, a]
  return { index: flat.parent(left.index), size: left.size + right.size, hash: parentHash(left, right) }
}

/** The tree hash ("root hash") over full roots, left to right (§2.1). */
export function rootsHash (roots: readonly TreeNode[]): Uint8Array {
  return treeHash(roots as TreeNode[])
}

/** Total stored byte length covered by the roots. */
export function rootsByteLength (roots: readonly TreeNode[]): number {
  let n = 0
  for (const r of roots) n += r.size
  return n
}

/** Number of blocks covered by the roots (they must be a tree's full roots). */
export function rootsLength (roots: readonly TreeNode[]): number {
  if (roots.length === 0) return 0
  return flat.rightSpan(roots[roots.length - 1].index) / 2 + 1
}

/** Same index, size and hash. */
export function nodeEquals (a: TreeNode, b: TreeNode): boolean {
  if (a.index !== b.index || a.size !== b.size || a.hash.byteLength !== b.hash.byteLength) return false
  for (let i = 0; i < a.hash.byteLength; i++) if (a.hash[i] !== b.hash[i]) return false
  return true
}

/** A defensive copy (nodes are shared between batches and caches; hashes must not alias wire buffers). */
export function copyNode (n: TreeNode): TreeNode {
  return { index: n.index, size: n.size, hash: n.hash.slice() }
}
