/**
 * @module replication/secret-stream/secret-stream
 * An encrypted duplex over a raw byte stream, wire-compatible with `@hyperswarm/secret-stream`
 * (spec §5.2–§5.4):
 *
 *   raw:  [Noise XX msg 1..3] [header] [message]*      every unit uint24-LE framed
 *   header  = streamId(handshakeHash, role) ‖ secretstream header (24)      (56 bytes)
 *   message = secretstream push(plaintext, tag MESSAGE, no AD)              (plaintext + 17)
 *
 * Each plaintext `write` becomes exactly one encrypted message, and each message received is
 * one `data` chunk. Empty messages are keep-alives: sent when idle (`keepAlive` ms) and always
 * dropped on receipt (protomux ignores empty frames too, spec §5.4).
 *
 * Anything a peer can get wrong — a handshake message, a stream id, a frame size, a MAC —
 * destroys this stream (and its raw side) with a typed HypercoreError. Nothing else is affected.
 */
import { Duplex, type DuplexEvents } from 'streamx'
import b4a from 'b4a'
import { HypercoreError } from '../../errors.js'
import { cryptoReady, equalBytes, isCryptoReady, keyPair as newKeyPair, streamId, type KeyPair } from '../../crypto/index.js'
import { FRAME_HEADER_BYTES, FrameParser, MAX_FRAME_SIZE, checkMaxFrameSize, writeFrameHeader } from '../framing/index.js'
import { NoiseHandshake, type HandshakeResult } from '../noise/index.js'
import { ABYTES, HEADER_BYTES, SecretstreamPull, SecretstreamPush } from './cipher.js'
import { BridgeLink, StreamLink, type LinkHooks, type RawLink, type RawStream } from './raw-link.js'
import { Timers } from './timers.js'

/** Payload size of the header frame: stream id (32) ‖ secretstream header (24). */
export const HEADER_FRAME_BYTES = 32 + HEADER_BYTES
/** Largest plaintext one message can carry (the frame length is a uint24). */
export const MAX_MESSAGE_SIZE = MAX_FRAME_SIZE - ABYTES
/** Raw writes are coalesced up to about this many bytes (many small messages → one raw write). */
const COALESCE_BYTES = 1 << 20

/** A handshake done elsewhere (e.g. by HyperDHT, spec §5.3), as the reference accepts it. */
export interface PreparedHandshake {
  tx: Uint8Array
  rx: Uint8Array
  /** The 64-byte handshake hash. */
  hash: Uint8Array
  publicKey: Uint8Array
  remotePublicKey: Uint8Array
}

export interface SecretStreamOptions {
  /** Our static Ed25519 key pair. Default: a fresh random one. */
  keyPair?: KeyPair
  /** Skip Noise and start at the header exchange with these keys. */
  handshake?: PreparedHandshake
  /** A fixed Noise ephemeral key pair: only for deterministic tests and vectors. */
  ephemeralKeyPair?: KeyPair
  /** Send an empty message after this many idle ms (0 = never). Hypercore uses 5000. */
  keepAlive?: number
  /** Destroy the stream when nothing arrives for this many ms (0 = never). */
  timeout?: number
  /**
   * What `timeout` waits for: any raw bytes (default), or whole messages (keep-alives count).
   * With 'messages', whoever carries the raw bytes (a relay) cannot hold the stream open by
   * forging a long frame length and trickling bytes into it: the peer's keep-alives stop
   * completing, and the stream times out.
   */
  timeoutOn?: 'bytes' | 'messages'
  /** Refuse incoming frames larger than this (default 2^24 − 1, the most a uint24 length allows). */
  maxFrameSize?: number
  /** streamx high-water mark of the plaintext side. */
  highWaterMark?: number
}

export interface SecretStreamEvents extends DuplexEvents {
  /** The handshake and the header exchange are done: keys, ids and remotePublicKey are set. */
  connect: []
}

type Phase = 'starting' | 'handshake' | 'header' | 'data' | 'closed'
type Callback = (err: Error | null) => void

