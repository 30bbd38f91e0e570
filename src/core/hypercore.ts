/**
 * @module core/hypercore
 * `Hypercore`: the public session object of Hypercore 10's API. Many sessions share one `Core`
 * (the files and state of one storage); a session adds its own value encoding, wait
 * defaults, events and, for snapshots, a frozen view. Closing is reference counted: the files
 * close when the last session does. The network plugs in through `core.replicator` (waits.ts).
 */
import { EventEmitter } from 'events'
import { defaultStorage, defaultStorageId } from '#platform/storage'
import { HypercoreError } from '../errors.js'
import { BlockEncryption } from '../crypto/block-encryption.js'
import { discoveryKey as deriveDiscoveryKey } from '../crypto/hash.js'
import { encodeId } from '../crypto/id.js'
import { equalBytes } from '../crypto/bytes.js'
import { cryptoReady } from '../crypto/sodium.js'
import type { KeyPair } from '../crypto/types.js'
import { storageIdentity, toStorageFactory } from '../storage/factory.js'
import type { StorageInput } from '../storage/types.js'
import type { Core } from './core.js'
import { Download, normalizeRange, type DownloadRange, type InnerRange } from './download.js'
import { findingPeers } from './finding-peers.js'
import { storageInfo, type Info } from './info.js'
import { openCore } from './open.js'
import { openShared } from './registry.js'
import { ReadStream, type ReadStreamOptions } from './read-stream.js'
import { SnapshotView } from './snapshot.js'
import { checkIndex, parseSessionArgs, requireStorage, type GetOptions, type HypercoreOptions } from './session-options.js'
import { blockRequester, relayUpdate, waitForBlock } from './session-wiring.js'
import { encodeAppend, resolveEncoding, type ValueCodec } from './value-encoding.js'
import { BlockWaits } from './waits.js'
// The facade is the one place the core reaches up into replication: `replicate()` and
// download ranges are API of the session object (hypercore@10's shape).
import { replicate, Replicator, type Peer, type RangeHandle, type ReplicateOptions } from '../replication/replicator/index.js'
import type { RawStream, SecretStream } from '../replication/secret-stream/index.js'

export type { HypercoreOptions, GetOptions } from './session-options.js'

interface SessionInit extends HypercoreOptions {
  _parent?: Hypercore
}

export class Hypercore extends EventEmitter {
  core: Core | null = null
  key: Uint8Array | null = null
  discoveryKey: Uint8Array | null = null
  id: string | null = null
  encryption: BlockEncryption | null = null
  opened = false
  closed = false
  closing: Promise<void> | null = null
  readonly opening: Promise<void>
  readonly sparse: boolean
  readonly isSnapshot: boolean

  private readonly _opts: SessionInit
  private _codec: ValueCodec
  private readonly _encodeBatch: ((batch: unknown[]) => unknown[]) | null
  /** @internal Blocks this session's gets wait for (session-wiring.ts). */
  readonly waits = new BlockWaits()
  private _snapshot: SnapshotView | null = null
  private _unlisten: (() => void) | null = null
  private _writable: boolean
  /** @internal The length a `sparse: false` session last announced (session-wiring.ts). */
  reportedLength = 0
  /** The STORAGE_LOST this session was closed with (see `close`). */
  private _closedBy: HypercoreError | null = null

  constructor (storage: StorageInput | null, key?: Uint8Array | string | HypercoreOptions | null, opts?: HypercoreOptions) {
    super()
    const { key: keyBytes, opts: o } = parseSessionArgs<SessionInit>(key, opts)
    this._opts = o
    this._codec = resolveEncoding(o.valueEncoding)
    this._encodeBatch = o.encodeBatch ?? null
    this.sparse = o.sparse !== false
    this.isSnapshot = o.snapshot === true
    this._writable = false
    const parent = o._parent
    let place: { factory: ReturnType<typeof toStorageFactory>, id: unknown } | null = null
    if (parent === undefined) {
      const input = requireStorage(storage)
      const unlocked = o.unlocked === true
      place = {
        factory: toStorageFactory(input, unlocked ? name => defaultStorage(name, { unlocked }) : defaultStorage),
        id: storageIdentity(input, defaultStorageId)
      }
    }
    this.opening = this._open(place, keyBytes, parent)
    this.opening.catch(() => {})
  }

