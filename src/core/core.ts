/**
 * @module core/core
 * The state one storage holds, shared by every session opened on it: the five files of §6
 * (oplog, tree, bitfield, data, header), the oplog header, the Merkle tree, the verifier.
 * Mutations follow hypercore@10's crash-safe write order (§6.1):
 *
 *   1. the block bytes go to the data file (past the current end: invisible until step 2);
 *   2. ONE oplog entry (CRC-framed) describes the whole mutation: this write is the commit
 *      point. A torn entry fails its CRC and replay drops it (the state before);
 *   3. once both are durable, the in-memory tree/bitfield/header take the change and the
 *      sessions hear of it;
 *   4. every 4th mutation (and the first after open, and after every truncate) flushes:
 *      dirty bitfield pages, tree nodes, the header to the inactive slot, then the oplog is
 *      cut back to its header. Entries carry the active slot's bit, so entries a newer header
 *      already covers are ignored on replay even if the cut never happened.
 *
 * Each mutation is prepared under one lock (mutations.ts, verified.ts) and made visible by
 * the commit queue (commit-queue.ts). When the five files form one durability group (our
 * IndexedDB database: writes durable in the order issued), the lock is released once a
 * mutation's writes are issued, so appends and downloaded blocks issued while a transaction
 * commits are prepared meanwhile and go into the next one, each resolving, in order, when
 * its own writes are durable. Otherwise (files, foreign storages) each write is awaited in
 * turn under the lock, as hypercore@10 does. Truncations, clears, upgrades and reorgs always
 * run alone: everything before them is visible first.
 *
 * A mutation resolves once it has committed. A flush that fails after that loses nothing
 * (the oplog still describes every change, and a failed flush keeps its pages and nodes
 * dirty), so it is only remembered: the next mutation (or `flush()`, or `close()`) retries it
 * first, and rejects with the storage's typed error if the retry fails too — changing nothing.
 * A mutation that fails takes the ones queued after it down too; the next one first puts the
 * oplog's write cursor back to the last durable entry (cutting the file there).
 *
 * The flush schedule, entry contents and header contents match hypercore@10 byte for byte
 * when mutations are awaited one by one (test/core/differential.test.ts), so the files
 * interoperate both ways.
 */
import type { ExtensionEndpoint } from './extensions.js'
import { HypercoreError } from '../errors.js'
import type { KeyPair } from '../crypto/types.js'
import type { Verifier } from '../crypto/verifier.js'
import type { MerkleTree, TreeBatch } from '../tree/merkle-tree.js'
import type { Oplog } from './format/oplog.js'
import type { OplogHeader } from './format/oplog-types.js'
import type { TreeFile } from './format/tree-file.js'
import type { BitfieldFile } from './format/bitfield-file.js'
import type { DataFile } from './format/data-file.js'
import type { DurabilityGroup, RandomAccessStorage } from '../storage/types.js'
import { promisify } from '../storage/promises.js'
import { CommitQueue, type Step } from './commit-queue.js'
import { Mutex } from './mutex.js'
import { prepareAppend, prepareClear, prepareTruncate, prepareUserData, type AppendOptions } from './mutations.js'
import { updateContig } from './replay.js'
import type { ReplicatorHook } from './waits.js'
import { prepareVerified, prepareVerifiedBlocks, type PendingBlock, type VerifiedProof } from './verified.js'

export type { PreAppend, AppendOptions } from './mutations.js'

/** hypercore@10 flushes when the oplog grows past this, whatever the counter says. */
const MAX_OPLOG_BYTES = 65536
/**
 * On a durability group the oplog alone sets the pace (see `_scheduleFlush`): a flush is a
 * transaction of its own that the next mutation waits for, so it comes rarely; close flushes
 * whatever is left, so what an open replays stays small.
 */
const MAX_GROUPED_OPLOG_BYTES = 262144
/** …and otherwise every this many mutations. */
const FLUSH_EVERY = 4

