/**
 * @module dht/auth
 * What a page signs or derives for its DHT relay, and the checks around it:
 *
 * - its answer to the relay's challenge: `DHT_RELAY_HELLO ‖ nonce ‖ publicKey ‖ utf8(host)`
 *   (as signaling's hello, under our own prefix: the nonce makes it good for one connection, the
 *   host for one relay);
 * - HyperDHT's announce and unannounce records, which the DHT nodes verify against the page's
 *   key: `NS ‖ BLAKE2b-256(target ‖ nodeId ‖ token ‖ peer ‖ refresh)`. The relay sends the
 *   fields, never the hash: the page builds the signable itself and signs only records that
 *   name its own key, for a topic it announces (or its own server record), so a relay cannot
 *   make it sign anything else;
 * - the holepunch secret of a finished peer handshake, `BLAKE2b-256_hash(NS_PEER_HOLEPUNCH)`,
 *   which the relay needs to punch holes. It derives from the handshake hash, not from the keys
 *   the secret stream uses.
 */
import { HypercoreError } from '../errors.js'
import { DHT_ANNOUNCE, DHT_PEER_HOLEPUNCH, DHT_RELAY_HELLO, DHT_UNANNOUNCE } from './constants.js'
import { blake2b256, blake2bParts } from '../crypto/hash.js'
import { equalBytes } from '../crypto/bytes.js'
import { readFixed, readUint, type State } from '../wire/codec.js'
import { SIGN_ANNOUNCE, SIGN_UNANNOUNCE } from './protocol.js'

export const NONCE_BYTES = 32
const MAX_HOST_BYTES = 512
/** HyperDHT keeps at most a handful of relay addresses per record; more is not an honest record. */
const MAX_RELAY_ADDRESSES = 32
const encoder = new TextEncoder()

/** The bytes a page signs to answer a relay's challenge. */
export function relayHelloSignable (nonce: Uint8Array, publicKey: Uint8Array, host: string): Uint8Array {
  if (nonce.byteLength !== NONCE_BYTES) throw HypercoreError.BAD_ARGUMENT(`nonce must be ${NONCE_BYTES} bytes`)
  if (publicKey.byteLength !== 32) throw HypercoreError.BAD_ARGUMENT('publicKey must be 32 bytes')
  const h = encoder.encode(host.toLowerCase())
  if (h.byteLength > MAX_HOST_BYTES) throw HypercoreError.BAD_ARGUMENT('host is too long')
  const out = new Uint8Array(96 + h.byteLength)
  out.set(DHT_RELAY_HELLO, 0)
  out.set(nonce, 32)
  out.set(publicKey, 64)
  out.set(h, 96)
  return out
}

/** HyperDHT's announce (or unannounce) signable over the fields a DHT node sees. */
export function announceSignable (kind: number, target: Uint8Array, nodeId: Uint8Array, token: Uint8Array, peer: Uint8Array, refresh: Uint8Array): Uint8Array {
  const prefix = kind === SIGN_ANNOUNCE ? DHT_ANNOUNCE : kind === SIGN_UNANNOUNCE ? DHT_UNANNOUNCE : null
  if (prefix === null) throw HypercoreError.BAD_ARGUMENT(`unknown signable kind ${kind}`)
  const out = new Uint8Array(64)
  out.set(prefix, 0)
  out.set(blake2bParts([target, nodeId, token, peer, refresh], 32), 32)
  return out
}

/**
 * The public key a HyperDHT peer record (`fixed32 publicKey ‖ uint n ‖ n × (ipv4 ‖ u16 port)`)
 * names; DECODING_ERROR unless the bytes are exactly one such record.
 */
export function peerRecordKey (peer: Uint8Array): Uint8Array {
  const state: State = { start: 0, end: peer.byteLength, buffer: peer }
  try {
    const key = readFixed(state, 32)
    const n = readUint(state)
    if (n > MAX_RELAY_ADDRESSES) throw HypercoreError.DECODING_ERROR('too many relay addresses')
    readFixed(state, n * 6)
    if (state.start !== state.end) throw HypercoreError.DECODING_ERROR('trailing bytes')
    return key
  } catch (err) {
    throw HypercoreError.is(err) ? err : HypercoreError.DECODING_ERROR('malformed peer record', err)
  }
}

/** True when `peer` is a record of `publicKey`. */
export function isOwnRecord (peer: Uint8Array, publicKey: Uint8Array): boolean {
  try {
    return equalBytes(peerRecordKey(peer), publicKey)
  } catch {
    return false
  }
}

/** What hyperdht derives from a finished peer handshake for its holepunch payloads. */
export function holepunchSecret (handshakeHash: Uint8Array): Uint8Array {
  return blake2b256(DHT_PEER_HOLEPUNCH, handshakeHash)
}
