/**
 * @module replication/noise/pattern
 * What the two Noise handshakes we speak (XX for replication, ./handshake.ts; IK for the DHT,
 * ./ik.ts) have in common: the checks on every call, whose turn it is, the split into transport
 * keys after the last message, wiping secrets, and failing for good. A pattern only says which
 * tokens each message carries (`_writeTokens` / `_readTokens`) and how short a message may be.
 *
 * Any malformed or unauthenticated message throws INVALID_HANDSHAKE and leaves the handshake
 * failed: every later call throws the same error.
 */
import b4a from 'b4a'
import { HypercoreError } from '../../errors.js'
import type { KeyPair } from '../../crypto/index.js'
import { DH_LEN, assertKeyPair, generateKeyPair } from './dh.js'
import { SymmetricState, TAGLEN } from './symmetric-state.js'

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

export interface PatternOptions {
  /** A fixed ephemeral key pair (tests and transcript vectors). Default: a fresh random one. */
  ephemeral?: KeyPair
  /** Prologue bytes mixed into h before the first message. Default empty. */
  prologue?: Uint8Array
}

export const EMPTY = new Uint8Array(0)
/** An encrypted static key: the key and its tag. */
export const ENC_KEY_LEN = DH_LEN + TAGLEN

export abstract class NoisePattern {
  readonly isInitiator: boolean
  /** Set once the last message went through. */
  result: HandshakeResult | null = null

  protected readonly _s: KeyPair
  protected _e: KeyPair | null
  /** Whether we generated the ephemeral (then we wipe it); a given one belongs to the caller. */
  protected _ownsE: boolean
  protected _re: Uint8Array | null = null
  protected _state: SymmetricState | null
  /** Messages sent or received so far. */
  protected _index = 0
  private _failed: HypercoreError | null = null
  private readonly _messages: number

  constructor (protocolName: Uint8Array, messages: number, isInitiator: boolean, staticKeyPair: KeyPair, opts: PatternOptions) {
    if (typeof isInitiator !== 'boolean') throw HypercoreError.BAD_ARGUMENT('isInitiator must be a boolean')
    assertKeyPair(staticKeyPair, 'staticKeyPair')
    if (opts.ephemeral !== undefined) assertKeyPair(opts.ephemeral, 'ephemeral')
    const prologue = opts.prologue ?? EMPTY
    if (!(prologue instanceof Uint8Array)) throw HypercoreError.BAD_ARGUMENT('prologue must be a Uint8Array')
    this._messages = messages
    this.isInitiator = isInitiator
    this._s = staticKeyPair
    this._e = opts.ephemeral ?? null
    this._ownsE = this._e === null
    this._state = new SymmetricState(protocolName)
    // The prologue is mixed in even when empty (h = BLAKE2b-512(h)), spec §5.3.
    this._state.mixHash(prologue)
  }

  /** True once every message went through. */
  get complete (): boolean { return this.result !== null }

  /** True when the next step is `send()` (false: waiting for `recv()`, complete or failed). */
  get isMyTurn (): boolean {
    if (this.complete || this._failed !== null) return false
    return (this._index % 2 === 0) === this.isInitiator
  }

  /** Writes our next handshake message (unframed) carrying `payload`. */
  send (payload: Uint8Array = EMPTY): Uint8Array {
    if (!(payload instanceof Uint8Array)) throw HypercoreError.BAD_ARGUMENT('payload must be a Uint8Array')
    const st = this._live()
    if (!this.isMyTurn) throw HypercoreError.INVALID_OPERATION('not our turn to send a handshake message')
    const parts = this._writeTokens(st)
    parts.push(st.encryptAndHash(payload))
    this._advance()
    return b4a.concat(parts)
  }

  /** Reads the peer's next handshake message (unframed) and returns its payload. */
  recv (message: Uint8Array): Uint8Array {
    if (!(message instanceof Uint8Array)) throw HypercoreError.BAD_ARGUMENT('message must be a Uint8Array')
    const st = this._live()
    if (this.complete || this.isMyTurn) throw this._fail(HypercoreError.INVALID_HANDSHAKE('unexpected handshake message'))
    if (message.byteLength < this._minLength(this._index)) {
      throw this._fail(HypercoreError.INVALID_HANDSHAKE(`handshake message ${this._index + 1} is too short (${message.byteLength} bytes)`))
    }
    try {
      const off = this._readTokens(st, message)
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

  /** The tokens of message `_index` before its payload, mixed into `st`; returns the bytes to send. */
  protected abstract _writeTokens (st: SymmetricState): Uint8Array[]
  /** Reads the tokens of message `_index` from `message` into `st`; returns where its payload starts. */
  protected abstract _readTokens (st: SymmetricState, message: Uint8Array): number
  /** The size of message `index` with an empty payload. */
  protected abstract _minLength (index: number): number
  /** The peer's static key, known once every message went through. */
  protected abstract _remoteStatic (): Uint8Array

  protected _ephemeral (): KeyPair {
    if (this._e === null) {
      if (this._state === null) throw HypercoreError.INVALID_OPERATION('handshake destroyed')
      this._e = generateKeyPair()
      this._ownsE = true
    }
    return this._e
  }

  private _live (): SymmetricState {
    if (this._failed !== null) throw this._failed
    if (this._state === null) throw HypercoreError.INVALID_OPERATION(this.complete ? 'handshake already complete' : 'handshake destroyed')
    return this._state
  }

  private _advance (): void {
    if (++this._index < this._messages) return
    const st = this._state!
    const [k1, k2] = st.split()
    this.result = {
      isInitiator: this.isInitiator,
      tx: this.isInitiator ? k1 : k2,
      rx: this.isInitiator ? k2 : k1,
      handshakeHash: st.handshakeHash,
      publicKey: this._s.publicKey,
      remotePublicKey: this._remoteStatic()
    }
    this.destroy()
  }

  private _fail (err: HypercoreError): HypercoreError {
    this._failed = err
    this.destroy()
    return err
  }
}