  // --- properties ------------------------------------------------------------------------

  get readable (): boolean { return this.opened && !this.closed && this.closing === null }
  get writable (): boolean { return this._writable && !this.closed && this.closing === null }
  get keyPair (): KeyPair | null { return this.core?.keyPair ?? null }
  get encryptionKey (): Uint8Array | null { return this._opts.encryptionKey ?? null }
  get padding (): number { return this.encryption === null ? 0 : this.encryption.padding }
  get fork (): number { return this._snapshot?.fork ?? this.core?.fork ?? 0 }
  get contiguousLength (): number { return Math.min(this.core?.contiguousLength ?? 0, this.length) }
  /** `sparse: false`: the contiguous length (blocks 0..n-1 all stored), as hypercore@10. */
  get length (): number {
    if (this._snapshot !== null) return this._snapshot.length
    if (this.core === null) return 0
    return this.sparse ? this.core.length : Math.min(this.core.contiguousLength, this.core.length)
  }

  /**
   * User bytes: the stored bytes minus the encryption padding of each block; for
   * `sparse: false` those of the contiguous blocks (hypercore@10.38 returns 0 there, a stub).
   */
  get byteLength (): number {
    if (this.core === null) return 0
    if (this._snapshot !== null) return this._snapshot.byteLength - this._snapshot.length * this.padding
    if (!this.sparse) return this.core.contiguousByteLength - this.length * this.padding
    return this.core.byteLength - this.core.length * this.padding
  }

  get sessions (): number { return this.core?.sessions.size ?? 0 }

  // --- lifecycle -------------------------------------------------------------------------

  ready (): Promise<void> {
    return this.opening
  }

  private async _open (place: { factory: ReturnType<typeof toStorageFactory>, id: unknown } | null, key: Uint8Array | null, parent: Hypercore | undefined): Promise<void> {
    await cryptoReady()
    let core: Core
    if (parent !== undefined) {
      await parent.opening
      if (parent.core === null || parent.core.closed || parent.core.closing) throw HypercoreError.SESSION_CLOSED()
      core = parent.core
      core.sessions.add(this)
      if (this._opts.encryptionKey === undefined && parent.encryption !== null) this.encryption = parent.encryption
      if (this._opts.valueEncoding === undefined) this._codec = parent._codec
    } else {
      const { factory, id } = place!
      const unlocked = this._opts.unlocked === true
      const open = (): Promise<Core> => openCore(factory, {
        key,
        keyPair: this._opts.keyPair ?? null,
        createIfMissing: this._opts.createIfMissing !== false,
        overwrite: this._opts.overwrite === true,
        readOnly: unlocked
      })
      // A place already open in this realm is joined (registry.ts); a read-only (unlocked)
      // core is never the one others join, as it cannot write.
      core = await openShared(id, open, c => this._join(c, key), !unlocked)
      if (!core.sessions.has(this)) core.sessions.add(this)
    }
    this.core = core
    if (this._opts.encryptionKey != null) {
      this.encryption = new BlockEncryption(this._opts.encryptionKey, core.key, { compat: core.verifier.compat, isBlockKey: this._opts.isBlockKey === true })
    }
    if (this.isSnapshot) this._snapshot = await SnapshotView.at(core, this._opts.length)
    this._writable = core.writable && this._opts.writable !== false && this._opts.unlocked !== true && !this.isSnapshot
    this.key = core.key
    this.discoveryKey = deriveDiscoveryKey(core.key)
    this.id = encodeId(core.key)
    this.reportedLength = this.length
    const unlistenUpdates = core.onUpdate(u => relayUpdate(this, u))
    const unlistenReplicator = core.onReplicator(() => this.waits.replicatorAttached())
    this._unlisten = () => { unlistenUpdates(); unlistenReplicator() }
    this.opened = true
    this.emit('ready')
  }

