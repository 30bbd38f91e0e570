/**
 * @module swarm/swarm
 * `Swarm`: hyperswarm's shape over signaling + WebRTC. Signaling clients find peers per topic
 * and call back into the `SignalingContext` we lend them; every WebRTC byte stream is wrapped
 * in a `SecretStream` with the swarm's key pair, so 'connection' hands out a Noise-encrypted
 * stream whose remote key was checked (`core.replicate(stream)` shares it across cores).
 *
 * Our peer id is the hex of our Noise static key, an Ed25519 key: the signaling clients prove
 * it (a signed challenge, signed signals) through the context's `sign()`, which signs with
 * that same key pair and nothing but signaling's own messages. A signaling server is not
 * trusted: the peer id it announces is compared with the Noise static key after the
 * handshake, and a mismatch drops the connection (warning `INVALID_HANDSHAKE`). One
 * connection per remote key (see connections.ts), at most `maxPeers`, re-announcement with
 * backoff when a peer drops while its topic is joined.
 *
 * With `dht: { relay }`, a DHT relay's client (../dht/client.ts, loaded on demand so pages
 * without it never load it) runs beside the signaling clients: it announces and looks up
 * topics on the HyperDHT, runs HyperDHT's Noise IK handshakes with our key pair and hands each
 * connection over as a raw byte stream plus the handshake's keys (`ctx.attach`); it goes
 * through the same secret stream, checks, dedup and caps as a WebRTC one.
 *
 * With hypercore's `findingPeers()`:
 *   const done = core.findingPeers(); swarm.join(core.discoveryKey); swarm.flush().then(done, done)
 * so `update()`/`get()` wait for the first discovery round instead of answering "no peers".
 */
import b4a from 'b4a'
import { EventEmitter } from 'events'
import { HypercoreError } from '../errors.js'
import { cryptoReady, isCryptoReady, keyPair as newKeyPair, sign, validateKeyPair, type KeyPair } from '../crypto/index.js'
import { isSignalingSignable } from '../signaling/auth.js'
import { SecretStream, type RawStream } from '../replication/secret-stream/index.js'
import type { AttachRequest, ConnectRequest, PeerId, SignalingClient, SignalingContext, TopicHex } from '../signaling/types.js'
import type { WebRtcPeer, WebRtcPeerOptions } from '../transport/types.js'
import { createWebRtcPeer } from '../transport/webrtc.js'
import { Backoff } from './backoff.js'
import { ConnectionTable, isPeerId, keepFirst, type Attempt, type Connection, type EndReason } from './connections.js'
import { TopicDiscovery } from './discovery.js'
import type { Discovery, DhtOptions, FlushableSignalingClient, JoinOptions, PeerInfo, SwarmEvents, SwarmOptions } from './types.js'

/** Typed events (see SwarmEvents); the class merges with this interface. */
export interface Swarm {
  on<E extends keyof SwarmEvents> (event: E, listener: (...args: SwarmEvents[E]) => void): this
  once<E extends keyof SwarmEvents> (event: E, listener: (...args: SwarmEvents[E]) => void): this
  off<E extends keyof SwarmEvents> (event: E, listener: (...args: SwarmEvents[E]) => void): this
  emit<E extends keyof SwarmEvents> (event: E, ...args: SwarmEvents[E]): boolean
}

interface ClientSlot {
  client: FlushableSignalingClient
  onError: (err: Error) => void
}

export class Swarm extends EventEmitter {
  readonly maxPeers: number
  /** Our static Noise key pair (null until crypto is loaded, see `ready()`). */
  keyPair: KeyPair | null = null
  /** Open connections handed out by 'connection'. */
  readonly connections = new Set<SecretStream>()
  /** Connected peers by peer id (hex public key). */
  readonly peers = new Map<PeerId, PeerInfo>()
  destroyed = false

  private readonly _opts: SwarmOptions
  private readonly _createPeer: (opts: WebRtcPeerOptions) => WebRtcPeer
  private readonly _clients: ClientSlot[] = []
  private readonly _topics = new Map<TopicHex, TopicDiscovery>()
  private readonly _table = new ConnectionTable()
  private readonly _backoff: Backoff
  private readonly _opening: Promise<void>
  private _self: PeerId = ''
  private _started = false
  private _destroying: Promise<void> | null = null

