/**
 * @module store/corestore
 * `Corestore`: corestore@6's API over our `Hypercore`. A store holds many cores in one place
 * (a directory in Node, one IndexedDB database in a browser, memory, or a function from file
 * name to storage), with corestore@6's layout, so a store directory opens in either:
 * - named cores get key pairs derived from the store's primary key (keys.ts);
 * - there is one core per key, and every `get` is a session of it (the store keeps one
 *   `autoClose` session per open core; the core closes when the last user session does);
 * - `namespace(name)` and `session()` are views sharing the store's cores, streams and lock;
 * - `replicate()` is one connection for every core (replicate.ts).
 *
 * Lifecycle as corestore@6's ReadyResource: `ready()` and `close()` are idempotent; closing the
 * root store closes every core it opened and every connection it made (not the caller's).
 */
import { EventEmitter } from 'events'
import b4a from 'b4a'
import { HypercoreError } from '../errors.js'
import { cryptoReady } from '../crypto/sodium.js'
import type { KeyPair } from '../crypto/types.js'
import { Hypercore } from '../core/hypercore.js'
import type { HypercoreOptions } from '../core/session-options.js'
import type { ReplicateOptions } from '../replication/replicator/index.js'
import type { RawStream, SecretStream } from '../replication/secret-stream/index.js'
import { promisify } from '../storage/promises.js'
import type { MultiCoreStorage } from '../storage/types.js'
import { resolveKeys, sessionOptions, validateGetOptions, type CoreKeys, type CorestoreGetOptions, type KeyContext } from './get-options.js'
import { DEFAULT_NAMESPACE, checkNamespace, checkPrimaryKey, childNamespace, deriveKeyPair } from './keys.js'
import { PRIMARY_KEY_FILE, USERDATA_NAME_KEY, USERDATA_NAMESPACE_KEY, coreId, coreRoot } from './layout.js'
import { loadPrimaryKey } from './primary-key.js'
import { attachToStreams, replicateStore, type ReplicatingStore } from './replicate.js'
import type { CorestoreOptions } from './options.js'
import { StoreState, type ExclusiveLock } from './state.js'
import { coreExists, coreStorage, toStoreStorage, type StoreStorageInput } from './storage.js'

/** How a session or namespace is tied to the store it came from (not public API). */
interface SessionLink {
  root: Corestore
  state: StoreState
  attached: Corestore | null
  bootstrap: Hypercore | null
}

const utf8 = new TextDecoder()

export type { CorestoreOptions }

export class Corestore extends EventEmitter {
  readonly storage: MultiCoreStorage
  /** The open cores by discovery key (hex), shared by every session of the store. */
  readonly cores: Map<string, Hypercore>
  primaryKey: Uint8Array | null
  readonly passive: boolean
  readonly compat: boolean
  readonly manifestVersion: number
  readonly cache: boolean
  readonly inflightRange: [number, number] | null
  readonly globalCache: unknown
  readonly opening: Promise<void>
  opened = false
  closed = false
  closing: Promise<void> | null = null
  readonly _isCorestore = true

  private readonly _state: StoreState
  private readonly _root: Corestore
  private _namespace: Uint8Array
  private readonly _readonly: boolean
  private readonly _overwrite: boolean
  private readonly _attached: Corestore | null
  private readonly _bootstrap: Hypercore | null
  /** Sessions this store (namespace) handed out and has not seen close. */
  private readonly _sessions = new Set<Hypercore>()
  /** Root only: stores made by `session()`/`namespace()` on the root (they hear its core events). */
  private readonly _rootSessions = new Set<Corestore>()
  private _findingPeersCount = 0
  private _findingPeers: Array<() => void> = []

