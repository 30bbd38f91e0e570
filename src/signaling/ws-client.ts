/**
 * @module signaling/ws-client
 * `WebSocketSignaling({ url })`: the client of our signaling server (./server, protocol in
 * ./PROTOCOL.md) over the platform's WebSocket (`#platform/websocket`: the browser's own,
 * `ws` in Node). It proves the swarm's peer id by signing the server's challenge (with the
 * swarm's `sign()`: the key never leaves the swarm), joins the swarm's topics, and hands the
 * peers it learns of and the signals it receives to a `PeerRouter`.
 *
 * Every signal it sends is signed, with a counter, for its receiver and topic; every signal it
 * receives is dropped, with an error event, unless it verifies for the id the server says sent
 * it and its counter is above the last one from that id (auth.ts). So a lying server, or a
 * client that took an id over, cannot speak in another peer's name, nor replay what a peer said.
 *
 * A lost connection is retried with exponential backoff and jitter, and every topic is
 * joined again after the hello. Failures are reported as 'error' events, never thrown.
 * Signals produced while disconnected are dropped: that WebRTC attempt fails and the swarm
 * meets the peer again after the re-join.
 */
import { WebSocketImpl } from '#platform/websocket'
import { HypercoreError } from '../errors.js'
import type { SignalData } from '../transport/types.js'
import { ErrorEvents } from './error-events.js'
import { cryptoReady, isCryptoReady } from '../crypto/sodium.js'
import { answerChallenge, SignalSealer, SignalVerifier } from './auth.js'
import { PeerRouter } from './peer-router.js'
import { retryDelay } from './retry-delay.js'
import { CLOSE, isHex64, parseServerMessage, parseSignalText, toSignalText, type ClientMessage, type ServerLimits } from './protocol.js'
import type { PeerId, SignalingClient, SignalingContext, TopicHex } from './types.js'

export interface WebSocketSignalingOptions {
  /** The server's ws:// or wss:// URL. */
  url: string
  /** Trickle ICE for the connections started here. Default true. */
  trickle?: boolean
  /** First retry delay; doubles per failed attempt. Default 500 ms. */
  minBackoffMs?: number
  /** Longest retry delay. Default 30 s. */
  maxBackoffMs?: number
  /** A WebSocket class (tests); default the platform's. */
  WebSocket?: typeof WebSocket
}

/** Signals from the server are bounded by it; this only guards against a broken one. */
const MAX_INCOMING_SIGNAL_BYTES = 256 * 1024

export class WebSocketSignalingClient extends ErrorEvents implements SignalingClient {
  readonly name = 'ws-server'
  private readonly url: string
  /** What our hello signs as the server's host: `host[:port]` of the URL, as the Host header says it. */
  private readonly host: string
  private readonly trickle: boolean
  private readonly minBackoffMs: number
  private readonly maxBackoffMs: number
  private readonly WS: typeof WebSocket
  private readonly topics = new Set<TopicHex>()
  private ctx: SignalingContext | null = null
  private router: PeerRouter | null = null
  private sealer: SignalSealer | null = null
  /** Kept across reconnects: a server must not replay old signals after we reconnect either. */
  private readonly verifier = new SignalVerifier()
  private ws: WebSocket | null = null
  /** Our hello went out on the current socket (one answer per challenge). */
  private helloSent = false
  /** The server accepted our hello: joins and signals may go out. */
  private welcomed = false
  private readonly connectedListeners = new Set<(connected: boolean) => void>()
  private limits: ServerLimits | null = null
  private attempts = 0
  private retryTimer: ReturnType<typeof setTimeout> | null = null
  private closed = false
  private closing: Promise<void> | null = null
  /** Callers of `flushed(topic)` waiting for the server's list of that topic. */
  private readonly flushWaiters = new Map<TopicHex, Array<() => void>>()

  constructor (opts: WebSocketSignalingOptions) {
    super()
    if (typeof opts?.url !== 'string' || !/^wss?:\/\/[^\s]+$/.test(opts.url)) {
      throw HypercoreError.BAD_ARGUMENT(`WebSocketSignaling needs a ws:// or wss:// url, got ${String(opts?.url)}`)
    }
    this.url = opts.url
    try {
      this.host = new URL(opts.url).host
    } catch {
      throw HypercoreError.BAD_ARGUMENT(`WebSocketSignaling: cannot parse url ${opts.url}`)
    }
    this.trickle = opts.trickle ?? true
    this.minBackoffMs = opts.minBackoffMs ?? 500
    this.maxBackoffMs = opts.maxBackoffMs ?? 30_000
    this.WS = opts.WebSocket ?? WebSocketImpl
  }

