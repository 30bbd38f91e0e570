/**
 * @module core/batch
 * `core.batch()` (hypercore@10's `HypercoreBatch`): appends that stay in memory, readable and
 * hashable as if they were in the core, until `flush()` appends them (or a prefix of them) as
 * ONE signed append. Autobase-style code builds on it: it reads its own pending blocks, asks
 * for the tree hash the batch would have, truncates pending blocks, and flushes when ready.
 *
 * The batch sees the core as it was when it opened (or at `checkout`), plus its own appends.
 * Blocks below that length are read from the core; a flush fails (false) if the core was
 * truncated meanwhile, as hypercore@10's does.
 */
import { EventEmitter } from 'events'
import { HypercoreError } from '../errors.js'
import type { TreeBatch } from '../tree/merkle-tree.js'
import type { KeyPair } from '../crypto/types.js'
import type { Hypercore, AppendWriteOptions } from './hypercore.js'
import type { GetOptions } from './session-options.js'
import { asBuffer } from './buffers.js'
import { encodeAppend, resolveEncoding } from './value-encoding.js'

export interface BatchOptions {
  /** Start from this length of the core instead of its current one (-1: current). */
  checkout?: number
  /** Close the batch once it has flushed (default true). */
  autoClose?: boolean
  /** Work on a session of its own, closed with the batch (default true). */
  session?: boolean
  /** Accepted for hypercore@10 compatibility (restoring blocks past the length is not done). */
  restore?: boolean
  /** Start from the core's current length, discarding nothing (hypercore@10's `clear`). */
  clear?: boolean
}

export class HypercoreBatch extends EventEmitter {
  readonly session: Hypercore
  readonly autoClose: boolean
  readonly writable = true
  opened = false
  closed = false
  closing: Promise<void> | null = null
  readonly opening: Promise<void>
  fork = 0

  private readonly _ownsSession: boolean
  private readonly _checkout: number
  /** The core's length and user byte length the batch builds on (what is flushed). */
  private _base = 0
  private _baseBytes = 0
  /** The core's fork the base belongs to: a flush onto another one is refused (false). */
  private _baseFork = 0
  /** Encoded blocks appended to the batch and not flushed yet. */
  private _appends: Uint8Array[] = []
  private _pendingBytes = 0
  private _flushing: Promise<boolean> | null = null

  constructor (core: Hypercore, opts: BatchOptions = {}) {
    super()
    this._ownsSession = opts.session !== false
    this.session = this._ownsSession ? core.session() : core
    this.autoClose = opts.autoClose !== false
    const checkout = opts.checkout ?? -1
    if (!Number.isSafeInteger(checkout) || checkout < -1) throw HypercoreError.BAD_ARGUMENT('checkout must be a length or -1')
    this._checkout = opts.clear === true ? -1 : checkout
    this.opening = this._open()
    this.opening.catch(() => {})
  }

  get id (): string | null { return this.session.id }
  get key (): Uint8Array | null { return this.session.key }
  get discoveryKey (): Uint8Array | null { return this.session.discoveryKey }
  get core (): Hypercore['core'] { return this.session.core }
  get manifest (): Hypercore['manifest'] { return this.session.manifest }
  /** Blocks in the batch: the core's part plus the pending appends. */
  get length (): number { return this._base + this._appends.length }
  get byteLength (): number { return this._baseBytes + this._pendingBytes }
  /** The part of the batch that is in the core. */
  get flushedLength (): number { return this._base }
  get indexedLength (): number { return Math.min(this._base, this.session.length) }
  get indexedByteLength (): number { return this._baseBytes }

  ready (): Promise<void> {
    return this.opening
  }

  private async _open (): Promise<void> {
    await this.session.ready()
    const length = this._checkout === -1 ? this.session.length : this._checkout
    if (length > this.session.length) throw HypercoreError.BAD_ARGUMENT(`cannot check out length ${length}: the core has ${this.session.length} blocks`)
    this._base = length
    this._baseBytes = length === this.session.length
      ? this.session.byteLength
      : await this.core!.tree.byteOffset(length) - length * this.session.padding
    this.fork = this.session.fork
    this._baseFork = this.fork
    this.opened = true
    this.emit('ready')
  }

