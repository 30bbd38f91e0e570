/**
 * @module core/format/data-file
 * The `data` file (spec §6.4): block bytes back to back, block i at `byteOffset(i)` (from the
 * Merkle tree: no per-block header). These helpers only move bytes; offsets come from the tree.
 * A sparse replica writes wherever blocks land, so the file has holes where blocks are missing.
 */
import { HypercoreError } from '../../errors.js'
import { promisify, type StoragePromises } from '../../storage/promises.js'
import type { RandomAccessStorage } from '../../storage/types.js'

/** Zero-fill chunk for storages that cannot delete ranges. */
const ZERO_CHUNK = 64 * 1024

function _checkUint (n: number, name: string): void {
  if (!Number.isSafeInteger(n) || n < 0) throw HypercoreError.BAD_ARGUMENT(`${name} must be a non-negative integer, got ${String(n)}`)
}

export class DataFile {
  readonly storage: RandomAccessStorage
  private readonly _io: StoragePromises

  constructor (storage: RandomAccessStorage) {
    this.storage = storage
    this._io = promisify(storage)
  }

  /**
   * Writes consecutive blocks starting at byte `offset` as one write (an append batch, or a
   * run of downloaded blocks). Returns the number of bytes written.
   */
  async writeBlocks (offset: number, blocks: readonly Uint8Array[]): Promise<number> {
    _checkUint(offset, 'offset')
    let total = 0
    for (const b of blocks) {
      if (!(b instanceof Uint8Array)) throw HypercoreError.BAD_ARGUMENT('blocks must be Uint8Arrays')
      total += b.byteLength
    }
    if (total === 0) return 0
    let buf: Uint8Array
    if (blocks.length === 1) {
      buf = blocks[0]!
    } else {
      buf = new Uint8Array(total)
      let at = 0
      for (const b of blocks) { buf.set(b, at); at += b.byteLength }
    }
    await this._io.write(offset, buf)
    return total
  }

  /**
   * Reads the block at `offset` of `size` bytes. A zero-size block needs no I/O (and npm's
   * random-access-memory refuses zero-length reads past the end). A read past the end of the
   * file throws STORAGE_OUT_OF_BOUNDS.
   */
  async read (offset: number, size: number): Promise<Uint8Array> {
    _checkUint(offset, 'offset')
    _checkUint(size, 'size')
    if (size === 0) return new Uint8Array(0)
    const b = await this._io.read(offset, size)
    // Hand out a plain Uint8Array (not a Node Buffer) over the same memory.
    return Object.getPrototypeOf(b) === Uint8Array.prototype ? b : new Uint8Array(b.buffer, b.byteOffset, b.byteLength)
  }

  /**
   * Clears `[offset, offset + length)` (§6.4 `clear`) with the storage's `del` (a hole punch on
   * files). What cleared bytes read as afterwards is up to the storage (npm's
   * random-access-memory only frees whole pages): the bitfield, not the data file, says which
   * blocks exist. A storage that cannot `del` gets zeros written instead.
   */
  async clear (offset: number, length: number): Promise<void> {
    _checkUint(offset, 'offset')
    _checkUint(length, 'length')
    if (length === 0) return
    if (this.storage.deletable) {
      await this._io.del(offset, length)
      return
    }
    const zeros = new Uint8Array(Math.min(ZERO_CHUNK, length))
    for (let at = 0; at < length; at += zeros.byteLength) {
      const n = Math.min(zeros.byteLength, length - at)
      await this._io.write(offset + at, n === zeros.byteLength ? zeros : zeros.subarray(0, n))
    }
  }

  /** Cuts the file at `offset` (truncating the core to a byte offset from the tree). */
  async truncate (offset: number): Promise<void> {
    _checkUint(offset, 'offset')
    await this._io.truncate(offset)
  }

  /** The file's size in bytes (with holes, its apparent size). */
  async byteLength (): Promise<number> {
    return (await this._io.stat()).size
  }

  async close (): Promise<void> {
    await this._io.close()
  }
}
