/**
 * @module core/format/oplog
 * The oplog (spec §6.1): a write-ahead log of entries after two double-buffered header slots,
 * over one random-access file. Layout: `[0, 4096)` slot 0, `[4096, 8192)` slot 1, entries from
 * 8192. Every record is framed `u32le crc ‖ u32le word ‖ payload` with
 * `word = len << 2 | partial << 1 | headerBit` and `crc = CRC-32(word ‖ payload)`.
 *
 * Crash safety comes from three rules: a header goes to the slot that is *not* active, so a torn
 * header write leaves the previous one; entries carry the active slot's index, so entries that a
 * newer header already covers are ignored on replay even if the truncate after the flush never
 * happened; and a batch is written with all frames but the last marked partial, so a torn batch
 * is dropped as a whole.
 */
import { HypercoreError } from '../../errors.js'
import { promisify, type StoragePromises } from '../../storage/promises.js'
import type { RandomAccessStorage } from '../../storage/types.js'
import { crc32 } from '#platform/crc32'
import {
  decodeOplogEntry, decodeOplogHeader, encodeOplogEntryInto, encodeOplogHeader, oplogEntryByteLength,
  type ExternalHeader, type OplogEntry, type OplogHeader, type StoredHeader
} from './oplog-encoding.js'

/** Size of one header slot. */
export const HEADER_SLOT_SIZE = 4096
/** Entries start after both slots. */
export const ENTRIES_OFFSET = 2 * HEADER_SLOT_SIZE
/** Frame prefix: crc (4) + word (4). */
export const FRAME_OVERHEAD = 8
/** The word keeps the length in 30 bits. */
const MAX_PAYLOAD = 2 ** 30 - 1

/** A frame found in a buffer: where its payload is and its two flag bits. */
export interface DecodedFrame {
  headerBit: 0 | 1
  partial: boolean
  /** Payload bounds in the buffer. */
  start: number
  end: number
}

/** Frames `payload` (§6.1). */
export function encodeFrame (payload: Uint8Array, headerBit: 0 | 1, partial: boolean): Uint8Array {
  if (payload.byteLength > MAX_PAYLOAD) throw HypercoreError.BAD_ARGUMENT(`oplog record too large (${payload.byteLength} bytes)`)
  const out = new Uint8Array(FRAME_OVERHEAD + payload.byteLength)
  const view = new DataView(out.buffer)
  view.setUint32(4, ((payload.byteLength << 2) | (partial ? 2 : 0) | headerBit) >>> 0, true)
  out.set(payload, FRAME_OVERHEAD)
  view.setUint32(0, crc32(out, 0, 4, out.byteLength), true)
  return out
}

/**
 * Frames a batch of entries (§6.1) into one buffer, every frame but the last marked partial:
 * each entry is encoded in place after its 8-byte prefix (no buffer and copy per entry; a
 * download writes a batch per group of blocks).
 */
export function encodeEntryFrames (entries: readonly OplogEntry[], headerBit: 0 | 1): Uint8Array {
  const sizes = new Array<number>(entries.length)
  let total = 0
  for (let i = 0; i < entries.length; i++) {
    const size = oplogEntryByteLength(entries[i]!)
    if (size > MAX_PAYLOAD) throw HypercoreError.BAD_ARGUMENT(`oplog record too large (${size} bytes)`)
    sizes[i] = size
    total += FRAME_OVERHEAD + size
  }
  const out = new Uint8Array(total)
  const view = new DataView(out.buffer)
  let at = 0
  for (let i = 0; i < entries.length; i++) {
    const size = sizes[i]!
    const partial = i < entries.length - 1
    encodeOplogEntryInto(entries[i]!, out, at + FRAME_OVERHEAD, size)
    view.setUint32(at + 4, ((size << 2) | (partial ? 2 : 0) | headerBit) >>> 0, true)
    view.setUint32(at, crc32(out, 0, at + 4, at + FRAME_OVERHEAD + size), true)
    at += FRAME_OVERHEAD + size
  }
  return out
}

/**
 * Reads the frame at `offset` if it lies whole inside `[offset, end)` and its CRC checks.
 * Returns null otherwise (torn, zeroed or corrupt): callers treat that as "the log ends here".
 */
export function decodeFrame (buffer: Uint8Array, offset: number, end = buffer.byteLength): DecodedFrame | null {
  if (end - offset < FRAME_OVERHEAD) return null
  const view = new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength)
  const crc = view.getUint32(offset, true)
  const word = view.getUint32(offset + 4, true)
  const len = word >>> 2
  const payloadEnd = offset + FRAME_OVERHEAD + len
  if (payloadEnd > end) return null
  if (crc32(buffer, 0, offset + 4, payloadEnd) !== crc) return null
  return { headerBit: (word & 1) as 0 | 1, partial: (word & 2) !== 0, start: offset + FRAME_OVERHEAD, end: payloadEnd }
}

