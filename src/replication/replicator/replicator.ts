/**
 * @module replication/replicator/replicator
 * The replicator of one core: its peers (one per connection), the core's replication hook
 * (`get` → fetch a block, `update` → find a longer signed length), and the reactions to what
 * peers say (§5.7). Choosing what to request from whom is scheduler.ts; answering is
 * serve.ts; checking and storing answers is receive.ts; download ranges are ranges.ts;
 * telling peers what changed is announce.ts; timeouts, strikes and drops are watchdog.ts
 * and health.ts; what peers claim to have is remote-bitfield.ts, within budget.ts.
 */
import { HypercoreError } from '../../errors.js'
import { HYPERCORE_PROTOCOL } from '../../wire/message-types.js'
import type { Core, CoreUpdate } from '../../core/core.js'
import type { ReplicatorHook } from '../../core/waits.js'
import { discoveryKey } from '../../crypto/index.js'
import type { BitfieldMessage, CancelMessage, DataMessage, NoDataMessage, RangeMessage, RequestMessage, SyncMessage, WantMessage } from '../../wire/messages.js'
import type { Mux } from '../mux/index.js'
import type { SecretStream } from '../secret-stream/index.js'
import { Budget, DEFAULT_CORE_BITFIELD_BYTES, DEFAULT_PEER_BITFIELD_BYTES, processBitfieldBudget } from './budget.js'
import { canUpgradeTo, holdsRootsAt } from './can-upgrade.js'
import { endConflictCheck, onConflictCheck, startConflictCheck } from './conflict.js'
import { Announcer } from './announce.js'
import type { HealthPolicy } from './health.js'
import { Peer, type PeerHost } from './peer.js'
import { RangeDownloads, type RangeHandle, type RangeSpec } from './ranges.js'
import { applyData, matches } from './receive.js'
import { narrowReorg } from './reorg.js'
import { Scheduler } from './scheduler.js'
import { cancelRequest, queueRequest, queueWant, type ServeContext } from './serve.js'
import { DEFAULT_MAX_REMOTE_QUEUE, DEFAULT_MAX_STRIKES, DEFAULT_REQUEST_TIMEOUT, type Outstanding, type ReplicatorOptions } from './types.js'
import { Watchdog } from './watchdog.js'

export class Replicator implements ReplicatorHook, PeerHost {
  readonly core: Core
  readonly key: Uint8Array
  readonly discoveryKey: Uint8Array
  /** Peers whose channel is open (capability checked). */
  readonly peers: Peer[] = []
  readonly scheduler: Scheduler
  readonly ranges: RangeDownloads
  /** What all peers' availability announcements of this core take (its parent: `processBitfieldBudget`). */
  readonly bitfieldBudget: Budget
  readonly peerBitfieldBytes: number
  readonly policy: HealthPolicy
  private readonly _serve: ServeContext
  private readonly _watchdog: Watchdog
  private readonly _announcer: Announcer
  private readonly _pending = new Set<Peer>()
  /** Connections whose remote opens for our core we accept (see `_pairOn`). */
  private readonly _pairedMuxes = new Set<Mux>()
  private _updateWaiters: Array<() => void> = []
  private readonly _unlisten: () => void
  private _closed = false

  private constructor (core: Core, opts: ReplicatorOptions) {
    this.core = core
    this.key = core.key
    this.discoveryKey = discoveryKey(core.key)
    const requestTimeout = opts.requestTimeout ?? DEFAULT_REQUEST_TIMEOUT
    this.policy = { requestTimeout, hedgeAfter: opts.hedgeAfter ?? requestTimeout / 8, maxStrikes: opts.maxStrikes ?? DEFAULT_MAX_STRIKES }
    this.bitfieldBudget = new Budget(opts.maxCoreBitfieldBytes ?? DEFAULT_CORE_BITFIELD_BYTES, processBitfieldBudget)
    this.peerBitfieldBytes = opts.maxPeerBitfieldBytes ?? DEFAULT_PEER_BITFIELD_BYTES
    this._serve = {
      core,
      maxQueue: opts.maxRemoteQueue ?? DEFAULT_MAX_REMOTE_QUEUE,
      onupload: (peer, index, bytes) => this.emit('upload', index, bytes, peer)
    }
    this._watchdog = new Watchdog(this)
    this._announcer = new Announcer(this)
    this.scheduler = new Scheduler(this, opts)
    this.ranges = new RangeDownloads(this)
    this._unlisten = core.onUpdate(u => this._onlocal(u))
  }

