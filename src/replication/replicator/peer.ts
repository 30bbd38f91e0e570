/**
 * @module replication/replicator/peer
 * One remote peer of one core: the hypercore channel over a connection's mux (§5.6), what
 * the peer told us (its sync state, what it stores), and the requests in flight both ways.
 * Decisions (what to request, how to answer, how to apply) live in the replicator's other
 * files; this file keeps state and speaks the channel's messages.
 */
import { HypercoreError } from '../../errors.js'
import { capability, equalBytes } from '../../crypto/index.js'
import type { Channel, Message, Mux } from '../mux/index.js'
import type { SecretStream } from '../secret-stream/index.js'
import {
  HYPERCORE_PROTOCOL, channelCodecs, handshake as handshakeCodec,
  type BitfieldMessage, type CancelMessage, type DataMessage, type ExtensionMessage, type HandshakeMessage,
  type NoDataMessage, type RangeMessage, type RequestMessage, type SyncMessage, type WantMessage
} from '../../wire/messages.js'
import { RemoteBitfield } from './remote-bitfield.js'
import type { Outstanding } from './types.js'

/** What a peer needs from the core-wide replicator (replicator.ts implements it). */
export interface PeerHost {
  readonly key: Uint8Array
  readonly discoveryKey: Uint8Array
  onopen (peer: Peer): void
  onclose (peer: Peer): void
  onsync (peer: Peer, m: SyncMessage): void
  onrequest (peer: Peer, m: RequestMessage): void
  oncancel (peer: Peer, m: CancelMessage): void
  ondata (peer: Peer, m: DataMessage): Promise<void>
  onnodata (peer: Peer, m: NoDataMessage): void
  onwant (peer: Peer, m: WantMessage): Promise<void>
  onbitfield (peer: Peer, m: BitfieldMessage): void
  onrange (peer: Peer, m: RangeMessage): void
  ondrain (peer: Peer): void
}

interface SyncState { fork: number, length: number, remoteLength: number, canUpgrade: boolean, downloading: boolean }

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
  readonly remoteBitfield = new RemoteBitfield()

  /** Our requests to the peer, by id. Ids only grow, so a late answer to a cancelled one is recognisable. */
  readonly inflight = new Map<number, Outstanding>()
  /** Ids we cancelled; their late answers are dropped quietly (bounded, oldest first). */
  readonly cancelled = new Set<number>()
  /** `want` segments already sent (once per segment per peer, §5.7). */
  readonly wantedSegments = new Set<number>()
  /** The peer answered noData to an upgrade: do not ask again until its next sync. */
  upgradeRefused = false
  /**
   * A proof from the peer failed and our id-0 conflict check is out (§3.5): no requests go
   * to it meanwhile; `error` ends the connection unless the check shows a real conflict.
   */
  conflictCheck: { error: HypercoreError, timer: ReturnType<typeof setTimeout> } | null = null
  /** Whether we hold the full roots at the peer's length, read from the tree file (can-upgrade.ts). */
  rootsChecked: { fork: number, length: number, ok: boolean } | null = null
  /** Remote requests waiting for an answer, in arrival order (§3.4). */
  readonly remoteQueue: RequestMessage[] = []
  serving = false
  /** The serve loop waits here while the stream is full. */
  readonly drainWaiters: Array<() => void> = []
  private _nextId = 1
  private _lastSync: SyncState | null = null
  private readonly _m: Message[]

  constructor (host: PeerHost, mux: Mux, stream: SecretStream) {
    this.host = host
    this.mux = mux
    this.stream = stream
    const on = <T>(fn: (m: T) => void | Promise<void>) => (m: T) => fn(m)
    const ch = mux.createChannel<HandshakeMessage>({
      protocol: HYPERCORE_PROTOCOL,
      id: host.discoveryKey,
      handshake: handshakeCodec,
      messages: [
        { encoding: channelCodecs[0], onmessage: on<SyncMessage>(m => host.onsync(this, m)) },
        { encoding: channelCodecs[1], onmessage: on<RequestMessage>(m => host.onrequest(this, m)) },
        { encoding: channelCodecs[2], onmessage: on<CancelMessage>(m => host.oncancel(this, m)) },
        { encoding: channelCodecs[3], onmessage: on<DataMessage>(m => host.ondata(this, m)) },
        { encoding: channelCodecs[4], onmessage: on<NoDataMessage>(m => host.onnodata(this, m)) },
        { encoding: channelCodecs[5], onmessage: on<WantMessage>(m => host.onwant(this, m)) },
        // unwant: received and ignored, as hypercore@10 does (§5.6).
        { encoding: channelCodecs[6] },
        { encoding: channelCodecs[7], onmessage: on<BitfieldMessage>(m => host.onbitfield(this, m)) },
        { encoding: channelCodecs[8], onmessage: on<RangeMessage>(m => host.onrange(this, m)) },
        // extension: no extensions are registered yet; unknown names are dropped (§5.7).
        { encoding: channelCodecs[9], onmessage: on<ExtensionMessage>(() => {}) }
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
  get remotePublicKey (): Uint8Array | null { return this.stream.remotePublicKey }

  get opened (): boolean { return this.channel.opened }
  /** Open and not paused by a conflict check: requests may go to it. */
  get usable (): boolean { return this.channel.opened && this.conflictCheck === null }
  get closed (): boolean { return this.channel.closed }

  /** Closes this peer's channel (the connection stays for other cores). */
  close (): void { this.channel.close() }

  /** Ends the whole connection with a typed error: the peer broke the protocol. */
  destroy (err: HypercoreError): void { this.mux.destroy(err) }

  private _onopen (hs: HandshakeMessage | null): void {
    // A peer that only knows the discovery key cannot make this (§5.6): the whole stream goes.
    const expected = capability(this.stream.handshakeHash!, !this.stream.isInitiator, this.host.key)
    if (hs === null || !equalBytes(hs.capability, expected)) throw HypercoreError.INVALID_CAPABILITY('remote sent an invalid replication capability')
    this.host.onopen(this)
  }

  nextRequestId (): number { return this._nextId++ }

  // --- senders (false: not sent, or the stream asks us to wait for drain) ------------------

  /** Sends sync unless it would say exactly what the last one said (no ping-pong, §5.7). */
  sendSync (s: SyncState): boolean {
    const l = this._lastSync
    if (l !== null && l.fork === s.fork && l.length === s.length && l.remoteLength === s.remoteLength && l.canUpgrade === s.canUpgrade && l.downloading === s.downloading) return true
    this._lastSync = s
    return this._m[0]!.send({ ...s, uploading: true, hasManifest: false, allowPush: false } satisfies SyncMessage)
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
}
