/**
 * @module crypto/sodium
 * Loads libsodium (the WASM *sumo* build, `libsodium-wrappers-sumo`) exactly once and hands it
 * out synchronously afterwards. Everything else in src/crypto goes through `sodium()` / `raw()`.
 *
 * Why sumo only: it is a superset of the standard build, and we need two things only it has
 * (`crypto_scalarmult_ed25519_noclamp` for the Noise DH, §5.3, and the raw XSalsa20 export for
 * block encryption, §4). Loading both builds would ship two WASM blobs.
 *
 * Why a dynamic import: the wrappers module starts compiling its WASM as soon as it is
 * evaluated. Importing it lazily keeps `import 'hypercore-web'` free of side effects
 * (package.json says `sideEffects: false`) and lets callers decide when to pay for it.
 * There is no top-level await: callers `await cryptoReady()` (core.ready() does it).
 */
import { HypercoreError } from '../errors.js'

/** The typed wrappers API (`import sodium from 'libsodium-wrappers-sumo'`). */
export type Sodium = typeof import('libsodium-wrappers-sumo')

/**
 * The emscripten module under the wrappers (the `libsodium-sumo` package). The wrappers
 * expose it as `sodium.libsodium` (not in their .d.ts, hence this hand-written shape).
 * Pointers are byte offsets into `HEAPU8`; a 64-bit length is passed as (low, high) i32 words.
 * `HEAPU8` is replaced when the WASM memory grows, so always read it again after any call
 * that may allocate (`_malloc`, or any libsodium function).
 */
export interface RawSodium {
  HEAPU8: Uint8Array
  _malloc (size: number): number
  _free (ptr: number): void
  _crypto_generichash (out: number, outLen: number, inp: number, inLenLo: number, inLenHi: number, key: number, keyLen: number): number
  _crypto_generichash_statebytes (): number
  _crypto_generichash_init (state: number, key: number, keyLen: number, outLen: number): number
  _crypto_generichash_update (state: number, inp: number, inLenLo: number, inLenHi: number): number
  _crypto_generichash_final (state: number, out: number, outLen: number): number
  _crypto_sign_detached (sig: number, sigLenP: number, msg: number, msgLenLo: number, msgLenHi: number, sk: number): number
  _crypto_sign_verify_detached (sig: number, msg: number, msgLenLo: number, msgLenHi: number, pk: number): number
  _crypto_sign_seed_keypair (pk: number, sk: number, seed: number): number
  _crypto_stream_xsalsa20_xor_ic (out: number, inp: number, inLenLo: number, inLenHi: number, nonce: number, icLo: number, icHi: number, key: number): number
}

let loading: Promise<void> | null = null
let wrappers: Sodium | null = null
let rawModule: RawSodium | null = null

/**
 * Loads and initialises libsodium. Idempotent: every call returns the same promise, so the
 * WASM module is instantiated once per realm. A failed load is not cached (a retry may work,
 * e.g. after a CSP or network hiccup while fetching the bundle chunk).
 */
export function cryptoReady (): Promise<void> {
  if (loading !== null) return loading
  loading = (async () => {
    const mod = await import('libsodium-wrappers-sumo')
    // The ESM build has both a default export and named ones; interop layers may give either.
    const s = ((mod as unknown as { default?: Sodium }).default ?? mod) as Sodium
    await s.ready
    const r = (s as unknown as { libsodium?: RawSodium }).libsodium
    if (r === undefined || typeof r._crypto_stream_xsalsa20_xor_ic !== 'function') {
      throw HypercoreError.ASSERTION('libsodium-wrappers-sumo did not expose its raw sumo module (.libsodium)')
    }
    wrappers = s
    rawModule = r
  })()
  loading.catch(() => { loading = null })
  return loading
}

/** True once `cryptoReady()` has resolved. */
export function isCryptoReady (): boolean {
  return wrappers !== null
}

/** The wrappers API. Throws CRYPTO_NOT_READY before `cryptoReady()` has resolved. */
export function sodium (): Sodium {
  if (wrappers === null) throw HypercoreError.CRYPTO_NOT_READY()
  return wrappers
}

/** The raw emscripten module (for heap-level calls on hot paths). Throws CRYPTO_NOT_READY before ready. */
export function raw (): RawSodium {
  if (rawModule === null) throw HypercoreError.CRYPTO_NOT_READY()
  return rawModule
}
