// The vector checks of this module run in Node and Chromium: test/vectors/crypto-vectors.ts.
import { before, test } from 'node:test'
import { deepEqual, equal } from '../helpers/assert.js'
import { cryptoReady } from '../../src/crypto/sodium.js'
import * as caps from '../../src/crypto/caps.js'
import { namespace } from '../../src/crypto/hash.js'

before(() => cryptoReady())

test('namespace(name, 0) is empty and every constant is 32 bytes', () => {
  deepEqual(namespace('hypercore', 0), [])
  for (const name of ['TREE', 'REPLICATE_INITIATOR', 'REPLICATE_RESPONDER', 'MANIFEST', 'DEFAULT_NAMESPACE', 'BLOCK_ENCRYPTION', 'NS_INITIATOR', 'NS_RESPONDER', 'NS_SEND'] as const) {
    equal(caps[name].byteLength, 32, name)
  }
})
