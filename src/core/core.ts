/**
 * @module core/core
 * The state one storage holds, shared by every session opened on it: the five files of §6
 * (oplog, tree, bitfield, data, header), the oplog header, the Merkle tree, the verifier. All
 * mutations run under one mutex and follow hypercore@10's crash-safe write order (§6.1):
 *
 *   1. the block bytes go to the data file (past the current end: invisible until step 2);
 *   2. ONE oplog entry (CRC-framed) describes the whole mutation: this write is the commit
 *      point. A torn entry fails its CRC and replay drops it (the state before);
 *   3. the in-memory tree/bitfield/header take the change;
 *   4. every 4th mutation (and the first after open, and after every truncate) flushes:
 *      dirty bitfield pages, tree nodes, the header to the inactive slot, then the oplog is
 *      cut back to its header. Entries carry the active slot's bit, so entries a newer header
 *      already covers are ignored on replay even if the cut never happened.
 *
 * The flush schedule, entry contents and header contents match hypercore@10 byte for byte
 * (checked by test/core/differential.test.ts), so the files interoperate both ways.
 */
import { HypercoreError } from '../errors.js'
import type { KeyPair } from '../crypto/types.js'
import type { Verifier } from '../crypto/verifier.js'
import { MerkleTree, type TreeBatch } from '../tree/merkle-tree.js'
import type { TreeNode } from '../tree/types.js'
import type { Oplog } from './format/oplog.js'
import type { OplogEntry, OplogHeader, ReorgHint } from './format/oplog-types.js'
import type { TreeFile } from './format/tree-file.js'
import type { BitfieldFile } from './format/bitfield-file.js'
import type { DataFile } from './format/data-file.js'
import type { RandomAccessStorage } from '../storage/types.js'
import { promisify } from '../storage/promises.js'
import { Mutex } from './mutex.js'
import type { ReplicatorHook } from './waits.js'
import { insertVerified, type VerifiedProof } from './verified.js'

/** hypercore@10 flushes when the oplog grows past this, whatever the counter says. */
const MAX_OPLOG_BYTES = 65536
/** …and otherwise every this many mutations. */
const FLUSH_EVERY = 4
/** At most this many reorg hints are kept in the header (§3.5). */
const MAX_REORG_HINTS = 4

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
}

/** Turns user blocks into stored blocks at `start` on `fork` (block encryption, §4). */
export type PreAppend = (blocks: Uint8Array[], start: number, fork: number) => Uint8Array[]

export class Core {
  readonly files: CoreFiles
  readonly oplog: Oplog
  readonly treeFile: TreeFile
  readonly bitfield: BitfieldFile
  readonly data: DataFile
  readonly header: OplogHeader
  readonly tree: MerkleTree
  readonly verifier: Verifier
  /** The signing key pair (with secret key) or null for a read-only core. */
  keyPair: KeyPair | null
  readonly mutex = new Mutex()
  /** Filled by the replication layer; null means "local only" (waits.ts). */
  replicator: ReplicatorHook | null = null
  /** Open sessions (Hypercore objects); the files close when the last one does. */
  readonly sessions = new Set<object>()
  /** Pending `findingPeers()` hooks. */
  findingPeers = 0
  closed = false

