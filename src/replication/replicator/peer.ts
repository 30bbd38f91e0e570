/**
 * @module replication/replicator/peer
 * One remote peer of one core: the hypercore channel over a connection's mux (§5.6), what
 * the peer told us (its sync state, what it stores), how far we trust it (health.ts), and
 * the requests in flight both ways. Decisions (what to request, how to answer, how to apply)
 * live in the replicator's other files; this file keeps state and speaks the channel's
 * messages, holding back what it would tell a peer that does not read (`sendSync`,
 * `announce`) until its stream drains.
 */
import type { ExtensionEndpoint } from '../../core/extensions.js'
import { Writable } from 'streamx'
import b4a from 'b4a'
import { HypercoreError } from '../../errors.js'
import { capability, equalBytes } from '../../crypto/index.js'
import type { Channel, Message, Mux } from '../mux/index.js'
import type { SecretStream } from '../secret-stream/index.js'
import {
  HYPERCORE_PROTOCOL, channelCodecs, handshake as handshakeCodec,
  type BitfieldMessage, type CancelMessage, type DataMessage, type ExtensionMessage, type HandshakeMessage,
  type NoDataMessage, type RangeMessage, type RequestMessage, type SyncMessage, type WantMessage
} from '../../wire/messages.js'
import type { Budget } from './budget.js'
import { PeerHealth, type HealthPolicy } from './health.js'
import { InflightTable } from './inflight.js'
import { RemoteBitfield } from './remote-bitfield.js'
import type { RemoteWork } from './types.js'

/** What a peer needs from the core-wide replicator (replicator.ts implements it). */
export interface PeerHost {
  readonly key: Uint8Array
  readonly discoveryKey: Uint8Array
  /** The core's budget for remote availability (its parent is the process's). */
  readonly bitfieldBudget: Budget
  /** Most bytes one peer's announcements may take. */
  readonly peerBitfieldBytes: number
  readonly policy: HealthPolicy
  /** Starts the clock that times out our requests (after sending one). */
  watch (): void
  onopen (peer: Peer): void
  onclose (peer: Peer): void
  onsync (peer: Peer, m: SyncMessage): void
  onrequest (peer: Peer, m: RequestMessage): void
  oncancel (peer: Peer, m: CancelMessage): void
  ondata (peer: Peer, m: DataMessage): Promise<void>
  onnodata (peer: Peer, m: NoDataMessage): void
  onwant (peer: Peer, m: WantMessage): void
  onbitfield (peer: Peer, m: BitfieldMessage): void
  onrange (peer: Peer, m: RangeMessage): void
  ondrain (peer: Peer): void
}

interface SyncState { fork: number, length: number, remoteLength: number, canUpgrade: boolean, downloading: boolean }

/** Announcements held for a backpressured peer before they are forgotten. */
const MAX_HELD_ANNOUNCEMENTS = 4096

export class Peer {
  readonly host: PeerHost
  readonly mux: Mux
  readonly stream: SecretStream
  readonly channel: Channel<HandshakeMessage>

  // What the peer told us (sync, §5.7).
  remoteSynced = false
  remoteFork = 0
  remoteLength = 0
  remoteCanUpgrade = false
  remoteUploading = true
  remoteDownloading = true
  /** The length of ours the peer last acknowledged (its sync's `remoteLength`). */
  lengthAcked = 0
  /** What it stores, as far as it told us (bounded by the budgets, remote-bitfield.ts). */
  readonly remoteBitfield: RemoteBitfield
  /** Strikes and backoff (health.ts). */
  readonly health: PeerHealth
  /**
   * When we made it, when its channel opened, when it first sent sync and when we last told
   * it a new length (ms): `update()` waits for none of its answers for ever. Its first sync,
   * not its latest: the acknowledgement of our length is owed from then (or from our newest
   * length), and a peer re-sending a longer claim without one must not restart that wait.
   */
  readonly createdAt = Date.now()
  openedAt = 0
  firstSyncAt = 0
  syncSentAt = 0
  /** Wakes the scheduler when the peer's backoff ends. */
  backoffTimer: ReturnType<typeof setTimeout> | null = null

