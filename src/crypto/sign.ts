/**
 * @module crypto/sign
 * Ed25519 key pairs, signing and verification (spec §1.2). Key pairs use libsodium's layout:
 * secretKey (64) = seed (32) ‖ publicKey (32), which is also what hypercore@10 stores.
 *
 * sign/verify call the raw module through the shared heap scratch (heap.ts). Speed is the same
 * as the wrappers (measured: the curve arithmetic dominates, per-call mallocs do not matter
 * here); the reason is hygiene: we wipe the secret key from the scratch after each use,
 * whereas the wrappers free their copy without clearing it.
 */
import { HypercoreError } from '../errors.js'
import { _assertBytes, equalBytes } from './bytes.js'
import { _acquire, _hi, _lo, _release, _scratch } from './heap.js'
import { raw } from './sodium.js'
import type { KeyPair } from './types.js'

export type { KeyPair }

export const PUBLIC_KEY_BYTES = 32
export const SECRET_KEY_BYTES = 64
export const SEED_BYTES = 32
export const SIGNATURE_BYTES = 64

/**
 * Fresh random bytes from crypto.getRandomValues (libsodium's own randombytes in WASM draws
 * from the same source, one u32 per output byte). Filled in 64 KiB pieces, the most one
 * getRandomValues call may fill.
 */
export function randomBytes (n: number): Uint8Array {
  if (!Number.isInteger(n) || n < 0) throw HypercoreError.BAD_ARGUMENT('randomBytes length must be a non-negative integer')
  raw() // like every crypto call, only after cryptoReady() (which also checked getRandomValues exists)
  const out = new Uint8Array(n)
  for (let off = 0; off < n; off += 65536) globalThis.crypto.getRandomValues(out.subarray(off, Math.min(n, off + 65536)))
  return out
}

/** A key pair from a 32-byte seed (deterministic), or a random one when no seed is given. */
export function keyPair (seed?: Uint8Array): KeyPair {
  if (seed === undefined) seed = randomBytes(SEED_BYTES)
  _assertBytes(seed, 'seed', SEED_BYTES)
  const r = raw()
  const base = _scratch(32 + 64 + 32)
  r.HEAPU8.set(seed, base + 96)
  if (r._crypto_sign_seed_keypair(base, base + 32, base + 96) !== 0) throw HypercoreError.ASSERTION('crypto_sign_seed_keypair failed')
  const heap = r.HEAPU8
  const result = { publicKey: heap.slice(base, base + 32), secretKey: heap.slice(base + 32, base + 96) }
  heap.fill(0, base + 32, base + 128) // do not leave secrets in the shared scratch
  return result
}

/** Detached Ed25519 signature (64 bytes) of `message`. */
export function sign (message: Uint8Array, secretKey: Uint8Array): Uint8Array {
  _assertBytes(message, 'message')
  _assertBytes(secretKey, 'secretKey', SECRET_KEY_BYTES)
  const r = raw()
  const len = message.byteLength
  const base = _acquire(64 + 64 + len)
  try {
    r.HEAPU8.set(secretKey, base + 64)
    r.HEAPU8.set(message, base + 128)
    const rc = r._crypto_sign_detached(base, 0, base + 128, _lo(len), _hi(len), base + 64)
    const heap = r.HEAPU8
    heap.fill(0, base + 64, base + 128)
    if (rc !== 0) throw HypercoreError.ASSERTION('crypto_sign_detached failed')
    return heap.slice(base, base + 64)
  } finally {
    _release(base)
  }
}

/**
 * Verifies a detached Ed25519 signature. Returns false (never throws) for a signature or
 * public key of the wrong length, as for any invalid signature; non-Uint8Array arguments
 * are programming errors and throw BAD_ARGUMENT.
 */
export function verify (message: Uint8Array, signature: Uint8Array, publicKey: Uint8Array): boolean {
  _assertBytes(message, 'message')
  _assertBytes(signature, 'signature')
  _assertBytes(publicKey, 'publicKey')
  if (signature.byteLength !== SIGNATURE_BYTES || publicKey.byteLength !== PUBLIC_KEY_BYTES) return false
  const r = raw()
  const len = message.byteLength
  const base = _acquire(64 + 32 + len)
  try {
    r.HEAPU8.set(signature, base)
    r.HEAPU8.set(publicKey, base + 64)
    r.HEAPU8.set(message, base + 96)
    return r._crypto_sign_verify_detached(base, base + 96, _lo(len), _hi(len), base + 64) === 0
  } finally {
    _release(base)
  }
}

/**
 * True when `kp.secretKey` is a well-formed libsodium secret key whose seed derives
 * `kp.publicKey` (and whose embedded public half matches). False for wrong lengths.
 */
export function validateKeyPair (kp: KeyPair): boolean {
  if (kp === null || typeof kp !== 'object') throw HypercoreError.BAD_ARGUMENT('keyPair must be an object')
  _assertBytes(kp.publicKey, 'publicKey')
  _assertBytes(kp.secretKey, 'secretKey')
  if (kp.publicKey.byteLength !== PUBLIC_KEY_BYTES || kp.secretKey.byteLength !== SECRET_KEY_BYTES) return false
  const derived = keyPair(kp.secretKey.subarray(0, SEED_BYTES))
  return equalBytes(derived.publicKey, kp.publicKey) && equalBytes(kp.secretKey.subarray(32), kp.publicKey)
}
