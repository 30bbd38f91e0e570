/**
 * @module tree/merkle-tree
 * The Merkle tree state of one core (§1.3, §2.1): fork, length, byte length, full roots and
 * the newest signature, over an abstract async node store. Changes go through a
 * `TreeBatch` (append, truncate, or a verified proof) that lists the nodes to persist; the
 * caller writes them to its store, then `commit`s the batch.
 *
 * Rule (§1.3): a node is written once its subtree is complete, so for a given fork a
 * stored node never changes. That is what lets any earlier length's roots (checkouts,
 * `treeHash(length)`) be read back from the store.
 */
import { HypercoreError } from '../errors.js'
import * as flat from './flat.js'
import { leafNode, parentNode, rootsByteLength, rootsHash } from './nodes.js'
import type { NodeReader, TreeNode } from './types.js'

export interface TreeState {
  fork: number
  length: number
  byteLength: number
  roots: TreeNode[]
  signature: Uint8Array | null
}

/** What a truncation removes from the store (§3.5, §6.2). */
export interface TreeTruncation {
  /** Every node with flat index ≥ this is dropped (the tree file is cut at `40 · dropFrom`). */
  dropFrom: number
  /** Surviving nodes (index < dropFrom) whose span crosses the new end: blank them. */
  blank: number[]
}

/**
 * A pending change to a tree. `nodes` are the nodes to persist; when `upgraded` is set, the
 * roots/length/byteLength/fork/signature replace the tree's on commit.
 */
export class TreeBatch implements TreeState {
  readonly tree: MerkleTree
  /** The tree's length and fork when the batch was made: a batch only commits onto that state. */
  readonly treeLength: number
  readonly treeFork: number
  fork: number
  length: number
  byteLength: number
  roots: TreeNode[]
  signature: Uint8Array | null
  /** Length of the prefix this batch shares with the tree (tree.length for appends). */
  ancestors: number
  upgraded = false
  nodes: TreeNode[] = []
  truncation: TreeTruncation | null = null

  /**
   * A batch on top of `base`: the tree itself, or an earlier batch not committed yet (a chain
   * of appends prepared while the first commits, core/commit-queue.ts). Such a batch commits
   * once the batches before it have.
   */
  constructor (tree: MerkleTree, base: TreeState = tree) {
    this.tree = tree
    this.treeLength = base.length
    this.treeFork = base.fork
    this.fork = base.fork
    this.length = base.length
    this.byteLength = base.byteLength
    this.roots = base.roots.slice()
    this.signature = base.signature
    this.ancestors = base.length
  }

  /** Appends one block by its stored bytes: adds the leaf and every parent it completes. */
  append (stored: Uint8Array): this {
    if (this.truncation !== null) throw HypercoreError.INVALID_OPERATION('cannot append to a truncation batch')
    const leaf = leafNode(this.length, stored)
    this.nodes.push(leaf)
    let top = leaf
    // Merge while the new top is the right sibling of the previous root (§1.3).
    while (this.roots.length > 0 && flat.sibling(top.index) === this.roots[this.roots.length - 1].index) {
      top = parentNode(this.roots.pop()!, top)
      this.nodes.push(top)
    }
    this.roots.push(top)
    this.length++
    this.byteLength += stored.byteLength
    this.upgraded = true
    return this
  }

  /** The tree hash of the batch's roots. */
  hash (): Uint8Array {
    return rootsHash(this.roots)
  }

  commit (): void {
    this.tree.commit(this)
  }
}

export class MerkleTree implements TreeState {
  readonly nodes: NodeReader
  fork: number
  length: number
  byteLength: number
  roots: TreeNode[]
  signature: Uint8Array | null
  /**
   * The last block range computed, for the roots it was computed under: blocks lie back to
   * back (§6.4), so the next block starts where it ends, without a walk from the roots (a
   * peer downloading in order asks for every block in turn). Any change of the tree replaces
   * `roots` (commit), which retires it.
   */
  private _lastRange: { roots: TreeNode[], index: number, offset: number, size: number } | null = null

