/**
 * @module tree/flat
 * Flat-tree index math (§1.3) for the Merkle tree: the `flat-tree` package plus the few
 * helpers the tree and proof code need on top of it (roots of a length, the path from a
 * node to its root, the requester's `missingNodes` walk of §3.1).
 *
 * Every index here is a "flat index": block i is 2i, parents are odd.
 */
import * as flat from 'flat-tree'

export const { parent, sibling, leftSpan, rightSpan, depth, countLeaves, children, spans, index } = flat

/** Flat index of block `blockIndex` (§1.3). */
export function leafIndex (blockIndex: number): number {
  return 2 * blockIndex
}

/** True for an even (leaf) flat index. */
export function isLeaf (flatIndex: number): boolean {
  return (flatIndex & 1) === 0
}

/**
 * Flat indexes of the full roots of a tree of `length` blocks, left to right (§1.3).
 * `fullRoots(3)` → [1, 4]; `fullRoots(0)` → [].
 */
export function fullRoots (length: number): number[] {
  if (length === 0) return []
  return flat.fullRoots(2 * length)
}

/** True when node `flatIndex` covers flat index `x` (leftSpan ≤ x ≤ rightSpan). */
export function contains (flatIndex: number, x: number): boolean {
  return flat.leftSpan(flatIndex) <= x && x <= flat.rightSpan(flatIndex)
}

/** True when `left` is a left child (its sibling has the larger index). */
export function isLeftChild (flatIndex: number): boolean {
  return flat.sibling(flatIndex) > flatIndex
}

/**
 * The root of a tree of `length` blocks that covers `flatIndex`, or -1 when the node is
 * not inside the tree (its span reaches past the last block).
 */
export function rootOf (flatIndex: number, length: number): number {
  if (flat.rightSpan(flatIndex) >= 2 * length) return -1
  // The full roots split [0, length) into runs of blocks, one per power of two in `length`,
  // largest first; the node lies inside the run of its first block. (A walk up through
  // flat-tree's `parent` costs a depth loop per level: this runs for every block a reader
  // requests, §3.1.) Plain arithmetic, not bit operations: lengths may pass 2^32.
  const block = flat.leftSpan(flatIndex) / 2
  let size = 1
  while (size * 2 <= length) size *= 2
  let start = 0
  for (; size >= 1; size /= 2) {
    if (start + size > length) continue
    if (block < start + size) return 2 * start + size - 1
    start += size
  }
  return -1 // not reached: the node lies inside the tree
}

/**
 * Flat indexes from `flatIndex` up to and including its root in a tree of `length`
 * blocks. Empty when the node lies outside the tree.
 */
export function pathToRoot (flatIndex: number, length: number): number[] {
  const root = rootOf(flatIndex, length)
  if (root === -1) return []
  const path = [flatIndex]
  let i = flatIndex
  while (i !== root) {
    i = flat.parent(i)
    path.push(i)
  }
  return path
}

/**
 * §3.1 `missingNodes`: how many consecutive nodes on the path from `flatIndex` to its root
 * the requester lacks, counting from the node itself and stopping below the first one it
 * has, or at the root (roots are always held, so reaching it gives the root's depth minus
 * the node's depth). 0 when the node itself is known or is a root.
 * Returns 0 for a node outside the tree (there is nothing to ask for).
 */
export async function missingNodes (flatIndex: number, length: number, has: (flatIndex: number) => boolean | Promise<boolean>): Promise<number> {
  const path = pathToRoot(flatIndex, length)
  let count = 0
  for (let i = 0; i < path.length - 1; i++) {
    const h = has(path[i])
    if (typeof h === 'boolean' ? h : await h) return count // no promise turn for a sync answer
    count++
  }
  return count
}

/** Number of blocks under node `flatIndex` (a perfect subtree). */
export function leafCount (flatIndex: number): number {
  return flat.countLeaves(flatIndex)
}
