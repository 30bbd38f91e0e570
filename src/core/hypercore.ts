/**
 * @module core/hypercore
 * `Hypercore`: the public session object, with hypercore@10's API so that code written for it,
 * and the libraries built on it, run unchanged. Many sessions share one `Core` (the files and
 * state of one storage); a session adds its own value encoding, wait defaults, events and, for
 * snapshots, a frozen view. Closing is reference counted: the files close when the last session
 * does. The network plugs in through `core.replicator` (waits.ts).
 *
 * Bytes handed out (keys, blocks, hashes) are Buffers in Node and Uint8Arrays in the browser
 * (buffers.ts), as hypercore@10's are under b4a.
 */
import { EventEmitter } from 'events'
import { defaultStorage as platformStorage } from '#platform/storage'
import { HypercoreError } from '../errors.js'
import { BlockEncryption } from '../crypto/block-encryption.js'
import { discoveryKey as deriveDiscoveryKey } from '../crypto/hash.js'
import { encodeId } from '../crypto/id.js'
import { createManifest, manifestHash, type Manifest, type ManifestInput } from '../crypto/manifest.js'
import { cryptoReady } from '../crypto/sodium.js'
import type { KeyPair } from '../crypto/types.js'
import { toStorageFactory } from '../storage/factory.js'
import type { StorageFactory, StorageInput } from '../storage/types.js'
import { asBuffer } from './buffers.js'
import type { Core } from './core.js'
import { Download, normalizeRange, type DownloadRange, type InnerRange } from './download.js'
import { findingPeers } from './finding-peers.js'
import { storageInfo, type Info } from './info.js'
import { ReadStream, type ReadStreamOptions } from './read-stream.js'
import { ByteStream, WriteStream, type ByteStreamOptions } from './byte-streams.js'
import { HypercoreBatch, type BatchOptions } from './batch.js'
import { registerExtension, destroyExtensionsOf, type Extension, type ExtensionHandlers } from './extensions.js'
import { SnapshotView } from './snapshot.js'
import { checkJoin, openStorageCore, preloaded, type SessionStart } from './session-open.js'
import { checkIndex, checkKeyPair, parseConstructorArgs, type GetOptions, type HypercoreOptions } from './session-options.js'
import { blockRequester, relayUpdate, waitForBlock } from './session-wiring.js'
import { encodeAppend, resolveEncoding, type ValueCodec } from './value-encoding.js'
import { BlockWaits } from './waits.js'
// The facade is the one place the core reaches up into replication: `replicate()` and
// download ranges are API of the session object (hypercore@10's shape).
import {
  connection, createProtocolStream, getProtocolMuxer, holdWhileReplicating, onDiscoveryKey, replicate, seekFromPeers, Replicator,
  type Peer, type ProtocolStreamOptions
} from '../replication/replicator/index.js'
import { isProtomux } from '../replication/mux/protomux-adapter.js'
import type { RawStream, SecretStream } from '../replication/secret-stream/index.js'
import type { MerkleTree, TreeBatch } from '../tree/merkle-tree.js'

export type { HypercoreOptions, GetOptions } from './session-options.js'

const PROMISES = Symbol.for('hypercore.promises')

/** hypercore@10 refuses bigger blocks (15 MiB): they cannot be sent in one message. */
const MAX_SUGGESTED_BLOCK_SIZE = 15 * 1024 * 1024

export interface AppendWriteOptions {
  /** Sign with this key pair (one of the core's signers) instead of the core's. */
  keyPair?: KeyPair | null
  /** A signature made elsewhere for the new length (a multisig flow): verified, then stored. */
  signature?: Uint8Array | null
}

/** `replicate()`'s options: the connection's (ProtocolStreamOptions) and `session`. */
export interface ReplicateSessionOptions extends ProtocolStreamOptions {
  /** The connection keeps the core open until this core's channel on it closes (hypercore@10). */
  session?: boolean
}

export interface TruncateOptions extends AppendWriteOptions {
  fork?: number
}

