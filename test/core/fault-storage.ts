/**
 * @module test/core/fault-storage
 * A fault-injecting in-memory storage for crash tests (browser-safe). All files of a core live
 * in one `disk` map; every mutating call (write, del, truncate) is numbered. Armed at call `n`:
 * - `fail`: call n reports an error and changes nothing (an I/O error);
 * - `torn`: call n lands only half of its bytes, and from then on nothing reaches the disk
 *   while every call still reports success (a power cut in the middle of that write);
 * - `stuck`: call n and every later one report an error and change nothing (a full disk, a
 *   storage that went away) until `reset()`.
 * `disk` can be cloned at any point to "reboot" from exactly what was stored.
 */
import type { Callback, RandomAccessStorage, StorageStat } from '../../src/storage/types.js'

export type FaultMode = 'fail' | 'torn' | 'stuck'

export class FaultDisk {
  readonly files: Map<string, Uint8Array>
  /** Mutating calls seen since the last `arm`/`reset`. */
  count = 0
  private _at = -1
  private _mode: FaultMode = 'fail'
  crashed = false

  constructor (files = new Map<string, Uint8Array>()) {
    this.files = files
  }

  /** A copy of what is on the disk now, with no fault armed. */
  clone (): FaultDisk {
    return new FaultDisk(new Map([...this.files].map(([k, v]) => [k, v.slice()])))
  }

  arm (at: number, mode: FaultMode): void {
    this.count = 0
    this._at = at
    this._mode = mode
    this.crashed = false
  }

  reset (): void {
    this.count = 0
    this._at = -1
    this.crashed = false
  }

  factory = (name: string): RandomAccessStorage => new FaultFile(this, name)

  /** Applies (or not) a mutation; returns an error for a failing call. */
  _mutate (apply: (fraction: number) => void): Error | null {
    const n = this.count++
    if (this.crashed) return null
    if (this._mode === 'stuck' && this._at !== -1 && n >= this._at) return new Error(`injected I/O error at call ${n} (stuck)`)
    if (n === this._at) {
      if (this._mode === 'fail') return new Error(`injected I/O error at call ${n}`)
      apply(0.5)
      this.crashed = true
      return null
    }
    apply(1)
    return null
  }
}

class FaultFile implements RandomAccessStorage {
  readable = true
  writable = true
  deletable = true
  truncatable = true
  statable = true
  private readonly _disk: FaultDisk
  private readonly _name: string

  constructor (disk: FaultDisk, name: string) {
    this._disk = disk
    this._name = name
  }

  private get _bytes (): Uint8Array { return this._disk.files.get(this._name) ?? new Uint8Array(0) }
  private set _bytes (b: Uint8Array) { this._disk.files.set(this._name, b) }

  open (cb?: Callback): void { queueMicrotask(() => cb?.(null)) }
  close (cb?: Callback): void { queueMicrotask(() => cb?.(null)) }

  read (offset: number, size: number, cb: Callback<Uint8Array>): void {
    queueMicrotask(() => {
      const b = this._bytes
      if (offset + size > b.byteLength) cb(new Error('Could not satisfy length'))
      else cb(null, b.slice(offset, offset + size))
    })
  }

  write (offset: number, data: Uint8Array, cb?: Callback): void {
    const copy = data.slice()
    queueMicrotask(() => cb?.(this._disk._mutate((fraction) => {
      const part = copy.subarray(0, Math.floor(copy.byteLength * fraction))
      let b = this._bytes
      if (offset + part.byteLength > b.byteLength) {
        const grown = new Uint8Array(offset + part.byteLength)
        grown.set(b)
        b = grown
      }
      b.set(part, offset)
      this._bytes = b
    })))
  }

  del (offset: number, size: number, cb?: Callback): void {
    queueMicrotask(() => cb?.(this._disk._mutate((fraction) => {
      const b = this._bytes
      const end = Math.min(b.byteLength, offset + Math.floor(size * fraction))
      if (offset < end) b.fill(0, offset, end)
    })))
  }

  truncate (offset: number, cb?: Callback): void {
    queueMicrotask(() => cb?.(this._disk._mutate((fraction) => {
      if (fraction < 1) return // a torn truncate: the size change did not happen
      const b = this._bytes
      const out = new Uint8Array(offset)
      out.set(b.subarray(0, Math.min(offset, b.byteLength)))
      this._bytes = out
    })))
  }

  stat (cb: Callback<StorageStat>): void {
    queueMicrotask(() => cb(null, { size: this._bytes.byteLength }))
  }

  unlink (cb?: Callback): void {
    queueMicrotask(() => { this._disk.files.delete(this._name); cb?.(null) })
  }
}
