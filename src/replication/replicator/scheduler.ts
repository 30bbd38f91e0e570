/**
 * @module replication/replicator/scheduler
 * What to request from whom (§5.7): upgrades from the longest peers that acked our length,
 * at most MAX_UPGRADES at once and each to a different peer, so one that claims more than it
 * proves cannot hold `update()` alone (or a reorg request when a peer is on a newer fork,
 * §3.5); blocks only from peers that said they have them (else a `want` for the segment, once
 * per peer), spread over the peers with the fewest requests in flight and at most
 * `maxInflight` per peer. `get`s go first, then download ranges. Each block is in flight to
 * one peer at a time; a request the caller gave up on, or whose block came another way, is
 * cancelled. Peers in a backoff (health.ts) get nothing new; a peer whose oldest request
 * timed out loses every request, and they go to others (`timeout`).
 *
 * Hedges: a peer silent for `hedgeAfter` with block requests out has each of them asked of
 * one other peer that has the block and a free slot, and the first answer wins (the other
 * request is cancelled). A peer that announces blocks and never answers then delays them by
 * `hedgeAfter`, not by the request timeout; its own clock runs on (inflight.ts), so it is
 * still struck and dropped.
 */
import { HypercoreError } from '../../errors.js'
import { BITS_PER_PAGE } from '../../core/format/bitfield-file.js'
import type { RequestMessage } from '../../wire/messages.js'
import type { Peer } from './peer.js'
import type { Replicator } from './replicator.js'
import { DEFAULT_MAX_INFLIGHT, MAX_UPGRADES, WANT_SEGMENT, tick, type Outstanding, type ReplicatorOptions } from './types.js'

/** Free slots a peer needs before a range pass refills them (see `canRefill`). */
const REFILL_BATCH = 8

interface Waiter { resolve: () => void, reject: (err: unknown) => void }

/** Outcome of trying to request one block. */
export type TryResult = 'sent' | 'busy' | 'none'

export class Scheduler {
  readonly rep: Replicator
  /** Requests in flight per peer (`Replicator.setInflightRange` changes it). */
  maxInflight: number
  private readonly _eager: boolean
  /** Blocks `get` callers wait for. */
  private readonly _wants = new Map<number, Set<Waiter>>()
  /** The one request in flight per block (the first one asked, while it is out). */
  private readonly _blocks = new Map<number, Outstanding>()
  /** A second request for a block whose first one is at a silent peer (`hedge`). */
  private readonly _hedges = new Map<number, Outstanding>()
  /** Upgrade (and reorg) requests in flight, each to a different peer. */
  private readonly _upgrades = new Set<Outstanding>()
  private _kicked = false

  constructor (rep: Replicator, opts: ReplicatorOptions) {
    this.rep = rep
    this.maxInflight = opts.maxInflight ?? DEFAULT_MAX_INFLIGHT
    this._eager = opts.eagerUpgrade !== false
  }

  get upgrading (): boolean { return this._upgrades.size > 0 }
  get inflightBlocks (): number { return this._blocks.size }

