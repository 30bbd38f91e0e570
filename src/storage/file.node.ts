/**
 * @module storage/file.node
 * Node random-access files on node:fs/promises. Files are sparse the way the OS makes them
 * (spec §6.4: writing at an offset leaves a hole that reads as zeros). Parent directories are
 * created on open, and the file is created if missing (so a fresh core reads as empty files).
 * `del` of a range reaching the end truncates; elsewhere it zero-fills (Node has no portable
 * hole punching).
 *
 * Locks (`lock: true`) are hypercore@10's: `fs-native-extensions` `tryLock(fd)` right after
 * open, exclusive for a read-write handle and shared for a read-only one, exactly what
 * random-access-file does for hypercore@10's `oplog`. They live on the open file description
 * (flock on macOS, OFD fcntl locks on Linux, LockFileEx on Windows), so they exclude other
 * processes *and* other handles in this process, interoperate with hypercore@10, and go away
 * when the fd closes (including when the process dies).
 *
 * Ordering: reads may run concurrently with each other, but a mutation waits for every
 * earlier operation and blocks later ones, so a read issued after a write sees it (libuv's
 * thread pool could otherwise reorder overlapping pread/pwrite).
 */
import fs from 'node:fs/promises'
import { constants } from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'
import b4a from 'b4a'
import { HypercoreError } from '../errors.js'
import { RandomAccess } from './random-access.js'
import type { StorageFactory, StorageStat } from './types.js'

const ZERO_CHUNK = 1024 * 1024

// One open(2) that creates but never truncates. A separate "open r+, on ENOENT open w+" has a
// window between the two calls in which another handle can create the file and write to it;
// w+'s O_TRUNC would then silently drop those bytes.
const OPEN_READ_WRITE = constants.O_RDWR | constants.O_CREAT
const OPEN_READ_ONLY = constants.O_RDONLY

export interface FileStorageOptions {
  /** Resolve `filename` against this directory. */
  directory?: string
  /**
   * Take hypercore@10's lock on the file once it is open: exclusive, or shared when
   * `readOnly`. Opening fails with STORAGE_LOCKED while a conflicting lock is held.
   */
  lock?: boolean
  /**
   * Open O_RDONLY. Creates neither the file nor its directories; a missing file reads as an
   * empty one. Writes, deletes, truncates and unlink reject with STORAGE_READ_ONLY.
   */
  readOnly?: boolean
}

export class FileStorage extends RandomAccess {
  readonly filename: string
  readonly readOnly: boolean
  /** Whether a lock was asked for. See `locked` for whether one is held. */
  readonly lock: boolean
  private _fh: fs.FileHandle | null = null
  // read-only and the file did not exist at open: behave as an empty file
  private _missing = false
  private _locked = false
  private _queue = new RwQueue()

  constructor (filename: string, opts: FileStorageOptions = {}) {
    super()
    if (typeof filename !== 'string' || filename === '') throw HypercoreError.BAD_ARGUMENT('filename must be a non-empty string')
    this.filename = opts.directory !== undefined ? path.join(opts.directory, filename) : filename
    this.readOnly = opts.readOnly === true
    this.lock = opts.lock === true
  }

  /**
   * True while this handle holds its lock. False when no lock was asked for, when closed,
   * for a missing read-only file (there is nothing to lock), and on platforms where
   * fs-native-extensions cannot load (see `loadFsExt`).
   */
  get locked (): boolean {
    return this._locked
  }

  protected override async _open (): Promise<void> {
    let fh: fs.FileHandle
    if (this.readOnly) {
      try {
        fh = await fs.open(this.filename, OPEN_READ_ONLY)
      } catch (err) {
        if (codeOf(err) !== 'ENOENT') throw err
        // Not created: a reader must not leave files behind in someone else's directory.
        // The absence is fixed for this handle's life; reopen to see a file created since.
        this._missing = true
        return
      }
    } else {
      await fs.mkdir(path.dirname(this.filename), { recursive: true })
      fh = await fs.open(this.filename, OPEN_READ_WRITE)
    }
    if (this.lock) {
      try {
        this._locked = tryLock(fh.fd, this.readOnly, this.filename)
      } catch (err) {
        await fh.close().catch(() => {})
        throw err
      }
    }
    this._fh = fh
  }

