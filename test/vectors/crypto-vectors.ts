/**
 * @module test/vectors/crypto-vectors
 * Every crypto value of vectors.json and the capability / stream-id values of
 * wire-transcript.json, as a shared suite: node:test runs it (vectors.test.ts) and so does a
 * Chromium page (web-test/pages/vectors.page.ts), so the WASM sodium path is checked against
 * hypercore@10's bytes in both runtimes. Cases assume `cryptoReady()` has resolved.
 */
import { bytesEqual, deepEqual, equal, fromHex, type SuiteCase } from '../helpers/assert.js'
import * as caps from '../../src/crypto/caps.js'
import {
  blake2b256, capability, discoveryKey, leafHash, namespace, parentHash, streamId, treeHash
} from '../../src/crypto/hash.js'
import { keyPair, sign, verify } from '../../src/crypto/sign.js'
import { compatSignable } from '../../src/crypto/signable.js'
import { createManifest, decodeManifest, defaultManifest, encodeManifest, manifestHash } from '../../src/crypto/manifest.js'
import { decodeMultisig } from '../../src/crypto/multisig.js'
import { Verifier } from '../../src/crypto/verifier.js'
import { decodeId, encodeId } from '../../src/crypto/id.js'
import { BlockEncryption, PADDING, xsalsa20Xor } from '../../src/crypto/block-encryption.js'
import { node, publicKey, secretKey, seed, transcript, utf8, vectors } from './fixtures.js'

const kp = { publicKey, secretKey }
const E = (): Uint8Array => fromHex(vectors.encryption.encryptionKey)

