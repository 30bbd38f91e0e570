/**
 * @module replication/secret-stream/cipher.node
 * Node's secretstream cipher (spec §5.4): libsodium's state and small messages in WASM, large
 * messages through node:crypto (OpenSSL ChaCha20 and Poly1305), byte for byte what libsodium
 * produces. Chosen by `#platform/secretstream-cipher` (package.json "imports", node).
 *
 * The libsodium state in the WASM heap stays the single source of truth: the HChaCha20 subkey k
 * and the nonce (u32le counter ‖ inonce) are read from it, and after a message we apply
 * libsodium's own update (inonce ^= MAC[0..8], counter += 1, and libsodium's rekey function
 * when the counter wraps or a REKEY tag arrives). So small and large messages interleave freely.
 *
 * A large message, given k, nonce12 and C = block64 ‖ c (block64 = [tag, 0×63] enciphered with
 * keystream block 1, c = message enciphered from block 2):
 *  - push: one `chacha20-poly1305` encryption of [0×64] ‖ m yields block64, c and the RFC 8439
 *    tag. When mlen mod 16 is 0 or 8 that tag *is* libsodium's MAC (same Poly1305 input);
 *    otherwise a second, AAD-only pass over C's 16-byte-aligned prefix plus cipher-mac.ts
 *    turn the two tags into libsodium's MAC.
 *  - pull: when mlen mod 16 is 0 or 8, a `chacha20-poly1305` decryption checked against the
 *    received MAC. Otherwise an AAD-only pass over C's aligned prefix, and the received MAC
 *    must be the libsodium MAC of exactly one of the (three or four) continuations that base
 *    tag allows (cipher-mac.ts): that is the MAC check (a forgery has to hit one of four
 *    values instead of one: four times Poly1305's bound). Then plain `chacha20` from keystream
 *    block 2 deciphers c: no second Poly1305 pass over the message.
 * On the rare ambiguous case (see cipher-mac.ts) the message goes through libsodium instead.
 * The first use runs a known-answer self-check against libsodium; if it fails (a runtime whose
 * node:crypto lacks these ciphers or behaves differently), every message uses libsodium.
 */
import { createCipheriv, createDecipheriv } from 'node:crypto'
import { HypercoreError } from '../../errors.js'
import {
  ABYTES, TAG_REKEY, WasmSecretstreamPull, WasmSecretstreamPush, _STATE_KEY, _STATE_NONCE, _keystreamHead,
  type RawSecretstream
} from './cipher-wasm.js'
import { PrefixTags, aeadSuffix, secretstreamSuffix } from './cipher-mac.js'

/**
 * Messages shorter than this stay in WASM. node:crypto's fixed cost per message is two or
 * three cipher objects plus, when mlen mod 16 is not 0 or 8, an extra Poly1305 pass and the
 * BigInt work (~45 µs here), against ~6 µs per KiB in WASM: measured crossover ~8 KiB
 * (bench/secret-stream.bench.ts, crossoverMBps).
 */
export const NODE_MIN_BYTES = 8192

export interface NodeCipherOptions {
  /** Smallest message that goes through node:crypto (tests use 0 to cover every length). */
  nodeMinBytes?: number
}

const ZERO64 = new Uint8Array(64)
const AEAD = 'chacha20-poly1305'
const STREAM = 'chacha20'
const TAG_OPTS = { authTagLength: 16 } as const
const NO_TEXT = { plaintextLength: 0 } as const

/** k and nonce12 of a heap state (copied: node:crypto takes them before the heap can move). */
function _keys (r: RawSecretstream, state: number): { key: Uint8Array, nonce: Uint8Array } {
  const kn = r.HEAPU8.slice(state + _STATE_KEY, state + _STATE_NONCE + 12)
  return { key: kn.subarray(0, 32), nonce: kn.subarray(32) }
}