  start (ctx: SignalingContext): void {
    if (this.ctx !== null || this.closed) return
    this.ctx = ctx
    this.sealer = new SignalSealer(ctx)
    this.router = new PeerRouter({
      ctx,
      trickle: this.trickle,
      send: (to, topic, data) => this.sendSignal(to, topic, data),
      onError: (err) => this.emitError(err)
    })
    // The swarm loads crypto before it starts us; another caller may not have.
    if (isCryptoReady()) return this.connect()
    cryptoReady().then(() => this.connect(), (err) => this.emitError(HypercoreError.SIGNALING_FAILED('cannot load crypto to sign our hello', err)))
  }

  join (topic: TopicHex): void {
    if (this.closed) return
    if (!isHex64(topic)) return this.emitError(HypercoreError.BAD_ARGUMENT(`topic must be 64 lowercase hex characters, got ${String(topic)}`))
    if (this.topics.has(topic)) return
    this.topics.add(topic)
    if (this.welcomed) this.sendJoin(topic)
  }

  leave (topic: TopicHex): void {
    if (!this.topics.delete(topic)) return
    this.router?.forgetTopic(topic)
    this.releaseFlushed(topic)
    if (this.welcomed) this.send({ type: 'leave', topic })
  }

  /**
   * Resolves once the server answered our (latest) join of `topic` with its peer list and the
   * offers for it were started; at once if the topic is not joined or the client is closed.
   * Lets the swarm end a first discovery round early (swarm/discovery.ts).
   */
  flushed (topic: TopicHex): Promise<void> {
    if (this.closed || !this.topics.has(topic)) return Promise.resolve()
    return new Promise((resolve) => {
      const list = this.flushWaiters.get(topic) ?? []
      list.push(resolve)
      this.flushWaiters.set(topic, list)
    })
  }

  private releaseFlushed (topic: TopicHex | null): void {
    for (const [t, list] of this.flushWaiters) {
      if (topic !== null && t !== topic) continue
      this.flushWaiters.delete(t)
      for (const resolve of list) resolve()
    }
  }

  close (): Promise<void> {
    this.closing ??= this.shutdown()
    return this.closing
  }

  private async shutdown (): Promise<void> {
    this.closed = true
    if (this.retryTimer !== null) clearTimeout(this.retryTimer)
    this.retryTimer = null
    this.router?.forgetAll()
    this.topics.clear()
    this.releaseFlushed(null)
    const ws = this.ws
    this.ws = null
    this.setWelcomed(false)
    if (ws === null || ws.readyState === ws.CLOSED) return
    await new Promise<void>((resolve) => {
      ws.addEventListener('close', () => resolve())
      try {
        ws.close(1000, 'client closing')
      } catch {
        resolve()
      }
    })
  }

  private connect (): void {
    if (this.closed || this.ctx === null) return
    let ws: WebSocket
    try {
      ws = new this.WS(this.url)
    } catch (err) {
      this.emitError(HypercoreError.CONNECTION_CLOSED(`cannot open ${this.url}`, err))
      return this.retry()
    }
    this.ws = ws
    this.helloSent = false
    // Nothing to say on open: the server speaks first, with our challenge.
    ws.onmessage = (ev: MessageEvent) => {
      if (this.ws === ws) this.onMessage(ev.data)
    }
    // 'close' always follows 'error' and carries the code: report there.
    ws.onerror = () => {}
    ws.onclose = (ev: CloseEvent) => {
      if (this.ws !== ws) return
      this.ws = null
      this.setWelcomed(false)
      this.router?.forgetAll()
      if (this.closed) return
      if (ev.code === CLOSE.REPLACED) {
        // Another connection uses our peer id; fighting over it would flap forever.
        this.emitError(HypercoreError.CONNECTION_CLOSED(`signaling server ${this.url}: our peer id connected again elsewhere; not reconnecting`))
        return
      }
      const why = ev.code === CLOSE.AUTH_FAILED
        ? HypercoreError.SIGNALING_FAILED(`signaling server ${this.url} did not accept our proof of peer id for host ${this.host} (behind a proxy that rewrites Host, the server needs its hosts option)`)
        : ev.code >= 4000 || ev.code === CLOSE.MESSAGE_TOO_BIG
        ? HypercoreError.PROTOCOL_ERROR(`signaling server ${this.url} closed us: ${ev.code} ${ev.reason}`)
        : HypercoreError.CONNECTION_CLOSED(`signaling server ${this.url} connection lost (${ev.code})`)
      this.emitError(why)
      this.retry()
    }
  }

  /** True while the server has welcomed us (we are announced in our topics). */
  get connected (): boolean { return this.welcomed }

  /** Calls `listener(connected)` whenever that changes; returns the unsubscribe function. */
  onConnectedChange (listener: (connected: boolean) => void): () => void {
    this.connectedListeners.add(listener)
    return () => { this.connectedListeners.delete(listener) }
  }

  /**
   * Retry now instead of waiting out the backoff (a page calls it on the window's 'online'
   * event: after a long time offline the next retry may be 30 s away). No-op when connected,
   * connecting, closed or not started.
   */
  reconnectNow (): void {
    if (this.closed || this.ws !== null || this.retryTimer === null) return
    clearTimeout(this.retryTimer)
    this.retryTimer = null
    this.attempts = 0
    this.connect()
  }