/** What a mutation did, as sessions see it. */
export interface CoreUpdate {
  /** 'download': one block a peer proved was stored (replication, core/verified.ts). */
  type: 'append' | 'truncate' | 'clear' | 'download'
  /** Blocks kept from before (the old length for an append). */
  ancestors: number
  length: number
  fork: number
  /** The bitfield range that changed. */
  start: number
  end: number
}

export interface CoreFiles {
  oplog: RandomAccessStorage
  tree: RandomAccessStorage
  bitfield: RandomAccessStorage
  data: RandomAccessStorage
  header: RandomAccessStorage
}

export interface CoreParts {
  files: CoreFiles
  oplog: Oplog
  treeFile: TreeFile
  bitfield: BitfieldFile
  data: DataFile
  header: OplogHeader
  tree: MerkleTree
  verifier: Verifier
  keyPair: KeyPair | null
  /** Opened without the lock: nothing is ever written (open.ts). */
  readOnly?: boolean
}

/** A session as the core (and the replicator, for events) knows it. */
export interface CoreSession {
  close (err?: Error): Promise<void>
  emit (event: string, ...args: unknown[]): boolean
  /** The session's registered extensions by name: a new peer delivers to them. */
  readonly extensions?: ReadonlyMap<string, ExtensionEndpoint>
  /** Opened, and not `setActive(false)` / `active: false`: the core is wanted (replicator `downloading`). */
  readonly opened?: boolean
  readonly active?: boolean
  /** Closes by itself once only autoClose sessions hold the core (hypercore@10's `autoClose`). */
  readonly autoClose?: boolean
}

/**
 * What a mutation's prepare step returns: a step to queue (`inline`: it must be visible
 * before anything else prepares, e.g. an upgrade), or a result when there is nothing to write.
 */
export type Prepared<T> = { step: Step<T>, inline?: boolean } | { value: T }

export class Core {
  readonly files: CoreFiles
  readonly oplog: Oplog
  readonly treeFile: TreeFile
  readonly bitfield: BitfieldFile
  readonly data: DataFile
  readonly header: OplogHeader
  readonly tree: MerkleTree
  readonly verifier: Verifier
  readonly readOnly: boolean
  /** The signing key pair (with secret key) or null for a read-only core. */
  keyPair: KeyPair | null
  readonly mutex = new Mutex()
  private _replicator: ReplicatorHook | null = null
  private readonly _replicatorListeners = new Set<() => void>()
  /** Open sessions (Hypercore objects); the files close when the last one does. */
  readonly sessions = new Set<CoreSession>()
  /** Pending `findingPeers()` hooks. */
  findingPeers = 0
  /**
   * Connections replicating the core with `{ session: true }` (hypercore@10's replicator
   * session): the core stays open while one does, even with no session left, which is how a
   * corestore answers a peer asking for a core it then closes (`closeIfUnused`).
   */
  replicationSessions = 0
  closed = false

  private readonly _listeners = new Set<(u: CoreUpdate) => void>()
  private readonly _queue = new CommitQueue()
  /** The five files are one durability group: mutations may be prepared while earlier ones commit. */
  private readonly _grouped: boolean
  private readonly _group: DurabilityGroup | null
  /** The last append prepared and not applied yet: the next append builds on it. */
  private _head: TreeBatch | null = null
  /** Where the oplog ends after the last applied entry (what a failed write rolls back to). */
  private _oplogDurable: { byteLength: number, length: number }
  /** The flush schedule asked for a flush that has not run yet (it waits for the queue to empty). */
  private _flushDue = false
  /** hypercore@10: the first mutation after open flushes, then every 4th. */
  private _autoFlush = 1
  private _manifestFlushed: boolean
  private _closing: Promise<void> | null = null
  private readonly _closed: Promise<void>
  private _markClosed!: () => void
  /** The error of a flush that failed after its mutation committed (retried first, see above). */
  private _flushError: HypercoreError | null = null
  /** Set when the storage was wiped or replaced under us (STORAGE_LOST): the core closes. */
  private _lost: HypercoreError | null = null
  /** Downloaded blocks waiting for the lock, stored together (`insertVerifiedBlock`). */
  private _pendingBlocks: PendingBlock[] | null = null
  /** The contiguous byte length and the (length, fork) it was computed for. */
  private _contig = { length: 0, fork: 0, bytes: 0 }
  /** Computed before a commit point for the length a truncate or clear will leave. */
  private _contigNext: { length: number, fork: number, bytes: number } | null = null

