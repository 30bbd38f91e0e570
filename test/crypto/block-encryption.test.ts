import { before, test } from 'node:test'
import { bytesEqual, equal, fromHex, hex, throwsWithCode } from '../helpers/assert.js'
import { cryptoReady } from '../../src/crypto/sodium.js'
import { BlockEncryption, PADDING, xsalsa20Xor } from '../../src/crypto/block-encryption.js'
import { leafHash, parentHash, treeHash } from '../../src/crypto/hash.js'
import { publicKey, utf8, vectors } from './fixtures.js'

before(() => cryptoReady())
const E = fromHex(vectors.encryption.encryptionKey)

test('compat key derivation: blockKey = H_K(E), blindingKey = H(blockKey)', () => {
  const enc = new BlockEncryption(E, publicKey, { compat: true })
  equal(enc.padding, 8)
  equal(PADDING, vectors.encryption.padding)
  bytesEqual(enc.blockKey, vectors.encryption.blockKey)
  bytesEqual(enc.blindingKey, vectors.encryption.blindingKey)
})

test('non-compat derivation: blockKey = H(BLOCK_ENCRYPTION ‖ K ‖ E)', () => {
  const enc = new BlockEncryption(E, publicKey, { compat: false })
  bytesEqual(enc.blockKey, vectors.encryption.nonCompatDerivationForSameKey.blockKey)
  bytesEqual(enc.blindingKey, vectors.encryption.nonCompatDerivationForSameKey.blindingKey)
})

test('isBlockKey uses the key as given', () => {
  const blockKey = fromHex(vectors.encryption.blockKey)
  const enc = new BlockEncryption(blockKey, new Uint8Array(32), { isBlockKey: true })
  bytesEqual(enc.blockKey, blockKey)
  bytesEqual(enc.blindingKey, vectors.encryption.blindingKey)
})

test('every block: stored bytes, blinded pad, ciphertext, nonce, leaf hash; decrypt; data file; tree hash', () => {
  const enc = new BlockEncryption(E, publicKey)
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
  const l = stored.map((s, i) => ({ index: 2 * i, size: s.byteLength, hash: leafHash(s) }))
  const p = { index: 1, size: l[0]!.size + l[1]!.size, hash: parentHash(l[0]!, l[1]!) }
  bytesEqual(treeHash([p, l[2]!]), vectors.encryption.treeHashLength3)
})

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
