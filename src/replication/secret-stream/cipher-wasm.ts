/**
 * @module replication/secret-stream/cipher-wasm
 * libsodium `crypto_secretstream_xchacha20poly1305` push/pull (spec §5.4), driven through the
 * raw WASM exports instead of the wrappers: the wrappers malloc, copy and free the message and
 * the output on every call and return a fresh array that we would then copy again into the
 * frame. Here a message is copied into one reused heap region, encrypted there, and copied out
 * once — straight into the outgoing frame buffer (`encryptInto`).
 *
 * Each side keeps its 52-byte state in the WASM heap (one `_malloc` per direction per stream),
 * released by `destroy()`. Every message uses tag 0 (MESSAGE) and no additional data, as the
 * reference does; an encrypted message is `plaintext + 17` bytes (1 tag byte, 16 MAC bytes).
 *
 * This is the browser's cipher and the reference for every other one: cipher.node.ts extends
 * these classes and works on the very same heap state (see `_STATE_*` below).
 */
import { HypercoreError } from '../../errors.js'
import { raw, type RawSodium } from '../../crypto/index.js'

/** The secretstream exports of the raw sumo module (u64 lengths split into lo/hi i32 words). */
export interface RawSecretstream extends RawSodium {
  _crypto_secretstream_xchacha20poly1305_statebytes (): number
  _crypto_secretstream_xchacha20poly1305_init_push (state: number, header: number, key: number): number
  _crypto_secretstream_xchacha20poly1305_init_pull (state: number, header: number, key: number): number
  _crypto_secretstream_xchacha20poly1305_push (state: number, c: number, clenP: number, m: number, mlenLo: number, mlenHi: number,
    ad: number, adlenLo: number, adlenHi: number, tag: number): number
  _crypto_secretstream_xchacha20poly1305_pull (state: number, m: number, mlenP: number, tagP: number, c: number, clenLo: number, clenHi: number,
    ad: number, adlenLo: number, adlenHi: number): number
  _crypto_secretstream_xchacha20poly1305_rekey (state: number): void
  _crypto_stream_chacha20_ietf (c: number, clenLo: number, clenHi: number, n: number, k: number): number
}

export const KEY_BYTES = 32
export const HEADER_BYTES = 24
/** Ciphertext overhead: 1 encrypted tag byte + 16-byte Poly1305 MAC. */
export const ABYTES = 17
export const TAG_MESSAGE = 0
/** The tag bit that makes libsodium rekey after the message (hypercore never sends it). */
export const TAG_REKEY = 2

/**
 * Layout of libsodium's `crypto_secretstream_xchacha20poly1305_state` (52 bytes): the
 * HChaCha20 subkey k, then the 12-byte ChaCha20-IETF nonce = u32le counter ‖ 8-byte inonce.
 */
export const _STATE_KEY = 0
export const _STATE_NONCE = 32
export const _STATE_BYTES = 52

/** Messages up to this size go through the shared scratch; bigger ones get a temporary allocation. */
const SCRATCH_MAX = (2 << 20) + 64

let scratchPtr = 0
let scratchSize = 0
let scratchOwner: RawSodium | null = null

function _r (): RawSecretstream {
  const r = raw() as RawSecretstream
  if (typeof r._crypto_secretstream_xchacha20poly1305_push !== 'function') {
    throw HypercoreError.ASSERTION('libsodium build lacks crypto_secretstream_xchacha20poly1305')
  }
  return r
}

/** A heap region of at least `n` bytes: the shared scratch, or a fresh block for huge messages. */
function _acquire (r: RawSodium, n: number): number {
  if (scratchOwner !== r) { scratchPtr = 0; scratchSize = 0; scratchOwner = r }
  if (n > SCRATCH_MAX) return _malloc(r, n)
  if (n > scratchSize) {
    if (scratchPtr !== 0) r._free(scratchPtr)
    scratchPtr = 0
    let next = Math.max(1 << 16, scratchSize)
    while (next < n) next *= 2
    scratchPtr = _malloc(r, next)
    scratchSize = next
  }
  return scratchPtr
}

function _releaseBlock (r: RawSodium, p: number): void {
  if (p !== scratchPtr) r._free(p)
}

function _malloc (r: RawSodium, n: number): number {
  const p = r._malloc(n)
  if (p === 0) throw HypercoreError.ASSERTION(`libsodium _malloc(${n}) failed`)
  return p
}

/**
 * @internal The first `out.length` bytes (≤ 256) of the ChaCha20-IETF keystream of a state's
 * key and nonce, from block 0: the message's Poly1305 key, then the tag block's keystream.
 * Done here because one block in WASM is cheaper than creating a node:crypto cipher for it.
 */
export function _keystreamHead (r: RawSecretstream, state: number, out: Uint8Array): void {
  const n = out.byteLength
  const p = _acquire(r, n)
  r._crypto_stream_chacha20_ietf(p, n, 0, state + _STATE_NONCE, state + _STATE_KEY)
  out.set(r.HEAPU8.subarray(p, p + n))
  r.HEAPU8.fill(0, p, p + n)
}

export abstract class SecretstreamState {
  protected _state: number
  protected readonly _owner: RawSecretstream

  protected constructor (key: Uint8Array) {
    if (!(key instanceof Uint8Array) || key.byteLength !== KEY_BYTES) {
      throw HypercoreError.BAD_ARGUMENT(`secretstream key must be ${KEY_BYTES} bytes`)
    }
    this._owner = _r()
    // state, then room for header (24) and key (32) while initialising.
    this._state = _malloc(this._owner, Math.max(this._owner._crypto_secretstream_xchacha20poly1305_statebytes(), 64))
  }