  /**
   * Closes this session (idempotent); the storage closes with the last session. `err` is what
   * the session's pending `get`s reject with (default SESSION_CLOSED; a conflict closes every
   * session with CONFLICT).
   */
  close (err?: Error): Promise<void> {
    if (this.closing === null) {
      // A session closed because its storage was lost says so to every later call, not just
      // SESSION_CLOSED: the app must know the data is gone, not that it closed the core itself.
      if (HypercoreError.is(err, 'STORAGE_LOST')) this._closedBy = err
      this.closing = this._close(err ?? null)
    }
    return this.closing
  }

  private async _close (err: Error | null): Promise<void> {
    await this.opening.catch(() => {})
    this.waits.abort(err ?? HypercoreError.SESSION_CLOSED())
    this._unlisten?.()
    const core = this.core
    try {
      if (core !== null) {
        core.sessions.delete(this)
        // The last session closes the files; that rejects (typed) only when a flush that
        // failed after its mutation committed fails again (core.ts): the session is closed anyway.
        if (core.sessions.size === 0) {
          core.replicator?.close?.()
          await core.close()
        }
      }
    } finally {
      this.closed = true
      this.emit('close')
    }
  }

  /**
   * Joins a core this realm already has open on the same storage (registry.ts), with the
   * checks an open of that storage would make; called synchronously with the registry's
   * answer, so the core cannot start closing in between.
   */
  private _join (core: Core, key: Uint8Array | null): void {
    const o = this._opts
    if (o.overwrite === true) throw HypercoreError.STORAGE_LOCKED('this core is open in this page (or process): close it before overwriting')
    if (key !== null && !equalBytes(key, core.key)) throw HypercoreError.STORAGE_CONFLICT('Another Hypercore is stored here')
    const kp = o.keyPair ?? null
    if (kp !== null) {
      const signers = core.header.manifest !== null ? core.header.manifest.signers.map(s => s.publicKey) : [core.key]
      if (!signers.some(pk => equalBytes(pk, kp.publicKey))) throw HypercoreError.STORAGE_CONFLICT('The key pair does not sign the core stored here')
      if (core.keyPair?.secretKey == null && kp.secretKey != null) core.keyPair = { publicKey: kp.publicKey, secretKey: kp.secretKey }
    }
    core.sessions.add(this)
  }

  /** Closes every session of the core and deletes its files. */
  async purge (): Promise<void> {
    await this._ready()
    const core = this.core!
    for (const s of [...core.sessions]) if (s !== this) await (s as Hypercore).close()
    core.sessions.delete(this)
    await core.purge()
    await this.close()
  }

  session (opts: HypercoreOptions = {}): Hypercore {
    return new Hypercore(null, null, {
      valueEncoding: this._opts.valueEncoding,
      encryptionKey: this._opts.encryptionKey,
      isBlockKey: this._opts.isBlockKey,
      timeout: this._opts.timeout,
      wait: this._opts.wait,
      onwait: this._opts.onwait,
      sparse: this.sparse,
      ...opts,
      _parent: this
    } as SessionInit)
  }

  /** A frozen view; `{ length }` checks out an earlier length of the current fork. */
  snapshot (opts: HypercoreOptions = {}): Hypercore {
    return this.session({ ...opts, snapshot: true })
  }

  // --- reads -----------------------------------------------------------------------------

