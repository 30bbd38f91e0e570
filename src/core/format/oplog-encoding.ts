/**
 * @module core/format/oplog-encoding
 * compact-encoding codecs for what the oplog stores (spec §6.1): the header (version 1 written,
 * versions 0 and 1 read) and the entries that replay appends, truncations and user data on top
 * of the flushed tree/bitfield/header. Byte-exact with hypercore@10 (vectors `compat.storage*`).
 * Decoding never throws anything but a HypercoreError (DECODING_ERROR, or INVALID_OPLOG_VERSION
 * for a header from the future), so a corrupt file can be told apart from a bug.
 */
import c from 'compact-encoding'
import { HypercoreError } from '../../errors.js'
import { defaultManifest, manifestEncoding } from '../../crypto/manifest.js'
import { node as treeNodeEncoding } from '../../wire/proof-messages.js'
import type {
  ExternalHeaderPointer, HeaderHints, KeyPairRecord, OplogEntry, ReorgHint, StoredHeader, TreeHeader,
  TreeUpgrade, BitfieldUpdate, UserDataRecord, OplogHeader
} from './oplog-types.js'

export type * from './oplog-types.js'

type State = ReturnType<typeof c.state>

/**
 * compact-encoding 2.x `buffer` semantics, which hypercore@10 uses (§1.1): null and empty both
 * encode as `00` and both decode to null. (compact-encoding 3's `buffer` rejects null and
 * decodes `00` as an empty array; its `optionalBuffer` has the 2.x behaviour.)
 */
const buf = c.optionalBuffer as unknown as Codec<Uint8Array | null>

/** A compact-encoding codec, as `compact-encoding` and our other layers shape them. */
export interface Codec<T> {
  preencode: (state: State, value: T) => void
  encode: (state: State, value: T) => void
  decode: (state: State) => T
}

/** The header version we write. Version 0 (early v10 alphas) is read only. */
export const OPLOG_HEADER_VERSION = 1

// --- small pieces ------------------------------------------------------------------------

/**
 * Copies decoded bytes out of the (possibly big, reused) read buffer into a plain Uint8Array.
 * Not `b.slice()`: storages may hand us a Node Buffer, whose `slice` is a view.
 */
function _own (b: Uint8Array | null): Uint8Array | null {
  return b === null ? null : new Uint8Array(b)
}

const keyPairEnc: Codec<KeyPairRecord> = {
  preencode (state, kp) {
    buf.preencode(state, kp.publicKey)
    buf.preencode(state, kp.secretKey)
  },
  encode (state, kp) {
    buf.encode(state, kp.publicKey)
    buf.encode(state, kp.secretKey)
  },
  decode (state) {
    const publicKey = _own(buf.decode(state))
    const secretKey = _own(buf.decode(state))
    if (publicKey === null) throw HypercoreError.DECODING_ERROR('oplog key pair has no public key')
    return { publicKey, secretKey }
  }
}

const userDataEnc: Codec<UserDataRecord> = {
  preencode (state, u) {
    c.string.preencode(state, u.key)
    buf.preencode(state, u.value)
  },
  encode (state, u) {
    c.string.encode(state, u.key)
    buf.encode(state, u.value)
  },
  decode (state) {
    return { key: c.string.decode(state), value: _own(buf.decode(state)) }
  }
}
const userDataArray = c.array(userDataEnc)

const treeHeaderEnc: Codec<TreeHeader> = {
  preencode (state, t) {
    c.uint.preencode(state, t.fork)
    c.uint.preencode(state, t.length)
    buf.preencode(state, t.rootHash)
    buf.preencode(state, t.signature)
  },
  encode (state, t) {
    c.uint.encode(state, t.fork)
    c.uint.encode(state, t.length)
    buf.encode(state, t.rootHash)
    buf.encode(state, t.signature)
  },
  decode (state) {
    return {
      fork: c.uint.decode(state),
      length: c.uint.decode(state),
      rootHash: _own(buf.decode(state)),
      signature: _own(buf.decode(state))
    }
  }
}