export class Hypercore extends EventEmitter {
  static readonly MAX_SUGGESTED_BLOCK_SIZE = MAX_SUGGESTED_BLOCK_SIZE

  /**
   * The key of a core signed by `manifest` (or by the single public key given), as
   * hypercore@10 computes it: the manifest's hash, or with `compat` the signer's public key.
   * Needs sodium loaded (`await cryptoReady()`).
   */
  static key (manifest: ManifestInput | Uint8Array, opts: { compat?: boolean, version?: number, namespace?: Uint8Array } = {}): Uint8Array {
    const m = manifest instanceof Uint8Array ? { version: opts.version, signers: [{ publicKey: manifest, namespace: opts.namespace }] } : manifest
    const created = createManifest(m)
    return asBuffer(opts.compat === true ? created.signers[0]!.publicKey : manifestHash(created))
  }

  /** The discovery key of a core key (needs sodium loaded: `await cryptoReady()`). */
  static discoveryKey (key: Uint8Array): Uint8Array {
    return asBuffer(deriveDiscoveryKey(key))
  }

  /**
   * The replication stream `replicate()` returns, with no core on it yet (hypercore@10's
   * static): for a boolean a new connection, for a stream (or a protomux) the connection it
   * belongs to. Cores join it with `core.replicate(stream)`; the multiplexer is
   * `stream.noiseStream.userData`; `ondiscoverykey(discoveryKey)` hears of channels the remote
   * opens that no core here answers (replicate one on the stream before its promise settles
   * to accept), which is how corestore opens stored cores on demand.
   */
  static createProtocolStream (isInitiator: boolean | object, opts: ProtocolStreamOptions = {}): RawStream | SecretStream {
    return createProtocolStream(isInitiator, opts)
  }

  /** The connection's multiplexer, `stream.noiseStream.userData` (hypercore@10's static). */
  static getProtocolMuxer (stream: object): unknown {
    return getProtocolMuxer(stream)
  }

  /**
   * The storage function a path (a directory in Node, an IndexedDB database in the browser),
   * a random-access class or a function stands for, as hypercore@10's `defaultStorage`.
   */
  static defaultStorage (storage: StorageInput, opts: { unlocked?: boolean } = {}): StorageFactory {
    return toStorageFactory(storage, opts.unlocked === true ? name => platformStorage(name, { unlocked: true }) : platformStorage)
  }

  core: Core | null = null
  key: Uint8Array | null = null
  discoveryKey: Uint8Array | null = null
  id: string | null = null
  encryption: BlockEncryption | null = null
  opened = false
  closed = false
  closing: Promise<void> | null = null
  /** True until the session closes (hypercore@10: a field, set from the start). */
  readable = true
  readonly opening: Promise<void>
  readonly sparse: boolean
  readonly snapshotted: boolean
  autoClose: boolean
  readonly wait: boolean
  readonly timeout: number
  readonly onwait: ((index: number, session: Hypercore) => void) | null
  /** The session's value encoding (null: blocks are bytes). */
  readonly valueEncoding: ValueCodec | null
  readonly encodeBatch: ((batch: unknown[]) => unknown[]) | null
  /** hypercore@10's block cache and global cache: this implementation has none. */
  readonly cache: null = null
  readonly globalCache: null = null
  /** Requests this session made (hypercore@10 shape; ours are tracked by the replicator). */
  readonly activeRequests: unknown[] = []
  /** This session's extensions by name (extensions.ts). */
  readonly extensions = new Map<string, Extension>()
  /** hypercore@10's marker that this is its promise API (older libraries check it). */
  readonly [PROMISES] = true

  private _opts: HypercoreOptions
  private _codec: ValueCodec
  /** @internal Blocks this session's gets wait for (session-wiring.ts). */
  readonly waits = new BlockWaits()
  private _snapshot: SnapshotView | null = null
  private _unlisten: (() => void) | null = null
  private _writable = false
  /** Opened `writable: false` (or unlocked), or a session of such a session: never writes. */
  private readonly _readonly: boolean
  /** @internal The length a `sparse: false` session last announced (session-wiring.ts). */
  reportedLength = 0
  /** The STORAGE_LOST this session was closed with (see `close`). */
  private _closedBy: HypercoreError | null = null
  private _active = true
  /** `sparse: false`: the range that downloads the whole core (hypercore@10 starts it at open). */
  private _fullDownload: Download | null = null
  /**
   * The core, once this session is about to resolve `ready()`: `replicate()` before then
   * attaches here, so an `update()` right after `ready()` already sees the connection.
   */
  private readonly _opened: Promise<Core>
  private _resolveOpened: (core: Core) => void = () => {}

