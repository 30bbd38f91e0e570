import { before, test } from 'node:test'
import fc from 'fast-check'
import { equal, hex } from '../helpers/assert.js'
import { cryptoReady } from '../../src/crypto/sodium.js'
import { blake2b256, discoveryKey, leafHash, namespace, parentHash, treeHash } from '../../src/crypto/hash.js'
import { keyPair, sign, validateKeyPair, verify } from '../../src/crypto/sign.js'
import { reference as ref } from './reference.js'

// Black-box comparison with hypercore-crypto on random inputs (we run it, never copy it).
before(() => cryptoReady())

const bytes = (n: number): fc.Arbitrary<Uint8Array> => fc.uint8Array({ minLength: n, maxLength: n })
const node = fc.record({ index: fc.nat({ max: 2 ** 40 }), size: fc.nat({ max: 2 ** 52 }), hash: bytes(32) })
const runs = { numRuns: 300 }

test('keyPair(seed) and validateKeyPair agree', () => {
  fc.assert(fc.property(bytes(32), seed => {
    const a = keyPair(seed)
    const b = ref.keyPair(Buffer.from(seed))
    equal(hex(a.publicKey), hex(b.publicKey))
    equal(hex(a.secretKey), hex(b.secretKey))
    equal(validateKeyPair(a), ref.validateKeyPair({ publicKey: Buffer.from(a.publicKey), secretKey: Buffer.from(a.secretKey) }))
  }), runs)
})

test('sign is byte-identical and each side verifies the other', () => {
  fc.assert(fc.property(bytes(32), fc.uint8Array({ maxLength: 2048 }), fc.boolean(), (seed, msg, tamper) => {
    const kp = keyPair(seed)
    const ours = sign(msg, kp.secretKey)
    const theirs = ref.sign(Buffer.from(msg), Buffer.from(kp.secretKey))
    equal(hex(ours), hex(theirs))
    const sig = ours.slice()
    if (tamper) sig[msg.length % 64]! ^= 0x20
    equal(verify(msg, sig, kp.publicKey), ref.verify(Buffer.from(msg), Buffer.from(sig), Buffer.from(kp.publicKey)))
    equal(verify(msg, sig, kp.publicKey), !tamper)
  }), runs)
})

test('verify agrees on random (mostly invalid) signatures and keys', () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), bytes(64), bytes(32), (msg, sig, pk) => {
    equal(verify(msg, sig, pk), ref.verify(Buffer.from(msg), Buffer.from(sig), Buffer.from(pk)))
  }), runs)
})

test('leaf (data) hashes agree, including empty and multi-KiB blocks', () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 70_000 }), data => {
    equal(hex(leafHash(data)), hex(ref.data(Buffer.from(data))))
  }), { numRuns: 100 })
})

test('parent hashes agree (including sizes above 2^32 and swapped arguments)', () => {
  fc.assert(fc.property(node, node, (a, b) => {
    if (a.index === b.index) b = { ...b, index: b.index + 1 }
    if (a.size + b.size > Number.MAX_SAFE_INTEGER) return
    equal(hex(parentHash(a, b)), hex(ref.parent(a, b)))
  }), runs)
})

test('tree hashes agree for 0..8 roots', () => {
  fc.assert(fc.property(fc.array(node, { maxLength: 8 }), roots => {
    equal(hex(treeHash(roots)), hex(ref.tree(roots)))
  }), runs)
})

test('discovery keys, plain hashes and namespaces agree', () => {
  fc.assert(fc.property(bytes(32), fc.uint8Array({ maxLength: 500 }), (key, data) => {
    equal(hex(discoveryKey(key)), hex(ref.discoveryKey(Buffer.from(key))))
    equal(hex(blake2b256(data)), hex(ref.hash(Buffer.from(data))))
  }), runs)
  fc.assert(fc.property(fc.string({ maxLength: 40 }), fc.nat({ max: 8 }), (name, count) => {
    equal(namespace(name, count).map(hex).join(), ref.namespace(name, count).map(hex).join())
  }), { numRuns: 100 })
})

test('XSalsa20 (chunked through the WASM heap) agrees with native crypto_stream_xor', async () => {
  const { createRequire } = await import('node:module')
  const native = createRequire(import.meta.url)('sodium-native') as {
    crypto_stream_xor (c: Uint8Array, m: Uint8Array, n: Uint8Array, k: Uint8Array): void
  }
  const { xsalsa20Xor } = await import('../../src/crypto/block-encryption.js')
  fc.assert(fc.property(fc.integer({ min: 0, max: 300_000 }), bytes(24), bytes(32), (len, nonce, key) => {
    const m = new Uint8Array(len).map((_, i) => (i * 13) & 0xff)
    const c = Buffer.alloc(len)
    native.crypto_stream_xor(c, Buffer.from(m), Buffer.from(nonce), Buffer.from(key))
    equal(hex(xsalsa20Xor(m, nonce, key)), hex(c))
  }), { numRuns: 40 })
})

test('sign/verify of a message above the scratch size (temporary heap allocation) agree', () => {
  const kp = keyPair(new Uint8Array(32).fill(5))
  const msg = new Uint8Array(3 * 1024 * 1024).map((_, i) => i & 0xff)
  const ours = sign(msg, kp.secretKey)
  equal(hex(ours), hex(ref.sign(Buffer.from(msg), Buffer.from(kp.secretKey))))
  equal(verify(msg, ours, kp.publicKey), true)
  msg[12345]! ^= 1
  equal(verify(msg, ours, kp.publicKey), false)
})
