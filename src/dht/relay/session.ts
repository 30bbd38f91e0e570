/**
 * @module dht/relay/session
 * One page on a DHT relay, from its WebSocket's first byte to its close: the challenge and
 * hello (the page proves its public key, so nobody else can listen or announce with it here),
 * then its topics (./topics.ts), its connections (./streams.ts), and the page's HyperDHT server
 * (one per page, listening with its public key, made on its first server topic).
 *
 * The page signs for the DHT (announce records, unannounces) when asked with `SIGN`; its
 * answers are bounded by what we asked, as are its handshake answers, so they are not rate
 * limited; every other message takes a token of the session's bucket, and DATA messages one of a
 * larger one. Anything malformed, unasked, oversized or over a limit closes this session with
 * a code; other sessions never notice.
 */
import type { WebSocket, RawData } from 'ws'
import { HypercoreError } from '../../errors.js'
import { randomBytes, verify } from '../../crypto/sign.js'
import { TokenBucket, type RateLimit } from '../../signaling/server/token-bucket.js'
import { NONCE_BYTES, relayHelloSignable } from '../auth.js'
import { MSG, RELAY_CLOSE, SIGN_ANNOUNCE, SIGN_UNANNOUNCE, decodePageMessage, encodeMessage, type PageMessage, type RelayMessage } from '../protocol.js'
import type { Hyperdht, HyperdhtNode, HyperdhtServer, IPv4, SignOptions, Signer } from './hyperdht.js'
import { RelayStreams } from './streams.js'
import { RelayTopics } from './topics.js'
import c from 'compact-encoding'

export interface SessionLimits {
  maxMessageBytes: number
  maxTopics: number
  maxStreams: number
  maxBufferedBytes: number
  rateLimit: RateLimit
  dataRateLimit: RateLimit
  helloTimeoutMs: number
  handshakeTimeoutMs: number
}

export interface SessionRegistry {
  readonly dht: HyperdhtNode
  readonly hd: Hyperdht
  readonly limits: SessionLimits
  /** The hosts a hello may be signed for (null: the upgrade request's Host header). */
  readonly hosts: string[] | null
  /** Makes `session` the one holding `key`, closing (and awaiting) a previous holder. */
  claim (key: string, session: RelaySession): Promise<void>
  closed (session: RelaySession): void
}

/** Pause raw streams above this much unsent to the page; resume below a quarter of it. */
const OUTPUT_HIGH_WATER = 1024 * 1024
const MAX_PENDING_SIGNATURES = 256
const MAX_REMEMBERED_PEERS = 1024

export class RelaySession {
  publicKey: Uint8Array | null = null
  private nonce: Uint8Array | null = randomBytes(NONCE_BYTES)
  private welcomed = false
  private closing = false
  private closedPromise: Promise<void> | null = null
  private helloTimer: ReturnType<typeof setTimeout> | null
  private readonly bucket: TokenBucket
  private readonly dataBucket: TokenBucket
  private streams: RelayStreams | null = null
  private topics: RelayTopics | null = null
  private server: HyperdhtServer | null = null
  private listening: Promise<IPv4[]> | null = null
  private readonly signatures = new Map<number, { resolve: (sig: Uint8Array) => void, reject: (err: Error) => void, timer: ReturnType<typeof setTimeout> }>()
  private nextSignature = 0
  private readonly peers = new Map<string, IPv4[]>()
  private inflight = 0
  private outputBlocked = false
  alive = true

  constructor (readonly ws: WebSocket, private readonly host: string, private readonly registry: SessionRegistry) {
    const l = registry.limits
    this.bucket = new TokenBucket(l.rateLimit)
    this.dataBucket = new TokenBucket(l.dataRateLimit)
    this.helloTimer = setTimeout(() => this.fail(RELAY_CLOSE.HELLO_REQUIRED, 'no hello'), l.helloTimeoutMs)
    ws.on('message', (data: RawData, isBinary: boolean) => this.onRaw(data, isBinary))
    ws.on('pong', () => { this.alive = true })
    ws.on('error', () => { void this.shutdown() })
    ws.on('close', () => { void this.shutdown() })
    this.send({ type: MSG.CHALLENGE, nonce: this.nonce! })
  }

  get stats (): { streams: number, topics: number } {
    return { streams: this.streams?.size ?? 0, topics: this.topics?.size ?? 0 }
  }