const reorgHintEnc: Codec<ReorgHint> = {
  preencode (state, r) {
    c.uint.preencode(state, r.from)
    c.uint.preencode(state, r.to)
    c.uint.preencode(state, r.ancestors)
  },
  encode (state, r) {
    c.uint.encode(state, r.from)
    c.uint.encode(state, r.to)
    c.uint.encode(state, r.ancestors)
  },
  decode (state) {
    return { from: c.uint.decode(state), to: c.uint.decode(state), ancestors: c.uint.decode(state) }
  }
}
const reorgArray = c.array(reorgHintEnc)

const hintsEnc: Codec<HeaderHints> = {
  preencode (state, h) {
    reorgArray.preencode(state, h.reorgs)
    c.uint.preencode(state, h.contiguousLength)
  },
  encode (state, h) {
    reorgArray.encode(state, h.reorgs)
    c.uint.encode(state, h.contiguousLength)
  },
  decode (state) {
    const reorgs = reorgArray.decode(state)
    // contiguousLength was added later in v10: headers that end after the reorgs mean 0.
    const contiguousLength = state.start < state.end ? c.uint.decode(state) : 0
    return { reorgs, contiguousLength }
  }
}

// The oplog stores tree nodes in the same layout as the wire (`uint index ‖ uint size ‖ fixed32 hash`).
const treeNodeArray = c.array(treeNodeEncoding)

const treeUpgradeEnc: Codec<TreeUpgrade> = {
  preencode (state, u) {
    c.uint.preencode(state, u.fork)
    c.uint.preencode(state, u.ancestors)
    c.uint.preencode(state, u.length)
    buf.preencode(state, u.signature)
  },
  encode (state, u) {
    c.uint.encode(state, u.fork)
    c.uint.encode(state, u.ancestors)
    c.uint.encode(state, u.length)
    buf.encode(state, u.signature)
  },
  decode (state) {
    return {
      fork: c.uint.decode(state),
      ancestors: c.uint.decode(state),
      length: c.uint.decode(state),
      signature: _own(buf.decode(state))
    }
  }
}

const bitfieldUpdateEnc: Codec<BitfieldUpdate> = {
  preencode (state, b) {
    c.uint8.preencode(state, 0)
    c.uint.preencode(state, b.start)
    c.uint.preencode(state, b.length)
  },
  encode (state, b) {
    c.uint8.encode(state, b.drop ? 1 : 0)
    c.uint.encode(state, b.start)
    c.uint.encode(state, b.length)
  },
  decode (state) {
    const flags = c.uint8.decode(state)
    return { drop: (flags & 1) !== 0, start: c.uint.decode(state), length: c.uint.decode(state) }
  }
}

// --- header ------------------------------------------------------------------------------

function _isExternal (h: StoredHeader): h is ExternalHeaderPointer {
  return h.external !== null
}

/**
 * The oplog header codec (§6.1). Writes version 1 only; reads versions 0 and 1. A header with
 * a higher version throws INVALID_OPLOG_VERSION (a newer format, not corruption).
 */
