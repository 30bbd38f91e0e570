/**
 * @module core/session-options
 * The options of `new Hypercore(storage, [key], [opts])` and of `get`, and the argument checks
 * every public method shares: each misuse throws BAD_ARGUMENT and changes nothing.
 */
import { HypercoreError } from '../errors.js'
import { normalizeKey } from '../crypto/id.js'
import type { ManifestInput } from '../crypto/manifest.js'
import { isFileProvider, isRandomAccessStorage } from '../storage/factory.js'
import type { StorageInput } from '../storage/types.js'
import type { Hypercore } from './hypercore.js'
import type { ValueEncoding } from './value-encoding.js'

export interface HypercoreOptions {
  /** The core key (hypercore@10: `new Hypercore(storage, { key })` as well as the second argument). */
  key?: Uint8Array | string | null
  /** The storage, as the first argument may give it (`new Hypercore({ storage })`). */
  storage?: StorageInput | null
  /**
   * Called (and awaited) before opening; what it returns is merged into these options: a
   * storage, a key pair, `from` (a session of another core)… (what corestore passes).
   */
  preload?: (() => HypercoreOptions | null | undefined | Promise<HypercoreOptions | null | undefined>) | null
  /** Open as a session of this core (its storage, key and state). */
  from?: Hypercore | null
  /** false: a core whose key is the manifest's hash (`compat` cores' key is the writer's public key). */
  compat?: boolean
  /** Who signs the core (§2.3); its hash is the key unless `compat`. */
  manifest?: ManifestInput | null
  /** A stored core of another key is replaced by a new one (with `key`), as `overwrite` does. */
  force?: boolean
  /** User data to set once open (`{ name: Buffer }`), as `setUserData` would. */
  userData?: Record<string, Uint8Array> | null
  /** Awaited with the session just before it is ready (corestore reads and sets state there). */
  _preready?: ((session: Hypercore) => unknown) | null
  /** Close this session once the others of its core have closed. */
  autoClose?: boolean
  /** Accepted for hypercore@10 compatibility; this implementation has no block cache to share. */
  cache?: unknown
  globalCache?: unknown
  /** `[min, max]` requests in flight per peer (the replicator's `setInflightRange`). */
  inflightRange?: [number, number] | null
  /** false: this session does not make the core wanted (`replicator.downloading`, `setActive`). */
  active?: boolean
  /** Accepted for hypercore@10 compatibility; `downloading` turns false at once here. */
  notDownloadingLinger?: number
  /** The class a session is made of (`session({ class: MySession })`). */
  class?: new (storage: null, key: null, opts: HypercoreOptions) => Hypercore
  createIfMissing?: boolean
  overwrite?: boolean
  /** Count missing blocks in `length` (default true); false makes `length` the contiguous length. */
  sparse?: boolean
  valueEncoding?: ValueEncoding
  encodeBatch?: ((batch: unknown[]) => unknown[]) | null
  keyPair?: { publicKey: Uint8Array, secretKey?: Uint8Array | null } | null
  encryptionKey?: Uint8Array | null
  /** The encryption key is already the block key (§4). */
  isBlockKey?: boolean
  onwait?: ((index: number, session: Hypercore) => void) | null
  /** Default `get` timeout in ms (0 = none). */
  timeout?: number
  /** Default `get` wait (true). */
  wait?: boolean
  /** false: a read-only session even when the core has its secret key. */
  writable?: boolean
  /**
   * Open without taking the storage's writer lock, read-only (hypercore@10's `unlocked`):
   * for looking at a core another tab or process has open. Nothing is written; the view is
   * what was stored when it opened. In a page that already has the core open, a read-only
   * session of that core.
   */
  unlocked?: boolean
  /** A frozen view (see `snapshot()`). */
  snapshot?: boolean
  /** With `snapshot`: check out this earlier length of the current fork. */
  length?: number
}