  /** A tree from known state. `roots` must be the full roots of `length`. */
  constructor (nodes: NodeReader, state: Partial<TreeState> = {}) {
    this.nodes = nodes
    this.fork = state.fork ?? 0
    this.roots = (state.roots ?? []).slice()
    const expected = flat.fullRoots(state.length ?? 0)
    if (expected.length !== this.roots.length || expected.some((r, i) => this.roots[i].index !== r)) {
      throw HypercoreError.BAD_ARGUMENT('roots do not match the length')
    }
    this.length = state.length ?? 0
    this.byteLength = rootsByteLength(this.roots)
    if (state.byteLength !== undefined && state.byteLength !== this.byteLength) {
      throw HypercoreError.BAD_ARGUMENT('byteLength does not match the roots')
    }
    this.signature = state.signature ?? null
  }

  /** Restores a tree of `length` blocks from stored nodes (the oplog header gives length, fork, signature). */
  static async open (nodes: NodeReader, state: { length: number, fork?: number, signature?: Uint8Array | null }): Promise<MerkleTree> {
    const roots = await readRoots(nodes, state.length)
    return new MerkleTree(nodes, { length: state.length, fork: state.fork ?? 0, signature: state.signature ?? null, roots })
  }

  /** The tree hash of the current roots (§2.1). */
  hash (): Uint8Array {
    return rootsHash(this.roots)
  }

  /** A batch on the current state, or on `after` (an earlier batch of this tree not committed yet). */
  batch (after?: TreeBatch): TreeBatch {
    if (after !== undefined && after.tree !== this) throw HypercoreError.INVALID_OPERATION('the base batch belongs to another tree')
    return new TreeBatch(this, after ?? this)
  }

  /**
   * Applies a batch made from this tree's current state. The caller must already have made
   * `batch.nodes` readable through the node reader (and applied `batch.truncation`).
   */
  commit (batch: TreeBatch): void {
    if (batch.tree !== this || batch.treeLength !== this.length || batch.treeFork !== this.fork) {
      throw HypercoreError.INVALID_OPERATION('tree batch is stale: the tree changed since it was made')
    }
    if (!batch.upgraded) return
    this.fork = batch.fork
    this.length = batch.length
    this.byteLength = batch.byteLength
    this.roots = batch.roots.slice()
    this.signature = batch.signature
  }

  /** A stored node, or null. */
  async get (index: number): Promise<TreeNode | null> {
    return this.nodes.get(index)
  }

  /** A node from memory: null when known absent, undefined when only `get` can tell (`NodeReader.getCached`). */
  getCached (index: number): TreeNode | null | undefined {
    return this.nodes.getCached === undefined ? undefined : this.nodes.getCached(index)
  }

  /** A stored node; BLOCK_NOT_AVAILABLE when the store lacks it. */
  async getNode (index: number): Promise<TreeNode> {
    return getNode(this.nodes, index)
  }

  /** Full roots of an earlier (or the current) length, read from stored nodes. */
  async getRoots (length: number): Promise<TreeNode[]> {
    checkLength(length, this.length)
    if (length === this.length) return this.roots.slice()
    return readRoots(this.nodes, length)
  }

  /** Tree hash at any length ≤ the current one (backs checkouts and conflict checks). */
  async treeHash (length = this.length): Promise<Uint8Array> {
    return rootsHash(await this.getRoots(length))
  }

  /**
   * §3.1 `missingNodes(flatIndex)`: how many nodes from `flatIndex` up towards its root this
   * tree lacks, to fill a request's `nodes` field.
   */
  async missingNodes (flatIndex: number): Promise<number> {
    const known = this.missingNodesCached(flatIndex)
    if (known !== undefined) return known
    // One walk, awaiting only the nodes memory cannot answer (a requester asks this for every
    // block; each await is a storage read plus promise turns, so nodes in memory skip them).
    const getCached = this.nodes.getCached?.bind(this.nodes)
    return flat.missingNodes(flatIndex, this.length, (i) => {
      const n = getCached === undefined ? undefined : getCached(i)
      return n !== undefined ? n !== null : this.nodes.get(i).then((m) => m !== null)
    })
  }

  /** `missingNodes` from nodes in memory only; undefined when one on the way is not (then use the async one). */
  missingNodesCached (flatIndex: number): number | undefined {
    if (this.nodes.getCached === undefined) return undefined
    const root = flat.rootOf(flatIndex, this.length)
    if (root === -1) return 0
    let count = 0
    for (let i = flatIndex; i !== root; i = flat.parent(i)) {
      const n = this.nodes.getCached(i)
      if (n === undefined) return undefined
      if (n !== null) return count
      count++
    }
    return count
  }

