/**
 * @module dht/client
 * The page's side of a DHT relay: a discovery the swarm runs beside its signaling clients
 * (`new Swarm({ dht: { relay: 'ws://…' } })`), so a page announces and looks up topics on the
 * HyperDHT and connects to hyperswarm peers, and they to it.
 *
 * The relay runs the DHT node; this runs everything that needs the swarm's key: the answer to
 * the relay's challenge, HyperDHT's Noise IK peer handshakes in both roles (./handshakes.ts),
 * and the signatures of the page's announce records, each built here from fields and signed
 * only if it names our key and a topic we announce (./auth.ts). A finished
 * handshake becomes a `RelayedStream` handed to the swarm with the handshake's keys
 * (`ctx.attach`): the swarm wraps it in its secret stream, so the relay only ever carries
 * ciphertext, and a relay that drops, reorders or forges bytes breaks that stream's
 * authentication (a typed error, that connection only).
 *
 * Several relay URLs may be given: when one fails, the next is tried (with backoff), and the
 * topics are joined again there; the swarm finds its peers again as it does after any drop.
 * Failures are 'error' events (the swarm's warnings), never throws.
 */
import b4a from 'b4a'
import { WebSocketImpl } from '#platform/websocket'
import { HypercoreError } from '../errors.js'
import { blake2b256 } from '../crypto/hash.js'
import { sign } from '../crypto/sign.js'
import { equalBytes } from '../crypto/bytes.js'
import type { KeyPair } from '../crypto/types.js'
import { ErrorEvents } from '../signaling/error-events.js'
import { retryDelay } from '../signaling/retry-delay.js'
import type { SignalingClient, SignalingContext, TopicHex } from '../signaling/types.js'
import { whenBufferedBelow } from '../transport/websocket.js'
import { announceSignable, isOwnRecord, relayHelloSignable } from './auth.js'
import { DhtHandshakes } from './handshakes.js'
import { JOIN_CLIENT, JOIN_SERVER, MSG, RELAY_CLOSE, SIGN_UNANNOUNCE, decodeRelayMessage, encodeMessage, type PageMessage, type RelayMessage } from './protocol.js'
import type { RelayLink } from './relayed-stream.js'

/** `new Swarm({ dht })`. */
export interface DhtOptions {
  /** The relay's ws:// or wss:// URL, or several: the next is tried when one fails. */
  relay: string | string[]
  /** First reconnect delay; doubles per failure. Default 500 ms. */
  minBackoffMs?: number
  /** Longest reconnect delay. Default 30 s. */
  maxBackoffMs?: number
  /** A handshake that has not finished after this many ms is dropped. Default 20 s. */
  handshakeTimeoutMs?: number
  /** A WebSocket class (tests); default the platform's. */
  WebSocket?: typeof WebSocket
}

/** Unsent bytes the WebSocket may hold before a relayed write waits. */
const WRITE_HIGH_WATER = 512 * 1024
const EMPTY: Uint8Array = new Uint8Array(0)

interface TopicState {
  readonly key: Uint8Array
  server: boolean
  client: boolean
  /** The relay finished a lookup since our latest join or refresh. */
  looked: boolean
  waiters: Array<() => void>
}

export class DhtRelayDiscovery extends ErrorEvents implements SignalingClient {
  readonly name = 'dht-relay'
  private readonly urls: string[]
  private readonly keyPair: KeyPair
  private readonly self: string
  private readonly ownTarget: Uint8Array
  private readonly opts: Required<Omit<DhtOptions, 'relay' | 'WebSocket'>>
  private readonly WS: typeof WebSocket
  private ctx: SignalingContext | null = null
  private ws: WebSocket | null = null
  private host = ''
  private welcomed = false
  private urlIndex = 0
  private failures = 0
  private retryTimer: ReturnType<typeof setTimeout> | null = null
  private closed = false
  private closing: Promise<void> | null = null
  private readonly topics = new Map<TopicHex, TopicState>()
  /** Topics we announced on this relay connection: we may sign their unannounce after leaving. */
  private readonly announced = new Set<TopicHex>()
  private readonly link: RelayLink
  private hs: DhtHandshakes | null = null

  constructor (opts: DhtOptions, keyPair: KeyPair) {
    super()
    const urls = typeof opts?.relay === 'string' ? [opts.relay] : opts?.relay
    if (!Array.isArray(urls) || urls.length === 0 || !urls.every(u => typeof u === 'string' && /^wss?:\/\/[^\s]+$/.test(u))) {
      throw HypercoreError.BAD_ARGUMENT('dht.relay must be a ws:// or wss:// URL or a list of them')
    }
    for (const u of urls) {
      try { void new URL(u).host } catch { throw HypercoreError.BAD_ARGUMENT(`dht.relay: cannot parse ${u}`) }
    }
    this.urls = urls
    this.keyPair = keyPair
    this.self = b4a.toString(keyPair.publicKey, 'hex')
    this.ownTarget = blake2b256(keyPair.publicKey)
    this.opts = {
      minBackoffMs: opts.minBackoffMs ?? 500,
      maxBackoffMs: opts.maxBackoffMs ?? 30_000,
      handshakeTimeoutMs: opts.handshakeTimeoutMs ?? 20_000
    }
    this.WS = opts.WebSocket ?? WebSocketImpl
    this.link = {
      send: (msg) => this.send(msg),
      whenWritable: (done) => this.ws === null ? (done(), () => {}) : whenBufferedBelow(this.ws, WRITE_HIGH_WATER, done),
      forget: (id) => { this.hs?.streams.delete(id) }
    }
  }

