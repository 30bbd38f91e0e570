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
  /** A newer connection said hello with the same peer id (a reconnect, usually). */
  REPLACED: 4004,
  /** The client does not read: its send buffer passed `maxBufferedBytes`. */
  SLOW_CONSUMER: 4005,
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
 * A signal payload: a plain JSON object (not an array, not null) whose JSON text is at most
 * `maxBytes` bytes. Its contents are opaque (SDP, ICE candidates); we only bound them.
 */
export function isSignalData (x: unknown, maxBytes: number): x is SignalData {
  if (typeof x !== 'object' || x === null || Array.isArray(x)) return false
  let text: string
  try {
    text = JSON.stringify(x)
  } catch {
    return false
  }
  // A UTF-16 length is at most the UTF-8 byte length: skip encoding for the common short case.
  if (text.length > maxBytes) return false
  return text.length * 3 <= maxBytes || encoder.encode(text).length <= maxBytes
}

/** Default bound of one signal's JSON (an SDP with all its candidates is a few KiB). */
export const DEFAULT_MAX_SIGNAL_BYTES = 16 * 1024

export type ClientMessage =
  | { type: 'hello', peerId: PeerId }
  | { type: 'join', topic: TopicHex }
  | { type: 'leave', topic: TopicHex }
  | { type: 'signal', to: PeerId, topic: TopicHex, data: SignalData }

export interface ServerLimits {
  maxMessageBytes: number
  maxSignalBytes: number
  maxTopics: number
}

export type ServerMessage =
  | { type: 'welcome', peerId: PeerId, limits: ServerLimits }
  | { type: 'peers', topic: TopicHex, peers: PeerId[] }
  | { type: 'peer-joined', topic: TopicHex, peerId: PeerId }
  | { type: 'signal', from: PeerId, topic: TopicHex, data: SignalData }

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

/** Validates a client → server message; null when anything is wrong. */
export function parseClientMessage (text: unknown, maxSignalBytes: number): ClientMessage | null {
  const m = parseObject(text)
  if (m === null) return null
  switch (m.type) {
    case 'hello':
      return isHex64(m.peerId) ? { type: 'hello', peerId: m.peerId } : null
    case 'join':
    case 'leave':
      return isHex64(m.topic) ? { type: m.type, topic: m.topic } : null
    case 'signal':
      return isHex64(m.to) && isHex64(m.topic) && isSignalData(m.data, maxSignalBytes)
        ? { type: 'signal', to: m.to, topic: m.topic, data: m.data }
        : null
    default:
      return null
  }
}

function isLimit (x: unknown): x is number {
  return typeof x === 'number' && Number.isSafeInteger(x) && x > 0
}

/** Validates a server → client message; null when anything is wrong (the client ignores it). */
export function parseServerMessage (text: unknown, maxSignalBytes: number): ServerMessage | null {
  const m = parseObject(text)
  if (m === null) return null
  switch (m.type) {
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
      return isHex64(m.from) && isHex64(m.topic) && isSignalData(m.data, maxSignalBytes)
        ? { type: 'signal', from: m.from, topic: m.topic, data: m.data }
        : null
    default:
      return null
  }
}
