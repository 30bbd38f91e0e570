/**
 * @module replication/replicator/replicator
 * The replicator of one core: its peers (one per connection), the core's replication hook
 * (`get` → fetch a block, `update` → find a longer signed length), and the reactions to what
 * peers say (§5.7). Choosing what to request from whom is scheduler.ts; answering is
 * serve.ts; checking and storing answers is receive.ts; download ranges are ranges.ts.
 */
import { HypercoreError } from '../../errors.js'
import type { Core, CoreUpdate } from '../../core/core.js'
import type { ReplicatorHook } from '../../core/waits.js'
import { discoveryKey } from '../../crypto/index.js'
import type { BitfieldMessage, CancelMessage, DataMessage, NoDataMessage, RangeMessage, RequestMessage, SyncMessage, WantMessage } from '../../wire/messages.js'
import type { Mux } from '../mux/index.js'
import type { SecretStream } from '../secret-stream/index.js'
import { canUpgradeTo, holdsRootsAt } from './can-upgrade.js'
import { checkConflict, endConflictCheck, startConflictCheck, type Conflict } from './conflict.js'
import { Peer, type PeerHost } from './peer.js'
import { narrowReorg } from './reorg.js'
import { applyData, matches } from './receive.js'
import { Scheduler } from './scheduler.js'
import { answer, answerWant, cancelRequest, queueRequest } from './serve.js'
import { DEFAULT_MAX_REMOTE_QUEUE, type Outstanding, type ReplicatorOptions } from './types.js'
import { RangeDownloads, type RangeHandle, type RangeSpec } from './ranges.js'

/** Download announcements sent as one batch at most (see `_announceDownload`). */
const ANNOUNCE_BATCH = 32

export class Replicator implements ReplicatorHook, PeerHost {
  readonly core: Core
  readonly key: Uint8Array
  readonly discoveryKey: Uint8Array
  /** Peers whose channel is open (capability checked). */
  readonly peers: Peer[] = []
  readonly scheduler: Scheduler
  readonly ranges: RangeDownloads
  private readonly _maxRemoteQueue: number
  private readonly _pending = new Set<Peer>()
  private _updateWaiters: Array<() => void> = []
  private readonly _unlisten: () => void
  private _closed = false
  /** Downloads to announce, as (start, length) pairs (see `_announceDownload`). */
  private _downloaded: number[] = []
  private _announceTimer: ReturnType<typeof setTimeout> | null = null

  private constructor (core: Core, opts: ReplicatorOptions) {
    this.core = core
    this.key = core.key
    this.discoveryKey = discoveryKey(core.key)
    this._maxRemoteQueue = opts.maxRemoteQueue ?? DEFAULT_MAX_REMOTE_QUEUE
    this.scheduler = new Scheduler(this, opts)
    this.ranges = new RangeDownloads(this)
    this._unlisten = core.onUpdate(u => this._onlocal(u))
  }

  /** The core's replicator, made on first use and kept in the core's hook slot. */
  static for (core: Core, opts: ReplicatorOptions = {}): Replicator {
    if (core.replicator instanceof Replicator) return core.replicator
    const r = new Replicator(core, opts)
    core.replicator = r
    return r
  }

