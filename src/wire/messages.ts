/**
 * @module wire/messages
 * compact-encoding codecs for every hypercore channel message (§5.6) and the channel's
 * open handshake. `request` and `data` live in proof-messages.ts and are re-exported here,
 * so `channelCodecs[type]` is the whole channel in type order.
 *
 * Decoders tolerate trailing bytes (v11 appends optional fields, §5.10; Protomux frames may
 * grow) and throw nothing but `HypercoreError` DECODING_ERROR.
 */
import c from 'compact-encoding'
import { HypercoreError } from '../errors.js'
import { type Codec, type State, encode as encodeWith, decode as decodeWith, guard, hasMore, readUint, readFixed, readRest, readString } from './codec.js'
import { request, data, type RequestMessage, type DataMessage } from './proof-messages.js'
import { MessageType } from './message-types.js'

export { request, data, node, nodeArray, MAX_PROOF_NODES } from './proof-messages.js'
export type { RequestMessage, DataMessage } from './proof-messages.js'
export { MessageType, ControlType, HYPERCORE_PROTOCOL, MESSAGE_NAMES } from './message-types.js'

/**
 * Most 32-bit words one `bitfield` message may carry: one 256 KiB bitfield segment
 * (2^21 blocks), the most JS ever sends (§5.7 "at most the 256 KiB segment").
 */
export const MAX_BITFIELD_WORDS = 65536

export interface SyncMessage {
  fork: number
  length: number
  /** The last length the sender heard from us: an acknowledgement (§5.7). */
  remoteLength: number
  canUpgrade: boolean
  uploading: boolean
  downloading: boolean
  hasManifest: boolean
  /** v11 flag bit4; v10 peers never set it and ignore it. */
  allowPush: boolean
}
export interface CancelMessage { request: number }
/** `reason` is v11's optional trailing field (null when absent, and then not encoded). */
export interface NoDataMessage { request: number, reason: number | null }
/** `any` is v11's optional trailing flag (bit0); false is encoded as nothing, as v10 does. */
export interface WantMessage { start: number, length: number, any: boolean }
export interface BitfieldMessage { start: number, bitfield: Uint32Array }
export interface RangeMessage { drop: boolean, start: number, length: number }
export interface ExtensionMessage { name: string, message: Uint8Array }
/** The open handshake of a hypercore channel: `uint flags (bit0 seeks) ‖ fixed32 capability`. */
export interface HandshakeMessage { seeks: boolean, capability: Uint8Array }

/** preencode/encode for a message that is a list of uints (most of them). */
function uints<T> (list: (m: T) => number[]): Pick<Codec<T>, 'preencode' | 'encode'> {
  return {
    preencode (state, m) { for (const n of list(m)) c.uint.preencode(state, n) },
    encode (state, m) { for (const n of list(m)) c.uint.encode(state, n) }
  }
}

const SYNC_CAN_UPGRADE = 1
const SYNC_UPLOADING = 2
const SYNC_DOWNLOADING = 4
const SYNC_HAS_MANIFEST = 8
const SYNC_ALLOW_PUSH = 16

function syncUints (m: SyncMessage): number[] {
  const flags = (m.canUpgrade ? SYNC_CAN_UPGRADE : 0) | (m.uploading ? SYNC_UPLOADING : 0) |
    (m.downloading ? SYNC_DOWNLOADING : 0) | (m.hasManifest ? SYNC_HAS_MANIFEST : 0) | (m.allowPush ? SYNC_ALLOW_PUSH : 0)
  return [flags, m.fork, m.length, m.remoteLength]
}

/** `sync` (type 0). */
export const sync: Codec<SyncMessage> = {
  ...uints(syncUints),
  decode (state) {
    return guard(() => {
      const flags = readUint(state)
      return {
        fork: readUint(state),
        length: readUint(state),
        remoteLength: readUint(state),
        canUpgrade: (flags & SYNC_CAN_UPGRADE) !== 0,
        uploading: (flags & SYNC_UPLOADING) !== 0,
        downloading: (flags & SYNC_DOWNLOADING) !== 0,
        hasManifest: (flags & SYNC_HAS_MANIFEST) !== 0,
        allowPush: (flags & SYNC_ALLOW_PUSH) !== 0
      }
    })
  }
}

/** `cancel` (type 2). */
export const cancel: Codec<CancelMessage> = {
  ...uints(((m: CancelMessage) => [m.request])),
  decode (state) { return guard(() => ({ request: readUint(state) })) }
}

/** `noData` (type 4): `uint request` and, from v11, `[uint flags ‖ [uint reason]]`. */
export const noData: Codec<NoDataMessage> = {
  ...uints(((m: NoDataMessage) => m.reason === null ? [m.request] : [m.request, 1, m.reason])),
  decode (state) {
    return guard(() => {
      const requestId = readUint(state)
      let reason: number | null = null
      if (hasMore(state)) {
        const flags = readUint(state)
        if (flags & 1) reason = readUint(state)
      }
      return { request: requestId, reason }
    })
  }
}

function wantCodec (): Codec<WantMessage> {
  return {
    ...uints(((m: WantMessage) => m.any ? [m.start, m.length, 1] : [m.start, m.length])),
    decode (state) {
      return guard(() => {
        const start = readUint(state)
        const length = readUint(state)
        const any = hasMore(state) ? (readUint(state) & 1) !== 0 : false
        return { start, length, any }
      })
    }
  }
}

/** `want` (type 5). */
export const want: Codec<WantMessage> = wantCodec()
/** `unwant` (type 6): the same layout as want; a v10 peer reads and ignores it. */
export const unwant: Codec<WantMessage> = wantCodec()

