// The vector checks of this module run in Node and Chromium: test/vectors/crypto-vectors.ts.
import { before, test } from 'node:test'
import { bytesEqual, equal, fromHex, throwsWithCode } from '../helpers/assert.js'
import { cryptoReady } from '../../src/crypto/sodium.js'
import { createManifest, defaultManifest, manifestHash } from '../../src/crypto/manifest.js'
import { encodeMultisig } from '../../src/crypto/multisig.js'
import { compatSignable } from '../../src/crypto/signable.js'
import { keyPair } from '../../src/crypto/sign.js'
import { Verifier } from '../../src/crypto/verifier.js'
import { publicKey, secretKey, vectors } from './fixtures.js'

before(() => cryptoReady())
const kp = { publicKey, secretKey }

test('v1 quorum: distinct in-range signers; duplicates and too few fail', () => {
  const a = keyPair(new Uint8Array(32).fill(0xa))
  const b = keyPair(new Uint8Array(32).fill(0xb))
  const c = keyPair(new Uint8Array(32).fill(0xc))
  const m = createManifest({ quorum: 2, signers: [a, b, c].map(k => ({ publicKey: k.publicKey })) })
  const v = new Verifier({ key: manifestHash(m), manifest: m })
  const th = new Uint8Array(32).fill(4)
  const pa = v.signProof(th, 5, 0, a)
  const pc = v.signProof(th, 5, 0, c)
  equal(pc.signer, 2)
  equal(v.verify(th, 5, 0, Verifier.assemble([pc, pa])), true, 'a + c')
  equal(v.verify(th, 5, 0, v.sign(th, 5, 0, a)), false, 'one of two')
  equal(v.verify(th, 5, 0, Verifier.assemble([pa, { ...pa }])), false, 'duplicate signer')
  equal(v.verify(th, 5, 0, encodeMultisig({ proofs: [pa, { ...pc, signer: 3 }], patch: [] })), false, 'out of range signer')
  equal(v.verify(th, 5, 0, Verifier.assemble([pa, { ...pc, signer: 1 }])), false, 'signature under the wrong signer')
  equal(v.verify(th, 5, 0, new Uint8Array([5, 1, 2])), false, 'garbage envelope')
  equal(v.verify(th, 5, 0, null), false)
  const withPatchNodes = encodeMultisig({ proofs: [pa, pc], patch: [{ index: 0, size: 1, hash: th }] })
  equal(v.verify(th, 5, 0, withPatchNodes), false, 'patch nodes without patches')
  equal(v.verify(th, 5, 0, encodeMultisig({ proofs: [{ ...pa, patch: 1 }, pc], patch: [] })), false, 'patch without allowPatch')
  throwsWithCode(() => v.sign(th, 5, 0, keyPair()), 'BAD_ARGUMENT', 'not a signer')
})

test('v1 patches under allowPatch are rejected as unsupported (INVALID_OPERATION)', () => {
  const m = createManifest({ allowPatch: true, signers: [{ publicKey }] })
  const v = new Verifier({ key: manifestHash(m), manifest: m })
  const th = new Uint8Array(32)
  const p = v.signProof(th, 3, 0, kp)
  equal(v.verify(th, 3, 0, Verifier.assemble([p])), true)
  throwsWithCode(() => v.verify(th, 3, 0, encodeMultisig({ proofs: [{ ...p, patch: 1 }], patch: [] })), 'INVALID_OPERATION')
})

test('v1 prologue rule: up to the prologue, the tree hash decides; beyond it, signatures do', () => {
  const prologueHash = new Uint8Array(32).fill(0x77)
  const m = createManifest({ signers: [{ publicKey }], prologue: { hash: prologueHash, length: 10 } })
  const v = new Verifier({ key: manifestHash(m), manifest: m })
  equal(v.verify(prologueHash, 10, 0, null), true)
  equal(v.verify(new Uint8Array(32), 10, 0, null), false)
  equal(v.verify(prologueHash, 9, 0, null), false, 'shorter than the prologue')
  const th = new Uint8Array(32).fill(1)
  equal(v.verify(th, 11, 0, null), false)
  equal(v.verify(th, 11, 0, v.sign(th, 11, 0, kp)), true)
})

test('constructor errors and unsupported v0 multisig', () => {
  throwsWithCode(() => new Verifier({ key: publicKey, compat: false }), 'BAD_ARGUMENT', 'manifest needed')
  throwsWithCode(() => new Verifier({ key: new Uint8Array(32), manifest: defaultManifest(publicKey) }), 'BAD_ARGUMENT', 'hash mismatch')
  throwsWithCode(() => new Verifier({ key: fromHex(vectors.manifestV1.key), manifest: defaultManifest(publicKey), compat: true }), 'BAD_ARGUMENT')
  throwsWithCode(() => new Verifier({ key: new Uint8Array(31) }), 'BAD_ARGUMENT')
  const m0 = createManifest({ version: 0, signers: [{ publicKey }, { publicKey: keyPair().publicKey }] })
  const v0 = new Verifier({ key: manifestHash(m0), manifest: m0 })
  throwsWithCode(() => v0.verify(new Uint8Array(32), 1, 0, new Uint8Array(64)), 'INVALID_OPERATION')
  throwsWithCode(() => v0.sign(new Uint8Array(32), 1, 0, kp), 'INVALID_OPERATION')
  const v = new Verifier({ key: publicKey })
  throwsWithCode(() => v.verify(new Uint8Array(31), 1, 0, new Uint8Array(64)), 'BAD_ARGUMENT')
  throwsWithCode(() => v.verify(new Uint8Array(32), -1, 0, new Uint8Array(64)), 'BAD_ARGUMENT')
  equal(v.verify(new Uint8Array(32), 1, 0, new Uint8Array(10)), false, 'short signature')
  bytesEqual(compatSignable(new Uint8Array(32), 2 ** 53 - 1, 0).subarray(64, 72), 'ffffffffffff1f00')
})
