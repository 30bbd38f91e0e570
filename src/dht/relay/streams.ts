/**
 * @module dht/relay/streams
 * A relay's side of one page's DHT connections, plugged into hyperdht's public hooks:
 *
 * - `createHandshake` gets a `HandshakeProxy`: hyperdht asks it to write or read a Noise
 *   message (with the plaintext payload it wants to send, or the message it received) and it
 *   asks the page, which runs the Noise IK handshake with its own key (dht/handshake.ts) and
 *   answers with the message, or with the payload it read. `final()` hands hyperdht what it
 *   needs afterwards: the holepunch secret, never the keys of the stream.
 * - `createSecretStream` gets a `RelayedSocket`: instead of encrypting, it forwards the UDX
 *   raw stream's bytes (the page's secret-stream frames: ciphertext) to the page and back.
 *
 * So the relay sees handshake messages, hyperdht's own payloads (addresses, ids) and
 * ciphertext, and never a key that decrypts a stream. Both directions are backpressured:
 * raw streams are paused while the page's WebSocket has too much queued, and the page's
 * socket is paused while a raw stream does not take its writes.
 */
import { EventEmitter } from 'node:events'
import { HypercoreError } from '../../errors.js'
import { MSG, MAX_DATA_BYTES, type PageMessage, type RelayMessage } from '../protocol.js'
import type { Hyperdht, HyperdhtNode, IPv4, PeerHandshake, UdxStream } from './hyperdht.js'
import c from 'compact-encoding'

/** What the streams need from their session. */
export interface StreamHost {
  readonly dht: HyperdhtNode
  readonly hd: Hyperdht
  readonly publicKey: Uint8Array
  readonly maxStreams: number
  /** A page step of a handshake (or an unopened connection) that takes longer fails. */
  readonly handshakeTimeoutMs: number
  send (msg: RelayMessage): void
  /** Stop / restart reading the page's socket (a raw stream is full). */
  pauseInput (): void
  resumeInput (): void
  /** True while the page's socket has too much queued: raw streams stay paused. */
  readonly outputBlocked: boolean
  /** The page broke a rule about streams: close it with this code. */
  violation (code: number, reason: string): void
}

const TOO_MANY_STREAMS = 4007
const EMPTY = new Uint8Array(0)
const BAD_MESSAGE = 4000

type Pending = { resolve: (v: any) => void, reject: (err: Error) => void, timer: ReturnType<typeof setTimeout>, kind: 'noise' | 'payload' }

/** What `final()` returns; hyperdht reads `holepunchSecret` and hands it back to `createSecretStream` (we find the stream by `id`). */
interface FinalHandshake {
  id: number
  isInitiator: boolean
  publicKey: Uint8Array
  remotePublicKey: Uint8Array | null
  holepunchSecret: Uint8Array
}

class HandshakeProxy implements PeerHandshake {
  remotePublicKey: Uint8Array | null
  holepunchSecret: Uint8Array | null = null

  constructor (private readonly stream: RelayStream, readonly isInitiator: boolean, remotePublicKey: Uint8Array | null) {
    this.remotePublicKey = remotePublicKey
  }

  async send (payload: unknown): Promise<Uint8Array> {
    const bytes = c.encode(this.stream.owner.host.hd.noisePayload as any, payload)
    return await this.stream.ask('noise', { type: MSG.NOISE_SEND, stream: this.stream.id, payload: bytes })
  }

  async recv (message: Uint8Array): Promise<unknown> {
    const payload: Uint8Array = await this.stream.ask('payload', { type: MSG.NOISE_RECV, stream: this.stream.id, message })
    try {
      return c.decode(this.stream.owner.host.hd.noisePayload as any, payload)
    } catch (err) {
      this.stream.owner.host.violation(BAD_MESSAGE, 'undecodable handshake payload')
      throw HypercoreError.DECODING_ERROR('the page sent an undecodable handshake payload', err)
    }
  }