  /** Resolves once block `index` is stored; an aborted signal drops (and cancels) the want. */
  want (index: number, signal: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let set = this._wants.get(index)
      if (set === undefined) this._wants.set(index, set = new Set())
      const w: Waiter = { resolve, reject }
      set.add(w)
      signal.addEventListener('abort', () => {
        if (!set!.delete(w)) return
        resolve()
        if (set!.size === 0 && this._wants.get(index) === set) {
          this._wants.delete(index)
          if (!this.rep.ranges.wants(index)) this.cancelBlock(index)
        }
      }, { once: true })
      this.kick()
    })
  }

  /** Runs a scheduling pass soon (once, however many things changed meanwhile). */
  kick (): void {
    if (this._kicked) return
    this._kicked = true
    queueMicrotask(() => {
      this._kicked = false
      this._run()
    })
  }

  /** An `update()` waits: not eager, the upgrade it needs is asked for now (eager, it already was). */
  updateWaiting (): void {
    if (!this._eager) this.kick()
  }

  /** Whether `peer` can give us a longer signed length now (`acked`: also before it acked ours). */
  canUpgradeFrom (peer: Peer, acked = false, now = Date.now()): boolean {
    const core = this.rep.core
    if (!peer.remoteSynced || peer.upgradeRefused || !peer.available(now)) return false
    if (peer.remoteFork > core.fork) return peer.remoteLength > 0
    return peer.remoteFork === core.fork && peer.remoteCanUpgrade && peer.remoteLength > core.length &&
      (acked || peer.lengthAcked === core.length)
  }

  /** A block is now stored: resolve its waiters, cancel a request still out for it. */
  stored (index: number): void {
    const set = this._wants.get(index)
    if (set !== undefined) {
      this._wants.delete(index)
      for (const w of set) w.resolve()
    }
    this.cancelBlock(index)
  }

  /** Blocks stored by an append `[start, end)`: their `get`s are done. */
  storedRange (start: number, end: number): void {
    for (const i of [...this._wants.keys()]) if (i >= start && i < end) this.stored(i)
  }

  /** Cancels block requests nobody wants any more (a range was destroyed). */
  cancelUnwanted (): void {
    for (const i of [...this._blocks.keys()]) if (!this._wants.has(i) && !this.rep.ranges.wants(i)) this.cancelBlock(i)
  }

  /** Sends cancel for the requests out for `index`, if any (§3.4). */
  cancelBlock (index: number): void {
    for (const req of [this._blocks.get(index), this._hedges.get(index)]) {
      if (req === undefined || req.answered === true) continue
      this.settle(req)
      req.peer.sendCancel(req.message.id)
    }
  }

  /** The request got its answer (or is abandoned): free its slot. */
  settle (req: Outstanding): void {
    this._unclaim(req)
    req.resolve?.(null) // a hash request's waiter learns it gets no answer
    // Ended without an answer (cancelled, refused, peer gone): ranges may ask again.
    if (req.message.block !== null) this.rep.ranges.rescan()
  }

  private _unclaim (req: Outstanding): void {
    // A hedged request that ends unanswered was answered elsewhere (or its block is no longer
    // wanted): not an answer from this peer, whose silence clock runs on.
    if (req.hedged === true && req.answered !== true) req.peer.inflight.withdraw(req.message.id)
    else req.peer.inflight.delete(req.message.id)
    this._upgrades.delete(req)
    const b = req.message.block
    if (b === null) return
    if (this._blocks.get(b.index) === req) {
      this._blocks.delete(b.index)
      // Its hedge, still out, becomes the block's request.
      const hedge = this._hedges.get(b.index)
      if (hedge !== undefined) {
        this._hedges.delete(b.index)
        this._blocks.set(b.index, hedge)
      }
    } else if (this._hedges.get(b.index) === req) {
      this._hedges.delete(b.index)
    }
  }

  /**
   * A matching answer arrived: the peer's slot is free at once, but the block (or the
   * upgrade) stays claimed until `release`, so no pass asks for it again while the answer is
   * verified and stored (that window used to re-request ~every block once).
   */
  answered (req: Outstanding): void {
    req.answered = true
    req.peer.inflight.delete(req.message.id)
  }

  /** The answer of `answered(req)` is stored (or failed): its claim goes. */
  release (req: Outstanding): void {
    this._unclaim(req)
    const b = req.message.block
    if (b === null) return
    // Stored: the other request of a hedged pair is cancelled (else a silent peer's request
    // would stay the block's claim and be hedged again); not stored: ranges may ask again.
    if (this.rep.core.bitfield.isLoaded(Math.floor(b.index / BITS_PER_PAGE)) && this.rep.core.bitfield.has(b.index)) this.cancelBlock(b.index)
    else this.rep.ranges.rescan()
  }

  /** noData, or an answer that did not match: do not ask that peer for it again. */
  refused (req: Outstanding): void {
    if (req.kind === 'block' && req.message.block !== null) req.peer.remoteBitfield.clearRange(req.message.block.index, 1)
    else if (req.kind !== 'hash') req.peer.upgradeRefused = true
  }

  /**
   * The peer's oldest request waited a whole timeout: every request in flight to it is given
   * up (cancelled on the wire, so a late answer is dropped quietly) and goes to other peers
   * on the next pass; it is not asked for an upgrade again until its next sync.
   */
  timeout (peer: Peer): void {
    peer.channel.cork()
    try {
      for (const req of [...peer.inflight.values()]) {
        this.settle(req)
        if (req.kind === 'upgrade' || req.kind === 'reorg') peer.upgradeRefused = true
        peer.sendCancel(req.message.id)
      }
    } finally {
      peer.channel.uncork()
    }
  }

  /**
   * `peer` has been silent for `hedgeAfter` with requests out: each of its block requests
   * without a hedge is also sent to the least busy other peer that has the block and a free
   * slot. Its requests stay out: whichever answer comes first is used.
   */
  hedge (peer: Peer): void {
    const now = Date.now()
    for (const req of [...peer.inflight.values()]) {
      if (req.kind !== 'block' || req.answered === true || req.message.block === null) continue
      const index = req.message.block.index
      if (this._blocks.get(index) !== req || this._hedges.has(index)) continue
      const other = this._leastBusyWith(index, now, peer)
      if (other === null) continue
      req.hedged = true
      void this._sendBlock(other, index, req.priority, true)
    }
  }

  /** Storing an answer failed locally (not the peer's fault): the `get`s for it fail. */
  failed (req: Outstanding, err: unknown): void {
    if (req.message.block === null) return
    const set = this._wants.get(req.message.block.index)
    if (set === undefined) return
    this._wants.delete(req.message.block.index)
    for (const w of set) w.reject(err)
  }

  dropPeer (peer: Peer): void {
    for (const req of [...peer.inflight.values()]) this.settle(req)
  }

  abort (err: HypercoreError): void {
    for (const set of this._wants.values()) for (const w of set) w.reject(err)
    this._wants.clear()
  }

  /**
   * Tries to request block `index` from the least busy peer that has it. 'busy': someone
   * has it but every such peer is at its limit; 'none': nobody said they have it (a `want`
   * went out to peers that may).
   */
  tryBlock (index: number, priority: number): TryResult {
    const core = this.rep.core
    if (this._blocks.has(index)) return 'sent'
    if (index >= core.length) return 'none'
    // Stored already (its range hears of it a little later): nothing to ask for.
    if (core.bitfield.isLoaded(Math.floor(index / BITS_PER_PAGE)) && core.bitfield.has(index)) return 'sent'
    const now = Date.now()
    const best = this._leastBusyWith(index, now, null)
    if (best !== null) {
      void this._sendBlock(best, index, priority, false)
      return 'sent'
    }
    if (this._anyHas(index, now)) return 'busy'
    const segment = Math.floor(index / WANT_SEGMENT)
    for (const p of this.rep.peers) {
      if (!p.usable || !p.remoteSynced || p.remoteLength <= index || p.wantedSegments.has(segment)) continue
      p.wantedSegments.add(segment)
      p.sendWant(segment * WANT_SEGMENT, WANT_SEGMENT)
    }
    return 'none'
  }

  /** The available peer (not `except`) that said it has `index`, with the fewest requests out and a free slot. */
  private _leastBusyWith (index: number, now: number, except: Peer | null): Peer | null {
    let best: Peer | null = null
    for (const p of this.rep.peers) {
      if (p === except || p.inflight.size >= this.maxInflight || !this._has(p, index, now)) continue
      if (best === null || p.inflight.size < best.inflight.size) best = p
    }
    return best
  }

  private _anyHas (index: number, now: number): boolean {
    return this.rep.peers.some(p => this._has(p, index, now))
  }

  private _has (p: Peer, index: number, now: number): boolean {
    return p.available(now) && p.remoteSynced && p.remoteFork === this.rep.core.fork && p.remoteBitfield.get(index)
  }

  /** True while some peer has a free slot (ranges stop filling when none does). */
  hasCapacity (): boolean {
    const now = Date.now()
    return this.rep.peers.some(p => p.available(now) && p.inflight.size < this.maxInflight)
  }

  /**
   * True when a range pass is worth starting: some peer has at least `refillBatch` free
   * slots. Refilling one slot per answer sends one request per message, so the peer answers
   * one per message too; waiting for a few keeps the window 40–48 deep and lets both sides
   * batch (one mux batch, one encrypted message, per pass).
   */
  canRefill (): boolean {
    const free = Math.min(REFILL_BATCH, this.maxInflight)
    const now = Date.now()
    return this.rep.peers.some(p => p.available(now) && p.inflight.size <= this.maxInflight - free)
  }

  private _run (): void {
    if (this.rep.core.closed) return
    // A pass's requests leave as one mux batch per connection (§5.5): one encrypted
    // message instead of one per request.
    const peers = this.rep.peers.slice()
    for (const p of peers) p.channel.cork()
    try {
      this._maybeUpgrade()
      for (const index of this._wants.keys()) {
        if (index < this.rep.core.length) this.tryBlock(index, 1)
      }
      this.rep.ranges.fill()
    } finally {
      for (const p of peers) p.channel.uncork()
    }
  }

  private _maybeUpgrade (): void {
    if (this._upgrades.size >= MAX_UPGRADES) return
    const core = this.rep.core
    const now = Date.now()
    const asked = new Set<Peer>()
    let reorging = false
    for (const u of this._upgrades) {
      asked.add(u.peer)
      if (u.kind === 'reorg') reorging = true
    }
    const candidates = this.rep.peers.filter(p => !asked.has(p) && p.inflight.size < this.maxInflight && this.canUpgradeFrom(p, false, now))
    // A newer fork first (§3.5), one reorg at a time.
    let reorg: Peer | null = null
    for (const p of candidates) if (p.remoteFork > core.fork && (reorg === null || p.remoteFork > reorg.remoteFork)) reorg = p
    if (reorg !== null) {
      if (!reorging) this._sendUpgrade(reorg, true)
      return
    }
    // Not eager: only when something wants a longer length, a `get` or an `update()` (which
    // would otherwise wait for ever on a peer that has one: nothing else asks it).
    if (!this._eager && this._wants.size === 0 && !this.rep.updating) return
    // The longest claims first; a second peer is asked at the same time, so one that claims
    // more than it proves (or never answers) holds up nothing beyond its own request.
    candidates.sort((a, b) => b.remoteLength - a.remoteLength || a.health.strikes - b.health.strikes)
    for (const p of candidates) {
      if (this._upgrades.size >= MAX_UPGRADES) return
      this._sendUpgrade(p, false)
    }
  }

  private _sendUpgrade (peer: Peer, reorg: boolean): void {
    const core = this.rep.core
    const start = reorg ? 0 : core.length
    const message: RequestMessage = {
      id: peer.nextRequestId(),
      fork: reorg ? peer.remoteFork : core.fork,
      block: null,
      hash: null,
      seek: null,
      upgrade: { start, length: peer.remoteLength - start },
      manifest: false,
      priority: 0
    }
    const req: Outstanding = { peer, kind: reorg ? 'reorg' : 'upgrade', message, priority: 0, target: peer.remoteLength }
    this._upgrades.add(req)
    peer.inflight.set(message.id, req)
    peer.sendRequest(message)
    this.rep.watch()
  }

  private async _sendBlock (peer: Peer, index: number, priority: number, hedge: boolean): Promise<void> {
    const core = this.rep.core
    const message: RequestMessage = {
      id: peer.nextRequestId(),
      fork: core.fork,
      block: { index, nodes: 0 },
      hash: null,
      seek: null,
      upgrade: null,
      manifest: false,
      priority
    }
    const req: Outstanding = { peer, kind: 'block', message, priority, sentAt: tick(), hedged: hedge }
    peer.inflight.set(message.id, req)
    if (hedge) this._hedges.set(index, req)
    else this._blocks.set(index, req)
    this.rep.watch()
    // The nodes we hold are nearly always in memory: then the request goes out in this tick.
    const known = core.tree.missingNodesCached(2 * index)
    if (known !== undefined) {
      message.block!.nodes = known
      peer.sendRequest(message)
      return
    }
    try {
      message.block!.nodes = await core.tree.missingNodes(2 * index)
    } catch {
      message.block!.nodes = 0
    }
    if (peer.inflight.get(message.id) !== req) return // settled meanwhile (peer gone, cancelled)
    if (message.fork !== core.fork) { // we reorged meanwhile: ask again on the new fork
      this.settle(req)
      this.kick()
      return
    }
    peer.sendRequest(message)
  }
}