export const cryptoVectorCases: Array<SuiteCase<void>> = [
  // §1.2 namespaces
  {
    name: 'hypercore namespaces: hardcoded = namespace("hypercore", 6) = vectors',
    async run () {
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
    }
  },
  {
    name: 'secret-stream namespaces: hardcoded = namespace("hyperswarm/secret-stream", 3) = vectors',
    async run () {
      const v = vectors.namespaces['hyperswarm/secret-stream']
      const ns = namespace(caps.NAMESPACES.secretStream.name, caps.NAMESPACES.secretStream.count)
      const names = ['NS_INITIATOR', 'NS_RESPONDER', 'NS_SEND'] as const
      names.forEach((name, i) => {
        bytesEqual(caps[name], v[name], name)
        bytesEqual(ns[i], v[name], `derived ${name}`)
      })
    }
  },

  // §2.1 key pair
  {
    name: 'keyPair from seed 32×0x01 matches the vector; secretKey = seed ‖ publicKey',
    async run () {
      const k = keyPair(seed)
      bytesEqual(k.publicKey, publicKey)
      bytesEqual(k.secretKey, secretKey)
      bytesEqual(k.secretKey.subarray(0, 32), seed)
      bytesEqual(k.secretKey.subarray(32), publicKey)
    }
  },

  // §2.5 hashes
  {
    name: 'leaf hashes of "a", "b", "c" (§2.5)',
    async run () {
      const nodes = vectors.compat.nodes.map(node)
      const byIndex = new Map(nodes.map((n: { index: number, hash: Uint8Array }) => [n.index, n.hash]))
      bytesEqual(leafHash(utf8('a')), byIndex.get(0) as Uint8Array)
      bytesEqual(leafHash(utf8('b')), byIndex.get(2) as Uint8Array)
      bytesEqual(leafHash(utf8('c')), byIndex.get(4) as Uint8Array)
      bytesEqual(leafHash(utf8('a')), vectors.compat.leafHashBlock0)
    }
  },
  {
    name: 'parent hash of nodes 0 and 2 is node 1 (§2.5), in either argument order',
    async run () {
      const n = vectors.compat.nodes.map(node)
      const [n0, n1, n2] = [n.find((x: { index: number }) => x.index === 0), n.find((x: { index: number }) => x.index === 1), n.find((x: { index: number }) => x.index === 2)]
      bytesEqual(parentHash(n0, n2), n1.hash)
      bytesEqual(parentHash(n2, n0), n1.hash, 'swapped')
    }
  },
  {
    name: 'tree hashes per length from roots (compat perLength, truncate)',
    async run () {
      for (const p of vectors.compat.perLength) bytesEqual(treeHash(p.roots.map(node)), p.treeHash, `length ${p.length}`)
      // §2.1: no roots hashes just 0x02
      bytesEqual(treeHash([]), blake2b256(new Uint8Array([2])))
    }
  },
  {
    name: 'tree hash after truncate(2) + append "d" (fork 1) is built from our own leaf/parent hashes',
    async run () {
      const a = { index: 0, size: 1, hash: leafHash(utf8('a')) }
      const b = { index: 2, size: 1, hash: leafHash(utf8('b')) }
      const p = { index: 1, size: 2, hash: parentHash(a, b) }
      bytesEqual(treeHash([p]), vectors.truncate.afterTruncateTo2.treeHash)
      const d = { index: 4, size: 1, hash: leafHash(utf8('d')) }
      bytesEqual(treeHash([p, d]), vectors.truncate.afterAppendD.treeHash)
    }
  },

  // §2.4 keys and ids, §5.4/§5.6 handshake-derived values
  {
    name: 'discovery keys of the compat, manifest v1 and manifest v0 keys',
    async run () {
      bytesEqual(discoveryKey(publicKey), vectors.compat.discoveryKey)
      bytesEqual(discoveryKey(fromHex(vectors.manifestV1.key)), vectors.manifestV1.discoveryKey)
      bytesEqual(discoveryKey(fromHex(vectors.manifestV0.key)), vectors.manifestV0.discoveryKey)
      bytesEqual(discoveryKey(fromHex(transcript.setup.coreKey)), transcript.setup.discoveryKey)
      bytesEqual(fromHex(vectors.compat.key), publicKey, 'a compat key is the writer public key')
    }
  },
  {
    name: 'ids of the compat and manifest-v1 keys (§2.4)',
    async run () {
      equal(encodeId(publicKey), vectors.compat.id)
      equal(encodeId(fromHex(vectors.manifestV1.key)), vectors.manifestV1.id)
      equal(vectors.compat.id.length, 52)
      bytesEqual(decodeId(vectors.compat.id), publicKey)
      bytesEqual(decodeId(vectors.manifestV1.id), vectors.manifestV1.key)
    }
  },
  {
    name: 'capability: handshakeHash 64×0x03 vectors and the deterministic-handshake vectors (§5.6)',
    async run () {
      const hh = new Uint8Array(64).fill(3)
      bytesEqual(hh, vectors.compat.capability.handshakeHash)
      bytesEqual(capability(hh, true, publicKey), vectors.compat.capability.initiator)
      bytesEqual(capability(hh, false, publicKey), vectors.compat.capability.responder)
      // the open message's handshake is `flags (1 = seeks) ‖ capability` (§5.6)
      const msg = fromHex(vectors.compat.capability.handshakeMessageEncoded)
      equal(msg[0], 1, 'handshake flags')
      bytesEqual(msg.subarray(1), capability(hh, true, publicKey), 'capability inside the handshake message')
      const real = fromHex(transcript.noise.handshakeHash)
      const key = fromHex(transcript.setup.coreKey)
      bytesEqual(capability(real, true, key), transcript.capability.initiator)
      bytesEqual(capability(real, false, key), transcript.capability.responder)
      bytesEqual(capability(real, true, key), 'f2361bb3ff49f384dc780b9dad46a9bb0691443202aa82c187d679bbd0cf713e')
      bytesEqual(capability(real, false, key), '229a9400202a72da0de84a6c77d036361d2cf94a5d64b22d59b0fb8a338ed10d')
      // and the capabilities each side actually sent in its open message
      const opens = transcript.messages.flatMap((m: { decoded: Array<{ control?: string, handshake?: { capability: string } }>, from: string }) =>
        m.decoded.filter((d) => d.control === 'open').map((d) => ({ from: m.from, cap: d.handshake!.capability })))
      equal(opens.length, 2, 'two open messages')
      for (const o of opens) bytesEqual(capability(real, o.from === transcript.setup.initiator, key), o.cap, `open from ${o.from}`)
    }
  },
  {
    name: 'stream ids of the recorded handshake (§5.4)',
    async run () {
      const hh = fromHex(transcript.noise.handshakeHash)
      bytesEqual(streamId(hh, true), transcript.secretstream.initiatorStreamId)
      bytesEqual(streamId(hh, false), transcript.secretstream.responderStreamId)
    }
  },

  // §2.3 manifests
  {
    name: 'default v1 manifest encodes to the vector and hashes to the manifest-v1 key',
    async run () {
      const m = defaultManifest(publicKey)
      const enc = encodeManifest(m)
      bytesEqual(enc, vectors.manifestV1.manifestEncoded)
      equal(enc.byteLength, 70)
      const input = new Uint8Array(32 + enc.byteLength); input.set(caps.MANIFEST); input.set(enc, 32)
      bytesEqual(input, vectors.manifestV1.manifestHashInput)
      bytesEqual(manifestHash(m), vectors.manifestV1.key)
      bytesEqual(blake2b256(input), vectors.manifestV1.key)
      deepEqual(decodeManifest(enc), m)
    }
  },
  {
    name: 'v0 single-signer manifest encodes to the vector and hashes to the manifest-v0 key',
    async run () {
      const m = createManifest({ version: 0, signers: [{ publicKey }] })
      bytesEqual(encodeManifest(m), vectors.manifestV0.manifestEncoded)
      bytesEqual(manifestHash(m), vectors.manifestV0.key)
      deepEqual(decodeManifest(fromHex(vectors.manifestV0.manifestEncoded)), m)
    }
  },
  {
    name: 'the manifest hypercore@10 stores for a compat core is the default manifest',
    async run () {
      const stored = vectors.compat.storage.oplog.headerSlots[0].decoded.manifest
      const m = defaultManifest(publicKey)
      bytesEqual(m.signers[0]!.namespace, stored.signers[0].namespace)
      bytesEqual(m.signers[0]!.publicKey, stored.signers[0].publicKey)
      equal(m.quorum, stored.quorum)
      equal(m.allowPatch, stored.allowPatch)
      // the summary copy in the vectors ({type:'Buffer',data}) says the same
      const s = vectors.compat.manifestStoredInHeader
      bytesEqual(m.signers[0]!.namespace, new Uint8Array(s.signers[0].namespace.data), 'manifestStoredInHeader namespace')
      bytesEqual(m.signers[0]!.publicKey, new Uint8Array(s.signers[0].publicKey.data), 'manifestStoredInHeader publicKey')
      equal(m.version, s.version)
      equal(m.hash, s.hash)
      equal(m.quorum, s.quorum)
      equal(m.allowPatch, s.allowPatch)
      equal(m.prologue, s.prologue)
      equal(m.signers[0]!.signature, s.signers[0].signature)
    }
  },

  // §2.2 signables and signatures per mode
  {
    name: 'Ed25519 signatures are the deterministic vectors (compat perLength, truncate)',
    async run () {
      for (const p of vectors.compat.perLength) {
        const sig = sign(fromHex(p.signable), secretKey)
        bytesEqual(sig, p.signature, `length ${p.length}`)
        equal(verify(fromHex(p.signable), sig, publicKey), true)
      }
      for (const t of [vectors.truncate.afterTruncateTo2, vectors.truncate.afterAppendD]) {
        const signable = compatSignable(fromHex(t.treeHash), t.length, t.fork)
        bytesEqual(sign(signable, secretKey), t.signature)
      }
    }
  },
  {
    name: 'compat: signables and raw signatures for lengths 1..3, verify true',
    async run () {
      const v = new Verifier({ key: publicKey })
      equal(v.compat, true)
      equal(v.compat, vectors.compat.compat)
      for (const p of vectors.compat.perLength) {
        const th = fromHex(p.treeHash)
        bytesEqual(v.signable(th, p.length, 0), p.signable)
        equal(v.signable(th, p.length, 0).byteLength, 80)
        bytesEqual(v.sign(th, p.length, 0, kp), p.signature)
        equal(v.verify(th, p.length, 0, fromHex(p.signature)), true)
        equal(v.verify(th, p.length, 1, fromHex(p.signature)), false, 'other fork')
        equal(v.verify(th, p.length + 1, 0, fromHex(p.signature)), false, 'other length')
      }
      const withManifest = new Verifier({ key: publicKey, manifest: defaultManifest(publicKey) })
      equal(withManifest.compat, true, 'compat inferred from manifest')
    }
  },
  {
    name: 'compat: truncate vectors (fork 1)',
    async run () {
      const v = new Verifier({ key: publicKey, compat: true })
      for (const t of [vectors.truncate.afterTruncateTo2, vectors.truncate.afterAppendD]) {
        bytesEqual(v.sign(fromHex(t.treeHash), t.length, t.fork, kp), t.signature)
        equal(v.verify(fromHex(t.treeHash), t.length, t.fork, fromHex(t.signature)), true)
        equal(v.verify(fromHex(t.treeHash), t.length, 0, fromHex(t.signature)), false)
      }
    }
  },
  {
    name: 'manifest v1: 112-byte signables, 68-byte envelopes, verify',
    async run () {
      const m = defaultManifest(publicKey)
      const key = fromHex(vectors.manifestV1.key)
      const v = new Verifier({ key, manifest: m })
      equal(v.compat, false)
      equal(v.compat, vectors.manifestV1.compat)
      for (const p of vectors.manifestV1.perLength) {
        const th = fromHex(p.treeHash)
        bytesEqual(v.signable(th, p.length, 0), p.signable)
        equal(v.signable(th, p.length, 0).byteLength, 112)
        const sig = v.sign(th, p.length, 0, kp)
        bytesEqual(sig, p.signature)
        equal(sig.byteLength, 68)
        bytesEqual(decodeMultisig(sig).proofs[0]!.signature, p.rawEd25519Signature)
        equal(v.verify(th, p.length, 0, sig), true)
        equal(v.verify(th, p.length, 0, fromHex(p.rawEd25519Signature)), false, 'raw signature is not an envelope')
        equal(v.verify(th, p.length + 1, 0, sig), false)
      }
    }
  },
  {
    name: 'manifest v0: 112-byte signables with the signer namespace, raw signatures',
    async run () {
      const m = createManifest({ version: 0, signers: [{ publicKey }] })
      const v = new Verifier({ key: fromHex(vectors.manifestV0.key), manifest: m })
      equal(v.compat, false)
      equal(v.compat, vectors.manifestV0.compat)
      for (const p of vectors.manifestV0.perLength) {
        const th = fromHex(p.treeHash)
        bytesEqual(v.signable(th, p.length, 0), p.signable)
        bytesEqual(v.sign(th, p.length, 0, kp), p.signature)
        equal(v.verify(th, p.length, 0, fromHex(p.signature)), true)
      }
    }
  },
  {
    name: 'encryption vector: compat signature over the encrypted tree (length 3)',
    async run () {
      const v = new Verifier({ key: publicKey })
      bytesEqual(v.sign(fromHex(vectors.encryption.treeHashLength3), 3, 0, kp), vectors.encryption.signatureLength3)
    }
  },

  // §4 block encryption
  {
    name: 'compat key derivation: blockKey = H_K(E), blindingKey = H(blockKey)',
    async run () {
      const enc = new BlockEncryption(E(), publicKey, { compat: true })
      equal(enc.padding, 8)
      equal(PADDING, vectors.encryption.padding)
      equal(vectors.encryption.compat, true)
      bytesEqual(enc.blockKey, vectors.encryption.blockKey)
      bytesEqual(enc.blindingKey, vectors.encryption.blindingKey)
    }
  },
  {
    name: 'non-compat derivation: blockKey = H(BLOCK_ENCRYPTION ‖ K ‖ E)',
    async run () {
      const enc = new BlockEncryption(E(), publicKey, { compat: false })
      bytesEqual(enc.blockKey, vectors.encryption.nonCompatDerivationForSameKey.blockKey)
      bytesEqual(enc.blindingKey, vectors.encryption.nonCompatDerivationForSameKey.blindingKey)
    }
  },
  {
    name: 'isBlockKey uses the key as given',
    async run () {
      const blockKey = fromHex(vectors.encryption.blockKey)
      const enc = new BlockEncryption(blockKey, new Uint8Array(32), { isBlockKey: true })
      bytesEqual(enc.blockKey, blockKey)
      bytesEqual(enc.blindingKey, vectors.encryption.blindingKey)
    }
  },
  {
    name: 'every block: stored bytes, blinded pad, ciphertext, nonce, leaf hash; decrypt; data file; tree hash',
    async run () {
      const enc = new BlockEncryption(E(), publicKey)
      const stored: Uint8Array[] = []
      for (const b of vectors.encryption.blocks) {
        const s = enc.encrypt(b.index, utf8(b.plaintext), 0)
        bytesEqual(s, b.stored, `block ${b.index}`)
        bytesEqual(s.subarray(0, 8), b.paddingBlindedFork)
        bytesEqual(s.subarray(8), b.ciphertext)
        // the nonce of the block cipher: u64le(index) ‖ pad ‖ 0^8 — check by re-encrypting with it
        bytesEqual(xsalsa20Xor(utf8(b.plaintext), fromHex(b.nonce), enc.blockKey), b.ciphertext, 'nonce')
        bytesEqual(leafHash(s), b.leafHash, 'leaf hash is over the stored bytes')
        equal(new TextDecoder().decode(enc.decrypt(b.index, s)), b.plaintext)
        stored.push(s)
      }
      const all = new Uint8Array(stored.reduce((n, s) => n + s.byteLength, 0))
      let off = 0
      for (const s of stored) { all.set(s, off); off += s.byteLength }
      bytesEqual(all, vectors.encryption.dataFileHex)
      equal(all.byteLength, vectors.encryption.treeByteLength)
      equal(stored.length, vectors.encryption.byteLength, 'three one-byte plaintexts')
      const l = stored.map((s, i) => ({ index: 2 * i, size: s.byteLength, hash: leafHash(s) }))
      const p = { index: 1, size: l[0]!.size + l[1]!.size, hash: parentHash(l[0]!, l[1]!) }
      bytesEqual(treeHash([p, l[2]!]), vectors.encryption.treeHashLength3)
    }
  }
]