  /** Our requests to the peer, oldest first. Ids only grow, so a late answer to a cancelled one is recognisable. */
  readonly inflight = new InflightTable()
  /** Ids we cancelled; their late answers are dropped quietly (bounded, oldest first). */
  readonly cancelled = new Set<number>()
  /** `want` segments already sent (once per segment per peer, §5.7). */
  readonly wantedSegments = new Set<number>()
  /**
   * The peer refused an upgrade, or did not prove the length it claimed (noData, a timeout,
   * a shorter proof): do not ask again until its next sync.
   */
  upgradeRefused = false
  /**
   * A proof from the peer failed and our id-0 conflict check is out (§3.5): no requests go
   * to it meanwhile; `error` ends the connection unless the check shows a real conflict.
   */
  conflictCheck: { error: HypercoreError, timer: ReturnType<typeof setTimeout> } | null = null
  /** Whether we hold the full roots at the peer's length, read from the tree file (can-upgrade.ts). */
  rootsChecked: { fork: number, length: number, ok: boolean } | null = null
  /**
   * What the peer asked of us and we have not answered, in arrival order (§3.4): requests by
   * id (a repeated id replaces the older one), wants by segment (one each: repeats are
   * dropped), our prefix once. Bounded (serve.ts).
   */
  readonly remoteWork = new Map<number | string, RemoteWork>()
  /** `want` segments already answered: the peer hears of later changes through `range`. */
  readonly answeredSegments = new Set<number>()
  /** The longest prefix we told it in `range{0, n}` since our fork last changed. */
  sentContig = 0
  /** Wants it repeated (a peer wants each segment once, §5.7): too many is a flood. */
  repeatedWants = 0
  /** We stopped reading this connection until our answers to it catch up (serve.ts). */
  inputHeld = false
  serving = false
  /** The serve loop waits here while the stream is full. */
  readonly drainWaiters: Array<() => void> = []
  private _nextId = 1
  private _lastSync: SyncState | null = null
  /** A sync held while the stream is backpressured: only the newest state goes out on drain. */
  private _heldSync: SyncState | null = null
  /** `range` announcements held while backpressured, merged (start, length, drop triples). */
  private _heldRanges: number[] = []
  private readonly _m: Message[]
  /**
   * The core's registered extensions this peer delivers to, by name (core/extensions.ts sets
   * them: every session's, when the peer is added or an extension registered).
   */
  readonly extensions = new Map<string, ExtensionEndpoint>()
  /** The names of the last extension message sent and received: '' on the wire means "the same". */
  private _lastExtensionSent: string | null = null
  private _lastExtensionReceived: string | null = null

  constructor (host: PeerHost, mux: Mux, stream: SecretStream) {
    this.host = host
    this.mux = mux
    this.stream = stream
    this.remoteBitfield = new RemoteBitfield({ budget: host.bitfieldBudget, maxBytes: host.peerBitfieldBytes })
    this.health = new PeerHealth(host.policy)
    const on = <T>(fn: (m: T) => void | Promise<void>) => (m: T) => fn(m)
    const ch = mux.createChannel<HandshakeMessage>({
      protocol: HYPERCORE_PROTOCOL,
      id: host.discoveryKey,
      handshake: handshakeCodec,
      messages: [
        { encoding: channelCodecs[0], onmessage: on<SyncMessage>(m => host.onsync(this, m)) },
        { encoding: channelCodecs[1], onmessage: on<RequestMessage>(m => host.onrequest(this, m)) },
        { encoding: channelCodecs[2], onmessage: on<CancelMessage>(m => host.oncancel(this, m)) },
        // data: each is a fresh object (serve.ts, conflict.ts) that nothing changes once sent,
        // so a batch encodes it in place (mux `deferred`): its block is copied once, not twice.
        { encoding: channelCodecs[3], onmessage: on<DataMessage>(m => host.ondata(this, m)), deferred: true },
        { encoding: channelCodecs[4], onmessage: on<NoDataMessage>(m => host.onnodata(this, m)) },
        { encoding: channelCodecs[5], onmessage: on<WantMessage>(m => host.onwant(this, m)) },
        // unwant: received and ignored, as hypercore@10 does (§5.6).
        { encoding: channelCodecs[6] },
        { encoding: channelCodecs[7], onmessage: on<BitfieldMessage>(m => host.onbitfield(this, m)) },
        { encoding: channelCodecs[8], onmessage: on<RangeMessage>(m => host.onrange(this, m)) },
        // extension: to the extension registered under that name, if any (§5.7).
        { encoding: channelCodecs[9], onmessage: on<ExtensionMessage>(m => this._onextension(m)) }
      ],
      onopen: (hs) => this._onopen(hs),
      onclose: () => host.onclose(this),
      ondrain: () => host.ondrain(this)
    })
    if (ch === null) throw HypercoreError.INVALID_OPERATION('this core already replicates over this stream')
    this.channel = ch
    this._m = ch.messages
  }