  constructor (storage?: StorageInput | HypercoreOptions | null, key?: Uint8Array | string | HypercoreOptions | null, opts?: HypercoreOptions) {
    super()
    const args = parseConstructorArgs<HypercoreOptions>(storage, key, opts)
    const o = args.opts
    this._opts = o
    this._codec = resolveEncoding(o.valueEncoding)
    this.valueEncoding = o.valueEncoding != null ? this._codec : null
    this.encodeBatch = o.encodeBatch ?? null
    this.sparse = o.sparse !== false
    this.snapshotted = o.snapshot === true
    this.autoClose = o.autoClose === true
    this.wait = o.wait !== false
    this.timeout = o.timeout ?? 0
    this.onwait = o.onwait ?? null
    this._readonly = o.writable === false || o.unlocked === true
    this._active = o.active !== false
    if (args.key !== null) this.key = asBuffer(args.key)
    // A session of an open core has its capabilities at once (hypercore@10 does too).
    const from = o.from ?? null
    if (from !== null && from.opened && from.core !== null) this._attach(from)
    let rejectOpened: (err: unknown) => void = () => {}
    this._opened = new Promise<Core>((resolve, reject) => { this._resolveOpened = resolve; rejectOpened = reject })
    this._opened.catch(() => {})
    this.opening = this._open({ storage: args.storage, key: args.key, opts: o })
    this.opening.catch(rejectOpened)
  }

  // --- properties ------------------------------------------------------------------------

  get writable (): boolean { return this._writable && !this.closed && this.closing === null }
  get keyPair (): KeyPair | null {
    const kp = this.core?.keyPair ?? this._opts.keyPair ?? null
    return kp === null ? null : { publicKey: asBuffer(kp.publicKey), secretKey: kp.secretKey == null ? null : asBuffer(kp.secretKey) } as KeyPair
  }

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

  /** hypercore@10 (10.38): the length a writer signed; the same as `length` there. */
  get signedLength (): number { return this.length }
  get indexedLength (): number { return this.length }

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

  /** Stored bytes of the contiguous prefix (padding excluded). */
  get contiguousByteLength (): number {
    return this.core === null ? 0 : this.core.contiguousByteLength - this.contiguousLength * this.padding
  }

  /** The manifest of the core: who signs it (§2.3). */
  get manifest (): Manifest | null { return this.core?.header.manifest ?? null }

  /** Every open session of the core (this one included). */
  get sessions (): Hypercore[] { return this.core === null ? [] : [...this.core.sessions] as Hypercore[] }

  /** hypercore@10's name for a snapshot session. */
  get isSnapshot (): boolean { return this.snapshotted }

  /** The core's replicator (made on first use; libraries read and tune it). */
  get replicator (): Replicator | null {
    return this.core === null || this.core.closed ? null : Replicator.for(this.core)
  }

  /** The peers this core replicates with now (open channels, capability checked). */
  get peers (): Peer[] {
    const rep = this.core?.replicator
    return rep instanceof Replicator ? rep.peers.slice() : []
  }

  // --- lifecycle -------------------------------------------------------------------------

  ready (): Promise<void> {
    return this.opening
  }

