// The vector checks of this module run in Node and Chromium: test/vectors/crypto-vectors.ts.
import { before, test } from 'node:test'
import { equal, fromHex, hex, throwsWithCode } from '../helpers/assert.js'
import { cryptoReady } from '../../src/crypto/sodium.js'
import { BlockEncryption, xsalsa20Xor } from '../../src/crypto/block-encryption.js'
import { publicKey, utf8, vectors } from './fixtures.js'

before(() => cryptoReady())
const E = fromHex(vectors.encryption.encryptionKey)

test('fork is carried by the pad and is not needed to decrypt; large blocks round-trip', () => {
  const enc = new BlockEncryption(E, publicKey)
  const a = enc.encrypt(5, utf8('hello'), 0)
  const b = enc.encrypt(5, utf8('hello'), 7)
  equal(hex(a) !== hex(b), true)
  equal(new TextDecoder().decode(enc.decrypt(5, b)), 'hello')
  const big = new Uint8Array(200_000).map((_, i) => i & 0xff)
  const s = enc.encrypt(2 ** 40, big, 2 ** 33)
  equal(hex(enc.decrypt(2 ** 40, s)), hex(big))
  equal(hex(enc.encrypt(0, new Uint8Array(0), 0).subarray(0, 8)), vectors.encryption.blocks[0].paddingBlindedFork, 'empty block still has a pad')
  equal(hex(xsalsa20Xor(xsalsa20Xor(big, new Uint8Array(24), E), new Uint8Array(24), E)), hex(big))
})

test('bad inputs throw BAD_ARGUMENT', () => {
  throwsWithCode(() => new BlockEncryption(new Uint8Array(31), publicKey), 'BAD_ARGUMENT')
  throwsWithCode(() => new BlockEncryption(E, 'key' as never), 'BAD_ARGUMENT')
  const enc = new BlockEncryption(E, publicKey)
  throwsWithCode(() => enc.decrypt(0, new Uint8Array(7)), 'BAD_ARGUMENT')
  throwsWithCode(() => enc.encrypt(-1, new Uint8Array(1), 0), 'BAD_ARGUMENT')
  throwsWithCode(() => enc.encrypt(0, 'a' as never, 0), 'BAD_ARGUMENT')
  throwsWithCode(() => xsalsa20Xor(new Uint8Array(1), new Uint8Array(23), E), 'BAD_ARGUMENT')
})