  /** Sends our open with the capability for our role (§5.6). The stream must be connected. */
  open (): void {
    this.channel.open({ seeks: true, capability: capability(this.stream.handshakeHash!, this.stream.isInitiator, this.host.key) })
  }

  /** The peer's static Noise key (its identity on this connection). */
  get remotePublicKey (): Uint8Array | null {
    const key = this.stream.remotePublicKey
    // A Buffer in Node, as hypercore@10's (its Noise stream gives Buffers).
    return key === null ? null : b4a.from(key.buffer, key.byteOffset, key.byteLength)
  }

  // hypercore@10's names for what users read of a peer.
  /** The connection's multiplexer (hypercore@10: its Protomux). */
  get protomux (): Mux { return this.mux }
  get replicator (): PeerHost { return this.host }
  /** The first block the peer does not have, as far as it told us (short claims are bits past the run at 0). */
  get remoteContiguousLength (): number {
    const bits = this.remoteBitfield
    let n = bits.contiguousLength
    while (n < this.remoteLength && bits.get(n)) n++
    return n
  }
  /** Its channel opened on both sides (capability checked). */
  get remoteOpened (): boolean { return this.channel.opened }
  /** The peer answers seek requests (its open said so, §5.6). */
  remoteSupportsSeeks = false
  /** hypercore@10 pauses a peer only in its hotswap logic; ours never is. */
  readonly paused = false

  get opened (): boolean { return this.channel.opened }
  /** Open and not paused by a conflict check: requests may go to it. */
  get usable (): boolean { return this.channel.opened && this.conflictCheck === null }
  /** Usable and not in a backoff (health.ts): new requests may go to it now. */
  available (now = Date.now()): boolean { return this.usable && !this.health.backedOff(now) }
  get closed (): boolean { return this.channel.closed }
  /** The stream holds more than it wants to: answers wait for drain. */
  get backpressured (): boolean { return Writable.isBackpressured(this.stream) }

  /** Closes this peer's channel (the connection stays for other cores). */
  close (): void { this.channel.close() }

  /** Ends the whole connection with a typed error: the peer broke the protocol. */
  destroy (err: HypercoreError): void { this.mux.destroy(err) }

  private _onopen (hs: HandshakeMessage | null): void {
    // A peer that only knows the discovery key cannot make this (§5.6): the whole stream goes.
    const expected = capability(this.stream.handshakeHash!, !this.stream.isInitiator, this.host.key)
    if (hs === null || !equalBytes(hs.capability, expected)) throw HypercoreError.INVALID_CAPABILITY('remote sent an invalid replication capability')
    this.remoteSupportsSeeks = hs.seeks
    this.host.onopen(this)
  }

  nextRequestId (): number { return this._nextId++ }

  // --- senders (false: not sent, or the stream asks us to wait for drain) ------------------