  private async _open (given: SessionStart): Promise<void> {
    await cryptoReady()
    const start = await preloaded(given)
    this._opts = start.opts
    if (this.core === null) {
      const from = start.opts.from ?? null
      if (from !== null) {
        await from.opening
        this._attach(from)
      } else {
        const core = await openStorageCore(start, (c) => {
          checkJoin(c, start.key, start.opts)
          c.sessions.add(this)
        })
        if (!core.sessions.has(this)) core.sessions.add(this)
        this.core = core
      }
    }
    const core = this.core!
    const o = start.opts
    if (o.encryptionKey != null) {
      this.encryption = new BlockEncryption(o.encryptionKey, core.key, { compat: core.verifier.compat, isBlockKey: o.isBlockKey === true })
    }
    if (this.snapshotted) this._snapshot = await SnapshotView.at(core, o.length)
    this._writable = core.writable && !this._readonly && !this.snapshotted
    this.key = asBuffer(core.key)
    this.discoveryKey = asBuffer(deriveDiscoveryKey(core.key))
    this.id = encodeId(core.key)
    this.reportedLength = this.length
    const unlistenUpdates = core.onUpdate(u => relayUpdate(this, u))
    const unlistenReplicator = core.onReplicator(() => this.waits.replicatorAttached())
    this._unlisten = () => { unlistenUpdates(); unlistenReplicator() }
    for (const [name, value] of Object.entries(o.userData ?? {})) await core.setUserData(name, value)
    const range = o.inflightRange ?? null
    if (range !== null) Replicator.for(core).setInflightRange(range[0], range[1])
    // hypercore@10: a non-sparse session downloads the whole core, following it as it grows.
    if (!this.sparse) this._fullDownload = this.download({ start: 0, end: -1 })
    if (o._preready != null) await o._preready(this)
    this._resolveOpened(core)
    this.opened = true
    core.replicator?.updateActivity?.()
    this.emit('ready')
  }

  /** Takes another session's core and capabilities (a session, or `from`). */
  private _attach (from: Hypercore): void {
    const core = from.core
    if (core === null || core.closed || core.closing) throw HypercoreError.SESSION_CLOSED()
    this.core = core
    core.sessions.add(this)
    this.key = from.key
    this.discoveryKey = from.discoveryKey
    this.id = from.id
    if (this._opts.encryptionKey === undefined) this.encryption = from.encryption
  }

  /**
   * Closes this session (idempotent); the storage closes with the last session. `err` is what
   * the session's pending `get`s reject with (default REQUEST_CANCELLED, as hypercore@10; a
   * conflict closes every session with CONFLICT). Emits `close(isLastSession)`.
   */
  close (err?: Error): Promise<void> {
    if (this.closing === null) {
      // A session closed because its storage was lost says so to every later call, not just
      // SESSION_CLOSED: the app must know the data is gone, not that it closed the core itself.
      if (HypercoreError.is(err, 'STORAGE_LOST')) this._closedBy = err
      this.readable = false
      this.closing = this._close(err ?? null)
    }
    return this.closing
  }

  private async _close (err: Error | null): Promise<void> {
    await this.opening.catch(() => {})
    this.waits.abort(err ?? HypercoreError.REQUEST_CANCELLED('The session closed'))
    this._unlisten?.()
    this._fullDownload?.destroy()
    destroyExtensionsOf(this)
    const core = this.core
    let isLast = false
    try {
      if (core !== null) {
        core.sessions.delete(this)
        // A connection replicating with `{ session: true }` keeps the core open (then this
        // is not the last session, as in hypercore@10).
        isLast = core.sessions.size === 0 && core.replicationSessions === 0
        if (isLast) {
          // The last session closes the files; that rejects (typed) only when a flush that
          // failed after its mutation committed fails again (core.ts): it is closed anyway.
          core.replicator?.close?.()
          await core.close()
        } else {
          core.replicator?.updateActivity?.()
          // autoClose sessions go once nothing else holds the core (awaited, as hypercore@10).
          await core.closeIfUnused()
        }
      }
    } finally {
      this.closed = true
      this.opened = false
      this.emit('close', isLast)
    }
  }

  /** Closes every session of the core and deletes its files. */
  async purge (): Promise<void> {
    await this._ready()
    const core = this.core!
    for (const s of [...core.sessions]) if (s !== this) await s.close()
    core.sessions.delete(this)
    await core.purge()
    await this.close()
  }

