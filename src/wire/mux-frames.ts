/**
 * @module wire/mux-frames
 * Byte layouts of Protomux frames (§5.5): channel messages, the control messages
 * open/reject/close, and batches. Pure functions over `Uint8Array`; the multiplexer's state
 * machine lives in replication/mux.
 *
 * One observation makes this small: a control message is just a message on channel 0, so
 * every frame is `uint channel ‖ uint type ‖ payload`, and a batch item is the same thing
 * without the channel (the batch carries the current channel instead).
 */
import c from 'compact-encoding'
import { HypercoreError } from '../errors.js'
import { type Codec, type State, encode, decode, guard, readUint, readBuffer, readRest, readString } from './codec.js'
import { ControlType } from './message-types.js'

/** Senders flush a batch once it holds this many bytes (§5.5: "Batches are flushed at 8 MiB"). */
export const MAX_BATCH_BYTES = 8 * 1024 * 1024

/** `open` control body: `uint localId ‖ string protocol ‖ buffer id ‖ handshake (raw)`. */
export interface OpenBody {
  /** The opener's local id for the channel (≥ 1). */
  localId: number
  protocol: string
  /** null when absent; an empty id is sent as `00` and reads back as null, like a null one (§1.1). */
  id: Uint8Array | null
  /** The protocol-specific handshake, still encoded (it is the rest of the frame). */
  handshake: Uint8Array
}

const NO_ID = new Uint8Array(0)

export const openBody: Codec<OpenBody> = {
  preencode (state, m) {
    c.uint.preencode(state, m.localId)
    c.string.preencode(state, m.protocol)
    c.buffer.preencode(state, m.id ?? NO_ID) // null is sent as 00 (§1.1)
    c.raw.preencode(state, m.handshake)
  },
  encode (state, m) {
    c.uint.encode(state, m.localId)
    c.string.encode(state, m.protocol)
    c.buffer.encode(state, m.id ?? NO_ID)
    c.raw.encode(state, m.handshake)
  },
  decode (state) {
    return guard(() => {
      const localId = readUint(state)
      if (localId === 0) throw HypercoreError.DECODING_ERROR('open with channel id 0')
      const protocol = readString(state)
      const id = readBuffer(state)
      const handshake = readRest(state)
      return { localId, protocol, id: id.byteLength === 0 ? null : id.slice(), handshake: handshake.slice() }
    })
  }
}

/** A decoded frame, or one batch item: `payload` is a view into the frame (copy it to keep it). */
export interface FrameMessage {
  channel: number
  type: number
  payload: Uint8Array
}

/** `uint channel ‖ uint type ‖ payload`: a channel message, or (channel 0) a control message. */
export function encodeFrame (channel: number, type: number, payload: Uint8Array): Uint8Array {
  const state: State = { start: 0, end: 0, buffer: null }
  c.uint.preencode(state, channel)
  c.uint.preencode(state, type)
  state.end += payload.byteLength
  const buf = new Uint8Array(state.end)
  state.buffer = buf
  c.uint.encode(state, channel)
  c.uint.encode(state, type)
  buf.set(payload, state.start)
  return buf
}

/** `uint type ‖ payload`: the body of a batch item (and of a frame after its channel id). */
export function encodeItem (type: number, payload: Uint8Array): Uint8Array {
  const state: State = { start: 0, end: 0, buffer: null }
  c.uint.preencode(state, type)
  const buf = new Uint8Array(state.end + payload.byteLength)
  state.buffer = buf
  c.uint.encode(state, type)
  buf.set(payload, state.start)
  return buf
}

/**
 * `uint type ‖ value` in one allocation: a batch item body straight from a message, instead of
 * `encodeItem(type, encode(codec, value))`, which copies the encoded message a second time
 * (at 64 KiB blocks, one 64 KiB copy per data message saved).
 */
export function encodeItemWith<T> (type: number, encoding: Codec<T>, value: T): Uint8Array {
  const state: State = { start: 0, end: 0, buffer: null }
  c.uint.preencode(state, type)
  encoding.preencode(state, value)
  const buf = new Uint8Array(state.end)
  state.buffer = buf
  c.uint.encode(state, type)
  encoding.encode(state, value)
  return buf
}

/** Splits a frame into channel, type and payload; given `channel`, splits a batch item body instead. */
export function decodeFrame (frame: Uint8Array, channel?: number): FrameMessage {
  return guard(() => {
    const state: State = { start: 0, end: frame.byteLength, buffer: frame }
    const ch = channel ?? readUint(state)
    const type = readUint(state)
    return { channel: ch, type, payload: frame.subarray(state.start) }
  })
}

/**
 * One queued batch item: the channel it is for and its `uint type ‖ payload` body, either
 * encoded (`body`) or, for a message sent deferred (`deferItem`), still to be encoded: then
 * it is written straight into the batch when the batch is encoded.
 */
export interface BatchItem {
  channel: number
  /** The encoded body; null when `deferred` holds the message instead. */
  body: Uint8Array | null
  deferred?: DeferredBody
}