  /** The core's replicator, made on first use and kept in the core's hook slot. */
  static for (core: Core, opts: ReplicatorOptions = {}): Replicator {
    if (core.replicator instanceof Replicator) return core.replicator
    const r = new Replicator(core, opts)
    core.replicator = r
    r.updateActivity()
    return r
  }

  /** Joins a connection: one channel on its mux, opened once the handshake hash is known. */
  attach (mux: Mux, stream: SecretStream): void {
    if (this._closed || mux.destroyed) return
    this._pairOn(mux, stream)
    if (mux.opened({ protocol: HYPERCORE_PROTOCOL, id: this.discoveryKey })) return
    let peer: Peer
    try {
      peer = new Peer(this, mux, stream)
    } catch (err) {
      if (HypercoreError.is(err, 'INVALID_OPERATION')) return // already replicating over it
      throw err
    }
    this._pending.add(peer)
    const open = (): void => { if (!peer.closed && !this._closed) peer.open() }
    if (stream.handshakeHash !== null) open()
    else void stream.opened.then(ok => { if (ok) open() })
  }

  /**
   * While we replicate over `mux`, a remote open for our core with no channel of ours waiting
   * gets one (hypercore@10 pairs the same way). That is how the two sides meet when the other
   * rejected our open because its core was not open yet, and then opened its own.
   */
  private _pairOn (mux: Mux, stream: SecretStream): void {
    if (this._pairedMuxes.has(mux)) return
    this._pairedMuxes.add(mux)
    mux.pair({ protocol: HYPERCORE_PROTOCOL, id: this.discoveryKey }, () => this.attach(mux, stream))
    stream.once('close', () => this._pairedMuxes.delete(mux))
  }

  // --- ReplicatorHook ----------------------------------------------------------------------

  request (index: number, signal: AbortSignal): Promise<void> {
    return this.scheduler.want(index, signal)
  }

  /** Resolves once every peer has said its length and any longer one was fetched (§5.7). */
  async update (opts: { wait: boolean }): Promise<boolean> {
    const before = { length: this.core.length, fork: this.core.fork }
    if (this.peers.length === 0 && this._pending.size === 0 && this.core.findingPeers === 0 && !opts.wait) return false
    await new Promise<void>(resolve => {
      this._updateWaiters.push(resolve)
      this.checkUpdates()
      if (this._updateWaiters.length > 0) {
        this.watch() // its deadlines need a clock
        this.scheduler.updateWaiting()
      }
    })
    return this.core.length !== before.length || this.core.fork !== before.fork
  }

  onFindingPeersDone (): void { this.checkUpdates() }

  download (spec: RangeSpec): RangeHandle { return this.ranges.add(spec) }

  close (): void {
    if (this._closed) return
    this._closed = true
    this._watchdog.close()
    this._announcer.close()
    this._unlisten()
    for (const mux of this._pairedMuxes) mux.unpair({ protocol: HYPERCORE_PROTOCOL, id: this.discoveryKey })
    this._pairedMuxes.clear()
    for (const p of [...this.peers, ...this._pending]) p.close()
    this.scheduler.abort(HypercoreError.SESSION_CLOSED())
    this.ranges.abort(HypercoreError.SESSION_CLOSED())
    for (const w of this._updateWaiters.splice(0)) w()
    if (this.core.replicator === this) this.core.replicator = null
  }

  /**
   * Re-checks the `update()` waiters: done when nobody can give us more right now. Each thing
   * waited for has a deadline (`requestTimeout`): a peer whose channel does not open, that
   * does not sync, or that claims a longer length but does not acknowledge ours is waited for
   * that long (from its first sync or our newest length: its own later syncs do not restart
   * it), and an upgrade request times out (health.ts), so no peer holds `update()`.
   */
  checkUpdates (): void {
    if (this._updateWaiters.length === 0) return
    if (!this._closed) {
      const now = Date.now()
      const recent = (t: number): boolean => now - t < this.policy.requestTimeout
      const length = this.core.length
      if (this.core.findingPeers > 0 && this.peers.length === 0) return
      for (const p of this._pending) if (recent(p.createdAt)) return
      if (this.peers.some(p => !p.remoteSynced && recent(p.openedAt))) return
      if (this.scheduler.upgrading) return
      if (this.peers.some(p => this.scheduler.canUpgradeFrom(p, true, now) && (p.lengthAcked === length || p.remoteFork !== this.core.fork || recent(Math.max(p.firstSyncAt, p.syncSentAt))))) return
    }
    for (const w of this._updateWaiters.splice(0)) w()
  }

