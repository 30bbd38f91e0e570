/**
 * @module crypto/block-encryption
 * Hypercore 10 block encryption (spec §4): XSalsa20, no tag (the Merkle tree authenticates
 * the stored bytes), 8 bytes of padding that carry the fork id blinded by a second key.
 *
 *   blockKey    = H_K(E) (compat) | H(BLOCK_ENCRYPTION ‖ K ‖ E) (manifest cores) | E (isBlockKey)
 *   blindingKey = H(blockKey)
 *   pad         = XSalsa20(u64le(fork), nonce = u64le(i) ‖ 0^16, blindingKey)
 *   stored      = pad ‖ XSalsa20(plaintext, nonce = u64le(i) ‖ pad ‖ 0^8, blockKey)
 *
 * XSalsa20 (`crypto_stream_xor`) is not in libsodium-wrappers, so we call the raw sumo
 * export `_crypto_stream_xsalsa20_xor_ic` through the WASM heap (heap.ts scratch).
 */
import { HypercoreError } from '../errors.js'
import { _assertBytes, _assertUint, _writeU64LE } from './bytes.js'
import { BLOCK_ENCRYPTION } from './caps.js'
import { blake2b256, blake2bParts } from './hash.js'
import { _hi, _lo, _scratch } from './heap.js'
import { raw } from './sodium.js'

export const PADDING = 8

export interface BlockEncryptionOptions {
  /** The core is compat (key = public key): selects the keyed-hash derivation. Default true. */
  compat?: boolean
  /** `encryptionKey` is already the block key. */
  isBlockKey?: boolean
}

/** XSalsa20 block size: the `_ic` counter counts 64-byte blocks, which lets us stream in chunks. */
const CHUNK = 64 * 1024

/**
 * `out = input XOR XSalsa20(key, nonce)` through the raw module, in CHUNK-sized pieces (with
 * the block counter `ic` = offset / 64) so a 15 MiB block never needs a 15 MiB heap copy.
 * Layout in scratch: [key 32][nonce 24][chunk]; the key and data are wiped afterwards.
 */
export function xsalsa20Xor (input: Uint8Array, nonce: Uint8Array, key: Uint8Array): Uint8Array {
  _assertBytes(input, 'input')
  _assertBytes(nonce, 'nonce', 24)
  _assertBytes(key, 'key', 32)
  const r = raw()
  const out = new Uint8Array(input.byteLength)
  const base = _scratch(56 + Math.min(CHUNK, input.byteLength))
  r.HEAPU8.set(key, base)
  r.HEAPU8.set(nonce, base + 32)
  const data = base + 56
  let rc = 0
  for (let off = 0; off < input.byteLength && rc === 0; off += CHUNK) {
    const piece = input.subarray(off, Math.min(off + CHUNK, input.byteLength))
    const ic = off / 64
    r.HEAPU8.set(piece, data)
    rc = r._crypto_stream_xsalsa20_xor_ic(data, data, piece.byteLength, 0, base + 32, _lo(ic), _hi(ic), base)
    out.set(r.HEAPU8.subarray(data, data + piece.byteLength), off)
  }
  r.HEAPU8.fill(0, base, data + Math.min(CHUNK, input.byteLength))
  if (rc !== 0) throw HypercoreError.ASSERTION('crypto_stream_xsalsa20_xor_ic failed')
  return out
}

export class BlockEncryption {
  readonly padding = PADDING
  readonly blockKey: Uint8Array
  readonly blindingKey: Uint8Array
  readonly compat: boolean

  constructor (encryptionKey: Uint8Array, coreKey: Uint8Array, opts: BlockEncryptionOptions = {}) {
    _assertBytes(encryptionKey, 'encryptionKey', 32)
    _assertBytes(coreKey, 'coreKey', 32)
    this.compat = opts.compat !== false
    if (opts.isBlockKey === true) this.blockKey = encryptionKey.slice()
    else if (this.compat) this.blockKey = blake2b256(encryptionKey, coreKey)
    else this.blockKey = blake2bParts([BLOCK_ENCRYPTION, coreKey, encryptionKey])
    this.blindingKey = blake2b256(this.blockKey)
  }

  /** The stored form of block `index` appended at `fork`: pad (8) ‖ ciphertext. */
  encrypt (index: number, plaintext: Uint8Array, fork: number): Uint8Array {
    _assertUint(index, 'index')
    _assertUint(fork, 'fork')
    _assertBytes(plaintext, 'plaintext')
    const nonce = new Uint8Array(24)
    _writeU64LE(nonce, 0, index)
    const forkBytes = new Uint8Array(8)
    _writeU64LE(forkBytes, 0, fork)
    const pad = xsalsa20Xor(forkBytes, nonce, this.blindingKey)
    nonce.set(pad, 8)
    const stored = new Uint8Array(PADDING + plaintext.byteLength)
    stored.set(pad, 0)
    stored.set(xsalsa20Xor(plaintext, nonce, this.blockKey), PADDING)
    return stored
  }

  /** The plaintext of a stored block; the fork is not needed (it rides in the pad). */
  decrypt (index: number, stored: Uint8Array): Uint8Array {
    _assertUint(index, 'index')
    _assertBytes(stored, 'stored')
    if (stored.byteLength < PADDING) throw HypercoreError.BAD_ARGUMENT(`stored block must be at least ${PADDING} bytes`)
    const nonce = new Uint8Array(24)
    _writeU64LE(nonce, 0, index)
    nonce.set(stored.subarray(0, PADDING), 8)
    return xsalsa20Xor(stored.subarray(PADDING), nonce, this.blockKey)
  }
}
