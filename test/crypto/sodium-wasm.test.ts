/**
 * The trimmed libsodium WASM (src/crypto/sodium-wasm.ts): the file is what
 * scripts/sodium-wasm.mjs makes from the pinned libsodium-sumo, and the primitives it keeps
 * give libsodium's own answers (its wrappers over the full sumo build, a devDependency), for
 * the calls that no hypercore vector covers on its own: the Noise primitives, randomBytes, and
 * the loader's heap growth.
 */
import { before, test } from 'node:test'
import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import sodium from 'libsodium-wrappers-sumo'
import { bytesEqual, equal, ok, throwsWithCode } from '../helpers/assert.js'
import { cryptoReady, raw } from '../../src/crypto/sodium.js'
import { randomBytes, sign } from '../../src/crypto/sign.js'
import { chacha20poly1305Decrypt, chacha20poly1305Encrypt, scalarmultEd25519Noclamp, sha512 } from '../../src/crypto/noise-primitives.js'

before(async () => { await Promise.all([cryptoReady(), sodium.ready]) })

function rng (seed: number): (n: number) => Uint8Array {
  let s = seed
  return (n) => {
    const out = new Uint8Array(n)
    for (let i = 0; i < n; i++) { s = (s * 1103515245 + 12345) >>> 0; out[i] = s >>> 24 }
    return out
  }
}

test('src/crypto/sodium-wasm.ts is what scripts/sodium-wasm.mjs makes (run `npm run sodium-wasm` if not)', () => {
  const script = fileURLToPath(new URL('../../scripts/sodium-wasm.mjs', import.meta.url))
  execFileSync(process.execPath, [script, '--check'], { stdio: 'pipe' })
})

test('sha512 = libsodium crypto_hash_sha512, empty to several blocks', () => {
  const bytes = rng(1)
  for (const n of [0, 1, 32, 111, 112, 128, 129, 1000, 70000]) {
    const m = bytes(n)
    bytesEqual(sha512(m), sodium.crypto_hash_sha512(m), `length ${n}`)
  }
})

test('scalarmultEd25519Noclamp = libsodium, and null exactly where libsodium refuses', () => {
  const bytes = rng(2)
  let refused = 0
  for (let i = 0; i < 300; i++) {
    const n = bytes(32)
    n[31]! &= 127
    // Half valid points (public keys), half random bytes (mostly refused: off the curve).
    const p = i % 2 === 0 ? sodium.crypto_sign_seed_keypair(bytes(32)).publicKey : bytes(32)
    let want: Uint8Array | null
    try { want = sodium.crypto_scalarmult_ed25519_noclamp(n, p) } catch { want = null }
    const got = scalarmultEd25519Noclamp(n, p)
    if (want === null) { equal(got, null, `case ${i}`); refused++ } else bytesEqual(got, want, `case ${i}`)
  }
  ok(refused > 50 && refused < 300, `both outcomes covered (${refused} refused)`)
  const identity = new Uint8Array(32); identity[0] = 1
  equal(scalarmultEd25519Noclamp(new Uint8Array(32).fill(1), identity), null, 'small order')
  throwsWithCode(() => scalarmultEd25519Noclamp(new Uint8Array(31), identity), 'BAD_ARGUMENT')
})

test('chacha20poly1305 = libsodium IETF AEAD both ways; a flipped bit or short input decrypts to null', () => {
  const bytes = rng(3)
  for (const n of [0, 1, 15, 16, 17, 64, 1000]) {
    const [m, ad, nonce, key] = [bytes(n), bytes(n % 70), bytes(12), bytes(32)]
    const c = chacha20poly1305Encrypt(m, ad, nonce, key)
    bytesEqual(c, sodium.crypto_aead_chacha20poly1305_ietf_encrypt(m, ad, null, nonce, key), `encrypt ${n}`)
    bytesEqual(chacha20poly1305Decrypt(c, ad, nonce, key), m, `decrypt ${n}`)
    const bad = c.slice(); bad[bad.length - 1]! ^= 1
    equal(chacha20poly1305Decrypt(bad, ad, nonce, key), null, `tampered ${n}`)
  }
  equal(chacha20poly1305Decrypt(new Uint8Array(15), new Uint8Array(0), new Uint8Array(12), new Uint8Array(32)), null)
})

test('the heap grows past its initial 4 MiB (emscripten_resize_heap): a 20 MiB message signs and hashes as libsodium does', () => {
  const m = rng(4)(20 << 20)
  const sk = sodium.crypto_sign_seed_keypair(new Uint8Array(32).fill(9)).privateKey
  const before = raw().HEAPU8.byteLength
  const sig = sign(m, sk)
  ok(raw().HEAPU8.byteLength > before, 'HEAPU8 follows the grown memory')
  bytesEqual(sig, sodium.crypto_sign_detached(m, sk))
  bytesEqual(sha512(m), sodium.crypto_hash_sha512(m))
})

test('randomBytes: any length (more than one getRandomValues call), not constant', () => {
  for (const n of [0, 1, 65536, 65537, 200000]) equal(randomBytes(n).byteLength, n)
  const a = randomBytes(200000)
  ok(a.subarray(150000).some(b => b !== 0), 'the tail past the first 64 KiB is filled')
})