export interface GetOptions {
  wait?: boolean
  onwait?: ((index: number, session: Hypercore) => void) | null
  timeout?: number
  valueEncoding?: ValueEncoding
  decrypt?: boolean
  /** The block as stored: neither decrypted nor decoded (hypercore@10's `raw`). */
  raw?: boolean
  /** Cancels a waiting get (REQUEST_CANCELLED). */
  signal?: AbortSignal | null
}

/** True for an options object (not bytes, not a storage), as hypercore@10's argument shifting tells them apart. */
function isOptions (x: unknown): boolean {
  return typeof x === 'object' && x !== null && !(x instanceof Uint8Array) && !isFileProvider(x) && !isRandomAccessStorage(x)
}

/**
 * The constructor's arguments, normalised as hypercore@10 does: `(storage, key, opts)`,
 * `(storage, opts)`, `(opts)`, with `opts.key` and `opts.storage` standing in for the
 * positional ones.
 */
export function parseConstructorArgs<O extends HypercoreOptions> (storage: unknown, key: unknown, opts: unknown): { storage: StorageInput | null, key: Uint8Array | null, opts: O } {
  if (isOptions(storage)) {
    opts = storage
    storage = null
    key = null
  } else if (isOptions(key)) {
    opts = key
    key = null
  }
  const o = { ...((opts ?? {}) as O) }
  if (key == null && o.key != null) key = o.key
  if (storage == null && o.storage != null) storage = o.storage
  const parsed = parseSessionArgs<O>(key as Uint8Array | string | null, o)
  return { storage: (storage ?? null) as StorageInput | null, ...parsed }
}

/** The options and key of one session (the key checked and decoded from hex or z-base-32). */
export function parseSessionArgs<O extends HypercoreOptions> (key: Uint8Array | string | null | undefined, opts: O): { key: Uint8Array | null, opts: O } {
  const o = { ...opts }
  const keyBytes = key == null ? null : checkKey(key)
  if (o.keyPair != null) checkKeyPair(o.keyPair)
  if (o.encryptionKey != null && !(o.encryptionKey instanceof Uint8Array && o.encryptionKey.byteLength === 32)) {
    throw HypercoreError.BAD_ARGUMENT('encryptionKey must be a 32-byte Uint8Array')
  }
  if (o.timeout !== undefined && (!Number.isFinite(o.timeout) || o.timeout < 0)) throw HypercoreError.BAD_ARGUMENT('timeout must be a non-negative number')
  if (o.preload != null && typeof o.preload !== 'function') throw HypercoreError.BAD_ARGUMENT('preload must be a function')
  if (o.userData != null && typeof o.userData !== 'object') throw HypercoreError.BAD_ARGUMENT('userData must be an object of name → bytes')
  return { key: keyBytes, opts: o }
}

export function requireStorage (storage: StorageInput | null): StorageInput {
  if (storage === null || storage === undefined) throw HypercoreError.BAD_ARGUMENT('storage is required')
  return storage
}

export function checkKey (key: unknown): Uint8Array {
  if (typeof key === 'string') return normalizeKey(key)
  if (!(key instanceof Uint8Array) || key.byteLength !== 32) throw HypercoreError.BAD_ARGUMENT('key must be a 32-byte Uint8Array, a z-base-32 id or 64 hex characters')
  return key
}

export function checkKeyPair (kp: unknown): void {
  const k = kp as { publicKey?: unknown, secretKey?: unknown }
  if (typeof kp !== 'object' || !(k.publicKey instanceof Uint8Array) || k.publicKey.byteLength !== 32) {
    throw HypercoreError.BAD_ARGUMENT('keyPair.publicKey must be a 32-byte Uint8Array')
  }
  if (k.secretKey != null && !(k.secretKey instanceof Uint8Array && k.secretKey.byteLength === 64)) {
    throw HypercoreError.BAD_ARGUMENT('keyPair.secretKey must be a 64-byte Uint8Array')
  }
}

export function checkIndex (n: unknown, name: string): asserts n is number {
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) throw HypercoreError.BAD_ARGUMENT(`${name} must be a non-negative integer, got ${String(n)}`)
}
