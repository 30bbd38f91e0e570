/**
 * @module replication/replicator/serve
 * The responder side: answer each `request` with exactly one `data` (a proof from
 * `generateProof`, §3.2) or `noData` (wrong fork, block not here, anything that throws), in
 * arrival order, unless it was cancelled (§3.4); answer `want` with our contiguous `range` or
 * our bitfield words for the wanted segment (§5.7).
 */
import { Writable } from 'streamx'
import { HypercoreError } from '../../errors.js'
import type { Core } from '../../core/core.js'
import { BITS_PER_PAGE } from '../../core/format/bitfield-file.js'
import { generateProof } from '../../tree/proof-generate.js'
import type { DataMessage, RequestMessage, WantMessage } from '../../wire/messages.js'
import type { Peer } from './peer.js'
import { WANT_SEGMENT } from './types.js'

/** A corked batch of answers is written once it holds about this many bytes. */
const BATCH_BYTES = 256 * 1024
/** Rough bytes of a data message besides its block (proof nodes, ids), for the batch budget. */
const MESSAGE_OVERHEAD = 256

/** Bitfield messages carry at least 1024 words (4 KiB) and are rounded up to that (§5.7). */
const MIN_WORDS = 1024

/** Queues a remote request; floods past `maxQueue` end the connection (PROTOCOL_ERROR). */
export function queueRequest (core: Core, peer: Peer, m: RequestMessage, maxQueue: number, onupload: (index: number, bytes: number) => void): void {
  // A request whose id is still queued replaces the older one (§3.4).
  const i = peer.remoteQueue.findIndex(r => r.id === m.id)
  if (i !== -1) peer.remoteQueue.splice(i, 1)
  if (peer.remoteQueue.length >= maxQueue) {
    peer.destroy(HypercoreError.PROTOCOL_ERROR(`peer has more than ${maxQueue} requests waiting`))
    return
  }
  peer.remoteQueue.push(m)
  if (!peer.serving) void serveQueue(core, peer, onupload)
}

/** `cancel`: a request not answered yet is dropped; the responder never replies to it. */
export function cancelRequest (peer: Peer, id: number): void {
  const i = peer.remoteQueue.findIndex(r => r.id === id)
  if (i !== -1) peer.remoteQueue.splice(i, 1)
}

async function serveQueue (core: Core, peer: Peer, onupload: (index: number, bytes: number) => void): Promise<void> {
  peer.serving = true
  // Answers go out corked, as one mux batch (§5.5) per BATCH_BYTES or whenever the queue is
  // empty: one encrypted message for many small answers instead of one each (most of the
  // per-block cost at 1 KiB blocks). The bytes of each message are unchanged.
  let corked = false
  let batched = 0
  const uncork = (): void => {
    if (!corked) return
    corked = false
    batched = 0
    peer.channel.uncork()
  }
  try {
    while (peer.remoteQueue.length > 0 && !peer.closed) {
      const m = peer.remoteQueue.shift()!
      const data = await answer(core, m)
      if (peer.closed) return
      if (!corked) {
        peer.channel.cork()
        corked = true
      }
      if (data === null) {
        peer.sendNoData(m.id)
        batched += MESSAGE_OVERHEAD
      } else {
        peer.sendData(data)
        const bytes = data.block === null ? 0 : data.block.value.byteLength
        batched += bytes + MESSAGE_OVERHEAD
        if (data.block !== null) onupload(data.block.index, bytes)
      }
      if (batched < BATCH_BYTES && peer.remoteQueue.length > 0) continue
      uncork()
      // Backpressure: a peer that reads slowly does not make us read its whole request list
      // into memory as proofs; wait until the stream drains.
      if (Writable.isBackpressured(peer.stream)) await waitDrain(peer)
    }
  } finally {
    uncork()
    peer.serving = false
  }
}

function waitDrain (peer: Peer): Promise<void> {
  return new Promise(resolve => { peer.drainWaiters.push(resolve) })
}

/** The proof for `m`, or null for `noData` (§3.2 last paragraph). */
export async function answer (core: Core, m: RequestMessage): Promise<DataMessage | null> {
  if (core.closed || m.fork !== core.fork) return null
  if (m.block === null && m.hash === null && m.seek === null && m.upgrade === null) return null
  try {
    const tree = core.tree
    const proof = await generateProof(tree, m, async (index) => await hasBlock(core, index) ? readBlock(core, index) : null)
    if (proof.fork !== core.fork) return null // a truncation raced the proof
    return { request: m.id, fork: proof.fork, block: proof.block, hash: proof.hash, seek: proof.seek, upgrade: proof.upgrade, manifest: null }
  } catch {
    return null
  }
}

/** `core.has`, without a promise when the bitfield page is in memory. */
function hasBlock (core: Core, index: number): boolean | Promise<boolean> {
  if (index >= core.length) return false
  return core.bitfield.isLoaded(Math.floor(index / BITS_PER_PAGE)) ? core.bitfield.has(index) : core.bitfield.get(index)
}

/** `core.readBlock`, with the byte range from tree nodes in memory when they are there. */
async function readBlock (core: Core, index: number): Promise<Uint8Array> {
  const [offset, size] = core.tree.byteRangeCached(index) ?? await core.tree.byteRange(index)
  return core.data.read(offset, size)
}

/** `want{start, length}` (§5.7): our prefix when it covers the range, else bitfield words. */
export async function answerWant (core: Core, peer: Peer, m: WantMessage): Promise<void> {
  const length = core.length
  const contig = Math.min(core.contiguousLength, length)
  if (m.start + m.length <= contig || contig === length) {
    if (contig > 0) peer.sendRange(false, 0, contig)
    return
  }
  // Only whole segments, and never more than the two a single want can straddle.
  const first = Math.floor(m.start / WANT_SEGMENT)
  const last = Math.floor((Math.min(m.start + m.length, length) - 1) / WANT_SEGMENT)
  for (let s = first; s <= Math.min(last, first + 1); s++) {
    const start = s * WANT_SEGMENT
    if (start >= length) break
    const bits = Math.min(WANT_SEGMENT, length - start)
    const words = new Uint32Array(Math.max(MIN_WORDS, Math.ceil(Math.ceil(bits / 32) / MIN_WORDS) * MIN_WORDS))
    await fillWords(core, start, start + bits, words)
    peer.sendBitfield(start, words)
  }
}

/** Sets the words for the stored blocks in `[start, end)`, walking runs rather than bits. */
async function fillWords (core: Core, start: number, end: number, words: Uint32Array): Promise<void> {
  let i = await core.bitfield.firstSet(start)
  while (i !== -1 && i < end) {
    let j = await core.bitfield.firstUnset(i)
    if (j === -1 || j > end) j = end
    for (let b = i; b < j; b++) {
      const local = b - start
      if ((local & 31) === 0 && b + 32 <= j) {
        words[local >>> 5] = 0xffffffff
        b += 31
        continue
      }
      words[local >>> 5]! |= 1 << (local & 31)
    }
    if (j >= end) break
    i = await core.bitfield.firstSet(j)
  }
}