  constructor (opts: SwarmOptions) {
    super()
    if (opts === null || typeof opts !== 'object' || !(Array.isArray(opts.signaling) || (opts.signaling === undefined && opts.dht !== undefined))) {
      throw HypercoreError.BAD_ARGUMENT('Swarm needs { signaling: SignalingClient[] } and/or { dht: { relay } }')
    }
    if (opts.dht !== undefined && (opts.dht === null || typeof opts.dht !== 'object' || opts.dht.relay === undefined)) throw HypercoreError.BAD_ARGUMENT('dht needs { relay: url }')
    if (opts.createPeer !== undefined && typeof opts.createPeer !== 'function') throw HypercoreError.BAD_ARGUMENT('createPeer must be a function')
    const maxPeers = opts.maxPeers ?? 16
    if (!Number.isInteger(maxPeers) || maxPeers < 1) throw HypercoreError.BAD_ARGUMENT('maxPeers must be a positive integer')
    this.maxPeers = maxPeers
    this._opts = opts
    this._createPeer = opts.createPeer ?? createWebRtcPeer
    this._backoff = new Backoff({ initial: opts.backoff?.initial, max: opts.backoff?.max })
    for (const client of opts.signaling ?? []) this._addClient(client)
    // A public key that does not belong to the secret key would be an id we cannot prove
    // (signaling signatures, the Noise handshake): refuse it here rather than fail every peer.
    if (opts.keyPair !== undefined && !validateKeyPair(opts.keyPair)) throw HypercoreError.BAD_ARGUMENT('keyPair: publicKey is not the public half of secretKey')
    this._opening = isCryptoReady() ? Promise.resolve(this._open()) : cryptoReady().then(() => this._open())
    this._opening.catch(() => {})
  }

  /** Our peer id (hex of our Noise public key); '' before `ready()`. */
  get self (): PeerId { return this._self }

  /** Resolves once crypto is loaded, the key pair exists and the signaling clients started. */
  ready (): Promise<void> { return this._opening }

  /** Announce ourselves on `topic` (a 32-byte discovery key or its hex) and connect to the peers found there. */
  join (topic: Uint8Array | string, opts: JoinOptions = {}): Discovery {
    if (this.destroyed) throw HypercoreError.SESSION_CLOSED('swarm is destroyed')
    const t = topicHex(topic)
    const server = opts.server ?? true
    const client = opts.client ?? true
    if (!server && !client) throw HypercoreError.BAD_ARGUMENT('join needs server or client (or both)')
    const known = this._topics.get(t)
    if (known !== undefined) return known
    const d = new TopicDiscovery(t, { server, client }, {
      pending: () => this._table.pendingFor(t),
      connected: (peerId) => this._table.byRemote.has(peerId),
      reannounce: (x) => this._reannounce(x),
      clientsFlushed: (x) => this._clientsFlushed(x),
      leave: (x) => this.leave(x)
    }, { quiet: this._opts.flushQuiet ?? 1000, max: (this._opts.flushQuiet ?? 1000) + (this._opts.connectTimeout ?? 20000) })
    this._topics.set(t, d)
    if (this._started) this._joinClients(d)
    return d
  }

  /** Stop discovering `topic`; connections already made stay open (as in hyperswarm). */
  async leave (topic: Uint8Array | string): Promise<void> {
    const t = topicHex(topic)
    const d = this._topics.get(t)
    if (d === undefined) return
    this._topics.delete(t)
    d.close()
    if (!this._started) return
    for (const { client } of this._clients) this._call(client, () => client.leave(t))
  }

  /** Resolves when every joined topic finished its first round and no attempt is in progress. */
  async flush (): Promise<void> {
    await this._opening
    await Promise.all([...this._topics.values()].map(d => d.flushed()))
    await this._table.idle()
  }

  /** Closes every connection and signaling client; clears every timer and listener. Idempotent. */
  destroy (): Promise<void> {
    if (this._destroying === null) this._destroying = this._destroy()
    return this._destroying
  }

  private async _destroy (): Promise<void> {
    this.destroyed = true
    for (const d of this._topics.values()) d.close()
    this._topics.clear()
    const closing = [...this._table.attempts].map(a => a.stream).concat([...this.connections]).map(whenClosed)
    for (const a of [...this._table.attempts]) this._endAttempt(a, 'destroyed')
    for (const c of [...this._table.byRemote.values()]) this._endConnection(c, 'destroyed')
    this._table._wakeIdle()
    this._backoff.clear()
    await this._opening.catch(() => {})
    await Promise.all(this._clients.map(async ({ client, onError }) => {
      try {
        await client.close()
      } catch (err) {
        this.emit('warning', err instanceof Error ? err : HypercoreError.CONNECTION_CLOSED('signaling client failed to close', err))
      }
      client.off('error', onError)
    }))
    await Promise.all(closing)
    this.emit('close')
  }

  // --- startup -------------------------------------------------------------------------------