export class SecretStream extends Duplex<SecretStreamEvents> {
  readonly isInitiator: boolean
  /** The raw side: the stream given, or the bridge to pipe to the peer's raw side. */
  readonly rawStream: RawStream
  /** Resolves true once connected, false if the stream closed first. Never rejects. */
  readonly opened: Promise<boolean>
  publicKey: Uint8Array | null = null
  remotePublicKey: Uint8Array | null = null
  handshakeHash: Uint8Array | null = null
  /** Bytes written to / read from the raw side (frames included). */
  rawBytesWritten = 0
  rawBytesRead = 0
  /**
   * `@hyperswarm/secret-stream`'s names, which hypercore@10 code uses to find a connection's
   * parts: the stream itself (`rawStream.noiseStream` leads here too) and a slot for whoever
   * multiplexes it (`userData`: the connection's Protomux, see replicate.ts).
   */
  readonly noiseStream: this = this
  userData: unknown = null

  private readonly _opts: SecretStreamOptions
  private readonly _link: RawLink
  private readonly _parser: FrameParser
  private readonly _timers: Timers
  private _phase: Phase = 'starting'
  private _keyPair: KeyPair | null = null
  private _noise: NoiseHandshake | null = null
  private _tx: Uint8Array | null = null
  private _rx: Uint8Array | null = null
  private _encrypt: SecretstreamPush | null = null
  private _decrypt: SecretstreamPull | null = null
  private _openCb: Callback | null = null
  private _drainCb: Callback | null = null
  private _resolveOpened: (ok: boolean) => void = () => {}
  private _readEnded = false
  private _writeEnded = false

  constructor (isInitiator: boolean, rawStream?: RawStream | null, opts: SecretStreamOptions = {}) {
    super({ highWaterMark: opts.highWaterMark })
    if (typeof isInitiator !== 'boolean') throw HypercoreError.BAD_ARGUMENT('isInitiator must be a boolean')
    if (rawStream != null && (typeof rawStream.write !== 'function' || typeof rawStream.on !== 'function')) {
      throw HypercoreError.BAD_ARGUMENT('rawStream must be a duplex stream')
    }
    this.isInitiator = isInitiator
    this._opts = opts
    this._parser = new FrameParser({ maxFrameSize: checkMaxFrameSize(opts.maxFrameSize ?? MAX_FRAME_SIZE) })
    this.opened = new Promise<boolean>((resolve) => { this._resolveOpened = resolve })
    this._timers = new Timers({
      sendKeepAlive: () => this.sendKeepAlive(),
      onTimeout: () => this.destroy(HypercoreError.REQUEST_TIMEOUT('secret stream timed out: nothing received')),
      active: () => this._phase === 'data'
    })
    if (opts.keyPair !== undefined) this.publicKey = opts.keyPair.publicKey
    else if (opts.handshake !== undefined) this.publicKey = opts.handshake.publicKey

    const hooks: LinkHooks = {
      onData: (chunk) => this._onRawData(chunk),
      onEnd: () => this._onRawEnd(),
      onDrain: () => this._onRawDrain(),
      onClose: (err) => this._onRawClose(err)
    }
    // Start once sodium is loaded. Keys are generated synchronously when it already is.
    const ready = isCryptoReady() ? Promise.resolve() : cryptoReady()
    if (isCryptoReady() && this.publicKey === null) this._ensureKeyPair()
    const started = ready.then(() => this._start())
    this._link = rawStream == null ? new BridgeLink(hooks, started) : new StreamLink(rawStream, hooks)
    this.rawStream = this._link.stream
    // As @hyperswarm/secret-stream's bridge: the raw side we made leads back to us.
    if (rawStream == null) (this.rawStream as { noiseStream?: SecretStream }).noiseStream = this
    started.catch((err: unknown) => this.destroy(_typed(err, 'could not start the secret stream')))
    this.setKeepAlive(opts.keepAlive ?? 0)
    this.setTimeout(opts.timeout ?? 0)
  }