  /**
   * Byte offset of block `blockIndex` in the data file (§6.4): the stored sizes of all blocks
   * before it, from the roots left of it plus the left children on the way down.
   */
  async byteOffset (blockIndex: number): Promise<number> {
    const cached = this.byteOffsetCached(blockIndex)
    if (cached !== undefined) return cached
    const path = offsetPath(this.roots, blockIndex)
    let offset = path.before
    for (const left of path.lefts) offset += (await getNode(this.nodes, left)).size
    return offset
  }

  /** `byteOffset` from nodes in memory only (undefined when one on the way is not). */
  byteOffsetCached (blockIndex: number): number | undefined {
    checkBlock(blockIndex, this.length, true)
    if (blockIndex === this.length) return this.byteLength
    const getCached = this.nodes.getCached
    if (getCached === undefined) return undefined
    const path = offsetPath(this.roots, blockIndex)
    let offset = path.before
    for (const i of path.lefts) {
      const left = getCached.call(this.nodes, i)
      if (left === undefined) return undefined
      if (left === null) throw HypercoreError.BLOCK_NOT_AVAILABLE(`tree node ${i} is not available`)
      offset += left.size
    }
    return offset
  }

  /** `byteRange` from nodes in memory only (undefined when one is not). */
  byteRangeCached (blockIndex: number): [number, number] | undefined {
    checkBlock(blockIndex, this.length, false)
    const leaf = this.getCached(2 * blockIndex)
    if (leaf === undefined || leaf === null) return undefined
    const last = this._lastRange
    const offset = last !== null && last.roots === this.roots && last.index + 1 === blockIndex
      ? last.offset + last.size
      : this.byteOffsetCached(blockIndex)
    if (offset === undefined) return undefined
    this._lastRange = { roots: this.roots, index: blockIndex, offset, size: leaf.size }
    return [offset, leaf.size]
  }

  /** `[offset, size]` of block `blockIndex` in the data file. */
  async byteRange (blockIndex: number): Promise<[number, number]> {
    const cached = this.byteRangeCached(blockIndex)
    if (cached !== undefined) return cached
    const [offset, leaf] = await Promise.all([this.byteOffset(blockIndex), getNode(this.nodes, flat.leafIndex(blockIndex))])
    return [offset, leaf.size]
  }

  /**
   * §3.1 seek: the block holding user byte `bytes`, and the offset inside it. User bytes
   * exclude `padding` bytes per block (block encryption, §4). `bytes === user byte length`
   * gives `[length, 0]`.
   * Zero-size blocks follow hypercore 10 (checked against it in test/tree/hypercore-diff):
   * the walk goes down the tree and, once no bytes are left, returns the left-most block of
   * the subtree it is in, so an empty block can be the answer when it starts a subtree.
   */
  async seek (bytes: number, padding = 0): Promise<[number, number]> {
    const r = await this.seekStored(bytes, padding)
    if (typeof r === 'number') throw HypercoreError.BLOCK_NOT_AVAILABLE(`the tree nodes under node ${r} are not available`)
    return r
  }

  /**
   * `seek` over the nodes stored here (a sparse core lacks some): the answer, or the index of
   * the lowest stored node holding the byte whose children are not stored (a peer can prove
   * them, then the walk goes on).
   */
  async seekStored (bytes: number, padding = 0): Promise<[number, number] | number> {
    if (!Number.isSafeInteger(bytes) || bytes < 0) throw HypercoreError.BAD_ARGUMENT('seek bytes must be a non-negative integer')
    if (!Number.isSafeInteger(padding) || padding < 0) throw HypercoreError.BAD_ARGUMENT('padding must be a non-negative integer')
    for (const root of this.roots) {
      if (bytes === 0) return [flat.leftSpan(root.index) / 2, 0]
      const size = userSize(root, padding)
      if (bytes >= size) {
        bytes -= size
        continue
      }
      let i = root.index
      // The lowest node of the walk known to be stored (a right child is not read on the way).
      let stored = i
      while (!flat.isLeaf(i)) {
        if (bytes === 0) return [flat.leftSpan(i) / 2, 0]
        const [left, right] = flat.children(i)!
        const leftNode = await this.nodes.get(left)
        if (leftNode === null) return stored
        const leftSize = userSize(leftNode, padding)
        if (bytes < leftSize) {
          i = left
          stored = left
        } else {
          bytes -= leftSize
          i = right
        }
      }
      return [i / 2, bytes]
    }
    if (bytes === 0) return [this.length, 0]
    throw HypercoreError.BAD_ARGUMENT('seek is out of bounds')
  }