  /** Joins a connection: one channel on its mux, opened once the handshake hash is known. */
  attach (mux: Mux, stream: SecretStream): void {
    if (this._closed || mux.destroyed) return
    if (mux.opened({ protocol: 'hypercore/alpha', id: this.discoveryKey })) return
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
    })
    return this.core.length !== before.length || this.core.fork !== before.fork
  }

  onFindingPeersDone (): void { this.checkUpdates() }

  download (spec: RangeSpec): RangeHandle { return this.ranges.add(spec) }

  close (): void {
    if (this._closed) return
    this._closed = true
    if (this._announceTimer !== null) clearTimeout(this._announceTimer)
    this._announceTimer = null
    this._downloaded = []
    this._unlisten()
    for (const p of [...this.peers, ...this._pending]) p.close()
    this.scheduler.abort(HypercoreError.SESSION_CLOSED())
    this.ranges.abort(HypercoreError.SESSION_CLOSED())
    for (const w of this._updateWaiters.splice(0)) w()
    if (this.core.replicator === this) this.core.replicator = null
  }

  /** Re-checks the `update()` waiters: done when nobody can give us more right now. */
  checkUpdates (): void {
    if (this._updateWaiters.length === 0) return
    if (!this._closed) {
      if (this.core.findingPeers > 0 && this.peers.length === 0) return
      if (this._pending.size > 0) return
      if (this.peers.some(p => !p.remoteSynced)) return
      if (this.scheduler.upgrading || this.peers.some(p => this.scheduler.canUpgradeFrom(p, true))) return
    }
    for (const w of this._updateWaiters.splice(0)) w()
  }

  // --- events on every session -------------------------------------------------------------

  emit (name: string, ...args: unknown[]): void {
    for (const s of [...this.core.sessions]) s.emit(name, ...args)
  }

  /** Closes every session of the core (the last one closes the core and this replicator). */
  private _closeSessions (err: Error): void {
    for (const s of [...this.core.sessions]) {
      void s.close(err).catch(() => {})
    }
  }

  // --- PeerHost: channel events --------------------------------------------------------------

  onopen (peer: Peer): void {
    if (this._closed) { peer.close(); return }
    this._pending.delete(peer)
    this.peers.push(peer)
    // §5.7: sync, then our contiguous prefix, as one batch.
    peer.channel.cork()
    this.sendSync(peer)
    const contig = Math.min(this.core.contiguousLength, this.core.length)
    if (contig > 0) peer.sendRange(false, 0, contig)
    peer.channel.uncork()
    this.emit('peer-add', peer)
    this.scheduler.kick()
  }

  onclose (peer: Peer): void {
    endConflictCheck(peer)
    for (const w of peer.drainWaiters.splice(0)) w()
    peer.remoteQueue.length = 0
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
    for (const w of peer.drainWaiters.splice(0)) w()
  }

  onsync (peer: Peer, m: SyncMessage): void {
    const forkChanged = peer.remoteSynced && m.fork !== peer.remoteFork
    if (forkChanged || m.length < peer.remoteLength) peer.remoteBitfield.truncate(m.length)
    if (forkChanged || m.length !== peer.remoteLength || m.canUpgrade) peer.upgradeRefused = false
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
    queueRequest(this.core, peer, m, this._maxRemoteQueue, (index, bytes) => this.emit('upload', index, bytes, peer))
  }

  oncancel (peer: Peer, m: CancelMessage): void { cancelRequest(peer, m.request) }

  async ondata (peer: Peer, m: DataMessage): Promise<void> {
    if (m.request === 0) return this._onconflictCheck(peer, m)
    const req = peer.inflight.get(m.request)
    if (req === undefined) {
      if (peer.cancelled.delete(m.request)) return // we gave up on it; the answer crossed our cancel
      throw HypercoreError.PROTOCOL_ERROR(`peer sent data for request ${m.request}, which we never made`)
    }
    if (req.kind === 'hash') { // its waiter (reorg narrowing) verifies it
      req.resolve!(matches(req, m) ? m : null)
      this.scheduler.settle(req)
      return
    }
    if (!matches(req, m)) {
      this.scheduler.settle(req)
      this.scheduler.refused(req)
      return
    }
    this.scheduler.answered(req)
    try {
      const hint = req.kind === 'reorg' ? await narrowReorg(this.core, peer, m) : null
      const applied = await applyData(this.core, req, m, hint)
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
        startConflictCheck(this.core, peer, err)
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
    if (req === undefined) return
    this.scheduler.settle(req) // a hash request's waiter gets null there
    if (req.kind === 'hash') return
    this.scheduler.refused(req)
    this.scheduler.kick()
    this.checkUpdates()
  }

  onwant (peer: Peer, m: WantMessage): Promise<void> { return answerWant(this.core, peer, m) }

  onbitfield (peer: Peer, m: BitfieldMessage): void {
    peer.remoteBitfield.applyWords(m.start, m.bitfield)
    this.scheduler.kick()
  }

  onrange (peer: Peer, m: RangeMessage): void {
    if (m.drop) peer.remoteBitfield.clearRange(m.start, m.length)
    else peer.remoteBitfield.setRange(m.start, m.length)
    this.scheduler.kick()
  }

  /**
   * A `data` with request 0 (§3.5): the answer to our conflict check, or a peer showing us
   * its tree unasked. A bad proof ends the connection (INVALID_SIGNATURE / INVALID_PROOF); a
   * validly signed, different tree is a conflict; a tree that agrees with ours leaves the
   * failure that made us ask (if any) to end the connection.
   */
  private async _onconflictCheck (peer: Peer, m: DataMessage): Promise<void> {
    let conflict: Conflict | null
    try {
      conflict = await checkConflict(this.core, m)
    } catch (err) {
      endConflictCheck(peer)
      throw err
    }
    const original = endConflictCheck(peer)
    if (conflict !== null) {
      // hypercore@10 emits (proof.upgrade.length, proof.fork, proof) on every session.
      this.emit('conflict', conflict.length, conflict.fork, m)
      // §3.5: show every peer our own tree from 0 (so this one sees the conflict too), close
      // the channels and every session of the core, and end this connection.
      const ours = await answer(this.core, { id: 0, fork: this.core.fork, block: null, hash: null, seek: null, upgrade: { start: 0, length: this.core.length }, manifest: false, priority: 0 })
      if (ours !== null) for (const p of [...this.peers]) if (!p.closed) p.sendData(ours)
      const err = HypercoreError.CONFLICT(`Two conflicting signatures exist for length ${conflict.length}`)
      // The throw ends this connection with CONFLICT once our tree is written; the sessions
      // close after that (closing them first would close its channel quietly instead).
      const stream = peer.stream
      if (stream.destroyed) this._closeSessions(err)
      else stream.once('close', () => this._closeSessions(err))
      throw err
    }
    if (original !== null) throw original
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

  /**
   * A downloaded block is announced with its own `range` message, as before, but the
   * announcements made before the next macrotask leave together as one mux batch (§5.5):
   * blocks are stored one per microtask chain (the core's lock), so a microtask would batch
   * nothing; a 0 ms timer batches a whole burst of answers into one encrypted message.
   */
  private _announceDownload (start: number, end: number): void {
    this._downloaded.push(start, end - start)
    // A download that never yields to a macrotask still announces every ANNOUNCE_BATCH blocks.
    if (this._downloaded.length >= 2 * ANNOUNCE_BATCH) this._flushAnnouncements()
    else if (this._announceTimer === null) this._announceTimer = setTimeout(() => this._flushAnnouncements(), 0)
  }

  private _flushAnnouncements (): void {
    if (this._announceTimer !== null) clearTimeout(this._announceTimer)
    this._announceTimer = null
    const ranges = this._downloaded
    this._downloaded = []
    for (const peer of this.peers) {
      peer.channel.cork()
      for (let i = 0; i < ranges.length; i += 2) peer.sendRange(false, ranges[i]!, ranges[i + 1]!)
      peer.channel.uncork()
    }
  }

  /** A change to the core (ours or one a peer proved): tell every peer (§5.7). */
  private _onlocal (u: CoreUpdate): void {
    for (const peer of this.peers) {
      if (u.type === 'append' && this.core.writable) {
        peer.channel.cork()
        peer.sendRange(false, u.start, u.end - u.start)
        this.sendSync(peer)
        peer.channel.uncork()
      } else if (u.type === 'download') {
        continue // announced in bulk, below
      } else if (u.type === 'clear') {
        peer.sendRange(true, u.start, u.end - u.start)
      } else {
        this.sendSync(peer)
      }
    }
    if (u.type === 'download') this._announceDownload(u.start, u.end)
    if (u.type === 'download' || (u.type === 'append' && this.core.writable)) this.scheduler.storedRange(u.start, u.end)
    if (u.type !== 'download') this.scheduler.kick()
    this.ranges.onlocal(u)
  }
}

export type { Outstanding }