export interface OplogOptions {
  /** Never write (an unlocked, read-only core): a torn tail is left as it is. */
  readOnly?: boolean
  /**
   * The core's `header` file, for headers too big for a slot (§6.5). Without it, such a flush
   * throws OPLOG_HEADER_OVERFLOW, and opening an oplog that points to one throws OPLOG_CORRUPT.
   */
  headerFile?: RandomAccessStorage | null
}

export interface OplogOpenResult {
  /** The active header, resolved from the `header` file if it is big; null for a new oplog. */
  header: OplogHeader | null
  /** The entries to replay on top of what that header (and the flushed files) describe. */
  entries: OplogEntry[]
}

interface SlotRead {
  bit: 0 | 1
  header: StoredHeader
}

export class Oplog {
  readonly storage: RandomAccessStorage
  readonly headerFile: RandomAccessStorage | null
  readonly readOnly: boolean
  /** Bytes of entries after ENTRIES_OFFSET. */
  byteLength = 0
  /** Number of entries in the log. */
  length = 0
  /** True once a header exists on disk (read at open or written by flush). */
  flushed = false

  private readonly _io: StoragePromises
  private readonly _headerIo: StoragePromises | null
  /** The header bits of slot 0 and slot 1, (1, 0) for an empty file (§6.1). */
  private readonly _bits: [0 | 1, 0 | 1] = [1, 0]
  /** Where the active header's big copy is, if it is in the `header` file. */
  private _external: ExternalHeader | null = null
  private _opened = false
  private _closed = false
  /** Serialises append/flush so a frame never lands at a stale offset. */
  private _tail: Promise<unknown> = Promise.resolve()

  constructor (storage: RandomAccessStorage, opts: OplogOptions = {}) {
    this.storage = storage
    this.headerFile = opts.headerFile ?? null
    this.readOnly = opts.readOnly === true
    this._io = promisify(storage)
    this._headerIo = this.headerFile === null ? null : promisify(this.headerFile)
  }

  /** Index of the active slot: the one written most recently (§6.1). */
  get activeSlot (): 0 | 1 {
    return ((this._bits[0] + this._bits[1]) & 1) as 0 | 1
  }

  /**
   * Reads the file: the active header and the entries to replay. Truncates a torn or stale tail
   * so the next append continues right after the last valid entry. Throws OPLOG_CORRUPT when the
   * file holds data but neither slot has a valid header, INVALID_OPLOG_VERSION for a header from
   * a newer format.
   */
  open (): Promise<OplogOpenResult> {
    return this._serial(async () => {
      this._checkOpen(false)
      const size = (await this._io.stat()).size
      const buffer = size > 0 ? await this._io.read(0, size) : new Uint8Array(0)

      const s0 = this._readSlot(buffer, 0)
      const s1 = this._readSlot(buffer, 1)
      this._opened = true

      if (s0 === null && s1 === null) {
        // A torn *first* header write leaves less than one slot of bytes; anything beyond that
        // means a header was once valid here, and silently starting over would lose the core.
        if (size >= HEADER_SLOT_SIZE) throw HypercoreError.OPLOG_CORRUPT(`Oplog file appears corrupt or out of date: no valid header in ${size} bytes`)
        this._bits[0] = 1
        this._bits[1] = 0
        this.flushed = false
        return { header: null, entries: [] }
      }

      if (s0 !== null && s1 !== null) {
        this._bits[0] = s0.bit
        this._bits[1] = s1.bit
      } else if (s0 !== null) {
        this._bits[0] = s0.bit
        this._bits[1] = s0.bit
      } else {
        this._bits[0] = (s1!.bit ^ 1) as 0 | 1
        this._bits[1] = s1!.bit
      }
      this.flushed = true

      const active = this.activeSlot
      const header = await this._resolveHeader(active === 0 ? s0!.header : s1!.header)

      const { entries, end } = this._replay(buffer, active)
      this.length = entries.length
      this.byteLength = end - ENTRIES_OFFSET
      if (size > end && size > ENTRIES_OFFSET && !this.readOnly) await this._io.truncate(end)
      return { header, entries }
    })
  }