  constructor (storage: StoreStorageInput | null, opts: CorestoreOptions = {}, link?: SessionLink) {
    super()
    if (typeof opts !== 'object' || opts === null) throw HypercoreError.BAD_ARGUMENT('options must be an object')
    const root = link?.root ?? null
    if (opts.primaryKey != null) checkPrimaryKey(opts.primaryKey)
    if (opts.namespace != null) checkNamespace(opts.namespace)
    if (opts.manifestVersion !== undefined && opts.manifestVersion !== 0 && opts.manifestVersion !== 1) throw HypercoreError.BAD_ARGUMENT('manifestVersion must be 0 or 1')
    if (link === undefined && storage == null) throw HypercoreError.BAD_ARGUMENT('a store needs a storage: a path, a function from file name to storage, a random-access class or a multi-file storage')
    this._state = link?.state ?? new StoreState(toStoreStorage(storage!, { poolSize: opts.poolSize }))
    this._root = root ?? this
    this.storage = this._state.storage
    this.cores = this._state.cores
    this.primaryKey = opts.primaryKey != null ? b4a.from(opts.primaryKey) : null
    this.passive = opts.passive === true
    this.compat = typeof opts.compat === 'boolean' ? opts.compat : (root?.compat ?? true)
    this.manifestVersion = opts.manifestVersion ?? root?.manifestVersion ?? 0
    this.cache = opts.cache === true
    this.inflightRange = opts.inflightRange ?? null
    this.globalCache = opts.globalCache ?? null
    this._namespace = opts.namespace ?? DEFAULT_NAMESPACE
    this._readonly = opts.writable === false
    this._overwrite = opts.overwrite === true
    this._attached = link?.attached ?? null
    this._bootstrap = link?.bootstrap ?? null
    this.opening = this._open()
    this.opening.catch(() => {})
  }

  static isCorestore (obj: unknown): obj is Corestore {
    return typeof obj === 'object' && obj !== null && (obj as { _isCorestore?: unknown })._isCorestore === true
  }

  /** `storage` itself when it is a store, else a new store on it. */
  static from (storage: Corestore | StoreStorageInput, opts?: CorestoreOptions): Corestore {
    return Corestore.isCorestore(storage) ? storage : new Corestore(storage, opts)
  }

  ready (): Promise<void> {
    return this.opening
  }

  private async _open (): Promise<void> {
    try {
      await cryptoReady()
      if (this._root !== this) {
        await this._root.ready()
        if (this.primaryKey === null) this.primaryKey = this._root.primaryKey
      } else {
        const keyFile = this._state.storage.file(PRIMARY_KEY_FILE)
        this._state.keyFile = keyFile
        this.primaryKey = await loadPrimaryKey(keyFile, this.primaryKey, this._overwrite)
      }
      if (this._bootstrap !== null) {
        const ns = await this._bootstrap.getUserData(USERDATA_NAMESPACE_KEY)
        if (ns !== null) this._namespace = ns
      }
    } catch (err) {
      void this.close().catch(() => {})
      throw err
    }
    this.opened = true
    this.emit('ready')
  }

  // --- cores -----------------------------------------------------------------------------

  /**
   * A session of a core: `get(key)`, `get({ name })` (derived from the primary key),
   * `get({ key | publicKey | keyPair | manifest, ... })`, with the session options of
   * `Hypercore` (valueEncoding, encryptionKey, sparse, wait, timeout, onwait, writable…).
   */
  get (opts: CorestoreGetOptions | Uint8Array | string): Hypercore {
    this._checkOpen()
    return this._get(validateGetOptions(opts))
  }

  private _checkOpen (): void {
    if (this.closing !== null || this._root.closing !== null) throw HypercoreError.SESSION_CLOSED('The corestore is closed')
  }

  private _get (given: CorestoreGetOptions): Hypercore {
    let opts = this._readonly && given.writable !== false ? { ...given, writable: false } : given
    let lock: ExclusiveLock | null = null
    let gone = false
    const session = new Hypercore(null, null, {
      ...sessionOptions(opts),
      preload: async () => {
        if (opts.preload != null) {
          const more = await opts.preload()
          if (more != null) opts = validateGetOptions({ ...opts, ...more, preload: null })
        }
        if (!this.opened) await this.opening
        this._checkOpen()
        const keys = await resolveKeys(opts, this._keyContext())
        const id = coreId(keys.discoveryKey)
        if (opts.exclusive === true && opts.writable !== false) {
          const l = this._state.lock(id)
          await l.acquire()
          if (gone) l.release()
          else lock = l
        }
        return this._preload(id, keys, opts)
      }
    })
    this._sessions.add(session)
    if (this._findingPeersCount > 0) this._findingPeers.push(session.findingPeers())
    const gc = (): void => {
      if (gone) return
      gone = true
      this._sessions.delete(session)
      const l = lock as ExclusiveLock | null
      lock = null
      l?.release()
    }
    session.ready().catch(gc)
    session.once('close', gc)
    return session
  }