  constructor (parts: CoreParts) {
    this.files = parts.files
    this.oplog = parts.oplog
    this.treeFile = parts.treeFile
    this.bitfield = parts.bitfield
    this.data = parts.data
    this.header = parts.header
    this.tree = parts.tree
    this.verifier = parts.verifier
    this.keyPair = parts.keyPair
    this.readOnly = parts.readOnly === true
    this._manifestFlushed = parts.header.manifest !== null
    this._closed = new Promise(resolve => { this._markClosed = resolve })
    this._oplogDurable = parts.oplog.position
    const groups = Object.values(parts.files).map(f => f.durabilityGroup ?? null)
    this._grouped = groups[0] !== null && groups.every(g => g === groups[0])
    this._group = this._grouped ? groups[0]! : null
    this._queue.afterApply = (remaining, locked) => this._afterApply(remaining, locked)
    this._queue.onFailure = (err) => { if (HypercoreError.is(err, 'STORAGE_LOST')) this._storageLost(err) }
    for (const f of Object.values(parts.files)) f.on?.('lost', (err: unknown) => this._storageLost(err as HypercoreError))
  }

  /** Filled by the replication layer; null means "local only" (waits.ts). */
  get replicator (): ReplicatorHook | null { return this._replicator }
  set replicator (r: ReplicatorHook | null) {
    this._replicator = r
    // A `get` that began waiting before the first replicate() asks the new replicator now.
    if (r !== null) for (const fn of [...this._replicatorListeners]) fn()
  }

  /**
   * Something that held the core let go (a session closed, a replication session ended):
   * with nothing left, the replicator and the files close; with only autoClose sessions
   * left, those close (the last of them closes the core).
   */
  async closeIfUnused (): Promise<void> {
    if (this.replicationSessions > 0 || this._closing !== null) return
    if (this.sessions.size === 0) {
      this._replicator?.close?.()
      await this.close().catch(() => {})
      return
    }
    const left = [...this.sessions]
    if (left.every(s => s.autoClose === true)) await Promise.allSettled(left.map(s => s.close()))
  }

  /** Calls `fn` whenever a replicator is attached; returns the unsubscribe function. */
  onReplicator (fn: () => void): () => void {
    this._replicatorListeners.add(fn)
    return () => { this._replicatorListeners.delete(fn) }
  }

  get key (): Uint8Array { return this.header.key }
  /** The key is the signer's public key (not a manifest hash): hypercore@10's `core.compat`, which hyperdrive reads. */
  get compat (): boolean { return this.verifier.compat }
  get length (): number { return this.tree.length }
  get byteLength (): number { return this.tree.byteLength }
  get fork (): number { return this.tree.fork }
  get contiguousLength (): number { return this.header.hints.contiguousLength }
  /**
   * Stored bytes (padding included) of blocks `[0, contiguousLength)`: the `byteLength` of a
   * `sparse: false` session. Kept with the hint by `_updateContig` (computed at open).
   */
  get contiguousByteLength (): number { return this._contig.bytes }
  get writable (): boolean { return !this.readOnly && this.keyPair !== null && this.keyPair.secretKey != null }
  /** Mutations prepared whose writes may not be durable yet (tests, benchmarks). */
  get queued (): number { return this._queue.size }

  onUpdate (fn: (u: CoreUpdate) => void): () => void {
    this._listeners.add(fn)
    return () => this._listeners.delete(fn)
  }

