/**
 * @module wire/proof-messages
 * compact-encoding codecs for the hypercore channel's `request` (type 1) and `data`
 * (type 3) messages and the `node` record inside them (§5.6, §1.1).
 *
 * Decoding never throws anything but a `HypercoreError` DECODING_ERROR: malformed bytes come
 * from remote peers, and the replicator must be able to tell "bad message" from a bug.
 */
import c from 'compact-encoding'
import { HypercoreError } from '../errors.js'
import type { TreeNode } from '../crypto/hash.js'

type State = ReturnType<typeof c.state>

/**
 * Most nodes one list of a proof can hold. Lengths are JS-safe integers (< 2^53), so a tree
 * is at most 53 levels deep and has at most 53 roots. A block/hash/seek list holds one
 * sibling per level (+ the target itself for a hash): ≤ 54. An upgrade list holds the right
 * siblings on the connecting root's path plus the later new roots, each at a distinct
 * level below that root: ≤ 2 × 53. 128 covers every honest proof with room to spare and
 * keeps a hostile message from making us allocate (the generic decoder allows 0x100000).
 */
export const MAX_PROOF_NODES = 128

export interface RequestMessage {
  id: number
  fork: number
  block: { index: number, nodes: number } | null
  hash: { index: number, nodes: number } | null
  seek: { bytes: number, padding: number } | null
  upgrade: { start: number, length: number } | null
  manifest: boolean
  /** v10.38 `priority` (flag bit5); 0 when absent. */
  priority: number
}

export interface DataMessage {
  request: number
  fork: number
  block: { index: number, value: Uint8Array, nodes: TreeNode[] } | null
  hash: { index: number, nodes: TreeNode[] } | null
  seek: { bytes: number, nodes: TreeNode[] } | null
  upgrade: { start: number, length: number, nodes: TreeNode[], additionalNodes: TreeNode[], signature: Uint8Array } | null
  /**
   * The manifest, still encoded (§2.3): it is the last field of the message, so it is
   * carried as the remaining bytes and decoded by the manifest codec of the crypto layer.
   */
  manifest: Uint8Array | null
}

interface Codec<T> {
  preencode (state: State, value: T): void
  encode (state: State, value: T): void
  decode (state: State): T
}

function uint (state: State): number {
  return c.uint.decode(state)
}

/** `node = uint index ‖ uint size ‖ fixed32 hash`. */
export const node: Codec<TreeNode> = {
  preencode (state, n) {
    c.uint.preencode(state, n.index)
    c.uint.preencode(state, n.size)
    c.fixed32.preencode(state, n.hash)
  },
  encode (state, n) {
    c.uint.encode(state, n.index)
    c.uint.encode(state, n.size)
    c.fixed32.encode(state, n.hash)
  },
  decode (state) {
    const index = uint(state)
    const size = uint(state)
    // Copy: a view would keep the whole frame alive and alias a buffer the caller may reuse.
    // (`new Uint8Array(view)` copies; a Node Buffer's `.slice()` would return another view.)
    const hash = new Uint8Array(c.fixed32.decode(state))
    return { index, size, hash }
  }
}

/** `array(node)` with the MAX_PROOF_NODES cap. */
export const nodeArray: Codec<TreeNode[]> = {
  preencode (state, list) {
    c.uint.preencode(state, list.length)
    for (const n of list) node.preencode(state, n)
  },
  encode (state, list) {
    c.uint.encode(state, list.length)
    for (const n of list) node.encode(state, n)
  },
  decode (state) {
    const len = uint(state)
    if (len > MAX_PROOF_NODES) throw HypercoreError.DECODING_ERROR(`proof node list too long (${len} > ${MAX_PROOF_NODES})`)
    const out: TreeNode[] = []
    for (let i = 0; i < len; i++) out.push(node.decode(state))
    return out
  }
}

const REQ_BLOCK = 1
const REQ_HASH = 2
const REQ_SEEK = 4
const REQ_UPGRADE = 8
const REQ_MANIFEST = 16
const REQ_PRIORITY = 32

