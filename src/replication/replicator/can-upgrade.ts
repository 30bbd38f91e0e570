/**
 * @module replication/replicator/can-upgrade
 * The `canUpgrade` flag of our sync (§5.7): we claim it only when we can really prove our
 * tree from the length the peer acknowledged: same fork, a signed tree, and either the peer
 * has nothing yet or we hold every full root of the tree at its (shorter) length. A sparse
 * replica that learned a long tree from one signed root often lacks those roots; claiming
 * anyway only earns a request we must answer with noData.
 */
import type { Core } from '../../core/core.js'
import * as flat from '../../tree/flat.js'
import type { Peer } from './peer.js'

/** true / false, or undefined when a root at the peer's length is not in memory (ask `holdsRootsAt`). */
export function canUpgradeTo (core: Core, peer: Peer): boolean | undefined {
  if (peer.remoteFork !== core.fork || core.tree.signature === null) return false
  const length = peer.remoteLength
  if (length === 0) return true
  if (length >= core.length) return false
  const known = peer.rootsChecked
  if (known !== null && known.fork === core.fork && known.length === length) return known.ok
  let unknown = false
  for (const r of flat.fullRoots(length)) {
    const n = core.tree.getCached(r)
    if (n === null) return false
    if (n === undefined) unknown = true
  }
  return unknown ? undefined : true
}

/** Reads the full roots of `length` from the tree file: whether we hold them all. */
export async function holdsRootsAt (core: Core, length: number): Promise<boolean> {
  for (const r of flat.fullRoots(length)) {
    if ((core.tree.getCached(r) ?? await core.tree.get(r)) === null) return false
  }
  return true
}