  // --- reads -----------------------------------------------------------------------------

  /** True if block `index` is stored locally. */
  async has (index: number): Promise<boolean> {
    return index < this.tree.length && await this.bitfield.get(index)
  }

  /** True if every block in `[start, end)` is stored locally. */
  async hasRange (start: number, end: number): Promise<boolean> {
    if (end <= start) return true
    if (end > this.tree.length) return false
    return (await this.bitfield.count(start, end - start)) === end - start
  }

  /**
   * The stored bytes of block `index` under `tree` (the core's tree, or a snapshot's frozen
   * view over the same node file). The caller checked the bitfield.
   */
  async readBlock (index: number, tree: MerkleTree = this.tree): Promise<Uint8Array> {
    const [offset, size] = await tree.byteRange(index)
    return this.data.read(offset, size)
  }

  // --- mutations (mutations.ts, verified.ts) ---------------------------------------------

  /** Appends blocks (§6.1 order, see the top of this file and mutations.ts). */
  append (blocks: Uint8Array[], opts: AppendOptions = {}): Promise<{ length: number, byteLength: number }> {
    return this._mutate(opts.check, false, () => prepareAppend(this, blocks, opts))
  }

  /** Truncates to `newLength` on fork `fork` (§3.5); always flushes. */
  truncate (newLength: number, fork: number, opts: { keyPair?: KeyPair | null, signature?: Uint8Array | null, check?: () => void } = {}): Promise<void> {
    return this._mutate(opts.check, true, () => prepareTruncate(this, newLength, fork, opts))
  }

  /** Clears blocks `[start, end)` (§6.4); resolves with the bytes of storage freed. */
  clear (start: number, end: number, opts: { check?: () => void } = {}): Promise<number> {
    return this._mutate(opts.check, true, () => prepareClear(this, start, end))
  }

  /** Sets or (value null) deletes a user data entry of the header (see mutations.ts). */
  setUserData (key: string, value: Uint8Array | null, opts: { flush?: boolean, check?: () => void } = {}): Promise<void> {
    return this._mutate(opts.check, true, () => prepareUserData(this, key, value, opts.flush === true))
  }

  /** The header's user data value of `key`, or null. */
  getUserData (key: string): Uint8Array | null {
    return this.header.userData.find(u => u.key === key)?.value ?? null
  }

  /**
   * Stores a peer's proof, verified under the lock against the tree as it is then
   * (replication, §3.3.5; verified.ts). Resolves false when it brought nothing new.
   */
  insertVerified (verify: (tree: MerkleTree) => Promise<VerifiedProof>): Promise<boolean> {
    return this._mutate(undefined, false, async () => prepareVerified(this, await verify(this.tree)))
  }

  /**
   * Stores a downloaded block: a proof that does not upgrade the tree (verified.ts). Blocks
   * that arrive while the lock is taken are verified and stored together, as ONE mutation
   * (one oplog write, one apply; hypercore@10's `_verifyShared`); each resolves, true when
   * its block was new, once that mutation is durable. A proof that fails rejects only its
   * own caller.
   */
  insertVerifiedBlock (verify: (tree: MerkleTree) => Promise<VerifiedProof>): Promise<boolean> {
    return new Promise<boolean>((resolve, reject) => {
      const item: PendingBlock = { verify, resolve, reject }
      if (this._pendingBlocks !== null) {
        this._pendingBlocks.push(item)
        return
      }
      const group = [item]
      this._pendingBlocks = group
      const take = (): void => { if (this._pendingBlocks === group) this._pendingBlocks = null }
      // The group takes whoever joined until the lock was ours (the mux dispatches a whole
      // batch of answers before then); later ones start the next group.
      this._mutate(undefined, false, async () => { take(); return await prepareVerifiedBlocks(this, group) }).then(
        (stored) => { for (let k = 0; k < group.length; k++) group[k]!.resolve(stored[k]!) },
        (err: unknown) => { take(); for (const i of group) i.reject(err) } // items already settled stay so
      )
    })
  }

