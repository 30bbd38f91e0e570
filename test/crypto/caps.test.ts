import { before, test } from 'node:test'
import { bytesEqual, deepEqual, equal } from '../helpers/assert.js'
import { cryptoReady } from '../../src/crypto/sodium.js'
import * as caps from '../../src/crypto/caps.js'
import { namespace } from '../../src/crypto/hash.js'
import { vectors } from './fixtures.js'

before(() => cryptoReady())

test('hypercore namespaces: hardcoded = namespace("hypercore", 6) = vectors', () => {
  const v = vectors.namespaces.hypercore
  const ns = namespace(caps.NAMESPACES.hypercore.name, caps.NAMESPACES.hypercore.count)
  const names = ['TREE', 'REPLICATE_INITIATOR', 'REPLICATE_RESPONDER', 'MANIFEST', 'DEFAULT_NAMESPACE', 'BLOCK_ENCRYPTION'] as const
  equal(ns.length, 6)
  names.forEach((name, i) => {
    const want = v[`${name} (ns[${i}])`]
    equal(typeof want, 'string', `vector for ${name}`)
    bytesEqual(caps[name], want, name)
    bytesEqual(ns[i], want, `derived ${name}`)
  })
})

test('secret-stream namespaces: hardcoded = namespace("hyperswarm/secret-stream", 3) = vectors', () => {
  const v = vectors.namespaces['hyperswarm/secret-stream']
  const ns = namespace(caps.NAMESPACES.secretStream.name, caps.NAMESPACES.secretStream.count)
  const names = ['NS_INITIATOR', 'NS_RESPONDER', 'NS_SEND'] as const
  names.forEach((name, i) => {
    bytesEqual(caps[name], v[name], name)
    bytesEqual(ns[i], v[name], `derived ${name}`)
  })
})

test('namespace(name, 0) is empty and every constant is 32 bytes', () => {
  deepEqual(namespace('hypercore', 0), [])
  for (const name of ['TREE', 'REPLICATE_INITIATOR', 'REPLICATE_RESPONDER', 'MANIFEST', 'DEFAULT_NAMESPACE', 'BLOCK_ENCRYPTION', 'NS_INITIATOR', 'NS_RESPONDER', 'NS_SEND'] as const) {
    equal(caps[name].byteLength, 32, name)
  }
})
