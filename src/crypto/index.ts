/**
 * @module crypto
 * The crypto layer's public surface: await `cryptoReady()` once, then everything is synchronous.
 */
export { cryptoReady, isCryptoReady, raw, type RawSodium } from './sodium.js'
export * as caps from './caps.js'
export type { TreeNode, KeyPair } from './types.js'
export {
  Blake2b, blake2b256, blake2b512, blake2bParts, namespace,
  leafHash, parentHash, treeHash, discoveryKey, capability, streamId
} from './hash.js'
export { keyPair, sign, verify, validateKeyPair, randomBytes } from './sign.js'
export {
  type Manifest, type ManifestInput, type ManifestSigner, type ManifestPrologue,
  createManifest, defaultManifest, isCompat, encodeManifest, decodeManifest, manifestHash, manifestEncoding
} from './manifest.js'
export { compatSignable, manifestV0Signable, manifestV1Signable } from './signable.js'
export { type Multisig, type MultisigProof, encodeMultisig, decodeMultisig } from './multisig.js'
export { Verifier, type VerifierOptions } from './verifier.js'
export { encodeId, decodeId, normalizeKey, z32Encode, z32Decode } from './id.js'
export { sha512, scalarmultEd25519Noclamp, chacha20poly1305Encrypt, chacha20poly1305Decrypt, AEAD_TAG_BYTES } from './noise-primitives.js'
export { BlockEncryption, type BlockEncryptionOptions, PADDING, xsalsa20Xor } from './block-encryption.js'
export { u64le, equalBytes } from './bytes.js'