  /**
   * Bytes written to this stream and not yet taken by the raw side: messages waiting to be
   * encrypted plus frames the transport has not accepted. What a peer that stops reading
   * makes us hold.
   */
  get pendingBytes (): number {
    const state = (this as unknown as { _writableState?: { buffered?: number } })._writableState
    return (state?.buffered ?? 0) + this._link.pendingBytes
  }

  /** Interval (ms) at which an idle stream sends an empty message (0 = off). */
  get keepAlive (): number { return this._timers.keepAlive }

  /** Send an empty message whenever nothing was sent for `ms` milliseconds (0 turns it off). */
  setKeepAlive (ms: number): void { this._timers.setKeepAlive(ms) }

  /** Destroy the stream with REQUEST_TIMEOUT when nothing is received for `ms` milliseconds (0 = off). */
  setTimeout (ms: number): void { this._timers.setTimeout(ms) }

  /** Ends our sending side (optionally after one last message). streamx's typings demand an argument; this does not. */
  override end (data?: Uint8Array): this {
    return super.end(data)
  }

  /** Sends one empty (keep-alive) message now. No-op before the stream is connected. */
  sendKeepAlive (): void {
    if (this._phase !== 'data' || this._writeEnded || this.destroying) return
    this._sendMessages([new Uint8Array(0)])
  }

  // --- streamx hooks -------------------------------------------------------------------

  override _open (cb: Callback): void {
    if (this._phase === 'data') cb(null)
    else this._openCb = cb
  }

  override _read (cb: Callback): void {
    this._link.resumeInput()
    cb(null)
  }

  override _writev (batch: unknown[], cb: Callback): void {
    for (const m of batch) {
      if (!(m instanceof Uint8Array)) return cb(HypercoreError.BAD_ARGUMENT('secret stream writes must be Uint8Array'))
      if (m.byteLength > MAX_MESSAGE_SIZE) return cb(HypercoreError.FRAME_TOO_LARGE(`a message may be at most ${MAX_MESSAGE_SIZE} bytes, got ${m.byteLength}`))
    }
    if (this._sendMessages(batch as Uint8Array[])) cb(null)
    else this._drainCb = cb
  }

  override _final (cb: Callback): void {
    this._writeEnded = true
    this._link.end()
    cb(null)
  }

  override _predestroy (): void {
    // streamx waits for a pending open or write callback before destroying: release them.
    const err = HypercoreError.CONNECTION_CLOSED('secret stream destroyed')
    const open = this._openCb
    const drain = this._drainCb
    this._openCb = this._drainCb = null
    if (open !== null) open(err)
    if (drain !== null) drain(err)
  }

  override _destroy (cb: Callback): void {
    const clean = this._readEnded && this._writeEnded
    this._phase = 'closed'
    this._timers.clear()
    this._link.detach()
    // After a clean end both ways the raw side closes by itself once drained; anything else
    // (an error, or destroy() mid-stream) tears it down so the peer learns at once.
    if (!clean) this._link.destroy(HypercoreError.CONNECTION_CLOSED('secret stream destroyed'))
    this._noise?.destroy()
    this._encrypt?.destroy()
    this._decrypt?.destroy()
    this._noise = this._encrypt = this._decrypt = null
    this._tx?.fill(0)
    this._rx?.fill(0)
    this._resolveOpened(false)
    cb(null)
  }

  // --- startup and handshake -------------------------------------------------------------

  private _ensureKeyPair (): KeyPair {
    if (this._keyPair === null) {
      this._keyPair = this._opts.keyPair ?? newKeyPair()
      this.publicKey = this._keyPair.publicKey
    }
    return this._keyPair
  }

