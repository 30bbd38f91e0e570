/**
 * @module signaling/broadcast-channel
 * `BroadcastChannelSignaling()`: tabs (and workers) of one origin find each other with no
 * server. Every client posts on one BroadcastChannel; the messages are those of
 * ./PROTOCOL.md ("BroadcastChannel" section), addressed by peer id because everybody on the
 * channel hears everything. A join is announced to all; each client in that topic answers
 * the newcomer directly, so both sides learn of each other and the smaller id offers.
 * Node 20 has a global BroadcastChannel too (one process, its workers).
 *
 * Any script of the origin can post on the channel, so signals are signed by their sender
 * and carry a counter, as over our server (auth.ts): a signal that does not verify for its
 * `from`, is not for us, or repeats an old counter is dropped (reported as an error event
 * when it was addressed to us). Joins are not signed: like a server's peer list they are
 * hints, and the worst a forged one does is make us offer, with a signed offer only the real
 * owner of that id can use.
 */
import { HypercoreError } from '../errors.js'
import type { SignalData } from '../transport/types.js'
import { cryptoReady, isCryptoReady } from '../crypto/sodium.js'
import { isSeq, isSignatureHex, SignalSealer, SignalVerifier } from './auth.js'
import { ErrorEvents } from './error-events.js'
import { PeerRouter } from './peer-router.js'
import { DEFAULT_MAX_SIGNAL_BYTES, isHex64, isSignalText, parseSignalText, toSignalText } from './protocol.js'
import type { PeerId, SignalingClient, SignalingContext, TopicHex } from './types.js'

export interface BroadcastChannelSignalingOptions {
  /** Channel name; clients meet only on the same one. Default 'hypercore-web-signaling'. */
  channelName?: string
  /** Trickle ICE for the connections started here. Default true. */
  trickle?: boolean
  /** A BroadcastChannel class (tests); default the global one. */
  BroadcastChannel?: typeof BroadcastChannel
}

/** What goes over the channel. `to` is absent on a join, which is for everybody. */
type ChannelMessage =
  | { type: 'join', from: PeerId, topic: TopicHex }
  | { type: 'peer-joined', from: PeerId, to: PeerId, topic: TopicHex }
  | { type: 'signal', from: PeerId, to: PeerId, topic: TopicHex, data: string, seq: number, signature: string }

export class BroadcastChannelSignalingClient extends ErrorEvents implements SignalingClient {
  readonly name = 'broadcast-channel'
  private readonly channelName: string
  private readonly trickle: boolean
  private readonly BC: typeof BroadcastChannel | undefined
  private readonly topics = new Set<TopicHex>()
  private ctx: SignalingContext | null = null
  private router: PeerRouter | null = null
  private sealer: SignalSealer | null = null
  private readonly verifier = new SignalVerifier()
  private channel: BroadcastChannel | null = null
  private closed = false

  constructor (opts: BroadcastChannelSignalingOptions = {}) {
    super()
    if (opts.channelName !== undefined && (typeof opts.channelName !== 'string' || opts.channelName === '')) {
      throw HypercoreError.BAD_ARGUMENT('channelName must be a non-empty string')
    }
    if (typeof opts.trickle !== 'undefined' && typeof opts.trickle !== 'boolean') throw HypercoreError.BAD_ARGUMENT('trickle must be a boolean')
    this.channelName = opts.channelName ?? 'hypercore-web-signaling'
    this.trickle = opts.trickle ?? true
    this.BC = opts.BroadcastChannel ?? globalThis.BroadcastChannel
  }

  start (ctx: SignalingContext): void {
    if (this.ctx !== null || this.closed) return
    this.ctx = ctx
    if (this.BC === undefined) {
      return this.emitError(HypercoreError.INVALID_OPERATION('BroadcastChannel is not available here'))
    }
    this.sealer = new SignalSealer(ctx)
    this.router = new PeerRouter({
      ctx,
      trickle: this.trickle,
      send: (to, topic, data) => this.sendSignal(to, topic, data),
      onError: (err) => this.emitError(err)
    })
    // The swarm loads crypto before it starts us; another caller may not have.
    if (isCryptoReady()) return this.open()
    cryptoReady().then(() => this.open(), (err) => this.emitError(HypercoreError.SIGNALING_FAILED('cannot load crypto to check signals', err)))
  }