  async get (index: number, opts: GetOptions = {}): Promise<unknown> {
    await this._ready()
    checkIndex(index, 'index')
    const core = this.core!
    const snapshot = this._snapshot
    for (;;) {
      snapshot?.check(index)
      if (!(await core.has(index))) {
        if (!(await waitForBlock(this, core, this.waits, index, opts, this._opts))) return null
        continue
      }
      const fork = core.fork
      let stored: Uint8Array
      try {
        stored = await core.readBlock(index, snapshot?.tree)
      } catch (err) {
        // A truncation (or a clear) that applied during the read took the block: start over,
        // waiting for it (or answering null) as if it had never been there.
        if ((snapshot === null && core.fork !== fork) || !(await core.has(index))) continue
        snapshot?.check(index)
        throw err
      }
      if (snapshot === null && core.fork !== fork) continue
      // A clear that applied during the read freed those bytes: they are not the block.
      if (!(await core.has(index))) continue
      snapshot?.check(index)
      const block = this.encryption !== null && opts.decrypt !== false ? this.encryption.decrypt(index, stored) : stored
      const codec = opts.valueEncoding !== undefined ? resolveEncoding(opts.valueEncoding) : this._codec
      return codec.decode(block)
    }
  }

  /** True if every block in `[start, end)` is stored locally (end defaults to start + 1). */
  async has (start: number, end = start + 1): Promise<boolean> {
    await this._ready()
    checkIndex(start, 'start')
    checkIndex(end, 'end')
    if (end > this.length) return false
    return this.core!.hasRange(start, end)
  }

  /** Looks for a newer length. Snapshots move to the core's current state. */
  async update (opts: { wait?: boolean, force?: boolean } = {}): Promise<boolean> {
    await this._ready()
    const core = this.core!
    if (this._snapshot !== null) {
      const before = this._snapshot
      this._snapshot = await SnapshotView.at(core)
      return this._snapshot.length !== before.length || this._snapshot.fork !== before.fork
    }
    // hypercore@10: the writer has the newest length by definition; `force` asks peers anyway.
    if (this.writable && opts.force !== true) return false
    // No connection yet: with peer discovery running (findingPeers), wait for what it finds.
    if (core.replicator === null && core.findingPeers === 0) return false
    const rep = core.replicator ?? Replicator.for(core)
    return rep.update({ wait: opts.wait === true })
  }

  /** `[blockIndex, offsetInBlock]` of user byte `bytes` (padding excluded). */
  async seek (bytes: number, _opts: { wait?: boolean, timeout?: number } = {}): Promise<[number, number]> {
    await this._ready()
    checkIndex(bytes, 'byteOffset')
    if (bytes > this.byteLength) throw HypercoreError.BAD_ARGUMENT(`byte offset ${bytes} is past the end (${this.byteLength})`)
    return (this._snapshot?.tree ?? this.core!.tree).seek(bytes, this.padding)
  }

  async treeHash (length?: number): Promise<Uint8Array> {
    await this._ready()
    if (length !== undefined) checkIndex(length, 'length')
    const core = this.core!
    for (;;) {
      if (length !== undefined && length > this.length) throw HypercoreError.BAD_ARGUMENT(`length ${length} is past the end (${this.length})`)
      if (this._snapshot !== null) return this._snapshot.treeHash(length)
      // The nodes of an earlier length are read: a truncation applying meanwhile may cut them
      // (or a new fork reuse their places), so the hash counts only if the fork held still.
      const fork = core.tree.fork
      let hash: Uint8Array
      try {
        hash = await core.tree.treeHash(length)
      } catch (err) {
        if (core.tree.fork !== fork) continue
        throw err
      }
      if (core.tree.fork === fork) return hash
    }
  }

  createReadStream (opts: ReadStreamOptions = {}): ReadStream {
    return new ReadStream(this, opts)
  }

  async info (opts: { storage?: boolean } = {}): Promise<Info> {
    await this._ready()
    const core = this.core!
    return {
      key: core.key,
      discoveryKey: this.discoveryKey!,
      length: this.length,
      contiguousLength: this.contiguousLength,
      byteLength: this.byteLength,
      fork: this.fork,
      padding: this.padding,
      storage: opts.storage === true ? await storageInfo(core.files) : null
    }
  }