  private readonly _listeners = new Set<(u: CoreUpdate) => void>()
  /** hypercore@10: the first mutation after open flushes, then every 4th. */
  private _autoFlush = 1
  private _manifestFlushed: boolean
  private _closing: Promise<void> | null = null

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
    this._manifestFlushed = parts.header.manifest !== null
  }

  get key (): Uint8Array { return this.header.key }
  get length (): number { return this.tree.length }
  get byteLength (): number { return this.tree.byteLength }
  get fork (): number { return this.tree.fork }
  get contiguousLength (): number { return this.header.hints.contiguousLength }
  get writable (): boolean { return this.keyPair !== null && this.keyPair.secretKey != null }

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

  // --- mutations -------------------------------------------------------------------------

  /**
   * Appends blocks (§6.1 order, see the top of this file). `check` runs once the lock is held
   * (the session uses it to refuse work queued before it closed); `preappend` turns the
   * blocks into their stored form at the index and fork they will really get.
   */
  append (blocks: Uint8Array[], opts: { keyPair?: KeyPair | null, preappend?: PreAppend | null, check?: () => void } = {}): Promise<{ length: number, byteLength: number }> {
    return this.mutex.run(async () => {
      this._checkOpen()
      opts.check?.()
      const keyPair = opts.keyPair ?? this.keyPair
      if (keyPair === null || keyPair.secretKey == null) throw HypercoreError.SESSION_NOT_WRITABLE()
      if (blocks.length === 0) return { length: this.tree.length, byteLength: this.tree.byteLength }
      const stored = opts.preappend != null ? opts.preappend(blocks, this.tree.length, this.tree.fork) : blocks

      const batch = this.tree.batch()
      for (const b of stored) batch.append(b)
      const hash = batch.hash()
      batch.signature = this.verifier.sign(hash, batch.length, batch.fork, keyPair)

      const entry: OplogEntry = {
        userData: null,
        treeNodes: batch.nodes,
        treeUpgrade: { fork: batch.fork, ancestors: batch.ancestors, length: batch.length, signature: batch.signature },
        bitfield: { drop: false, start: batch.ancestors, length: stored.length }
      }
      await this.data.writeBlocks(this.tree.byteLength, stored)
      await this.oplog.append([entry]) // the commit point

      this.treeFile.put(batch.nodes)
      await this.bitfield.setRange(batch.ancestors, stored.length, true)
      this._commit(batch, hash)
      await this._updateContig(false, batch.ancestors, batch.length)
      this._emit({ type: 'append', ancestors: batch.ancestors, length: batch.length, fork: batch.fork, start: batch.ancestors, end: batch.length })
      if (this._shouldFlush()) await this._flush()
      return { length: batch.length, byteLength: batch.byteLength }
    })
  }

  /**
   * Truncates to `newLength` on fork `fork` (§3.5): one entry with the new (shorter) tree and
   * a bitfield drop, then always a flush (as hypercore@10 does: the tree file is cut there).
   */
  truncate (newLength: number, fork: number, opts: { keyPair?: KeyPair | null, check?: () => void } = {}): Promise<void> {
    return this.mutex.run(async () => {
      this._checkOpen()
      opts.check?.()
      const keyPair = opts.keyPair ?? this.keyPair
      if (keyPair === null || keyPair.secretKey == null) throw HypercoreError.SESSION_NOT_WRITABLE()
      if (!Number.isSafeInteger(newLength) || newLength < 0 || newLength > this.tree.length) {
        throw HypercoreError.BAD_ARGUMENT(`cannot truncate to ${String(newLength)}: the core has ${this.tree.length} blocks`)
      }
      const oldLength = this.tree.length
      const batch = await this.tree.truncate(newLength, fork)
      const hash = batch.hash()
      batch.signature = newLength > 0 ? this.verifier.sign(hash, batch.length, batch.fork, keyPair) : null

      const entry: OplogEntry = {
        userData: null,
        treeNodes: batch.nodes,
        treeUpgrade: { fork: batch.fork, ancestors: batch.ancestors, length: batch.length, signature: batch.signature },
        bitfield: { drop: true, start: batch.ancestors, length: oldLength - batch.ancestors }
      }
      await this.oplog.append([entry])

      // A fork change at the same length drops nothing (hypercore@10 blanks nothing either).
      if (newLength < oldLength) this.treeFile.truncate(newLength)
      await this.bitfield.setRange(batch.ancestors, oldLength - batch.ancestors, false)
      addReorgHint(this.header.hints.reorgs, this.tree.length, this.tree.fork, batch.fork, batch.ancestors)
      this._commit(batch, hash)
      await this._updateContig(true, batch.ancestors, oldLength)
      this._emit({ type: 'truncate', ancestors: batch.ancestors, length: batch.length, fork: batch.fork, start: batch.ancestors, end: oldLength })
      await this._flush()
    })
  }

  /**
   * Clears blocks `[start, end)` (§6.4): one bitfield-drop entry, then the bytes are freed.
   * The freed byte range grows over neighbouring blocks that are already gone, as
   * hypercore@10 does, so repeated clears punch one hole instead of slivers.
   */
  clear (start: number, end: number, opts: { check?: () => void } = {}): Promise<void> {
    return this.mutex.run(async () => {
      this._checkOpen()
      opts.check?.()
      // hypercore@10 ignores a clear that starts at or past the end (no entry), but keeps an
      // end past it (the bits are dropped up to `end`).
      if (start >= this.tree.length || end <= start) return
      const entry: OplogEntry = { userData: null, treeNodes: null, treeUpgrade: null, bitfield: { drop: true, start, length: end - start } }
      await this.oplog.append([entry])
      await this.bitfield.setRange(start, end - start, false)
      await this._updateContig(true, start, end)

      let from = start
      while (from > 0 && !(await this.bitfield.get(from - 1))) from--
      let to = await this.bitfield.firstSet(end)
      if (to === -1 || to > this.tree.length) to = this.tree.length
      // hypercore@10 stops here when no stored bytes are affected, without counting the
      // mutation towards the flush schedule (the entry replays the bits on open anyway).
      if (from >= to || from >= this.tree.length) return
      const offset = await this.tree.byteOffset(from)
      const endOffset = await this.tree.byteOffset(to)
      await this.data.clear(offset, endOffset - offset)
      this._emit({ type: 'clear', ancestors: this.tree.length, length: this.tree.length, fork: this.tree.fork, start, end })
      if (this._shouldFlush()) await this._flush()
    })
  }

  /** Stores a peer's proof, verified under the lock against the tree as it is then (replication, §3.3.5; verified.ts). */
  insertVerified (verify: (tree: MerkleTree) => Promise<VerifiedProof>): Promise<boolean> {
    return this._mutation(undefined, async () => insertVerified(this, await verify(this.tree)))
  }

  /** Flushes everything the oplog holds into the other files (§6.1). */
  flush (): Promise<void> {
    return this.mutex.run(async () => {
      this._checkOpen()
      await this._flush()
    })
  }

  /** Closes the files (once). Pending mutations finish first. */
  close (): Promise<void> {
    return this._close(false)
  }

  /** Closes, deleting every file of the core before its store closes. */
  purge (): Promise<void> {
    return this._close(true)
  }

  private _close (unlink: boolean): Promise<void> {
    if (this._closing === null) {
      this._closing = this.mutex.run(async () => {
        this.closed = true
        await closeAll(this, unlink)
      })
    }
    return this._closing
  }

  // --- internals -------------------------------------------------------------------------

  private _checkOpen (): void {
    if (this.closed) throw HypercoreError.SESSION_CLOSED()
  }

  private _commit (batch: TreeBatch, hash: Uint8Array): void {
    batch.commit()
    this.header.tree.fork = batch.fork
    this.header.tree.length = batch.length
    this.header.tree.rootHash = hash
    this.header.tree.signature = batch.signature
  }

  /** hypercore@10's schedule: see MAX_OPLOG_BYTES / FLUSH_EVERY, plus once for a new manifest. */
  private _shouldFlush (): boolean {
    if (--this._autoFlush <= 0 || this.oplog.byteLength >= MAX_OPLOG_BYTES) {
      this._autoFlush = FLUSH_EVERY
      return true
    }
    if (!this._manifestFlushed && this.header.manifest !== null) {
      this._manifestFlushed = true
      return true
    }
    return false
  }

  private async _flush (): Promise<void> {
    await this.bitfield.flush()
    await this.treeFile.flush()
    await this.oplog.flush(this.header)
  }

  /** Keeps the header's contiguousLength hint (blocks 0..n-1 all present) current. */
  private async _updateContig (drop: boolean, start: number, end: number): Promise<void> {
    await updateContig(this.header, this.bitfield, drop, start, end)
  }

  private _emit (u: CoreUpdate): void {
    for (const fn of [...this._listeners]) fn(u)
  }
}