  /** The store's session of core `id` (made and opened here if none is open), for a get to join. */
  private async _preload (id: string, keys: CoreKeys, opts: CorestoreGetOptions): Promise<HypercoreOptions> {
    const { manifest, keyPair, key } = keys
    const { cores } = this._state
    for (let existing = cores.get(id); existing !== undefined; existing = cores.get(id)) {
      if (existing.opened && existing.closing === null) return { from: existing, keyPair, manifest }
      if (existing.closing !== null) await existing.close().catch(() => {})
      else await existing.ready().catch(() => {})
      if (cores.get(id) === existing && (existing.closed || existing.closing !== null || !existing.opened)) cores.delete(id)
    }
    this._checkOpen()
    const hasKeyPair = keyPair?.secretKey != null
    const userData: Record<string, Uint8Array> = {}
    if (opts.name) {
      userData[USERDATA_NAME_KEY] = b4a.from(opts.name, 'utf-8')
      userData[USERDATA_NAMESPACE_KEY] = this._namespace
    }
    // From here to `cores.set` nothing awaits: a concurrent get for `id` must find this core.
    const core = new Hypercore(coreStorage(this._state.storage, coreRoot(id)), {
      key,
      manifest,
      keyPair: hasKeyPair ? keyPair : null,
      compat: opts.compat,
      encryptionKey: opts.encryptionKey ?? null,
      isBlockKey: opts.isBlockKey === true,
      userData,
      createIfMissing: opts.createIfMissing === false ? false : opts._discoveryKey == null,
      autoClose: true,
      active: false,
      _preready: (s) => this._preready(s)
    })
    cores.set(id, core)
    this._state.missing.delete(id)
    let announced = false
    core.ready().then(() => {
      if (core.closing !== null) return
      if (hasKeyPair) core.setKeyPair(keyPair as KeyPair)
      announced = true
      this._emitCore('core-open', core)
      // As corestore@6: a core some session wants (an active one) joins every connection
      // of the store, now or when it becomes wanted; others only answer peers that ask.
      const rep = core.replicator
      if (this.passive || rep === null) return
      rep.ondownloading = () => attachToStreams(this._state, core)
      rep.updateActivity()
      if (rep.downloading) attachToStreams(this._state, core)
    }, () => {
      this._state.missing.add(id)
      if (cores.get(id) === core) cores.delete(id)
    })
    core.once('close', () => {
      if (cores.get(id) === core) cores.delete(id)
      if (announced) this._emitCore('core-close', core)
    })
    core.on('conflict', (length: number, fork: number, proof: unknown) => this.emit('conflict', core, length, fork, proof))
    return { from: core, keyPair, manifest }
  }

  /** A core made from a name finds its key pair again from the name in its header. */
  private async _preready (session: Hypercore): Promise<void> {
    const core = session.core!
    const name = core.getUserData(USERDATA_NAME_KEY)
    if (name === null) return
    const ns = core.getUserData(USERDATA_NAMESPACE_KEY)
    const kp = await this.createKeyPair(utf8.decode(name), ns ?? this._namespace)
    session.setKeyPair(kp)
  }

  private _keyContext (): KeyContext {
    return {
      createKeyPair: name => this.createKeyPair(name),
      compat: this.compat,
      manifestVersion: this.manifestVersion,
      exists: dk => coreExists(this._state.storage, coreRoot(coreId(dk)))
    }
  }

  /** `core-open` and `core-close` (and `core`, an alias of `core-open`) as corestore@6 emits them. */
  private _emitCore (name: 'core-open' | 'core-close', core: Hypercore): void {
    const emit = (store: Corestore): void => {
      store.emit(name, core)
      if (name === 'core-open') store.emit('core', core)
    }
    emit(this)
    for (const s of this._root._rootSessions) if (s !== this) emit(s)
    if (this !== this._root) emit(this._root)
  }