/** libsodium's state update after a message (secretstream push/pull, spec §5.4). */
function _advance (r: RawSecretstream, state: number, mac: Uint8Array, tag: number): void {
  const h = r.HEAPU8
  const inonce = state + _STATE_NONCE + 4
  for (let i = 0; i < 8; i++) h[inonce + i] ^= mac[i]!
  const ctr = state + _STATE_NONCE
  let carry = 1
  for (let i = 0; i < 4; i++) { carry += h[ctr + i]!; h[ctr + i] = carry & 0xff; carry >>= 8 }
  const wrapped = (h[ctr]! | h[ctr + 1]! | h[ctr + 2]! | h[ctr + 3]!) === 0
  if ((tag & TAG_REKEY) !== 0 || wrapped) r._crypto_secretstream_xchacha20poly1305_rekey(state)
}

/** The base tag: AEAD with AAD = C[0 .. prefix) (block64 ‖ c[0 .. prefix − 64)) and no text. */
function _baseTag (key: Uint8Array, nonce: Uint8Array, block: Uint8Array, c: Uint8Array, prefix: number): Uint8Array {
  const base = createCipheriv(AEAD, key, nonce, TAG_OPTS)
  // Several setAAD calls feed one continuous AAD (OpenSSL buffers partial Poly1305 blocks);
  // plaintextLength matters only to CCM and is required by the typings.
  base.setAAD(block, NO_TEXT)
  base.setAAD(c.subarray(0, prefix - 64), NO_TEXT)
  base.final()
  return base.getAuthTag()
}


/** Pushes through node:crypto; returns false (state untouched) when libsodium must do it. */
function _pushNode (r: RawSecretstream, state: number, message: Uint8Array, out: Uint8Array, offset: number): boolean {
  const mlen = message.byteLength
  const clen = 64 + mlen
  const u = clen & 15
  const { key, nonce } = _keys(r, state)
  const aead = createCipheriv(AEAD, key, nonce, TAG_OPTS)
  const block = aead.update(ZERO64) // [TAG_MESSAGE = 0, 0 × 63] under keystream block 1
  const c = aead.update(message)
  aead.final()
  let mac: Uint8Array = aead.getAuthTag()
  if (u !== 0 && u !== 8) {
    const prefix = clen - u
    const polyKey = new Uint8Array(32)
    _keystreamHead(r, state, polyKey)
    const tags = new PrefixTags(polyKey, prefix, _baseTag(key, nonce, block, c, prefix))
    const tail = c.subarray(prefix - 64)
    const hits = tags.matches(aeadSuffix(tail, clen), mac)
    if (hits.length !== 1) return false
    mac = tags.tagAt(hits[0]!, secretstreamSuffix(tail, clen))
  }
  out[offset] = block[0]!
  out.set(c, offset + 1)
  out.set(mac, offset + 1 + mlen)
  _advance(r, state, mac, 0)
  return true
}

/**
 * Pulls through node:crypto: the plaintext, or null (state untouched) when libsodium must do it.
 * Throws DECRYPTION_FAILED when the MAC does not verify.
 */
function _pullNode (r: RawSecretstream, state: number, ciphertext: Uint8Array): Uint8Array | null {
  const mlen = ciphertext.byteLength - ABYTES
  const clen = 64 + mlen
  const u = clen & 15
  const { key, nonce } = _keys(r, state)
  const head = new Uint8Array(128)
  _keystreamHead(r, state, head)
  const polyKey = head.subarray(0, 32)
  // The MAC covers the whole enciphered tag block; only its first byte travels.
  const block = head.subarray(64)
  const tag = block[0]! ^ ciphertext[0]!
  block[0] = ciphertext[0]!
  const c = ciphertext.subarray(1, 1 + mlen)
  const mac = ciphertext.subarray(1 + mlen)
  let m: Uint8Array
  if (u !== 0 && u !== 8) {
    // The MAC check: exactly one continuation the base tag allows has this MAC (see above).
    const prefix = clen - u
    const tags = new PrefixTags(polyKey, prefix, _baseTag(key, nonce, block, c, prefix))
    const hits = tags.matches(secretstreamSuffix(c.subarray(prefix - 64), clen), mac)
    if (hits.length === 0) throw HypercoreError.DECRYPTION_FAILED()
    if (hits.length > 1) return null
    // Authentic: c under keystream blocks 2, 3, … (IV = u32le block counter ‖ nonce12).
    const iv = new Uint8Array(16)
    iv[0] = 2
    iv.set(nonce, 4)
    const d = createDecipheriv(STREAM, key, iv)
    m = d.update(c)
    d.final()
  } else {
    const d = createDecipheriv(AEAD, key, nonce, TAG_OPTS)
    d.setAuthTag(mac)
    d.update(block)
    m = d.update(c)
    try {
      d.final()
    } catch {
      throw HypercoreError.DECRYPTION_FAILED()
    }
  }
  _advance(r, state, mac, tag)
  return new Uint8Array(m.buffer, m.byteOffset, m.byteLength)
}