/** Updates `header.hints.contiguousLength` after bits `[start, end)` were set or dropped. */
export async function updateContig (header: OplogHeader, bitfield: BitfieldFile, drop: boolean, start: number, end: number): Promise<void> {
  let c = header.hints.contiguousLength
  if (drop) {
    if (start < c) c = start
  } else if (start <= c && c <= end) {
    c = await bitfield.firstUnset(end)
  }
  header.hints.contiguousLength = c
}

/**
 * Records a fork change (§3.5): at most four hints, and hints whose common prefix is longer
 * than the new one are dropped (they describe history that no longer exists).
 */
export function addReorgHint (list: ReorgHint[], oldLength: number, oldFork: number, newFork: number, ancestors: number): void {
  if (oldLength === 0 || oldFork === newFork) return
  while (list.length >= MAX_REORG_HINTS) list.shift()
  while (list.length > 0 && list[list.length - 1]!.ancestors > ancestors) list.pop()
  list.push({ from: oldFork, to: newFork, ancestors })
}

/** Applies replayed oplog entries on top of the flushed files (open, §6.1). */
export async function replayEntries (entries: OplogEntry[], header: OplogHeader, treeFile: TreeFile, bitfield: BitfieldFile): Promise<void> {
  for (const e of entries) {
    if (e.userData !== null) {
      const i = header.userData.findIndex(u => u.key === e.userData!.key)
      if (i !== -1) header.userData.splice(i, 1)
      if (e.userData.value !== null) header.userData.push(e.userData)
    }
    if (e.treeUpgrade !== null && e.treeUpgrade.ancestors < header.tree.length) treeFile.truncate(e.treeUpgrade.ancestors)
    if (e.treeNodes !== null) treeFile.put(e.treeNodes as TreeNode[])
    if (e.bitfield !== null) {
      await bitfield.setRange(e.bitfield.start, e.bitfield.length, !e.bitfield.drop)
      await updateContig(header, bitfield, e.bitfield.drop, e.bitfield.start, e.bitfield.start + e.bitfield.length)
    }
    if (e.treeUpgrade !== null) {
      const u = e.treeUpgrade
      addReorgHint(header.hints.reorgs, header.tree.length, header.tree.fork, u.fork, u.ancestors)
      header.tree.fork = u.fork
      header.tree.length = u.length
      header.tree.signature = u.signature
    }
  }
  // The roots are read once, at the end: in between, the flushed tree file may already be
  // ahead of an entry (a crash after a truncation cut the file but before the header was
  // written), so the nodes of an intermediate length need not exist any more.
  if (entries.some(e => e.treeUpgrade !== null)) {
    header.tree.rootHash = (await MerkleTree.open(treeFile, { length: header.tree.length })).hash()
  }
}

