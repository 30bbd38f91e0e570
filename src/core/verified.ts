/**
 * @module core/verified
 * Storing what a peer proved (§3.3.5), for `Core.insertVerified`: the block bytes, the proof's
 * tree nodes, the bitfield bit and, for an upgrade, the new signed tree, in hypercore@10's
 * crash-safe order (data past the end first, then ONE oplog entry as the commit point, then
 * the in-memory files). A reorg (the proof is for a newer fork, §3.5) also drops everything
 * past the common prefix, like a local truncate.
 *
 * Prepared under the core's lock (Core.insertVerified), with the batch verified against the
 * tree as it is then: downloads queued before it do not change the tree, and an upgrade or
 * reorg is applied before anything else prepares.
 *
 * Downloaded blocks (proofs that do not upgrade the tree) that arrive while the lock is taken
 * are stored together (`prepareVerifiedBlocks`, Core.insertVerifiedBlock), as hypercore@10's
 * `_verifyShared` does: each is verified on its own, then their data writes go out and ONE
 * oplog write carries an entry per block (all frames but the last marked partial, so a torn
 * write drops the whole group on replay), and one apply makes them visible. Every block of
 * the group counts as stored only once that write is durable; a failed write fails them all.
 */
import { HypercoreError } from '../errors.js'
import { offsetPath, type MerkleTree, type TreeBatch } from '../tree/merkle-tree.js'
import type { TreeNode } from '../tree/types.js'
import type { OplogEntry } from './format/oplog-types.js'
import type { Core, CoreUpdate, Prepared } from './core.js'
import { addReorgHint, updateContig } from './replay.js'

/** The most bytes of downloaded blocks written as one data write (see prepareVerifiedBlocks). */
const COALESCE_BYTES = 16384

/** What a verified proof carries to store. */
export interface VerifiedProof {
  batch: TreeBatch
  /** The block the proof is about (its stored bytes), if any. */
  block: { index: number, value: Uint8Array } | null
}

/**
 * The prepare step of `Core.insertVerified` (core.ts): writes the proof (see the top of this
 * file) and returns the step that stores it in memory and announces it (append / truncate /
 * download updates) once durable. A plain block runs alongside other blocks (the tree does not
 * change); an upgrade or a reorg changes the tree, so it is applied before anything else
 * prepares (`inline`). Resolves false when the proof brought nothing new.
 */