  /** The relay URL in use (or being tried). */
  get url (): string { return this.urls[this.urlIndex]! }

  /** True while a relay has welcomed us. */
  get connected (): boolean { return this.welcomed }

  start (ctx: SignalingContext): void {
    if (this.ctx !== null || this.closed) return
    if (typeof ctx.attach !== 'function') throw HypercoreError.BAD_ARGUMENT('the DHT relay client needs a swarm that accepts attached connections')
    this.ctx = ctx
    this.hs = new DhtHandshakes({
      keyPair: this.keyPair,
      self: this.self,
      ctx,
      link: this.link,
      handshakeTimeoutMs: this.opts.handshakeTimeoutMs,
      send: (msg) => this.send(msg),
      emitError: (err) => this.emitError(err),
      violation: (why) => this.violation(why),
      settled: (topic) => this.checkFlushed(topic)
    })
    this.connect()
  }

  join (topic: TopicHex, opts: { server?: boolean, client?: boolean } = {}): void {
    if (this.closed) return
    const t = this.topics.get(topic) ?? { key: b4a.from(topic, 'hex'), server: false, client: false, looked: false, waiters: [] }
    t.server = opts.server ?? true
    t.client = opts.client ?? true
    t.looked = false
    this.topics.set(topic, t)
    this.sendJoin(topic, t)
  }

  leave (topic: TopicHex): void {
    const t = this.topics.get(topic)
    if (t === undefined) return
    this.topics.delete(topic)
    this.release(t)
    if (this.welcomed) this.send({ type: MSG.LEAVE, topic: t.key })
  }

  refresh (topic: TopicHex): void {
    const t = this.topics.get(topic)
    if (t === undefined || !this.welcomed) return
    t.looked = false
    this.send({ type: MSG.REFRESH, topic: t.key })
  }

  /** Resolves once the relay finished a lookup of `topic` and the handshakes it started settled. */
  flushed (topic: TopicHex): Promise<void> {
    const t = this.topics.get(topic)
    if (this.closed || t === undefined) return Promise.resolve()
    return new Promise((resolve) => {
      t.waiters.push(resolve)
      this.checkFlushed(topic)
    })
  }

  close (): Promise<void> {
    this.closing ??= this.shutdown()
    return this.closing
  }

  private async shutdown (): Promise<void> {
    this.closed = true
    if (this.retryTimer !== null) clearTimeout(this.retryTimer)
    this.retryTimer = null
    for (const t of this.topics.values()) this.release(t)
    this.topics.clear()
    this.hs?.dropAll('the DHT relay client closed')
    const ws = this.ws
    this.ws = null
    this.welcomed = false
    if (ws === null || ws.readyState === ws.CLOSED) return
    await new Promise<void>((resolve) => {
      ws.addEventListener('close', () => resolve())
      try { ws.close(1000, 'client closing') } catch { resolve() }
    })
  }

  // --- the relay connection --------------------------------------------------------------------

  private connect (): void {
    if (this.closed || this.ctx === null) return
    const url = this.url
    let ws: WebSocket
    try {
      ws = new this.WS(url)
      this.host = new URL(url).host
    } catch (err) {
      this.emitError(HypercoreError.CONNECTION_CLOSED(`cannot open ${url}`, err))
      return this.retry()
    }
    ws.binaryType = 'arraybuffer'
    this.ws = ws
    ws.onmessage = (ev: MessageEvent) => { if (this.ws === ws) this.onMessage(ev.data) }
    ws.onerror = () => {}
    ws.onclose = (ev: CloseEvent) => {
      if (this.ws !== ws) return
      this.ws = null
      const wasWelcomed = this.welcomed
      this.welcomed = false
      this.announced.clear()
      this.hs?.dropAll(`DHT relay ${url} connection lost`)
      if (this.closed) return
      if (ev.code === RELAY_CLOSE.REPLACED) {
        return this.emitError(HypercoreError.CONNECTION_CLOSED(`DHT relay ${url}: our key connected again elsewhere; not reconnecting`))
      }
      this.emitError(ev.code >= 4000 || ev.code === RELAY_CLOSE.MESSAGE_TOO_BIG
        ? HypercoreError.PROTOCOL_ERROR(`DHT relay ${url} closed us: ${ev.code} ${ev.reason}`)
        : HypercoreError.CONNECTION_CLOSED(`DHT relay ${url} ${wasWelcomed ? 'connection lost' : 'unreachable'} (${ev.code})`))
      // The next relay of the list, if there is one: this one may be gone for good.
      this.urlIndex = (this.urlIndex + 1) % this.urls.length
      this.retry()
    }
  }