  /**
   * Appends a batch of entries as one write. All frames but the last are marked partial, so a
   * batch torn anywhere is dropped as a whole on replay. Needs a flushed header first: entries
   * without one could never be replayed (open would find no header).
   */
  append (entries: OplogEntry[]): Promise<void> {
    return this._serial(async () => {
      const before = this.position
      try {
        await this.stage(entries)
      } catch (err) {
        // Not written (or torn): the next entry goes where this one would have.
        this.byteLength = before.byteLength
        this.length = before.length
        throw err
      }
    })
  }

  /**
   * `append` without waiting for earlier operations: the entries' place is taken now (the
   * next entry goes right after them) and the returned write settles when they are written.
   * For the core's commit path, which orders its writes itself (core/commit-queue.ts): it
   * never stages while a flush runs, and calls `rollback` after a failed write.
   */
  stage (entries: OplogEntry[]): Promise<void> {
    try {
      this._checkOpen(true)
      if (!this.flushed) throw HypercoreError.INVALID_OPERATION('Flush a header before appending oplog entries')
    } catch (err) {
      return Promise.reject(err)
    }
    if (entries.length === 0) return Promise.resolve()
    const batch = encodeEntryFrames(entries, this.activeSlot)
    const offset = ENTRIES_OFFSET + this.byteLength
    this.byteLength += batch.byteLength
    this.length += entries.length
    return this._io.write(offset, batch)
  }

  /** Where the next entry goes: what `rollback` takes back to. */
  get position (): { byteLength: number, length: number } {
    return { byteLength: this.byteLength, length: this.length }
  }

  /**
   * After a failed write: entries from `to` on were not (all) written, or were written after
   * a gap a failed write left. The next entry goes at `to`, and the file is cut there, so no
   * frame written past the gap can ever follow the new entries on replay.
   */
  rollback (to: { byteLength: number, length: number }): Promise<void> {
    return this._serial(async () => {
      this._checkOpen(true)
      this.byteLength = to.byteLength
      this.length = to.length
      await this._io.truncate(ENTRIES_OFFSET + to.byteLength)
    })
  }

  /**
   * Writes `header` to the inactive slot with the toggled bit (§6.1), which makes it the active
   * one, then drops the entries (truncates to 8192): the caller has already flushed the tree,
   * bitfield and data that those entries described. Headers whose frame would not fit a slot go
   * to the `header` file first (§6.5) and the slot gets a pointer.
   */
  flush (header: OplogHeader, opts: { ordered?: boolean } = {}): Promise<void> {
    return this._serial(async () => {
      this._checkOpen(true)
      if (header.external !== null) throw HypercoreError.BAD_ARGUMENT('flush takes a full header, not an external pointer')
      let payload = encodeOplogHeader(header)
      let external: ExternalHeader | null = null
      const bigCopy: Array<Promise<void>> = []
      if (FRAME_OVERHEAD + payload.byteLength > HEADER_SLOT_SIZE) {
        external = this._placeExternal(payload)
        const written = this._headerIo!.write(external.start, payload)
        if (opts.ordered === true) bigCopy.push(written)
        else await written
        payload = encodeOplogHeader({ external })
      }
      const i: 0 | 1 = this._bits[0] === this._bits[1] ? 1 : 0
      const bit = (this._bits[i] ^ 1) as 0 | 1
      const slot = encodeFrame(payload, bit, false)
      if (opts.ordered === true) {
        // Storage that makes writes durable in the order issued (one IndexedDB transaction
        // here): the header, and the cut of the entries it covers, are durable together or
        // not at all, so both are issued at once.
        await Promise.all([...bigCopy, this._io.write(i * HEADER_SLOT_SIZE, slot), this._io.truncate(ENTRIES_OFFSET)])
        this._activate(i, bit, external)
        return
      }
      await this._io.write(i * HEADER_SLOT_SIZE, slot)
      // The new header is active from here on, so the old entries are dead whether or not the
      // cut below succeeds: new entries must go to 8192 (carrying the new bit). Leftover old
      // frames after them fail the CRC or carry the old bit, and replay stops there (§6.1).
      this._activate(i, bit, external)
      await this._io.truncate(ENTRIES_OFFSET)
    })
  }

  /** Slot `i` now holds the active header (with `bit`): entries start over at 8192. */
  private _activate (i: 0 | 1, bit: 0 | 1, external: ExternalHeader | null): void {
    this._bits[i] = bit
    this._external = external
    this.flushed = true
    this.byteLength = 0
    this.length = 0
  }

  /** Closes the oplog file (and the header file). Idempotent. */
  close (): Promise<void> {
    return this._serial(async () => {
      if (this._closed) return
      this._closed = true
      await this._io.close()
      if (this._headerIo !== null) await this._headerIo.close()
    })
  }