  async has (index: number): Promise<boolean> {
    await this._ready()
    if (index >= this._base) return index < this.length
    return this.session.has(index)
  }

  async update (opts?: { wait?: boolean }): Promise<void> {
    await this._ready()
    await this.session.update(opts)
  }

  /** A block of the batch: from the core below its base, from the pending appends above. */
  async get (index: number, opts: GetOptions = {}): Promise<unknown> {
    await this._ready()
    if (index < this._base) return this.session.get(index, opts)
    const block = this._appends[index - this._base]
    if (block === undefined) throw HypercoreError.BLOCK_NOT_AVAILABLE(`block ${index} is not in the batch (length ${this.length})`)
    if (opts.raw === true) return asBuffer(this._encrypted(index, block))
    const codec = opts.valueEncoding != null ? resolveEncoding(opts.valueEncoding) : this.session.valueEncoding
    return codec === null ? asBuffer(block) : codec.decode(asBuffer(block))
  }

  /** `[blockIndex, offsetInBlock]` of byte `bytes` of the batch. */
  async seek (bytes: number, opts: { wait?: boolean, timeout?: number } = {}): Promise<[number, number] | null> {
    await this._ready()
    if (bytes < this._baseBytes) return this.session.seek(bytes, opts)
    let rest = bytes - this._baseBytes
    for (let i = 0; i < this._appends.length; i++) {
      if (rest < this._appends[i]!.byteLength) return [this._base + i, rest]
      rest -= this._appends[i]!.byteLength
    }
    if (rest === 0) return [this.length, 0]
    throw HypercoreError.BLOCK_NOT_AVAILABLE(`byte ${bytes} is past the batch (${this.byteLength} bytes)`)
  }

  /**
   * The tree hash of the batch's flushed part (synchronous). hypercore@10's is that too, not
   * the hash with the pending blocks: `createTreeBatch().hash()` gives that one.
   */
  treeHash (): Uint8Array {
    return this.createTreeBatch(this._base).hash()
  }

  /**
   * The tree of the batch as a `TreeBatch`: the core at its base plus the pending appends up
   * to `length` (default all), plus `blocks` appended after them.
   */
  createTreeBatch (length = this.length, blocks: Uint8Array[] = []): TreeBatch {
    if (!this.opened) throw HypercoreError.INVALID_OPERATION('the batch is not open yet')
    const core = this.core!
    if (this._base !== core.tree.length || this._baseFork !== core.tree.fork) throw HypercoreError.INVALID_OPERATION('the core changed under the batch (a checkout or a truncation): no tree batch')
    if (!Number.isSafeInteger(length) || length < this._base || length > this.length + blocks.length) throw HypercoreError.BAD_ARGUMENT(`length ${String(length)} is out of the batch's range`)
    const tree = core.tree.batch()
    const all = [...this._appends, ...blocks]
    for (let i = 0; i < length - this._base; i++) tree.append(this._encrypted(this._base + i, all[i]!))
    // Handed to users: its hash is a Buffer in Node, as hypercore@10's.
    const rootsHashOf = tree.hash.bind(tree)
    tree.hash = () => asBuffer(rootsHashOf())
    return tree
  }

  async append (blocks: unknown): Promise<{ length: number, byteLength: number }> {
    await this._ready()
    await this._waitForFlush()
    const values = Array.isArray(blocks) ? blocks : [blocks]
    const buffers = encodeAppend(values, this.session.valueEncoding ?? resolveEncoding(null), this.session.encodeBatch)
    for (const b of buffers) {
      this._appends.push(b)
      this._pendingBytes += b.byteLength
    }
    this.emit('append')
    return { length: this.length, byteLength: this.byteLength }
  }