export async function prepareVerified (core: Core, v: VerifiedProof): Promise<Prepared<boolean>> {
  const { batch, block } = v
  const tree = core.tree
  const reorg = batch.upgraded && batch.fork !== tree.fork
  // A same-fork upgrade that another peer's proof already overtook is only nodes now.
  if (batch.upgraded && !reorg && batch.length <= tree.length) batch.upgraded = false
  if (batch.upgraded && !reorg) batch.ancestors = tree.length
  const oldLength = tree.length
  const ancestors = reorg ? batch.ancestors : oldLength
  const haveBlock = block !== null && !reorg && block.index < tree.length && await core.bitfield.get(block.index)
  const storeBlock = block !== null && !haveBlock && (!reorg || block.index >= ancestors)
  // A hash or seek answer (a sparse reader's seek, §3.2) brings tree nodes only: hypercore@10
  // stores them in an oplog entry of their own, and so do we when one is new.
  const nodesOnly = block === null && !batch.upgraded && await hasNewNode(core, batch.nodes)
  if (!batch.upgraded && !storeBlock && !nodesOnly) return { value: false }

  // Every read happens before the commit point (as in mutations.ts).
  if (reorg && oldLength > ancestors) await core.bitfield.loadRange(ancestors, oldLength)
  // The offset comes from the tree as it will be (the block may lie in the upgraded part).
  // (the proof's own nodes are not in the tree file yet, and may be the ones needed).
  const offset = storeBlock ? await offsetAfter(core, batch, block.index) : 0
  if (storeBlock && !reorg) await core.bitfield.loadRange(block.index, block.index)
  const entry: OplogEntry = {
    userData: null,
    treeNodes: batch.nodes,
    treeUpgrade: batch.upgraded ? { fork: batch.fork, ancestors, length: batch.length, signature: batch.signature } : null,
    bitfield: reorg
      ? (oldLength > ancestors ? { drop: true, start: ancestors, length: oldLength - ancestors } : null)
      : storeBlock ? { drop: false, start: block.index, length: 1 } : null
  }
  const writes: Array<() => Promise<unknown>> = []
  if (storeBlock) writes.push(() => core.data.writeBlocks(offset, [block.value]))
  let oplogEnd: { byteLength: number, length: number } | null = null
  writes.push(() => {
    const written = core.oplog.stage([entry]) // the commit point
    oplogEnd = core.oplog.position
    return written
  })
  const durable = core._issue(writes)

  const apply = async (): Promise<boolean> => {
    core._oplogApplied(oplogEnd!)
    const updates: CoreUpdate[] = []
    if (reorg) {
      if (ancestors < oldLength) core.treeFile.truncate(ancestors)
      await core.bitfield.setRange(ancestors, oldLength - ancestors, false)
      updates.push({ type: 'truncate', ancestors, length: ancestors, fork: batch.fork, start: ancestors, end: oldLength })
    }
    core.treeFile.put(batch.nodes)
    if (storeBlock && !reorg) await core.bitfield.set(block.index, true)
    if (batch.upgraded && batch.length > ancestors) {
      updates.push({ type: 'append', ancestors, length: batch.length, fork: batch.fork, start: ancestors, end: batch.length })
    }
    if (storeBlock && !reorg) {
      updates.push({ type: 'download', ancestors: batch.upgraded ? ancestors : oldLength, length: batch.upgraded ? batch.length : oldLength, fork: batch.fork, start: block.index, end: block.index + 1 })
    }
    if (reorg) addReorgHint(core.header.hints.reorgs, oldLength, core.tree.fork, batch.fork, batch.ancestors)
    if (batch.upgraded) core._commit(batch, batch.hash())
    if (reorg) await core._updateContig(true, batch.ancestors, oldLength)
    for (const u of updates) if (u.type === 'download') await core._updateContig(false, u.start, u.end)
    for (const u of updates) core._emit(u)
    // A reorg flushes at once, as a local truncate does (the tree file is cut there).
    core._scheduleFlush(reorg)
    return true
  }
  return { step: { durable, apply }, inline: batch.upgraded }
}

/** A downloaded block waiting to be stored with the others of its group (Core.insertVerifiedBlock). */
export interface PendingBlock {
  /** Verifies the proof against the tree (under the lock); must not upgrade it. */
  verify: (tree: MerkleTree) => Promise<VerifiedProof>
  resolve: (stored: boolean) => void
  reject: (err: unknown) => void
}

/** A block of a group that is new, with where it goes. */
interface GroupBlock {
  /** Its place in the group. */
  at: number
  batch: TreeBatch
  index: number
  value: Uint8Array
  offset: number
}

/**
 * The prepare step of Core.insertVerifiedBlock for a whole group (see the top of this file).
 * A proof that fails rejects its own caller at once and the others go on; the result says,
 * per item, whether its block was new (false for one already stored, also by an earlier item
 * of the group, or a proof dropped as moot).
 */