  // --- internals -------------------------------------------------------------------------

  private _serial<T> (fn: () => Promise<T>): Promise<T> {
    const run = this._tail.then(fn, fn)
    this._tail = run.catch(() => {})
    return run
  }

  private _checkOpen (needOpened: boolean): void {
    if (this._closed) throw HypercoreError.SESSION_CLOSED('Oplog is closed')
    if (needOpened && !this._opened) throw HypercoreError.INVALID_OPERATION('Oplog.open() must be called first')
    if (!needOpened && this._opened) throw HypercoreError.INVALID_OPERATION('Oplog is already open')
  }

  /** A slot is valid when its frame checks and its payload decodes (§6.1). */
  private _readSlot (buffer: Uint8Array, slot: 0 | 1): SlotRead | null {
    const start = slot * HEADER_SLOT_SIZE
    const frame = decodeFrame(buffer, start, Math.min(buffer.byteLength, start + HEADER_SLOT_SIZE))
    if (frame === null) return null
    try {
      return { bit: frame.headerBit, header: decodeOplogHeader(buffer.subarray(frame.start, frame.end)) }
    } catch (err) {
      // A CRC-valid header we cannot read because it is newer than us must not be ignored
      // (we would fall back to an older header and lose data): let INVALID_OPLOG_VERSION out.
      if (HypercoreError.is(err, 'DECODING_ERROR')) return null
      throw err
    }
  }

  private async _resolveHeader (stored: StoredHeader): Promise<OplogHeader> {
    if (stored.external === null) {
      this._external = null
      return stored
    }
    const ext = stored.external
    if (this._headerIo === null) throw HypercoreError.OPLOG_CORRUPT('Oplog header is in the header file, but no header file was given')
    let bytes: Uint8Array
    let decoded: StoredHeader
    try {
      bytes = await this._headerIo.read(ext.start, ext.length)
      decoded = decodeOplogHeader(bytes)
    } catch (err) {
      // The big copy is written before the slot that points at it, so a missing or unreadable
      // copy is corruption, not a torn write.
      if (HypercoreError.is(err, 'INVALID_OPLOG_VERSION')) throw err
      throw new HypercoreError('OPLOG_CORRUPT', `external oplog header at ${ext.start}+${ext.length} is unreadable`, { cause: err })
    }
    if (decoded.external !== null) throw HypercoreError.OPLOG_CORRUPT('external oplog header points to another external header')
    this._external = ext
    return decoded
  }

  /**
   * Replay (§6.1): frames from 8192 while they check, decode and carry the active slot's bit;
   * then drop a trailing run of partial frames (a torn batch). Returns the entries and the
   * offset just after the last one kept.
   */
  private _replay (buffer: Uint8Array, active: 0 | 1): { entries: OplogEntry[], end: number } {
    const found: Array<{ entry: OplogEntry, partial: boolean, end: number }> = []
    let offset = ENTRIES_OFFSET
    while (true) {
      const frame = decodeFrame(buffer, offset)
      if (frame === null || frame.headerBit !== active) break
      let entry: OplogEntry
      try {
        entry = decodeOplogEntry(buffer.subarray(frame.start, frame.end))
      } catch {
        break // a CRC-valid frame that does not decode still ends the log
      }
      found.push({ entry, partial: frame.partial, end: frame.end })
      offset = frame.end
    }
    while (found.length > 0 && found[found.length - 1]!.partial) found.pop()
    return {
      entries: found.map(f => f.entry),
      end: found.length > 0 ? found[found.length - 1]!.end : ENTRIES_OFFSET
    }
  }

  /**
   * Where the full header goes in the `header` file (§6.5): where it cannot overlap the copy the
   * active slot points to: at 0 when the new copy fits before that one, else on the next
   * 4096-aligned offset after it. So the file alternates between two places instead of growing.
   */
  private _placeExternal (payload: Uint8Array): ExternalHeader {
    if (this._headerIo === null) {
      throw HypercoreError.OPLOG_HEADER_OVERFLOW(`Oplog header is ${payload.byteLength} bytes (a slot holds ${HEADER_SLOT_SIZE - FRAME_OVERHEAD}) and no header file was given`)
    }
    const prev = this._external
    const need = _align(payload.byteLength)
    const start = prev === null || prev.start >= need ? 0 : _align(prev.start + prev.length)
    return { start, length: payload.byteLength }
  }

}

function _align (n: number): number {
  return Math.ceil(n / HEADER_SLOT_SIZE) * HEADER_SLOT_SIZE
}
