/**
 * @module store/state
 * What a store and all its sessions and namespaces share: the storage and its lock file, the
 * one open core per discovery key, the replication streams, the exclusive-writer locks, and
 * the discovery keys known not to be stored (so a peer asking again costs no storage look-up).
 */
import type { Hypercore } from '../core/hypercore.js'
import type { RawStream, SecretStream } from '../replication/secret-stream/index.js'
import type { MultiCoreStorage, RandomAccessStorage } from '../storage/types.js'

/** A replication stream of the store; `external`: the user's transport, not ours to destroy. */
export interface StreamRecord {
  stream: RawStream | SecretStream
  external: boolean
}

export class StoreState {
  readonly storage: MultiCoreStorage
  /** The store session of each open core by id (discovery key hex), which every get joins. */
  readonly cores = new Map<string, Hypercore>()
  readonly streams = new Set<StreamRecord>()
  readonly locks = new Map<string, ExclusiveLock>()
  readonly missing = new BoundedSet(65536)
  /** The primary key file, held open (and with it the store's lock) while the store is. */
  keyFile: RandomAccessStorage | null = null
  /** Set when the root store starts closing: no core opens after that. */
  closing = false

  constructor (storage: MultiCoreStorage) {
    this.storage = storage
  }

  lock (id: string): ExclusiveLock {
    let l = this.locks.get(id)
    if (l === undefined) this.locks.set(id, l = new ExclusiveLock(() => { if (this.locks.get(id) === l) this.locks.delete(id) }))
    return l
  }
}

/** A FIFO lock held by one session at a time (corestore@6's `exclusive` writers). */
export class ExclusiveLock {
  private _held = false
  private readonly _waiting: Array<() => void> = []
  private readonly _onidle: () => void

  constructor (onidle: () => void) {
    this._onidle = onidle
  }

  acquire (): Promise<void> {
    if (!this._held) {
      this._held = true
      return Promise.resolve()
    }
    return new Promise(resolve => this._waiting.push(resolve))
  }

  release (): void {
    const next = this._waiting.shift()
    if (next !== undefined) return next()
    this._held = false
    this._onidle()
  }
}

/** A set that forgets its oldest entries past `max`. */
export class BoundedSet {
  private readonly _max: number
  private readonly _set = new Set<string>()

  constructor (max: number) {
    this._max = max
  }

  has (x: string): boolean { return this._set.has(x) }
  delete (x: string): void { this._set.delete(x) }

  add (x: string): void {
    this._set.delete(x)
    this._set.add(x)
    if (this._set.size > this._max) this._set.delete(this._set.values().next().value as string)
  }
}
