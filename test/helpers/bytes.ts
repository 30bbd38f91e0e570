/**
 * @module test/helpers/bytes
 * Deterministic test bytes (browser-safe): the same seed always gives the same bytes, and
 * different seeds differ everywhere, so a misplaced or stale range shows up in a comparison.
 */

/** `n` pseudo-random bytes from `seed` (xorshift32). */
export function seededBytes (n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n)
  let x = (seed * 2654435761) >>> 0 || 1
  for (let i = 0; i < n; i++) {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0
    out[i] = x & 0xff
  }
  return out
}
