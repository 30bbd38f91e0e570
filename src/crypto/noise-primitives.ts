/**
 * @module crypto/noise-primitives
 * The libsodium primitives Hypercore's Noise handshake (spec §5.3, replication/noise/) needs
 * besides BLAKE2b: SHA-512 (the Ed25519 scalar of a seed), Ed25519 scalar multiplication
 * without clamping (the DH) and ChaCha20-Poly1305 IETF (the handshake's cipher). Called through
 * the WASM heap scratch (heap.ts), as the hot paths are; inputs that are secret (seeds,
 * scalars, keys) and their products are wiped from the heap after each call.
 */
import { HypercoreError } from '../errors.js'
import { _assertBytes } from './bytes.js'
import { _acquire, _lo, _hi, _release, _scratch } from './heap.js'
import { raw } from './sodium.js'

/** Poly1305 tag length of ChaCha20-Poly1305. */
export const AEAD_TAG_BYTES = 16

/** SHA-512 of `data` (64 bytes). */
export function sha512 (data: Uint8Array): Uint8Array {
  _assertBytes(data, 'data')
  const r = raw()
  const len = data.byteLength
  const base = _acquire(64 + len)
  try {
    r.HEAPU8.set(data, base + 64)
    r._crypto_hash_sha512(base, base + 64, _lo(len), _hi(len))
    const heap = r.HEAPU8
    const out = heap.slice(base, base + 64)
    heap.fill(0, base, base + 64 + len)
    return out
  } finally {
    _release(base)
  }
}

/**
 * `scalar · point` on Ed25519, the scalar used as given (libsodium's
 * `crypto_scalarmult_ed25519_noclamp`), or null when libsodium refuses: a non-canonical,
 * small-order or off-subgroup point, or an identity (or zero-scalar) result.
 */
export function scalarmultEd25519Noclamp (scalar: Uint8Array, point: Uint8Array): Uint8Array | null {
  _assertBytes(scalar, 'scalar', 32)
  _assertBytes(point, 'point', 32)
  const r = raw()
  const base = _scratch(96) // [q 32][n 32][p 32]
  r.HEAPU8.set(scalar, base + 32)
  r.HEAPU8.set(point, base + 64)
  const rc = r._crypto_scalarmult_ed25519_noclamp(base, base + 32, base + 64)
  const heap = r.HEAPU8
  const out = rc === 0 ? heap.slice(base, base + 32) : null
  heap.fill(0, base, base + 96)
  return out
}

/** ChaCha20-Poly1305 IETF encryption: ciphertext ‖ 16-byte tag. `nonce` is 12 bytes, `key` 32. */
export function chacha20poly1305Encrypt (plaintext: Uint8Array, ad: Uint8Array, nonce: Uint8Array, key: Uint8Array): Uint8Array {
  _assertBytes(plaintext, 'plaintext')
  _assertBytes(ad, 'ad')
  _assertBytes(nonce, 'nonce', 12)
  _assertBytes(key, 'key', 32)
  const r = raw()
  const mlen = plaintext.byteLength
  const clen = mlen + AEAD_TAG_BYTES
  const alen = ad.byteLength
  // [key 32][nonce 12, pad 4][ad][m][c]
  const base = _acquire(48 + alen + mlen + clen)
  const a = base + 48
  const m = a + alen
  const c = m + mlen
  try {
    r.HEAPU8.set(key, base)
    r.HEAPU8.set(nonce, base + 32)
    r.HEAPU8.set(ad, a)
    r.HEAPU8.set(plaintext, m)
    const rc = r._crypto_aead_chacha20poly1305_ietf_encrypt(c, 0, m, _lo(mlen), _hi(mlen), a, _lo(alen), _hi(alen), 0, base + 32, base)
    const heap = r.HEAPU8
    const out = heap.slice(c, c + clen)
    heap.fill(0, base, c + clen)
    if (rc !== 0) throw HypercoreError.ASSERTION('crypto_aead_chacha20poly1305_ietf_encrypt failed')
    return out
  } finally {
    _release(base)
  }
}

/**
 * ChaCha20-Poly1305 IETF decryption of ciphertext ‖ tag: the plaintext, or null when the
 * input is shorter than a tag or fails authentication.
 */
export function chacha20poly1305Decrypt (ciphertext: Uint8Array, ad: Uint8Array, nonce: Uint8Array, key: Uint8Array): Uint8Array | null {
  _assertBytes(ciphertext, 'ciphertext')
  _assertBytes(ad, 'ad')
  _assertBytes(nonce, 'nonce', 12)
  _assertBytes(key, 'key', 32)
  const clen = ciphertext.byteLength
  if (clen < AEAD_TAG_BYTES) return null
  const r = raw()
  const mlen = clen - AEAD_TAG_BYTES
  const alen = ad.byteLength
  // [key 32][nonce 12, pad 4][ad][c][m]
  const base = _acquire(48 + alen + clen + mlen)
  const a = base + 48
  const c = a + alen
  const m = c + clen
  try {
    r.HEAPU8.set(key, base)
    r.HEAPU8.set(nonce, base + 32)
    r.HEAPU8.set(ad, a)
    r.HEAPU8.set(ciphertext, c)
    const rc = r._crypto_aead_chacha20poly1305_ietf_decrypt(m, 0, 0, c, _lo(clen), _hi(clen), a, _lo(alen), _hi(alen), base + 32, base)
    const heap = r.HEAPU8
    const out = rc === 0 ? heap.slice(m, m + mlen) : null
    heap.fill(0, base, m + mlen)
    return out
  } finally {
    _release(base)
  }
}