  /**
   * Sends sync unless it would say exactly what the last one said (no ping-pong, §5.7). While
   * the stream is backpressured it is held, and only the newest state goes out on drain: a
   * peer that sends syncs without reading ours cannot make us buffer replies.
   */
  sendSync (s: SyncState): boolean {
    const last = this._heldSync ?? this._lastSync
    if (last === null || last.length !== s.length || last.fork !== s.fork) this.syncSentAt = Date.now()
    if (this.backpressured) {
      this._heldSync = s
      return true
    }
    this._heldSync = null
    const l = this._lastSync
    if (l !== null && l.fork === s.fork && l.length === s.length && l.remoteLength === s.remoteLength && l.canUpgrade === s.canUpgrade && l.downloading === s.downloading) return true
    this._lastSync = s
    return this._m[0]!.send({ ...s, uploading: true, hasManifest: false, allowPush: false } satisfies SyncMessage)
  }

  /**
   * Announces blocks we now have, or dropped (`range`, §5.7). While backpressured they are
   * held, in order and merged with their neighbours; past MAX_HELD_ANNOUNCEMENTS they are
   * forgotten, and so is which `want` segments we answered, so the peer may ask again.
   */
  announce (drop: boolean, start: number, length: number): void {
    if (drop && start < this.sentContig) this.sentContig = start
    if (!this.backpressured && this._heldRanges.length === 0) {
      this.sendRange(drop, start, length)
      return
    }
    const h = this._heldRanges
    const n = h.length
    const flag = drop ? 1 : 0
    if (n > 0 && h[n - 1] === flag && h[n - 3]! + h[n - 2]! === start) h[n - 2]! += length
    else if (n < 3 * MAX_HELD_ANNOUNCEMENTS) h.push(start, length, flag)
    else {
      this._heldRanges = []
      this.answeredSegments.clear()
      this.sentContig = 0
    }
  }

  /** The stream drained: send what was held (one batch). */
  flushHeld (): void {
    if (this.closed || (this._heldSync === null && this._heldRanges.length === 0)) return
    this.channel.cork()
    const ranges = this._heldRanges
    this._heldRanges = []
    for (let i = 0; i < ranges.length; i += 3) this.sendRange(ranges[i + 2] === 1, ranges[i]!, ranges[i + 1]!)
    const s = this._heldSync
    if (s !== null) this.sendSync(s)
    this.channel.uncork()
  }

  /** Stops reading the connection until `releaseInput` (our answers to it must catch up). */
  holdInput (): void {
    if (this.inputHeld) return
    this.inputHeld = true
    this.mux.holdInput()
  }

  releaseInput (): void {
    if (!this.inputHeld) return
    this.inputHeld = false
    this.mux.releaseInput()
  }

  sendRequest (m: RequestMessage): boolean { return this._m[1]!.send(m) }
  sendCancel (id: number): boolean {
    this.cancelled.add(id)
    if (this.cancelled.size > 4096) this.cancelled.delete(this.cancelled.values().next().value!)
    return this._m[2]!.send({ request: id } satisfies CancelMessage)
  }

  sendData (m: DataMessage): boolean { return this._m[3]!.send(m) }
  sendNoData (id: number): boolean { return this._m[4]!.send({ request: id, reason: null } satisfies NoDataMessage) }
  sendWant (start: number, length: number): boolean { return this._m[5]!.send({ start, length, any: false } satisfies WantMessage) }
  sendBitfield (start: number, bitfield: Uint32Array): boolean { return this._m[7]!.send({ start, bitfield } satisfies BitfieldMessage) }
  sendRange (drop: boolean, start: number, length: number): boolean { return this._m[8]!.send({ drop, start, length } satisfies RangeMessage) }

  /** Sends an extension message (hypercore@10's `peer.extension(name, message)`). */
  extension (name: string, message: Uint8Array): boolean {
    const sameName = name === this._lastExtensionSent
    this._lastExtensionSent = name
    return this._m[9]!.send({ name: sameName ? '' : name, message } satisfies ExtensionMessage)
  }

  private _onextension (m: ExtensionMessage): void {
    const name = m.name === '' ? this._lastExtensionReceived : m.name
    if (name === null) return // "the same as the last" with no last: nothing to deliver to
    this._lastExtensionReceived = name
    this.extensions.get(name)?._onmessage(m.message, this)
  }
}
