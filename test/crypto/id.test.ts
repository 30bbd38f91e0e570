// The vector checks of this module run in Node and Chromium: test/vectors/crypto-vectors.ts.
import { before, test } from 'node:test'
import { bytesEqual, equal, hex, throwsWithCode } from '../helpers/assert.js'
import { cryptoReady } from '../../src/crypto/sodium.js'
import { decodeId, encodeId, normalizeKey, z32Decode, z32Encode } from '../../src/crypto/id.js'
import { publicKey, vectors } from './fixtures.js'

before(() => cryptoReady())

test('decodeId accepts 64-char hex (either case) and a pear:// prefix', () => {
  bytesEqual(decodeId(vectors.keyPair.publicKey), publicKey)
  bytesEqual(decodeId(vectors.keyPair.publicKey.toUpperCase()), publicKey)
  bytesEqual(decodeId('pear://' + vectors.compat.id), publicKey)
  bytesEqual(decodeId('pear://' + vectors.keyPair.publicKey), publicKey)
  bytesEqual(normalizeKey(vectors.compat.id), publicKey)
  equal(normalizeKey(publicKey), publicKey)
})

test('z32 round trips every length 0..40 and a known string', () => {
  for (let n = 0; n <= 40; n++) {
    const b = new Uint8Array(n).map((_, i) => (i * 37 + n) & 0xff)
    equal(hex(z32Decode(z32Encode(b))), hex(b), `length ${n}`)
  }
  equal(z32Encode(new Uint8Array([0xf0, 0xbf, 0xc7])), '6n9hq', 'z-base-32 spec example')
})

test('bad ids throw BAD_ARGUMENT', () => {
  throwsWithCode(() => decodeId(vectors.compat.id.slice(1)), 'BAD_ARGUMENT', 'too short')
  throwsWithCode(() => decodeId(vectors.compat.id.slice(0, -1) + 'l'), 'BAD_ARGUMENT', 'l is not in the alphabet')
  throwsWithCode(() => decodeId(vectors.compat.id.slice(0, -1) + '9'), 'BAD_ARGUMENT', 'non-zero padding bits')
  throwsWithCode(() => decodeId(vectors.keyPair.publicKey.slice(0, 62) + 'zz'), 'BAD_ARGUMENT', 'bad hex is not z32 either')
  throwsWithCode(() => decodeId(42 as never), 'BAD_ARGUMENT')
  throwsWithCode(() => encodeId(new Uint8Array(31)), 'BAD_ARGUMENT')
  throwsWithCode(() => normalizeKey(new Uint8Array(33)), 'BAD_ARGUMENT')
})