  final (): FinalHandshake {
    if (this.holepunchSecret === null) throw HypercoreError.INVALID_OPERATION('handshake is not finished')
    return { id: this.stream.id, isInitiator: this.isInitiator, publicKey: this.stream.owner.host.publicKey, remotePublicKey: this.remotePublicKey, holepunchSecret: this.holepunchSecret }
  }
}

/** What hyperdht takes for an encrypted socket: it forwards the raw stream instead. */
class RelayedSocket extends EventEmitter {
  rawStream: UdxStream | null = null
  destroying = false
  readonly isInitiator: boolean

  constructor (private readonly stream: RelayStream, isInitiator: boolean) {
    super()
    this.isInitiator = isInitiator
  }

  start (rawStream: UdxStream): void {
    if (this.destroying) {
      rawStream.destroy()
      return
    }
    this.rawStream = rawStream
    this.stream.attach(rawStream)
  }

  // hyperdht sets keep-alives on the sockets it makes; ours are the page's business.
  setKeepAlive (): void {}
  sendKeepAlive (): void {}

  destroy (err?: Error): void {
    if (this.destroying) return
    this.destroying = true
    this.rawStream?.destroy()
    // hyperdht gave up (peer not found, holepunch failed, …): the page hears why. When the
    // stream closed first (the page closed it), this is a no-op there.
    this.stream.close(err?.message ?? 'connection closed', true)
    this.emit('close')
  }
}

/** One connection of the page, from its first handshake step to its close. */
class RelayStream {
  readonly handshake: HandshakeProxy
  readonly socket: RelayedSocket
  raw: UdxStream | null = null
  closed = false
  private pending: Pending | null = null
  private openTimer: ReturnType<typeof setTimeout> | null = null
  private out: Uint8Array[] = []
  private outBytes = 0
  private flushing = false
  private ended = false
  private writeBlocked = false

  constructor (readonly owner: RelayStreams, readonly id: number, readonly isInitiator: boolean, remotePublicKey: Uint8Array | null) {
    this.handshake = new HandshakeProxy(this, isInitiator, remotePublicKey)
    this.socket = new RelayedSocket(this, isInitiator)
  }

