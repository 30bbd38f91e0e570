/**
 * @module test/replication/fuzz/random
 * The fuzzer's only source of randomness: a seeded generator (sfc32), so a run is replayed
 * exactly from its seed, and the numbers hostile peers like to send (§1.1 `uint`s at the
 * edges of every range the replicator computes with).
 */

/** 2^21: one want segment / bitfield segment in blocks (§5.7). */
const SEGMENT = 2 ** 21

/**
 * Edge values: tiny, segment edges, 32-bit edges, and the top of what the `uint` decoder
 * accepts (it refuses above 2^53, wire/codec.ts). Huge values are where span-proportional
 * loops, float precision and unbounded allocations used to hide.
 */
export const EDGES: readonly number[] = [
  0, 1, 2, 31, 32, 63, 64, 1023, 1024,
  SEGMENT - 1, SEGMENT, SEGMENT + 1, 2 * SEGMENT,
  2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 32 + 1,
  2 ** 51, 2 ** 52, Number.MAX_SAFE_INTEGER - 1, Number.MAX_SAFE_INTEGER
]

export class Rng {
  private a: number
  private b: number
  private c: number
  private d: number

  constructor (seed: number) {
    // sfc32 seeded from one 32-bit number; a few rounds mix a small seed into every word.
    this.a = 0x9e3779b9
    this.b = 0x243f6a88
    this.c = 0xb7e15162
    this.d = seed >>> 0
    for (let i = 0; i < 15; i++) this.u32()
  }

  /** A uniform 32-bit unsigned integer. */
  u32 (): number {
    this.a >>>= 0; this.b >>>= 0; this.c >>>= 0; this.d >>>= 0
    const t = (this.a + this.b | 0) + this.d | 0
    this.d = this.d + 1 | 0
    this.a = this.b ^ this.b >>> 9
    this.b = this.c + (this.c << 3) | 0
    this.c = (this.c << 21 | this.c >>> 11)
    this.c = this.c + t | 0
    return t >>> 0
  }

  /** A float in [0, 1). */
  float (): number { return this.u32() / 4294967296 }

  /** An integer in [lo, hi] (both inclusive, |hi - lo| < 2^32). */
  int (lo: number, hi: number): number { return lo + Math.floor(this.float() * (hi - lo + 1)) }

  bool (p = 0.5): boolean { return this.float() < p }

  pick<T> (list: readonly T[]): T { return list[Math.floor(this.float() * list.length)]! }

  /** Picks a key of `weights` with probability proportional to its weight. */
  weighted<K extends string> (weights: Readonly<Record<K, number>>): K {
    const keys = Object.keys(weights) as K[]
    let total = 0
    for (const k of keys) total += weights[k]
    let x = this.float() * total
    for (const k of keys) {
      x -= weights[k]
      if (x < 0) return k
    }
    return keys[keys.length - 1]!
  }

  bytes (n: number): Uint8Array {
    const out = new Uint8Array(n)
    for (let i = 0; i < n; i++) out[i] = this.u32() & 0xff
    return out
  }

  /**
   * A number a hostile peer might send where a block index, length or id goes: an edge value,
   * something near `near` (the core's length, where off-by-ones live), or a small one.
   */
  index (near: number): number {
    const r = this.float()
    if (r < 0.4) return this.pick(EDGES)
    if (r < 0.7) return Math.max(0, near + this.int(-3, 3))
    return this.int(0, Math.max(1, near + 8))
  }

  /** A length to go with `index`: edges, tiny, or up to `near`. */
  length (near: number): number {
    const r = this.float()
    if (r < 0.4) return this.pick(EDGES)
    if (r < 0.6) return this.int(0, 3)
    return this.int(0, Math.max(1, near + 8))
  }
}

/**
 * The seed of iteration `i` of a run started from `base`: consecutive, so the failing
 * iteration's seed, passed as `--seed`, replays it first.
 */
export function iterationSeed (base: number, i: number): number {
  return (base + i) >>> 0
}
