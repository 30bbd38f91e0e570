/**
 * @module test/swarm/fake-signaling
 * An in-memory signaling service for swarm tests: a `Room` (the "server") shared by every
 * `FakeSignaling` client in the process. Joining a topic makes, for each pair of members,
 * the one with the smaller peer id offer to the other; signals are relayed asynchronously,
 * tagged with an attempt id so each side finds its WebRTC peer. `intercept` lets a test play
 * a malicious server (relabel, reroute, man-in-the-middle).
 */
import { EventEmitter } from 'events'
import type { PeerId, SignalingClient, SignalingContext, TopicHex } from '../../src/signaling/types.js'
import type { SignalData, WebRtcPeer } from '../../src/transport/types.js'

/** One relayed signal. `from` is what the receiver is told; the room does not check it. */
export interface Msg { from: PeerId, to: PeerId, topic: TopicHex, id: number, data: SignalData }

export class Room {
  readonly clients = new Map<PeerId, FakeSignaling>()
  readonly topics = new Map<TopicHex, Set<PeerId>>()
  /** Return true to swallow a message (the test handles it). */
  intercept: ((m: Msg) => boolean) | null = null
  private _id = 0

  nextId (): number { return ++this._id }

  register (c: FakeSignaling): void { this.clients.set(c.self, c) }

  unregister (c: FakeSignaling): void {
    if (this.clients.get(c.self) === c) this.clients.delete(c.self)
    for (const set of this.topics.values()) set.delete(c.self)
  }

  join (id: PeerId, topic: TopicHex): void {
    let set = this.topics.get(topic)
    if (set === undefined) this.topics.set(topic, set = new Set())
    set.add(id)
    for (const other of set) {
      if (other === id) continue
      const [lo, hi] = id < other ? [id, other] : [other, id]
      setImmediate(() => this.clients.get(lo)?.discovered(hi, topic))
    }
  }

  leave (id: PeerId, topic: TopicHex): void { this.topics.get(topic)?.delete(id) }

  send (m: Msg): void {
    if (this.intercept?.(m) === true) return
    this.deliver(m)
  }

  deliver (m: Msg): void {
    setImmediate(() => this.clients.get(m.to)?.receive(m))
  }
}

export interface FakeOptions {
  name?: string
  /** Offer to every peer found, ignoring `wants()` and the smaller-id rule (forces duplicates). */
  greedy?: boolean
}

export class FakeSignaling extends EventEmitter implements SignalingClient {
  readonly name: string
  readonly room: Room
  readonly joined = new Set<TopicHex>()
  /** How many times join() was called per topic (re-announcements included). */
  readonly joins = new Map<TopicHex, number>()
  ctx: SignalingContext | null = null
  closed = false
  private readonly _greedy: boolean
  private readonly _peers = new Map<number, WebRtcPeer>()

  constructor (room: Room, opts: FakeOptions = {}) {
    super()
    this.room = room
    this.name = opts.name ?? 'fake'
    this._greedy = opts.greedy ?? false
  }

  get self (): PeerId { return this.ctx!.self }

  start (ctx: SignalingContext): void {
    if (this.ctx !== null || this.closed) return
    this.ctx = ctx
    this.room.register(this)
  }

  join (topic: TopicHex): void {
    if (this.closed) return
    this.joined.add(topic)
    this.joins.set(topic, (this.joins.get(topic) ?? 0) + 1)
    this.room.join(this.self, topic)
    this.emit('join', topic)
    if (this._greedy) {
      for (const other of this.room.topics.get(topic) ?? []) if (other !== this.self) setImmediate(() => this.discovered(other, topic, true))
    }
  }

  leave (topic: TopicHex): void {
    this.joined.delete(topic)
    if (!this.closed) this.room.leave(this.self, topic)
  }

  async close (): Promise<void> {
    if (this.closed) return
    this.closed = true
    this.room.unregister(this)
    this._peers.clear()
  }

  /** The room says: offer to `peerId` on `topic`. */
  discovered (peerId: PeerId, topic: TopicHex, force = false): void {
    if (this.closed || this.ctx === null || !this.joined.has(topic)) return
    if (!(force || this._greedy) && !this.ctx.wants(peerId, topic)) return
    const id = this.room.nextId()
    const peer = this.ctx.connect({ peerId, topic, initiator: true })
    this._peers.set(id, peer)
    peer.onSignal(data => { if (!this.closed) this.room.send({ from: this.self, to: peerId, topic, id, data }) })
  }

  receive (m: Msg): void {
    if (this.closed || this.ctx === null) return
    let peer = this._peers.get(m.id)
    if (peer === undefined) {
      if (m.data.type !== 'offer') return
      if (!this._greedy && !this.ctx.wants(m.from, m.topic)) return
      peer = this.ctx.connect({ peerId: m.from, topic: m.topic, initiator: false })
      this._peers.set(m.id, peer)
      peer.onSignal(data => { if (!this.closed) this.room.send({ from: this.self, to: m.from, topic: m.topic, id: m.id, data }) })
    }
    peer.signal(m.data)
  }
}

/** A client whose server is unreachable: it reports errors and never finds anyone. */
export class FailingSignaling extends EventEmitter implements SignalingClient {
  readonly name = 'failing'
  closed = false
  private _timer: ReturnType<typeof setTimeout> | null = null

  start (_ctx: SignalingContext): void {
    this._timer = setTimeout(() => { this._timer = null; this.emit('error', new Error('failing signaling: connection refused')) }, 5)
  }

  join (_topic: TopicHex): void { throw new Error('failing signaling: join while disconnected') }
  leave (_topic: TopicHex): void {}

  async close (): Promise<void> {
    this.closed = true
    if (this._timer !== null) clearTimeout(this._timer)
  }
}