  private _addClient (client: SignalingClient): ClientSlot {
    const slot: ClientSlot = {
      client,
      // One client failing is a warning: the others go on (its own retry is its business).
      onError: (err) => { if (!this.destroyed) this.emit('warning', err) }
    }
    client.on('error', slot.onError)
    this._clients.push(slot)
    return slot
  }

  private _open (): Promise<void> {
    this.keyPair = this._opts.keyPair ?? newKeyPair()
    this._self = b4a.toString(this.keyPair.publicKey, 'hex')
    if (this._opts.dht === undefined) {
      this._startClients()
      return Promise.resolve()
    }
    // With the DHT client among them, every client starts once it is loaded, so a topic's
    // first round (TopicDiscovery) waits for the DHT's first lookup too.
    return this._loadDht(this._opts.dht).then(() => this._startClients())
  }

  private _startClients (): void {
    if (this.destroyed) return
    this._started = true
    for (const { client } of this._clients) {
      const ctx = this._context(client.name)
      this._call(client, () => client.start(ctx))
    }
    for (const d of this._topics.values()) this._joinClients(d)
  }

  /** Loads the DHT relay client (its own chunk: pages that never ask for it never load it); it runs like a signaling client. */
  private async _loadDht (opts: DhtOptions): Promise<void> {
    try {
      const { createDhtDiscovery } = await import('../dht/client.js')
      if (!this.destroyed) this._addClient(createDhtDiscovery(opts, this.keyPair!))
    } catch (err) {
      this.emit('warning', HypercoreError.is(err) ? err : HypercoreError.CONNECTION_CLOSED('could not load the DHT relay client', err))
    }
  }

  private _joinClients (d: TopicDiscovery): void {
    for (const { client } of this._clients) this._call(client, () => client.join(d.topic, d.options))
    d.started()
  }

  /** Runs a client method; a throw (against the contract) becomes a warning, not a crash. */
  private _call (client: SignalingClient, fn: () => void): void {
    try {
      fn()
    } catch (err) {
      this.emit('warning', err instanceof Error ? err : HypercoreError.INVALID_OPERATION(`signaling client ${client.name} failed: ${String(err)}`))
    }
  }

  private _reannounce (topic: TopicHex): void {
    if (this.destroyed || !this._topics.has(topic)) return
    for (const { client } of this._clients) {
      this._call(client, () => {
        if (typeof client.refresh === 'function') client.refresh(topic)
        else { client.leave(topic); client.join(topic) }
      })
    }
  }

  private async _clientsFlushed (topic: TopicHex): Promise<void> {
    await Promise.all(this._clients.map(async ({ client }) => {
      if (typeof client.flushed === 'function') await client.flushed(topic).catch(() => {})
    }))
  }

  /** What one signaling client may ask of us; it remembers its name for PeerInfo.signaling. */
  private _context (signaling: string): SignalingContext {
    const swarm = this
    return {
      get self () { return swarm._self },
      sign: (message) => this._sign(message),
      wants: (peerId, topic) => this._wants(peerId, topic),
      connect: (req) => this._connect(req, signaling),
      attach: (req) => this._attach(req, signaling)
    }
  }

  /** Signs a signaling message with our Noise key pair: the key of `self`, and only signaling's signables. */
  private _sign (message: Uint8Array): Uint8Array {
    if (!(message instanceof Uint8Array) || !isSignalingSignable(message)) throw HypercoreError.BAD_ARGUMENT('the swarm signs only signaling hellos and signals')
    if (this.keyPair === null || this.destroyed) throw HypercoreError.SESSION_CLOSED('swarm is not open')
    return sign(message, this.keyPair.secretKey)
  }

  // --- attempts ------------------------------------------------------------------------------

  private _wants (peerId: PeerId | null, topic: TopicHex | null): boolean {
    if (this.destroyed) return false
    if (topic === null ? ![...this._topics.values()].some(d => d.options.server) : !this._topics.has(topic)) return false
    if (peerId !== null) {
      if (!isPeerId(peerId) || peerId === this._self) return false
      // Already connected or connecting: no new attempt, but remember the peer is on this topic too.
      const conn = this._table.byRemote.get(peerId)
      if (conn !== undefined) { if (topic !== null) addTopic(conn.info.topics, topic); return false }
      const attempt = this._table.initiating(peerId)
      if (attempt !== null) {
        if (topic !== null) addTopic(attempt.topics, topic)
        // A peer connecting to us while we connect to it: both finish, and keepFirst keeps the
        // connection the larger key started. Take theirs only if it is that one.
        return topic === null && peerId > this._self && this._table.size < this.maxPeers
      }
    }
    return this._table.size < this.maxPeers
  }