  /** The key pair `name` derives to in `namespace` (this store's by default). */
  async createKeyPair (name: string, namespace: Uint8Array = this._namespace): Promise<KeyPair> {
    if (typeof name !== 'string') throw HypercoreError.BAD_ARGUMENT('name must be a string')
    checkNamespace(namespace)
    if (!this.opened) await this.opening
    return deriveKeyPair(this.primaryKey!, namespace, name)
  }

  /**
   * Tells every core of this store that peer discovery is running (see `Hypercore.findingPeers`),
   * including cores got while it runs; call the function returned when it is done.
   */
  findingPeers (): () => void {
    let done = false
    if (++this._findingPeersCount === 1) {
      for (const core of this._sessions) this._findingPeers.push(core.findingPeers())
    }
    return () => {
      if (done) return
      done = true
      if (--this._findingPeersCount !== 0) return
      for (const fn of this._findingPeers.splice(0)) fn()
    }
  }

  // --- replication -----------------------------------------------------------------------

  /** One replication connection for every core of the store (replicate.ts). */
  replicate (isInitiator: boolean | object, opts: ReplicateOptions = {}): RawStream | SecretStream {
    this._checkOpen()
    const self = this
    const host: ReplicatingStore = {
      state: this._state,
      passive: this.passive,
      isClosing: () => self.closing !== null || self._root.closing !== null,
      openStored: dk => self._get({ _discoveryKey: dk, active: false })
    }
    return replicateStore(host, isInitiator, opts)
  }

  // --- views -----------------------------------------------------------------------------

  /** A store whose names are derived in the namespace `name` makes inside this one's. */
  namespace (name: string | Uint8Array | Hypercore, opts: CorestoreOptions = {}): Corestore {
    if (name instanceof Hypercore) return this._session(opts, name)
    return this._session({ ...opts, namespace: childNamespace(this._namespace, name) }, null)
  }

  /** Another view of this store's cores (own namespace, primary key, writability). */
  session (opts: CorestoreOptions = {}): Corestore {
    return this._session(opts, null)
  }

  private _session (opts: CorestoreOptions, bootstrap: Hypercore | null): Corestore {
    this._checkOpen()
    const session = new Corestore(null, {
      namespace: this._namespace,
      cache: this.cache,
      writable: !this._readonly,
      inflightRange: this.inflightRange,
      globalCache: this.globalCache,
      ...opts,
      // corestore@6: a null namespace resets to the default one.
      ...(opts.namespace === null ? { namespace: DEFAULT_NAMESPACE } : {})
    }, {
      root: this._root,
      state: this._state,
      attached: opts.detach === false ? this : null,
      bootstrap
    })
    if (this === this._root) this._rootSessions.add(session)
    return session
  }

  // --- closing ---------------------------------------------------------------------------

  /**
   * Closes this store: every session it handed out; for the root store also every core of the
   * store, every connection it made, and its storage (and lock). Idempotent.
   */
  close (): Promise<void> {
    if (this.closing === null) this.closing = this._close()
    return this.closing
  }

  private async _close (): Promise<void> {
    await this.opening.catch(() => {})
    this._root._rootSessions.delete(this)
    await Promise.allSettled([...this._sessions].map(s => s.close()))
    if (this === this._root) await this._closeStore()
    else if (this._attached !== null) await this._attached.close()
    this.closed = true
    this.emit('close')
  }

  private async _closeStore (): Promise<void> {
    const state = this._state
    state.closing = true
    for (const { stream, external } of state.streams) if (!external) stream.destroy()
    await Promise.allSettled([...state.cores.values()].map(forceClose))
    if (state.keyFile !== null) await promisify(state.keyFile).close().catch(() => {})
    await state.storage.close()
  }
}

async function forceClose (core: Hypercore): Promise<void> {
  await core.ready().catch(() => {})
  await Promise.allSettled(core.sessions.map(s => s.close()))
  await core.close()
}