  /**
   * Another session of the same core. As hypercore@10: it keeps this one's `sparse`, `wait`,
   * `onwait`, `timeout`, encryption and (if this one is read-only) read-only-ness; a value
   * encoding is per session and not inherited.
   */
  session (opts: HypercoreOptions = {}): Hypercore {
    if (this.closing !== null || this.core?.closing === true) throw HypercoreError.SESSION_CLOSED()
    const Cls = opts.class ?? Hypercore
    return new Cls(null, null, {
      ...opts,
      sparse: opts.sparse === false ? false : this.sparse,
      wait: opts.wait === false ? false : this.wait,
      onwait: opts.onwait === undefined ? this.onwait : opts.onwait,
      timeout: opts.timeout === undefined ? this.timeout : opts.timeout,
      writable: opts.writable === false || this._readonly ? false : opts.writable,
      from: this
    })
  }

  /** A frozen view; `{ length }` checks out an earlier length of the current fork. */
  snapshot (opts: HypercoreOptions = {}): Hypercore {
    return this.session({ ...opts, snapshot: true })
  }

  /**
   * Application messages to this core's peers, on its replication channel (extensions.ts):
   * `{ send(message, peer), broadcast(message), destroy() }`, as hypercore@10's.
   */
  registerExtension (name: string, handlers: ExtensionHandlers = {}): Extension {
    return registerExtension(this, name, handlers)
  }

  /** Appends held in memory until `flush()` (batch.ts, hypercore@10's `HypercoreBatch`). */
  batch (opts: BatchOptions = {}): HypercoreBatch {
    if (this.closing !== null) throw HypercoreError.SESSION_CLOSED()
    return new HypercoreBatch(this, opts)
  }

  /** Signs with this key pair from now on (one of the core's signers). */
  setKeyPair (keyPair: KeyPair): void {
    checkKeyPair(keyPair)
    if (this.core === null) throw HypercoreError.INVALID_OPERATION('setKeyPair needs an opened core')
    this.core.keyPair = keyPair
    this._writable = this.core.writable && !this._readonly && !this.snapshotted
  }

  /** Block encryption from now on (hypercore@10's `setEncryptionKey`). */
  async setEncryptionKey (encryptionKey: Uint8Array | null, opts: { isBlockKey?: boolean } = {}): Promise<void> {
    await this._ready()
    if (encryptionKey === null) {
      this.encryption = null
      return
    }
    this.encryption = new BlockEncryption(encryptionKey, this.core!.key, { compat: this.core!.verifier.compat, isBlockKey: opts.isBlockKey === true })
    this._opts = { ...this._opts, encryptionKey, isBlockKey: opts.isBlockKey === true }
  }

  /**
   * Whether this session wants the core (hypercore@10): while some open session is active,
   * `core.replicator.downloading` is true and its `ondownloading` hook runs (corestore then
   * replicates the core on each of its connections).
   */
  setActive (active: boolean): void {
    if (this.closing !== null) return
    this._active = active
    this.core?.replicator?.updateActivity?.()
  }

  get active (): boolean { return this._active }

  // --- reads -----------------------------------------------------------------------------