  /** Flushes everything the oplog holds into the other files (§6.1). */
  flush (): Promise<void> {
    return this.mutex.run(async () => {
      this._checkOpen()
      await this._settle()
      await this._flush()
      this._flushDue = false
      this._flushError = null
    })
  }

  /** The error of a failed flush still waiting for its retry (null when the files are up to date or only the oplog is ahead). */
  get flushError (): HypercoreError | null {
    return this._flushError
  }

  /** True once `close()` or `purge()` was called. */
  get closing (): boolean {
    return this._closing !== null
  }

  /** Resolves once the core has closed (whether or not closing hit an error). */
  whenClosed (): Promise<void> {
    return this._closed
  }

  /** Closes the files (once). Pending mutations finish first. */
  close (): Promise<void> {
    return this._close(false)
  }

  /**
   * Closes, deleting every file of the core. The oplog (which holds the header) goes first:
   * from then on the storage holds no core, and whatever an interrupted purge leaves of the
   * other files is cleared by the next open that creates a core there (open.ts).
   */
  purge (): Promise<void> {
    return this._close(true)
  }

  /**
   * Closes the files, first retrying a flush that failed after its mutation committed (not
   * needed for durability: replay covers it; it keeps the oplog short). If that retry fails
   * the files still close, then close rejects with the storage's typed error.
   */
  private _close (unlink: boolean): Promise<void> {
    if (this._closing === null) {
      this._closing = this.mutex.run(async () => {
        this.closed = true
        await this._queue.drain()
        let flushError: unknown = null
        // On a durability group the oplog may hold many entries (see MAX_GROUPED_OPLOG_BYTES):
        // flushed here, so the next open replays nothing.
        const leftover = this._flushDue || (this._grouped && this.oplog.length > 0)
        if ((this._flushError !== null || leftover) && !unlink && this._lost === null && !this.readOnly && this._queue.failed === null) {
          try {
            await this._flush()
            this._flushError = null
          } catch (err) { flushError = err }
        }
        try {
          await closeAll(this, unlink)
        } finally {
          this._markClosed()
        }
        if (flushError !== null) throw typed(flushError)
      })
    }
    return this._closing
  }

  // --- the commit path (see the top of this file) ------------------------------------------

  /**
   * Runs a mutation: under the lock, catches up on what earlier ones left to do, prepares it
   * and queues it. `barrier`: it reads the visible state, so everything queued before it is
   * applied first, and it is applied before the lock is released.
   */
  private _mutate<T> (check: (() => void) | undefined, barrier: boolean, prepare: () => Promise<Prepared<T>>): Promise<T> {
    let result: Promise<T> | null = null
    return this.mutex.run(async () => {
      this._checkOpen()
      if (this.readOnly) throw HypercoreError.SESSION_NOT_WRITABLE('the core was opened read-only (unlocked)')
      check?.()
      if (barrier || !this._grouped) await this._queue.drain()
      await this._settle()
      const prepared = await prepare()
      if ('value' in prepared) {
        result = Promise.resolve(prepared.value)
        return
      }
      const inline = barrier || !this._grouped || prepared.inline === true
      result = this._queue.push(prepared.step, inline)
      if (inline) await result.catch(() => {})
    }).then(() => result!)
  }

  /**
   * Under the lock, before a mutation prepares: recover from a failed one, retry a failed
   * flush (rejecting, typed, before anything changes if it fails again), and run a due
   * flush once nothing is queued (or the oplog grew past hypercore@10's bound).
   */
  private async _settle (): Promise<void> {
    if (this._queue.failed !== null) {
      await this._queue.drain()
      if (this._lost !== null) throw this._lost
      this._head = null
      await this.oplog.rollback(this._oplogDurable)
      this._queue.failed = null
    }
    if (this._flushError !== null) {
      await this._queue.drain()
      await this._flush() // rejects (typed) before this mutation changes anything
      this._flushError = null
      this._flushDue = false
    }
    if (this._flushDue && (this._queue.size === 0 || this.oplog.byteLength >= (this._grouped ? MAX_GROUPED_OPLOG_BYTES : MAX_OPLOG_BYTES))) {
      await this._queue.drain()
      await this._flushNow()
    }
  }

