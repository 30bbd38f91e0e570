/**
 * @module crypto/sodium
 * Loads libsodium's WASM exactly once and hands out its raw exports synchronously afterwards.
 * Everything else in src/crypto (and the secretstream cipher) goes through `raw()`.
 *
 * What is loaded: libsodium's own sumo build (package `libsodium-sumo`) trimmed to the 22
 * functions we call (sodium-wasm.ts, written by scripts/sodium-wasm.mjs), stored deflated and
 * inflated here with DecompressionStream (every browser since 2023, Node >= 18). Sumo because it is the
 * only build with `crypto_scalarmult_ed25519_noclamp` (the Noise DH, §5.3) and the raw XSalsa20
 * export (block encryption, §4). We instantiate it ourselves: neither the wrappers
 * (`libsodium-wrappers-sumo`, ~120 KB of JS around functions we do not use) nor emscripten's
 * glue are shipped. The glue's four imports are reimplemented below, each as the glue does it.
 *
 * Why a dynamic import: importing the module that holds the WASM, and compiling it, happen on
 * the first `cryptoReady()`, so `import 'hypercore-web'` stays free of side effects
 * (package.json says `sideEffects: false`) and callers decide when to pay for it. There is no
 * top-level await: callers `await cryptoReady()` (core.ready() does it).
 */
import { HypercoreError } from '../errors.js'

/**
 * The raw libsodium exports, named as emscripten's glue names them (`_` + the C name).
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
  _crypto_hash_sha512 (out: number, inp: number, inLenLo: number, inLenHi: number): number
  _crypto_scalarmult_ed25519_noclamp (q: number, n: number, p: number): number
  _crypto_aead_chacha20poly1305_ietf_encrypt (c: number, cLenP: number, m: number, mLenLo: number, mLenHi: number,
    ad: number, adLenLo: number, adLenHi: number, nsec: number, npub: number, k: number): number
  _crypto_aead_chacha20poly1305_ietf_decrypt (m: number, mLenP: number, nsec: number, c: number, cLenLo: number, cLenHi: number,
    ad: number, adLenLo: number, adLenHi: number, npub: number, k: number): number
}

let loading: Promise<void> | null = null
let rawModule: RawSodium | null = null

/**
 * Loads and initialises libsodium. Idempotent: every call returns the same promise, so the
 * WASM module is instantiated once per realm. A failed load is not cached (a retry may work,
 * e.g. after a CSP or network hiccup while fetching the bundle chunk).
 */
export function cryptoReady (): Promise<void> {
  if (loading !== null) return loading
  loading = (async () => {
    const r = await _instantiate()
    // sodium_init: 0 first time, 1 if already done, -1 on failure (as the wrappers check).
    if (r._sodium_init() < 0) throw HypercoreError.ASSERTION('libsodium sodium_init() failed')
    rawModule = r
  })()
  loading.catch(() => { loading = null })
  return loading
}

/** True once `cryptoReady()` has resolved. */
export function isCryptoReady (): boolean {
  return rawModule !== null
}

/** The raw libsodium exports (for heap-level calls). Throws CRYPTO_NOT_READY before ready. */
export function raw (): RawSodium {
  if (rawModule === null) throw HypercoreError.CRYPTO_NOT_READY()
  return rawModule
}

type Loaded = RawSodium & { _sodium_init (): number }

