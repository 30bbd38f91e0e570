/**
 * @module replication/noise/symmetric-state
 * Noise's CipherState and SymmetricState (Noise spec §5.1–5.2) instantiated the way
 * Hypercore's handshake does it (spec §5.3): hash BLAKE2b-512 (HASHLEN = 64, BLOCKLEN = 128),
 * HMAC-BLAKE2b-512 based HKDF, and ChaCha20-Poly1305 IETF with the 12-byte nonce
 * `0x00000000 ‖ u64le(n)`. Keys are 32 bytes: HKDF outputs (64 bytes) are truncated.
 */
import { HypercoreError } from '../../errors.js'
import { blake2bParts, chacha20poly1305Decrypt, chacha20poly1305Encrypt } from '../../crypto/index.js'

export const HASHLEN = 64
export const BLOCKLEN = 128
export const KEYLEN = 32
export const TAGLEN = 16

const EMPTY = new Uint8Array(0)
const ONE = new Uint8Array([0x01])
const TWO = new Uint8Array([0x02])

function _hash (...parts: Uint8Array[]): Uint8Array {
  return blake2bParts(parts, HASHLEN)
}

/** HMAC-BLAKE2b-512 (RFC 2104 with a 128-byte block; keys longer than a block are hashed first). */
export function hmac (key: Uint8Array, ...data: Uint8Array[]): Uint8Array {
  const k = new Uint8Array(BLOCKLEN)
  k.set(key.byteLength > BLOCKLEN ? _hash(key) : key)
  const ipad = new Uint8Array(BLOCKLEN)
  const opad = new Uint8Array(BLOCKLEN)
  for (let i = 0; i < BLOCKLEN; i++) {
    ipad[i] = k[i]! ^ 0x36
    opad[i] = k[i]! ^ 0x5c
  }
  const inner = _hash(ipad, ...data)
  const out = _hash(opad, inner)
  k.fill(0); ipad.fill(0); opad.fill(0); inner.fill(0)
  return out
}

/** Noise HKDF with two outputs: `prk = HMAC(ck, ikm)`, `t1 = HMAC(prk, 0x01)`, `t2 = HMAC(prk, t1 ‖ 0x02)`. */
export function hkdf (chainingKey: Uint8Array, ikm: Uint8Array): [Uint8Array, Uint8Array] {
  const prk = hmac(chainingKey, ikm)
  const t1 = hmac(prk, ONE)
  const t2 = hmac(prk, t1, TWO)
  prk.fill(0)
  return [t1, t2]
}

function _nonce (n: number): Uint8Array {
  // 4 zero bytes, then n as u64le. n never exceeds a handful in a handshake.
  const nonce = new Uint8Array(12)
  let x = n
  for (let i = 4; i < 12; i++) { nonce[i] = x & 0xff; x = Math.floor(x / 256) }
  return nonce
}

/** A ChaCha20-Poly1305 key with its nonce counter (Noise CipherState). */
export class CipherState {
  private _k: Uint8Array | null = null
  private _n = 0

  get hasKey (): boolean { return this._k !== null }

  initializeKey (key: Uint8Array): void {
    this._k?.fill(0)
    this._k = key.slice(0, KEYLEN)
    this._n = 0
  }

  encryptWithAd (ad: Uint8Array, plaintext: Uint8Array): Uint8Array {
    if (this._k === null) return plaintext
    const out = chacha20poly1305Encrypt(plaintext, ad, _nonce(this._n), this._k)
    this._n++
    return out
  }

  decryptWithAd (ad: Uint8Array, ciphertext: Uint8Array): Uint8Array {
    if (this._k === null) return ciphertext
    if (ciphertext.byteLength < TAGLEN) throw HypercoreError.INVALID_HANDSHAKE('handshake ciphertext is shorter than its tag')
    const out = chacha20poly1305Decrypt(ciphertext, ad, _nonce(this._n), this._k)
    if (out === null) throw HypercoreError.INVALID_HANDSHAKE('handshake message failed authentication')
    this._n++
    return out
  }

  destroy (): void {
    this._k?.fill(0)
    this._k = null
  }
}

/** Noise SymmetricState: chaining key `ck`, handshake hash `h` and the current CipherState. */
export class SymmetricState {
  readonly cipher = new CipherState()
  private _ck: Uint8Array
  private _h: Uint8Array

  /** InitializeSymmetric(protocolName): h = name zero-padded to HASHLEN (or hashed if longer), ck = h. */
  constructor (protocolName: Uint8Array) {
    if (protocolName.byteLength <= HASHLEN) {
      this._h = new Uint8Array(HASHLEN)
      this._h.set(protocolName)
    } else {
      this._h = _hash(protocolName)
    }
    this._ck = this._h.slice()
  }

  /** The current handshake hash (a copy). */
  get handshakeHash (): Uint8Array { return this._h.slice() }

  mixHash (data: Uint8Array): void {
    this._h = _hash(this._h, data)
  }

  mixKey (ikm: Uint8Array): void {
    const [ck, k] = hkdf(this._ck, ikm)
    this._ck.fill(0)
    this._ck = ck
    this.cipher.initializeKey(k)
    k.fill(0)
  }

  /** Encrypts with h as AD (plaintext as is before the first key) and mixes the ciphertext into h. */
  encryptAndHash (plaintext: Uint8Array): Uint8Array {
    const c = this.cipher.encryptWithAd(this._h, plaintext)
    this.mixHash(c)
    return c
  }

  /** Decrypts with h as AD and mixes the *ciphertext* into h — even when it is empty (spec §5.3, message 1). */
  decryptAndHash (ciphertext: Uint8Array): Uint8Array {
    const p = this.cipher.decryptWithAd(this._h, ciphertext)
    this.mixHash(ciphertext)
    return p
  }

  /** Split(): the two 32-byte transport keys, (initiator→responder, responder→initiator). */
  split (): [Uint8Array, Uint8Array] {
    const [t1, t2] = hkdf(this._ck, EMPTY)
    const k1 = t1.slice(0, KEYLEN)
    const k2 = t2.slice(0, KEYLEN)
    t1.fill(0); t2.fill(0)
    return [k1, k2]
  }

  destroy (): void {
    this._ck.fill(0)
    this.cipher.destroy()
  }
}