/** A message whose body (`uint type ‖ value`, `byteLength` bytes) is encoded with the batch. */
export interface DeferredBody {
  type: number
  encoding: Codec<any> // eslint-disable-line @typescript-eslint/no-explicit-any
  value: unknown
  byteLength: number
}

/**
 * A batch item for `uint type ‖ value` encoded only when its batch is: `value` must not
 * change until then (the caller's promise: the message is the caller's own, fresh object).
 * Saves a buffer and a copy of the whole message per item (at 64 KiB blocks, one 64 KiB
 * buffer per data message).
 */
export function deferItem<T> (channel: number, type: number, encoding: Codec<T>, value: T): BatchItem {
  const state: State = { start: 0, end: 0, buffer: null }
  c.uint.preencode(state, type)
  encoding.preencode(state, value)
  return { channel, body: null, deferred: { type, encoding, value, byteLength: state.end } }
}

function _bodyLength (item: BatchItem): number {
  return item.body !== null ? item.body.byteLength : item.deferred!.byteLength
}

/** Bytes one item adds to a batch that is currently on `current` (for the 8 MiB flush rule). */
export function batchItemSize (item: BatchItem, current: number): number {
  const state: State = { start: 0, end: 0, buffer: null }
  if (item.channel !== current) {
    state.end++
    c.uint.preencode(state, item.channel)
  }
  const length = _bodyLength(item)
  c.uint.preencode(state, length)
  return state.end + length
}

/** `00 00 ‖ uint firstChannel ‖ { uint len ‖ body | 00 ‖ uint newChannel }*` (§5.5). */
export function encodeBatch (items: readonly BatchItem[]): Uint8Array {
  if (items.length === 0) throw HypercoreError.BAD_ARGUMENT('empty batch')
  const first = items[0].channel
  const head: State = { start: 0, end: 2, buffer: null }
  c.uint.preencode(head, first)
  let size = head.end
  let current = first
  for (const item of items) {
    size += batchItemSize(item, current)
    current = item.channel
  }
  const buf = new Uint8Array(size)
  const state: State = { start: 0, end: size, buffer: buf }
  buf[0] = 0
  buf[1] = ControlType.BATCH
  state.start = 2
  c.uint.encode(state, first)
  current = first
  for (const item of items) {
    if (item.channel !== current) {
      buf[state.start++] = 0
      c.uint.encode(state, item.channel)
      current = item.channel
    }
    const length = _bodyLength(item)
    c.uint.encode(state, length)
    if (item.body !== null) {
      buf.set(item.body, state.start)
      state.start += length
      continue
    }
    const d = item.deferred!
    const end = state.start + length
    c.uint.encode(state, d.type)
    d.encoding.encode(state, d.value)
    if (state.start !== end) throw HypercoreError.ASSERTION('a deferred message encoded to a different length than it preencoded')
  }
  return buf
}

/**
 * Walks a batch payload (what follows `00 00`), calling `onItem(channel, body)` per item
 * until it returns false. Views only: nothing is allocated per item, so a hostile batch of
 * millions of 1-byte items costs time, not memory.
 */
export function walkBatch (payload: Uint8Array, onItem: (channel: number, body: Uint8Array) => boolean | void, from: BatchPosition | null = null): BatchPosition | null {
  return guard(() => {
    const state: State = { start: from?.offset ?? 0, end: payload.byteLength, buffer: payload }
    let channel = from?.channel ?? readUint(state)
    while (state.start < state.end) {
      const len = readUint(state)
      if (len === 0) {
        channel = readUint(state)
        continue
      }
      if (len > state.end - state.start) throw HypercoreError.DECODING_ERROR('batch item runs past the frame')
      const body = payload.subarray(state.start, state.start + len)
      state.start += len
      if (onItem(channel, body) === false) return state.start < state.end ? { offset: state.start, channel } : null
    }
    return null
  })
}

/** Where a walk stopped inside a batch: the next item's offset and the channel in effect. */
export interface BatchPosition { offset: number, channel: number }

/** Validates a batch payload's structure and counts its items, without dispatching any. */
export function countBatchItems (payload: Uint8Array): number {
  let n = 0
  walkBatch(payload, () => { n++ })
  return n
}

/** Body of `reject` (the opener's id) and `close` (the sender's local id): one uint. */
export const channelIdBody: Codec<number> = {
  preencode (state, id) { c.uint.preencode(state, id) },
  encode (state, id) { c.uint.encode(state, id) },
  decode (state) { return guard(() => readUint(state)) }
}

export function encodeOpen (m: OpenBody): Uint8Array { return encodeFrame(0, ControlType.OPEN, encode(openBody, m)) }
export function decodeOpenBody (body: Uint8Array): OpenBody { return decode(openBody, body) }
export function encodeReject (remoteId: number): Uint8Array { return encodeFrame(0, ControlType.REJECT, encode(channelIdBody, remoteId)) }
export function encodeClose (localId: number): Uint8Array { return encodeFrame(0, ControlType.CLOSE, encode(channelIdBody, localId)) }
export function decodeChannelIdBody (body: Uint8Array): number { return decode(channelIdBody, body) }
