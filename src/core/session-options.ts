/**
 * @module core/session-options
 * The options of `new Hypercore(storage, [key], [opts])` and of `get`, and the argument checks
 * every public method shares: each misuse throws BAD_ARGUMENT and changes nothing.
 */
import { HypercoreError } from '../errors.js'
import { normalizeKey } from '../crypto/id.js'
import type { StorageInput } from '../storage/types.js'
import type { Hypercore } from './hypercore.js'
import type { ValueEncoding } from './value-encoding.js'

export interface HypercoreOptions {
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
  /** Cancels a waiting get (REQUEST_CANCELLED). */
  signal?: AbortSignal | null
}

/** The constructor's arguments, normalised: `(storage, opts)` and `(storage, key, opts)` both work. */
export function parseSessionArgs<O extends HypercoreOptions> (key: Uint8Array | string | O | null | undefined, opts: O | undefined): { key: Uint8Array | null, opts: O } {
  if (key !== null && key !== undefined && typeof key === 'object' && !(key instanceof Uint8Array)) {
    opts = key
    key = null
  }
  const o = { ...(opts ?? {}) } as O
  const keyBytes = key == null ? null : checkKey(key)
  if (o.keyPair != null) checkKeyPair(o.keyPair)
  if (o.encryptionKey != null && !(o.encryptionKey instanceof Uint8Array && o.encryptionKey.byteLength === 32)) {
    throw HypercoreError.BAD_ARGUMENT('encryptionKey must be a 32-byte Uint8Array')
  }
  if (o.timeout !== undefined && (!Number.isFinite(o.timeout) || o.timeout < 0)) throw HypercoreError.BAD_ARGUMENT('timeout must be a non-negative number')
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
