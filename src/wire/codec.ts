/**
 * @module wire/codec
 * The small shared vocabulary of the wire layer: the compact-encoding `Codec` shape, a
 * decode guard that turns every failure into `HypercoreError` DECODING_ERROR, bounded
 * readers for untrusted input, and one-shot `encode`/`decode` helpers.
 *
 * Why a guard: compact-encoding throws plain `Error`s (and a bad `Uint32Array` view can
 * throw a `RangeError`). Bytes on the wire come from remote peers, so the replication layer
 * must be able to tell "the peer sent garbage" (close that connection) from a bug in us.
 */
import { HypercoreError } from '../errors.js'

/** compact-encoding's state: `buffer[start..end]` is what is left to read (or the size counted so far). */
export interface State {
  start: number
  end: number
  buffer: Uint8Array | null
}

/** A compact-encoding codec (the same shape as compact-encoding's own `Encoder`). */
export interface Codec<T> {
  preencode (state: State, value: T): void
  encode (state: State, value: T): void
  decode (state: State): T
}

/** Runs a decoder and turns every failure into DECODING_ERROR (HypercoreErrors pass through). */
export function guard<T> (fn: () => T): T {
  try {
    return fn()
  } catch (err) {
    if (HypercoreError.is(err)) throw err
    throw HypercoreError.DECODING_ERROR(err instanceof Error ? err.message : 'malformed message', err)
  }
}

/**
 * Reads a compact-encoding `uint` (§1.1) that must be a JS-safe integer. Our own reader, not
 * `c.uint.decode`: it throws DECODING_ERROR directly (one exception per bad message instead
 * of compact-encoding's plain Error plus our wrapper), and refuses a 64-bit value above
 * 2^53, which no honest index, length or id reaches and which could not be held exactly.
 */
export function readUint (state: State): number {
  const buf = state.buffer as Uint8Array
  if (state.start >= state.end) throw HypercoreError.DECODING_ERROR('varint out of bounds')
  const a = buf[state.start++]
  if (a <= 0xfc) return a
  const s = state.start
  const need = a === 0xfd ? 2 : a === 0xfe ? 4 : 8
  if (state.end - s < need) throw HypercoreError.DECODING_ERROR('varint out of bounds')
  state.start += need
  if (a === 0xfd) return buf[s] | (buf[s + 1] << 8)
  const lo = (buf[s] | (buf[s + 1] << 8) | (buf[s + 2] << 16)) + buf[s + 3] * 0x1000000
  if (a === 0xfe) return lo
  const hi = (buf[s + 4] | (buf[s + 5] << 8) | (buf[s + 6] << 16)) + buf[s + 7] * 0x1000000
  if (hi > 0x1fffff) throw HypercoreError.DECODING_ERROR('varint is above 2^53')
  return hi * 0x100000000 + lo
}

/** `len` raw bytes, as a view (callers copy what they keep). */
export function readFixed (state: State, len: number): Uint8Array {
  if (state.end - state.start < len) throw HypercoreError.DECODING_ERROR('message is truncated')
  const out = (state.buffer as Uint8Array).subarray(state.start, state.start + len)
  state.start += len
  return out
}

/** `buffer`: `uint len ‖ bytes`, as a view. */
export function readBuffer (state: State): Uint8Array {
  return readFixed(state, readUint(state))
}

/** Everything left (`raw`), as a view. */
export function readRest (state: State): Uint8Array {
  return readFixed(state, state.end - state.start)
}

const utf8 = new TextDecoder('utf-8')

/** `string`: `uint len ‖ utf8` (invalid sequences become U+FFFD, as compact-encoding does). */
export function readString (state: State): string {
  return utf8.decode(readBuffer(state))
}

/** True when unread bytes remain (how v10 decoders skip v11's trailing optional fields, §5.10). */
export function hasMore (state: State): boolean {
  return state.start < state.end
}

/** Encodes one value into a fresh, exactly sized `Uint8Array`. */
export function encode<T> (codec: Codec<T>, value: T): Uint8Array {
  const state: State = { start: 0, end: 0, buffer: null }
  codec.preencode(state, value)
  state.buffer = new Uint8Array(state.end)
  codec.encode(state, value)
  return state.buffer
}

/** Decodes one value from `buf`; trailing bytes are allowed (forward compatibility, §5.5). */
export function decode<T> (codec: Codec<T>, buf: Uint8Array): T {
  return guard(() => codec.decode({ start: 0, end: buf.byteLength, buffer: buf }))
}
