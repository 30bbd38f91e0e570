// The vector checks of this module run in Node and Chromium: test/vectors/crypto-vectors.ts.
import { before, test } from 'node:test'
import { equal, throwsWithCode } from '../helpers/assert.js'
import { cryptoReady } from '../../src/crypto/sodium.js'
import { keyPair, randomBytes, sign, validateKeyPair, verify } from '../../src/crypto/sign.js'
import { publicKey, secretKey } from './fixtures.js'

before(() => cryptoReady())

test('random key pairs differ and validate', () => {
  const a = keyPair()
  const b = keyPair()
  equal(a.publicKey.byteLength, 32)
  equal(a.secretKey.byteLength, 64)
  equal(Buffer.compare(a.publicKey, b.publicKey) !== 0, true)
  equal(validateKeyPair(a), true)
  equal(randomBytes(16).byteLength, 16)
})

test('verify returns false for tampered data, wrong key, and wrong lengths', () => {
  const msg = new Uint8Array([1, 2, 3])
  const sig = sign(msg, secretKey)
  equal(verify(new Uint8Array([1, 2, 4]), sig, publicKey), false)
  const bad = sig.slice(); bad[0]! ^= 1
  equal(verify(msg, bad, publicKey), false)
  equal(verify(msg, sig, keyPair().publicKey), false)
  equal(verify(msg, sig.subarray(0, 63), publicKey), false)
  equal(verify(msg, new Uint8Array(65), publicKey), false)
  equal(verify(msg, sig, publicKey.subarray(0, 31)), false)
  equal(verify(msg, sig, new Uint8Array(32)), false, 'small-order / zero public key')
})

test('bad argument types throw BAD_ARGUMENT', () => {
  const sig = sign(new Uint8Array(1), secretKey)
  throwsWithCode(() => verify('x' as never, sig, publicKey), 'BAD_ARGUMENT')
  throwsWithCode(() => verify(new Uint8Array(1), null as never, publicKey), 'BAD_ARGUMENT')
  throwsWithCode(() => verify(new Uint8Array(1), sig, [1, 2] as never), 'BAD_ARGUMENT')
  throwsWithCode(() => sign(new Uint8Array(1), secretKey.subarray(0, 32)), 'BAD_ARGUMENT')
  throwsWithCode(() => sign('x' as never, secretKey), 'BAD_ARGUMENT')
  throwsWithCode(() => keyPair(new Uint8Array(31)), 'BAD_ARGUMENT')
  throwsWithCode(() => randomBytes(-1), 'BAD_ARGUMENT')
  throwsWithCode(() => validateKeyPair(null as never), 'BAD_ARGUMENT')
})

test('validateKeyPair', () => {
  equal(validateKeyPair({ publicKey, secretKey }), true)
  equal(validateKeyPair({ publicKey: keyPair().publicKey, secretKey }), false)
  const wrongHalf = secretKey.slice(); wrongHalf[40]! ^= 1
  equal(validateKeyPair({ publicKey, secretKey: wrongHalf }), false, 'embedded public half differs')
  equal(validateKeyPair({ publicKey, secretKey: secretKey.subarray(0, 63) }), false)
})
