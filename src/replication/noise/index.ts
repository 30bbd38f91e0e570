/**
 * @module replication/noise
 * Noise XX over Ed25519 with ChaChaPoly and BLAKE2b: Hypercore's in-band handshake (spec §5.3).
 */
export { NoiseHandshake, PROTOCOL_NAME, messageLength, type HandshakeResult, type NoiseHandshakeOptions } from './handshake.js'
export { dh, generateKeyPair, DH_LEN } from './dh.js'
export { hmac, hkdf, HASHLEN } from './symmetric-state.js'