  protected override _read (offset: number, size: number): Promise<Uint8Array> {
    return this._queue.shared(async () => {
      const out = b4a.alloc(size)
      if (this._missing) {
        if (size > 0 || offset > 0) throw HypercoreError.STORAGE_OUT_OF_BOUNDS()
        return out
      }
      const fh = this._handle()
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
    return this._queue.exclusive(async () => {
      const fh = this._writableHandle()
      let at = 0
      while (at < data.byteLength) {
        const { bytesWritten } = await fh.write(data, at, data.byteLength - at, offset + at)
        at += bytesWritten
      }
    })
  }

  protected override _del (offset: number, size: number): Promise<void> {
    return this._queue.exclusive(async () => {
      const fh = this._writableHandle()
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
    return this._queue.exclusive(async () => this._writableHandle().truncate(offset))
  }

  protected override _stat (): Promise<StorageStat> {
    return this._queue.shared(async () => {
      if (this._missing) return { size: 0 }
      return { size: (await this._handle().stat()).size }
    })
  }

  protected override async _close (): Promise<void> {
    const fh = this._fh
    this._fh = null
    this._missing = false
    // Closing the fd is what releases the lock: there is no separate unlock.
    this._locked = false
    if (fh !== null) await fh.close()
  }

  protected override async _unlink (): Promise<void> {
    if (this.readOnly) throw HypercoreError.STORAGE_READ_ONLY(`${this.filename} was opened read-only: not unlinking it`)
    try {
      await fs.unlink(this.filename)
    } catch (err) {
      if (codeOf(err) !== 'ENOENT') throw err
    }
  }

  private _handle (): fs.FileHandle {
    if (this._fh === null) throw HypercoreError.STORAGE_CLOSED()
    return this._fh
  }

  /** The handle for a mutation; read-only is checked first so it wins over "missing". */
  private _writableHandle (): fs.FileHandle {
    if (this.readOnly) throw HypercoreError.STORAGE_READ_ONLY(`${this.filename} was opened read-only`)
    return this._handle()
  }
}

export interface FileDirectoryOptions {
  /**
   * Which file carries the directory's lock: `true` or omitted means `oplog`, as in
   * hypercore@10 (one lock per core, on the file every writer must update); a string names
   * another file; `false` takes no lock.
   */
  lock?: boolean | string
  /**
   * hypercore@10's `unlocked`: open every file read-only and take no lock at all, so the
   * directory can be read while a writer (ours or hypercore@10) holds it.
   */
  unlocked?: boolean
  /**
   * Open every file read-only. The lock file is then locked *shared* (random-access-file's
   * `writable: false`): many readers may hold it together, but not while a writer does.
   */
  readOnly?: boolean
}

/**
 * A directory of random-access files: `name => FileStorage(directory/name)`, locking the
 * `oplog` file by default so two writers (processes, or cores in one process) cannot
 * interleave their updates to one core, as hypercore@10's default storage does.
 */
export function fileStorage (directory: string, opts: FileDirectoryOptions = {}): StorageFactory {
  const unlocked = opts.unlocked === true
  const readOnly = unlocked || opts.readOnly === true
  const lockName = unlocked || opts.lock === false ? null : typeof opts.lock === 'string' ? opts.lock : 'oplog'
  const factory = (name: string): FileStorage => new FileStorage(name, { directory, readOnly, lock: lockName !== null && isFile(name, lockName) })
  return Object.assign(factory, { storageId: fileStorageId(directory) })
}

/** The identity of a directory (storage/types.ts `IdentifiedStorage`): its absolute path. */
export function fileStorageId (directory: string): string {
  return 'file:' + path.resolve(directory)
}

/** hypercore@10's match: a core may live under a prefix (`cores/abc/oplog`). */
function isFile (name: string, file: string): boolean {
  return name === file || name.endsWith('/' + file)
}

interface FsExt {
  tryLock (fd: number, opts: { shared: boolean }): boolean
}

// undefined: not tried yet; null: unavailable on this platform
let fsext: FsExt | null | undefined

/**
 * fs-native-extensions is CommonJS with a prebuilt native addon, so it is required, not
 * imported, and only when a lock is first asked for (a process that never locks never loads
 * the addon). When no prebuild fits the platform we run without locks, as
 * random-access-file does: the storage keeps working and a second writer is then only
 * prevented by the caller, which is what every storage without locks already relies on.
 */
function loadFsExt (): FsExt | null {
  if (fsext === undefined) {
    try {
      const requireCjs = createRequire(import.meta.url)
      fsext = requireCjs('fs-native-extensions') as FsExt
    } catch {
      fsext = null
    }
  }
  return fsext
}

/** True when locked; false when locks are unavailable; STORAGE_LOCKED when someone holds it. */
function tryLock (fd: number, shared: boolean, filename: string): boolean {
  const ext = loadFsExt()
  if (ext === null) return false
  if (ext.tryLock(fd, { shared })) return true
  throw HypercoreError.STORAGE_LOCKED(`${filename} is locked by another core (another process, or another handle in this one)`)
}

function codeOf (err: unknown): string | undefined {
  return (err as { code?: string } | null)?.code
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