async function _instantiate (): Promise<Loaded> {
  if (typeof globalThis.crypto?.getRandomValues !== 'function' || typeof globalThis.DecompressionStream !== 'function') {
    throw HypercoreError.ASSERTION('libsodium needs crypto.getRandomValues and DecompressionStream (browsers since 2023, Node >= 19)')
  }
  const { WASM_DEFLATED_BASE64, IMPORTS, ASM_CONST, EXPORTS } = await import('./sodium-wasm.js')
  const wasm = await _inflate(_fromBase64(WASM_DEFLATED_BASE64))
  const mod = { HEAPU8: new Uint8Array(0) } as Loaded
  let memory: WebAssembly.Memory | null = null
  const fail = (msg: string): never => { throw new WebAssembly.RuntimeError(`libsodium: ${msg}`) }
  const env = {
    [IMPORTS.assertFail]: (cond: number, file: number, line: number, fn: number) =>
      fail(`assertion failed: ${_cString(mod.HEAPU8, cond)} at ${_cString(mod.HEAPU8, file)}:${line} (${_cString(mod.HEAPU8, fn)})`),
    [IMPORTS.abort]: () => fail('abort()'),
    // libsodium's randombytes (an EM_ASM snippet in the glue) asks for one random u32 at a
    // time, and once checks that a source exists: ours is crypto.getRandomValues, checked above.
    [IMPORTS.asmConst]: (code: number) => {
      if (code === ASM_CONST.randomU32) return _randomU32()
      if (code === ASM_CONST.randomInit) return 0
      return fail(`unknown EM_ASM ${code}`)
    },
    [IMPORTS.resizeHeap]: (requested: number) => _resizeHeap(memory!, mod, requested)
  }
  const { instance } = await WebAssembly.instantiate(wasm, { [IMPORTS.module]: env })
  const exports = instance.exports as Record<string, unknown>
  memory = exports.memory as WebAssembly.Memory
  mod.HEAPU8 = new Uint8Array(memory.buffer)
  const fns = mod as unknown as Record<string, unknown>
  for (const name of EXPORTS) {
    if (typeof exports[name] !== 'function') throw HypercoreError.ASSERTION(`libsodium WASM lacks ${name}`)
    fns['_' + name] = exports[name]
  }
  return mod
}

/**
 * emscripten_resize_heap, as emscripten's glue does it: grow to at least `requested` bytes,
 * over-allocating by 20 % (capped at 96 MiB more than asked), retrying with less on failure;
 * the memory's own maximum is 2 GiB. Returns 1 on success, 0 on failure (malloc returns 0).
 */
function _resizeHeap (memory: WebAssembly.Memory, mod: RawSodium, requested: number): number {
  const oldSize = memory.buffer.byteLength
  requested >>>= 0
  const max = 2147483648
  if (requested > max) return 0
  for (let cutDown = 1; cutDown <= 4; cutDown *= 2) {
    const overGrown = Math.min(oldSize * (1 + 0.2 / cutDown), requested + 100663296)
    const newSize = Math.min(max, Math.ceil(Math.max(requested, overGrown) / 65536) * 65536)
    try {
      memory.grow((newSize - memory.buffer.byteLength + 65535) / 65536 | 0)
      mod.HEAPU8 = new Uint8Array(memory.buffer)
      return 1
    } catch {}
  }
  return 0
}

const word = new Uint32Array(1)
function _randomU32 (): number {
  globalThis.crypto.getRandomValues(word)
  return word[0]!
}

function _cString (heap: Uint8Array, ptr: number): string {
  if (ptr === 0) return '?'
  let end = ptr
  while (end < heap.length && heap[end] !== 0) end++
  return new TextDecoder().decode(heap.subarray(ptr, end))
}

/** Inflates zlib-format (RFC 1950) bytes with the platform's DecompressionStream. */
async function _inflate (bytes: Uint8Array<ArrayBuffer>): Promise<Uint8Array<ArrayBuffer>> {
  const reader = new Blob([bytes]).stream().pipeThrough(new DecompressionStream('deflate')).getReader()
  const chunks: Uint8Array[] = []
  let total = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    chunks.push(value)
    total += value.byteLength
  }
  const out = new Uint8Array(total)
  let off = 0
  for (const c of chunks) { out.set(c, off); off += c.byteLength }
  return out
}

function _fromBase64 (b64: string): Uint8Array<ArrayBuffer> {
  const bin = atob(b64)
  const out = new Uint8Array(bin.length)
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i)
  return out
}
