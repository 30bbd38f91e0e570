/**
 * @module replication/replicator/receive
 * The requester side of an answer: match a `data` message to the request it answers
 * (§3.3.4), verify its proof against our tree under the core's lock, and store it through
 * `Core.insertVerified` (§3.3.5). A reorg answer (§3.5) also finds how much of our old tree
 * the new one keeps.
 */
import { HypercoreError } from '../../errors.js'
import type { Core } from '../../core/core.js'
import type { VerifiedProof } from '../../core/verified.js'
import * as flat from '../../tree/flat.js'
import type { MerkleTree } from '../../tree/merkle-tree.js'
import { nodeEquals } from '../../tree/nodes.js'
import { verifyProof } from '../../tree/proof-verify.js'
import type { DataMessage } from '../../wire/messages.js'
import type { ReorgHint } from './reorg.js'
import type { Outstanding } from './types.js'

/** Whether `data` answers `req` field by field (§3.3.4). JS treats a mismatch as noData. */
export function matches (req: Outstanding, data: DataMessage): boolean {
  const r = req.message
  if (data.fork !== r.fork) return false
  if ((r.block === null) !== (data.block === null)) return false
  if (r.block !== null && data.block!.index !== r.block.index) return false
  if ((r.hash === null) !== (data.hash === null)) return false
  if (r.hash !== null && data.hash!.index !== r.hash.index) return false
  if (data.seek !== null && (r.seek === null || data.seek.bytes !== r.seek.bytes)) return false
  // An upgrade asked for must come with one: `data` proving nothing is no answer (noData is).
  if ((data.upgrade === null) !== (r.upgrade === null)) return false
  if (r.upgrade !== null && data.upgrade!.start !== r.upgrade.start) return false
  return true
}

/** What applying an answer did. */
export interface Applied {
  /** Something new was stored. */
  changed: boolean
  /** The block's stored size when the block was new. */
  blockBytes: number
  /**
   * Our tree moved on since the request (another peer's upgrade, a reorg): the answer was
   * dropped unverified. Not the peer's fault; ask again if still needed.
   */
  stale: boolean
  /** For an upgrade: the signed length it proved. */
  provenLength: number
}

/**
 * Verifies and stores `data` (already matched). A proof from a fork we have left since the
 * request went out is dropped quietly; a bad proof throws INVALID_PROOF / INVALID_SIGNATURE.
 */
export async function applyData (core: Core, req: Outstanding, data: DataMessage, hint: ReorgHint | null = null): Promise<Applied> {
  const out: Applied = { changed: false, blockBytes: 0, stale: false, provenLength: 0 }
  // A plain block (no upgrade, no reorg) is stored together with the others that arrive
  // meanwhile (Core.insertVerifiedBlock); what changes the tree goes alone. (The callbacks
  // are written inline, with the work in `_verify`: this runs for every block downloaded.)
  const plain = req.kind === 'block' && data.block !== null && data.upgrade === null
  out.changed = plain
    ? await core.insertVerifiedBlock(async (tree) => await _verify(core, req, data, hint, tree, out))
    : await core.insertVerified(async (tree) => await _verify(core, req, data, hint, tree, out))
  if (!out.changed) out.blockBytes = 0
  return out
}

/** The verify step of `applyData`, under the core's lock; notes what it found in `out`. */
async function _verify (core: Core, req: Outstanding, data: DataMessage, hint: ReorgHint | null, tree: MerkleTree, out: Applied): Promise<VerifiedProof> {
  const reorg = req.kind === 'reorg'
  // Our own fork moved on since we asked (a reorg from another peer): the answer is moot.
  if (!reorg && tree.fork !== req.message.fork) return _moot(tree, out)
  if (reorg && data.fork <= tree.fork) return _moot(tree, out)
  // An upgrade made for a shorter tree of ours (another peer's upgrade landed first) is
  // dropped, never verified against our roots at its start: adopting it would keep the
  // blocks we got meanwhile under a tree that did not prove them (§3.5). Asked again from
  // our length, a second writer's tree fails its signature and the conflict check finds it.
  if (!reorg && data.upgrade !== null && data.upgrade.start !== tree.length) return _moot(tree, out)
  const verifySignature = data.upgrade === null ? undefined : (hash: Uint8Array, length: number, fork: number, sig: Uint8Array): boolean => core.verifier.verify(hash, length, fork, sig)
  const batch = await verifyProof(tree, data, verifySignature, { fromScratch: reorg })
  if (batch.upgraded) out.provenLength = batch.length
  if (reorg) {
    if (data.upgrade === null) throw HypercoreError.INVALID_PROOF('a reorg answer must carry an upgrade')
    // The narrowed prefix (reorg.ts) holds while our fork is the one it was found on.
    const narrowed = hint !== null && hint.fork === tree.fork ? Math.min(hint.ancestors, tree.length, batch.length) : 0
    batch.ancestors = Math.max(narrowed, await commonPrefix(tree, batch.roots))
  }
  const block = data.block === null ? null : { index: data.block.index, value: data.block.value }
  if (block !== null) out.blockBytes = block.value.byteLength
  return { batch, block }
}

/** An answer our tree has moved past: nothing to store (`stale`). */
function _moot (tree: MerkleTree, out: Applied): VerifiedProof {
  out.stale = true
  return { batch: tree.batch(), block: null }
}

/**
 * How many leading blocks the new tree (given by its verified roots) shares with ours: the
 * roots we store unchanged, left to right. This is a lower bound of the true common prefix
 * (reorg.ts narrows it further with hash requests, §3.5); it stands alone when that could
 * not be done. Dropping more than needed only costs a re-download, never correctness.
 */
async function commonPrefix (tree: MerkleTree, roots: readonly { index: number, size: number, hash: Uint8Array }[]): Promise<number> {
  let ancestors = 0
  for (const r of roots) {
    const end = flat.rightSpan(r.index) / 2 + 1
    if (end > tree.length) break
    const ours = await tree.get(r.index)
    if (ours === null || !nodeEquals(ours, r)) break
    ancestors = end
  }
  return ancestors
}
