/**
 * @module test/wire/transcript-frames
 * Helpers shared by the wire and mux tests: the recorded plaintext Protomux frames of the
 * wire transcript (§5.8), and conversion between our decoded values and the transcript's
 * JSON form (hex strings for bytes).
 */
import { transcript } from '../vectors/fixtures.js'
import { fromHex, hex } from '../helpers/assert.js'

export interface RecordedFrame {
  seq: number
  from: 'writer' | 'reader'
  bytes: Uint8Array
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  decoded: any[]
}

/** Every plaintext frame of the transcript, in order. */
export const recordedFrames: RecordedFrame[] = transcript.messages.map((m: { seq: number, from: 'writer' | 'reader', plaintextHex: string, decoded: unknown[] }) => ({
  seq: m.seq, from: m.from, bytes: fromHex(m.plaintextHex), decoded: m.decoded
}))

/** Our value → the transcript's JSON shape (bytes as hex). */
export function toJson (v: unknown): unknown {
  if (v instanceof Uint8Array) return hex(v)
  if (v instanceof Uint32Array) return Array.from(v)
  if (Array.isArray(v)) return v.map(toJson)
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, toJson(x)]))
  return v
}

const BYTE_FIELDS = new Set(['hash', 'value', 'signature', 'capability', 'id', 'manifest', 'message'])

/** The transcript's JSON shape → our value (hex strings in byte fields become Uint8Array). */
export function fromJson (v: unknown, key = ''): unknown {
  if (typeof v === 'string' && BYTE_FIELDS.has(key)) return fromHex(v)
  if (Array.isArray(v)) return v.map((x) => fromJson(x))
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, fromJson(x, k)]))
  return v
}

/** The transcript records v10 messages, which lack the v11-only fields our decoders fill in. */
export function withV11Defaults (name: string, msg: Record<string, unknown>): Record<string, unknown> {
  if (name === 'sync') return { ...msg, allowPush: false }
  if (name === 'noData') return { reason: null, ...msg }
  if (name === 'want' || name === 'unwant') return { any: false, ...msg }
  return msg
}
