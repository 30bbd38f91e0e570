/**
 * @module dht/protocol
 * The messages between a page and a DHT relay (./PROTOCOL.md), shared by both sides: one
 * binary WebSocket message each, `uint type ‖ fields` in compact-encoding. The relay runs a
 * HyperDHT node for the page; the page runs the Noise handshakes and the secret streams, so the
 * relay only ever sees handshake messages, the plaintext of HyperDHT's own handshake payloads
 * (addresses, holepunch ids: what it needs to connect) and ciphertext.
 *
 * Every field has a fixed kind; decoding checks the direction (a page never receives a
 * page-to-relay message and vice versa), the field kinds and the size of every field, and
 * throws nothing but DECODING_ERROR. The stream ids of connections a page starts are even,
 * those of connections a relay starts (incoming) are odd, so the two never collide.
 */
import c from 'compact-encoding'
import { HypercoreError } from '../errors.js'
import { CLOSE } from '../signaling/protocol.js'
import { readBuffer, readFixed, readRest, readString, readUint, type State } from '../wire/codec.js'

/** Message type numbers. 1–15 page → relay, 16–31 relay → page, 32+ either way. */
export const MSG = {
  HELLO: 1,
  JOIN: 2,
  LEAVE: 3,
  REFRESH: 4,
  SIGNATURE: 5,
  CONNECT: 6,
  NOISE: 7,
  PAYLOAD: 8,
  CHALLENGE: 16,
  WELCOME: 17,
  PEER: 18,
  LOOKUP_DONE: 19,
  SIGN: 20,
  NOISE_SEND: 21,
  NOISE_RECV: 22,
  OPEN: 23,
  DATA: 32,
  END: 33,
  CLOSE: 34
} as const

/** `JOIN` flags. */
export const JOIN_SERVER = 1
export const JOIN_CLIENT = 2

/** `SIGN` kinds: which HyperDHT signable the page is asked for. */
export const SIGN_ANNOUNCE = 0
export const SIGN_UNANNOUNCE = 1

/**
 * Close codes of the relay endpoint: signaling's (4000–4999 is RFC 6455's application range),
 * which mean the same here, plus one of the relay's own.
 */
export const RELAY_CLOSE = {
  ...CLOSE,
  /** More connections (streams) or pending handshakes at once than the relay allows. */
  TOO_MANY_STREAMS: 4007
} as const

/** Most bytes of a `DATA` message's payload either side sends (the rest of a 64 KiB message is headroom). */
export const MAX_DATA_BYTES = 60 * 1024
/** Noise messages and HyperDHT payloads are small; anything bigger is refused. */
export const MAX_HANDSHAKE_BYTES = 4096
/** A close reason, an error text. */
export const MAX_TEXT_BYTES = 256

type Kind = 'uint' | 'key' | 'sig' | 'bytes' | 'text' | 'rest'

/** Field names and kinds per message type, in wire order. */
const SCHEMA: Record<number, ReadonlyArray<readonly [string, Kind]>> = {
  [MSG.HELLO]: [['publicKey', 'key'], ['signature', 'sig']],
  [MSG.JOIN]: [['topic', 'key'], ['flags', 'uint']],
  [MSG.LEAVE]: [['topic', 'key']],
  [MSG.REFRESH]: [['topic', 'key']],
  [MSG.SIGNATURE]: [['id', 'uint'], ['signature', 'bytes']],
  [MSG.CONNECT]: [['stream', 'uint'], ['publicKey', 'key']],
  [MSG.NOISE]: [['stream', 'uint'], ['message', 'bytes'], ['holepunchSecret', 'bytes']],
  [MSG.PAYLOAD]: [['stream', 'uint'], ['payload', 'bytes'], ['publicKey', 'bytes'], ['holepunchSecret', 'bytes']],
  [MSG.CHALLENGE]: [['nonce', 'key']],
  [MSG.WELCOME]: [['maxMessageBytes', 'uint'], ['maxStreams', 'uint'], ['maxTopics', 'uint']],
  [MSG.PEER]: [['topic', 'key'], ['publicKey', 'key']],
  [MSG.LOOKUP_DONE]: [['topic', 'key'], ['error', 'text']],
  [MSG.SIGN]: [['id', 'uint'], ['kind', 'uint'], ['target', 'key'], ['nodeId', 'bytes'], ['token', 'bytes'], ['peer', 'bytes'], ['refresh', 'bytes']],
  [MSG.NOISE_SEND]: [['stream', 'uint'], ['payload', 'bytes']],
  [MSG.NOISE_RECV]: [['stream', 'uint'], ['message', 'bytes']],
  [MSG.OPEN]: [['stream', 'uint']],
  [MSG.DATA]: [['stream', 'uint'], ['data', 'rest']],
  [MSG.END]: [['stream', 'uint']],
  [MSG.CLOSE]: [['stream', 'uint'], ['reason', 'text']]
}

/** Page → relay. */
export type PageMessage =
  | { type: typeof MSG.HELLO, publicKey: Uint8Array, signature: Uint8Array }
  | { type: typeof MSG.JOIN, topic: Uint8Array, flags: number }
  | { type: typeof MSG.LEAVE, topic: Uint8Array }
  | { type: typeof MSG.REFRESH, topic: Uint8Array }
  /** `signature` empty: the page refuses to sign. */
  | { type: typeof MSG.SIGNATURE, id: number, signature: Uint8Array }
  | { type: typeof MSG.CONNECT, stream: number, publicKey: Uint8Array }
  /** The page's next Noise message; `holepunchSecret` (32 bytes) once its handshake is complete, else empty. */
  | { type: typeof MSG.NOISE, stream: number, message: Uint8Array, holepunchSecret: Uint8Array }
  /** The payload the page read from a Noise message; as responder also the initiator's key; `holepunchSecret` once complete. */
  | { type: typeof MSG.PAYLOAD, stream: number, payload: Uint8Array, publicKey: Uint8Array, holepunchSecret: Uint8Array }
  | StreamMessage