  /** Starts the clock that times requests out and `update()` waits (stops by itself when idle). */
  watch (): void {
    if (!this._closed) this._watchdog.watch()
  }

  /** A failure of `peer`: a strike and a backoff, or the end of its connection (watchdog.ts). */
  fail (peer: Peer, err: HypercoreError): void {
    this._watchdog.fail(peer, err)
  }

  /** Some `update()` is waiting. */
  get updating (): boolean { return this._updateWaiters.length > 0 }

  // --- hypercore@10's replicator fields that libraries read or set ----------------------------

  /** Some open session wants the core (hypercore@10: an active session): corestore replicates such cores on every connection. */
  downloading = false
  /** Called when `downloading` turns true (corestore sets it). */
  ondownloading: (() => void) | null = null
  private _inflightRange: [number, number] = [16, 512]
  private readonly _peerListeners = new Set<(added: boolean, peer: Peer) => void>()

  /** Pending `findingPeers()` hooks of the core (hypercore@10 lets code change the count). */
  get findingPeers (): number { return this.core.findingPeers }
  set findingPeers (n: number) {
    this.core.findingPeers = n
    if (n === 0) this.onFindingPeersDone()
  }

  /** Open sessions that are active (not `active: false` or `setActive(false)`). */
  get activeSessions (): number {
    let n = 0
    for (const s of this.core.sessions) if (s.opened === true && s.active === true) n++
    return n
  }

  /** A session opened, closed or changed `setActive`: `downloading` follows. */
  updateActivity (): void { this.setDownloading(this.activeSessions > 0) }

  setDownloading (downloading: boolean): void {
    if (this._closed || this.downloading === downloading) return
    this.downloading = downloading
    if (downloading) this.ondownloading?.()
  }

  isDownloading (): boolean { return this.downloading || this.scheduler.inflightBlocks > 0 }

  /** `[min, max]` requests in flight per peer; on our streams a peer gets `min(max, 3 × min)`, as hypercore@10 on non-UDX streams. */
  get inflightRange (): [number, number] { return this._inflightRange }

  /** hypercore@11's `setInflightRange` (Hyperbee calls it when it has one). */
  setInflightRange (min: number, max: number): void {
    this._inflightRange = [min, max]
    this.scheduler.maxInflight = Math.max(1, Math.min(max, min * 3))
    this.scheduler.kick()
  }

  /** Whether this core replicates (or waits to) over `mux`. */
  attached (mux: Mux): boolean { return this._pairedMuxes.has(mux) }
  get destroyed (): boolean { return this._closed }
  async destroy (): Promise<void> { this.close() }
  cork (): void { for (const p of this.peers) p.channel.cork() }
  uncork (): void { for (const p of this.peers) p.channel.uncork() }

  /** Calls `fn(true, peer)` when a peer's channel opens, `fn(false, peer)` when one closes (opened or not). */
  onPeerUpdate (fn: (added: boolean, peer: Peer) => void): () => void {
    this._peerListeners.add(fn)
    return () => { this._peerListeners.delete(fn) }
  }


  // --- events on every session -------------------------------------------------------------

  emit (name: string, ...args: unknown[]): void {
    for (const s of [...this.core.sessions]) s.emit(name, ...args)
  }

  /** Closes every session of the core (the last one closes the core and this replicator). */
  closeSessions (err: Error): void {
    for (const s of [...this.core.sessions]) {
      void s.close(err).catch(() => {})
    }
  }

  // --- PeerHost: channel events --------------------------------------------------------------