  async get (index: number, opts: GetOptions = {}): Promise<unknown> {
    await this._ready()
    checkIndex(index, 'index')
    const core = this.core!
    const snapshot = this._snapshot
    for (;;) {
      snapshot?.check(index)
      if (!(await core.has(index))) {
        if (!(await waitForBlock(this, core, this.waits, index, opts, { wait: this.wait, onwait: this.onwait, timeout: this.timeout }))) return null
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
      if (opts.raw === true) return asBuffer(stored)
      const block = this.encryption !== null && opts.decrypt !== false ? this.encryption.decrypt(index, stored) : stored
      const codec = opts.valueEncoding != null ? resolveEncoding(opts.valueEncoding) : this._codec
      return codec.decode(asBuffer(block))
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

  /** Looks for a newer length; false once closed. Snapshots move to the core's current state. */
  async update (opts: { wait?: boolean, force?: boolean } = {}): Promise<boolean> {
    if (!this.opened) await this.opening
    if (this.closing !== null || this.closed) return false
    const core = this.core!
    // hypercore@10: the writer has the newest length by definition; `force` asks peers anyway.
    const askPeers = !(this.writable && opts.force !== true) &&
      // No connection yet: with peer discovery running (findingPeers), wait for what it finds.
      (core.replicator !== null || core.findingPeers > 0)
    const upgraded = askPeers && await (core.replicator ?? Replicator.for(core)).update({ wait: opts.wait === true })
    // A snapshot then moves to the core's state (what hyperbee's reads rely on: they update
    // their snapshot session before a lookup).
    if (this._snapshot === null) return upgraded
    if (this.closing !== null || this.closed) return false
    const before = this._snapshot
    this._snapshot = await SnapshotView.at(core)
    return this._snapshot.length !== before.length || this._snapshot.fork !== before.fork
  }

  /**
   * `[blockIndex, offsetInBlock]` of user byte `bytes` (padding excluded). Past the end it
   * waits for the core to grow (hypercore@10), or answers null with `wait: false`.
   */
  async seek (bytes: number, opts: { wait?: boolean, timeout?: number } = {}): Promise<[number, number] | null> {
    await this._ready()
    checkIndex(bytes, 'byteOffset')
    const wait = opts.wait ?? this.wait
    const timeout = opts.timeout ?? this.timeout
    while (bytes > this.byteLength) {
      if (!wait) return null
      await this._grown(timeout)
    }
    const tree = this._snapshot?.tree ?? this.core!.tree
    const found = await tree.seekStored(bytes, this.padding)
    if (typeof found !== 'number') return [found[0], found[1]]
    // A sparse reader lacks tree nodes on the way: as hypercore@10, ask the peers for them.
    if (!wait) return null
    return this._seekFromPeers(tree, bytes, timeout)
  }

  /** `seek` with the nodes fetched from peers; rejects on close (REQUEST_CANCELLED) or after `timeout` ms. */
  private async _seekFromPeers (tree: MerkleTree, bytes: number, timeout: number): Promise<[number, number]> {
    const controller = new AbortController()
    const onclose = (): void => controller.abort(HypercoreError.REQUEST_CANCELLED('The session closed'))
    const timer = timeout > 0 ? setTimeout(() => controller.abort(HypercoreError.REQUEST_TIMEOUT()), timeout) : null
    this.once('close', onclose)
    try {
      const [index, offset] = await seekFromPeers(Replicator.for(this.core!), tree, bytes, this.padding, controller.signal)
      return [index, offset]
    } finally {
      this.off('close', onclose)
      if (timer !== null) clearTimeout(timer)
    }
  }

  async treeHash (length?: number): Promise<Uint8Array> {
    await this._ready()
    if (length !== undefined) checkIndex(length, 'length')
    const core = this.core!
    for (;;) {
      if (length !== undefined && length > this.length) throw HypercoreError.BAD_ARGUMENT(`length ${length} is past the end (${this.length})`)
      if (this._snapshot !== null) return asBuffer(await this._snapshot.treeHash(length))
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
      if (core.tree.fork === fork) return asBuffer(hash)
    }
  }

  createReadStream (opts: ReadStreamOptions = {}): ReadStream {
    return new ReadStream(this, opts)
  }

  /** The core as a run of bytes (byte-streams.ts): `{ byteOffset, byteLength, prefetch }`. */
  createByteStream (opts: ByteStreamOptions = {}): ByteStream {
    return new ByteStream(this, opts)
  }

  /** A writable stream whose writes are appended (each write batch in one append). */
  createWriteStream (): WriteStream {
    return new WriteStream(this)
  }

  async info (opts: { storage?: boolean } = {}): Promise<Info> {
    await this._ready()
    const core = this.core!
    return {
      key: asBuffer(core.key),
      discoveryKey: this.discoveryKey!,
      length: this.length,
      contiguousLength: this.contiguousLength,
      byteLength: this.byteLength,
      fork: this.fork,
      padding: this.padding,
      storage: opts.storage === true ? await storageInfo(core.files) : null
    }
  }

  /** The header's user data value of `key` (a Buffer in Node), or null. */
  async getUserData (key: string): Promise<Uint8Array | null> {
    if (!this.opened) await this.opening
    return asBuffer(this.core!.getUserData(key))
  }

  /**
   * Fetches a range from peers (`{ start, end }` or `{ start, length }`, end -1 = follow,
   * `{ blocks }`, `linear`): the replicator's range once the core is open (with 'progress'
   * events, src/replication/replicator/ranges.ts).
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

  /** A tree batch over the core's current tree (hypercore@10: `core.tree.batch()`): `append`, `hash`, … */
  createTreeBatch (): TreeBatch {
    if (this.core === null) throw HypercoreError.INVALID_OPERATION('createTreeBatch needs an opened core')
    const tree = this.core.tree.batch()
    // Handed to users: its hash is a Buffer in Node, as hypercore@10's.
    const hashOf = tree.hash.bind(tree)
    tree.hash = () => asBuffer(hashOf())
    return tree
  }

  /** hypercore@10's `cancel(request)`: a no-op there too. */
  cancel (_request?: unknown): void {}

  /** hypercore@10's deprecated `undownload(range)`: destroys the range. */
  undownload (range: Download): void {
    range.destroy()
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
   * Replicates over a new connection (`isInitiator`: returns the outer stream to pipe to the
   * peer's, §5.1) or an existing one, in any form hypercore@10 takes: a stream `replicate()`
   * or `Hypercore.createProtocolStream` returned (either implementation's), a Noise secret
   * stream (a hyperswarm connection), or a protomux (then the protomux is returned). Many
   * cores share a connection, one channel each. `{ session: true }`: the connection keeps the
   * core open until its channel closes, even when every session closed (corestore's way).
   */
  replicate<M extends { readonly isProtomux: true }> (mux: M, opts?: ReplicateSessionOptions): M
  replicate (isInitiator: boolean | object, opts?: ReplicateSessionOptions): RawStream | SecretStream
  replicate (isInitiator: boolean | object, opts: ReplicateSessionOptions = {}): object {
    if (this.closing !== null || this.closed) throw HypercoreError.SESSION_CLOSED()
    const conn = connection(isInitiator, opts)
    if (opts.ondiscoverykey != null) onDiscoveryKey(conn, opts.ondiscoverykey)
    const core = this.opened ? this.core! : this._opened
    replicate(core, conn.outer, opts)
    if (opts.session === true) {
      if (this.opened) holdWhileReplicating(this.core!, conn.mux)
      else this._opened.then(c => { if (!c.closing) holdWhileReplicating(c, conn.mux) }, () => {})
    }
    return isProtomux(isInitiator) ? isInitiator : conn.outer
  }

  // --- writes ----------------------------------------------------------------------------

  /**
   * Appends one block or several (values pass through the value encoding; bytes are stored
   * as they are, as hypercore@10 does). Resolves `{ length, byteLength }` once durable.
   */
  async append (blocks: unknown, opts: AppendWriteOptions = {}): Promise<{ length: number, byteLength: number }> {
    await this._ready()
    const keyPair = opts.keyPair ?? null
    if (keyPair !== null) checkKeyPair(keyPair)
    if (!this._canWrite(keyPair, opts.signature ?? null)) throw HypercoreError.SESSION_NOT_WRITABLE()
    const values = Array.isArray(blocks) ? blocks : [blocks]
    const buffers = encodeAppend(values, this._codec, this.encodeBatch)
    for (const b of buffers) {
      if (b.byteLength > MAX_SUGGESTED_BLOCK_SIZE) throw HypercoreError.BAD_ARGUMENT(`appended block exceeds the maximum suggested block size (${MAX_SUGGESTED_BLOCK_SIZE} bytes)`)
    }
    const enc = this.encryption
    const preappend = enc === null ? null : (bs: Uint8Array[], start: number, fork: number) => bs.map((b, i) => enc.encrypt(start + i, b, fork))
    // hypercore@10 returns the stored byte length here (padding included, unlike the
    // `byteLength` property); we keep that so code moving between the two sees the same numbers.
    return this.core!.append(buffers, { preappend, keyPair, signature: opts.signature ?? null, check: () => this._checkOpen() })
  }

  /** Truncates to `newLength` (fork: the next one, or `fork` / `{ fork, keyPair, signature }`). */
  async truncate (newLength = 0, opts: number | TruncateOptions = {}): Promise<void> {
    await this._ready()
    const o: TruncateOptions = typeof opts === 'number' ? { fork: opts } : (opts ?? {})
    const core = this.core!
    if (!Number.isSafeInteger(newLength) || newLength < 0) throw HypercoreError.BAD_ARGUMENT(`length must be a non-negative integer, got ${String(newLength)}`)
    if (o.fork !== undefined) checkIndex(o.fork, 'fork')
    const keyPair = o.keyPair ?? null
    if (keyPair !== null) checkKeyPair(keyPair)
    if (!this._canWrite(keyPair, o.signature ?? null)) throw HypercoreError.SESSION_NOT_WRITABLE()
    await core.truncate(newLength, o.fork ?? core.fork + 1, { keyPair, signature: o.signature ?? null, check: () => this._checkOpen() })
  }

  /**
   * Drops blocks `[start, end)` from local storage (end defaults to start + 1; the options
   * may come second). With `{ diff: true }` it resolves `{ blocks, bytes }`: the bytes of
   * storage freed (`blocks` is hypercore@10's name for them), else null.
   */
  async clear (start: number, end?: number | { diff?: boolean }, opts?: { diff?: boolean }): Promise<{ blocks: number, bytes: number } | null> {
    if (typeof end === 'object' && end !== null) {
      opts = end
      end = undefined
    }
    await this._ready()
    const last = end ?? start + 1
    checkIndex(start, 'start')
    checkIndex(last, 'end')
    const diff = opts?.diff === true
    const freed = start >= last ? 0 : await this.core!.clear(start, last, { check: () => this._checkOpen() })
    return diff ? { blocks: freed, bytes: freed } : null
  }

  /**
   * Sets a user data entry of the core's header (bytes, or null to delete it), persisted
   * exactly where hypercore@10 keeps it; `flush` writes the header at once.
   */
  async setUserData (key: string, value: Uint8Array | string | null, opts: { flush?: boolean } = {}): Promise<void> {
    await this._ready()
    if (typeof key !== 'string') throw HypercoreError.BAD_ARGUMENT('user data key must be a string')
    const bytes = typeof value === 'string' ? new TextEncoder().encode(value) : value
    if (bytes !== null && !(bytes instanceof Uint8Array)) throw HypercoreError.BAD_ARGUMENT('user data value must be bytes, a string or null')
    await this.core!.setUserData(key, bytes, { flush: opts.flush === true, check: () => this._checkOpen() })
  }

  // --- internals -------------------------------------------------------------------------

  /** hypercore@10: a session writes with its core's key pair, or one (or a signature) given for the call. */
  private _canWrite (keyPair: KeyPair | null, signature: Uint8Array | null): boolean {
    if (this._readonly || this.snapshotted || this.core?.readOnly === true) return false
    return this._writable || signature !== null || (keyPair !== null && keyPair.secretKey != null)
  }

  /** Resolves when the core grows (or rejects when the session closes, or after `timeout` ms). */
  private _grown (timeout: number): Promise<void> {
    return new Promise((resolve, reject) => {
      let timer: ReturnType<typeof setTimeout> | null = null
      const done = (err: Error | null): void => {
        this.off('append', onappend)
        this.off('close', onclose)
        if (timer !== null) clearTimeout(timer)
        if (err === null) resolve()
        else reject(err)
      }
      const onappend = (): void => done(null)
      const onclose = (): void => done(HypercoreError.REQUEST_CANCELLED('The session closed'))
      this.on('append', onappend)
      this.on('close', onclose)
      if (timeout > 0) timer = setTimeout(() => done(HypercoreError.REQUEST_TIMEOUT()), timeout)
    })
  }

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
