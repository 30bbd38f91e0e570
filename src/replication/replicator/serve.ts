/**
 * @module replication/replicator/serve
 * The responder side: answer each `request` with exactly one `data` (a proof from
 * `generateProof`, §3.2) or `noData` (wrong fork, block not here, anything that throws), in
 * arrival order, unless it was cancelled (§3.4); answer `want` with our contiguous `range` or
 * our bitfield words for the wanted segment (§5.7).
 *
 * What a peer can make us do is bounded by what it reads. Requests and wants wait in one
 * queue per peer; answers are made only while its stream is not backpressured (a batch of
 * about 256 KiB at most is buffered beyond that); each want segment is answered once per peer
 * (repeats are dropped, and many of them are a flood); past half of `maxRemoteQueue` queued we
 * stop reading its connection until the queue is down to a quarter, and a full queue (a
 * stream that cannot be paused) is a flood: PROTOCOL_ERROR.
 */
import { HypercoreError } from '../../errors.js'
import type { Core } from '../../core/core.js'
import { BITS_PER_PAGE } from '../../core/format/bitfield-file.js'
import { generateProof } from '../../tree/proof-generate.js'
import type { DataMessage, RequestMessage, WantMessage } from '../../wire/messages.js'
import type { Peer } from './peer.js'
import { WANT_SEGMENT, type RemoteWork } from './types.js'

/** A corked batch of answers is written once it holds about this many bytes. */
const BATCH_BYTES = 256 * 1024
/** Rough bytes of a data message besides its block (proof nodes, ids), for the batch budget. */
const MESSAGE_OVERHEAD = 256

/** Bitfield messages carry at least 1024 words (4 KiB) and are rounded up to that (§5.7). */
const MIN_WORDS = 1024

/** Repeated `want`s tolerated from one peer (an honest one wants each segment once, §5.7). */
const MAX_REPEATED_WANTS = 256
/** Runs of stored blocks walked between two yields to the event loop while filling words. */
const RUNS_PER_YIELD = 1024

/** Work queued past which we stop reading the peer's connection (until it is down to half of it). */
export function softQueueLimit (maxQueue: number): number {
  return Math.max(1, Math.floor(maxQueue / 2))
}

/** What `serveQueue` needs besides the peer. */
export interface ServeContext {
  core: Core
  maxQueue: number
  onupload: (peer: Peer, index: number, bytes: number) => void
}

/** Queues a remote request; floods past `maxQueue` end the connection (PROTOCOL_ERROR). */
export function queueRequest (ctx: ServeContext, peer: Peer, m: RequestMessage): void {
  // A request whose id is still queued replaces the older one (§3.4).
  if (!peer.remoteWork.delete(m.id) && !_room(ctx, peer)) return
  peer.remoteWork.set(m.id, { kind: 'request', message: m })
  _queued(ctx, peer)
}

/**
 * `want{start, length}` (§5.7): queues our prefix when it covers the range, else the (at most
 * two) segments it names that hold something of ours. Each is answered once per peer: later
 * changes reach the peer as `range` messages. Repeats cost nothing but count towards a flood.
 */
export function queueWant (ctx: ServeContext, peer: Peer, m: WantMessage): void {
  const core = ctx.core
  const length = core.length
  const contig = Math.min(core.contiguousLength, length)
  if (m.start + m.length <= contig || contig === length) {
    if (contig === 0) return
    if (peer.sentContig >= contig || peer.remoteWork.has('contig')) return _repeated(peer)
    if (!_room(ctx, peer)) return
    peer.remoteWork.set('contig', { kind: 'contig' })
    _queued(ctx, peer)
    return
  }
  // Only whole segments, and never more than the two a single want can straddle.
  const first = Math.floor(m.start / WANT_SEGMENT)
  const last = Math.floor((Math.min(m.start + m.length, length) - 1) / WANT_SEGMENT)
  let repeated = false
  for (let s = first; s <= Math.min(last, first + 1); s++) {
    if (s * WANT_SEGMENT >= length) break
    const key = 'w' + s
    if (peer.answeredSegments.has(s) || peer.remoteWork.has(key)) {
      repeated = true
      continue
    }
    if (!_room(ctx, peer)) return
    peer.remoteWork.set(key, { kind: 'want', segment: s })
  }
  if (repeated) _repeated(peer)
  if (!peer.closed) _queued(ctx, peer)
}

/** `cancel`: a request not answered yet is dropped; the responder never replies to it. */
export function cancelRequest (peer: Peer, id: number): void {
  peer.remoteWork.delete(id)
}

function _room (ctx: ServeContext, peer: Peer): boolean {
  if (peer.remoteWork.size < ctx.maxQueue) return true
  peer.destroy(HypercoreError.PROTOCOL_ERROR(`peer has more than ${ctx.maxQueue} requests waiting`))
  return false
}

