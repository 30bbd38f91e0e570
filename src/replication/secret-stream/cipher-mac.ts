/**
 * @module replication/secret-stream/cipher-mac
 * libsodium's secretstream MAC derived from standard ChaCha20-Poly1305 tags, so that a
 * platform whose only fast Poly1305 sits inside an RFC 8439 AEAD (Node's `chacha20-poly1305`)
 * can still produce and check it. Pure arithmetic over `Uint8Array`; used by cipher.node.ts.
 *
 * Why it is needed (spec §5.4): the secretstream MAC of a message is Poly1305(polyKey, Y) with
 *   Y = C ‖ zeros(u) ‖ u64le(0) ‖ u64le(|C|),   C = block64 ‖ c,   u = |C| mod 16 = mlen mod 16
 * (libsodium pads by mlen mod 16 where RFC 8439 pads up to a multiple of 16). The AEAD tag over
 * AAD A and ciphertext C is Poly1305(polyKey, A ‖ pad16 ‖ C ‖ pad16 ‖ u64le|A| ‖ u64le|C|) with
 * the same polyKey (keystream block 0 of the same key and nonce). Y and the AEAD inputs share
 * the 16-byte-aligned prefix C[0 .. 16j); only the last one to three 16-byte chunks differ, and
 * those are known bytes. (For u = 0 or 8 the inputs coincide and no arithmetic is needed.)
 *
 * Poly1305 runs h ← (h + c_i)·r mod p over the 16-byte chunks c_i (p = 2^130 − 5); tag = (h + s) mod 2^128.
 * Let x be h after the shared prefix. A "base" pass (AAD = the prefix, no text) ends with one
 * known chunk Lb = u64le(16j) ‖ u64le(0), so hb = (x + Lb)·r, hence x·r = hb − Lb·r, and any
 * known continuation of the prefix follows by Horner from x·r: no division by r is needed.
 * The catch: a tag gives hb only mod 2^128, and hb < p < 2^130 leaves four candidates. A second
 * known tag over another continuation (the standard AEAD tag that push computes anyway, or the
 * received MAC on pull) picks the candidate that predicts it. If not exactly one does
 * (probability about 2^-126), the caller falls back to libsodium, so the result is never a guess.
 *
 * BigInt arithmetic is not constant-time. It handles the one-time Poly1305 key of one message
 * (the key and nonce change with every message) and a failed check ends the stream, so a timing
 * observer gets at most one query per key. A known, accepted trade-off.
 */
import { HypercoreError } from '../../errors.js'

const P = (1n << 130n) - 5n
const TWO128 = 1n << 128n
const M128 = TWO128 - 1n
const CLAMP = 0x0ffffffc0ffffffc0ffffffc0fffffffn

const _scratch = new Uint8Array(16)
const _view = new DataView(_scratch.buffer)

/** Little-endian integer of `b[off .. off + len)`, len ≤ 16 (through a scratch: one BigInt per half). */
function _le (b: Uint8Array, off: number, len: number): bigint {
  // A byte loop, not set(b.subarray()): b is often a Buffer, whose subarray is costly here.
  for (let i = 0; i < 16; i++) _scratch[i] = i < len ? b[off + i]! : 0
  return (_view.getBigUint64(8, true) << 64n) | _view.getBigUint64(0, true)
}

/** Poly1305's chunk values of `bytes`: each 16-byte chunk plus 2^128, a final partial one of t bytes plus 2^(8t). */
function _chunks (bytes: Uint8Array): bigint[] {
  const out: bigint[] = []
  for (let i = 0; i < bytes.byteLength; i += 16) {
    const n = Math.min(16, bytes.byteLength - i)
    out.push(_le(bytes, i, n) + (n === 16 ? TWO128 : 1n << BigInt(8 * n)))
  }
  return out
}

/** Writes n < 2^53 as 8 little-endian bytes. */
function _u64le (out: Uint8Array, off: number, n: number): void {
  for (let i = 0; i < 8; i++) { out[off + i] = n % 256; n = Math.floor(n / 256) }
}

/** What Poly1305 sees after the aligned prefix in secretstream: tail ‖ zeros(u) ‖ u64le(0) ‖ u64le(clen). */
export function secretstreamSuffix (tail: Uint8Array, clen: number): Uint8Array {
  const u = tail.byteLength
  const out = new Uint8Array(2 * u + 16)
  out.set(tail, 0)
  _u64le(out, 2 * u + 8, clen)
  return out
}

