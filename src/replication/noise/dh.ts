/**
 * @module replication/noise/dh
 * The Noise "DH" of Hypercore's handshake (spec §5.3): the curve is Ed25519 itself, not X25519
 * (`noise-curve-ed` in the reference). Key pairs are ordinary libsodium Ed25519 key pairs
 * (secretKey = seed ‖ publicKey), and
 *
 *   DH(local, remotePublic) = compress( clamp(SHA-512(seed)[0..32]) · Point(remotePublic) )
 *
 * computed with libsodium's `crypto_scalarmult_ed25519_noclamp` (sumo build only): we clamp the
 * scalar ourselves, exactly as Ed25519 signing derives its scalar, so the same key pair signs
 * and agrees. libsodium refuses non-canonical encodings, small-order and off-subgroup points
 * and an identity result; any refusal is a malicious or broken peer → INVALID_HANDSHAKE.
 */
import { HypercoreError } from '../../errors.js'
import { keyPair as signKeyPair, scalarmultEd25519Noclamp, sha512, type KeyPair } from '../../crypto/index.js'

export const DH_LEN = 32
export const PUBLIC_KEY_BYTES = 32
export const SECRET_KEY_BYTES = 64

/** A fresh Ed25519 key pair (random), or the one derived from a 32-byte seed. */
export function generateKeyPair (seed?: Uint8Array): KeyPair {
  return signKeyPair(seed)
}

/** Throws BAD_ARGUMENT unless `kp` looks like a libsodium Ed25519 key pair (32-byte public, 64-byte secret). */
export function assertKeyPair (kp: unknown, name: string): asserts kp is KeyPair {
  const k = kp as KeyPair | null
  if (k === null || typeof k !== 'object' ||
    !(k.publicKey instanceof Uint8Array) || k.publicKey.byteLength !== PUBLIC_KEY_BYTES ||
    !(k.secretKey instanceof Uint8Array) || k.secretKey.byteLength !== SECRET_KEY_BYTES) {
    throw HypercoreError.BAD_ARGUMENT(`${name} must be { publicKey: 32 bytes, secretKey: 64 bytes }`)
  }
}

/** The clamped Ed25519 scalar of a secret key's seed (the first 32 bytes of SHA-512(seed)). */
function _scalar (secretKey: Uint8Array): Uint8Array {
  const digest = sha512(secretKey.subarray(0, 32))
  const s = digest.slice(0, 32)
  digest.fill(0)
  s[0]! &= 248
  s[31]! &= 127
  s[31]! |= 64
  return s
}

/**
 * The 32-byte shared point of our secret key and the remote public key. Throws
 * INVALID_HANDSHAKE when libsodium rejects the remote point (or the result is the identity).
 */
export function dh (secretKey: Uint8Array, remotePublicKey: Uint8Array): Uint8Array {
  if (remotePublicKey.byteLength !== PUBLIC_KEY_BYTES) {
    throw HypercoreError.INVALID_HANDSHAKE(`remote public key must be ${PUBLIC_KEY_BYTES} bytes`)
  }
  const s = _scalar(secretKey)
  const shared = scalarmultEd25519Noclamp(s, remotePublicKey)
  s.fill(0)
  if (shared === null) throw HypercoreError.INVALID_HANDSHAKE('remote key is not a usable Ed25519 point')
  return shared
}
