/**
 * @module storage/memory
 * In-memory random-access files: paged and sparse (a page is allocated on first write, so
 * writing at a large offset costs one page, not the gap), for tests and ephemeral cores.
 * `MemoryDirectory` keeps files by name so a core can be closed and reopened on the same
 * bytes (what hypercore@10 needs to reopen; npm's RAM offers `RAM.reusable()` for this).
 */
import b4a from 'b4a'
import { HypercoreError } from '../errors.js'
import { RandomAccess } from './random-access.js'
import type { FileProvider, StorageFactory, StorageStat } from './types.js'

export const DEFAULT_MEMORY_PAGE_SIZE = 65536

export interface MemoryOptions {
  pageSize?: number
  /** Initial contents. */
  buffer?: Uint8Array
}

/** The bytes of one memory file; shared by every handle a `MemoryDirectory` opens on a name. */
export class MemoryFileState {
  readonly pageSize: number
  readonly pages = new Map<number, Uint8Array>()
  size = 0

  constructor (pageSize = DEFAULT_MEMORY_PAGE_SIZE) {
    if (!Number.isSafeInteger(pageSize) || pageSize <= 0) throw HypercoreError.BAD_ARGUMENT('pageSize must be a positive integer')
    this.pageSize = pageSize
  }

  read (offset: number, size: number): Uint8Array {
    if (offset + size > this.size) throw HypercoreError.STORAGE_OUT_OF_BOUNDS()
    // Every byte is written below (holes as zeros), so the buffer need not be zeroed first:
    // this is every block a core serves, and zeroing it cost as much as the copy.
    const out = b4a.allocUnsafeSlow(size)
    this._forEachPage(offset, size, (page, start, end, at) => {
      const p = this.pages.get(page)
      if (p !== undefined) out.set(p.subarray(start, end), at)
      else out.fill(0, at, at + end - start)
    })
    return out
  }

  write (offset: number, data: Uint8Array): void {
    // A zero-length write does not extend the file (as pwrite(2) and random-access-file).
    if (data.byteLength === 0) return
    this._forEachPage(offset, data.byteLength, (page, start, end, at) => {
      let p = this.pages.get(page)
      if (p === undefined) this.pages.set(page, p = new Uint8Array(this.pageSize))
      p.set(data.subarray(at, at + end - start), start)
    })
    this.size = Math.max(this.size, offset + data.byteLength)
  }

  /** Zeroes a range: whole pages are dropped, partial ones cleared. A range reaching the end truncates. */
  del (offset: number, size: number): void {
    if (offset >= this.size) return
    if (offset + size >= this.size) return this.truncate(offset)
    this._forEachPage(offset, size, (page, start, end) => {
      if (start === 0 && end === this.pageSize) this.pages.delete(page)
      else this.pages.get(page)?.fill(0, start, end)
    })
  }

  truncate (size: number): void {
    if (size < this.size) {
      const keep = Math.ceil(size / this.pageSize)
      for (const page of this.pages.keys()) if (page >= keep) this.pages.delete(page)
      // Clear the tail of the last page so a later extension reads zeros, not old bytes.
      if (size % this.pageSize !== 0) this.pages.get(keep - 1)?.fill(0, size % this.pageSize)
    }
    this.size = size
  }

  clear (): void {
    this.pages.clear()
    this.size = 0
  }

  private _forEachPage (offset: number, size: number, fn: (page: number, start: number, end: number, at: number) => void): void {
    let at = 0
    while (at < size) {
      const pos = offset + at
      const page = Math.floor(pos / this.pageSize)
      const start = pos - page * this.pageSize
      const end = Math.min(this.pageSize, start + size - at)
      fn(page, start, end, at)
      at += end - start
    }
  }
}

/** One in-memory random-access file. `new MemoryStorage(name)` works too (random-access class form). */
export class MemoryStorage extends RandomAccess {
  readonly state: MemoryFileState
  private readonly _onUnlink: (() => void) | null

  constructor (opts?: string | Uint8Array | MemoryOptions | MemoryFileState, onUnlink?: () => void) {
    super()
    this._onUnlink = onUnlink ?? null
    if (opts instanceof MemoryFileState) {
      this.state = opts
    } else if (opts instanceof Uint8Array) {
      this.state = new MemoryFileState()
      this.state.write(0, opts)
    } else {
      const o = typeof opts === 'object' && opts !== null ? opts : {}
      this.state = new MemoryFileState(o.pageSize)
      if (o.buffer !== undefined) this.state.write(0, o.buffer)
    }
  }

  // Each hook does its work synchronously, so operations apply in issue order.
  protected override async _read (offset: number, size: number): Promise<Uint8Array> { return this.state.read(offset, size) }
  protected override async _write (offset: number, data: Uint8Array): Promise<void> { this.state.write(offset, data) }
  protected override async _del (offset: number, size: number): Promise<void> { this.state.del(offset, size) }
  protected override async _truncate (offset: number): Promise<void> { this.state.truncate(offset) }
  protected override async _stat (): Promise<StorageStat> { return { size: this.state.size } }
  protected override async _unlink (): Promise<void> {
    this.state.clear()
    if (this._onUnlink !== null) this._onUnlink()
  }
}

/** Named memory files that survive close/reopen: a "directory" for a whole core. */
export class MemoryDirectory implements FileProvider {
  readonly files = new Map<string, MemoryFileState>()
  private readonly _pageSize: number | undefined

  constructor (opts: { pageSize?: number } = {}) {
    this._pageSize = opts.pageSize
  }

  file (name: string): MemoryStorage {
    let state = this.files.get(name)
    if (state === undefined) this.files.set(name, state = new MemoryFileState(this._pageSize))
    const s = state
    return new MemoryStorage(s, () => { if (this.files.get(name) === s) this.files.delete(name) })
  }

  /** This directory as a `name => storage` function (e.g. for hypercore@10). */
  get factory (): StorageFactory {
    return name => this.file(name)
  }
}
