/**
 * @module storage/promises
 * A promise wrapper over ANY random-access storage (ours, or npm's random-access-memory /
 * random-access-file), for our own code. It also normalises errors: whatever the
 * implementation reports becomes a HypercoreError with a stable code, so callers branch on
 * `err.code` (STORAGE_OUT_OF_BOUNDS for short reads, STORAGE_CLOSED after close, …).
 */
import { HypercoreError } from '../errors.js'
import type { RandomAccessStorage, StorageStat } from './types.js'

export class StoragePromises {
  readonly storage: RandomAccessStorage

  constructor (storage: RandomAccessStorage) {
    this.storage = storage
  }

  open (): Promise<void> {
    return new Promise((resolve, reject) => this.storage.open(done(resolve, reject)))
  }

  read (offset: number, size: number): Promise<Uint8Array> {
    if (!this.storage.readable) return notSupported('read')
    return new Promise((resolve, reject) => this.storage.read(offset, size, (err, data) => {
      if (err) reject(normaliseStorageError(err))
      else if (!(data instanceof Uint8Array)) reject(HypercoreError.STORAGE_IO('read returned no bytes'))
      else resolve(data)
    }))
  }

  write (offset: number, data: Uint8Array): Promise<void> {
    if (!this.storage.writable) return notSupported('write')
    return new Promise((resolve, reject) => this.storage.write(offset, data, done(resolve, reject)))
  }

  del (offset: number, size: number): Promise<void> {
    if (!this.storage.deletable) return notSupported('del')
    return new Promise((resolve, reject) => this.storage.del(offset, size, done(resolve, reject)))
  }

  truncate (offset: number): Promise<void> {
    if (!this.storage.truncatable) return notSupported('truncate')
    return new Promise((resolve, reject) => this.storage.truncate(offset, done(resolve, reject)))
  }

  stat (): Promise<StorageStat> {
    if (!this.storage.statable) return notSupported('stat')
    return new Promise((resolve, reject) => this.storage.stat((err, st) => {
      if (err) reject(normaliseStorageError(err))
      else if (st == null || typeof st.size !== 'number') reject(HypercoreError.STORAGE_IO('stat returned no size'))
      else resolve({ size: st.size })
    }))
  }

  close (): Promise<void> {
    return new Promise((resolve, reject) => this.storage.close(done(resolve, reject)))
  }

  unlink (): Promise<void> {
    return new Promise((resolve, reject) => this.storage.unlink(done(resolve, reject)))
  }
}

/** Shorthand: `await promisify(file).read(0, 10)`. */
export function promisify (storage: RandomAccessStorage): StoragePromises {
  return new StoragePromises(storage)
}

/**
 * Maps an error from any random-access implementation to a HypercoreError. npm's
 * implementations report short reads as "Could not satisfy length" (code EPARTIALREAD in
 * random-access-file) and operations after close as "Closed"; those are matched so code
 * above the storage layer never depends on an implementation's wording.
 */
export function normaliseStorageError (err: unknown): HypercoreError {
  if (err instanceof HypercoreError) return err
  const e = err as { message?: unknown, code?: unknown } | null
  const message = typeof e?.message === 'string' ? e.message : String(err)
  const code = typeof e?.code === 'string' ? e.code : ''
  if (code === 'EPARTIALREAD' || /could not satisfy length/i.test(message)) return new HypercoreError('STORAGE_OUT_OF_BOUNDS', message, { cause: err })
  if (/^closed$/i.test(message.trim())) return new HypercoreError('STORAGE_CLOSED', message, { cause: err })
  return HypercoreError.STORAGE_IO(message, err)
}

function done (resolve: () => void, reject: (err: HypercoreError) => void): (err: Error | null) => void {
  return (err) => { if (err) reject(normaliseStorageError(err)); else resolve() }
}

function notSupported<T> (op: string): Promise<T> {
  return Promise.reject(HypercoreError.STORAGE_NOT_SUPPORTED(`this storage cannot ${op}`))
}