/** Relay → page. */
export type RelayMessage =
  | { type: typeof MSG.CHALLENGE, nonce: Uint8Array }
  | { type: typeof MSG.WELCOME, maxMessageBytes: number, maxStreams: number, maxTopics: number }
  | { type: typeof MSG.PEER, topic: Uint8Array, publicKey: Uint8Array }
  /** The first lookup (or a refresh) of `topic` finished; `error` is empty when it went well. */
  | { type: typeof MSG.LOOKUP_DONE, topic: Uint8Array, error: string }
  | { type: typeof MSG.SIGN, id: number, kind: number, target: Uint8Array, nodeId: Uint8Array, token: Uint8Array, peer: Uint8Array, refresh: Uint8Array }
  /** Write your next Noise message carrying `payload`. */
  | { type: typeof MSG.NOISE_SEND, stream: number, payload: Uint8Array }
  /** Read this Noise message (on an odd stream id not seen before: someone connects to you). */
  | { type: typeof MSG.NOISE_RECV, stream: number, message: Uint8Array }
  | { type: typeof MSG.OPEN, stream: number }
  | StreamMessage

export type StreamMessage =
  | { type: typeof MSG.DATA, stream: number, data: Uint8Array }
  | { type: typeof MSG.END, stream: number }
  | { type: typeof MSG.CLOSE, stream: number, reason: string }

/** Encodes any message (either direction). */
export function encodeMessage (msg: PageMessage | RelayMessage): Uint8Array {
  const schema = SCHEMA[msg.type]
  if (schema === undefined) throw HypercoreError.BAD_ARGUMENT(`unknown message type ${String(msg.type)}`)
  const fields = msg as unknown as Record<string, unknown>
  const state = { start: 0, end: 0, buffer: null as Uint8Array | null }
  c.uint.preencode(state, msg.type)
  for (const [name, kind] of schema) preencodeField(state, kind, fields[name])
  state.buffer = new Uint8Array(state.end)
  c.uint.encode(state, msg.type)
  for (const [name, kind] of schema) encodeField(state, kind, fields[name])
  return state.buffer
}

/** Decodes what a relay receives; DECODING_ERROR for anything malformed or not for a relay. */
export function decodePageMessage (buf: Uint8Array): PageMessage {
  return decode(buf, (t) => (t >= 1 && t < 16) || t >= 32) as PageMessage
}

/** Decodes what a page receives; DECODING_ERROR for anything malformed or not for a page. */
export function decodeRelayMessage (buf: Uint8Array): RelayMessage {
  return decode(buf, (t) => t >= 16) as RelayMessage
}

function decode (buf: Uint8Array, allowed: (type: number) => boolean): Record<string, unknown> & { type: number } {
  if (!(buf instanceof Uint8Array)) throw HypercoreError.DECODING_ERROR('messages are binary')
  const state: State = { start: 0, end: buf.byteLength, buffer: buf }
  const type = readUint(state)
  const schema = SCHEMA[type]
  if (schema === undefined || !allowed(type)) throw HypercoreError.DECODING_ERROR(`unexpected message type ${type}`)
  const out: Record<string, unknown> & { type: number } = { type }
  for (const [name, kind] of schema) out[name] = decodeField(state, kind)
  if (state.start !== state.end) throw HypercoreError.DECODING_ERROR('trailing bytes')
  return out
}

function preencodeField (state: State, kind: Kind, v: unknown): void {
  switch (kind) {
    case 'uint': return c.uint.preencode(state, v as number)
    case 'key': state.end += 32; return
    case 'sig': state.end += 64; return
    case 'bytes': return c.buffer.preencode(state, v as Uint8Array)
    case 'text': return c.string.preencode(state, v as string)
    case 'rest': state.end += (v as Uint8Array).byteLength
  }
}

function encodeField (state: State, kind: Kind, v: unknown): void {
  switch (kind) {
    case 'uint': return c.uint.encode(state, v as number)
    case 'key': return fixed(state, v, 32)
    case 'sig': return fixed(state, v, 64)
    case 'bytes': return c.buffer.encode(state, v as Uint8Array)
    case 'text': return c.string.encode(state, v as string)
    case 'rest': {
      const b = v as Uint8Array
      state.buffer!.set(b, state.start)
      state.start += b.byteLength
    }
  }
}

function fixed (state: State, v: unknown, n: number): void {
  if (!(v instanceof Uint8Array) || v.byteLength !== n) throw HypercoreError.BAD_ARGUMENT(`field must be ${n} bytes`)
  state.buffer!.set(v, state.start)
  state.start += n
}

function decodeField (state: State, kind: Kind): unknown {
  switch (kind) {
    case 'uint': return readUint(state)
    case 'key': return readFixed(state, 32)
    case 'sig': return readFixed(state, 64)
    case 'bytes': {
      const b = readBuffer(state)
      if (b.byteLength > MAX_HANDSHAKE_BYTES) throw HypercoreError.DECODING_ERROR('field too large')
      return b
    }
    case 'text': {
      const s = readString(state)
      if (s.length > MAX_TEXT_BYTES) throw HypercoreError.DECODING_ERROR('text too long')
      return s
    }
    case 'rest': return readRest(state)
  }
}
