/**
 * @module tree/proof-verify
 * The requester side of §3.3: check the proof part of a `data` message against the local
 * tree and turn it into a `TreeBatch` (nodes to add, plus new roots/length/fork/signature
 * when the proof carries an upgrade).
 *
 * Every way a proof can be wrong ends in INVALID_PROOF, except a signature that does not
 * check out, which is INVALID_SIGNATURE. Nodes are consumed from strict queues: an
 * unexpected index anywhere is a bad proof (the JS verifier does the same, §2.6.4).
 */
import { HypercoreError } from '../errors.js'
import * as flat from './flat.js'
import type { MerkleTree, TreeBatch } from './merkle-tree.js'
import { leafNode, nodeEquals, parentNode, rootsByteLength, rootsHash } from './nodes.js'
import type { Proof, TreeNode, VerifySignature } from './types.js'

const bad = (msg: string): HypercoreError => HypercoreError.INVALID_PROOF(msg)

export interface VerifyOptions {
  /**
   * The upgrade rebuilds a whole tree from length 0, from the proof's nodes alone (a reorg to
   * a newer fork, or a conflict check, §3.5): its `start` must be 0. Otherwise an upgrade
   * must extend our tree: start at our length, merging our roots.
   */
  fromScratch?: boolean
}

/**
 * Verifies `proof` against `tree`. Without an upgrade the proven node must equal one we
 * store (that is where non-upgrade proofs get their trust, §3.3.5); with one, the signature
 * is checked through `verifySignature` over the rebuilt roots of the responder's length.
 */
export async function verifyProof (tree: MerkleTree, proof: Proof, verifySignature?: VerifySignature, opts: VerifyOptions = {}): Promise<TreeBatch> {
  if (!isUint(proof.fork)) throw bad('bad fork')
  if (proof.block && proof.hash) throw bad('proof has both a block and a hash')
  if (!proof.upgrade && proof.fork !== tree.fork) throw bad(`proof without upgrade for fork ${proof.fork}, ours is ${tree.fork}`)
  const batch = tree.batch()

  // 1. verifyTree: the seek root, then the block/hash root.
  let seekRoot: TreeNode | null = null
  // A seek on its own must prove something; next to a block it may be empty (the block
  // proof then covers the seek, §3.2).
  if (proof.seek && proof.seek.nodes.length === 0 && !proof.block && !proof.hash) throw bad('seek proof has no nodes')
  if (proof.seek && proof.seek.nodes.length > 0) {
    const [first, ...rest] = proof.seek.nodes
    batch.nodes.push(checkNode(first))
    seekRoot = climbQueue(first, rest, null, batch).root
  }

  let proven: TreeNode | null = null
  if (proof.block || proof.hash) {
    let start: TreeNode
    let queue: TreeNode[]
    if (proof.block) {
      if (!isUint(proof.block.index)) throw bad('bad block index')
      start = leafNode(proof.block.index, proof.block.value)
      queue = proof.block.nodes
    } else {
      const h = proof.hash!
      if (h.nodes.length === 0 || h.nodes[0].index !== h.index) throw bad('hash proof must start with the requested node')
      start = checkNode(h.nodes[0])
      queue = h.nodes.slice(1)
    }
    batch.nodes.push(start)
    const res = climbQueue(start, queue, seekRoot, batch)
    proven = res.root
    if (res.usedSeekRoot) seekRoot = null
  } else {
    proven = seekRoot
    seekRoot = null
  }
  const unverified = [proven, seekRoot].filter((n): n is TreeNode => n !== null)

  // 2. verifyUpgrade.
  if (proof.upgrade) {
    const up = proof.upgrade
    if (!verifySignature) throw HypercoreError.BAD_ARGUMENT('an upgrade proof needs a signature verifier')
    if (!isUint(up.start) || !isUint(up.length) || up.length === 0) throw bad('bad upgrade range')
    // An upgrade from inside our tree would be checked against our roots at its start only,
    // and adopting it would keep the blocks we hold past that start under a tree that never
    // proved them (§3.5: a second writer's tree that shares our prefix is a conflict, not an
    // upgrade). So it must start exactly at our length, or from scratch when asked for.
    if (opts.fromScratch === true ? up.start !== 0 : up.start !== tree.length) {
      throw bad(`upgrade starts at ${up.start}, not at ${opts.fromScratch === true ? 0 : `our length ${tree.length}`}`)
    }
    const oldRoots = opts.fromScratch === true ? [] : tree.roots.slice()
    const used = new Set<TreeNode>()
    let roots = extendRoots(oldRoots, up.start + up.length, up.nodes.slice(), unverified, used, batch)
    let length = up.start + up.length
    if (up.additionalNodes.length > 0) {
      const last = checkNode(up.additionalNodes[up.additionalNodes.length - 1])
      // The last additional node always ends at the responder's last leaf (§3.2 B.4).
      const full = flat.rightSpan(last.index) / 2 + 1
      if (!Number.isSafeInteger(full) || full <= length) throw bad('additional nodes do not extend the tree')
      roots = extendRoots(roots, full, up.additionalNodes.slice(), [], used, batch)
      length = full
    }
    const byteLength = rootsByteLength(roots)
    if (!Number.isSafeInteger(byteLength)) throw bad('byte length overflow')
    const treeHash = rootsHash(roots)
    let ok = false
    try {
      ok = up.signature.byteLength > 0 && verifySignature(treeHash, length, proof.fork, up.signature)
    } catch (err) {
      throw new HypercoreError('INVALID_SIGNATURE', 'signature check failed', { cause: err })
    }
    if (!ok) throw HypercoreError.INVALID_SIGNATURE('proof signature does not match the rebuilt tree')
    batch.roots = roots
    batch.length = length
    batch.byteLength = byteLength
    batch.fork = proof.fork
    batch.signature = up.signature
    batch.ancestors = up.start
    batch.upgraded = true
    for (const n of used) unverified.splice(unverified.indexOf(n), 1)
  }

  // 3. Whatever was not used to build signed roots must match a node we already trust.
  for (const n of unverified) {
    const stored = tree.getCached(n.index) ?? await tree.get(n.index)
    if (stored === null) throw bad(`proof ends at node ${n.index}, which we do not have`)
    if (!nodeEquals(stored, n)) throw bad(`node ${n.index} does not match the stored node`)
  }
  return batch
}

