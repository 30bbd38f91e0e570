/**
 * @module bench/crypto-ops
 * The crypto benchmark's measuring code, shared by Node (bench/crypto.bench.ts) and Chromium
 * (bench/pages/crypto.page.ts): browser-safe, no Node built-ins. Each op runs for a time
 * budget after a warm-up; results are operations per second.
 */
import sodium from 'libsodium-wrappers-sumo'
import { keyPair, leafHash, parentHash, sign, verify } from '../src/crypto/index.js'

type Node = { index: number, size: number, hash: Uint8Array }

/** The operations one implementation offers. */
export interface CryptoImpl {
  sign (message: Uint8Array, secretKey: Uint8Array): Uint8Array
  verify (message: Uint8Array, signature: Uint8Array, publicKey: Uint8Array): boolean
  leafHash (data: Uint8Array): Uint8Array
  parentHash (a: Node, b: Node): Uint8Array
}

export type OpName = 'sign' | 'verify' | 'leafHash1KiB' | 'parentHash'
export type OpsPerSecond = Record<OpName, number>

/** Ours (raw WASM heap path). Call after cryptoReady(). */
export const ours: CryptoImpl = { sign, verify, leafHash, parentHash }

/**
 * The naive path through libsodium's wrappers (`libsodium-wrappers-sumo`, a devDependency: the
 * library does not ship them): concat in JS, then crypto_generichash / crypto_sign_detached,
 * to show what the heap-scratch path buys.
 */
export async function viaWrappers (): Promise<CryptoImpl> {
  await sodium.ready
  const s = sodium
  const u64 = (n: number, buf: Uint8Array, off: number): void => {
    new DataView(buf.buffer, buf.byteOffset).setBigUint64(off, BigInt(n), true)
  }
  return {
    sign: (m, sk) => s.crypto_sign_detached(m, sk),
    verify: (m, sig, pk) => s.crypto_sign_verify_detached(sig, m, pk),
    leafHash (data) {
      const buf = new Uint8Array(9 + data.byteLength)
      u64(data.byteLength, buf, 1)
      buf.set(data, 9)
      return s.crypto_generichash(32, buf, null)
    },
    parentHash (a, b) {
      const buf = new Uint8Array(73)
      buf[0] = 1
      u64(a.size + b.size, buf, 1)
      buf.set(a.hash, 9)
      buf.set(b.hash, 41)
      return s.crypto_generichash(32, buf, null)
    }
  }
}

function now (): number {
  return globalThis.performance.now()
}

function rate (fn: () => void, budgetMs: number): number {
  // Warm-up by time, not count: V8 first runs WASM through its baseline compiler and tiers
  // up to optimised code in the background, so a short count-based warm-up made whichever
  // implementation was measured first look slower.
  const warm = now()
  while (now() - warm < Math.min(300, budgetMs)) for (let i = 0; i < 20; i++) fn()
  let n = 0
  const start = now()
  let elapsed = 0
  while (elapsed < budgetMs) {
    for (let i = 0; i < 100; i++) fn()
    n += 100
    elapsed = now() - start
  }
  return Math.round(n / (elapsed / 1000))
}

/** Fixed inputs, so every implementation does the same work. */
export function fixtures (): { secretKey: Uint8Array, publicKey: Uint8Array, msg: Uint8Array, sig: Uint8Array, block: Uint8Array, a: Node, b: Node } {
  const kp = keyPair(new Uint8Array(32).fill(1))
  const msg = new Uint8Array(80).fill(7) // the size of a compat signable
  const block = new Uint8Array(1024).map((_, i) => i & 0xff)
  return {
    secretKey: kp.secretKey,
    publicKey: kp.publicKey,
    msg,
    sig: sign(msg, kp.secretKey),
    block,
    a: { index: 0, size: 1024, hash: new Uint8Array(32).fill(1) },
    b: { index: 2, size: 1024, hash: new Uint8Array(32).fill(2) }
  }
}

/** Measures one implementation. `wrap` lets Node hand Buffers to the native reference. */
export function measure (impl: CryptoImpl, budgetMs = 500, wrap: (b: Uint8Array) => Uint8Array = b => b): OpsPerSecond {
  const f = fixtures()
  const sk = wrap(f.secretKey)
  const pk = wrap(f.publicKey)
  const msg = wrap(f.msg)
  const sig = wrap(f.sig)
  const block = wrap(f.block)
  const a = { ...f.a, hash: wrap(f.a.hash) }
  const b = { ...f.b, hash: wrap(f.b.hash) }
  if (!impl.verify(msg, impl.sign(msg, sk), pk)) throw new Error('benchmark self-check failed')
  return {
    sign: rate(() => impl.sign(msg, sk), budgetMs),
    verify: rate(() => impl.verify(msg, sig, pk), budgetMs),
    leafHash1KiB: rate(() => impl.leafHash(block), budgetMs),
    parentHash: rate(() => impl.parentHash(a, b), budgetMs)
  }
}

/** a / b per op, rounded to 2 decimals. */
export function ratios (a: OpsPerSecond, b: OpsPerSecond): OpsPerSecond {
  const r = (k: OpName): number => Math.round((a[k] / b[k]) * 100) / 100
  return { sign: r('sign'), verify: r('verify'), leafHash1KiB: r('leafHash1KiB'), parentHash: r('parentHash') }
}
