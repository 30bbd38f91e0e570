/**
 * @module storage/pool
 * A bounded pool of open files. Files made through a `FilePool` hold an underlying handle only
 * while they are among the `size` most recently used: past that, the least recently used idle
 * one is closed, and reopened by its next operation. This is what corestore@6 does with
 * random-access-file's pool (512 descriptors), so a store with thousands of cores open does
 * not run out of file descriptors.
 *
 * Only storages that can be closed and reopened on the same bytes belong in a pool (a file
 * by path), and never one carrying a lock: a lock lives on its handle, and closing the handle
 * would drop it. Operations keep their issue order: a pooled file forwards each one to its
 * handle synchronously, and the handle (a `RandomAccess`) starts them in that order, queueing
 * them behind its open when it was just reopened. A handle is closed only when idle (no
 * operation in flight), so nothing is cut short.
 */
import { HypercoreError } from '../errors.js'
import { RandomAccess } from './random-access.js'
import { promisify, type StoragePromises } from './promises.js'
import type { RandomAccessStorage, StorageStat } from './types.js'

/** corestore@6's pool size: how many handles a store aims to keep open at most. */
export const DEFAULT_POOL_SIZE = 512

export class FilePool {
  readonly size: number
  /** Files holding a handle, least recently used first (a Set keeps insertion order). */
  private readonly _open = new Set<PooledFile>()

  constructor (size = DEFAULT_POOL_SIZE) {
    if (!Number.isSafeInteger(size) || size < 1) throw HypercoreError.BAD_ARGUMENT('pool size must be a positive integer')
    this.size = size
  }

  /** Handles held right now (for tests and diagnostics). */
  get active (): number {
    return this._open.size
  }

  /** A file whose handle `open()` makes, held within this pool's bound. */
  file (open: () => RandomAccessStorage): PooledFile {
    return new PooledFile(this, open)
  }

  /** @internal `file` used its handle: it becomes the most recently used; others may be closed. */
  _touch (file: PooledFile): void {
    this._open.delete(file)
    this._open.add(file)
    this._trim()
  }

  /**
   * @internal Closes idle handles, least recently used first, down to `size`. Busy files keep
   * theirs: a burst may briefly hold more, and the pool shrinks back as operations finish.
   */
  _trim (): void {
    if (this._open.size <= this.size) return
    for (const f of this._open) {
      if (this._open.size <= this.size) break
      if (f._idle) {
        this._open.delete(f)
        f._evict()
      }
    }
  }

  /** @internal `file` closed its handle for good. */
  _forget (file: PooledFile): void {
    this._open.delete(file)
  }
}

export class PooledFile extends RandomAccess {
  private readonly _pool: FilePool
  private readonly _make: () => RandomAccessStorage
  private _handle: StoragePromises | null = null
  private _busy = 0

  constructor (pool: FilePool, open: () => RandomAccessStorage) {
    super()
    this._pool = pool
    this._make = open
  }

  /** @internal No operation is in flight on the handle. */
  get _idle (): boolean {
    return this._busy === 0
  }

  /** @internal Closes the handle (idle); the next operation opens a new one. */
  _evict (): void {
    const h = this._handle
    this._handle = null
    if (h !== null) void h.close().catch(() => {})
  }

  protected override async _open (): Promise<void> {
    await this._use(h => h.open())
  }

  protected override _read (offset: number, size: number): Promise<Uint8Array> { return this._use(h => h.read(offset, size)) }
  protected override _write (offset: number, data: Uint8Array): Promise<void> { return this._use(h => h.write(offset, data)) }
  protected override _del (offset: number, size: number): Promise<void> { return this._use(h => h.del(offset, size)) }
  protected override _truncate (offset: number): Promise<void> { return this._use(h => h.truncate(offset)) }
  protected override _stat (): Promise<StorageStat> { return this._use(h => h.stat()) }

  protected override async _close (): Promise<void> {
    this._pool._forget(this)
    const h = this._handle
    this._handle = null
    if (h !== null) await h.close()
  }

  protected override async _unlink (): Promise<void> {
    // Closed by now (random-access semantics): a fresh, unopened handle only deletes.
    await promisify(this._make()).unlink()
  }

  /** Runs `fn` on the handle (made again if the pool closed it), synchronously up to its first await. */
  private _use<T> (fn: (h: StoragePromises) => Promise<T>): Promise<T> {
    if (this._handle === null) this._handle = promisify(this._make())
    const h = this._handle
    this._busy++ // before the touch: the pool must not close the handle it is about to use
    this._pool._touch(this)
    const done = (): void => {
      this._busy--
      this._pool._trim()
    }
    let p: Promise<T>
    try {
      p = fn(h)
    } catch (err) {
      done()
      return Promise.reject(err)
    }
    return p.finally(done)
  }
}