  /** Sends a handshake step to the page and waits for its answer. */
  ask (kind: Pending['kind'], msg: RelayMessage): Promise<any> {
    if (this.closed) return Promise.reject(HypercoreError.CONNECTION_CLOSED('connection closed'))
    if (this.pending !== null) return Promise.reject(HypercoreError.INVALID_OPERATION('a handshake step is already waiting'))
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => this.close('the page did not answer a handshake step in time', true), this.owner.host.handshakeTimeoutMs)
      this.pending = { resolve, reject, timer, kind }
      this.owner.host.send(msg)
    })
  }

  /** The page's answer to the step we asked for; anything else is a protocol violation. */
  answer (msg: Extract<PageMessage, { type: typeof MSG.NOISE | typeof MSG.PAYLOAD }>): void {
    const p = this.pending
    const expected = msg.type === MSG.NOISE ? 'noise' : 'payload'
    if (p === null || p.kind !== expected) return this.owner.host.violation(BAD_MESSAGE, 'unexpected handshake message')
    this.pending = null
    clearTimeout(p.timer)
    if (msg.type === MSG.PAYLOAD && !this.isInitiator) {
      if (msg.publicKey.byteLength !== 32) return this.owner.host.violation(BAD_MESSAGE, 'bad remote key')
      this.handshake.remotePublicKey = Buffer.from(msg.publicKey)
    }
    if (msg.holepunchSecret.byteLength === 32) {
      this.handshake.holepunchSecret = Buffer.from(msg.holepunchSecret)
      // Finished: the raw stream must follow (hyperdht connects or punches), or we give up.
      this.openTimer = setTimeout(() => this.close('no connection was made', true), this.owner.host.handshakeTimeoutMs * 3)
    } else if (msg.holepunchSecret.byteLength !== 0) {
      return this.owner.host.violation(BAD_MESSAGE, 'bad holepunch secret')
    }
    p.resolve(Buffer.from(msg.type === MSG.NOISE ? msg.message : msg.payload))
  }

  /** hyperdht connected the raw stream: tell the page and start forwarding. */
  attach (raw: UdxStream): void {
    if (this.closed) {
      raw.destroy()
      return
    }
    if (this.openTimer !== null) clearTimeout(this.openTimer)
    this.openTimer = null
    this.raw = raw
    this.owner.host.send({ type: MSG.OPEN, stream: this.id })
    // A native secret stream writes its header the moment hyperdht starts it; the page's first
    // bytes are a WebSocket round trip away. Meanwhile the peer may still be holepunching, and
    // on a path it has not seen a packet on yet it can give up and drop its side (measured on
    // loopback: the server's NAT analysis aborts within milliseconds). An empty UDX message,
    // as hyperdht sends to confirm a direct path, shows it the path now; secret streams ignore it.
    raw.trySend?.(EMPTY)
    raw.on('data', (data: Uint8Array) => this.queue(data))
    raw.on('end', () => { this.ended = true; this.flush() })
    raw.on('drain', () => {
      if (!this.writeBlocked) return
      this.writeBlocked = false
      this.owner.unblock()
    })
    raw.on('error', () => {})
    raw.once('close', () => this.close('connection closed', true))
    if (this.owner.host.outputBlocked) raw.pause()
  }

  /** Page → peer. */
  write (data: Uint8Array): void {
    if (this.raw === null) return this.owner.host.violation(BAD_MESSAGE, 'data before the connection opened')
    if (!this.raw.write(data) && !this.writeBlocked) {
      this.writeBlocked = true
      this.owner.block()
    }
  }

  endWrite (): void {
    this.raw?.end()
  }

  private queue (data: Uint8Array): void {
    this.out.push(data)
    this.outBytes += data.byteLength
    // UDX hands over packets (~1.2 KB): coalesce what arrives in one turn into few messages.
    if (this.outBytes >= MAX_DATA_BYTES) this.flush()
    else if (!this.flushing) {
      this.flushing = true
      setImmediate(() => this.flush())
    }
  }

  private flush (): void {
    this.flushing = false
    while (this.outBytes > 0 && !this.closed) {
      const n = Math.min(this.outBytes, MAX_DATA_BYTES)
      const chunk = new Uint8Array(n)
      let off = 0
      while (off < n) {
        const head = this.out[0]!
        const take = Math.min(head.byteLength, n - off)
        chunk.set(head.subarray(0, take), off)
        off += take
        if (take === head.byteLength) this.out.shift()
        else this.out[0] = head.subarray(take)
      }
      this.outBytes -= n
      this.owner.host.send({ type: MSG.DATA, stream: this.id, data: chunk })
    }
    if (this.ended && this.outBytes === 0 && !this.closed) {
      this.ended = false
      this.owner.host.send({ type: MSG.END, stream: this.id })
    }
  }

  /** Ends this connection; `tellPage` sends CLOSE (not when the page closed it). */
  close (reason: string, tellPage: boolean): void {
    if (this.closed) return
    if (this.raw !== null && tellPage) this.flush()
    this.closed = true
    if (this.openTimer !== null) clearTimeout(this.openTimer)
    this.openTimer = null
    const p = this.pending
    this.pending = null
    if (p !== null) {
      clearTimeout(p.timer)
      p.reject(HypercoreError.CONNECTION_CLOSED(reason))
    }
    if (this.writeBlocked) {
      this.writeBlocked = false
      this.owner.unblock()
    }
    this.out = []
    this.outBytes = 0
    this.socket.destroy()
    this.raw?.destroy()
    this.owner.forget(this)
    if (tellPage) this.owner.host.send({ type: MSG.CLOSE, stream: this.id, reason: reason.slice(0, 200) })
  }
}

