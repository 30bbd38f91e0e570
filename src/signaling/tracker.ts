/**
 * @module signaling/tracker
 * `TrackerSignaling`: finds peers through WebTorrent trackers (wss://…), the public
 * signaling servers that already exist. The protocol is offer-first and non-trickle: we
 * make complete WebRTC offers in advance (`trickle: false`), send them with each announce,
 * the tracker hands each to one random peer of the topic, and that peer's complete answer
 * comes back through the tracker. Messages and id choices: see ./tracker-protocol.ts.
 *
 * One socket per tracker URL (./tracker-socket.ts reconnects it). Per tracker and topic we
 * announce on join, after every reconnect and every interval, each time with fresh offers
 * (while the swarm wants more peers); offers nobody answered are destroyed after
 * `offerTimeoutMs`. Nothing here throws into the swarm: failures are 'error' events.
 */
import { ErrorEvents } from './error-events.js'
import { HypercoreError } from '../errors.js'
import type { SignalData, WebRtcPeer } from '../transport/types.js'
import type { PeerId, SignalingClient, SignalingContext, TopicHex } from './types.js'
import { TrackerSocket, type BackoffOptions } from './tracker-socket.js'
import {
  announceMessage, answerMessage, hexToId, parseTrackerMessage, randomId, type TrackerMessage
} from './tracker-protocol.js'

export interface TrackerSignalingOptions {
  /** Tracker URLs (ws: or wss:). */
  announce: string[]
  /** Offers made per announce, per tracker and topic, while the swarm wants peers. Default 5. */
  numOffers?: number
  /** Re-announce period. Default: the tracker's `interval`, kept within 30 s…120 s (60 s until it says). */
  announceIntervalMs?: number
  /** An offer nobody answered within this is destroyed. Default 50 s. */
  offerTimeoutMs?: number
  /** Longest wait for our complete SDP (ICE gathering). Default 10 s. */
  signalTimeoutMs?: number
  /** Reconnect delays. */
  backoff?: BackoffOptions
}

interface TopicState {
  readonly topic: TopicHex
  readonly infoHash: string
  /** 'started' was sent on the current socket. */
  started: boolean
  announcing: boolean
  timer: ReturnType<typeof setTimeout> | null
}

interface PendingOffer {
  readonly peer: WebRtcPeer
  readonly infoHash: string
  timer: ReturnType<typeof setTimeout> | null
}

interface Tracker {
  socket: TrackerSocket
  readonly topics: Map<string, TopicState>
  readonly offers: Map<string, PendingOffer>
  intervalMs: number | null
  trackerId: string | null
}

const HEX64 = /^[0-9a-f]{64}$/

export class TrackerSignaling extends ErrorEvents implements SignalingClient {
  readonly name = 'tracker'
  private readonly numOffers: number
  private readonly intervalMs: number | null
  private readonly offerTimeoutMs: number
  private readonly signalTimeoutMs: number
  private readonly trackers: Tracker[]
  /** Joined topics by info_hash. */
  private readonly topics = new Map<string, TopicHex>()
  private ctx: SignalingContext | null = null
  private peerId = ''
  private closing: Promise<void> | null = null

