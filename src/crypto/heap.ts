/**
 * @module crypto/heap
 * One reusable scratch region inside the libsodium WASM heap, for the hot paths (leaf and
 * parent hashes, signing, XSalsa20). The wrappers allocate, copy and free several buffers on
 * every call; measured here that overhead dominates a 73-byte parent hash (see hash.ts).
 * Calls are synchronous and never nest, so one region is enough: a caller writes its input,
 * calls libsodium, copies its output out, and is done before anyone else touches it.
 */
import { HypercoreError } from '../errors.js'
import { raw, type RawSodium } from './sodium.js'

/** Inputs above this use a temporary allocation (_acquire), so the scratch stays small. */
export const SCRATCH_MAX = (1 << 20) + 4096

let ptr = 0
let size = 0
let owner: RawSodium | null = null

/** A pointer to at least `n` bytes of scratch (grown by doubling, never shrunk). */
export function _scratch (n: number): number {
  const r = raw()
  if (owner !== r) { ptr = 0; size = 0; owner = r }
  if (n > size) {
    if (ptr !== 0) r._free(ptr)
    let next = Math.max(4096, size)
    while (next < n) next *= 2
    ptr = r._malloc(next)
    if (ptr === 0) { size = 0; throw HypercoreError.ASSERTION(`libsodium _malloc(${next}) failed`) }
    size = next
  }
  return ptr
}

/** Splits a length ≤ 2^53 into the (low, high) 32-bit words emscripten expects for a u64 argument. */
export function _lo (n: number): number { return n >>> 0 }
export function _hi (n: number): number { return Math.floor(n / 0x100000000) >>> 0 }

/**
 * A pointer to `n` bytes: the scratch when `n` ≤ SCRATCH_MAX, else a fresh allocation so one
 * huge call does not pin a huge scratch for the life of the page. Pair with `_release`.
 */
export function _acquire (n: number): number {
  if (n <= SCRATCH_MAX) return _scratch(n)
  const p = raw()._malloc(n)
  if (p === 0) throw HypercoreError.ASSERTION(`libsodium _malloc(${n}) failed`)
  return p
}

/** Frees what `_acquire` allocated (the scratch itself is kept). */
export function _release (p: number): void {
  if (p !== ptr) raw()._free(p)
}
