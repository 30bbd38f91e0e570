/**
 * @module storage/random-access
 * Base class for our random-access files: the callback API and the lifecycle of
 * random-access-storage (observed as a black box on npm's random-access-memory v6 /
 * random-access-file v4), over async `_open/_read/_write/_del/_truncate/_stat/_close/_unlink`
 * hooks that subclasses implement.
 *
 * Lifecycle:
 * - the first operation (or an explicit `open()`) runs `_open` once; operations issued
 *   before it completes are started, in the order they were issued, the moment it completes
 *   (before anything issued later can start). If `_open` fails, those operations fail with
 *   its error and the next operation tries to open again;
 * - once open, hooks are started synchronously in issue order, so an adapter that applies
 *   a mutation before its first `await` gives read-your-writes ordering for free;
 * - `close()` is idempotent; it waits for every operation already issued, then runs `_close`.
 *   Operations issued after `close()` (and `open()` after close) fail with STORAGE_CLOSED;
 * - `unlink()` closes first, then runs `_unlink` once.
 * Capability flags (`readable`, …) are true when the subclass overrides the matching hook.
 */
import { HypercoreError } from '../errors.js'
import type { Callback, DurabilityGroup, RandomAccessStorage, StorageStat } from './types.js'

type Listener = (...args: unknown[]) => void

export abstract class RandomAccess implements RandomAccessStorage {
  readonly readable: boolean
  readonly writable: boolean
  readonly deletable: boolean
  readonly truncatable: boolean
  readonly statable: boolean
  opened = false
  closed = false
  unlinked = false

  private _opening: Promise<void> | null = null
  private _closing: Promise<void> | null = null
  private _unlinking: Promise<void> | null = null
  private _active = 0
  private _drained: Array<() => void> = []
  /** Operations issued before the open completed, in issue order. */
  private _waiting: Array<{ start: () => void, fail: (err: HypercoreError) => void }> = []
  private _listeners = new Map<string, Listener[]>()

  constructor () {
    const base = RandomAccess.prototype
    this.readable = this._read !== base._read
    this.writable = this._write !== base._write
    this.deletable = this._del !== base._del
    this.truncatable = this._truncate !== base._truncate
    this.statable = this._stat !== base._stat
  }

  /**
   * Files that report the same group object become durable in the order their writes were
   * issued (a write fails if an earlier one of the group failed), so a caller may issue a
   * sequence of dependent writes without waiting for each, once every file it writes is open
   * (see types.ts). null (the default): no such promise.
   */
  get durabilityGroup (): DurabilityGroup | null {
    return null
  }

  // --- hooks (override the ones you support) ---

  protected async _open (): Promise<void> {}
  protected async _read (_offset: number, _size: number): Promise<Uint8Array> { throw HypercoreError.STORAGE_NOT_SUPPORTED('read') }
  protected async _write (_offset: number, _data: Uint8Array): Promise<void> { throw HypercoreError.STORAGE_NOT_SUPPORTED('write') }
  protected async _del (_offset: number, _size: number): Promise<void> { throw HypercoreError.STORAGE_NOT_SUPPORTED('del') }
  protected async _truncate (_offset: number): Promise<void> { throw HypercoreError.STORAGE_NOT_SUPPORTED('truncate') }
  protected async _stat (): Promise<StorageStat> { throw HypercoreError.STORAGE_NOT_SUPPORTED('stat') }
  protected async _close (): Promise<void> {}
  protected async _unlink (): Promise<void> {}

  // --- public callback API ---

  open (cb?: Callback): void {
    if (this._closing !== null) return reply(cb, HypercoreError.STORAGE_CLOSED())
    settle(this._ensureOpen(), cb)
  }

  read (offset: number, size: number, cb: Callback<Uint8Array>): void {
    const bad = checkRange(offset, size, false)
    if (bad !== null) return reply(cb, bad)
    this._op(() => this._read(offset, size), cb)
  }

  write (offset: number, data: Uint8Array, cb?: Callback): void {
    const bad = checkRange(offset, 0, false) ?? (data instanceof Uint8Array ? null : HypercoreError.BAD_ARGUMENT('data must be a Uint8Array'))
    if (bad !== null) return reply(cb, bad)
    this._op(() => this._write(offset, data), cb)
  }

  del (offset: number, size: number, cb?: Callback): void {
    const bad = checkRange(offset, size, true)
    if (bad !== null) return reply(cb, bad)
    this._op(() => this._del(offset, size), cb)
  }

  truncate (offset: number, cb?: Callback): void {
    const bad = checkRange(offset, 0, false)
    if (bad !== null) return reply(cb, bad)
    this._op(() => this._truncate(offset), cb)
  }