function requestFlags (m: RequestMessage): number {
  return (m.block ? REQ_BLOCK : 0) | (m.hash ? REQ_HASH : 0) | (m.seek ? REQ_SEEK : 0) |
    (m.upgrade ? REQ_UPGRADE : 0) | (m.manifest ? REQ_MANIFEST : 0) | (m.priority ? REQ_PRIORITY : 0)
}

function eachRequestUint (m: RequestMessage, fn: (n: number) => void): void {
  fn(requestFlags(m))
  fn(m.id)
  fn(m.fork)
  if (m.block) { fn(m.block.index); fn(m.block.nodes) }
  if (m.hash) { fn(m.hash.index); fn(m.hash.nodes) }
  if (m.seek) { fn(m.seek.bytes); fn(m.seek.padding) }
  if (m.upgrade) { fn(m.upgrade.start); fn(m.upgrade.length) }
  if (m.priority) fn(m.priority)
}

/** The `request` message (type 1). */
export const request: Codec<RequestMessage> = {
  preencode (state, m) { eachRequestUint(m, (n) => c.uint.preencode(state, n)) },
  encode (state, m) { eachRequestUint(m, (n) => c.uint.encode(state, n)) },
  decode (state) {
    return guard(() => {
      const flags = uint(state)
      const id = uint(state)
      const fork = uint(state)
      const block = flags & REQ_BLOCK ? { index: uint(state), nodes: uint(state) } : null
      const hash = flags & REQ_HASH ? { index: uint(state), nodes: uint(state) } : null
      const seek = flags & REQ_SEEK ? { bytes: uint(state), padding: uint(state) } : null
      const upgrade = flags & REQ_UPGRADE ? { start: uint(state), length: uint(state) } : null
      const priority = flags & REQ_PRIORITY ? uint(state) : 0
      return { id, fork, block, hash, seek, upgrade, manifest: (flags & REQ_MANIFEST) !== 0, priority }
    })
  }
}

const DATA_BLOCK = 1
const DATA_HASH = 2
const DATA_SEEK = 4
const DATA_UPGRADE = 8
const DATA_MANIFEST = 16

function dataFlags (m: DataMessage): number {
  return (m.block ? DATA_BLOCK : 0) | (m.hash ? DATA_HASH : 0) | (m.seek ? DATA_SEEK : 0) |
    (m.upgrade ? DATA_UPGRADE : 0) | (m.manifest ? DATA_MANIFEST : 0)
}

