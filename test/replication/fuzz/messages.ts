/**
 * @module test/replication/fuzz/messages
 * Random, well-formed messages a hostile peer sends (§5.6 channel messages, §5.5 control
 * frames), with the values that matter: edges from random.ts, and numbers near the lengths of
 * the writer and the victim where off-by-ones live. Every value stays a `uint` the encoding
 * takes (≤ 2^53 - 1), so each message reaches the victim's handlers, not just its decoder.
 */
import type { RequestMessage, SyncMessage } from '../../../src/wire/messages.js'
import { HYPERCORE_PROTOCOL, encodeHandshake } from '../../../src/wire/messages.js'
import { encodeClose, encodeFrame, encodeItem, encodeOpen, encodeReject } from '../../../src/wire/mux-frames.js'
import type { Claim, Profile } from './profiles.js'
import { EDGES, type Rng } from './random.js'

/** A sync telling the peer's story (its claim) or, now and then, anything. */
export function syncMessage (rng: Rng, who: { profile: Profile, claim: Claim, ackRate: number }, near: number, vl: number): SyncMessage {
  const claimed = who.claim === 'writer' ? near : who.claim === 'longer' ? near + rng.int(1, 3) : who.claim === 'huge' ? 2 ** 40 : rng.index(near)
  const onMessage = rng.bool(who.profile.consistency)
  return {
    fork: onMessage || rng.bool(0.5) ? 0 : rng.pick([1, 2, 2 ** 32, Number.MAX_SAFE_INTEGER]),
    length: onMessage ? claimed : rng.pick([near, vl, 0, rng.index(near)]),
    remoteLength: rng.bool(who.ackRate) ? vl : notAck(rng, vl),
    canUpgrade: onMessage || rng.bool(0.5),
    uploading: rng.bool(0.8),
    downloading: rng.bool(0.8),
    hasManifest: rng.bool(0.1),
    allowPush: rng.bool(0.1)
  }
}

/** A length of the victim's that is not its current one. */
function notAck (rng: Rng, vl: number): number {
  const n = rng.index(vl)
  return n === vl ? vl + 1 : n
}

/** A request for something of the victim's (length `vl`, fork `fork`): plausible, or at the edges. */
export function requestMessage (rng: Rng, id: number, vl: number, fork: number): RequestMessage {
  const nodes = (): number => rng.pick([0, 0, 1, rng.int(0, 64), rng.pick(EDGES)])
  const block = rng.bool(0.6) ? { index: rng.index(vl), nodes: nodes() } : null
  const hash = block === null && rng.bool(0.3) ? { index: rng.index(2 * vl), nodes: nodes() } : null
  return {
    id,
    fork: rng.bool(0.9) ? fork : rng.pick(EDGES),
    block,
    hash,
    seek: rng.bool(0.15) ? { bytes: rng.index(64 * vl), padding: rng.pick([0, 0, 1, rng.pick(EDGES)]) } : null,
    upgrade: rng.bool(0.3) ? { start: rng.index(vl), length: rng.length(vl) } : null,
    manifest: rng.bool(0.1),
    priority: rng.pick([0, 0, 1, rng.pick(EDGES)])
  }
}

/** Bitfield words: empty, one, a few, a whole segment (rarely); zeros, ones, random, striped, sparse. */
export function bitfieldWords (rng: Rng): Uint32Array {
  const n = rng.bool(0.03) ? 65536 : rng.pick([0, 1, 2, 31, 32, 1024, rng.int(0, 2048)])
  const words = new Uint32Array(n)
  const fill = rng.pick(['zeros', 'ones', 'random', 'striped', 'sparse'])
  for (let i = 0; i < n; i++) {
    if (fill === 'ones') words[i] = 0xffffffff
    else if (fill === 'random') words[i] = rng.u32()
    else if (fill === 'striped') words[i] = i % 2 === 0 ? 0xffffffff : 0x55555555
    else if (fill === 'sparse' && rng.bool(0.02)) words[i] = 1 << rng.int(0, 31)
  }
  return words
}

/** Channel ids a peer uses for raw opens: above its own, never reused (a reused live id is PROTOCOL_ERROR). */
export class RawIds {
  next = 1000
  get last (): number { return this.next - 1 }
}

/**
 * A Protomux frame below the hypercore channel (§5.5): opens of channels nobody waits for (or
 * of ours again), messages on channels that are not paired, closes and rejects of channels
 * that exist or do not, unknown control and message types, and (rarely) an open reusing our
 * live channel's id, which ends the connection. `ours` is our channel's id, `dk` the core's
 * discovery key.
 */
export function controlFrame (rng: Rng, ours: number, dk: Uint8Array, ids: RawIds): { frame: Uint8Array, kind: string } {
  const kind = rng.weighted({ openOther: 3, messageOther: 2, closeOther: 2, reject: 2, unknownControl: 1, unknownType: 2, openDuplicate: 0.05 })
  const handshake = (): Uint8Array => encodeHandshake({ seeks: true, capability: rng.bytes(32) })
  switch (kind) {
    case 'openOther': {
      const id = rng.pick([dk, rng.bytes(32), null])
      const protocol = rng.pick([HYPERCORE_PROTOCOL, 'hypercore', '', 'x'.repeat(rng.int(1, 200))])
      const hs = rng.pick([handshake(), new Uint8Array(0), rng.bytes(rng.int(1, 64))])
      return { frame: encodeOpen({ localId: ids.next++, protocol, id, handshake: hs }), kind: 'open' }
    }
    case 'messageOther':
      return { frame: encodeFrame(rng.pick([ids.last, ids.next + 5, 2 ** 32]), rng.int(0, 12), rng.bytes(rng.int(0, 64))), kind: 'stray' }
    case 'closeOther':
      return { frame: encodeClose(rng.pick([ids.last, ids.next + 5, 2 ** 32, Number.MAX_SAFE_INTEGER])), kind: 'close' }
    case 'reject':
      return { frame: encodeReject(rng.pick([1, 2, ours, 2 ** 32])), kind: 'reject' }
    case 'unknownControl':
      return { frame: encodeItem(0, encodeItem(rng.int(4, 200), rng.bytes(rng.int(0, 32)))), kind: 'control?' }
    case 'unknownType':
      return { frame: encodeFrame(ours, rng.int(10, 300), rng.bytes(rng.int(0, 64))), kind: 'type?' }
    default: // openDuplicate: PROTOCOL_ERROR, the connection ends
      return { frame: encodeOpen({ localId: ours, protocol: HYPERCORE_PROTOCOL, id: dk, handshake: handshake() }), kind: 'open' }
  }
}