  private _connect (req: ConnectRequest, signaling: string): WebRtcPeer {
    const peer = this._createPeer({ initiator: req.initiator, trickle: req.trickle, iceServers: this._opts.iceServers ?? [], wrtc: this._opts.wrtc })
    if (this.destroyed || this.keyPair === null) {
      peer.destroy(HypercoreError.SESSION_CLOSED('swarm is destroyed'))
      return peer
    }
    const announced = isPeerId(req.peerId) ? req.peerId : null
    // streamx's typings declare end(data) with a required argument; at runtime it is optional.
    const stream = new SecretStream(req.initiator, peer.stream as unknown as RawStream, {
      keyPair: this.keyPair,
      keepAlive: this._opts.keepAlive ?? 5000,
      timeout: this._opts.idleTimeout ?? 20000
    })
    this._track(peer, stream, { announced, topic: req.topic, initiator: req.initiator }, signaling)
    return peer
  }

  /** A connection a client made itself (the DHT relay's), its Noise handshake done: same checks from here as WebRTC's. */
  private _attach (req: AttachRequest, signaling: string): void {
    const raw = req.stream
    const peer: WebRtcPeer = { stream: raw, signal () {}, onSignal () {}, destroy: (err?: Error) => { raw.destroy(err) } }
    if (this.destroyed || this.keyPair === null || !isPeerId(req.peerId)) {
      raw.destroy(HypercoreError.SESSION_CLOSED('swarm is destroyed'))
      return
    }
    const stream = new SecretStream(req.initiator, raw as unknown as RawStream, {
      keyPair: this.keyPair,
      handshake: req.handshake,
      keepAlive: this._opts.keepAlive ?? 5000,
      timeout: this._opts.idleTimeout ?? 20000,
      // The bytes went through a relay: only the peer's authenticated messages prove it is alive.
      timeoutOn: 'messages'
    })
    this._track(peer, stream, { announced: req.peerId, topic: req.topic, initiator: req.initiator }, signaling)
  }

  private _track (peer: WebRtcPeer, stream: SecretStream, req: { announced: PeerId | null, topic: TopicHex | null, initiator: boolean }, signaling: string): void {
    const attempt: Attempt = { peer, stream, announced: req.announced, topic: req.topic, topics: req.topic === null ? [] : [req.topic], initiator: req.initiator, signaling, timer: null, ended: null, error: null }
    this._table.attempts.add(attempt)
    attempt.timer = setTimeout(() => {
      attempt.timer = null
      attempt.error = HypercoreError.REQUEST_TIMEOUT('connection attempt timed out before the handshake finished')
      stream.destroy(attempt.error)
    }, this._opts.connectTimeout ?? 20000)
    stream.on('error', (err: Error) => { attempt.error ??= err })
    stream.once('connect', () => this._onHandshake(attempt))
    stream.once('close', () => { if (this._table.attempts.has(attempt)) this._onAttemptClosed(attempt) })
    if (req.topic !== null) this._topics.get(req.topic)?.activity()
  }

  private _topicOf (a: Attempt): TopicDiscovery | undefined {
    return a.topic === null ? undefined : this._topics.get(a.topic)
  }

  private _endAttempt (a: Attempt, reason: EndReason, err?: Error): void {
    a.ended ??= reason
    this._table.removeAttempt(a)
    a.stream.destroy(err)
    a.peer.destroy()
    this._topicOf(a)?.check()
  }

  /** An attempt died before its handshake finished: back off and look again. */
  private _onAttemptClosed (a: Attempt): void {
    this._table.removeAttempt(a)
    a.peer.destroy()
    const d = this._topicOf(a)
    if (this.destroyed || d === undefined) return
    // Offers to unknown peers (tracker offers) are speculative: the client drops the ones
    // nobody answered and makes new ones itself. A known peer we failed to reach is retried.
    if (a.ended === null && a.announced !== null) {
      // The remote closing is ordinary churn (its dedup, its cap); anything else is worth a warning.
      if (a.error !== null && !HypercoreError.is(a.error, 'CONNECTION_CLOSED')) this.emit('warning', typed(a.error, `connection attempt via ${a.signaling} failed`))
      this._retryLater(a)
    }
    d.check()
  }

  /** Re-announce the attempt's topic later, backing off per peer (or per topic for unknown peers). */
  private _retryLater (a: Attempt): void {
    const d = this._topicOf(a)
    if (this.destroyed || d === undefined) return
    d.scheduleRefresh(this._backoff.fail(a.announced ?? 'topic:' + a.topic), a.announced)
  }

