/**
 * @module signaling/peer-router
 * The part every rendezvous-style signaling client shares (our WebSocket server, the
 * BroadcastChannel): given "peer X is in topic T" and "X sent us signal S in T", decide
 * whether to start a WebRTC connection through the swarm's `SignalingContext`, and route
 * signals between the transport's `WebRtcPeer`s and the wire.
 *
 * One connection per pair: both sides learn about each other, and only the side with the
 * smaller peer id (string compare) makes the offer. The other side creates its peer when the
 * first signal arrives. Signals are carried in order on one channel, so the offer comes first.
 */
import type { SignalData, WebRtcPeer } from '../transport/types.js'
import type { PeerId, SignalingContext, TopicHex } from './types.js'

interface Entry {
  peer: WebRtcPeer
  /** False once forgotten (left topic, closed, stream closed): its later signals are dropped. */
  live: boolean
}

export interface PeerRouterOptions {
  ctx: SignalingContext
  /** Puts one of our signals on the wire; may drop it when disconnected. */
  send: (to: PeerId, topic: TopicHex, data: SignalData) => void
  /** Passed to `connect()`. */
  trickle: boolean
  /** Reports a failure of the swarm's callbacks (they must not break the client). */
  onError: (err: unknown) => void
}

export class PeerRouter {
  private readonly opts: PeerRouterOptions
  /** `${topic}:${peerId}` → the connection being signaled. */
  private readonly entries = new Map<string, Entry>()

  constructor (opts: PeerRouterOptions) {
    this.opts = opts
  }

  get size (): number {
    return this.entries.size
  }

  /** Peer `peerId` is in `topic`: offer if we are the smaller id and the swarm wants it. */
  discovered (peerId: PeerId, topic: TopicHex): void {
    const self = this.opts.ctx.self
    if (peerId === self || !(self < peerId)) return
    if (this.entries.has(key(topic, peerId))) return
    this.start(peerId, topic, true)
  }

  /** A signal from `from` in `topic`: route it, or answer a new offer if we are the larger id. */
  signal (from: PeerId, topic: TopicHex, data: SignalData): void {
    let entry = this.entries.get(key(topic, from))
    if (entry === undefined) {
      const self = this.opts.ctx.self
      // A stray signal for a connection we would have offered (or our own echo): not ours to start.
      if (from === self || self < from) return
      entry = this.start(from, topic, false)
      if (entry === undefined) return
    }
    try {
      entry.peer.signal(data)
    } catch (err) {
      this.opts.onError(err)
    }
  }

  /** Stops routing for a topic; the swarm keeps (and closes) the connections themselves. */
  forgetTopic (topic: TopicHex): void {
    const prefix = topic + ':'
    for (const [k, e] of this.entries) {
      if (k.startsWith(prefix)) {
        e.live = false
        this.entries.delete(k)
      }
    }
  }

  forgetAll (): void {
    for (const e of this.entries.values()) e.live = false
    this.entries.clear()
  }

  private start (peerId: PeerId, topic: TopicHex, initiator: boolean): Entry | undefined {
    const { ctx, trickle } = this.opts
    let peer: WebRtcPeer
    try {
      if (!ctx.wants(peerId, topic)) return undefined
      peer = ctx.connect({ peerId, topic, initiator, trickle })
    } catch (err) {
      this.opts.onError(err)
      return undefined
    }
    const k = key(topic, peerId)
    const entry: Entry = { peer, live: true }
    this.entries.set(k, entry)
    peer.onSignal((data) => {
      if (entry.live) this.opts.send(peerId, topic, data)
    })
    // When the swarm closes the connection, a later meeting may start a new one.
    peer.stream.once('close', () => {
      entry.live = false
      if (this.entries.get(k) === entry) this.entries.delete(k)
    })
    return entry
  }
}

function key (topic: TopicHex, peerId: PeerId): string {
  return topic + ':' + peerId
}
