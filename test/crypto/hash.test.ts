import { before, test } from 'node:test'
import { bytesEqual, equal, fromHex, hex, ok, throwsWithCode } from '../helpers/assert.js'
import { cryptoReady } from '../../src/crypto/sodium.js'
import {
  Blake2b, blake2b256, blake2b512, blake2bParts, capability, discoveryKey, leafHash, parentHash, streamId, treeHash
} from '../../src/crypto/hash.js'
import { node, publicKey, transcript, utf8, vectors } from './fixtures.js'

before(() => cryptoReady())

test('leaf hashes of "a", "b", "c" (§2.5)', () => {
  const nodes = vectors.compat.nodes.map(node)
  const byIndex = new Map(nodes.map((n: { index: number, hash: Uint8Array }) => [n.index, n.hash]))
  bytesEqual(leafHash(utf8('a')), byIndex.get(0) as Uint8Array)
  bytesEqual(leafHash(utf8('b')), byIndex.get(2) as Uint8Array)
  bytesEqual(leafHash(utf8('c')), byIndex.get(4) as Uint8Array)
  bytesEqual(leafHash(utf8('a')), vectors.compat.leafHashBlock0)
})

test('parent hash of nodes 0 and 2 is node 1 (§2.5), in either argument order', () => {
  const n = vectors.compat.nodes.map(node)
  const [n0, n1, n2] = [n.find((x: { index: number }) => x.index === 0), n.find((x: { index: number }) => x.index === 1), n.find((x: { index: number }) => x.index === 2)]
  bytesEqual(parentHash(n0, n2), n1.hash)
  bytesEqual(parentHash(n2, n0), n1.hash, 'swapped')
})

test('tree hashes per length from roots (compat perLength, truncate)', () => {
  for (const p of vectors.compat.perLength) bytesEqual(treeHash(p.roots.map(node)), p.treeHash, `length ${p.length}`)
  // §2.1: no roots hashes just 0x02
  bytesEqual(treeHash([]), blake2b256(new Uint8Array([2])))
})

test('tree hash after truncate(2) + append "d" (fork 1) is built from our own leaf/parent hashes', () => {
  const a = { index: 0, size: 1, hash: leafHash(utf8('a')) }
  const b = { index: 2, size: 1, hash: leafHash(utf8('b')) }
  const p = { index: 1, size: 2, hash: parentHash(a, b) }
  bytesEqual(treeHash([p]), vectors.truncate.afterTruncateTo2.treeHash)
  const d = { index: 4, size: 1, hash: leafHash(utf8('d')) }
  bytesEqual(treeHash([p, d]), vectors.truncate.afterAppendD.treeHash)
})

test('discovery keys of the compat, manifest v1 and manifest v0 keys', () => {
  bytesEqual(discoveryKey(publicKey), vectors.compat.discoveryKey)
  bytesEqual(discoveryKey(fromHex(vectors.manifestV1.key)), vectors.manifestV1.discoveryKey)
  bytesEqual(discoveryKey(fromHex(vectors.manifestV0.key)), vectors.manifestV0.discoveryKey)
  bytesEqual(discoveryKey(fromHex(transcript.setup.coreKey)), transcript.setup.discoveryKey)
})

test('capability: handshakeHash 64×0x03 vectors and the deterministic-handshake vectors (§5.6)', () => {
  const hh = new Uint8Array(64).fill(3)
  bytesEqual(capability(hh, true, publicKey), vectors.compat.capability.initiator)
  bytesEqual(capability(hh, false, publicKey), vectors.compat.capability.responder)
  const real = fromHex(transcript.noise.handshakeHash)
  const key = fromHex(transcript.setup.coreKey)
  bytesEqual(capability(real, true, key), transcript.capability.initiator)
  bytesEqual(capability(real, false, key), transcript.capability.responder)
  bytesEqual(capability(real, true, key), 'f2361bb3ff49f384dc780b9dad46a9bb0691443202aa82c187d679bbd0cf713e')
  bytesEqual(capability(real, false, key), '229a9400202a72da0de84a6c77d036361d2cf94a5d64b22d59b0fb8a338ed10d')
})

test('stream ids of the recorded handshake (§5.4)', () => {
  const hh = fromHex(transcript.noise.handshakeHash)
  bytesEqual(streamId(hh, true), transcript.secretstream.initiatorStreamId)
  bytesEqual(streamId(hh, false), transcript.secretstream.responderStreamId)
})

