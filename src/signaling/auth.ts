/**
 * @module signaling/auth
 * Peer ids that prove themselves. A peer id is the hex of an Ed25519 public key: the swarm's
 * Noise static key, whose secret half signs here too (as HyperDHT signs its announcements with
 * the key of its Noise handshakes). Two things are signed, each behind its own
 * domain-separation prefix so a signature made for one can never pass for the other, nor for
 * anything outside signaling:
 *
 * - the answer to a server's challenge (`hello`), which proves the id to the server;
 * - every relayed signal, which proves the sender to the receiver end to end, so neither the
 *   server nor another script on a BroadcastChannel can speak in another peer's name.
 *
 * The signed bytes are fixed-width fields followed by one variable field that runs to the end,
 * so the encoding is unambiguous without length prefixes (see ./PROTOCOL.md, "Signatures").
 * The signal's `data` is signed as the exact JSON text that travels: JSON objects have no
 * canonical byte form (key order, number spelling), text does.
 *
 * Browser-safe. Signing is the swarm's (`SignalingContext.sign`): clients never hold the
 * secret key. Verification needs `cryptoReady()` to have resolved.
 */
import { HypercoreError } from '../errors.js'
import { _writeU64LE } from '../crypto/bytes.js'
import { verify } from '../crypto/sign.js'
import type { PeerId, SignalingContext, TopicHex } from './types.js'

function fromHex (s: string): Uint8Array {
  const out = new Uint8Array(s.length >>> 1)
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.slice(2 * i, 2 * i + 2), 16)
  return out
}

/**
 * The prefixes are `namespace('hypercore-web/signaling', 2)` (crypto/hash.ts, the same
 * derivation as Hypercore's caps): `ns = BLAKE2b-256(utf8(name))`, `NS[i] = BLAKE2b-256(ns ‖ byte(i))`.
 * Hardcoded so that importing them needs no sodium; test/signaling/auth.test.ts re-derives them.
 */
export const NAMESPACE = { name: 'hypercore-web/signaling', count: 2 } as const
/** [0] Prefix of a hello's signable: the answer to a server's challenge. */
export const HELLO = fromHex('95cc31a5b841ac91cf537a90bd1448b5d97ab29f84453f666b25da214d525227')
/** [1] Prefix of a relayed signal's signable. */
export const SIGNAL = fromHex('1ace3e670e8c65f7d9455a566fc2b518d45195e875075e4ba230f6e3f02ceb1f')

/** Bytes of a server's challenge nonce (sent as 64 hex characters). */
export const NONCE_BYTES = 32
/** Hosts longer than this are not signed (a DNS name is at most 253 bytes, plus a port). */
export const MAX_HOST_BYTES = 512

const HEX128 = /^[0-9a-f]{128}$/
const encoder = new TextEncoder()

/** 128 lowercase hex characters: a detached Ed25519 signature. */
export function isSignatureHex (x: unknown): x is string {
  return typeof x === 'string' && HEX128.test(x)
}

/** A signal counter: a safe integer ≥ 0 (a JSON number that survives every parser intact). */
export function isSeq (x: unknown): x is number {
  return typeof x === 'number' && Number.isSafeInteger(x) && x >= 0
}

function putHex (out: Uint8Array, offset: number, hex: string): void {
  for (let i = 0; i < hex.length; i += 2) out[offset + (i >>> 1)] = parseInt(hex.slice(i, i + 2), 16)
}

/**
 * What a client signs to answer a challenge:
 * `HELLO (32) ‖ nonce (32) ‖ peer id (32) ‖ utf8(host)` where `host` is the lowercase
 * `host[:port]` of the URL the client dialled (`new URL(url).host`). The nonce makes the answer
 * good for one connection; the host makes it good for one server, so a server we also use
 * cannot pass our answer to its challenge on to another server as its own.
 */
export function helloSignable (nonce: Uint8Array, peerId: PeerId, host: string): Uint8Array {
  if (nonce.byteLength !== NONCE_BYTES) throw HypercoreError.BAD_ARGUMENT(`nonce must be ${NONCE_BYTES} bytes`)
  const h = encoder.encode(host.toLowerCase())
  if (h.byteLength > MAX_HOST_BYTES) throw HypercoreError.BAD_ARGUMENT('host is too long')
  const out = new Uint8Array(32 + 32 + 32 + h.byteLength)
  out.set(HELLO, 0)
  out.set(nonce, 32)
  putHex(out, 64, peerId)
  out.set(h, 96)
  return out
}

/**
 * What the sender of a signal signs:
 * `SIGNAL (32) ‖ from (32) ‖ to (32) ‖ topic (32) ‖ u64le(seq) (8) ‖ utf8(data)` where ids and
 * topic are the raw 32-byte keys and `data` is the JSON text exactly as carried on the wire.
 */