  private setWelcomed (welcomed: boolean): void {
    if (this.welcomed === welcomed) return
    this.welcomed = welcomed
    for (const l of [...this.connectedListeners]) {
      try { l(welcomed) } catch {}
    }
  }

  private retry (): void {
    if (this.closed || this.retryTimer !== null) return
    const delay = retryDelay(this.attempts, this.minBackoffMs, this.maxBackoffMs)
    this.attempts++
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null
      this.connect()
    }, delay)
  }

  private onMessage (data: unknown): void {
    const msg = parseServerMessage(data, MAX_INCOMING_SIGNAL_BYTES)
    const router = this.router
    const ctx = this.ctx
    if (msg === null || router === null || ctx === null) return
    switch (msg.type) {
      case 'challenge': {
        if (this.helloSent) return
        this.helloSent = true
        let signature: string
        try {
          signature = answerChallenge(ctx, msg.nonce, this.host)
        } catch (err) {
          return this.emitError(HypercoreError.SIGNALING_FAILED('could not sign the server\'s challenge', err))
        }
        return this.send({ type: 'hello', peerId: ctx.self, signature })
      }
      case 'welcome':
        this.attempts = 0
        this.limits = msg.limits
        this.setWelcomed(true)
        for (const t of this.topics) this.sendJoin(t)
        return
      case 'peers':
        if (!this.topics.has(msg.topic)) return
        for (const p of msg.peers) router.discovered(p, msg.topic)
        this.releaseFlushed(msg.topic)
        return
      case 'peer-joined':
        if (this.topics.has(msg.topic)) router.discovered(msg.peerId, msg.topic)
        return
      case 'signal': {
        if (!this.welcomed || !this.topics.has(msg.topic) || msg.from === ctx.self) return
        const err = this.verifier.check(msg.from, ctx.self, msg.topic, msg.seq, msg.data, msg.signature)
        if (err !== null) return this.emitError(err)
        const signal = parseSignalText(msg.data)
        if (signal === null) return this.emitError(HypercoreError.PROTOCOL_ERROR(`peer ${msg.from.slice(0, 16)}… signed a signal that is not a JSON object; dropped`))
        router.signal(msg.from, msg.topic, signal)
      }
    }
  }

  private sendJoin (topic: TopicHex): void {
    // Joining past the server's cap would get us closed: skip the extra topic and say so.
    const index = [...this.topics].indexOf(topic)
    if (this.limits !== null && index >= this.limits.maxTopics) {
      this.releaseFlushed(topic)
      return this.emitError(HypercoreError.BAD_ARGUMENT(`signaling server ${this.url} allows ${this.limits.maxTopics} topics; ${topic} not announced`))
    }
    this.send({ type: 'join', topic })
  }

  private sendSignal (to: PeerId, topic: TopicHex, data: SignalData): void {
    if (!this.welcomed || !this.topics.has(topic) || this.sealer === null) return
    // The server closes a client that sends an invalid or oversized signal: drop it here instead.
    const max = this.limits?.maxSignalBytes ?? MAX_INCOMING_SIGNAL_BYTES
    const text = toSignalText(data, max)
    if (text === null) {
      return this.emitError(HypercoreError.BAD_ARGUMENT(`signal for ${to.slice(0, 8)}… is not a JSON object within ${max} bytes; dropped`))
    }
    let sealed
    try {
      sealed = this.sealer.seal(to, topic, text)
    } catch (err) {
      return this.emitError(HypercoreError.SIGNALING_FAILED(`could not sign a signal for ${to.slice(0, 8)}…`, err))
    }
    const msg = JSON.stringify({ type: 'signal', to, topic, ...sealed } satisfies ClientMessage)
    // Escaping the text inside the message can make it larger than the signal itself.
    if (this.limits !== null && msg.length > this.limits.maxMessageBytes / 3 && new TextEncoder().encode(msg).length > this.limits.maxMessageBytes) {
      return this.emitError(HypercoreError.BAD_ARGUMENT(`signal for ${to.slice(0, 8)}… does not fit in the server's ${this.limits.maxMessageBytes}-byte messages; dropped`))
    }
    this.sendText(msg)
  }

  private send (msg: ClientMessage): void {
    this.sendText(JSON.stringify(msg))
  }

  private sendText (text: string): void {
    const ws = this.ws
    if (ws === null || ws.readyState !== ws.OPEN) return
    try {
      ws.send(text)
    } catch (err) {
      this.emitError(HypercoreError.CONNECTION_CLOSED(`send to ${this.url} failed`, err))
    }
  }
}

/** A signaling client for our WebSocket server at `url`. */
export function WebSocketSignaling (opts: WebSocketSignalingOptions): WebSocketSignalingClient {
  return new WebSocketSignalingClient(opts)
}
