/**
 * @module storage/file.node
 * Node random-access files on node:fs/promises. Files are sparse the way the OS makes them
 * (spec §6.4: writing at an offset leaves a hole that reads as zeros). Parent directories are
 * created on open, and the file is created if missing (so a fresh core reads as empty files).
 * `del` of a range reaching the end truncates; elsewhere it zero-fills (Node has no portable
 * hole punching).
 *
 * Ordering: reads may run concurrently with each other, but a mutation waits for every
 * earlier operation and blocks later ones, so a read issued after a write sees it (libuv's
 * thread pool could otherwise reorder overlapping pread/pwrite).
 */
import fs from 'node:fs/promises'
import path from 'node:path'
import b4a from 'b4a'
import { HypercoreError } from '../errors.js'
import { RandomAccess } from './random-access.js'
import type { StorageFactory, StorageStat } from './types.js'

const ZERO_CHUNK = 1024 * 1024

export interface FileStorageOptions {
  /** Resolve `filename` against this directory. */
  directory?: string
}

export class FileStorage extends RandomAccess {
  readonly filename: string
  private _fh: fs.FileHandle | null = null
  private _lock = new RwQueue()

  constructor (filename: string, opts: FileStorageOptions = {}) {
    super()
    if (typeof filename !== 'string' || filename === '') throw HypercoreError.BAD_ARGUMENT('filename must be a non-empty string')
    this.filename = opts.directory !== undefined ? path.join(opts.directory, filename) : filename
  }

  protected override async _open (): Promise<void> {
    await fs.mkdir(path.dirname(this.filename), { recursive: true })
    try {
      this._fh = await fs.open(this.filename, 'r+')
    } catch (err) {
      if ((err as { code?: string }).code !== 'ENOENT') throw err
      this._fh = await fs.open(this.filename, 'w+')
    }
  }

  protected override _read (offset: number, size: number): Promise<Uint8Array> {
    return this._lock.shared(async () => {
      const fh = this._handle()
      const out = b4a.alloc(size)
      let at = 0
      while (at < size) {
        const { bytesRead } = await fh.read(out, at, size - at, offset + at)
        if (bytesRead === 0) throw HypercoreError.STORAGE_OUT_OF_BOUNDS()
        at += bytesRead
      }
      // A zero-length read past the end fails too, as in random-access-memory.
      if (size === 0 && offset > (await fh.stat()).size) throw HypercoreError.STORAGE_OUT_OF_BOUNDS()
      return out
    })
  }

  protected override _write (offset: number, data: Uint8Array): Promise<void> {
    return this._lock.exclusive(async () => {
      const fh = this._handle()
      let at = 0
      while (at < data.byteLength) {
        const { bytesWritten } = await fh.write(data, at, data.byteLength - at, offset + at)
        at += bytesWritten
      }
    })
  }

  protected override _del (offset: number, size: number): Promise<void> {
    return this._lock.exclusive(async () => {
      const fh = this._handle()
      const length = (await fh.stat()).size
      if (offset >= length) return
      if (offset + size >= length) return fh.truncate(offset)
      const zeros = new Uint8Array(Math.min(ZERO_CHUNK, size))
      for (let at = 0; at < size;) {
        const n = Math.min(zeros.byteLength, size - at)
        const { bytesWritten } = await fh.write(zeros, 0, n, offset + at)
        at += bytesWritten
      }
    })
  }

  protected override _truncate (offset: number): Promise<void> {
    return this._lock.exclusive(() => this._handle().truncate(offset))
  }

  protected override _stat (): Promise<StorageStat> {
    return this._lock.shared(async () => ({ size: (await this._handle().stat()).size }))
  }

  protected override async _close (): Promise<void> {
    const fh = this._fh
    this._fh = null
    if (fh !== null) await fh.close()
  }

  protected override async _unlink (): Promise<void> {
    try {
      await fs.unlink(this.filename)
    } catch (err) {
      if ((err as { code?: string }).code !== 'ENOENT') throw err
    }
  }

  private _handle (): fs.FileHandle {
    if (this._fh === null) throw HypercoreError.STORAGE_CLOSED()
    return this._fh
  }
}

/** A directory of random-access files: `name => FileStorage(directory/name)`. */
export function fileStorage (directory: string): StorageFactory {
  return name => new FileStorage(name, { directory })
}

/**
 * Readers-writer FIFO: consecutive shared tasks run together; an exclusive task runs alone,
 * after everything queued before it.
 */
class RwQueue {
  private _tail: Promise<unknown> = Promise.resolve()
  private _readers: Array<Promise<unknown>> = []

  shared<T> (fn: () => Promise<T>): Promise<T> {
    const p = this._tail.then(fn)
    this._readers.push(p.catch(() => {}))
    return p
  }

  exclusive<T> (fn: () => Promise<T>): Promise<T> {
    const before = Promise.all([this._tail, ...this._readers])
    this._readers = []
    const p = before.then(fn)
    this._tail = p.catch(() => {})
    return p
  }
}