export const oplogHeaderEncoding: Codec<StoredHeader> = {
  preencode (state, h) {
    state.end += 2 // version, flags: both single-byte varints
    if (_isExternal(h)) {
      c.uint.preencode(state, h.external.start)
      c.uint.preencode(state, h.external.length)
      return
    }
    c.fixed32.preencode(state, h.key)
    if (h.manifest !== null) manifestEncoding.preencode(state, h.manifest)
    if (h.keyPair !== null) keyPairEnc.preencode(state, h.keyPair)
    userDataArray.preencode(state, h.userData)
    treeHeaderEnc.preencode(state, h.tree)
    hintsEnc.preencode(state, h.hints)
  },
  encode (state, h) {
    c.uint.encode(state, OPLOG_HEADER_VERSION)
    if (_isExternal(h)) {
      c.uint.encode(state, 1)
      c.uint.encode(state, h.external.start)
      c.uint.encode(state, h.external.length)
      return
    }
    c.uint.encode(state, (h.manifest !== null ? 2 : 0) | (h.keyPair !== null ? 4 : 0))
    c.fixed32.encode(state, h.key)
    if (h.manifest !== null) manifestEncoding.encode(state, h.manifest)
    if (h.keyPair !== null) keyPairEnc.encode(state, h.keyPair)
    userDataArray.encode(state, h.userData)
    treeHeaderEnc.encode(state, h.tree)
    hintsEnc.encode(state, h.hints)
  },
  decode (state) {
    const version = c.uint.decode(state)
    if (version === 0) return _decodeHeaderV0(state)
    if (version !== 1) throw HypercoreError.INVALID_OPLOG_VERSION(`Invalid header version ${version}: this reads oplog headers 0 and 1`)
    const flags = c.uint.decode(state)
    if ((flags & 1) !== 0) return { external: { start: c.uint.decode(state), length: c.uint.decode(state) } }
    const key = new Uint8Array(c.fixed32.decode(state))
    const manifest = (flags & 2) !== 0 ? manifestEncoding.decode(state) : null
    const keyPair = (flags & 4) !== 0 ? keyPairEnc.decode(state) : null
    return {
      external: null,
      key,
      manifest,
      keyPair,
      userData: userDataArray.decode(state),
      tree: treeHeaderEnc.decode(state),
      hints: hintsEnc.decode(state)
    }
  }
}

/**
 * Version 0 (§6.1): `types{tree, bitfield, signer} ‖ userData ‖ tree ‖ keyPair ‖ hints`, key =
 * the signer's public key. Such a core is compat, so its manifest is the default single-signer
 * manifest of that key (§2.3); that is what we hand back and what a re-flush writes as v1.
 */
function _decodeHeaderV0 (state: State): OplogHeader {
  const treeType = c.string.decode(state)
  c.string.decode(state) // bitfield type: informational only
  const signerType = c.string.decode(state)
  if (treeType !== 'blake2b' || signerType !== 'ed25519') {
    throw HypercoreError.DECODING_ERROR(`unsupported v0 oplog header types (tree ${treeType}, signer ${signerType})`)
  }
  const userData = userDataArray.decode(state)
  const tree = treeHeaderEnc.decode(state)
  const signer = keyPairEnc.decode(state)
  const hints = hintsEnc.decode(state)
  if (signer.publicKey.byteLength !== 32) throw HypercoreError.DECODING_ERROR('v0 oplog header: public key must be 32 bytes')
  return {
    external: null,
    key: signer.publicKey,
    manifest: defaultManifest(signer.publicKey),
    keyPair: signer.secretKey !== null ? signer : null,
    userData,
    tree,
    hints
  }
}

// --- entry -------------------------------------------------------------------------------

/** The oplog entry codec (§6.1): flags bit0 userData, bit1 treeNodes, bit2 treeUpgrade, bit3 bitfield. */
export const oplogEntryEncoding: Codec<OplogEntry> = {
  preencode (state, e) {
    state.end++ // flags
    if (e.userData !== null) userDataEnc.preencode(state, e.userData)
    if (e.treeNodes !== null) treeNodeArray.preencode(state, e.treeNodes)
    if (e.treeUpgrade !== null) treeUpgradeEnc.preencode(state, e.treeUpgrade)
    if (e.bitfield !== null) bitfieldUpdateEnc.preencode(state, e.bitfield)
  },
  encode (state, e) {
    const flags = (e.userData !== null ? 1 : 0) | (e.treeNodes !== null ? 2 : 0) |
      (e.treeUpgrade !== null ? 4 : 0) | (e.bitfield !== null ? 8 : 0)
    c.uint.encode(state, flags)
    if (e.userData !== null) userDataEnc.encode(state, e.userData)
    if (e.treeNodes !== null) treeNodeArray.encode(state, e.treeNodes)
    if (e.treeUpgrade !== null) treeUpgradeEnc.encode(state, e.treeUpgrade)
    if (e.bitfield !== null) bitfieldUpdateEnc.encode(state, e.bitfield)
  },
  decode (state) {
    const flags = c.uint.decode(state)
    return {
      userData: (flags & 1) !== 0 ? userDataEnc.decode(state) : null,
      treeNodes: (flags & 2) !== 0 ? treeNodeArray.decode(state) : null,
      treeUpgrade: (flags & 4) !== 0 ? treeUpgradeEnc.decode(state) : null,
      bitfield: (flags & 8) !== 0 ? bitfieldUpdateEnc.decode(state) : null
    }
  }
}

