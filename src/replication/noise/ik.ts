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
 * Any malformed or unauthenticated message throws INVALID_HANDSHAKE and leaves the handshake
 * failed: every later call throws the same error.
 */
import b4a from 'b4a'
import { HypercoreError } from '../../errors.js'
import type { KeyPair } from '../../crypto/index.js'
import { DH_LEN, assertKeyPair, dh, generateKeyPair } from './dh.js'
import type { HandshakeResult } from './handshake.js'
import { SymmetricState, TAGLEN } from './symmetric-state.js'

/** "Noise_IK_Ed25519_ChaChaPoly_BLAKE2b" as bytes (35). */
export const IK_PROTOCOL_NAME = new TextEncoder().encode('Noise_IK_Ed25519_ChaChaPoly_BLAKE2b')

const EMPTY = new Uint8Array(0)
const ENC_KEY_LEN = DH_LEN + TAGLEN

export interface NoiseIKOptions {
  /** Prologue mixed into h first (HyperDHT: NS_PEER_HANDSHAKE). Default empty. */
  prologue?: Uint8Array
  /** A fixed ephemeral key pair: only for deterministic tests. */
  ephemeral?: KeyPair
}

/** Smallest size of IK message `index` (0 or 1), i.e. with an empty payload. */
export function ikMessageLength (index: number, payloadLength = 0): number {
  if (index === 0) return DH_LEN + ENC_KEY_LEN + payloadLength + TAGLEN
  if (index === 1) return DH_LEN + payloadLength + TAGLEN
  throw HypercoreError.BAD_ARGUMENT(`IK has two messages, not ${index + 1}`)
}

export class NoiseIK {
  readonly isInitiator: boolean
  /** Set once message 2 went through. */
  result: HandshakeResult | null = null
  /** The responder's static key: given to the initiator, learnt by the responder from message 1. */
  remotePublicKey: Uint8Array | null

  private readonly _s: KeyPair
  private _e: KeyPair | null
  private readonly _ownsE: boolean
  private _re: Uint8Array | null = null
  private _state: SymmetricState | null
  private _index = 0
  private _failed: HypercoreError | null = null

  /**
   * `remoteStaticKey`: the responder's public key; required for the initiator, must be omitted
   * by the responder (its own key is the pre-message).
   */
  constructor (isInitiator: boolean, staticKeyPair: KeyPair, remoteStaticKey: Uint8Array | null, opts: NoiseIKOptions = {}) {
    if (typeof isInitiator !== 'boolean') throw HypercoreError.BAD_ARGUMENT('isInitiator must be a boolean')
    assertKeyPair(staticKeyPair, 'staticKeyPair')
    if (isInitiator !== (remoteStaticKey !== null)) throw HypercoreError.BAD_ARGUMENT('the IK initiator, and only it, knows the remote static key')
    if (remoteStaticKey !== null && !(remoteStaticKey instanceof Uint8Array && remoteStaticKey.byteLength === DH_LEN)) {
      throw HypercoreError.BAD_ARGUMENT('remoteStaticKey must be 32 bytes')
    }
    if (opts.ephemeral !== undefined) assertKeyPair(opts.ephemeral, 'ephemeral')
    const prologue = opts.prologue ?? EMPTY
    if (!(prologue instanceof Uint8Array)) throw HypercoreError.BAD_ARGUMENT('prologue must be a Uint8Array')
    this.isInitiator = isInitiator
    this._s = staticKeyPair
    this._e = opts.ephemeral ?? null
    this._ownsE = this._e === null
    this.remotePublicKey = remoteStaticKey === null ? null : remoteStaticKey.slice()
    this._state = new SymmetricState(IK_PROTOCOL_NAME)
    this._state.mixHash(prologue)
    // Pre-message `<- s`: the responder's static key.
    this._state.mixHash(isInitiator ? this.remotePublicKey! : staticKeyPair.publicKey)
  }

  get complete (): boolean { return this.result !== null }

  /** True when the next step is `send()`. */
  get isMyTurn (): boolean {
    if (this.complete || this._failed !== null) return false
    return (this._index === 0) === this.isInitiator
  }

  /** Writes the next message (1 for the initiator, 2 for the responder) carrying `payload`. */
  send (payload: Uint8Array = EMPTY): Uint8Array {
    if (!(payload instanceof Uint8Array)) throw HypercoreError.BAD_ARGUMENT('payload must be a Uint8Array')
    const st = this._live()
    if (!this.isMyTurn) throw HypercoreError.INVALID_OPERATION('not our turn to send a handshake message')
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
    parts.push(st.encryptAndHash(payload))
    this._advance()
    return b4a.concat(parts)
  }

  /** Reads the peer's message and returns its payload. */
  recv (message: Uint8Array): Uint8Array {
    if (!(message instanceof Uint8Array)) throw HypercoreError.BAD_ARGUMENT('message must be a Uint8Array')
    const st = this._live()
    if (this.complete || this.isMyTurn) throw this._fail(HypercoreError.INVALID_HANDSHAKE('unexpected handshake message'))
    if (message.byteLength < ikMessageLength(this._index)) {
      throw this._fail(HypercoreError.INVALID_HANDSHAKE(`handshake message ${this._index + 1} is too short (${message.byteLength} bytes)`))
    }
    try {
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
      const payload = st.decryptAndHash(message.subarray(off))
      this._advance()
      return payload
    } catch (err) {
      throw this._fail(HypercoreError.is(err) ? err : HypercoreError.INVALID_HANDSHAKE('handshake message rejected', err))
    }
  }

  /** Wipes every secret this handshake still holds. Idempotent. */
  destroy (): void {
    this._state?.destroy()
    this._state = null
    if (this._e !== null && this._ownsE) this._e.secretKey.fill(0)
    this._e = null
  }

  private _live (): SymmetricState {
    if (this._failed !== null) throw this._failed
    if (this._state === null) throw HypercoreError.INVALID_OPERATION(this.complete ? 'handshake already complete' : 'handshake destroyed')
    return this._state
  }

  private _ephemeral (): KeyPair {
    if (this._e === null) this._e = generateKeyPair()
    return this._e
  }

  private _advance (): void {
    if (++this._index < 2) return
    const st = this._state!
    const [k1, k2] = st.split()
    this.result = {
      isInitiator: this.isInitiator,
      tx: this.isInitiator ? k1 : k2,
      rx: this.isInitiator ? k2 : k1,
      handshakeHash: st.handshakeHash,
      publicKey: this._s.publicKey,
      remotePublicKey: this.remotePublicKey!
    }
    this.destroy()
  }

  private _fail (err: HypercoreError): HypercoreError {
    this._failed = err
    this.destroy()
    return err
  }
}
