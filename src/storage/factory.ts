/**
 * @module storage/factory
 * Normalises what a user passes as a core's storage into one `name => RandomAccessStorage`
 * function (spec §6: a v10 core is five named random-access files). Accepted:
 * - a `name => storage` function (the README's "pass a function" form);
 * - a random-access class such as npm's `RAM` (hypercore@10 accepts it too and calls it with
 *   `new`: a class cannot be called without `new`, so we must tell the two apart);
 * - one of our multi-file storages (`IdbStorage`, `MemoryDirectory`): anything with `file(name)`;
 * - a string, only when the caller passes the platform default (`defaultStorage` from
 *   `default.node.ts` / `default.browser.ts`), which keeps this file platform-free.
 */
import { HypercoreError } from '../errors.js'
import type { FileProvider, IdentifiedStorage, RandomAccessClass, RandomAccessStorage, StorageFactory, StorageInput } from './types.js'

export function toStorageFactory (input: StorageInput, defaultStorage?: (name: string) => StorageFactory): StorageFactory {
  if (typeof input === 'string') {
    if (defaultStorage === undefined) throw HypercoreError.BAD_ARGUMENT('a storage path needs the platform default storage')
    return toStorageFactory(defaultStorage(input))
  }
  if (typeof input === 'function') {
    if (isRandomAccessClass(input)) {
      const Cls = input
      return name => checked(new Cls(name), name)
    }
    const fn = input as StorageFactory
    return name => checked(fn(name), name)
  }
  if (isFileProvider(input)) return name => checked(input.file(name), name)
  throw HypercoreError.BAD_ARGUMENT('storage must be a path, a function from file name to storage, a random-access class, or a multi-file storage')
}

/**
 * A class (ES `class` syntax, or an old-style constructor whose prototype has `open`, which is
 * how random-access-storage subclasses look) must be constructed; a plain function or arrow
 * function is called.
 */
export function isRandomAccessClass (fn: unknown): fn is RandomAccessClass {
  if (typeof fn !== 'function') return false
  const proto = (fn as { prototype?: { open?: unknown } }).prototype
  if (proto !== undefined && typeof proto.open === 'function') return true
  return /^class[\s{]/.test(Function.prototype.toString.call(fn))
}

export function isFileProvider (x: unknown): x is FileProvider {
  return typeof x === 'object' && x !== null && typeof (x as { file?: unknown }).file === 'function'
}

export function isRandomAccessStorage (x: unknown): x is RandomAccessStorage {
  if (typeof x !== 'object' || x === null) return false
  const s = x as Record<string, unknown>
  return typeof s.read === 'function' && typeof s.write === 'function' && typeof s.open === 'function' && typeof s.close === 'function'
}

function checked (s: unknown, name: string): RandomAccessStorage {
  if (!isRandomAccessStorage(s)) throw HypercoreError.BAD_ARGUMENT(`storage for "${name}" is not a random-access storage`)
  return s
}

/**
 * What identifies the place `input` stores a core, for sharing one core between opens of the
 * same place (core/registry.ts): its `storageId`, the platform's id for a path, or the object
 * itself. null for a random-access class: every `new Cls(name)` is a separate store.
 */
export function storageIdentity (input: StorageInput, defaultStorageId?: (name: string) => string): unknown {
  if (typeof input === 'string') return defaultStorageId === undefined ? null : defaultStorageId(input)
  if (typeof input === 'function' && isRandomAccessClass(input)) return null
  const id = (input as IdentifiedStorage).storageId
  return typeof id === 'string' ? id : input
}
