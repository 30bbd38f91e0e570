import { before, test } from 'node:test'
import { bytesEqual, deepEqual, equal, fromHex, throwsWithCode } from '../helpers/assert.js'
import { cryptoReady } from '../../src/crypto/sodium.js'
import { DEFAULT_NAMESPACE, MANIFEST } from '../../src/crypto/caps.js'
import { blake2b256 } from '../../src/crypto/hash.js'
import {
  createManifest, decodeManifest, defaultManifest, encodeManifest, isCompat, manifestHash, type Manifest
} from '../../src/crypto/manifest.js'
import { publicKey, vectors } from './fixtures.js'

before(() => cryptoReady())

test('default v1 manifest encodes to the vector and hashes to the manifest-v1 key', () => {
  const m = defaultManifest(publicKey)
  const enc = encodeManifest(m)
  bytesEqual(enc, vectors.manifestV1.manifestEncoded)
  equal(enc.byteLength, 70)
  const input = new Uint8Array(32 + enc.byteLength); input.set(MANIFEST); input.set(enc, 32)
  bytesEqual(input, vectors.manifestV1.manifestHashInput)
  bytesEqual(manifestHash(m), vectors.manifestV1.key)
  bytesEqual(blake2b256(input), vectors.manifestV1.key)
  deepEqual(decodeManifest(enc), m)
})

test('v0 single-signer manifest encodes to the vector and hashes to the manifest-v0 key', () => {
  const m = createManifest({ version: 0, signers: [{ publicKey }] })
  bytesEqual(encodeManifest(m), vectors.manifestV0.manifestEncoded)
  bytesEqual(manifestHash(m), vectors.manifestV0.key)
  deepEqual(decodeManifest(fromHex(vectors.manifestV0.manifestEncoded)), m)
})

test('the manifest hypercore@10 stores for a compat core is the default manifest', () => {
  const stored = vectors.compat.storage.oplog.headerSlots[0].decoded.manifest
  const m = defaultManifest(publicKey)
  bytesEqual(m.signers[0]!.namespace, stored.signers[0].namespace)
  bytesEqual(m.signers[0]!.publicKey, stored.signers[0].publicKey)
  equal(m.quorum, stored.quorum)
  equal(m.allowPatch, stored.allowPatch)
})

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