  /** Closes the WebSocket with `code` and releases everything. */
  fail (code: number, reason: string): void {
    if (this.closing) return
    void this.shutdown()
    try { this.ws.close(code, reason) } catch {}
  }

  /** Releases every stream, topic and signature wait and the page's DHT server; resolves when that server closed. */
  shutdown (): Promise<void> {
    this.closedPromise ??= this._shutdown()
    return this.closedPromise
  }

  private async _shutdown (): Promise<void> {
    this.closing = true
    if (this.helloTimer !== null) clearTimeout(this.helloTimer)
    this.helloTimer = null
    this.nonce = null
    for (const [, w] of this.signatures) {
      clearTimeout(w.timer)
      w.reject(HypercoreError.CONNECTION_CLOSED('page gone'))
    }
    this.signatures.clear()
    this.streams?.closeAll()
    this.topics?.closeAll()
    const server = this.server
    this.server = null
    if (server !== null) await server.close().catch(() => {})
    this.registry.closed(this)
  }

  send (msg: RelayMessage): void {
    if (this.closing || this.ws.readyState !== 1) return
    const bytes = encodeMessage(msg)
    if (this.ws.bufferedAmount > this.registry.limits.maxBufferedBytes) return this.fail(RELAY_CLOSE.SLOW_CONSUMER, 'not reading')
    this.inflight += bytes.byteLength
    this.ws.send(bytes, { binary: true }, () => {
      this.inflight -= bytes.byteLength
      if (this.outputBlocked && this.inflight < OUTPUT_HIGH_WATER / 4) {
        this.outputBlocked = false
        this.streams?.setOutputBlocked(false)
      }
    })
    if (!this.outputBlocked && this.inflight > OUTPUT_HIGH_WATER) {
      this.outputBlocked = true
      this.streams?.setOutputBlocked(true)
    }
  }