// --- whole-buffer helpers ----------------------------------------------------------------

/** Encodes `value` into a fresh buffer; bad field values throw BAD_ARGUMENT. */
export function encodeWith<T> (codec: Codec<T>, value: T): Uint8Array {
  try {
    const state = c.state()
    codec.preencode(state, value)
    const buffer = new Uint8Array(state.end)
    state.buffer = buffer
    codec.encode(state, value)
    if (state.start !== buffer.byteLength) throw HypercoreError.ASSERTION('encoder wrote a different length than it preencoded')
    return buffer
  } catch (err) {
    if (HypercoreError.is(err)) throw err
    throw HypercoreError.BAD_ARGUMENT(`cannot encode: ${err instanceof Error ? err.message : String(err)}`)
  }
}

/**
 * Decodes `bytes[start, end)` with `codec`. Anything the codec throws that is not already a
 * HypercoreError (compact-encoding's "Out of bounds", "Array is too big", bad UTF-8 …) becomes
 * DECODING_ERROR. With `exact`, unread bytes are an error too.
 */
export function decodeWith<T> (codec: Codec<T>, bytes: Uint8Array, start = 0, end = bytes.byteLength, exact = false): T {
  // Decode from a plain Uint8Array view so that codecs' `.slice()` copies even when the
  // storage handed us a Node Buffer (whose `slice` is a view into the whole read).
  const plain = Object.getPrototypeOf(bytes) === Uint8Array.prototype ? bytes : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const state = c.state(start, end, plain)
  let value: T
  try {
    value = codec.decode(state)
  } catch (err) {
    if (HypercoreError.is(err)) throw err
    throw HypercoreError.DECODING_ERROR(`oplog record: ${err instanceof Error ? err.message : String(err)}`, err)
  }
  if (exact && state.start !== end) throw HypercoreError.DECODING_ERROR(`oplog record: ${end - state.start} trailing bytes`)
  return value
}

export function encodeOplogHeader (header: StoredHeader): Uint8Array {
  return encodeWith(oplogHeaderEncoding, header)
}

/** Decodes a header. Trailing bytes are allowed (later v10 releases appended optional fields). */
export function decodeOplogHeader (bytes: Uint8Array): StoredHeader {
  return decodeWith(oplogHeaderEncoding, bytes)
}

export function encodeOplogEntry (entry: OplogEntry): Uint8Array {
  return encodeWith(oplogEntryEncoding, entry)
}

/** The encoded size of an entry (what `encodeOplogEntryInto` writes). */
export function oplogEntryByteLength (entry: OplogEntry): number {
  try {
    const state = c.state()
    oplogEntryEncoding.preencode(state, entry)
    return state.end
  } catch (err) {
    throw HypercoreError.BAD_ARGUMENT(`cannot encode: ${err instanceof Error ? err.message : String(err)}`)
  }
}

/**
 * Encodes an entry into `buffer` at `offset`, taking exactly `byteLength` bytes (from
 * `oplogEntryByteLength`): a batch of entries is framed in one buffer (oplog.ts) without a
 * buffer and a copy per entry.
 */
export function encodeOplogEntryInto (entry: OplogEntry, buffer: Uint8Array, offset: number, byteLength: number): void {
  const state = c.state(offset, offset + byteLength, buffer)
  try {
    oplogEntryEncoding.encode(state, entry)
  } catch (err) {
    throw HypercoreError.BAD_ARGUMENT(`cannot encode: ${err instanceof Error ? err.message : String(err)}`)
  }
  if (state.start !== offset + byteLength) throw HypercoreError.ASSERTION('encoder wrote a different length than it preencoded')
}

/** Decodes an entry; it must use every byte (its layout is fully given by its flags). */
export function decodeOplogEntry (bytes: Uint8Array): OplogEntry {
  return decodeWith(oplogEntryEncoding, bytes, 0, bytes.byteLength, true)
}
