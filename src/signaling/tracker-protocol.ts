/**
 * @module signaling/tracker-protocol
 * The WebTorrent tracker's WebSocket messages (JSON text frames), as we send and read them.
 * Learned from the bittorrent-tracker docs and by observing its server:
 *
 *   → { action: 'announce', info_hash, peer_id, numwant, uploaded, downloaded, left, event?, offers: [{ offer_id, offer }] }
 *   ← { action: 'announce', info_hash, interval, complete, incomplete }          (the tracker's reply)
 *   ← { action: 'announce', info_hash, peer_id, offer_id, offer }                (someone's offer, forwarded to us)
 *   → { action: 'announce', info_hash, peer_id, to_peer_id, offer_id, answer }   (our answer to it)
 *   ← { action: 'announce', info_hash, peer_id, offer_id, answer }               (the answer to one of our offers)
 *   ← { 'failure reason': string } / { 'warning message': string }
 *
 * info_hash, peer_id, to_peer_id and offer_id are 20-byte strings, one char per byte (latin1);
 * the server forwards each offer to one random other peer of the swarm, up to numwant of them.
 *
 * Our choices (the protocol is BitTorrent's; these map Hypercore onto it):
 * - info_hash = the first 20 bytes of the topic (a core's discovery key). The discovery key is
 *   already a keyed hash of the public key, published to any DHT or signaling server, so its
 *   prefix tells the tracker nothing more; 160 bits keep topics apart.
 * - peer_id = the first 20 bytes of our peer id (the Noise static public key).
 * - Offers and answers carry one extra field, `noise_key` (our full 64-hex peer id), which the
 *   tracker forwards untouched: it lets the answering side skip peers the swarm is already
 *   connected to. It is only a hint (the swarm checks the Noise key after the handshake);
 *   peers that do not send it are answered with an unknown peer id.
 */
import type { PeerId } from './types.js'

/** Bytes in info_hash, peer_id and offer_id. */
export const ID_BYTES = 20

/** Extra field we add to SDP objects (see the module comment). */
export const NOISE_KEY_FIELD = 'noise_key'

const HEX64 = /^[0-9a-f]{64}$/

/** The first `ID_BYTES` bytes of a hex string (topic or peer id) as a latin1 string. */
export function hexToId (hex: string): string {
  let out = ''
  for (let i = 0; i < ID_BYTES; i++) out += String.fromCharCode(parseInt(hex.slice(i * 2, i * 2 + 2), 16))
  return out
}

/** A latin1 id as lowercase hex. */
export function idToHex (id: string): string {
  let out = ''
  for (let i = 0; i < id.length; i++) out += id.charCodeAt(i).toString(16).padStart(2, '0')
  return out
}

/** A fresh random offer id (20 latin1 chars). */
export function randomId (): string {
  const bytes = new Uint8Array(ID_BYTES)
  globalThis.crypto.getRandomValues(bytes)
  return String.fromCharCode(...bytes)
}

/** True when `s` is an id as the tracker carries it: 20 chars, each one byte. */
export function isId (s: unknown): s is string {
  if (typeof s !== 'string' || s.length !== ID_BYTES) return false
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0xff) return false
  return true
}

/** An SDP as it travels in the tracker's messages. */
export interface WireSdp { type: 'offer' | 'answer', sdp: string, [NOISE_KEY_FIELD]?: string }

/** What we read from the tracker; anything else is `ignored` (or `invalid` when not JSON). */
export type TrackerMessage =
  | { kind: 'reply', infoHash: string, interval: number | null, trackerId: string | null }
  | { kind: 'offer', infoHash: string, peerId: string, offerId: string, sdp: string, noiseKey: PeerId | null }
  | { kind: 'answer', infoHash: string, peerId: string, offerId: string, sdp: string, noiseKey: PeerId | null }
  | { kind: 'failure', infoHash: string | null, reason: string }
  | { kind: 'ignored' }
  | { kind: 'invalid', reason: string }

/** Parses one text frame. Never throws: a tracker that sends garbage is reported, not fatal. */
export function parseTrackerMessage (text: unknown): TrackerMessage {
  if (typeof text !== 'string') return { kind: 'invalid', reason: 'binary frame' }
  let m: unknown
  try { m = JSON.parse(text) } catch { return { kind: 'invalid', reason: 'not JSON' } }
  if (m === null || typeof m !== 'object') return { kind: 'invalid', reason: 'not an object' }
  const o = m as Record<string, unknown>
  const infoHash = isId(o.info_hash) ? o.info_hash : null
  if (typeof o['failure reason'] === 'string') return { kind: 'failure', infoHash, reason: o['failure reason'] }
  if (o.action !== 'announce' || infoHash === null) return { kind: 'ignored' }
  for (const kind of ['offer', 'answer'] as const) {
    const sdp = o[kind]
    if (sdp === undefined) continue
    if (!isId(o.peer_id) || !isId(o.offer_id) || !isSdp(sdp, kind)) return { kind: 'ignored' }
    return { kind, infoHash, peerId: o.peer_id, offerId: o.offer_id, sdp: sdp.sdp, noiseKey: noiseKeyOf(sdp, o.peer_id) }
  }
  const interval = typeof o.interval === 'number' && o.interval > 0 ? o.interval : null
  const trackerId = typeof o['tracker id'] === 'string' ? o['tracker id'] : null
  return { kind: 'reply', infoHash, interval, trackerId }
}

function isSdp (v: unknown, type: 'offer' | 'answer'): v is WireSdp {
  if (v === null || typeof v !== 'object') return false
  const s = v as Record<string, unknown>
  return s.type === type && typeof s.sdp === 'string'
}

/** The sender's full peer id when it sent one that matches its tracker peer_id, else null. */
function noiseKeyOf (sdp: WireSdp, peerId: string): PeerId | null {
  const key = sdp[NOISE_KEY_FIELD]
  if (typeof key !== 'string' || !HEX64.test(key)) return null
  return hexToId(key) === peerId ? key : null
}

export interface AnnounceFields {
  infoHash: string
  peerId: string
  numwant: number
  event?: 'started' | 'stopped'
  offers?: Array<{ offerId: string, sdp: string }>
  trackerId?: string | null
  self: PeerId
}

/** An announce (with our offers, if any). */
export function announceMessage (f: AnnounceFields): string {
  const msg: Record<string, unknown> = {
    action: 'announce',
    info_hash: f.infoHash,
    peer_id: f.peerId,
    numwant: f.numwant,
    uploaded: 0,
    downloaded: 0,
    // We claim to be missing data (a leecher): some trackers never pair two seeders, and
    // Hypercore peers have no single "complete" state to report anyway.
    left: 1
  }
  if (f.event !== undefined) msg.event = f.event
  if (f.trackerId != null) msg.trackerid = f.trackerId
  if (f.offers !== undefined) {
    msg.offers = f.offers.map(o => ({ offer_id: o.offerId, offer: wireSdp('offer', o.sdp, f.self) }))
  }
  return JSON.stringify(msg)
}

/** Our answer to an offer the tracker forwarded. */
export function answerMessage (f: { infoHash: string, peerId: string, toPeerId: string, offerId: string, sdp: string, self: PeerId }): string {
  return JSON.stringify({
    action: 'announce',
    info_hash: f.infoHash,
    peer_id: f.peerId,
    to_peer_id: f.toPeerId,
    offer_id: f.offerId,
    answer: wireSdp('answer', f.sdp, f.self)
  })
}

function wireSdp (type: 'offer' | 'answer', sdp: string, self: PeerId): WireSdp {
  return { type, sdp, [NOISE_KEY_FIELD]: self }
}