  private _onHandshake (a: Attempt): void {
    if (!this._table.attempts.has(a)) return
    this._table.removeAttempt(a)
    const d = this._topicOf(a)
    try {
      this._accept(a)
    } finally {
      d?.check()
    }
  }

  private _accept (a: Attempt): void {
    const stream = a.stream
    const remoteKey = stream.remotePublicKey!
    const remote = b4a.toString(remoteKey, 'hex')
    if (this.destroyed) return this._endAttempt(a, 'destroyed')
    if (remote === this._self) {
      this.emit('warning', HypercoreError.INVALID_HANDSHAKE(`signaling ${a.signaling} connected us to ourselves`))
      return this._endAttempt(a, 'rejected')
    }
    if (a.announced !== null && remote !== a.announced) {
      // The signaling lied (or relayed to someone else): whoever answered is not who was announced.
      this.emit('warning', HypercoreError.INVALID_HANDSHAKE(`signaling ${a.signaling} announced peer ${a.announced.slice(0, 16)}… but the Noise key is ${remote.slice(0, 16)}…`))
      this._endAttempt(a, 'rejected')
      // The announced peer may still be reachable (another signaler, an honest relay later).
      return this._retryLater(a)
    }
    const existing = this._table.byRemote.get(remote)
    if (existing !== undefined) {
      const keepOld = keepFirst(
        { initiator: existing.stream.isInitiator, handshakeHash: existing.stream.handshakeHash! },
        { initiator: stream.isInitiator, handshakeHash: stream.handshakeHash! },
        this.keyPair!.publicKey, remoteKey)
      if (keepOld) {
        for (const t of a.topics) addTopic(existing.info.topics, t)
        return this._endAttempt(a, 'dedup')
      }
      const topics = existing.info.topics.slice()
      for (const t of a.topics) addTopic(topics, t)
      this._endConnection(existing, 'replaced')
      return this._open_(a, remote, topics)
    }
    if (this._table.byRemote.size >= this.maxPeers) return this._endAttempt(a, 'cap')
    this._open_(a, remote, a.topics.slice())
  }

  // --- connections ---------------------------------------------------------------------------

  private _open_ (a: Attempt, remote: PeerId, topics: TopicHex[]): void {
    const info = { publicKey: a.stream.remotePublicKey!, topics, initiator: a.initiator, signaling: a.signaling }
    const conn: Connection = { stream: a.stream, peer: a.peer, info, remote, openedAt: Date.now(), ended: null }
    this._table.byRemote.set(remote, conn)
    this.connections.add(conn.stream)
    this.peers.set(remote, info)
    conn.stream.once('close', () => this._onConnectionClosed(conn))
    this.emit('connection', conn.stream, info)
  }

  private _endConnection (c: Connection, reason: EndReason): void {
    c.ended ??= reason
    // Out of the books at once: a replacement is added right after, and the count must
    // never show both (the close event comes later).
    this._forget(c)
    c.stream.destroy()
    c.peer.destroy()
  }

  private _forget (c: Connection): void {
    this.connections.delete(c.stream)
    if (this._table.byRemote.get(c.remote) === c) {
      this._table.byRemote.delete(c.remote)
      this.peers.delete(c.remote)
    }
  }

  private _onConnectionClosed (c: Connection): void {
    c.peer.destroy()
    this._forget(c)
    this.emit('disconnection', c.stream, c.info)
    if (this.destroyed || c.ended !== null || this._table.byRemote.has(c.remote)) return
    // The peer dropped while we may still want it: look again on its topics, later each time.
    const delay = this._backoff.fail(c.remote, Date.now() - c.openedAt)
    for (const t of c.info.topics) this._topics.get(t)?.scheduleRefresh(delay, c.remote)
  }
}

function whenClosed (s: SecretStream): Promise<void> {
  if (s.destroyed) return Promise.resolve()
  return new Promise(resolve => s.once('close', () => resolve()))
}

function addTopic (topics: TopicHex[], t: TopicHex): void {
  if (!topics.includes(t)) topics.push(t)
}

function topicHex (topic: Uint8Array | string): TopicHex {
  if (topic instanceof Uint8Array && topic.byteLength === 32) return b4a.toString(topic, 'hex')
  if (typeof topic === 'string' && /^[0-9a-fA-F]{64}$/.test(topic)) return topic.toLowerCase()
  throw HypercoreError.BAD_ARGUMENT('topic must be 32 bytes (or their hex)')
}

function typed (err: Error, msg: string): Error {
  return HypercoreError.is(err) ? err : HypercoreError.CONNECTION_CLOSED(msg, err)
}