  onopen (peer: Peer): void {
    if (this._closed) { peer.close(); return }
    this._pending.delete(peer)
    this.peers.push(peer)
    peer.openedAt = Date.now()
    for (const fn of [...this._peerListeners]) fn(true, peer)
    // §5.7: sync, then our contiguous prefix, as one batch.
    peer.channel.cork()
    this.sendSync(peer)
    const contig = Math.min(this.core.contiguousLength, this.core.length)
    if (contig > 0) {
      peer.sendRange(false, 0, contig)
      peer.sentContig = contig
    }
    peer.channel.uncork()
    // hypercore@10: a new peer delivers to every extension of every session of the core.
    for (const s of this.core.sessions) for (const [name, ext] of s.extensions ?? []) peer.extensions.set(name, ext)
    this.emit('peer-add', peer)
    this.scheduler.kick()
  }

  onclose (peer: Peer): void {
    for (const fn of [...this._peerListeners]) fn(false, peer)
    endConflictCheck(peer)
    for (const w of peer.drainWaiters.splice(0)) w()
    peer.remoteWork.clear()
    peer.releaseInput()
    peer.remoteBitfield.dispose()
    this._watchdog.forget(peer)
    if (this._pending.delete(peer)) { this.checkUpdates(); return }
    const i = this.peers.indexOf(peer)
    if (i === -1) return
    this.peers.splice(i, 1)
    this.scheduler.dropPeer(peer)
    this.emit('peer-remove', peer)
    this.checkUpdates()
    this.scheduler.kick()
  }

  ondrain (peer: Peer): void {
    peer.flushHeld()
    for (const w of peer.drainWaiters.splice(0)) w()
  }

  onsync (peer: Peer, m: SyncMessage): void {
    const forkChanged = peer.remoteSynced && m.fork !== peer.remoteFork
    if (forkChanged || m.length < peer.remoteLength) peer.remoteBitfield.truncate(m.length)
    if (forkChanged || m.length !== peer.remoteLength || m.canUpgrade) peer.upgradeRefused = false
    if (!peer.remoteSynced) peer.firstSyncAt = Date.now()
    peer.remoteSynced = true
    peer.remoteFork = m.fork
    peer.remoteLength = m.length
    peer.remoteCanUpgrade = m.canUpgrade
    peer.remoteUploading = m.uploading
    peer.remoteDownloading = m.downloading
    peer.lengthAcked = m.fork === this.core.fork ? m.remoteLength : 0
    this.sendSync(peer) // echoes its length (§5.7: JS readers wait for that ack)
    this.scheduler.kick()
    this.checkUpdates()
  }

  onrequest (peer: Peer, m: RequestMessage): void {
    queueRequest(this._serve, peer, m)
  }

  oncancel (peer: Peer, m: CancelMessage): void { cancelRequest(peer, m.request) }

  async ondata (peer: Peer, m: DataMessage): Promise<void> {
    if (m.request === 0) return onConflictCheck(this, peer, m)
    const req = peer.inflight.get(m.request)
    if (req === undefined) {
      if (peer.cancelled.delete(m.request)) { // we gave up on it; the answer crossed our cancel
        peer.inflight.heard()
        return
      }
      throw HypercoreError.PROTOCOL_ERROR(`peer sent data for request ${m.request}, which we never made`)
    }
    if (!matches(req, m)) {
      // `data` that is not what was asked (nothing, another block, no upgrade) is never an
      // honest answer: refused, and a strike (no re-asking it in a loop, health.ts).
      this.scheduler.settle(req)
      this.scheduler.refused(req)
      this.fail(peer, HypercoreError.PROTOCOL_ERROR(`answer to request ${m.request} does not match it`))
      this.scheduler.kick()
      this.checkUpdates()
      return
    }
    if (req.kind === 'hash') { // its waiter (reorg narrowing) verifies it
      req.resolve!(m)
      this.scheduler.settle(req)
      return
    }
    this.scheduler.answered(req)
    try {
      const hint = req.kind === 'reorg' ? await narrowReorg(this.core, peer, m) : null
      const applied = await applyData(this.core, req, m, hint)
      if (applied.stale) return // our tree moved on meanwhile: nothing stored; asked again if still needed
      peer.health.good()
      if ((req.kind === 'upgrade' || req.kind === 'reorg') && applied.provenLength < req.target!) {
        // It claimed (and was asked for) more than it proved.
        peer.upgradeRefused = true
        this.fail(peer, HypercoreError.PROTOCOL_ERROR(`peer claimed length ${req.target!} but proved ${applied.provenLength}`))
      }
      if (applied.blockBytes > 0 && m.block !== null) {
        this.ranges.ondownload(m.block.index, applied.blockBytes)
        this.emit('download', m.block.index, applied.blockBytes, peer)
      }
    } catch (err) {
      if (HypercoreError.is(err, 'INVALID_PROOF') || HypercoreError.is(err, 'INVALID_SIGNATURE')) {
        this.scheduler.refused(req)
        this.emit('verification-error', err, req.message, m, peer)
        // A proof on another fork cannot be a conflict: this connection ends at once (the mux
        // destroys its own stream). Otherwise §3.5: ask for its tree from 0 first.
        if (req.kind === 'reorg') throw err
        startConflictCheck(this.core, peer, err, this.policy.requestTimeout)
        return
      }
      if (HypercoreError.is(err, 'SESSION_CLOSED')) return
      this.scheduler.failed(req, err)
      if (req.message.block !== null) this.ranges.failBlock(req.message.block.index, err instanceof Error ? err : HypercoreError.STORAGE_IO(String(err)), req.sentAt ?? 0)
      return
    } finally {
      this.scheduler.release(req)
      this.scheduler.kick()
      this.checkUpdates()
    }
  }

