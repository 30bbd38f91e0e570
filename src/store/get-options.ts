/**
 * @module store/get-options
 * What `store.get(...)` accepts, checked as corestore@6 checks it (each misuse BAD_ARGUMENT,
 * nothing opened), and how the options pick a core (`resolveKeys`, corestore@6's rules):
 * a name derives a key pair from the primary key; a manifest's hash, a key, or a public key
 * (compat: the key itself) names the core; `compat: false` makes a default manifest.
 */
import { HypercoreError } from '../errors.js'
import { discoveryKey } from '../crypto/hash.js'
import { createManifest, manifestHash, type ManifestInput } from '../crypto/manifest.js'
import type { KeyPair } from '../crypto/types.js'
import { checkKey, checkKeyPair, type HypercoreOptions } from '../core/session-options.js'
import type { ValueEncoding } from '../core/value-encoding.js'
import type { Hypercore } from '../core/hypercore.js'

/** `store.get(opts)`: which core, plus the options of the session handed out. */
export interface CorestoreGetOptions {
  /** A core derived from the primary key, this namespace and this name. */
  name?: string
  /** A core by key (32 bytes, 64 hex characters or a z-base-32 id). */
  key?: Uint8Array | string | null
  /** Sign with this key pair (a core by its public key, or the signer of `manifest`). */
  keyPair?: { publicKey: Uint8Array, secretKey?: Uint8Array | null } | null
  publicKey?: Uint8Array | null
  secretKey?: Uint8Array | null
  /** The core signed by this manifest (its key is the manifest's hash). */
  manifest?: ManifestInput | null
  /** false: a new core's key is the hash of a default manifest (corestore@6 default: true). */
  compat?: boolean
  /** Wait until no other exclusive writable session of this core is open. */
  exclusive?: boolean
  /** false: fail (STORAGE_EMPTY) instead of creating a core that is not stored. */
  createIfMissing?: boolean
  /** Called (and awaited) before the core is chosen; what it returns is merged into these options. */
  preload?: (() => CorestoreGetOptions | null | undefined | Promise<CorestoreGetOptions | null | undefined>) | null
  encryptionKey?: Uint8Array | null
  isBlockKey?: boolean
  valueEncoding?: ValueEncoding
  encodeBatch?: ((batch: unknown[]) => unknown[]) | null
  sparse?: boolean
  wait?: boolean
  timeout?: number
  onwait?: ((index: number, session: Hypercore) => void) | null
  writable?: boolean
  active?: boolean
  snapshot?: boolean
  /** Accepted for corestore@6 compatibility: this implementation has no block cache. */
  cache?: unknown
  /** @internal A stored core by discovery key (replication opens cores on demand). */
  _discoveryKey?: Uint8Array
}

/** The core a get names. `key` null: whatever is stored under `discoveryKey`. */
export interface CoreKeys {
  manifest: ManifestInput | null
  keyPair: KeyPair | { publicKey: Uint8Array, secretKey?: Uint8Array | null } | null
  key: Uint8Array | null
  discoveryKey: Uint8Array
}

/** `store.get(key)` or `store.get(opts)`, normalised (a copy: the caller's object is not changed). */
export function validateGetOptions (input: unknown): CorestoreGetOptions {
  if (typeof input === 'string' || input instanceof Uint8Array) return { key: checkKey(input) }
  if (typeof input !== 'object' || input === null) throw HypercoreError.BAD_ARGUMENT('get() takes a key or an options object')
  const opts = { ...(input as CorestoreGetOptions) }
  if (opts.key != null) opts.key = checkKey(opts.key)
  if (opts.keyPair != null) {
    checkKeyPair(opts.keyPair)
    opts.publicKey = opts.keyPair.publicKey
    opts.secretKey = opts.keyPair.secretKey ?? null
  }
  if (opts.name != null && typeof opts.name !== 'string') throw HypercoreError.BAD_ARGUMENT('name option must be a string')
  if (opts.name && opts.secretKey != null) throw HypercoreError.BAD_ARGUMENT('Cannot provide both a name and a secret key')
  if (opts.publicKey != null && !(opts.publicKey instanceof Uint8Array && opts.publicKey.byteLength === 32)) throw HypercoreError.BAD_ARGUMENT('publicKey option must be a 32-byte Uint8Array')
  if (opts.secretKey != null && !(opts.secretKey instanceof Uint8Array && opts.secretKey.byteLength === 64)) throw HypercoreError.BAD_ARGUMENT('secretKey option must be a 64-byte Uint8Array')
  if (opts.preload != null && typeof opts.preload !== 'function') throw HypercoreError.BAD_ARGUMENT('preload must be a function')
  if (opts._discoveryKey == null && !opts.name && opts.publicKey == null && opts.manifest == null && opts.key == null && opts.preload == null) {
    throw HypercoreError.BAD_ARGUMENT('Must provide either a name or a publicKey')
  }
  return opts
}

