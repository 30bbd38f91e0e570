/**
 * @module tree/proof-generate
 * The responder side of §3.2: build the proof part of a `data` message for a request, from
 * the local tree. Node order is part of the wire format (the requester pops nodes from a
 * strict queue, §3.3), so every list here is built in exactly the order the spec gives.
 *
 * Errors: INVALID_OPERATION when the request does not fit our tree (wrong fork, bad upgrade
 * range), BAD_ARGUMENT for a malformed request, BLOCK_NOT_AVAILABLE when a node or the block
 * value is not stored locally. The replicator answers `noData` for all of them.
 */
import { HypercoreError } from '../errors.js'
import * as flat from './flat.js'
import type { MerkleTree } from './merkle-tree.js'
import type { Proof, ProofRequest, TreeNode } from './types.js'

/** Reads a stored block value (the data store is not the tree's business). */
export type ReadBlock = (index: number) => Promise<Uint8Array | null>

/** A node now when it is in memory, else a promise of it (BLOCK_NOT_AVAILABLE when not stored). */
type NodeGetter = (i: number) => TreeNode | Promise<TreeNode>

/** The node a block/hash/seek sub-proof is about. */
interface Target {
  index: number
  /** Send the target node itself first (hash and seek proofs; a block's leaf is computed from its value). */
  includeSelf: boolean
}

export async function generateProof (tree: MerkleTree, req: ProofRequest, readBlock?: ReadBlock): Promise<Proof> {
  if (req.fork !== tree.fork) throw HypercoreError.INVALID_OPERATION(`request is for fork ${req.fork}, ours is ${tree.fork}`)
  if (req.block && req.hash) throw HypercoreError.BAD_ARGUMENT('a request asks for a block or a hash, not both')

  const head = 2 * tree.length
  const up = req.upgrade ?? null
  const from = up ? 2 * up.start : 0
  const to = up ? from + 2 * up.length : head
  if (up && (!isUint(up.start) || !isUint(up.length) || from >= to || to > head)) {
    throw HypercoreError.INVALID_OPERATION(`cannot upgrade from ${up.start} by ${up.length} (length ${tree.length})`)
  }
  if (up && (tree.signature === null || tree.signature.byteLength === 0)) throw HypercoreError.INVALID_OPERATION('tree is not signed')

  const proof: Proof = { fork: tree.fork, block: null, hash: null, seek: null, upgrade: null }
  // Memory first: a block proof is a handful of nodes the cache nearly always has. (Bound,
  // not a closure literal: this runs for every block served.)
  const get: NodeGetter = _nodeOf.bind(null, tree)

  let target: Target | null = null
  let nodes = 0
  if (req.block) {
    if (!isUint(req.block.index) || !isUint(req.block.nodes)) throw HypercoreError.BAD_ARGUMENT('bad block request')
    target = { index: flat.leafIndex(req.block.index), includeSelf: false }
    nodes = req.block.nodes
  } else if (req.hash) {
    if (!isUint(req.hash.index) || !isUint(req.hash.nodes)) throw HypercoreError.BAD_ARGUMENT('bad hash request')
    target = { index: req.hash.index, includeSelf: true }
    nodes = req.hash.nodes
  }
  if (target && flat.rightSpan(target.index) >= to) throw HypercoreError.BAD_ARGUMENT(`node ${target.index} is outside the proven tree`)
  // The node holding the seeked byte (§3.2 "Seek proofs"); proven like a hash target.
  // Like hypercore 10, the seek walks the whole local tree; a node past `to` gets no proof.
  let seekTarget: Target | null = null
  if (req.seek && up && !req.block && !req.hash) {
    // A seek beside an upgrade alone is answered in the upgraded tree (hypercore 10's choice,
    // checked in test/tree/hypercore-diff): a byte past it gets no proof, the byte just past
    // its end is proven by its last root, and byte 0 by its first.
    const index = await seekNode(tree, to, req.seek.bytes, req.seek.padding, true)
    if (index !== null) seekTarget = { index, includeSelf: true }
  } else if (req.seek) {
    seekTarget = { index: (await seekNode(tree, head, req.seek.bytes, req.seek.padding, false))!, includeSelf: true }
  }
  if (seekTarget && flat.rightSpan(seekTarget.index) >= to) seekTarget = null

  let targetNodes: TreeNode[] | null = null
  let seekNodes: TreeNode[] | null = null
  if (target && (!up || flat.rightSpan(target.index) < from)) {
    // §3.2 A: below the requester's verified length. Climb `nodes` levels, to a node it has.
    let top = target.index
    for (let k = 0; k < nodes; k++) {
      top = flat.parent(top)
      if (flat.rightSpan(top) >= to) throw HypercoreError.BAD_ARGUMENT('nodes is out of bounds')
    }
    // A seek that lands under one of the siblings on the way up is proven up to that
    // sibling, which it then replaces in the block/hash list (what hypercore 10 does).
    let replaced = -1
    // With an upgrade, hypercore 10 proves a seek only in the upgraded range (below).
    const seekHere = up ? null : seekTarget
    if (seekHere && !flat.contains(top, seekHere.index)) {
      // hypercore 10 refuses a seek outside the block's proven subtree ("Invalid seek").
      throw HypercoreError.INVALID_OPERATION('seek lands outside the block proof')
    }
    if (seekHere) {
      for (let i = target.index; i !== top; i = flat.parent(i)) {
        const s = flat.sibling(i)
        if (flat.contains(s, seekHere.index)) {
          seekNodes = await climb(get, seekHere, s)
          replaced = s
          break
        }
      }
    }
    targetNodes = await climb(get, target, top, replaced)
  } else if (target && seekTarget) {
    // §3.2 C: hypercore 10 refuses a seek next to an upgrade-region block.
    throw HypercoreError.INVALID_OPERATION('cannot combine a seek with a block/hash in the upgraded range')
  }

  if (up) {
    // Case C target: a block/hash at or after the upgrade start, or (alone) a seek that lands
    // there. A seek below the start gets no proof: the requester can seek in its own tree.
    let pending: Target | null = null
    if (target && targetNodes === null) pending = target
    else if (!target && seekTarget && flat.leftSpan(seekTarget.index) >= from) pending = seekTarget
    const main = await upgradeNodes(get, from, to, pending)
    if (pending && main.targetNodes === null) throw HypercoreError.INVALID_OPERATION(`node ${pending.index} straddles the requester's length`)
    if (pending === target && target) targetNodes = main.targetNodes
    else if (pending) seekNodes = main.targetNodes
    const additional = head > to ? (await upgradeNodes(get, to, head, null)).nodes : []
    proof.upgrade = { start: up.start, length: up.length, nodes: main.nodes, additionalNodes: additional, signature: tree.signature! }
  }

  if (req.block) {
    const value = readBlock ? await readBlock(req.block.index) : null
    if (value === null) throw HypercoreError.BLOCK_NOT_AVAILABLE()
    proof.block = { index: req.block.index, value, nodes: targetNodes! }
  } else if (req.hash) {
    proof.hash = { index: req.hash.index, nodes: targetNodes! }
  }
  if (req.seek && seekNodes !== null) proof.seek = { bytes: req.seek.bytes, nodes: seekNodes }
  return proof
}

