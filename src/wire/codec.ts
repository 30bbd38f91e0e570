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
import c from 'compact-encoding'
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
 * A varint that must be a JS-safe integer. compact-encoding happily returns an imprecise
 * number for a 64-bit value above 2^53; no honest index, length or id is that large (§1.1),
 * and an imprecise one would make later arithmetic lie. (Recent compact-encoding refuses
 * them itself, with a plain Error.) Call it inside `guard`, like every other reader.
 */
export function readUint (state: State): number {
  const n = c.uint.decode(state)
  if (n > Number.MAX_SAFE_INTEGER) throw HypercoreError.DECODING_ERROR(`varint ${n} is above 2^53`)
  return n
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