export interface KeyContext {
  createKeyPair (name: string): Promise<KeyPair>
  /** The store's default for `compat` and the manifest version of non-compat cores. */
  compat: boolean
  manifestVersion: number
  /** True when a core with this discovery key is stored. */
  exists (discoveryKey: Uint8Array): Promise<boolean>
}

/** Which core `opts` names (corestore@6's `_generateKeys`). Needs sodium loaded. */
export async function resolveKeys (opts: CorestoreGetOptions, ctx: KeyContext): Promise<CoreKeys> {
  if (opts._discoveryKey != null) return { manifest: null, keyPair: null, key: null, discoveryKey: opts._discoveryKey }
  const keyPair = opts.name
    ? await ctx.createKeyPair(opts.name)
    : opts.secretKey != null ? { publicKey: opts.publicKey!, secretKey: opts.secretKey } : null

  if (opts.manifest != null) {
    const key = manifestHash(createManifest(opts.manifest))
    return { manifest: opts.manifest, keyPair, key, discoveryKey: discoveryKey(key) }
  }
  if (opts.key != null) {
    const key = opts.key as Uint8Array
    return { manifest: null, keyPair, key, discoveryKey: discoveryKey(key) }
  }
  const publicKey = opts.publicKey ?? keyPair?.publicKey
  if (publicKey == null) throw HypercoreError.BAD_ARGUMENT('Must provide either a name or a publicKey')

  if (opts.compat === false || (opts.compat !== true && !ctx.compat)) {
    let manifest: ManifestInput = { version: ctx.manifestVersion, signers: [{ publicKey }] }
    let key = manifestHash(createManifest(manifest))
    // A store made before manifest v1 was its default keeps finding its v0 cores.
    if (ctx.manifestVersion !== 0 && !(await ctx.exists(discoveryKey(key)))) {
      const v0: ManifestInput = { version: 0, signers: [{ publicKey }] }
      const keyV0 = manifestHash(createManifest(v0))
      if (await ctx.exists(discoveryKey(keyV0))) {
        manifest = v0
        key = keyV0
      }
    }
    return { manifest, keyPair, key, discoveryKey: discoveryKey(key) }
  }
  return { manifest: null, keyPair, key: publicKey, discoveryKey: discoveryKey(publicKey) }
}

/** The options of the session a get hands out: the session's own, none of the store's. */
export function sessionOptions (opts: CorestoreGetOptions): HypercoreOptions {
  const out: HypercoreOptions = {}
  if (opts.encryptionKey != null) out.encryptionKey = opts.encryptionKey
  if (opts.isBlockKey !== undefined) out.isBlockKey = opts.isBlockKey
  if (opts.valueEncoding != null) out.valueEncoding = opts.valueEncoding
  if (opts.encodeBatch != null) out.encodeBatch = opts.encodeBatch
  if (opts.sparse !== undefined) out.sparse = opts.sparse
  if (opts.wait !== undefined) out.wait = opts.wait
  if (opts.timeout !== undefined) out.timeout = opts.timeout
  if (opts.onwait !== undefined) out.onwait = opts.onwait
  if (opts.writable !== undefined) out.writable = opts.writable
  if (opts.active !== undefined) out.active = opts.active
  if (opts.snapshot !== undefined) out.snapshot = opts.snapshot
  return out
}
