/**
 * @module replication/replicator/foreign-streams
 * The connection forms hypercore@10 code hands to `replicate(stream)` besides our own: a
 * stream with a `noiseStream` (the raw side of a secret stream, what `replicate()` and
 * `Hypercore.createProtocolStream` return, on either implementation), a Noise secret stream
 * (ours, or `@hyperswarm/secret-stream`'s from hyperswarm, whose `noiseStream` is itself), or
 * a protomux (ours or npm's, whose `stream` is the secret stream). As in hypercore@10, a
 * connection's one multiplexer lives in `noiseStream.userData`.
 */
import { Mux } from '../mux/index.js'
import { adaptProtomux, isProtomux, type ForeignProtomux } from '../mux/protomux-adapter.js'
import type { SecretStream } from '../secret-stream/index.js'

/** The secret stream an existing connection form leads to, or null when `x` is none. */
export function noiseStreamOf (x: unknown): SecretStream | null {
  if (typeof x !== 'object' || x === null) return null
  if (isProtomux(x)) {
    const s = x.stream as { userData?: unknown } | null
    if (s === null || typeof s !== 'object') return null
    // A protomux made directly on a stream (not yet kept there) is that connection's mux.
    if (s.userData == null) s.userData = x
    return noiseStreamOf(s)
  }
  const noise = (x as { noiseStream?: unknown }).noiseStream
  // Duck-typed: `@hyperswarm/secret-stream` has what the replicator reads (handshakeHash,
  // isInitiator, remotePublicKey, opened, a streamx duplex of whole messages).
  return typeof noise === 'object' && noise !== null && 'handshakeHash' in noise ? noise as SecretStream : null
}

/**
 * The multiplexer of `noise`: the one in its `userData` (our Mux, or npm protomux joined
 * through its adapter), else a new Mux kept there.
 */
export function muxOfNoiseStream (noise: SecretStream): Mux {
  const held = noise.userData
  if (held instanceof Mux) return held
  if (isProtomux(held)) return adaptProtomux(held as ForeignProtomux)
  const mux = new Mux(noise)
  if (held == null) noise.userData = mux
  return mux
}