/** What Poly1305 sees after the aligned prefix in RFC 8439 (no AAD): tail ‖ pad16 ‖ u64le(0) ‖ u64le(clen). */
export function aeadSuffix (tail: Uint8Array, clen: number): Uint8Array {
  const padded = tail.byteLength === 0 ? 0 : 16
  const out = new Uint8Array(padded + 16)
  out.set(tail, 0)
  _u64le(out, padded + 8, clen)
  return out
}

/**
 * Tags of continuations of one aligned prefix, from the tag of a base pass over that prefix.
 * The candidates for x·r are xr0 + k·2^128 (k = 0 .. count−1), and Horner is affine in its
 * start value, so a continuation of a chunks ends at h0 + k·2^128·r^(a−1): one Horner run per
 * continuation, whatever the number of candidates.
 */
export class PrefixTags {
  private readonly _r: bigint
  private readonly _s: bigint
  private readonly _xr0: bigint
  private readonly _count: number
  /** 2^128·r^(a−1) mod p for a = 1, 2, 3 (see _step). */
  private readonly _steps: bigint[] = []

  /**
   * @param polyKey the message's 32-byte Poly1305 key (ChaCha20 keystream block 0)
   * @param prefixBytes length of the shared prefix (a multiple of 16)
   * @param baseTag the AEAD tag with AAD = the prefix and no text
   */
  constructor (polyKey: Uint8Array, prefixBytes: number, baseTag: Uint8Array) {
    this._r = _le(polyKey, 0, 16) & CLAMP
    this._s = _le(polyKey, 16, 16)
    // hb ≡ tag − s (mod 2^128) and hb < p: hb = lo + k·2^128 for every k keeping it below p.
    const lo = (_le(baseTag, 0, 16) - this._s) & M128
    this._count = lo + 3n * TWO128 < P ? 4 : 3
    const lbr = (BigInt(prefixBytes) + TWO128) * this._r % P // Lb·r
    this._xr0 = lo >= lbr ? lo - lbr : lo - lbr + P
  }

  /**
   * Indexes of the candidates under which prefix ‖ `suffix` has tag `tag`. The suffix must span
   * at least two chunks (> 16 bytes): after one chunk the candidates still differ by multiples
   * of 2^128, which the tag cannot see. (Our suffixes have 18 to 46 bytes.)
   */
  matches (suffix: Uint8Array, tag: Uint8Array): number[] {
    if (suffix.byteLength <= 16) throw HypercoreError.ASSERTION('a known continuation must span two Poly1305 chunks')
    const want = _le(tag, 0, 16)
    const cs = _chunks(suffix)
    const d = this._step(cs.length)
    const hits: number[] = []
    let h = this._h0(cs)
    for (let k = 0; k < this._count; k++) {
      if (((h + this._s) & M128) === want) hits.push(k)
      h += d
      if (h >= P) h -= P
    }
    return hits
  }

  /** The tag of prefix ‖ `suffix` under candidate `k`. */
  tagAt (k: number, suffix: Uint8Array): Uint8Array {
    const cs = _chunks(suffix)
    const t = ((this._h0(cs) + BigInt(k) * this._step(cs.length)) % P + this._s) & M128
    const out = new Uint8Array(16)
    const dv = new DataView(out.buffer)
    dv.setBigUint64(0, t & 0xffffffffffffffffn, true)
    dv.setBigUint64(8, t >> 64n, true)
    return out
  }

  /** Horner over `cs` from x·r = xr0: (x + c1)·r = x·r + c1·r, then h ← (h + c)·r. */
  private _h0 (cs: bigint[]): bigint {
    const r = this._r
    let h = (this._xr0 + cs[0]! * r) % P
    for (let i = 1; i < cs.length; i++) h = (h + cs[i]!) * r % P
    return h
  }

  /** 2^128·r^(a−1) mod p: how far one candidate step moves the end of an a-chunk continuation. */
  private _step (a: number): bigint {
    for (let i = this._steps.length; i < a; i++) this._steps.push(i === 0 ? TWO128 : this._steps[i - 1]! * this._r % P)
    return this._steps[a - 1]!
  }
}