/** Every connection of one page. */
export class RelayStreams {
  private readonly streams = new Map<number, RelayStream>()
  private nextIncoming = 1
  private blocked = 0
  private closedAll = false

  constructor (readonly host: StreamHost) {}

  get size (): number { return this.streams.size }

  /** The page connects to `remotePublicKey` (its own even stream id). */
  connect (id: number, remotePublicKey: Uint8Array, relayAddresses: IPv4[] | undefined): void {
    if (id % 2 !== 0 || this.streams.has(id)) return this.host.violation(BAD_MESSAGE, 'bad stream id')
    if (this.streams.size >= this.host.maxStreams) return this.host.violation(TOO_MANY_STREAMS, 'too many connections')
    const s = new RelayStream(this, id, true, Buffer.from(remotePublicKey))
    this.streams.set(id, s)
    try {
      this.host.dht.connect(Buffer.from(remotePublicKey), {
        keyPair: { publicKey: Buffer.from(this.host.publicKey) },
        relayAddresses,
        createHandshake: () => s.handshake,
        createSecretStream: () => s.socket
      })
    } catch (err) {
      s.close(err instanceof Error ? err.message : 'cannot connect', true)
    }
  }

  /** hyperdht's `createHandshake` for the page's server: someone connects to the page. */
  incoming (): PeerHandshake {
    if (this.closedAll || this.streams.size >= this.host.maxStreams) {
      // Refused without asking the page (hyperdht drops a handshake whose recv fails).
      return { remotePublicKey: null, send: async () => { throw HypercoreError.CONNECTION_CLOSED('refused') }, recv: async () => { throw HypercoreError.CONNECTION_CLOSED('the page has too many connections') }, final: () => null }
    }
    const id = this.nextIncoming
    this.nextIncoming += 2
    const s = new RelayStream(this, id, false, null)
    this.streams.set(id, s)
    return s.handshake
  }

  /** hyperdht's `createSecretStream` for the page's server: the handshake `final()` made `handshake`. */
  incomingSocket (rawStream: UdxStream, handshake: { id?: number } | null): RelayedSocket | null {
    const s = typeof handshake?.id === 'number' ? this.streams.get(handshake.id) : undefined
    if (s === undefined || s.isInitiator) {
      rawStream.destroy()
      return null
    }
    s.socket.start(rawStream)
    return s.socket
  }

  /** NOISE, PAYLOAD, DATA, END or CLOSE from the page. */
  onMessage (msg: PageMessage): void {
    if (!('stream' in msg)) return
    const s = this.streams.get(msg.stream)
    if (s === undefined) return // closed meanwhile (the page learns from our CLOSE)
    switch (msg.type) {
      case MSG.NOISE:
      case MSG.PAYLOAD:
        return s.answer(msg)
      case MSG.DATA:
        if (msg.data.byteLength > MAX_DATA_BYTES) return this.host.violation(BAD_MESSAGE, 'data message too large')
        return s.write(msg.data)
      case MSG.END:
        return s.endWrite()
      case MSG.CLOSE:
        return s.close(msg.reason, false)
    }
  }

  /** The page's socket is writable again or blocked: resume or pause every raw stream. */
  setOutputBlocked (blocked: boolean): void {
    for (const s of this.streams.values()) {
      if (s.raw === null) continue
      if (blocked) s.raw.pause()
      else s.raw.resume()
    }
  }

  /** @internal a raw stream stopped taking writes */
  block (): void {
    if (this.blocked++ === 0) this.host.pauseInput()
  }

  /** @internal */
  unblock (): void {
    if (--this.blocked === 0) this.host.resumeInput()
  }

  /** @internal */
  forget (s: RelayStream): void {
    if (this.streams.get(s.id) === s) this.streams.delete(s.id)
  }

  closeAll (): void {
    this.closedAll = true
    for (const s of [...this.streams.values()]) s.close('relay session closed', false)
  }
}
