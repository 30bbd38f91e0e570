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
 * Any malformed or unauthenticated message throws INVALID_HANDSHAKE and leaves the handshake
 * failed: every later call throws the same error.
 */
import b4a from 'b4a'
import { HypercoreError } from '../../errors.js'
import type { KeyPair } from '../../crypto/index.js'
import { DH_LEN, assertKeyPair, dh, generateKeyPair } from './dh.js'
import { SymmetricState, TAGLEN } from './symmetric-state.js'

/** "Noise_XX_Ed25519_ChaChaPoly_BLAKE2b" as bytes (35). */
export const PROTOCOL_NAME = new TextEncoder().encode('Noise_XX_Ed25519_ChaChaPoly_BLAKE2b')

/** What a finished handshake hands to the transport (spec §5.3 "Split"). */
export interface HandshakeResult {
  isInitiator: boolean
  /** Our sending key (32 bytes). */
  tx: Uint8Array
  /** Our receiving key (32 bytes). */
  rx: Uint8Array
  /** The final Noise `h` (64 bytes): identifies this session (stream ids, capabilities). */
  handshakeHash: Uint8Array
  /** Our static public key. */
  publicKey: Uint8Array
  /** The peer's static public key, authenticated by the handshake. */
  remotePublicKey: Uint8Array
}

export interface NoiseHandshakeOptions {
  /** A fixed ephemeral key pair (tests and transcript vectors). Default: a fresh random one. */
  ephemeral?: KeyPair
  /** Prologue bytes mixed into h before the first message. Hypercore's is empty. */
  prologue?: Uint8Array
}

const EMPTY = new Uint8Array(0)
const ENC_KEY_LEN = DH_LEN + TAGLEN

/** Size of message `index` (0, 1, 2) of XX carrying a payload of `payloadLength` bytes. */
export function messageLength (index: number, payloadLength = 0): number {
  switch (index) {
    case 0: return DH_LEN + payloadLength
    case 1: return DH_LEN + ENC_KEY_LEN + payloadLength + TAGLEN
    case 2: return ENC_KEY_LEN + payloadLength + TAGLEN
    default: throw HypercoreError.BAD_ARGUMENT(`XX has three messages, not ${index + 1}`)
  }
}

export class NoiseHandshake {
  readonly isInitiator: boolean
  /** Result once the third message is through, else null. */
  result: HandshakeResult | null = null

  private readonly _s: KeyPair
  private _e: KeyPair | null
  /** Whether we generated the ephemeral (then we wipe it); a given one belongs to the caller. */
  private _ownsE: boolean
  private _re: Uint8Array | null = null
  private _rs: Uint8Array | null = null
  private _state: SymmetricState | null
  /** Messages sent or received so far (0..3). */
  private _index = 0
  private _failed: HypercoreError | null = null

  constructor (isInitiator: boolean, staticKeyPair: KeyPair, opts: NoiseHandshakeOptions = {}) {
    if (typeof isInitiator !== 'boolean') throw HypercoreError.BAD_ARGUMENT('isInitiator must be a boolean')
    assertKeyPair(staticKeyPair, 'staticKeyPair')
    if (opts.ephemeral !== undefined) assertKeyPair(opts.ephemeral, 'ephemeral')
    const prologue = opts.prologue ?? EMPTY
    if (!(prologue instanceof Uint8Array)) throw HypercoreError.BAD_ARGUMENT('prologue must be a Uint8Array')
    this.isInitiator = isInitiator
    this._s = staticKeyPair
    this._e = opts.ephemeral ?? null
    this._ownsE = this._e === null
    this._state = new SymmetricState(PROTOCOL_NAME)
    // The prologue is mixed in even when empty (h = BLAKE2b-512(h)), spec §5.3.
    this._state.mixHash(prologue)
  }

  /** True once all three messages went through. */
  get complete (): boolean { return this.result !== null }

  /** True when the next step is `send()` (false: waiting for `recv()`, or complete). */
  get isMyTurn (): boolean {
    if (this.complete || this._failed !== null) return false
    return (this._index % 2 === 0) === this.isInitiator
  }

  /** Messages processed so far: 0..3. */
  get messageIndex (): number { return this._index }

  /** Expected length of the next incoming message when it carries an empty payload (Hypercore's case). */
  get nextMessageLength (): number { return messageLength(this._index) }

  /** Writes the next handshake message (unframed). */
  send (payload: Uint8Array = EMPTY): Uint8Array {
    if (!(payload instanceof Uint8Array)) throw HypercoreError.BAD_ARGUMENT('payload must be a Uint8Array')
    const st = this._live()
    if (!this.isMyTurn) throw HypercoreError.INVALID_OPERATION('not our turn to send a handshake message')
    const parts: Uint8Array[] = []
    switch (this._index) {
      case 0: { // -> e
        const e = this._ephemeral()
        parts.push(e.publicKey)
        st.mixHash(e.publicKey)
        break
      }
      case 1: { // <- e, ee, s, es
        const e = this._ephemeral()
        parts.push(e.publicKey)
        st.mixHash(e.publicKey)
        st.mixKey(dh(e.secretKey, this._re!))
        parts.push(st.encryptAndHash(this._s.publicKey))
        st.mixKey(dh(this._s.secretKey, this._re!))
        break
      }
      default: { // -> s, se
        parts.push(st.encryptAndHash(this._s.publicKey))
        st.mixKey(dh(this._s.secretKey, this._re!))
        break
      }
    }
    parts.push(st.encryptAndHash(payload))
    this._advance()
    return b4a.concat(parts)
  }

  /** Reads the peer's next handshake message (unframed) and returns its payload. */
  recv (message: Uint8Array): Uint8Array {
    if (!(message instanceof Uint8Array)) throw HypercoreError.BAD_ARGUMENT('message must be a Uint8Array')
    const st = this._live()
    if (this.complete || this.isMyTurn) throw this._fail(HypercoreError.INVALID_HANDSHAKE('unexpected handshake message'))
    if (message.byteLength < messageLength(this._index, 0)) {
      throw this._fail(HypercoreError.INVALID_HANDSHAKE(`handshake message ${this._index + 1} is too short (${message.byteLength} bytes)`))
    }
    try {
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
    if (this._e === null) {
      if (this._state === null) throw HypercoreError.INVALID_OPERATION('handshake destroyed')
      this._e = generateKeyPair()
      this._ownsE = true
    }
    return this._e
  }

  private _advance (): void {
    if (++this._index < 3) return
    const st = this._state!
    const [k1, k2] = st.split()
    this.result = {
      isInitiator: this.isInitiator,
      tx: this.isInitiator ? k1 : k2,
      rx: this.isInitiator ? k2 : k1,
      handshakeHash: st.handshakeHash,
      publicKey: this._s.publicKey,
      remotePublicKey: this._rs!
    }
    this.destroy()
  }

  private _fail (err: HypercoreError): HypercoreError {
    this._failed = err
    this.destroy()
    return err
  }
}
