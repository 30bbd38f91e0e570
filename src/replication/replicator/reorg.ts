/**
 * @module replication/replicator/reorg
 * Finding the common prefix after a remote reorg (§3.5): the peer's new tree (verified from
 * its signed roots) is compared with ours root by root; inside the first root that differs
 * we walk down with `hash{index: left child, nodes: 1}` requests, each answered by the left
 * and right children of a node we already trust, keeping the left half when it equals ours.
 * One round trip per tree level; only blocks past the real fork point are dropped and
 * downloaded again.
 */
import { HypercoreError } from '../../errors.js'
import type { Core } from '../../core/core.js'
import * as flat from '../../tree/flat.js'
import type { MerkleTree } from '../../tree/merkle-tree.js'
import { nodeEquals, parentNode } from '../../tree/nodes.js'
import { verifyProof } from '../../tree/proof-verify.js'
import type { TreeNode } from '../../tree/types.js'
import type { DataMessage, RequestMessage } from '../../wire/messages.js'
import type { Peer } from './peer.js'
import type { Outstanding } from './types.js'

/** The common prefix found with our tree as it was on `fork` (stale once our fork moves). */
export interface ReorgHint { fork: number, ancestors: number }

/**
 * Verifies the reorg answer's signed roots (nothing is stored here) and narrows the common
 * prefix with hash requests to `peer`. A peer that cannot answer (noData, gone) leaves the
 * prefix found so far, a lower bound; a hash proof that does not hash up to the signed root
 * is INVALID_PROOF.
 */
export async function narrowReorg (core: Core, peer: Peer, data: DataMessage): Promise<ReorgHint | null> {
  if (data.upgrade === null || data.fork <= core.fork) return null
  const tree = core.tree
  const fork = tree.fork
  const upgradeOnly: DataMessage = { ...data, block: null, hash: null, seek: null, manifest: null }
  const batch = await verifyProof(tree, upgradeOnly, (hash, length, f, sig) => core.verifier.verify(hash, length, f, sig), { fromScratch: true })
  let ancestors = 0
  for (const root of batch.roots) {
    if (await same(tree, root)) {
      ancestors = end(root)
      continue
    }
    // Nothing of ours lies under this root: no use asking.
    if (flat.leftSpan(root.index) / 2 >= tree.length) break
    ancestors = await descend(tree, root, index => askHash(peer, data.fork, index))
    break
  }
  return tree.fork === fork ? { fork, ancestors } : null
}

/** Walks down from the verified `root` to the last leaf both trees share; returns the prefix. */
async function descend (tree: MerkleTree, root: TreeNode, ask: (index: number) => Promise<DataMessage | null>): Promise<number> {
  let n = root
  let ancestors = flat.leftSpan(root.index) / 2
  while (!flat.isLeaf(n.index)) {
    const [l, r] = flat.children(n.index) as [number, number]
    const answer = await ask(l)
    if (answer === null) return ancestors // a lower bound: the rest is re-downloaded
    const nodes = answer.hash?.nodes ?? []
    if (nodes.length !== 2 || nodes[0]!.index !== l || nodes[1]!.index !== r || !nodeEquals(parentNode(nodes[0]!, nodes[1]!), n)) {
      throw HypercoreError.INVALID_PROOF(`hash proof for node ${l} does not hash up to node ${n.index}`)
    }
    if (await same(tree, nodes[0]!)) {
      ancestors = end(nodes[0]!)
      n = nodes[1]!
    } else {
      n = nodes[0]!
    }
  }
  if (await same(tree, n)) ancestors = end(n)
  return ancestors
}

/** The block after the last one under `node`. */
function end (node: TreeNode): number {
  return flat.rightSpan(node.index) / 2 + 1
}

/** Whether we store `node` unchanged, inside our length. */
async function same (tree: MerkleTree, node: TreeNode): Promise<boolean> {
  if (end(node) > tree.length) return false
  const ours = tree.getCached(node.index) ?? await tree.get(node.index)
  return ours !== null && nodeEquals(ours, node)
}

/** Asks `peer` for node `index` and its sibling (§3.1 hash request); null when not answered. */
function askHash (peer: Peer, fork: number, index: number): Promise<DataMessage | null> {
  return new Promise(resolve => {
    if (!peer.usable) {
      resolve(null)
      return
    }
    const message: RequestMessage = { id: peer.nextRequestId(), fork, block: null, hash: { index, nodes: 1 }, seek: null, upgrade: null, manifest: false, priority: 1 }
    const req: Outstanding = { peer, kind: 'hash', message, priority: 1, resolve }
    peer.inflight.set(message.id, req)
    peer.sendRequest(message)
    peer.host.watch() // a peer that never answers times out (health.ts): the lower bound then stands
  })
}