  /** After each apply (commit-queue.ts): the flush the schedule asked for, once nothing else is queued. */
  private async _afterApply (remaining: number, locked: boolean): Promise<void> {
    if (!this._flushDue || remaining > 0) return
    if (locked) return this._flushNow()
    // A flush rewrites the oplog: no mutation may prepare meanwhile. Whoever holds the lock
    // now runs it instead (`_settle`) or queues a mutation whose apply will.
    if (this.mutex.locked) return
    await this.mutex.run(async () => {
      if (this._flushDue && this._queue.size === 0 && !this.closed) await this._flushNow()
    })
  }

  private async _flushNow (): Promise<void> {
    this._flushDue = false
    try {
      await this._flush()
      this._flushError = null
    } catch (err) {
      this._flushError = typed(err)
    }
  }

  /**
   * Bitfield pages, tree nodes, then the header (which drops the oplog entries). On one
   * durability group all of it is issued at once (one transaction: the header is durable
   * only with the pages before it); elsewhere each step waits for the one before.
   */
  private async _flush (): Promise<void> {
    if (this._grouped) {
      // All three settle before this does: a flush that failed in one part must not let the
      // next flush start while another part is still writing (the second would write a header
      // over pages the first then puts back as dirty).
      const results = await Promise.allSettled([this.bitfield.flush(), this.treeFile.flush(), this.oplog.flush(this.header, { ordered: true })])
      for (const r of results) if (r.status === 'rejected') throw r.reason
    } else {
      await this.bitfield.flush()
      await this.treeFile.flush()
      await this.oplog.flush(this.header)
    }
    this._oplogDurable = this.oplog.position
  }

  private _checkOpen (): void {
    if (this._lost !== null) throw this._lost
    if (this.closed) throw HypercoreError.SESSION_CLOSED()
  }

  /** The storage was wiped or replaced under us: every session closes with that error. */
  private _storageLost (err: HypercoreError): void {
    if (this._lost !== null) return
    this._lost = err
    if (this._queue.failed === null) this._queue.failed = err
    for (const s of [...this.sessions]) void s.close(err).catch(() => {})
  }

  // --- for mutations.ts and verified.ts --------------------------------------------------

  /**
   * Issues a mutation's writes, in order: all at once when the files are one durability
   * group (they become durable in that order), else each after the previous one completed.
   * Resolves when all are durable.
   */
  _issue (writes: Array<() => Promise<unknown>>): Promise<unknown> {
    if (this._group !== null) {
      const all = Promise.all(writes.map(w => w()))
      this._group.commitSoon?.() // the whole mutation is issued: no need to wait for the tick's end
      return all
    }
    return writes.reduce<Promise<unknown>>((prev, w) => prev.then(() => w()), Promise.resolve())
  }

  /** The tree state the next append builds on (the last append prepared, or the tree). */
  get head (): TreeBatch | null {
    return this._head
  }

  /** @internal An append was prepared on top of the head (mutations.ts). */
  _advanceHead (batch: TreeBatch): void {
    this._head = batch
  }

  /** @internal A mutation's writes are durable: the oplog is durable up to `end`. */
  _oplogApplied (end: { byteLength: number, length: number }): void {
    this._oplogDurable = end
  }

  /** @internal The tree takes a signed batch; the header follows it. */
  _commit (batch: TreeBatch, hash: Uint8Array): void {
    batch.commit()
    if (this._head === batch) this._head = null
    this.header.tree.fork = batch.fork
    this.header.tree.length = batch.length
    this.header.tree.rootHash = hash
    this.header.tree.signature = batch.signature
  }