  /**
   * Drops pending blocks past `newLength`; below the flushed part it truncates the core, and
   * only with `force` (hypercore@10: "Cannot truncate committed blocks").
   */
  async truncate (newLength = 0, opts: number | { fork?: number, force?: boolean } = {}): Promise<void> {
    await this._ready()
    await this._waitForFlush()
    const o = typeof opts === 'number' ? { fork: opts } : opts
    if (!Number.isSafeInteger(newLength) || newLength < 0 || newLength > this.length) throw HypercoreError.BAD_ARGUMENT(`cannot truncate the batch to ${String(newLength)}`)
    const fork = o.fork ?? this.fork + 1
    if (newLength < this._base) {
      if (o.force !== true) throw HypercoreError.INVALID_OPERATION('Cannot truncate committed blocks')
      this._appends = []
      this._pendingBytes = 0
      await this.session.truncate(newLength, { fork })
      this._base = this.session.length
      this._baseBytes = this.session.byteLength
      this._baseFork = this.session.fork
    } else {
      for (const b of this._appends.splice(newLength - this._base)) this._pendingBytes -= b.byteLength
    }
    this.fork = fork
    this.emit('truncate', newLength, this.fork)
  }

  /**
   * Appends the pending blocks up to `length` (default all) to the core as one append. True
   * when they are in the core; false when the core was truncated under the batch (nothing is
   * written then). Closes the batch afterwards if `autoClose`.
   */
  async flush (opts: { length?: number, keyPair?: KeyPair | null, signature?: Uint8Array | null } = {}): Promise<boolean> {
    await this._ready()
    await this._waitForFlush()
    const run = this._flush(opts)
    this._flushing = run
    let flushed: boolean
    try {
      flushed = await run
    } finally {
      this._flushing = null
    }
    if (this.autoClose) await this.close()
    return flushed
  }

  private async _flush (opts: { length?: number, keyPair?: KeyPair | null, signature?: Uint8Array | null }): Promise<boolean> {
    const core = this.core!
    if (core.tree.fork !== this._baseFork || core.tree.length < this._base) return false
    const count = Math.min((opts.length ?? this.length) - this._base, this._appends.length)
    if (count <= 0) return true
    if (core.tree.length !== this._base) return false // somebody else appended: our blocks would land elsewhere
    const blocks = this._appends.slice(0, count)
    const write: AppendWriteOptions = {}
    if (opts.keyPair != null) write.keyPair = opts.keyPair
    if (opts.signature != null) write.signature = opts.signature
    const result = await this.session.append(blocks, write)
    this._appends = this._appends.slice(count)
    for (const b of blocks) this._pendingBytes -= b.byteLength
    this._base = result.length
    this._baseBytes = this.session.byteLength
    this.emit('flush')
    return true
  }

  setUserData (key: string, value: Uint8Array | string | null, opts?: { flush?: boolean }): Promise<void> {
    return this.session.setUserData(key, value, opts)
  }

  getUserData (key: string): Promise<Uint8Array | null> {
    return this.session.getUserData(key)
  }

  async info (opts?: { storage?: boolean }): Promise<Awaited<ReturnType<Hypercore['info']>>> {
    const info = await this.session.info(opts)
    return { ...info, length: this.length, byteLength: this.byteLength }
  }

  close (): Promise<void> {
    if (this.closing === null) this.closing = this._close()
    return this.closing
  }

  private async _close (): Promise<void> {
    this._appends = []
    this._pendingBytes = 0
    if (this._ownsSession) await this.session.close()
    this.closed = true
    this.emit('close')
  }

  /** A pending block as the core will store it (encrypted at its index, on the core's fork). */
  private _encrypted (index: number, block: Uint8Array): Uint8Array {
    const enc = this.session.encryption
    return enc === null ? block : enc.encrypt(index, block, this._baseFork)
  }

  private async _ready (): Promise<void> {
    if (!this.opened) await this.opening
    if (this.closing !== null) throw HypercoreError.SESSION_CLOSED()
  }

  private async _waitForFlush (): Promise<void> {
    while (this._flushing !== null) await this._flushing.catch(() => {})
  }
}