  constructor (opts: TrackerSignalingOptions) {
    super()
    if (!Array.isArray(opts.announce) || opts.announce.length === 0) throw HypercoreError.BAD_ARGUMENT('announce must list at least one tracker URL')
    for (const url of opts.announce) {
      if (typeof url !== 'string' || !/^wss?:\/\//i.test(url)) throw HypercoreError.BAD_ARGUMENT(`tracker URL must be ws:// or wss://, got ${String(url)}`)
    }
    this.numOffers = checkCount(opts.numOffers ?? 5, 'numOffers', 50)
    this.intervalMs = opts.announceIntervalMs === undefined ? null : checkCount(opts.announceIntervalMs, 'announceIntervalMs', 2 ** 31 - 1, 1)
    this.offerTimeoutMs = checkCount(opts.offerTimeoutMs ?? 50_000, 'offerTimeoutMs', 2 ** 31 - 1, 1)
    this.signalTimeoutMs = checkCount(opts.signalTimeoutMs ?? 10_000, 'signalTimeoutMs', 2 ** 31 - 1, 1)
    this.trackers = [...new Set(opts.announce)].map(url => {
      const t = { topics: new Map(), offers: new Map(), intervalMs: null, trackerId: null } as unknown as Tracker
      t.socket = new TrackerSocket(url, {
        onOpen: () => this.onOpen(t),
        onMessage: text => this.onMessage(t, parseTrackerMessage(text)),
        onError: err => this.fail(err)
      }, opts.backoff)
      return t
    })
  }

  start (ctx: SignalingContext): void {
    if (this.closing !== null || this.ctx !== null) return
    if (!HEX64.test(ctx.self)) {
      this.fail(HypercoreError.BAD_ARGUMENT(`peer id must be 64 lowercase hex chars, got ${String(ctx.self)}`))
      return
    }
    this.ctx = ctx
    this.peerId = hexToId(ctx.self)
    for (const t of this.trackers) t.socket.start()
  }

  join (topic: TopicHex): void {
    if (this.closing !== null) return
    if (typeof topic !== 'string' || !HEX64.test(topic)) {
      this.fail(HypercoreError.BAD_ARGUMENT(`topic must be 64 lowercase hex chars, got ${String(topic)}`))
      return
    }
    const infoHash = hexToId(topic)
    if (this.topics.has(infoHash)) return
    this.topics.set(infoHash, topic)
    for (const t of this.trackers) {
      const state: TopicState = { topic, infoHash, started: false, announcing: false, timer: null }
      t.topics.set(infoHash, state)
      if (t.socket.isOpen) void this.announce(t, state)
    }
  }

  leave (topic: TopicHex): void {
    if (typeof topic !== 'string') return
    const infoHash = hexToId(topic)
    if (this.topics.get(infoHash) !== topic) return
    this.topics.delete(infoHash)
    for (const t of this.trackers) {
      const state = t.topics.get(infoHash)
      if (state === undefined) continue
      t.topics.delete(infoHash)
      if (state.timer !== null) clearTimeout(state.timer)
      // The tracker forgets us now instead of when our socket closes or our entry expires.
      if (state.started) t.socket.send(announceMessage({ infoHash, peerId: this.peerId, numwant: 0, event: 'stopped', trackerId: t.trackerId, self: this.ctx!.self }))
      for (const [offerId, offer] of t.offers) {
        if (offer.infoHash === infoHash) this.dropOffer(t, offerId, true)
      }
    }
  }

  close (): Promise<void> {
    if (this.closing === null) {
      for (const topic of [...this.topics.values()]) this.leave(topic)
      this.closing = Promise.all(this.trackers.map(async t => {
        for (const offerId of [...t.offers.keys()]) this.dropOffer(t, offerId, true)
        await t.socket.close()
      })).then(() => {})
    }
    return this.closing
  }

  private onOpen (t: Tracker): void {
    for (const state of t.topics.values()) {
      state.started = false
      void this.announce(t, state)
    }
  }

  /** One announce of one topic to one tracker, with fresh offers while the swarm wants peers. */
  private async announce (t: Tracker, state: TopicState): Promise<void> {
    if (state.announcing || t.topics.get(state.infoHash) !== state) return
    state.announcing = true
    if (state.timer !== null) clearTimeout(state.timer)
    state.timer = null
    const offers = await this.makeOffers(state.topic)
    state.announcing = false
    // The topic may have been left, or the socket lost, while ICE gathered.
    if (t.topics.get(state.infoHash) !== state || this.closing !== null || !t.socket.isOpen) {
      for (const o of offers) o.peer.destroy()
      return
    }
    const event = state.started ? undefined : 'started'
    const sent = t.socket.send(announceMessage({
      infoHash: state.infoHash,
      peerId: this.peerId,
      numwant: offers.length,
      event,
      offers,
      trackerId: t.trackerId,
      self: this.ctx!.self
    }))
    if (!sent) {
      // Closed between the check and the send: onOpen announces again.
      for (const o of offers) o.peer.destroy()
      return
    }
    state.started = true
    for (const o of offers) this.holdOffer(t, state.infoHash, o.offerId, o.peer)
    const interval = this.intervalMs ?? Math.min(120_000, Math.max(30_000, t.intervalMs ?? 60_000))
    state.timer = setTimeout(() => { state.timer = null; void this.announce(t, state) }, interval)
  }

  private async makeOffers (topic: TopicHex): Promise<Array<{ offerId: string, sdp: string, peer: WebRtcPeer }>> {
    const peers: WebRtcPeer[] = []
    for (let i = 0; i < this.numOffers && this.wants(null, topic); i++) {
      const peer = this.connect(null, topic, true)
      if (peer === null) break
      peers.push(peer)
    }
    const sdps = await Promise.all(peers.map(p => this.firstSdp(p, 'offer')))
    const offers: Array<{ offerId: string, sdp: string, peer: WebRtcPeer }> = []
    sdps.forEach((sdp, i) => { if (sdp !== null) offers.push({ offerId: randomId(), sdp, peer: peers[i]! }) })
    return offers
  }

  /** Keeps an announced offer until it is answered, expires, or its connection ends. */
  private holdOffer (t: Tracker, infoHash: string, offerId: string, peer: WebRtcPeer): void {
    const pending: PendingOffer = { peer, infoHash, timer: null }
    pending.timer = setTimeout(() => this.dropOffer(t, offerId, true), this.offerTimeoutMs)
    t.offers.set(offerId, pending)
    peer.stream.once('close', () => { if (t.offers.get(offerId) === pending) this.dropOffer(t, offerId, false) })
  }

  private dropOffer (t: Tracker, offerId: string, destroy: boolean): PendingOffer | null {
    const pending = t.offers.get(offerId)
    if (pending === undefined) return null
    t.offers.delete(offerId)
    if (pending.timer !== null) clearTimeout(pending.timer)
    if (destroy) pending.peer.destroy()
    return pending
  }

  private onMessage (t: Tracker, msg: TrackerMessage): void {
    switch (msg.kind) {
      case 'reply':
        if (msg.interval !== null) t.intervalMs = msg.interval * 1000
        if (msg.trackerId !== null) t.trackerId = msg.trackerId
        return
      case 'offer':
        void this.answer(t, msg)
        return
      case 'answer': {
        if (msg.infoHash !== t.offers.get(msg.offerId)?.infoHash) return
        // Fed whatever the swarm thinks of this peer: the answering side already chose to
        // connect, and two crossing offers must not both be dropped (the swarm dedups later).
        const pending = this.dropOffer(t, msg.offerId, false)!
        this.feed(pending.peer, { type: 'answer', sdp: msg.sdp })
        return
      }
      case 'failure':
        this.fail(HypercoreError.SIGNALING_FAILED(`tracker ${t.socket.url} refused: ${msg.reason}`))
        return
      case 'invalid':
        this.fail(HypercoreError.SIGNALING_FAILED(`tracker ${t.socket.url} sent an unreadable message (${msg.reason})`))
        return
      case 'ignored':
    }
  }

  /** Answers an offer the tracker forwarded, if the swarm wants that peer. */
  private async answer (t: Tracker, msg: Extract<TrackerMessage, { kind: 'offer' }>): Promise<void> {
    const state = t.topics.get(msg.infoHash)
    if (state === undefined || this.ctx === null || msg.peerId === this.peerId || msg.noiseKey === this.ctx.self) return
    if (!this.wants(msg.noiseKey, state.topic)) return
    const peer = this.connect(msg.noiseKey, state.topic, false)
    if (peer === null) return
    this.feed(peer, { type: 'offer', sdp: msg.sdp })
    const sdp = await this.firstSdp(peer, 'answer')
    if (sdp === null) return
    const sent = t.topics.get(msg.infoHash) === state && t.socket.send(answerMessage({
      infoHash: msg.infoHash, peerId: this.peerId, toPeerId: msg.peerId, offerId: msg.offerId, sdp, self: this.ctx.self
    }))
    if (!sent) peer.destroy()
  }

  /**
   * Our complete SDP of `type` (trickle is off, so it is the peer's one signal), or null when
   * the connection ends first or ICE gathering takes longer than signalTimeoutMs (then the
   * peer is destroyed: nobody could ever connect to it).
   */
  private firstSdp (peer: WebRtcPeer, type: 'offer' | 'answer'): Promise<string | null> {
    return new Promise(resolve => {
      let done = false
      const finish = (sdp: string | null): void => {
        if (done) return
        done = true
        clearTimeout(timer)
        peer.stream.off('close', onClose)
        if (sdp === null) peer.destroy()
        resolve(sdp)
      }
      const onClose = (): void => finish(null)
      const timer = setTimeout(() => finish(null), this.signalTimeoutMs)
      peer.stream.once('close', onClose)
      try {
        peer.onSignal((data: SignalData) => {
          if (data.type === type && typeof data.sdp === 'string') finish(data.sdp)
        })
      } catch (err) {
        this.fail(HypercoreError.SIGNALING_FAILED('could not listen for WebRTC signals', err))
        finish(null)
      }
    })
  }

  private wants (peerId: PeerId | null, topic: TopicHex): boolean {
    try {
      return this.ctx !== null && this.closing === null && this.ctx.wants(peerId, topic)
    } catch (err) {
      this.fail(HypercoreError.SIGNALING_FAILED('swarm wants() failed', err))
      return false
    }
  }

  private connect (peerId: PeerId | null, topic: TopicHex, initiator: boolean): WebRtcPeer | null {
    try {
      return this.ctx!.connect({ peerId, topic, initiator, trickle: false })
    } catch (err) {
      this.fail(HypercoreError.SIGNALING_FAILED('swarm connect() failed', err))
      return null
    }
  }

  private feed (peer: WebRtcPeer, data: SignalData): void {
    try {
      peer.signal(data)
    } catch (err) {
      peer.destroy()
      this.fail(HypercoreError.SIGNALING_FAILED(`could not apply a remote ${String(data.type)}`, err))
    }
  }

  /** Reports without throwing (ErrorEvents: no listener is fine, a throwing one is contained). */
  private fail (err: Error): void {
    this.emitError(err)
  }
}

function checkCount (n: number, name: string, max: number, min = 0): number {
  if (!Number.isInteger(n) || n < min || n > max) throw HypercoreError.BAD_ARGUMENT(`${name} must be an integer in [${min}, ${max}], got ${String(n)}`)
  return n
}
