/**
 * @module replication/noise/ik
 * The Noise IK handshake HyperDHT runs before a connection exists (hyperdht's `PEER_HANDSHAKE`):
 * the initiator already knows the responder's static key (the key it looks up and connects to),
 * so two messages suffice, and both carry a payload (hyperdht's `noisePayload`: addresses,
 * holepunch and UDX ids, which a DHT relay needs and may read):
 *
 *   <- s                 (pre-message: both mix the responder's static key into h)
 *   -> e, es, s, ss      (msg 1, initiator; 32 + 48 + payload + 16)
 *   <- e, ee, se         (msg 2, responder; 32 + payload + 16)
 *
 * Protocol name "Noise_IK_Ed25519_ChaChaPoly_BLAKE2b", the same primitives as the XX handshake
 * of replication (./handshake.ts, spec §5.3); HyperDHT's prologue is `NS_PEER_HANDSHAKE`. After
 * message 2 both sides hold `{ tx, rx, handshakeHash, remotePublicKey }`, which a secret stream
 * takes as a prepared handshake: the header exchange and every message after it are the same as
 * over XX. Kept apart from ./handshake.ts so code that never speaks to the DHT does not carry it.
 *
 * What every call checks, the split and the failure rules are ./pattern.ts's.
 */
import { HypercoreError } from '../../errors.js'
import type { KeyPair } from '../../crypto/index.js'
import { DH_LEN, dh } from './dh.js'
import { ENC_KEY_LEN, NoisePattern, type PatternOptions } from './pattern.js'
import { TAGLEN, type SymmetricState } from './symmetric-state.js'

/** "Noise_IK_Ed25519_ChaChaPoly_BLAKE2b" as bytes (35). */
export const IK_PROTOCOL_NAME = new TextEncoder().encode('Noise_IK_Ed25519_ChaChaPoly_BLAKE2b')

/** Options; HyperDHT's prologue is NS_PEER_HANDSHAKE. */
export interface NoiseIKOptions extends PatternOptions {}

/** Smallest size of IK message `index` (0 or 1), i.e. with an empty payload. */
export function ikMessageLength (index: number, payloadLength = 0): number {
  if (index === 0) return DH_LEN + ENC_KEY_LEN + payloadLength + TAGLEN
  if (index === 1) return DH_LEN + payloadLength + TAGLEN
  throw HypercoreError.BAD_ARGUMENT(`IK has two messages, not ${index + 1}`)
}

export class NoiseIK extends NoisePattern {
  /** The responder's static key: given to the initiator, learnt by the responder from message 1. */
  remotePublicKey: Uint8Array | null

  /**
   * `remoteStaticKey`: the responder's public key; required for the initiator, must be omitted
   * by the responder (its own key is the pre-message).
   */
  constructor (isInitiator: boolean, staticKeyPair: KeyPair, remoteStaticKey: Uint8Array | null, opts: NoiseIKOptions = {}) {
    if (typeof isInitiator === 'boolean' && isInitiator !== (remoteStaticKey !== null)) throw HypercoreError.BAD_ARGUMENT('the IK initiator, and only it, knows the remote static key')
    if (remoteStaticKey !== null && !(remoteStaticKey instanceof Uint8Array && remoteStaticKey.byteLength === DH_LEN)) {
      throw HypercoreError.BAD_ARGUMENT('remoteStaticKey must be 32 bytes')
    }
    super(IK_PROTOCOL_NAME, 2, isInitiator, staticKeyPair, opts)
    this.remotePublicKey = remoteStaticKey === null ? null : remoteStaticKey.slice()
    // Pre-message `<- s`: the responder's static key.
    this._state!.mixHash(isInitiator ? this.remotePublicKey! : staticKeyPair.publicKey)
  }

  protected _writeTokens (st: SymmetricState): Uint8Array[] {
    const e = this._ephemeral()
    const parts: Uint8Array[] = [e.publicKey]
    st.mixHash(e.publicKey)
    if (this._index === 0) { // -> e, es, s, ss
      st.mixKey(dh(e.secretKey, this.remotePublicKey!))
      parts.push(st.encryptAndHash(this._s.publicKey))
      st.mixKey(dh(this._s.secretKey, this.remotePublicKey!))
    } else { // <- e, ee, se
      st.mixKey(dh(e.secretKey, this._re!))
      st.mixKey(dh(e.secretKey, this.remotePublicKey!))
    }
    return parts
  }

  protected _readTokens (st: SymmetricState, message: Uint8Array): number {
    this._re = message.slice(0, DH_LEN)
    st.mixHash(this._re)
    let off = DH_LEN
    if (this._index === 0) { // responder reads e, es, s, ss
      st.mixKey(dh(this._s.secretKey, this._re))
      this.remotePublicKey = st.decryptAndHash(message.subarray(off, off + ENC_KEY_LEN))
      off += ENC_KEY_LEN
      st.mixKey(dh(this._s.secretKey, this.remotePublicKey))
    } else { // initiator reads e, ee, se
      const e = this._ephemeral()
      st.mixKey(dh(e.secretKey, this._re))
      st.mixKey(dh(this._s.secretKey, this._re))
    }
    return off
  }

  protected _minLength (index: number): number {
    return ikMessageLength(index)
  }

  protected _remoteStatic (): Uint8Array {
    return this.remotePublicKey!
  }
}