  private onRaw (data: RawData, isBinary: boolean): void {
    if (this.closing) return
    if (!isBinary) return this.fail(RELAY_CLOSE.BAD_MESSAGE, 'text message')
    const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data)
    let msg: PageMessage
    try {
      msg = decodePageMessage(buf)
    } catch (err) {
      return this.fail(RELAY_CLOSE.BAD_MESSAGE, 'malformed message')
    }
    const answer = msg.type === MSG.SIGNATURE || msg.type === MSG.NOISE || msg.type === MSG.PAYLOAD
    const bucket = msg.type === MSG.DATA || msg.type === MSG.END ? this.dataBucket : answer ? null : this.bucket
    if (bucket !== null && !bucket.take()) return this.fail(RELAY_CLOSE.RATE_LIMITED, 'rate limit')
    if (msg.type === MSG.HELLO) return this.onHello(msg)
    if (!this.welcomed) return this.fail(RELAY_CLOSE.HELLO_REQUIRED, 'hello first')
    switch (msg.type) {
      case MSG.JOIN:
        if (!this.topics!.has(msg.topic) && this.topics!.size >= this.registry.limits.maxTopics) return this.fail(RELAY_CLOSE.TOO_MANY_TOPICS, 'too many topics')
        return this.topics!.join(msg.topic, msg.flags)
      case MSG.LEAVE: return this.topics!.leave(msg.topic)
      case MSG.REFRESH: return this.topics!.refresh(msg.topic)
      case MSG.SIGNATURE: return this.onSignature(msg.id, msg.signature)
      case MSG.CONNECT: return this.streams!.connect(msg.stream, msg.publicKey, this.peers.get(hex(msg.publicKey)))
      default: return this.streams!.onMessage(msg)
    }
  }

  private onHello (msg: Extract<PageMessage, { type: typeof MSG.HELLO }>): void {
    const nonce = this.nonce
    if (this.publicKey !== null || nonce === null) return this.fail(RELAY_CLOSE.HELLO_REQUIRED, 'hello twice')
    this.nonce = null // one answer per challenge
    const ok = (this.registry.hosts ?? [this.host]).some(h => verify(relayHelloSignable(nonce, msg.publicKey, h), msg.signature, msg.publicKey))
    if (!ok) return this.fail(RELAY_CLOSE.AUTH_FAILED, 'public key not proven')
    if (this.helloTimer !== null) clearTimeout(this.helloTimer)
    this.helloTimer = null
    const publicKey = Buffer.from(msg.publicKey)
    this.publicKey = publicKey
    this.registry.claim(hex(publicKey), this).then(() => {
      if (this.closing) return
      const session = this
      this.streams = new RelayStreams({
        dht: this.registry.dht,
        hd: this.registry.hd,
        publicKey,
        maxStreams: this.registry.limits.maxStreams,
        handshakeTimeoutMs: this.registry.limits.handshakeTimeoutMs,
        send: (m) => this.send(m),
        pauseInput: () => this.ws.pause(),
        resumeInput: () => this.ws.resume(),
        get outputBlocked () { return session.outputBlocked },
        violation: (code, reason) => this.fail(code, reason)
      })
      this.topics = new RelayTopics({
        dht: this.registry.dht,
        publicKey,
        signers: this.signers(),
        listen: () => this.listen(),
        rememberPeer: (key, addresses) => this.rememberPeer(key, addresses),
        send: (m) => this.send(m)
      })
      this.welcomed = true
      const l = this.registry.limits
      this.send({ type: MSG.WELCOME, maxMessageBytes: l.maxMessageBytes, maxStreams: l.maxStreams, maxTopics: l.maxTopics })
    }, () => this.fail(RELAY_CLOSE.GOING_AWAY, 'relay closing'))
  }

  /** The page's DHT server: listening with its key, records signed by the page. */
  private listen (): Promise<IPv4[]> {
    this.listening ??= (async () => {
      const streams = this.streams!
      const server = this.registry.dht.createServer({
        createHandshake: () => streams.incoming(),
        createSecretStream: (_isInitiator, rawStream, opts) => streams.incomingSocket(rawStream!, opts?.handshake ?? null) ?? DEAD_SOCKET
      })
      this.server = server
      if (this.closing) {
        await server.close()
        throw HypercoreError.SESSION_CLOSED('page gone')
      }
      await server.listen({ publicKey: Buffer.from(this.publicKey!) }, this.signers())
      return server.relayAddresses
    })()
    return this.listening
  }

  private signers (): SignOptions {
    const ask = (kind: number): Signer => async (target, token, nodeId, ann) => {
      const peer = c.encode(this.registry.hd.peer as any, ann.peer)
      return await this.askSignature(kind, target, nodeId, token, peer, ann.refresh ?? EMPTY)
    }
    return { signAnnounce: ask(SIGN_ANNOUNCE), signUnannounce: ask(SIGN_UNANNOUNCE) }
  }

  private askSignature (kind: number, target: Uint8Array, nodeId: Uint8Array, token: Uint8Array, peer: Uint8Array, refresh: Uint8Array): Promise<Uint8Array> {
    if (this.closing) return Promise.reject(HypercoreError.CONNECTION_CLOSED('page gone'))
    if (this.signatures.size >= MAX_PENDING_SIGNATURES) return Promise.reject(HypercoreError.INVALID_OPERATION('too many signatures pending'))
    const id = this.nextSignature++
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.signatures.delete(id)
        reject(HypercoreError.REQUEST_TIMEOUT('the page did not sign in time'))
      }, this.registry.limits.handshakeTimeoutMs)
      this.signatures.set(id, { resolve, reject, timer })
      this.send({ type: MSG.SIGN, id, kind, target, nodeId, token, peer, refresh })
    })
  }

  private onSignature (id: number, signature: Uint8Array): void {
    const w = this.signatures.get(id)
    // Late answers (after a timeout) are fine; ids we never used are not.
    if (w === undefined) {
      if (id >= this.nextSignature) this.fail(RELAY_CLOSE.BAD_MESSAGE, 'unasked signature')
      return
    }
    this.signatures.delete(id)
    clearTimeout(w.timer)
    if (signature.byteLength === 64) w.resolve(Buffer.from(signature))
    else w.reject(HypercoreError.INVALID_SIGNATURE('the page refused to sign'))
  }

  private rememberPeer (key: Uint8Array, addresses: IPv4[]): void {
    const k = hex(key)
    this.peers.delete(k)
    this.peers.set(k, addresses)
    if (this.peers.size > MAX_REMEMBERED_PEERS) this.peers.delete(this.peers.keys().next().value!)
  }
}

const EMPTY = new Uint8Array(0)

/** What `createSecretStream` returns for a handshake we no longer know: already closed. */
const DEAD_SOCKET = { rawStream: null, destroying: true, start () {}, destroy () {}, on () { return this } }

function hex (b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex')
}