/** `bitfield` (type 7): `uint start ‖ uint32array`, words little-endian (§5.6, §9 "host order"). */
export const bitfield: Codec<BitfieldMessage> = {
  preencode (state, m) {
    c.uint.preencode(state, m.start)
    c.uint.preencode(state, m.bitfield.length)
    state.end += 4 * m.bitfield.length
  },
  encode (state, m) {
    c.uint.encode(state, m.start)
    c.uint.encode(state, m.bitfield.length)
    const buf = state.buffer as Uint8Array
    const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength)
    for (const word of m.bitfield) {
      view.setUint32(state.start, word, true)
      state.start += 4
    }
  },
  decode (state) {
    return guard(() => {
      const start = readUint(state)
      if (start % 32 !== 0) throw HypercoreError.DECODING_ERROR(`bitfield start ${start} is not a multiple of 32`)
      const words = readUint(state)
      if (words > MAX_BITFIELD_WORDS) throw HypercoreError.DECODING_ERROR(`bitfield of ${words} words exceeds one segment`)
      const bytes = readFixed(state, 4 * words)
      const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
      // Read word by word: the payload is rarely 4-byte aligned, and the wire is little-endian
      // whatever the host is.
      const out = new Uint32Array(words)
      for (let i = 0; i < words; i++) out[i] = view.getUint32(4 * i, true)
      return { start, bitfield: out }
    })
  }
}

const RANGE_DROP = 1
const RANGE_ONE = 2

/** `range` (type 8): flag bit1 means "length is 1" and the length is then left out. */
export const range: Codec<RangeMessage> = {
  ...uints(((m: RangeMessage) => {
    const flags = (m.drop ? RANGE_DROP : 0) | (m.length === 1 ? RANGE_ONE : 0)
    return m.length === 1 ? [flags, m.start] : [flags, m.start, m.length]
  })),
  decode (state) {
    return guard(() => {
      const flags = readUint(state)
      const start = readUint(state)
      const length = flags & RANGE_ONE ? 1 : readUint(state)
      return { drop: (flags & RANGE_DROP) !== 0, start, length }
    })
  }
}

/** `extension` (type 9): `string name ‖ raw message` (an empty name means "as the last one", §5.7). */
export const extension: Codec<ExtensionMessage> = {
  preencode (state, m) {
    c.string.preencode(state, m.name)
    c.raw.preencode(state, m.message)
  },
  encode (state, m) {
    c.string.encode(state, m.name)
    c.raw.encode(state, m.message)
  },
  decode (state) {
    return guard(() => {
      const name = readString(state)
      // Copy: the message outlives the frame, which may be a view of a larger batch.
      const message = readRest(state).slice()
      return { name, message }
    })
  }
}

/** The channel open handshake (§5.6). JS always sends flags = 1 (seeks supported). */
export const handshake: Codec<HandshakeMessage> = {
  preencode (state, m) {
    c.uint.preencode(state, m.seeks ? 1 : 0)
    c.fixed32.preencode(state, m.capability)
  },
  encode (state, m) {
    c.uint.encode(state, m.seeks ? 1 : 0)
    c.fixed32.encode(state, m.capability)
  },
  decode (state) {
    return guard(() => {
      const flags = readUint(state)
      const capability = readFixed(state, 32).slice()
      return { seeks: (flags & 1) !== 0, capability }
    })
  }
}

/** Each channel message's codec, indexed by its type number (the Protomux message index). */
export const channelCodecs: readonly [
  Codec<SyncMessage>, Codec<RequestMessage>, Codec<CancelMessage>, Codec<DataMessage>, Codec<NoDataMessage>,
  Codec<WantMessage>, Codec<WantMessage>, Codec<BitfieldMessage>, Codec<RangeMessage>, Codec<ExtensionMessage>
] = [sync, request, cancel, data, noData, want, unwant, bitfield, range, extension]

/** Value type of each channel message, by type name. */
export interface ChannelMessages {
  SYNC: SyncMessage
  REQUEST: RequestMessage
  CANCEL: CancelMessage
  DATA: DataMessage
  NO_DATA: NoDataMessage
  WANT: WantMessage
  UNWANT: WantMessage
  BITFIELD: BitfieldMessage
  RANGE: RangeMessage
  EXTENSION: ExtensionMessage
}

/** A decoded channel message with its type. */
export type AnyChannelMessage = { [K in keyof ChannelMessages]: { type: (typeof MessageType)[K], message: ChannelMessages[K] } }[keyof ChannelMessages]

/** Encodes one message body (no Protomux header). */
export function encodeMessage<K extends keyof ChannelMessages> (type: (typeof MessageType)[K], message: ChannelMessages[K]): Uint8Array {
  const codec = channelCodecs[type] as unknown as Codec<ChannelMessages[K]> | undefined
  if (codec === undefined) throw HypercoreError.BAD_ARGUMENT(`unknown message type ${String(type)}`)
  return encodeWith(codec, message)
}

/**
 * Decodes one message body of a known type. Returns null for a type this version does not
 * know (Protomux ignores those, §5.5); throws DECODING_ERROR for malformed bytes.
 */
export function decodeMessage (type: number, body: Uint8Array): AnyChannelMessage | null {
  const codec = channelCodecs[type] as Codec<unknown> | undefined
  if (codec === undefined) return null
  return { type, message: decodeWith(codec, body) } as AnyChannelMessage
}

export function encodeHandshake (m: HandshakeMessage): Uint8Array { return encodeWith(handshake, m) }
export function decodeHandshake (buf: Uint8Array): HandshakeMessage { return decodeWith(handshake, buf) }

export type { Codec, State }