test('blake2bParts equals blake2b of the concatenation; streamed (big) equals one-shot', () => {
  const a = utf8('hello ')
  const b = utf8('world')
  bytesEqual(blake2bParts([a, b]), blake2b256(utf8('hello world')))
  bytesEqual(blake2bParts([a, b], 64), blake2b512(utf8('hello world')))
  const key = new Uint8Array(32).fill(9)
  bytesEqual(blake2bParts([a, b], 32, key), blake2b256(utf8('hello world'), key))
  // Known answer: BLAKE2b-512("abc") (RFC 7693 appendix A)
  bytesEqual(blake2b512(utf8('abc')), 'ba80a53f981c4d0d6a2797b69f12f6e94c212f14685ac4b74b12bb6fdbffa2d17d87c5392aab792dc252d5de4533cc9518d38aa8dbf1925ab92386edd4009923')
  const big = new Uint8Array(3 * 1024 * 1024 + 17)
  for (let i = 0; i < big.length; i++) big[i] = (i * 31) & 0xff
  const h = new Blake2b(32)
  h.update(big.subarray(0, 1000)).update(big.subarray(1000))
  const streamed = h.digest()
  bytesEqual(blake2b256(big), streamed, 'big one-shot (internally streamed) = explicit stream')
  bytesEqual(blake2bParts([big.subarray(0, 5), big.subarray(5)]), streamed)
  // leafHash over the threshold takes the streamed path: compare with the prefix built by hand
  const prefix = new Uint8Array(9)
  prefix[1] = big.length & 0xff; prefix[2] = (big.length >>> 8) & 0xff; prefix[3] = (big.length >>> 16) & 0xff
  bytesEqual(leafHash(big), blake2bParts([prefix, big]))
  throwsWithCode(() => h.digest(), 'INVALID_OPERATION', 'digest twice')
})

test('u64 fields are little-endian beyond 2^32', () => {
  const h = new Uint8Array(32).fill(1)
  const size = 2 ** 40 + 5
  const manual = new Uint8Array(1 + 8 + 64)
  manual[0] = 1
  manual[1] = 10; manual[1 + 5] = 2 // 2·(2^40 + 5) = 2^41 + 10: byte 5 holds bits 40..47
  manual.set(h, 9); manual.set(h, 41)
  bytesEqual(parentHash({ index: 0, size, hash: h }, { index: 2, size, hash: h }), blake2b256(manual))
})

test('bad inputs throw BAD_ARGUMENT', () => {
  const h = new Uint8Array(32)
  throwsWithCode(() => leafHash('a' as unknown as Uint8Array), 'BAD_ARGUMENT')
  throwsWithCode(() => parentHash({ index: 0, size: 1, hash: new Uint8Array(31) }, { index: 2, size: 1, hash: h }), 'BAD_ARGUMENT')
  throwsWithCode(() => parentHash({ index: 0, size: -1, hash: h }, { index: 2, size: 1, hash: h }), 'BAD_ARGUMENT')
  throwsWithCode(() => parentHash({ index: 0, size: 1.5, hash: h }, { index: 2, size: 1, hash: h }), 'BAD_ARGUMENT')
  throwsWithCode(() => parentHash(null as never, { index: 2, size: 1, hash: h }), 'BAD_ARGUMENT')
  throwsWithCode(() => treeHash({} as never), 'BAD_ARGUMENT')
  throwsWithCode(() => treeHash([{ index: 0, size: 2 ** 53, hash: h }]), 'BAD_ARGUMENT')
  throwsWithCode(() => discoveryKey(new Uint8Array(31)), 'BAD_ARGUMENT')
  throwsWithCode(() => capability(new Uint8Array(32), true, h), 'BAD_ARGUMENT', 'handshake hash must be 64')
  throwsWithCode(() => streamId(new Uint8Array(63), true), 'BAD_ARGUMENT')
  throwsWithCode(() => blake2bParts([h], 65), 'BAD_ARGUMENT')
  throwsWithCode(() => blake2b256(h, new Uint8Array(65)), 'BAD_ARGUMENT')
  // results are fresh copies, not views of the WASM heap
  const x = leafHash(utf8('a'))
  const y = leafHash(utf8('b'))
  ok(hex(x) !== hex(y))
  equal(x.buffer.byteLength, 32)
})