  onnodata (peer: Peer, m: NoDataMessage): void {
    if (m.request === 0) {
      // It will not show us its tree: the failure that made us ask stands.
      const err = endConflictCheck(peer)
      if (err !== null) peer.destroy(err)
      return
    }
    const req = peer.inflight.get(m.request)
    if (req === undefined) {
      if (peer.cancelled.delete(m.request)) peer.inflight.heard() // slow, but it answers
      return
    }
    this.scheduler.settle(req) // a hash request's waiter gets null there
    if (req.kind === 'hash') return
    // A block it dropped before answering (its `range{drop}` came first) is an honest refusal.
    const claimed = req.message.block === null || peer.remoteBitfield.get(req.message.block.index)
    this.scheduler.refused(req)
    // One refusal can be honest (a race with a clear or a truncation); a run of them is not.
    if (claimed && peer.health.refused()) this.fail(peer, HypercoreError.PROTOCOL_ERROR('peer keeps refusing what it announced'))
    this.scheduler.kick()
    this.checkUpdates()
  }

  onwant (peer: Peer, m: WantMessage): void { queueWant(this._serve, peer, m) }

  onbitfield (peer: Peer, m: BitfieldMessage): void {
    peer.remoteBitfield.applyWords(m.start, m.bitfield)
    this.scheduler.kick()
  }

  onrange (peer: Peer, m: RangeMessage): void {
    if (m.drop) peer.remoteBitfield.clearRange(m.start, m.length)
    else peer.remoteBitfield.setRange(m.start, m.length)
    this.scheduler.kick()
  }

  // --- our side ------------------------------------------------------------------------------

  sendSync (peer: Peer): void {
    const core = this.core
    const canUpgrade = canUpgradeTo(core, peer)
    if (canUpgrade === undefined) {
      // A root is not in memory: this sync (and its ack) goes out once the tree file told
      // us. Saying "no" first would end a JS or our peer's update() too early.
      void this._checkRoots(peer, core.fork, peer.remoteLength)
      return
    }
    peer.sendSync({
      fork: core.fork,
      length: core.length,
      remoteLength: peer.remoteFork === core.fork ? peer.remoteLength : 0,
      canUpgrade,
      downloading: true
    })
  }

  private async _checkRoots (peer: Peer, fork: number, length: number): Promise<void> {
    let ok = false
    try {
      ok = await holdsRootsAt(this.core, length)
    } catch {}
    if (peer.closed || this._closed) return
    peer.rootsChecked = { fork, length, ok }
    this.sendSync(peer) // with the answer (or a new check, when fork or length moved meanwhile)
  }

  /** A change to the core (ours or one a peer proved): peers, gets and ranges hear of it. */
  private _onlocal (u: CoreUpdate): void {
    this._announcer.onlocal(u)
    if (u.type === 'download' || (u.type === 'append' && this.core.writable)) this.scheduler.storedRange(u.start, u.end)
    if (u.type !== 'download') this.scheduler.kick()
    this.ranges.onlocal(u)
  }
}

export type { Outstanding }