  /**
   * Fetches a range from peers (`{ start, end }` or `{ start, length }`, end -1 = follow,
   * `{ blocks }`, `linear`): the replicator's range once the core is open (with 'progress'
   * events, src/replication/replicator/ranges.ts), a local wait before.
   */
  download (range: DownloadRange = {}): Download {
    const spec = normalizeRange(range)
    const inner = this.opened && this.core !== null && !this.core.closed
      ? Promise.resolve<InnerRange>(Replicator.for(this.core).download(spec))
      : this.opening.then((): InnerRange => {
        const core = this.core!
        if (core.closed) throw HypercoreError.SESSION_CLOSED()
        return Replicator.for(core).download(spec)
      })
    return new Download(spec, inner)
  }

  /** The peers this core replicates with now (open channels, capability checked). */
  get peers (): Peer[] {
    const rep = this.core?.replicator
    return rep instanceof Replicator ? rep.peers.slice() : []
  }

  findingPeers (): () => void {
    if (this.core === null) {
      let done: (() => void) | null = null
      let cancelled = false
      this.opening.then(() => { if (!cancelled) done = findingPeers(this.core!) }, () => {})
      return () => { cancelled = true; done?.() }
    }
    return findingPeers(this.core)
  }

  /**
   * Replicates over a new connection (`isInitiator`) or one another core's `replicate`
   * returned (§5.1): returns the outer (raw) stream to pipe to the peer's.
   */
  replicate (isInitiator: boolean | object, opts: ReplicateOptions = {}): RawStream | SecretStream {
    if (this.closing !== null || this.closed) throw HypercoreError.SESSION_CLOSED()
    const core = this.core ?? this.opening.then(() => this.core!)
    return replicate(core, isInitiator, opts)
  }

  // --- writes ----------------------------------------------------------------------------

  async append (blocks: unknown): Promise<{ length: number, byteLength: number }> {
    await this._ready()
    if (!this._writable) throw HypercoreError.SESSION_NOT_WRITABLE()
    const values = Array.isArray(blocks) ? blocks : [blocks]
    const buffers = encodeAppend(values, this._codec, this._encodeBatch)
    const enc = this.encryption
    const preappend = enc === null ? null : (bs: Uint8Array[], start: number, fork: number) => bs.map((b, i) => enc.encrypt(start + i, b, fork))
    // hypercore@10 returns the stored byte length here (padding included, unlike the
    // `byteLength` property); we keep that so code moving between the two sees the same numbers.
    return this.core!.append(buffers, { preappend, check: () => this._checkOpen() })
  }

  async truncate (newLength = 0, fork?: number): Promise<void> {
    await this._ready()
    if (!this._writable) throw HypercoreError.SESSION_NOT_WRITABLE()
    const core = this.core!
    if (!Number.isSafeInteger(newLength) || newLength < 0) throw HypercoreError.BAD_ARGUMENT(`length must be a non-negative integer, got ${String(newLength)}`)
    if (fork !== undefined) checkIndex(fork, 'fork')
    await core.truncate(newLength, fork ?? core.fork + 1, { check: () => this._checkOpen() })
  }

  /** Drops blocks `[start, end)` from local storage (end defaults to start + 1). */
  async clear (start: number, end = start + 1): Promise<void> {
    await this._ready()
    checkIndex(start, 'start')
    checkIndex(end, 'end')
    if (start >= end) return
    await this.core!.clear(start, end, { check: () => this._checkOpen() })
  }

  // --- internals -------------------------------------------------------------------------

  private async _ready (): Promise<void> {
    if (!this.opened) await this.opening
    this._checkOpen()
  }

  private _checkOpen (): void {
    if (this._closedBy !== null) throw this._closedBy
    if (this.closed || this.closing !== null) throw HypercoreError.SESSION_CLOSED()
  }

  /** @internal The frozen view of a snapshot session (null for a live session). */
  get snapshotView (): SnapshotView | null { return this._snapshot }
}