  private open (): void {
    const ctx = this.ctx
    if (this.closed || ctx === null || this.BC === undefined) return
    const channel = new this.BC(this.channelName)
    this.channel = channel
    channel.onmessage = (ev: MessageEvent) => this.onMessage(ev.data)
    for (const t of this.topics) this.post({ type: 'join', from: ctx.self, topic: t })
  }

  join (topic: TopicHex): void {
    if (this.closed) return
    if (!isHex64(topic)) return this.emitError(HypercoreError.BAD_ARGUMENT(`topic must be 64 lowercase hex characters, got ${String(topic)}`))
    if (this.topics.has(topic)) return
    this.topics.add(topic)
    if (this.ctx !== null) this.post({ type: 'join', from: this.ctx.self, topic })
  }

  leave (topic: TopicHex): void {
    if (!this.topics.delete(topic)) return
    this.router?.forgetTopic(topic)
  }

  async close (): Promise<void> {
    if (this.closed) return
    this.closed = true
    this.router?.forgetAll()
    this.topics.clear()
    if (this.channel !== null) {
      this.channel.onmessage = null
      this.channel.close()
      this.channel = null
    }
  }

  private onMessage (raw: unknown): void {
    const ctx = this.ctx
    const router = this.router
    const m = parse(raw)
    if (ctx === null || router === null || m === null || m.from === ctx.self) return
    if (m.type !== 'join' && m.to !== ctx.self) return
    if (!this.topics.has(m.topic)) return
    switch (m.type) {
      case 'join':
        // Answer the newcomer directly so it learns of us too.
        this.post({ type: 'peer-joined', from: ctx.self, to: m.from, topic: m.topic })
        router.discovered(m.from, m.topic)
        return
      case 'peer-joined':
        router.discovered(m.from, m.topic)
        return
      case 'signal': {
        const err = this.verifier.check(m.from, ctx.self, m.topic, m.seq, m.data, m.signature)
        if (err !== null) return this.emitError(err)
        const signal = parseSignalText(m.data)
        if (signal === null) return this.emitError(HypercoreError.PROTOCOL_ERROR(`peer ${m.from.slice(0, 16)}… signed a signal that is not a JSON object; dropped`))
        router.signal(m.from, m.topic, signal)
      }
    }
  }

  private sendSignal (to: PeerId, topic: TopicHex, data: SignalData): void {
    if (this.sealer === null || this.ctx === null) return
    const text = toSignalText(data, DEFAULT_MAX_SIGNAL_BYTES)
    if (text === null) {
      return this.emitError(HypercoreError.BAD_ARGUMENT(`signal for ${to.slice(0, 8)}… is not a JSON object within ${DEFAULT_MAX_SIGNAL_BYTES} bytes; dropped`))
    }
    let sealed
    try {
      sealed = this.sealer.seal(to, topic, text)
    } catch (err) {
      return this.emitError(HypercoreError.SIGNALING_FAILED(`could not sign a signal for ${to.slice(0, 8)}…`, err))
    }
    this.post({ type: 'signal', from: this.ctx.self, to, topic, ...sealed })
  }

  private post (m: ChannelMessage): void {
    if (this.channel === null) return
    try {
      this.channel.postMessage(m)
    } catch (err) {
      this.emitError(HypercoreError.CONNECTION_CLOSED('BroadcastChannel post failed', err))
    }
  }
}

/** Any page of the origin can post here: validate like the server does. */
function parse (raw: unknown): ChannelMessage | null {
  if (typeof raw !== 'object' || raw === null) return null
  const m = raw as Record<string, unknown>
  if (!isHex64(m.from) || !isHex64(m.topic)) return null
  switch (m.type) {
    case 'join':
      return { type: 'join', from: m.from, topic: m.topic }
    case 'peer-joined':
      return isHex64(m.to) ? { type: 'peer-joined', from: m.from, to: m.to, topic: m.topic } : null
    case 'signal':
      return isHex64(m.to) && isSignalText(m.data, DEFAULT_MAX_SIGNAL_BYTES) && isSeq(m.seq) && isSignatureHex(m.signature)
        ? { type: 'signal', from: m.from, to: m.to, topic: m.topic, data: m.data, seq: m.seq, signature: m.signature }
        : null
    default:
      return null
  }
}

/** A signaling client for the tabs of this origin. */
export function BroadcastChannelSignaling (opts: BroadcastChannelSignalingOptions = {}): BroadcastChannelSignalingClient {
  return new BroadcastChannelSignalingClient(opts)
}
