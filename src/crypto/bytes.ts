/**
 * @module crypto/bytes
 * Input checks and little-endian u64 writing shared by the crypto modules. Checks are cheap
 * (`instanceof` and a length compare) so they stay on the hot paths: a wrong type or size
 * fails loudly with BAD_ARGUMENT instead of hashing garbage out of the WASM heap.
 */
import { HypercoreError } from '../errors.js'

/** Throws BAD_ARGUMENT unless `value` is a Uint8Array (of exactly `length` bytes when given). */
export function _assertBytes (value: unknown, name: string, length?: number): asserts value is Uint8Array {
  if (!(value instanceof Uint8Array)) throw HypercoreError.BAD_ARGUMENT(`${name} must be a Uint8Array`)
  if (length !== undefined && value.byteLength !== length) {
    throw HypercoreError.BAD_ARGUMENT(`${name} must be ${length} bytes, got ${value.byteLength}`)
  }
}

/** Throws BAD_ARGUMENT unless `value` is an integer in [0, 2^53) (what a u64 field can hold in JS). */
export function _assertUint (value: unknown, name: string): asserts value is number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw HypercoreError.BAD_ARGUMENT(`${name} must be a non-negative safe integer, got ${String(value)}`)
  }
}

/** Writes `n` (0 ≤ n < 2^53) as 8 little-endian bytes at `offset` (spec §0.3 u64le). */
export function _writeU64LE (buf: Uint8Array, offset: number, n: number): void {
  const lo = n >>> 0
  const hi = Math.floor(n / 0x100000000) >>> 0
  buf[offset] = lo & 0xff
  buf[offset + 1] = (lo >>> 8) & 0xff
  buf[offset + 2] = (lo >>> 16) & 0xff
  buf[offset + 3] = lo >>> 24
  buf[offset + 4] = hi & 0xff
  buf[offset + 5] = (hi >>> 8) & 0xff
  buf[offset + 6] = (hi >>> 16) & 0xff
  buf[offset + 7] = hi >>> 24
}

/** `n` as a fresh 8-byte little-endian array. */
export function u64le (n: number): Uint8Array {
  _assertUint(n, 'u64')
  const out = new Uint8Array(8)
  _writeU64LE(out, 0, n)
  return out
}

/** Constant-time-ish equality for short secrets and hashes (no early exit). */
export function equalBytes (a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false
  let d = 0
  for (let i = 0; i < a.byteLength; i++) d |= a[i]! ^ b[i]!
  return d === 0
}