function _nodeOf (tree: MerkleTree, i: number): TreeNode | Promise<TreeNode> {
  return tree.getCached(i) ?? tree.getNode(i)
}

/** The target itself (for hash/seek), then its sibling at each level below `top`, bottom-up. */
async function climb (get: NodeGetter, target: Target, top: number, skip = -1): Promise<TreeNode[]> {
  const out: TreeNode[] = []
  if (target.includeSelf) out.push(await get(target.index))
  for (let i = target.index; i !== top; i = flat.parent(i)) {
    const s = flat.sibling(i)
    if (s === skip) continue
    const n = get(s)
    out.push(n instanceof Promise ? await n : n) // no microtask for a node in memory
  }
  return out
}

/**
 * §3.2 B: the nodes that take a requester from the roots of `from/2` to those of `to/2`.
 * A target at or after `from` (case C) is proven up to the connecting sibling or new root
 * that contains it, and that node is then left out.
 */
async function upgradeNodes (get: NodeGetter, from: number, to: number, target: Target | null): Promise<{ nodes: TreeNode[], targetNodes: TreeNode[] | null }> {
  const nodes: TreeNode[] = []
  let targetNodes: TreeNode[] | null = null
  const takeOrProve = async (i: number): Promise<void> => {
    if (target && flat.contains(i, target.index)) targetNodes = await climb(get, target, i)
    else nodes.push(await get(i))
  }
  for (const root of flat.fullRoots(to / 2)) {
    if (flat.rightSpan(root) < from) continue // one of the requester's roots already
    if (from > 0 && flat.leftSpan(root) <= from - 2) {
      // The connecting root: siblings right of the requester's last leaf, bottom-up.
      for (let i = from - 2; i !== root; i = flat.parent(i)) {
        const s = flat.sibling(i)
        if (s > i) await takeOrProve(s)
      }
      continue
    }
    await takeOrProve(root)
  }
  return { nodes, targetNodes }
}

/**
 * The node a seek proof is about, in the tree of `to/2` blocks: the lowest stored node that
 * holds user byte `bytes`. Two rules, each hypercore 10's (checked against it in
 * test/tree/hypercore-diff and test/tree/seek-proof-diff):
 * - beside a block or hash, a byte at a boundary belongs to the node after it;
 * - beside an upgrade alone (`upgraded`), a node whose size equals the bytes left is itself
 *   the answer (the byte is the first one after it), byte 0 is answered by the first root,
 *   and a byte past the tree gets no node (null) rather than an error.
 * Either differs from `MerkleTree.seek`, which answers with the block the byte is in.
 */
async function seekNode (tree: MerkleTree, to: number, bytes: number, padding: number, upgraded: boolean): Promise<number | null> {
  if (!isUint(bytes) || !isUint(padding)) throw HypercoreError.BAD_ARGUMENT('bad seek request')
  for (const rootIndex of flat.fullRoots(to / 2)) {
    if (upgraded && bytes === 0) return rootIndex
    const root = await tree.getNode(rootIndex)
    const size = root.size - padding * flat.leafCount(rootIndex)
    if (upgraded && bytes === size) return rootIndex
    if (bytes >= size) {
      bytes -= size
      continue
    }
    let i = rootIndex
    while (!flat.isLeaf(i)) {
      const [left, right] = flat.children(i)!
      const l = await tree.get(left)
      if (l === null) return i
      const leftSize = l.size - padding * flat.leafCount(left)
      if (upgraded && bytes === leftSize) return left
      if (bytes < leftSize) {
        i = left
      } else {
        if ((await tree.get(right)) === null) return i
        bytes -= leftSize
        i = right
      }
    }
    return i
  }
  if (upgraded) return null
  throw HypercoreError.BAD_ARGUMENT('seek is out of bounds')
}

function isUint (n: unknown): n is number {
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0
}