export function signalSignable (from: PeerId, to: PeerId, topic: TopicHex, seq: number, data: string): Uint8Array {
  const d = encoder.encode(data)
  const out = new Uint8Array(32 * 4 + 8 + d.byteLength)
  out.set(SIGNAL, 0)
  putHex(out, 32, from)
  putHex(out, 64, to)
  putHex(out, 96, topic)
  _writeU64LE(out, 128, seq)
  out.set(d, 136)
  return out
}

function startsWith (msg: Uint8Array, prefix: Uint8Array): boolean {
  if (msg.byteLength < prefix.byteLength) return false
  for (let i = 0; i < prefix.byteLength; i++) if (msg[i] !== prefix[i]) return false
  return true
}

/**
 * True for bytes made by `helloSignable` or `signalSignable`: the only messages the swarm
 * signs for a signaling client (`SignalingContext.sign`), so a client cannot get the swarm's
 * key to sign anything else.
 */
export function isSignalingSignable (msg: Uint8Array): boolean {
  return (startsWith(msg, HELLO) && msg.byteLength >= 96) || (startsWith(msg, SIGNAL) && msg.byteLength >= 136)
}

export function toHex (bytes: Uint8Array): string {
  let s = ''
  for (let i = 0; i < bytes.byteLength; i++) s += (bytes[i]! < 16 ? '0' : '') + bytes[i]!.toString(16)
  return s
}

/** Verifies a hex signature by the hex peer id over `message`; false for anything malformed. */
export function verifyHex (message: Uint8Array, signatureHex: string, peerId: PeerId): boolean {
  if (!isSignatureHex(signatureHex) || !/^[0-9a-f]{64}$/.test(peerId)) return false
  return verify(message, fromHex(signatureHex), fromHex(peerId))
}

/** The answer to a challenge: the hex signature of `helloSignable(nonce, ctx.self, host)`. */
export function answerChallenge (ctx: Pick<SignalingContext, 'self' | 'sign'>, nonceHex: string, host: string): string {
  return toHex(ctx.sign(helloSignable(fromHex(nonceHex), ctx.self, host)))
}

/** A signed signal's fields, as they travel. */
export interface Sealed {
  /** The JSON text of the signal data. */
  data: string
  seq: number
  signature: string
}

/**
 * Signs our outgoing signals with a counter that only goes up. It starts from the clock
 * (milliseconds × 1000), so a restarted client with the same key pair is not taken for a
 * replay by peers that remember its previous counter; within one run it is strictly
 * increasing whatever the clock does.
 */
export class SignalSealer {
  private last = 0

  constructor (private readonly ctx: Pick<SignalingContext, 'self' | 'sign'>, private readonly now: () => number = Date.now) {}

  seal (to: PeerId, topic: TopicHex, data: string): Sealed {
    const seq = Math.max(this.last + 1, Math.floor(this.now()) * 1000)
    this.last = seq
    const signature = toHex(this.ctx.sign(signalSignable(this.ctx.self, to, topic, seq, data)))
    return { data, seq, signature }
  }
}

/**
 * Checks incoming signals: the signature must verify for the claimed sender over
 * (from, us, topic, seq, data), and the counter must be above the last one accepted from that
 * sender. The last counters are kept for the `maxSenders` most recently heard senders (a
 * bounded map, least recently heard forgotten first), so a flood of fresh keys costs bounded
 * memory; a forgotten sender's old signals could be replayed once, which costs the receiver a
 * WebRTC attempt that fails, nothing more.
 */
export class SignalVerifier {
  private readonly last = new Map<PeerId, number>()

  constructor (private readonly maxSenders = 4096) {}

  /** Null when the signal is genuine and fresh (and remembers its counter); else the error to report. */
  check (from: PeerId, to: PeerId, topic: TopicHex, seq: number, data: string, signature: string): HypercoreError | null {
    if (!verifyHex(signalSignable(from, to, topic, seq, data), signature, from)) {
      return HypercoreError.INVALID_SIGNATURE(`signal claiming to be from ${from.slice(0, 16)}… on topic ${topic.slice(0, 8)}… does not verify; dropped`)
    }
    const prev = this.last.get(from)
    if (prev !== undefined && seq <= prev) {
      return HypercoreError.SIGNAL_REPLAYED(`signal from ${from.slice(0, 16)}… has counter ${seq}, not above ${prev}; dropped`)
    }
    this.last.delete(from)
    this.last.set(from, seq)
    if (this.last.size > this.maxSenders) this.last.delete(this.last.keys().next().value!)
    return null
  }

  get size (): number {
    return this.last.size
  }
}
