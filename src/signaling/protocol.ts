/**
 * @module signaling/protocol
 * The JSON messages of our signaling protocol (see PROTOCOL.md beside this file), their
 * validators and the server's close codes. Shared by the Node server, the WebSocket client
 * and the BroadcastChannel client, so all three accept exactly the same shapes. Browser-safe.
 *
 * Parsers return null for anything invalid instead of throwing: the server turns null into a
 * close with `CLOSE.BAD_MESSAGE`, the clients ignore it. Parsed messages are rebuilt from the
 * validated fields only, so unknown extra fields are never relayed.
 */
import type { SignalData } from '../transport/types.js'
import { isSeq, isSignatureHex } from './auth.js'
import type { PeerId, TopicHex } from './types.js'

/** Close codes the server uses (4000–4999 is the application range of RFC 6455 §7.4.2). */
export const CLOSE = {
  /** Server shutting down. */
  GOING_AWAY: 1001,
  /** A frame over `maxMessageBytes` (ws closes with this code itself). */
  MESSAGE_TOO_BIG: 1009,
  /** Not JSON, binary, an unknown type or an invalid field. */
  BAD_MESSAGE: 4000,
  /** The first message was not `hello`, `hello` came twice, or none came in time. */
  HELLO_REQUIRED: 4001,
  /** More topics joined at once than `maxTopics`. */
  TOO_MANY_TOPICS: 4002,
  /** The server has `maxConnections` clients already. */
  SERVER_FULL: 4003,
  /** A newer connection proved the same peer id (a reconnect, usually). */
  REPLACED: 4004,
  /** The client does not read: its send buffer passed `maxBufferedBytes`. */
  SLOW_CONSUMER: 4005,
  /**
   * The hello's signature does not verify for its peer id over this connection's challenge
   * and this server's host: an impostor, an answer to another connection's challenge, or a
   * challenge relayed from another server.
   */
  AUTH_FAILED: 4006,
  /** The client sent faster than its token bucket allows. */
  RATE_LIMITED: 4029
} as const

const HEX64 = /^[0-9a-f]{64}$/

/** 64 lowercase hex characters: a peer id (Noise public key) or a topic (discovery key). */
export function isHex64 (x: unknown): x is string {
  return typeof x === 'string' && HEX64.test(x)
}

const encoder = new TextEncoder()

/**
 * The JSON text of a signal as it travels (what its sender signed): a string of at most
 * `maxBytes` UTF-8 bytes. Whether it holds a JSON object is `parseSignalText`'s job.
 */
export function isSignalText (x: unknown, maxBytes: number): x is string {
  if (typeof x !== 'string') return false
  // A UTF-16 length is at most the UTF-8 byte length: skip encoding for the common short case.
  if (x.length > maxBytes) return false
  return x.length * 3 <= maxBytes || encoder.encode(x).length <= maxBytes
}

/** A signal's JSON text parsed: a plain JSON object (not an array, not null), else null. */
export function parseSignalText (text: string): SignalData | null {
  let v: unknown
  try {
    v = JSON.parse(text)
  } catch {
    return null
  }
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? v as SignalData : null
}

/**
 * The JSON text of an outgoing signal, or null when `data` is not a plain JSON object whose text
 * fits in `maxBytes` (a server closes a client that sends such a signal: the client drops it).
 */
export function toSignalText (data: unknown, maxBytes: number): string | null {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return null
  let text: string
  try {
    text = JSON.stringify(data)
  } catch {
    return null
  }
  return isSignalText(text, maxBytes) ? text : null
}

/** Default bound of one signal's JSON (an SDP with all its candidates is a few KiB). */
export const DEFAULT_MAX_SIGNAL_BYTES = 16 * 1024

export type ClientMessage =
  | { type: 'hello', peerId: PeerId, signature: string }
  | { type: 'join', topic: TopicHex }
  | { type: 'leave', topic: TopicHex }
  | { type: 'signal', to: PeerId, topic: TopicHex, data: string, seq: number, signature: string }

export interface ServerLimits {
  maxMessageBytes: number
  maxSignalBytes: number
  maxTopics: number
}

export type ServerMessage =
  | { type: 'challenge', nonce: string }
  | { type: 'welcome', peerId: PeerId, limits: ServerLimits }
  | { type: 'peers', topic: TopicHex, peers: PeerId[] }
  | { type: 'peer-joined', topic: TopicHex, peerId: PeerId }
  | { type: 'signal', from: PeerId, topic: TopicHex, data: string, seq: number, signature: string }

function parseObject (text: unknown): Record<string, unknown> | null {
  if (typeof text !== 'string') return null
  let v: unknown
  try {
    v = JSON.parse(text)
  } catch {
    return null
  }
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? v as Record<string, unknown> : null
}

/**
 * Validates a client → server message; null when anything is wrong. A signal's text must hold
 * a JSON object (checked here, so the server relays nothing else); its signature is checked
 * only for its shape: the receiver verifies it, the server has no reason to trust it either way.
 */
export function parseClientMessage (text: unknown, maxSignalBytes: number): ClientMessage | null {
  const m = parseObject(text)
  if (m === null) return null
  switch (m.type) {
    case 'hello':
      return isHex64(m.peerId) && isSignatureHex(m.signature) ? { type: 'hello', peerId: m.peerId, signature: m.signature } : null
    case 'join':
    case 'leave':
      return isHex64(m.topic) ? { type: m.type, topic: m.topic } : null
    case 'signal':
      return isHex64(m.to) && isHex64(m.topic) && isSignalText(m.data, maxSignalBytes) && parseSignalText(m.data) !== null &&
        isSeq(m.seq) && isSignatureHex(m.signature)
        ? { type: 'signal', to: m.to, topic: m.topic, data: m.data, seq: m.seq, signature: m.signature }
        : null
    default:
      return null
  }
}

function isLimit (x: unknown): x is number {
  return typeof x === 'number' && Number.isSafeInteger(x) && x > 0
}

/**
 * Validates a server → client message; null when anything is wrong (the client ignores it).
 * A signal is only checked for its shape here: the client verifies its signature and counter
 * (auth.ts) before parsing its text.
 */
export function parseServerMessage (text: unknown, maxSignalBytes: number): ServerMessage | null {
  const m = parseObject(text)
  if (m === null) return null
  switch (m.type) {
    case 'challenge':
      return isHex64(m.nonce) ? { type: 'challenge', nonce: m.nonce } : null
    case 'welcome': {
      const l = m.limits as Record<string, unknown> | null
      if (!isHex64(m.peerId) || typeof l !== 'object' || l === null) return null
      if (!isLimit(l.maxMessageBytes) || !isLimit(l.maxSignalBytes) || !isLimit(l.maxTopics)) return null
      return { type: 'welcome', peerId: m.peerId, limits: { maxMessageBytes: l.maxMessageBytes, maxSignalBytes: l.maxSignalBytes, maxTopics: l.maxTopics } }
    }
    case 'peers':
      if (!isHex64(m.topic) || !Array.isArray(m.peers) || !m.peers.every(isHex64)) return null
      return { type: 'peers', topic: m.topic, peers: m.peers.slice() }
    case 'peer-joined':
      return isHex64(m.topic) && isHex64(m.peerId) ? { type: 'peer-joined', topic: m.topic, peerId: m.peerId } : null
    case 'signal':
      return isHex64(m.from) && isHex64(m.topic) && isSignalText(m.data, maxSignalBytes) && isSeq(m.seq) && isSignatureHex(m.signature)
        ? { type: 'signal', from: m.from, topic: m.topic, data: m.data, seq: m.seq, signature: m.signature }
        : null
    default:
      return null
  }
}