  stat (cb: Callback<StorageStat>): void {
    this._op(() => this._stat(), cb)
  }

  close (cb?: Callback): void {
    settle(this._closeOnce(), cb)
  }

  unlink (cb?: Callback): void {
    if (this._unlinking === null) {
      this._unlinking = this._closeOnce().then(async () => {
        await this._unlink()
        this.unlinked = true
        this._emit('unlink')
      })
    }
    settle(this._unlinking, cb)
  }

  // --- a tiny event emitter: 'open', 'close', 'unlink' ---

  on (event: string, listener: Listener): this {
    const list = this._listeners.get(event) ?? []
    list.push(listener)
    this._listeners.set(event, list)
    return this
  }

  off (event: string, listener: Listener): this {
    const list = this._listeners.get(event)
    if (list !== undefined) this._listeners.set(event, list.filter(l => l !== listener))
    return this
  }

  once (event: string, listener: Listener): this {
    const wrapped: Listener = (...args) => { this.off(event, wrapped); listener(...args) }
    return this.on(event, wrapped)
  }

  protected _emit (event: string, ...args: unknown[]): void {
    for (const l of this._listeners.get(event) ?? []) l(...args)
  }

  // --- internals ---

  private _ensureOpen (): Promise<void> {
    if (this.opened) return Promise.resolve()
    if (this._opening === null) {
      this._opening = this._open().then(() => {
        this.opened = true
        // Synchronously, in issue order: an operation issued in the very next microtask sees
        // `opened` and starts at once, so these must have started before it.
        const waiting = this._waiting
        this._waiting = []
        for (const w of waiting) w.start()
        this._emit('open')
      }, (err: unknown) => {
        this._opening = null // the next operation tries again
        const e = toStorageError(err)
        const waiting = this._waiting
        this._waiting = []
        for (const w of waiting) w.fail(e)
        throw e
      })
    }
    return this._opening
  }

  private _op<T> (fn: () => Promise<T>, cb?: Callback<T>): void {
    if (this._closing !== null) return reply(cb, HypercoreError.STORAGE_CLOSED())
    this._active++
    if (this.opened) return this._run(fn, cb)
    this._waiting.push({ start: () => this._run(fn, cb), fail: err => this._finish(cb, err) })
    this._ensureOpen().catch(() => {})
  }

  // Methods, not closures made per operation: every read and write of a core passes here
  // (a closure bound to a name costs an allocation, and under tsx a `__name` call as well).
  private _run<T> (fn: () => Promise<T>, cb: Callback<T> | undefined): void {
    start(fn).then(value => this._finish(cb, null, value), (err: unknown) => this._finish(cb, toStorageError(err)))
  }

  private _finish<T> (cb: Callback<T> | undefined, err: HypercoreError | null, value?: T): void {
    this._done()
    if (cb !== undefined) cb(err, value)
  }

  private _done (): void {
    if (--this._active > 0) return
    const waiting = this._drained
    this._drained = []
    for (const w of waiting) w()
  }

  private _closeOnce (): Promise<void> {
    if (this._closing === null) {
      this._closing = (async () => {
        if (this._active > 0) await new Promise<void>(resolve => this._drained.push(resolve))
        if (this._opening !== null) await this._opening.catch(() => {})
        if (this.opened) await this._close()
        this.closed = true
        this._emit('close')
      })()
    }
    return this._closing
  }
}

/** Wraps foreign failures (fs errors, DOMExceptions) so every error we hand out is a HypercoreError. */
export function toStorageError (err: unknown): HypercoreError {
  if (err instanceof HypercoreError) return err
  const message = err instanceof Error ? err.message : String(err)
  return HypercoreError.STORAGE_IO(message, err)
}

function start<T> (fn: () => Promise<T>): Promise<T> {
  try {
    return fn()
  } catch (err) {
    return Promise.reject(err)
  }
}

function settle (p: Promise<void>, cb?: Callback): void {
  p.then(() => { if (cb !== undefined) cb(null) }, (err: unknown) => { if (cb !== undefined) cb(toStorageError(err)) })
}

/** Argument errors are reported through the callback, asynchronously, like every other error. */
function reply<T> (cb: Callback<T> | undefined, err: Error): void {
  if (cb !== undefined) queueMicrotask(() => cb(err))
}

function checkRange (offset: number, size: number, allowInfinity: boolean): HypercoreError | null {
  if (!Number.isSafeInteger(offset) || offset < 0) return HypercoreError.BAD_ARGUMENT(`offset must be a non-negative integer, got ${String(offset)}`)
  if (allowInfinity && size === Infinity) return null
  if (!Number.isSafeInteger(size) || size < 0) return HypercoreError.BAD_ARGUMENT(`size must be a non-negative integer, got ${String(size)}`)
  return null
}