  private retry (): void {
    if (this.closed || this.retryTimer !== null) return
    // A full round over the list without a welcome counts as one failure.
    const delay = this.urlIndex === 0 ? retryDelay(this.failures++, this.opts.minBackoffMs, this.opts.maxBackoffMs) : 0
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null
      this.connect()
    }, delay)
  }

  private send (msg: PageMessage): boolean {
    const ws = this.ws
    if (ws === null || ws.readyState !== 1) return false
    try {
      ws.send(encodeMessage(msg))
      return true
    } catch (err) {
      this.emitError(HypercoreError.CONNECTION_CLOSED(`send to ${this.url} failed`, err))
      return false
    }
  }

  /** A relay that breaks the protocol: drop it and try the next one. */
  private violation (why: string): void {
    this.emitError(HypercoreError.PROTOCOL_ERROR(`DHT relay ${this.url}: ${why}`))
    try { this.ws?.close(RELAY_CLOSE.BAD_MESSAGE, 'protocol error') } catch {}
  }

  private onMessage (data: unknown): void {
    if (!(data instanceof ArrayBuffer)) return this.violation('text message')
    let msg: RelayMessage
    try {
      msg = decodeRelayMessage(new Uint8Array(data))
    } catch {
      return this.violation('malformed message')
    }
    try {
      this.dispatch(msg)
    } catch (err) {
      this.emitError(err)
    }
  }

  private dispatch (msg: RelayMessage): void {
    switch (msg.type) {
      case MSG.CHALLENGE: {
        const signature = sign(relayHelloSignable(msg.nonce, this.keyPair.publicKey, this.host), this.keyPair.secretKey)
        this.send({ type: MSG.HELLO, publicKey: this.keyPair.publicKey, signature })
        return
      }
      case MSG.WELCOME:
        this.welcomed = true
        this.failures = 0
        for (const [topic, t] of this.topics) this.sendJoin(topic, t)
        return
      case MSG.PEER: {
        const topic = b4a.toString(msg.topic, 'hex')
        if (this.topics.get(topic)?.client === true) this.hs!.connect(topic, msg.publicKey)
        return
      }
      case MSG.LOOKUP_DONE: {
        const topic = b4a.toString(msg.topic, 'hex')
        const t = this.topics.get(topic)
        if (t === undefined) return
        if (msg.error !== '') this.emitError(HypercoreError.CONNECTION_CLOSED(`DHT lookup of ${topic.slice(0, 8)}… failed on ${this.url}: ${msg.error}`))
        t.looked = true
        return this.checkFlushed(topic)
      }
      case MSG.SIGN: return this.onSign(msg)
      case MSG.NOISE_SEND: return this.hs!.onNoiseSend(msg.stream, msg.payload)
      case MSG.NOISE_RECV: return this.hs!.onNoiseRecv(msg.stream, msg.message)
      case MSG.OPEN: return this.hs!.streams.get(msg.stream)?.onOpen()
      case MSG.DATA: return this.hs!.streams.get(msg.stream)?.onData(msg.data)
      case MSG.END: return this.hs!.streams.get(msg.stream)?.onEnd()
      case MSG.CLOSE: return this.hs!.onClose(msg.stream, msg.reason)
    }
  }

  private sendJoin (topic: TopicHex, t: TopicState): void {
    if (!this.welcomed) return
    if (t.server) this.announced.add(topic)
    this.send({ type: MSG.JOIN, topic: t.key, flags: (t.server ? JOIN_SERVER : 0) | (t.client ? JOIN_CLIENT : 0) })
  }

  /** Signs an announce record only if it names our key and a topic we announce (or our server record). */
  private onSign (m: Extract<RelayMessage, { type: typeof MSG.SIGN }>): void {
    const topic = b4a.toString(m.target, 'hex')
    const ours = equalBytes(m.target, this.ownTarget) ||
      this.topics.get(topic)?.server === true ||
      (m.kind === SIGN_UNANNOUNCE && this.announced.has(topic))
    let signature = EMPTY
    if (ours && isOwnRecord(m.peer, this.keyPair.publicKey)) {
      signature = sign(announceSignable(m.kind, m.target, m.nodeId, m.token, m.peer, m.refresh), this.keyPair.secretKey)
    } else {
      this.emitError(HypercoreError.PROTOCOL_ERROR(`DHT relay ${this.url} asked us to sign a record for ${topic.slice(0, 8)}… that is not ours to sign; refused`))
    }
    this.send({ type: MSG.SIGNATURE, id: m.id, signature })
  }

  private checkFlushed (topic: TopicHex): void {
    const t = this.topics.get(topic)
    if (t === undefined || !t.looked || this.hs?.pending(topic) === true) return
    this.release(t)
  }

  private release (t: TopicState): void {
    for (const w of t.waiters.splice(0)) w()
  }
}

/** The swarm's factory (loaded lazily, so pages that do not use the DHT never load this module). */
export function createDhtDiscovery (opts: DhtOptions, keyPair: KeyPair): DhtRelayDiscovery {
  return new DhtRelayDiscovery(opts, keyPair)
}
