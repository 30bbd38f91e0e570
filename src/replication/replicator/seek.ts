/**
 * @module replication/replicator/seek
 * `seek(bytes)` on a core that lacks tree nodes on the way to the byte (a sparse reader), as
 * hypercore@10 does it: under the lowest stored node holding the byte (the gap), a block some
 * peer has is asked for as a hash proof up to that node (§3.1), with a seek proof (§3.2) when
 * the peer takes seeks. The proven nodes are stored (core/verified.ts: an oplog entry of
 * nodes, as hypercore@10 writes) and the walk goes on: one round trip per gap, no block data.
 */
import { HypercoreError } from '../../errors.js'
import * as flat from '../../tree/flat.js'
import type { MerkleTree } from '../../tree/merkle-tree.js'
import { verifyProof } from '../../tree/proof-verify.js'
import type { DataMessage, RequestMessage } from '../../wire/messages.js'
import type { Peer } from './peer.js'
import type { Replicator } from './replicator.js'
import { WANT_SEGMENT, type Outstanding } from './types.js'

/** How often a seek with no peer to ask looks again (peers joining wake it at once). */
const IDLE_CHECK_MS = 200
/** Blocks of a gap scanned for one the peer announced (a writer matches at the first). */
const MAX_SCAN = 4096

/**
 * `[block, offset]` of user byte `bytes` in `tree` (the core's tree, or a snapshot's of the
 * same fork), fetching missing nodes from the replicator's peers until `signal` aborts.
 */
export async function seekFromPeers (rep: Replicator, tree: MerkleTree, bytes: number, padding: number, signal: AbortSignal): Promise<[number, number]> {
  const core = rep.core
  let gap = -1
  /** Peers that could not prove the current gap (refused, timed out, bad proof). */
  const failed = new Set<Peer>()
  for (;;) {
    if (signal.aborted) throw signal.reason
    const found = await tree.seekStored(bytes, padding)
    if (typeof found !== 'number') return found
    if (found !== gap) failed.clear()
    gap = found
    const pick = choosePeer(rep, gap, failed)
    if (pick === null) {
      await changed(rep, signal)
      continue
    }
    const fork = core.fork
    const answer = await askNodes(pick.peer, fork, pick.block, flat.depth(gap), bytes, padding)
    if (answer === null) {
      failed.add(pick.peer)
      continue
    }
    try {
      await core.insertVerified(async (t) => ({
        // Our fork moved on meanwhile: nothing to store; the walk starts over on the new tree.
        batch: t.fork === fork ? await verifyProof(t, { ...answer, block: null, upgrade: null }) : t.batch(),
        block: null
      }))
    } catch (err) {
      if (!HypercoreError.is(err, 'INVALID_PROOF')) throw err
      failed.add(pick.peer)
      rep.fail(pick.peer, err)
    }
  }
}

/**
 * A peer on our fork, with a free slot, that announced a block under `gap` (it then has the
 * nodes from that block up to `gap`), and that block; else null (peers that are as long as we
 * are get a `want` for the gap's first segment, so their announcements come).
 */
function choosePeer (rep: Replicator, gap: number, failed: Set<Peer>): { peer: Peer, block: number } | null {
  const core = rep.core
  const start = flat.leftSpan(gap) / 2
  const end = Math.min(flat.rightSpan(gap) / 2 + 1, core.length)
  const now = Date.now()
  for (const p of rep.peers) {
    if (failed.has(p) || !p.available(now) || !p.remoteSynced || p.remoteFork !== core.fork) continue
    if (p.inflight.size >= rep.scheduler.maxInflight) continue
    const bits = p.remoteBitfield
    if (bits.contiguousLength > start) return { peer: p, block: start }
    for (let i = start, n = 0; i < end && n < MAX_SCAN; i++, n++) if (bits.get(i)) return { peer: p, block: i }
    const segment = Math.floor(start / WANT_SEGMENT)
    if (p.remoteLength > start && !p.wantedSegments.has(segment)) {
      p.wantedSegments.add(segment)
      p.sendWant(segment * WANT_SEGMENT, WANT_SEGMENT)
    }
  }
  return null
}

/**
 * Asks `peer` for the hash proof of block `block`'s leaf up `nodes` levels, with a seek proof
 * for `bytes` when it takes seeks; null when it is not answered (noData, a timeout, gone).
 */
function askNodes (peer: Peer, fork: number, block: number, nodes: number, bytes: number, padding: number): Promise<DataMessage | null> {
  return new Promise(resolve => {
    const message: RequestMessage = {
      id: peer.nextRequestId(),
      fork,
      block: null,
      hash: { index: flat.leafIndex(block), nodes },
      seek: peer.remoteSupportsSeeks ? { bytes, padding } : null,
      upgrade: null,
      manifest: false,
      priority: 1
    }
    // A 'hash' request: its answer (or the lack of one) goes to `resolve` (replicator.ts).
    const req: Outstanding = { peer, kind: 'hash', message, priority: 1, resolve }
    peer.inflight.set(message.id, req)
    peer.sendRequest(message)
    peer.host.watch() // a peer that never answers times out (health.ts): null then
  })
}

/** Resolves when a peer joins, after a short while (announcements may have come), or rejects on abort. */
function changed (rep: Replicator, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (err?: unknown): void => {
      clearTimeout(timer)
      off()
      signal.removeEventListener('abort', onabort)
      if (err === undefined) resolve()
      else reject(err)
    }
    const onabort = (): void => done(signal.reason)
    const timer = setTimeout(() => done(), IDLE_CHECK_MS)
    const off = rep.onPeerUpdate(added => { if (added) done() })
    signal.addEventListener('abort', onabort, { once: true })
  })
}