async function closeAll (core: Core, unlink: boolean): Promise<void> {
  const errors: unknown[] = []
  for (const close of [() => core.oplog.close(), () => core.treeFile.close(), () => core.bitfield.close(), () => core.data.close()]) {
    try { await close() } catch (err) { errors.push(err) }
  }
  if (unlink) {
    for (const f of Object.values(core.files)) {
      try { await promisify(f).unlink() } catch (err) { errors.push(err) }
    }
  }
  // Files of a multi-file store (our IdbStorage: `file.db`) share one connection that the
  // files' own close leaves open; close it too, or the database stays locked (it could not be
  // deleted or upgraded) for as long as the page lives. Duck-typed: storage stays a black box.
  await closeOwners(core.files, errors)
  if (errors.length > 0 && !HypercoreError.is(errors[0], 'STORAGE_CLOSED')) throw errors[0]
}

/** Closes the stores that own the files (see closeAll), collecting errors. */
export async function closeOwners (files: CoreFiles, errors: unknown[] = []): Promise<void> {
  const owners = new Set<{ close: () => Promise<void> }>()
  for (const f of Object.values(files)) {
    const db = (f as { db?: { close?: unknown } }).db
    if (db !== undefined && typeof db.close === 'function') owners.add(db as { close: () => Promise<void> })
  }
  for (const db of owners) {
    try { await db.close() } catch (err) { errors.push(err) }
  }
}
