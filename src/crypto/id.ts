/**
 * @module crypto/id
 * Human-facing ids of keys (spec §2.4): z-base-32 of the 32-byte key (52 characters,
 * alphabet `ybndrfg8ejkmcpqxot1uwisza345h769`, MSB-first 5-bit groups, the last group
 * zero-padded, no padding characters). Decoding also accepts 64-char hex and a `pear://` prefix.
 */
import { HypercoreError } from '../errors.js'
import { _assertBytes } from './bytes.js'

const ALPHABET = 'ybndrfg8ejkmcpqxot1uwisza345h769'
const REVERSE = new Map<string, number>([...ALPHABET].map((ch, i) => [ch, i]))

/** z-base-32 of any byte string. */
export function z32Encode (bytes: Uint8Array): string {
  _assertBytes(bytes, 'bytes')
  let out = ''
  let acc = 0
  let bits = 0
  for (const b of bytes) {
    acc = (acc << 8) | b
    bits += 8
    while (bits >= 5) {
      bits -= 5
      out += ALPHABET[(acc >>> bits) & 31]
    }
    acc &= (1 << bits) - 1 // keep only the unconsumed bits so `acc` never overflows
  }
  if (bits > 0) out += ALPHABET[(acc << (5 - bits)) & 31]
  return out
}

/** Decodes z-base-32. Rejects unknown characters and non-zero padding bits (one string per key). */
export function z32Decode (s: string): Uint8Array {
  if (typeof s !== 'string') throw HypercoreError.BAD_ARGUMENT('z32 input must be a string')
  const out = new Uint8Array((s.length * 5) >>> 3)
  let acc = 0
  let bits = 0
  let o = 0
  for (const ch of s) {
    const v = REVERSE.get(ch)
    if (v === undefined) throw HypercoreError.BAD_ARGUMENT(`invalid z-base-32 character ${JSON.stringify(ch)}`)
    acc = (acc << 5) | v
    bits += 5
    if (bits >= 8) {
      bits -= 8
      out[o++] = (acc >>> bits) & 0xff
    }
    acc &= (1 << bits) - 1
  }
  if (acc !== 0) throw HypercoreError.BAD_ARGUMENT('invalid z-base-32: non-zero padding bits')
  return out
}

/** The id of a 32-byte key. */
export function encodeId (key: Uint8Array): string {
  _assertBytes(key, 'key', 32)
  return z32Encode(key)
}

/** A 32-byte key from its id, 64-char hex, either with an optional `pear://` prefix. */
export function decodeId (id: string): Uint8Array {
  if (typeof id !== 'string') throw HypercoreError.BAD_ARGUMENT('id must be a string')
  let s = id.startsWith('pear://') ? id.slice(7) : id
  if (s.endsWith('/')) s = s.slice(0, -1)
  if (s.length === 64 && /^[0-9a-fA-F]+$/.test(s)) {
    const out = new Uint8Array(32)
    for (let i = 0; i < 32; i++) out[i] = parseInt(s.slice(2 * i, 2 * i + 2), 16)
    return out
  }
  if (s.length !== 52) throw HypercoreError.BAD_ARGUMENT(`id must be 52 z-base-32 or 64 hex characters, got ${s.length}`)
  return z32Decode(s)
}

/** Normalises a key given as bytes, id or hex to 32 bytes. */
export function normalizeKey (key: Uint8Array | string): Uint8Array {
  if (typeof key === 'string') return decodeId(key)
  _assertBytes(key, 'key', 32)
  return key
}