/** The `data` message (type 3). */
export const data: Codec<DataMessage> = {
  preencode (state, m) {
    c.uint.preencode(state, dataFlags(m))
    c.uint.preencode(state, m.request)
    c.uint.preencode(state, m.fork)
    if (m.block) {
      c.uint.preencode(state, m.block.index)
      c.buffer.preencode(state, m.block.value)
      nodeArray.preencode(state, m.block.nodes)
    }
    if (m.hash) {
      c.uint.preencode(state, m.hash.index)
      nodeArray.preencode(state, m.hash.nodes)
    }
    if (m.seek) {
      c.uint.preencode(state, m.seek.bytes)
      nodeArray.preencode(state, m.seek.nodes)
    }
    if (m.upgrade) {
      c.uint.preencode(state, m.upgrade.start)
      c.uint.preencode(state, m.upgrade.length)
      nodeArray.preencode(state, m.upgrade.nodes)
      nodeArray.preencode(state, m.upgrade.additionalNodes)
      c.buffer.preencode(state, m.upgrade.signature)
    }
    if (m.manifest) c.raw.preencode(state, m.manifest)
  },
  encode (state, m) {
    c.uint.encode(state, dataFlags(m))
    c.uint.encode(state, m.request)
    c.uint.encode(state, m.fork)
    if (m.block) {
      c.uint.encode(state, m.block.index)
      c.buffer.encode(state, m.block.value)
      nodeArray.encode(state, m.block.nodes)
    }
    if (m.hash) {
      c.uint.encode(state, m.hash.index)
      nodeArray.encode(state, m.hash.nodes)
    }
    if (m.seek) {
      c.uint.encode(state, m.seek.bytes)
      nodeArray.encode(state, m.seek.nodes)
    }
    if (m.upgrade) {
      c.uint.encode(state, m.upgrade.start)
      c.uint.encode(state, m.upgrade.length)
      nodeArray.encode(state, m.upgrade.nodes)
      nodeArray.encode(state, m.upgrade.additionalNodes)
      c.buffer.encode(state, m.upgrade.signature)
    }
    if (m.manifest) c.raw.encode(state, m.manifest)
  },
  decode (state) {
    return guard(() => {
      const flags = uint(state)
      const requestId = uint(state)
      const fork = uint(state)
      const block = flags & DATA_BLOCK
        ? { index: uint(state), value: view(state), nodes: nodeArray.decode(state) }
        : null
      const hash = flags & DATA_HASH ? { index: uint(state), nodes: nodeArray.decode(state) } : null
      const seek = flags & DATA_SEEK ? { bytes: uint(state), nodes: nodeArray.decode(state) } : null
      const upgrade = flags & DATA_UPGRADE
        ? {
            start: uint(state),
            length: uint(state),
            nodes: nodeArray.decode(state),
            additionalNodes: nodeArray.decode(state),
            signature: bytes(state)
          }
        : null
      const manifest = flags & DATA_MANIFEST ? c.raw.decode(state).slice() : null
      if (manifest !== null && manifest.byteLength === 0) throw HypercoreError.DECODING_ERROR('manifest flag set but no manifest bytes')
      return { request: requestId, fork, block, hash, seek, upgrade, manifest }
    })
  }
}

/**
 * A block's `buffer` as a view into the message, not a copy: the block is the bulk of every data
 * message (64 KiB and more), and its one consumer hashes it and writes it to storage, which
 * copies. The message bytes are the secret stream's fresh plaintext, never reused, so a view is
 * as safe as a copy there; it keeps that plaintext (one batch, a few hundred KiB at most) alive
 * while the block is referenced.
 */
function view (state: State): Uint8Array {
  const b = c.buffer.decode(state) as Uint8Array | null
  return b === null ? new Uint8Array(0) : b
}

/** `buffer`: a null and an empty buffer share the bytes `00`; we always decode to a (possibly empty) copy. */
function bytes (state: State): Uint8Array {
  const b = c.buffer.decode(state) as Uint8Array | null
  return b === null ? new Uint8Array(0) : b.slice()
}

/** Runs a decoder and turns every failure (compact-encoding throws plain Errors) into DECODING_ERROR. */
function guard<T> (fn: () => T): T {
  try {
    return fn()
  } catch (err) {
    if (HypercoreError.is(err, 'DECODING_ERROR')) throw err
    throw HypercoreError.DECODING_ERROR(err instanceof Error ? err.message : 'malformed message', err)
  }
}

function encodeWith<T> (codec: Codec<T>, value: T): Uint8Array {
  const state = c.state()
  codec.preencode(state, value)
  state.buffer = new Uint8Array(state.end)
  codec.encode(state, value)
  return state.buffer
}

function decodeWith<T> (codec: Codec<T>, buf: Uint8Array): T {
  return guard(() => codec.decode(c.state(0, buf.byteLength, buf)))
}

export function encodeRequest (m: RequestMessage): Uint8Array { return encodeWith(request, m) }
export function decodeRequest (buf: Uint8Array): RequestMessage { return decodeWith(request, buf) }
export function encodeData (m: DataMessage): Uint8Array { return encodeWith(data, m) }
export function decodeData (buf: Uint8Array): DataMessage { return decodeWith(data, buf) }
export function encodeNode (n: TreeNode): Uint8Array { return encodeWith(node, n) }
export function decodeNode (buf: Uint8Array): TreeNode { return decodeWith(node, buf) }