  protected _live (): number {
    if (this._state === 0) throw HypercoreError.INVALID_OPERATION('secretstream state destroyed')
    return this._state
  }

  /** @internal A copy of the 52-byte libsodium state (tests compare two implementations from one state). */
  _exportState (): Uint8Array {
    const p = this._live()
    return this._owner.HEAPU8.slice(p, p + _STATE_BYTES)
  }

  /** @internal Overwrites the libsodium state (tests: clone a stream, or put its counter near a wrap). */
  _importState (state: Uint8Array): void {
    if (!(state instanceof Uint8Array) || state.byteLength !== _STATE_BYTES) throw HypercoreError.BAD_ARGUMENT(`secretstream state must be ${_STATE_BYTES} bytes`)
    this._owner.HEAPU8.set(state, this._live())
  }

  /** Wipes and frees the heap state. Idempotent. */
  destroy (): void {
    if (this._state === 0) return
    this._owner.HEAPU8.fill(0, this._state, this._state + 64)
    this._owner._free(this._state)
    this._state = 0
  }
}

/** The sending half: `new SecretstreamPush(tx)`, send `header` to the peer, then `encrypt` each message. */
export class WasmSecretstreamPush extends SecretstreamState {
  /** The random 24-byte header libsodium chose; the peer needs it to pull. */
  readonly header: Uint8Array

  constructor (key: Uint8Array) {
    super(key)
    const r = this._owner
    const tmp = _acquire(r, HEADER_BYTES + KEY_BYTES)
    r.HEAPU8.set(key, tmp + HEADER_BYTES)
    const rc = r._crypto_secretstream_xchacha20poly1305_init_push(this._state, tmp, tmp + HEADER_BYTES)
    this.header = r.HEAPU8.slice(tmp, tmp + HEADER_BYTES)
    r.HEAPU8.fill(0, tmp + HEADER_BYTES, tmp + HEADER_BYTES + KEY_BYTES)
    if (rc !== 0) { this.destroy(); throw HypercoreError.ASSERTION('secretstream init_push failed') }
  }

  /** Encrypts `message` into `out[offset .. offset + message.length + ABYTES)`. */
  encryptInto (message: Uint8Array, out: Uint8Array, offset: number): void {
    const state = this._live()
    const r = this._owner
    const mlen = message.byteLength
    const clen = mlen + ABYTES
    if (offset < 0 || offset + clen > out.byteLength) throw HypercoreError.BAD_ARGUMENT('secretstream output buffer too small')
    const base = _acquire(r, clen + mlen)
    try {
      const m = base + clen
      r.HEAPU8.set(message, m)
      const rc = r._crypto_secretstream_xchacha20poly1305_push(state, base, 0, m, mlen, 0, 0, 0, 0, TAG_MESSAGE)
      if (rc !== 0) throw HypercoreError.ASSERTION('secretstream push failed')
      out.set(r.HEAPU8.subarray(base, base + clen), offset)
    } finally {
      _releaseBlock(r, base)
    }
  }

  /** Encrypts `message` into a fresh array of `message.length + ABYTES` bytes. */
  encrypt (message: Uint8Array): Uint8Array {
    const out = new Uint8Array(message.byteLength + ABYTES)
    this.encryptInto(message, out, 0)
    return out
  }
}

/** The receiving half: `new SecretstreamPull(rx, remoteHeader)`, then `decrypt` each message in order. */
export class WasmSecretstreamPull extends SecretstreamState {
  constructor (key: Uint8Array, header: Uint8Array) {
    super(key)
    if (!(header instanceof Uint8Array) || header.byteLength !== HEADER_BYTES) {
      this.destroy()
      throw HypercoreError.BAD_ARGUMENT(`secretstream header must be ${HEADER_BYTES} bytes`)
    }
    const r = this._owner
    const tmp = _acquire(r, HEADER_BYTES + KEY_BYTES)
    r.HEAPU8.set(header, tmp)
    r.HEAPU8.set(key, tmp + HEADER_BYTES)
    const rc = r._crypto_secretstream_xchacha20poly1305_init_pull(this._state, tmp, tmp + HEADER_BYTES)
    r.HEAPU8.fill(0, tmp + HEADER_BYTES, tmp + HEADER_BYTES + KEY_BYTES)
    if (rc !== 0) { this.destroy(); throw HypercoreError.ASSERTION('secretstream init_pull failed') }
  }

  /**
   * Decrypts the next message. Throws DECRYPTION_FAILED when it is too short or fails
   * authentication; the state is then unusable (libsodium's counter no longer matches the
   * sender's), so the caller must end the connection.
   */
  decrypt (ciphertext: Uint8Array): Uint8Array {
    const state = this._live()
    const clen = ciphertext.byteLength
    if (clen < ABYTES) throw HypercoreError.DECRYPTION_FAILED(`encrypted message of ${clen} bytes is shorter than its ${ABYTES}-byte overhead`)
    const r = this._owner
    const mlen = clen - ABYTES
    // [tag byte (pad to 8)] [c (clen)] [m (mlen)]
    const base = _acquire(r, 8 + clen + mlen)
    try {
      const c = base + 8
      const m = c + clen
      r.HEAPU8.set(ciphertext, c)
      const rc = r._crypto_secretstream_xchacha20poly1305_pull(state, m, 0, base, c, clen, 0, 0, 0, 0)
      if (rc !== 0) throw HypercoreError.DECRYPTION_FAILED()
      // Not HEAPU8.slice: measured here, slicing out of the WASM memory costs ~66 µs per 64 KiB,
      // a fresh array plus set ~15 µs.
      const out = new Uint8Array(mlen)
      out.set(r.HEAPU8.subarray(m, m + mlen))
      return out
    } finally {
      _releaseBlock(r, base)
    }
  }
}
