/**
 * @module replication/noise/handshake
 * The Noise XX handshake of Hypercore replication (spec §5.3), as a small synchronous state
 * machine that knows nothing of streams or framing:
 *
 *   -> e                 (msg 1, initiator; 32 bytes + payload)
 *   <- e, ee, s, es      (msg 2, responder; 32 + 48 + 16 + payload)
 *   -> s, se             (msg 3, initiator; 48 + 16 + payload)
 *
 * Protocol name "Noise_XX_Ed25519_ChaChaPoly_BLAKE2b", empty prologue by default. Hypercore's
 * payloads are always empty; non-empty ones are supported for completeness. After the third
 * message both sides hold `{ tx, rx, handshakeHash, remotePublicKey }`: initiator tx = first
 * split key, responder tx = second. Everything is deterministic given the static and ephemeral
 * key pairs, which is what the transcript vectors rely on.
 *
 * What every call checks, the split and the failure rules are ./pattern.ts's.
 */
import { HypercoreError } from '../../errors.js'
import type { KeyPair } from '../../crypto/index.js'
import { DH_LEN, dh } from './dh.js'
import { ENC_KEY_LEN, NoisePattern, type PatternOptions } from './pattern.js'
import { TAGLEN, type SymmetricState } from './symmetric-state.js'

/** "Noise_XX_Ed25519_ChaChaPoly_BLAKE2b" as bytes (35). */
export const PROTOCOL_NAME = new TextEncoder().encode('Noise_XX_Ed25519_ChaChaPoly_BLAKE2b')

export type { HandshakeResult } from './pattern.js'

export interface NoiseHandshakeOptions extends PatternOptions {}

/** Size of message `index` (0, 1, 2) of XX carrying a payload of `payloadLength` bytes. */
export function messageLength (index: number, payloadLength = 0): number {
  switch (index) {
    case 0: return DH_LEN + payloadLength
    case 1: return DH_LEN + ENC_KEY_LEN + payloadLength + TAGLEN
    case 2: return ENC_KEY_LEN + payloadLength + TAGLEN
    default: throw HypercoreError.BAD_ARGUMENT(`XX has three messages, not ${index + 1}`)
  }
}

export class NoiseHandshake extends NoisePattern {
  private _rs: Uint8Array | null = null

  constructor (isInitiator: boolean, staticKeyPair: KeyPair, opts: NoiseHandshakeOptions = {}) {
    super(PROTOCOL_NAME, 3, isInitiator, staticKeyPair, opts)
  }

  /** Messages processed so far: 0..3. */
  get messageIndex (): number { return this._index }

  /** Expected length of the next incoming message when it carries an empty payload (Hypercore's case). */
  get nextMessageLength (): number { return messageLength(this._index) }

  protected _writeTokens (st: SymmetricState): Uint8Array[] {
    if (this._index === 2) { // -> s, se
      const s = st.encryptAndHash(this._s.publicKey)
      st.mixKey(dh(this._s.secretKey, this._re!))
      return [s]
    }
    const e = this._ephemeral() // -> e (msg 1), <- e, ee, s, es (msg 2)
    const parts = [e.publicKey]
    st.mixHash(e.publicKey)
    if (this._index === 1) {
      st.mixKey(dh(e.secretKey, this._re!))
      parts.push(st.encryptAndHash(this._s.publicKey))
      st.mixKey(dh(this._s.secretKey, this._re!))
    }
    return parts
  }

  protected _readTokens (st: SymmetricState, message: Uint8Array): number {
    let off = 0
    if (this._index === 0 || this._index === 1) { // e
      this._re = message.slice(0, DH_LEN)
      off = DH_LEN
      st.mixHash(this._re)
    }
    if (this._index === 1) { // ee, s, es
      const e = this._ephemeral()
      st.mixKey(dh(e.secretKey, this._re!))
      this._rs = st.decryptAndHash(message.subarray(off, off + ENC_KEY_LEN))
      off += ENC_KEY_LEN
      st.mixKey(dh(e.secretKey, this._rs))
    } else if (this._index === 2) { // s, se
      this._rs = st.decryptAndHash(message.subarray(0, ENC_KEY_LEN))
      off = ENC_KEY_LEN
      st.mixKey(dh(this._ephemeral().secretKey, this._rs))
    }
    return off
  }

  protected _minLength (index: number): number {
    return messageLength(index)
  }

  protected _remoteStatic (): Uint8Array {
    return this._rs!
  }
}