function _repeated (peer: Peer): void {
  if (++peer.repeatedWants > MAX_REPEATED_WANTS) peer.destroy(HypercoreError.PROTOCOL_ERROR(`peer repeated more than ${MAX_REPEATED_WANTS} want messages`))
}

function _queued (ctx: ServeContext, peer: Peer): void {
  // Read only as fast as we answer: past the soft limit, stop reading this connection until
  // the queue is down to half (an honest peer keeps far fewer requests in flight).
  if (peer.remoteWork.size >= softQueueLimit(ctx.maxQueue)) peer.holdInput()
  if (!peer.serving) void serveQueue(ctx, peer)
}

async function serveQueue (ctx: ServeContext, peer: Peer): Promise<void> {
  const core = ctx.core
  const work = peer.remoteWork
  const resumeAt = softQueueLimit(ctx.maxQueue) / 2
  peer.serving = true
  // Answers go out corked, as one mux batch (§5.5) per BATCH_BYTES or whenever the queue is
  // empty: one encrypted message for many small answers instead of one each (most of the
  // per-block cost at 1 KiB blocks). The bytes of each message are unchanged.
  let corked = false
  let batched = 0
  const cork = (): void => {
    if (corked) return
    corked = true
    peer.channel.cork()
  }
  const uncork = (): void => {
    if (!corked) return
    corked = false
    batched = 0
    peer.channel.uncork()
  }
  try {
    while (work.size > 0 && !peer.closed) {
      // Backpressure: nothing more is made for a peer that does not read what it asked for.
      if (!corked && peer.backpressured) {
        await waitDrain(peer)
        continue
      }
      const [key, item] = work.entries().next().value as [number | string, RemoteWork]
      work.delete(key)
      if (peer.inputHeld && work.size <= resumeAt) peer.releaseInput()
      if (item.kind === 'request') {
        const m = item.message
        const data = await answer(core, m)
        if (peer.closed) return
        cork()
        if (data === null) {
          peer.sendNoData(m.id)
          batched += MESSAGE_OVERHEAD
        } else {
          peer.sendData(data)
          const bytes = data.block === null ? 0 : data.block.value.byteLength
          batched += bytes + MESSAGE_OVERHEAD
          if (data.block !== null) ctx.onupload(peer, data.block.index, bytes)
        }
      } else if (item.kind === 'want') {
        peer.answeredSegments.add(item.segment) // now, so a repeat arriving meanwhile is one
        const words = await segmentWords(core, item.segment)
        if (peer.closed) return
        if (words !== null) {
          cork()
          peer.sendBitfield(item.segment * WANT_SEGMENT, words)
          batched += words.byteLength + MESSAGE_OVERHEAD
        }
      } else {
        const contig = Math.min(core.contiguousLength, core.length)
        if (contig > peer.sentContig) {
          cork()
          peer.sendRange(false, 0, contig)
          peer.sentContig = contig
          batched += MESSAGE_OVERHEAD
        }
      }
      if (batched < BATCH_BYTES && work.size > 0) continue
      uncork()
    }
  } finally {
    uncork()
    peer.serving = false
    if (work.size <= resumeAt) peer.releaseInput()
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

/**
 * Our bitfield words for one want segment (§5.7): at least 1024 words, rounded up to 1024,
 * up to our last stored block in it; null when we hold nothing there (nothing is sent, as
 * hypercore@10 sends bitfields only for segments it has). Stored runs are walked, yielding to
 * the event loop every RUNS_PER_YIELD runs, so a fragmented segment never stalls it.
 */
export async function segmentWords (core: Core, segment: number): Promise<Uint32Array | null> {
  const start = segment * WANT_SEGMENT
  const end = Math.min(start + WANT_SEGMENT, core.length)
  if (start >= end) return null
  let i = await core.bitfield.firstSet(start)
  if (i === -1 || i >= end) return null
  const words = new Uint32Array(Math.max(MIN_WORDS, Math.ceil((end - start) / 32)))
  let last = i
  let runs = 0
  while (i !== -1 && i < end) {
    let j = await core.bitfield.firstUnset(i)
    if (j === -1 || j > end) j = end
    last = j - 1
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
    if (++runs % RUNS_PER_YIELD === 0) await new Promise(resolve => setTimeout(resolve, 0))
    i = await core.bitfield.firstSet(j)
  }
  const used = Math.ceil((last - start + 1) / 32)
  return words.subarray(0, Math.min(words.length, Math.max(MIN_WORDS, Math.ceil(used / MIN_WORDS) * MIN_WORDS)))
}