export async function prepareVerifiedBlocks (core: Core, group: readonly PendingBlock[]): Promise<Prepared<boolean[]>> {
  const tree = core.tree
  const oldLength = tree.length
  const fork = tree.fork
  const stored = group.map(() => false)
  const blocks: GroupBlock[] = []
  const taken = new Set<number>()
  for (let at = 0; at < group.length; at++) {
    const item = group[at]!
    try {
      const { batch, block } = await item.verify(tree)
      if (batch.upgraded) throw HypercoreError.ASSERTION('a grouped proof must not upgrade the tree')
      if (block === null || taken.has(block.index)) continue
      if (block.index < tree.length && await core.bitfield.get(block.index)) continue
      // Every read happens before the commit point (as in mutations.ts). Blocks lie back to
      // back (§6.4): a block right after the previous one of the group (a download in order)
      // starts where that one ends, without a walk of the tree.
      const prev = blocks.length > 0 ? blocks[blocks.length - 1]! : null
      const offset = prev !== null && prev.index + 1 === block.index
        ? prev.offset + prev.value.byteLength
        : await offsetAfter(core, batch, block.index)
      await core.bitfield.loadRange(block.index, block.index)
      taken.add(block.index)
      blocks.push({ at, batch, index: block.index, value: block.value, offset })
    } catch (err) {
      item.reject(err)
    }
  }
  if (blocks.length === 0) return { value: stored }

  const entries: OplogEntry[] = blocks.map(b => ({
    userData: null,
    treeNodes: b.batch.nodes,
    treeUpgrade: null,
    bitfield: { drop: false, start: b.index, length: 1 }
  }))
  const writes: Array<() => Promise<unknown>> = []
  // Small blocks that follow each other in the data file (a download in order) go as one
  // write, up to COALESCE_BYTES: one storage operation for many, at the price of a copy that
  // costs more than the operation it saves once blocks are large.
  let k = 0
  while (k < blocks.length) {
    const first = blocks[k]!
    const run = [first.value]
    let end = first.offset + first.value.byteLength
    while (k + run.length < blocks.length && blocks[k + run.length]!.offset === end &&
      end - first.offset + blocks[k + run.length]!.value.byteLength <= COALESCE_BYTES) {
      const next = blocks[k + run.length]!
      run.push(next.value)
      end += next.value.byteLength
    }
    writes.push(() => core.data.writeBlocks(first.offset, run))
    k += run.length
  }
  let oplogEnd: { byteLength: number, length: number } | null = null
  writes.push(() => {
    const written = core.oplog.stage(entries) // the commit point of the whole group
    oplogEnd = core.oplog.position
    return written
  })
  const durable = core._issue(writes)

  const apply = async (): Promise<boolean[]> => {
    core._oplogApplied(oplogEnd!)
    for (const b of blocks) core.treeFile.put(b.batch.nodes)
    // Every bit first: the contiguous length then moves past the whole group in one scan.
    for (const b of blocks) await core.bitfield.set(b.index, true)
    for (const b of blocks) await updateContig(core.header, core.bitfield, false, b.index, b.index + 1)
    await core._refreshContiguousQuietly()
    for (const b of blocks) {
      stored[b.at] = true
      core._emit({ type: 'download', ancestors: oldLength, length: oldLength, fork, start: b.index, end: b.index + 1 })
    }
    core._scheduleFlush()
    return stored
  }
  return { step: { durable, apply } }
}

/** Whether some node of `nodes` is not stored yet. */
async function hasNewNode (core: Core, nodes: readonly TreeNode[]): Promise<boolean> {
  for (const n of nodes) if ((core.tree.getCached(n.index) ?? await core.tree.get(n.index)) === null) return true
  return false
}

/**
 * Byte offset of block `blockIndex` in the tree as it will be after `batch` (§6.4): the walk
 * of MerkleTree.byteOffset over the batch's roots, each left child taken from the batch's
 * nodes, else the stored tree (without building a tree over an overlay for every block).
 */
async function offsetAfter (core: Core, batch: TreeBatch, blockIndex: number): Promise<number> {
  const path = offsetPath(batch.roots, blockIndex)
  let offset = path.before
  for (const i of path.lefts) {
    const left = inBatch(batch.nodes, i) ?? core.tree.getCached(i) ?? await core.tree.get(i)
    if (left === null) throw HypercoreError.BLOCK_NOT_AVAILABLE(`tree node ${i} is not available`)
    offset += left.size
  }
  return offset
}

/**
 * Node `index` among a batch's nodes: a scan, not a Map, as a batch holds a few dozen nodes and
 * this runs for every stored block. From the end, so a later node of the same index wins.
 */
function inBatch (nodes: readonly TreeNode[], index: number): TreeNode | undefined {
  for (let k = nodes.length - 1; k >= 0; k--) if (nodes[k]!.index === index) return nodes[k]
  return undefined
}
