/**
 * @module replication/replicator/scheduler
 * What to request from whom (§5.7): one upgrade at a time from a longer peer that acked our
 * length (or a reorg request when a peer is on a newer fork, §3.5); blocks only from peers
 * that said they have them (else a `want` for the segment, once per peer), spread over the
 * peers with the fewest requests in flight and at most `maxInflight` per peer. `get`s go
 * first, then download ranges. Each block is in flight to one peer at a time; a request the
 * caller gave up on, or whose block came another way, is cancelled.
 */
import { HypercoreError } from '../../errors.js'
import { BITS_PER_PAGE } from '../../core/format/bitfield-file.js'
import type { RequestMessage } from '../../wire/messages.js'
import type { Peer } from './peer.js'
import type { Replicator } from './replicator.js'
import { DEFAULT_MAX_INFLIGHT, WANT_SEGMENT, tick, type Outstanding, type ReplicatorOptions } from './types.js'

/** Free slots a peer needs before a range pass refills them (see `canRefill`). */
const REFILL_BATCH = 8

interface Waiter { resolve: () => void, reject: (err: unknown) => void }

/** Outcome of trying to request one block. */
export type TryResult = 'sent' | 'busy' | 'none'

export class Scheduler {
  readonly rep: Replicator
  readonly maxInflight: number
  private readonly _eager: boolean
  /** Blocks `get` callers wait for. */
  private readonly _wants = new Map<number, Set<Waiter>>()
  /** The one request in flight per block. */
  private readonly _blocks = new Map<number, Outstanding>()
  private _upgrade: Outstanding | null = null
  private _kicked = false

  constructor (rep: Replicator, opts: ReplicatorOptions) {
    this.rep = rep
    this.maxInflight = opts.maxInflight ?? DEFAULT_MAX_INFLIGHT
    this._eager = opts.eagerUpgrade !== false
  }

  get upgrading (): boolean { return this._upgrade !== null }
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

  /** Whether `peer` can give us a longer signed length now (`acked`: also before it acked ours). */
  canUpgradeFrom (peer: Peer, acked = false): boolean {
    const core = this.rep.core
    if (!peer.remoteSynced || peer.upgradeRefused || !peer.usable) return false
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

  /** Sends cancel for the request out for `index`, if any (§3.4). */
  cancelBlock (index: number): void {
    const req = this._blocks.get(index)
    if (req === undefined || req.answered === true) return
    this.settle(req)
    req.peer.sendCancel(req.message.id)
  }

  /** The request got its answer (or is abandoned): free its slot. */
  settle (req: Outstanding): void {
    this._unclaim(req)
    req.resolve?.(null) // a hash request's waiter learns it gets no answer
    // Ended without an answer (cancelled, refused, peer gone): ranges may ask again.
    if (req.message.block !== null) this.rep.ranges.rescan()
  }

  private _unclaim (req: Outstanding): void {
    req.peer.inflight.delete(req.message.id)
    if (req.message.block !== null && this._blocks.get(req.message.block.index) === req) this._blocks.delete(req.message.block.index)
    if (this._upgrade === req) this._upgrade = null
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
    if (b !== null && !(this.rep.core.bitfield.isLoaded(Math.floor(b.index / BITS_PER_PAGE)) && this.rep.core.bitfield.has(b.index))) this.rep.ranges.rescan()
  }

  /** noData, or an answer that did not match: do not ask that peer for it again. */
  refused (req: Outstanding): void {
    if (req.kind === 'block' && req.message.block !== null) req.peer.remoteBitfield.clearRange(req.message.block.index, 1)
    else req.peer.upgradeRefused = true
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
    let best: Peer | null = null
    let anyHas = false
    for (const p of this.rep.peers) {
      if (!p.usable || !p.remoteSynced || p.remoteFork !== core.fork || !p.remoteBitfield.get(index)) continue
      anyHas = true
      if (p.inflight.size >= this.maxInflight) continue
      if (best === null || p.inflight.size < best.inflight.size) best = p
    }
    if (best !== null) {
      void this._sendBlock(best, index, priority)
      return 'sent'
    }
    if (anyHas) return 'busy'
    const segment = Math.floor(index / WANT_SEGMENT)
    for (const p of this.rep.peers) {
      if (!p.usable || !p.remoteSynced || p.remoteLength <= index || p.wantedSegments.has(segment)) continue
      p.wantedSegments.add(segment)
      p.sendWant(segment * WANT_SEGMENT, WANT_SEGMENT)
    }
    return 'none'
  }

  /** True while some peer has a free slot (ranges stop filling when none does). */
  hasCapacity (): boolean {
    return this.rep.peers.some(p => p.usable && p.inflight.size < this.maxInflight)
  }

  /**
   * True when a range pass is worth starting: some peer has at least `refillBatch` free
   * slots. Refilling one slot per answer sends one request per message, so the peer answers
   * one per message too; waiting for a few keeps the window 40–48 deep and lets both sides
   * batch (one mux batch, one encrypted message, per pass).
   */
  canRefill (): boolean {
    const free = Math.min(REFILL_BATCH, this.maxInflight)
    return this.rep.peers.some(p => p.usable && p.inflight.size <= this.maxInflight - free)
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
    if (this._upgrade !== null) return
    const core = this.rep.core
    const wanted = this._eager || this._wants.size > 0
    let best: Peer | null = null
    for (const p of this.rep.peers) {
      if (!this.canUpgradeFrom(p) || p.inflight.size >= this.maxInflight) continue
      if (p.remoteFork > core.fork) { best = p; break }
      if (wanted && (best === null || p.remoteLength > best.remoteLength)) best = p
    }
    if (best === null) return
    const reorg = best.remoteFork > core.fork
    const start = reorg ? 0 : core.length
    const message: RequestMessage = {
      id: best.nextRequestId(),
      fork: reorg ? best.remoteFork : core.fork,
      block: null,
      hash: null,
      seek: null,
      upgrade: { start, length: best.remoteLength - start },
      manifest: false,
      priority: 0
    }
    const req: Outstanding = { peer: best, kind: reorg ? 'reorg' : 'upgrade', message, priority: 0 }
    this._upgrade = req
    best.inflight.set(message.id, req)
    best.sendRequest(message)
  }

  private async _sendBlock (peer: Peer, index: number, priority: number): Promise<void> {
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
    const req: Outstanding = { peer, kind: 'block', message, priority, sentAt: tick() }
    peer.inflight.set(message.id, req)
    this._blocks.set(index, req)
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