  private _start (): void {
    if (this.destroying || this._phase !== 'starting') return
    const prepared = this._opts.handshake
    if (prepared !== undefined) {
      _checkPrepared(prepared)
      this._onHandshake({
        isInitiator: this.isInitiator,
        tx: prepared.tx.slice(),
        rx: prepared.rx.slice(),
        handshakeHash: prepared.hash.slice(),
        publicKey: prepared.publicKey,
        remotePublicKey: prepared.remotePublicKey
      })
      return
    }
    const noise = new NoiseHandshake(this.isInitiator, this._ensureKeyPair(), { ephemeral: this._opts.ephemeralKeyPair })
    this._noise = noise
    this._phase = 'handshake'
    // Hypercore's handshake payloads are empty, so each message has one exact size (32, 96,
    // 64): refuse any other length as soon as it is announced, before buffering it.
    this._parser.lengthCheck = (len) => {
      if (len !== noise.nextMessageLength) {
        throw HypercoreError.INVALID_HANDSHAKE(`handshake message ${noise.messageIndex + 1} must be ${noise.nextMessageLength} bytes, got ${len}`)
      }
    }
    if (noise.isMyTurn) this._sendFrame(noise.send())
  }

  private _onHandshakeFrame (frame: Uint8Array): void {
    const noise = this._noise!
    noise.recv(frame)
    if (noise.isMyTurn) this._sendFrame(noise.send())
    if (noise.result !== null) {
      this._noise = null
      this._onHandshake(noise.result)
    }
  }

  /** Keys are agreed: send our header (stream id ‖ secretstream header) and wait for theirs. */
  private _onHandshake (result: HandshakeResult): void {
    this._tx = result.tx
    this._rx = result.rx
    this.handshakeHash = result.handshakeHash
    this.remotePublicKey = result.remotePublicKey
    this.publicKey = result.publicKey
    this._encrypt = new SecretstreamPush(result.tx)
    const header = new Uint8Array(HEADER_FRAME_BYTES)
    header.set(streamId(result.handshakeHash, this.isInitiator), 0)
    header.set(this._encrypt.header, 32)
    this._phase = 'header'
    this._parser.lengthCheck = (len) => {
      if (len !== HEADER_FRAME_BYTES) throw HypercoreError.INVALID_HANDSHAKE(`header frame must be ${HEADER_FRAME_BYTES} bytes, got ${len}`)
    }
    this._sendFrame(header)
  }

  private _onHeaderFrame (frame: Uint8Array): void {
    // The peer's id must be the one for the *other* role (spec §5.4): two initiators, or a
    // handshake hash that differs, fail here.
    const expected = streamId(this.handshakeHash!, !this.isInitiator)
    if (!equalBytes(frame.subarray(0, 32), expected)) throw HypercoreError.INVALID_HANDSHAKE('remote stream id does not match the handshake')
    this._decrypt = new SecretstreamPull(this._rx!, frame.subarray(32, HEADER_FRAME_BYTES))
    this._parser.lengthCheck = null
    this._phase = 'data'
    this._timers.start()
    const cb = this._openCb
    this._openCb = null
    if (cb !== null) cb(null)
    this._resolveOpened(true)
    this.emit('connect')
  }

  // --- raw input -------------------------------------------------------------------------

  private readonly _onFrame = (frame: Uint8Array): void => {
    switch (this._phase) {
      case 'data':
        if (this._opts.timeoutOn === 'messages') this._timers.received()
        return this._onMessage(frame)
      case 'handshake': return this._onHandshakeFrame(frame)
      case 'header': return this._onHeaderFrame(frame)
      default: throw HypercoreError.INVALID_OPERATION('secret stream is closed')
    }
  }

  private _onMessage (frame: Uint8Array): void {
    const plaintext = this._decrypt!.decrypt(frame)
    if (plaintext.byteLength === 0) return // keep-alive
    // A Buffer view in Node (no copy), as hypercore@10's secret-stream gives its readers.
    const message = b4a.from(plaintext.buffer, plaintext.byteOffset, plaintext.byteLength)
    if (!this.push(message)) this._link.pauseInput()
  }