/**
 * Climbs from `start`, taking each queued node as the sibling at the next level; `standIn`
 * (the seek root) may fill one sibling slot with a matching index (§3.3.1).
 */
function climbQueue (start: TreeNode, queue: TreeNode[], standIn: TreeNode | null, batch: TreeBatch): { root: TreeNode, usedSeekRoot: boolean } {
  let cur = start
  let usedSeekRoot = false
  let q = 0
  for (;;) {
    const expect = flat.sibling(cur.index)
    let sib: TreeNode
    if (standIn !== null && !usedSeekRoot && standIn.index === expect) {
      sib = standIn
      usedSeekRoot = true
    } else if (q < queue.length) {
      sib = checkNode(queue[q++])
      if (sib.index !== expect) throw bad(`expected node ${expect}, got ${sib.index}`)
      batch.nodes.push(sib)
    } else {
      break
    }
    cur = parent(cur, sib)
    batch.nodes.push(cur)
  }
  return { root: cur, usedSeekRoot }
}

/**
 * Rebuilds the full roots of `length` from `oldRoots` (the requester's roots at the upgrade
 * start) plus queued nodes, in the strict order of §3.2 B: old roots kept; the connecting
 * root merged up from the last old root; then each new root. A queued node may be replaced
 * by a proven block/hash/seek root of the same index (case C), which then counts as verified.
 */
function extendRoots (oldRoots: TreeNode[], length: number, queue: TreeNode[], standIns: TreeNode[], used: Set<TreeNode>, batch: TreeBatch): TreeNode[] {
  const take = (index: number): TreeNode => {
    for (const s of standIns) {
      if (!used.has(s) && s.index === index) {
        used.add(s)
        return s
      }
    }
    const n = queue.shift()
    if (n === undefined) throw bad(`proof is missing node ${index}`)
    checkNode(n)
    if (n.index !== index) throw bad(`expected node ${index}, got ${n.index}`)
    batch.nodes.push(n)
    return n
  }
  const out: TreeNode[] = []
  let i = 0
  for (const r of flat.fullRoots(length)) {
    if (i < oldRoots.length && oldRoots[i].index === r) {
      out.push(oldRoots[i++])
      continue
    }
    if (i < oldRoots.length) {
      const stack = oldRoots.slice(i)
      i = oldRoots.length
      if (!stack.every((n) => flat.contains(r, n.index))) throw bad('old roots do not fit under the new root')
      let cur = stack.pop()!
      while (cur.index !== r) {
        const s = flat.sibling(cur.index)
        const sib = s < cur.index ? stack.pop() : take(s)
        if (sib === undefined || sib.index !== s) throw bad(`cannot merge node ${cur.index}`)
        cur = parent(cur, sib)
        batch.nodes.push(cur)
      }
      if (stack.length > 0) throw bad('old roots left over after merging')
      out.push(cur)
      continue
    }
    out.push(take(r))
  }
  if (i < oldRoots.length) throw bad('upgrade is shorter than our tree')
  if (queue.length > 0) throw bad(`${queue.length} unexpected nodes in the upgrade proof`)
  return out
}

function parent (a: TreeNode, b: TreeNode): TreeNode {
  if (!Number.isSafeInteger(a.size + b.size)) throw bad('node size overflow')
  return parentNode(a, b)
}

function checkNode (n: TreeNode): TreeNode {
  if (!isUint(n.index) || !isUint(n.size) || !(n.hash instanceof Uint8Array) || n.hash.byteLength !== 32) {
    throw bad('malformed node')
  }
  return n
}

function isUint (n: unknown): n is number {
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0
}
