/**
 * @module replication/replicator/conflict
 * Conflict checks (§3.5): when a peer's proof fails verification, it may be lying, or it may
 * hold a validly signed tree that differs from ours at the same fork (two writers with one
 * key). We then ask it for its whole tree from length 0 (a request with the reserved id 0)
 * and pause it. A validly signed answer that differs from our tree at a length ≤ ours is a
 * conflict; anything else ends the connection with the original error. Nothing from the
 * answer is stored.
 */
import { HypercoreError } from '../../errors.js'
import type { Core } from '../../core/core.js'
import { equalBytes } from '../../crypto/index.js'
import { rootsHash } from '../../tree/nodes.js'
import { verifyProof } from '../../tree/proof-verify.js'
import type { DataMessage } from '../../wire/messages.js'
import type { Peer } from './peer.js'
import type { Replicator } from './replicator.js'
import { answer } from './serve.js'

/** How long a paused peer has to answer the check before its original error ends it (the replicator passes its request timeout). */
export const CONFLICT_CHECK_TIMEOUT = 10000

/**
 * A proof from `peer` failed with `error`: sends the id-0 check
 * (`request{id 0, fork: remoteFork, upgrade{0, min(ours, theirs)}}`) and pauses the peer, or
 * ends the connection at once when there is nothing to compare (another fork, empty tree).
 */
export function startConflictCheck (core: Core, peer: Peer, error: HypercoreError, timeoutMs = CONFLICT_CHECK_TIMEOUT): void {
  if (peer.closed) return
  if (peer.conflictCheck !== null) return // one check at a time; its outcome decides
  const length = Math.min(core.length, peer.remoteLength)
  if (length === 0 || peer.remoteFork !== core.fork || core.tree.signature === null) {
    peer.destroy(error)
    return
  }
  const timer = setTimeout(() => peer.destroy(error), timeoutMs)
  peer.conflictCheck = { error, timer }
  peer.sendRequest({ id: 0, fork: peer.remoteFork, block: null, hash: null, seek: null, upgrade: { start: 0, length }, manifest: false, priority: 0 })
}

/** Ends a check (the peer closed, or the answer was handled). */
export function endConflictCheck (peer: Peer): HypercoreError | null {
  const c = peer.conflictCheck
  if (c === null) return null
  clearTimeout(c.timer)
  peer.conflictCheck = null
  return c.error
}

/** A verified conflict: the length both trees claim and the peer's fork. */
export interface Conflict { length: number, fork: number }

/**
 * Checks a `data` with request 0 (an answer to our check, or a peer telling us it found a
 * conflict; §3.5 accepts those unasked when `upgrade.start` is 0). Resolves the conflict, or
 * null when the peer's tree agrees with ours or cannot be compared with it; throws
 * INVALID_SIGNATURE / INVALID_PROOF when the proof itself is bad.
 */
export async function checkConflict (core: Core, data: DataMessage): Promise<Conflict | null> {
  const up = data.upgrade
  if (up === null || up.start !== 0) return null
  // Only the upgrade counts: the signed roots from length 0, built from the peer's nodes alone.
  const proof: DataMessage = { ...data, block: null, hash: null, seek: null, manifest: null }
  await verifyProof(core.tree, proof, (hash, length, fork, sig) => core.verifier.verify(hash, length, fork, sig), { fromScratch: true })
  // Another fork is a reorg (handled through sync), not a conflict.
  if (data.fork !== core.fork) return null
  const length = up.length
  if (length > core.length) return null
  let ours: Uint8Array
  try {
    ours = await core.tree.treeHash(length)
  } catch (err) {
    if (HypercoreError.is(err, 'BLOCK_NOT_AVAILABLE')) return null // we do not hold the roots there
    throw err
  }
  // From start 0 the upgrade nodes are exactly the full roots of `length` (§3.2 B.3).
  const theirs = rootsHash(up.nodes)
  if (core.fork !== data.fork || equalBytes(ours, theirs)) return null
  return { length, fork: data.fork }
}


/**
 * A `data` with request 0 (§3.5): the answer to our conflict check, or a peer showing us its
 * tree unasked. A bad proof ends the connection (INVALID_SIGNATURE / INVALID_PROOF); a validly
 * signed, different tree is a conflict; a tree that agrees with ours leaves the failure that
 * made us ask (if any) to end the connection.
 */
export async function onConflictCheck (rep: Replicator, peer: Peer, m: DataMessage): Promise<void> {
  const core = rep.core
  let conflict: Conflict | null
  try {
    conflict = await checkConflict(core, m)
  } catch (err) {
    endConflictCheck(peer)
    throw err
  }
  const original = endConflictCheck(peer)
  if (conflict !== null) {
    // hypercore@10 emits (proof.upgrade.length, proof.fork, proof) on every session.
    rep.emit('conflict', conflict.length, conflict.fork, m)
    // §3.5: show every peer our own tree from 0 (so this one sees the conflict too), close
    // the channels and every session of the core, and end this connection.
    const ours = await answer(core, { id: 0, fork: core.fork, block: null, hash: null, seek: null, upgrade: { start: 0, length: core.length }, manifest: false, priority: 0 })
    if (ours !== null) for (const p of [...rep.peers]) if (!p.closed) p.sendData(ours)
    const err = HypercoreError.CONFLICT(`Two conflicting signatures exist for length ${conflict.length}`)
    // The throw ends this connection with CONFLICT once our tree is written; the sessions
    // close after that (closing them first would close its channel quietly instead).
    const stream = peer.stream
    if (stream.destroyed) rep.closeSessions(err)
    else stream.once('close', () => rep.closeSessions(err))
    throw err
  }
  if (original !== null) throw original
}