  private _onRawData (chunk: Uint8Array): void {
    if (this.destroying || this._phase === 'closed') return
    this.rawBytesRead += chunk.byteLength
    if (this._opts.timeoutOn !== 'messages') this._timers.received()
    try {
      this._parser.push(chunk, this._onFrame)
    } catch (err) {
      this.destroy(_typed(err, 'malformed data from the peer'))
    }
  }

  private _onRawEnd (): void {
    if (this.destroying || this._readEnded) return
    try {
      this._parser.end()
    } catch (err) {
      return this.destroy(_typed(err, 'truncated stream'))
    }
    if (this._phase !== 'data') return this.destroy(HypercoreError.CONNECTION_CLOSED('raw stream ended before the handshake completed'))
    this._readEnded = true
    this.push(null)
  }

  private _onRawDrain (): void {
    const cb = this._drainCb
    this._drainCb = null
    if (cb !== null) cb(null)
  }

  private _onRawClose (err: Error | null): void {
    if (this.destroying) return
    // A close after a clean end both ways is the normal ending; anything else is abrupt.
    if (this._readEnded && this._writeEnded && err === null) return
    this.destroy(HypercoreError.is(err) ? err : HypercoreError.CONNECTION_CLOSED('raw stream closed', err ?? undefined))
  }

  // --- raw output ------------------------------------------------------------------------

  private _sendFrame (payload: Uint8Array): boolean {
    const frame = b4a.alloc(FRAME_HEADER_BYTES + payload.byteLength)
    writeFrameHeader(frame, 0, payload.byteLength)
    frame.set(payload, FRAME_HEADER_BYTES)
    return this._sendRaw(frame)
  }

  /** Encrypts each message into its own frame, coalescing small ones into few raw writes. */
  private _sendMessages (messages: Uint8Array[]): boolean {
    const enc = this._encrypt
    if (enc === null) throw HypercoreError.INVALID_OPERATION('secret stream is not connected')
    let drained = true
    let i = 0
    while (i < messages.length) {
      let size = 0
      let j = i
      do { size += FRAME_HEADER_BYTES + messages[j]!.byteLength + ABYTES; j++ } while (j < messages.length && size < COALESCE_BYTES)
      // A Buffer in Node: a Node peer on the other end of a pipe (hypercore@10's secret-stream
      // decrypts in place) hands its users views of these bytes, and they expect Buffers.
      // Not zeroed first: every byte is written below (frame header, then exactly
      // `byteLength + ABYTES` bytes of ciphertext per message).
      const out = b4a.allocUnsafeSlow(size)
      let off = 0
      for (; i < j; i++) {
        const m = messages[i]!
        writeFrameHeader(out, off, m.byteLength + ABYTES)
        enc.encryptInto(m, out, off + FRAME_HEADER_BYTES)
        off += FRAME_HEADER_BYTES + m.byteLength + ABYTES
      }
      drained = this._sendRaw(out) && drained
    }
    return drained
  }

  private _sendRaw (data: Uint8Array): boolean {
    this.rawBytesWritten += data.byteLength
    this._timers.sent()
    return this._link.send(data)
  }
}

function _checkPrepared (h: PreparedHandshake): void {
  const ok = h !== null && typeof h === 'object' &&
    _isBytes(h.tx, 32) && _isBytes(h.rx, 32) && _isBytes(h.hash, 64) &&
    _isBytes(h.publicKey, 32) && _isBytes(h.remotePublicKey, 32)
  if (!ok) throw HypercoreError.BAD_ARGUMENT('handshake must be { tx: 32, rx: 32, hash: 64, publicKey: 32, remotePublicKey: 32 bytes }')
}

function _isBytes (x: unknown, n: number): boolean {
  return x instanceof Uint8Array && x.byteLength === n
}

/** Every error leaving this stream is a HypercoreError (spec: a bad peer gets a typed error). */
function _typed (err: unknown, msg: string): HypercoreError {
  return HypercoreError.is(err) ? err : HypercoreError.CONNECTION_CLOSED(msg, err)
}