  /**
   * @internal Counts a mutation towards hypercore@10's flush schedule (see MAX_OPLOG_BYTES /
   * FLUSH_EVERY, plus once for a new manifest); `force` asks for a flush now (truncations).
   */
  _scheduleFlush (force = false): void {
    if (force) {
      this._flushDue = true // outside the count, as hypercore@10 flushes after a truncation
    } else if (this._grouped) {
      // On one durability group a flush is a transaction of its own while an append is one
      // entry in the next: flushing every 4th mutation would cost more than the mutations.
      if (this.oplog.byteLength >= MAX_GROUPED_OPLOG_BYTES) this._flushDue = true
    } else if (--this._autoFlush <= 0 || this.oplog.byteLength >= MAX_OPLOG_BYTES) {
      this._autoFlush = FLUSH_EVERY
      this._flushDue = true
    } else if (!this._manifestFlushed && this.header.manifest !== null) {
      this._manifestFlushed = true
      this._flushDue = true
    }
  }

  /** @internal Keeps the header's contiguousLength hint (blocks 0..n-1 all present) current. */
  async _updateContig (drop: boolean, start: number, end: number): Promise<void> {
    await updateContig(this.header, this.bitfield, drop, start, end)
    await this._refreshContiguousQuietly()
  }

  /** @internal `_refreshContiguous` after the hint moved, where a failed read must not fail the mutation. */
  async _refreshContiguousQuietly (): Promise<void> {
    try {
      await this._refreshContiguous()
    } catch {
      // Only a read of tree nodes can fail here (a peer's blocks arriving out of order, with
      // nothing prepared): the byte length stays at its last value and is recomputed with
      // the next change of the hint. The hint itself, which is what gets stored, is exact.
    }
  }

  /**
   * @internal Recomputes `contiguousByteLength` if the contiguous length or the fork moved.
   * Free when every block is there (the tree's byte length) or when `_prepareContiguous`
   * computed it before the commit point; otherwise one byte-offset walk of the tree.
   */
  async _refreshContiguous (): Promise<void> {
    const length = Math.min(this.contiguousLength, this.tree.length)
    const fork = this.tree.fork
    if (this._contig.length === length && this._contig.fork === fork) return
    const next = this._contigNext
    this._contigNext = null
    let bytes: number
    if (length === this.tree.length) bytes = this.tree.byteLength
    else if (length === 0) bytes = 0
    else if (next !== null && next.length === length && next.fork === fork) bytes = next.bytes
    else bytes = await this.tree.byteOffset(length)
    this._contig = { length, fork, bytes }
  }

  /**
   * @internal Before a commit point: the contiguous byte length the mutation will leave, for
   * a length within the prefix the mutation keeps (so the current tree gives the same offset).
   */
  async _prepareContiguous (length: number, fork: number): Promise<void> {
    this._contigNext = { length, fork, bytes: length === 0 ? 0 : await this.tree.byteOffset(length) }
  }

  /** @internal Tells the sessions what a mutation did. */
  _emit (u: CoreUpdate): void {
    for (const fn of [...this._listeners]) fn(u)
  }
}

function typed (err: unknown): HypercoreError {
  return err instanceof HypercoreError ? err : HypercoreError.STORAGE_IO(err instanceof Error ? err.message : String(err), err)
}

async function closeAll (core: Core, unlink: boolean): Promise<void> {
  const errors: unknown[] = []
  for (const close of [() => core.oplog.close(), () => core.treeFile.close(), () => core.bitfield.close(), () => core.data.close()]) {
    try { await close() } catch (err) { errors.push(err) }
  }
  if (unlink) {
    // The oplog (the header) first: see `purge`.
    const f = core.files
    for (const file of [f.oplog, f.header, f.tree, f.bitfield, f.data]) {
      try { await promisify(file).unlink() } catch (err) { errors.push(err) }
    }
  }
  if (errors.length > 0 && !HypercoreError.is(errors[0], 'STORAGE_CLOSED')) throw errors[0]
}
