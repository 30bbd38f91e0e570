/**
 * @module replication/framing/frame-parser
 * The outermost layer of the replication wire (spec §5.2): every unit on the raw byte stream
 * is `uint24le(len) ‖ payload[len]` — the Noise handshake messages, the secret-stream header
 * and every encrypted message alike. This parser turns arbitrary chunks back into payloads.
 *
 * - A transport may split anywhere, including inside the 3-byte length, so the length is
 *   accumulated byte by byte across chunks.
 * - The length is checked against `maxFrameSize` (and an optional per-frame `lengthCheck`
 *   hook, used for the fixed-size handshake messages) *as soon as it is known*, before a single
 *   payload byte is buffered: a peer cannot make us allocate 16 MiB by announcing it.
 * - Zero-copy where cheap: a frame that lies wholly inside one chunk is handed out as a
 *   `subarray` of that chunk. Only frames that straddle chunks are copied, once, into a buffer
 *   of exactly their size.
 */
import { HypercoreError } from '../../errors.js'

/** The largest payload a uint24 length can describe (2^24 − 1). */
export const MAX_FRAME_SIZE = 0xffffff
/** Bytes of the length prefix. */
export const FRAME_HEADER_BYTES = 3

export interface FrameParserOptions {
  /** Frames longer than this are refused with FRAME_TOO_LARGE. Default and ceiling: MAX_FRAME_SIZE. */
  maxFrameSize?: number
}

/** Called once per complete payload. The array may be a view into the caller's chunk: copy it to keep it past the call. */
export type FrameHandler = (payload: Uint8Array) => void

export function checkMaxFrameSize (n: unknown): number {
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > MAX_FRAME_SIZE) {
    throw HypercoreError.BAD_ARGUMENT(`maxFrameSize must be an integer in 0..${MAX_FRAME_SIZE}, got ${String(n)}`)
  }
  return n
}

export class FrameParser {
  maxFrameSize: number
  /**
   * Runs on every announced length before its payload is read; throw (a HypercoreError) to
   * refuse it. The secret stream uses it to insist on the exact size of each handshake message.
   */
  lengthCheck: ((len: number) => void) | null = null

  /** How many of the 3 length bytes of the current frame have been read (0 = between frames). */
  private _lenBytes = 0
  private _len = 0
  /** The payload being assembled across chunks (null while reading a length). */
  private _partial: Uint8Array | null = null
  private _filled = 0
  private _failed: HypercoreError | null = null

  constructor (opts: FrameParserOptions = {}) {
    this.maxFrameSize = checkMaxFrameSize(opts.maxFrameSize ?? MAX_FRAME_SIZE)
  }

  /** True when the parser sits exactly on a frame boundary (nothing half-read). */
  get idle (): boolean {
    return this._lenBytes === 0 && this._partial === null
  }

  /** Bytes held for the frame in progress (length bytes included). */
  get buffered (): number {
    return this._partial === null ? this._lenBytes : FRAME_HEADER_BYTES + this._filled
  }

  /**
   * Feeds one chunk and calls `onframe` for every frame it completes, in order. If a length is
   * refused or `onframe` throws, the error propagates, the parser stays failed and every later
   * `push` throws that error again: after a protocol error the byte stream has no trustworthy
   * boundaries left.
   */
  push (chunk: Uint8Array, onframe: FrameHandler): void {
    if (this._failed !== null) throw this._failed
    if (!(chunk instanceof Uint8Array)) throw HypercoreError.BAD_ARGUMENT('frame parser input must be a Uint8Array')
    try {
      this._push(chunk, onframe)
    } catch (err) {
      this._failed = HypercoreError.is(err) ? err : HypercoreError.DECODING_ERROR('frame handler failed', err)
      this._partial = null
      throw this._failed
    }
  }

  private _push (chunk: Uint8Array, onframe: FrameHandler): void {
    const end = chunk.byteLength
    let i = 0
    while (i < end) {
      if (this._partial === null) {
        // Fast path: a whole length prefix available at a frame boundary.
        if (this._lenBytes === 0 && end - i >= FRAME_HEADER_BYTES) {
          this._len = chunk[i]! | (chunk[i + 1]! << 8) | (chunk[i + 2]! << 16)
          i += FRAME_HEADER_BYTES
        } else {
          this._len |= chunk[i++]! << (8 * this._lenBytes)
          if (++this._lenBytes < FRAME_HEADER_BYTES) continue
        }
        this._lenBytes = 0
        const len = this._len
        this._len = 0
        this._checkLength(len)
        if (end - i >= len) {
          // The whole payload is in this chunk: hand out a view, no copy.
          const payload = chunk.subarray(i, i + len)
          i += len
          onframe(payload)
          continue
        }
        this._partial = new Uint8Array(len)
        this._filled = 0
      }
      const want = this._partial.byteLength - this._filled
      const take = Math.min(want, end - i)
      this._partial.set(chunk.subarray(i, i + take), this._filled)
      this._filled += take
      i += take
      if (this._filled === this._partial.byteLength) {
        const payload = this._partial
        this._partial = null
        this._filled = 0
        onframe(payload)
      }
    }
  }

  private _checkLength (len: number): void {
    if (len > this.maxFrameSize) {
      throw HypercoreError.FRAME_TOO_LARGE(`frame of ${len} bytes exceeds the limit of ${this.maxFrameSize}`)
    }
    if (this.lengthCheck !== null) this.lengthCheck(len)
  }

  /**
   * Call when the byte stream ends. Throws DECODING_ERROR when it ended inside a frame (a
   * truncated stream); returns quietly on a frame boundary.
   */
  end (): void {
    if (this._failed !== null) return
    if (!this.idle) {
      const held = this.buffered
      this._partial = null
      this._lenBytes = 0
      this._failed = HypercoreError.DECODING_ERROR(`stream ended inside a frame (${held} bytes of it received)`)
      throw this._failed
    }
  }
}

/** Writes the 3-byte little-endian length of a frame at `offset`. */
export function writeFrameHeader (buf: Uint8Array, offset: number, len: number): void {
  if (!Number.isInteger(len) || len < 0 || len > MAX_FRAME_SIZE) {
    throw HypercoreError.FRAME_TOO_LARGE(`a frame payload must be 0..${MAX_FRAME_SIZE} bytes, got ${len}`)
  }
  buf[offset] = len & 0xff
  buf[offset + 1] = (len >>> 8) & 0xff
  buf[offset + 2] = len >>> 16
}

/** `uint24le(len) ‖ payload` as a fresh array. */
export function encodeFrame (payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(FRAME_HEADER_BYTES + payload.byteLength)
  writeFrameHeader(out, 0, payload.byteLength)
  out.set(payload, FRAME_HEADER_BYTES)
  return out
}