/** The sending half; large messages through node:crypto (see the module comment). */
export class SecretstreamPush extends WasmSecretstreamPush {
  private readonly _nodeMin: number

  constructor (key: Uint8Array, opts: NodeCipherOptions = {}) {
    super(key)
    this._nodeMin = opts.nodeMinBytes ?? NODE_MIN_BYTES
  }

  override encryptInto (message: Uint8Array, out: Uint8Array, offset: number): void {
    if (message.byteLength >= this._nodeMin && nodeCipherWorks() && this._encryptNode(message, out, offset)) return
    super.encryptInto(message, out, offset)
  }

  /** @internal The node:crypto path alone: false (state untouched) when libsodium must take the message. */
  _encryptNode (message: Uint8Array, out: Uint8Array, offset: number): boolean {
    const state = this._live()
    if (offset < 0 || offset + message.byteLength + ABYTES > out.byteLength) throw HypercoreError.BAD_ARGUMENT('secretstream output buffer too small')
    return _pushNode(this._owner, state, message, out, offset)
  }
}

/** The receiving half; large messages through node:crypto (see the module comment). */
export class SecretstreamPull extends WasmSecretstreamPull {
  private readonly _nodeMin: number

  constructor (key: Uint8Array, header: Uint8Array, opts: NodeCipherOptions = {}) {
    super(key, header)
    this._nodeMin = opts.nodeMinBytes ?? NODE_MIN_BYTES
  }

  override decrypt (ciphertext: Uint8Array): Uint8Array {
    if (ciphertext.byteLength >= this._nodeMin + ABYTES && nodeCipherWorks()) {
      const m = this._decryptNode(ciphertext)
      if (m !== null) return m
    }
    return super.decrypt(ciphertext)
  }

  /** @internal The node:crypto path alone (≥ ABYTES bytes): null (state untouched) when libsodium must take it. */
  _decryptNode (ciphertext: Uint8Array): Uint8Array | null {
    return _pullNode(this._owner, this._live(), ciphertext)
  }
}

let selfCheck: boolean | null = null

/**
 * Whether node:crypto reproduces libsodium here, checked once on a throwaway stream: every
 * residue of mlen mod 16 both ways, against libsodium's own push/pull on the same state.
 */
export function nodeCipherWorks (): boolean {
  if (selfCheck !== null) return selfCheck
  selfCheck = false // while checking, and for good if the check throws
  const key = new Uint8Array(32).fill(0x5a)
  const ours = new SecretstreamPush(key)
  const ref = new WasmSecretstreamPush(key)
  const pull = new SecretstreamPull(key, ours.header)
  try {
    ref._importState(ours._exportState())
    let ok = true
    for (let n = 0; n < 16 && ok; n++) {
      const msg = new Uint8Array(40 + n).map((_, i) => i * 7 + n)
      const want = ref.encrypt(msg)
      const got = new Uint8Array(msg.byteLength + ABYTES)
      ok = ours._encryptNode(msg, got, 0) && got.every((b, i) => b === want[i])
      const back = ok ? pull._decryptNode(got) : null
      ok = ok && back !== null && back.every((b, i) => b === msg[i]) && back.byteLength === msg.byteLength
    }
    selfCheck = ok
  } catch {
    selfCheck = false
  } finally {
    ours.destroy(); ref.destroy(); pull.destroy()
  }
  return selfCheck
}