  /**
   * A batch that truncates to `newLength` with a new fork (by default fork + 1, §3.5): the
   * roots of the shorter tree, plus which stored nodes must go (`batch.truncation`).
   */
  async truncate (newLength: number, fork = this.fork + 1): Promise<TreeBatch> {
    checkLength(newLength, this.length)
    if (!Number.isSafeInteger(fork) || fork < 0) throw HypercoreError.BAD_ARGUMENT('fork must be a non-negative integer')
    const batch = this.batch()
    batch.roots = await this.getRoots(newLength)
    batch.length = newLength
    batch.byteLength = rootsByteLength(batch.roots)
    batch.fork = fork
    batch.ancestors = newLength
    batch.upgraded = true
    batch.truncation = truncation(newLength, this.length)
    return batch
  }
}

/** Which nodes a truncation from `oldLength` to `newLength` removes (§6.2). */
export function truncation (newLength: number, oldLength: number): TreeTruncation {
  const dropFrom = newLength === 0 ? 0 : 2 * newLength - 1
  const end = 2 * newLength
  const oldHead = 2 * oldLength
  const blank: number[] = []
  if (newLength < oldLength) {
    // Stored nodes crossing the new end are ancestors of the first cut leaf that were complete
    // in the old tree (rightSpan < oldHead) and start before the end.
    for (let i = flat.parent(end); flat.rightSpan(i) < oldHead; i = flat.parent(i)) {
      if (flat.leftSpan(i) < end && i < dropFrom) blank.push(i)
    }
  }
  return { dropFrom, blank }
}

function userSize (node: TreeNode, padding: number): number {
  return node.size - padding * flat.leafCount(node.index)
}

async function getNode (nodes: NodeReader, index: number): Promise<TreeNode> {
  const node = await nodes.get(index)
  if (node === null) throw HypercoreError.BLOCK_NOT_AVAILABLE(`tree node ${index} is not available`)
  return node
}

async function readRoots (nodes: NodeReader, length: number): Promise<TreeNode[]> {
  return Promise.all(flat.fullRoots(length).map((i) => getNode(nodes, i)))
}

function checkLength (length: number, max: number): void {
  if (!Number.isSafeInteger(length) || length < 0 || length > max) {
    throw HypercoreError.BAD_ARGUMENT(`length ${length} is out of range (0..${max})`)
  }
}

function checkBlock (blockIndex: number, length: number, allowEnd: boolean): void {
  if (!Number.isSafeInteger(blockIndex) || blockIndex < 0 || blockIndex > length || (!allowEnd && blockIndex === length)) {
    throw HypercoreError.BAD_ARGUMENT(`block ${blockIndex} is out of range (length ${length})`)
  }
}

/**
 * The walk to block `blockIndex`'s byte offset (§6.4): the bytes of the full roots left of it
 * (`before`), and the flat indexes of the left children passed on the way down from the root
 * that covers it (`lefts`), whose sizes make up the rest. Steps down by the subtree
 * half-width, so it needs no node reads itself; callers read `lefts` as they can.
 */
export function offsetPath (roots: readonly TreeNode[], blockIndex: number): { before: number, lefts: number[] } {
  const target = 2 * blockIndex
  let before = 0
  for (const root of roots) {
    if (flat.rightSpan(root.index) < target) {
      before += root.size
      continue
    }
    const lefts: number[] = []
    let i = root.index
    let half = 2 ** flat.depth(i) / 2 // the children of i are i ± half
    while (i !== target) {
      if (target < i) {
        i -= half
      } else {
        lefts.push(i - half)
        i += half
      }
      half /= 2
    }
    return { before, lefts }
  }
  throw HypercoreError.ASSERTION(`block ${blockIndex} is not under any root`)
}
