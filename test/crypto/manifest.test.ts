// The vector checks of this module run in Node and Chromium: test/vectors/crypto-vectors.ts.
import { before, test } from 'node:test'
import { deepEqual, equal, fromHex, throwsWithCode } from '../helpers/assert.js'
import { cryptoReady } from '../../src/crypto/sodium.js'
import { DEFAULT_NAMESPACE } from '../../src/crypto/caps.js'
import {
  createManifest, decodeManifest, defaultManifest, encodeManifest, isCompat, type Manifest
} from '../../src/crypto/manifest.js'
import { publicKey, vectors } from './fixtures.js'

before(() => cryptoReady())

test('round trips: v1 multi-signer with prologue and allowPatch; v0 type 0 and type 2', () => {
  const k = (b: number): Uint8Array => new Uint8Array(32).fill(b)
  const cases: Manifest[] = [
    createManifest({ allowPatch: true, quorum: 2, signers: [{ publicKey: k(1) }, { publicKey: k(2), namespace: k(9) }, { publicKey: k(3) }], prologue: { hash: k(7), length: 300 } }),
    createManifest({ version: 0, prologue: { hash: k(5), length: 0 } }),
    createManifest({ version: 0, allowPatch: true, signers: [{ publicKey: k(1) }, { publicKey: k(2) }] })
  ]
  for (const m of cases) deepEqual(decodeManifest(encodeManifest(m)), m)
  const e = encodeManifest(cases[0]!)
  equal(e[0], 1); equal(e[1], 3, 'flags: allowPatch | prologue'); equal(e[2], 0); equal(e[3], 2); equal(e[4], 3)
  equal(cases[2]!.quorum, 2, 'default quorum ⌊2/2⌋+1')
  equal(encodeManifest(cases[1]!)[2], 0, 'v0 type 0')
  equal(encodeManifest(cases[2]!)[2], 2, 'v0 type 2')
})

test('isCompat', () => {
  equal(isCompat(publicKey, defaultManifest(publicKey)), true)
  equal(isCompat(fromHex(vectors.manifestV1.key), defaultManifest(publicKey)), false)
  equal(isCompat(publicKey, null), false)
  equal(isCompat(publicKey, createManifest({ signers: [{ publicKey }, { publicKey: new Uint8Array(32) }] })), false)
})

test('bad manifests: typed errors', () => {
  throwsWithCode(() => decodeManifest(fromHex(vectors.manifestV1.manifestEncoded).subarray(0, 40)), 'DECODING_ERROR')
  const extra = new Uint8Array(71); extra.set(fromHex(vectors.manifestV1.manifestEncoded))
  throwsWithCode(() => decodeManifest(extra), 'DECODING_ERROR', 'trailing byte')
  throwsWithCode(() => decodeManifest(new Uint8Array([2])), 'DECODING_ERROR', 'version 2')
  throwsWithCode(() => decodeManifest(new Uint8Array([1, 0, 1])), 'DECODING_ERROR', 'hash type 1')
  throwsWithCode(() => createManifest({ version: 2, signers: [{ publicKey }] }), 'BAD_ARGUMENT')
  throwsWithCode(() => createManifest({ signers: [{ publicKey: new Uint8Array(31) }] }), 'BAD_ARGUMENT')
  throwsWithCode(() => createManifest({ signers: [] }), 'BAD_ARGUMENT')
  throwsWithCode(() => createManifest({ signers: [{ publicKey, signature: 'rsa' }] }), 'BAD_ARGUMENT')
  throwsWithCode(() => encodeManifest(createManifest({ version: 0, signers: [{ publicKey }], prologue: { hash: DEFAULT_NAMESPACE, length: 1 } })), 'BAD_ARGUMENT')
})
