/**
 * @module replication/replicator/protocol-stream
 * hypercore@10's statics for sharing one connection between many cores (what corestore@6
 * is built on): `createProtocolStream(isInitiator | stream | mux, opts)` makes or finds the
 * connection with its multiplexer in `noiseStream.userData`, and `getProtocolMuxer(stream)`
 * reads it back. `core.replicate(thatStream)` then adds a core to it. `holdWhileReplicating`
 * is `replicate(stream, { session: true })`: the connection keeps the core open.
 */
import { HypercoreError } from '../../errors.js'
import type { Core } from '../../core/core.js'
import type { Mux } from '../mux/index.js'
import type { RawStream, SecretStream } from '../secret-stream/index.js'
import { noiseStreamOf } from './foreign-streams.js'
import { connection, muxOf, onDiscoveryKey, type ReplicateOptions } from './replicate.js'
import { Replicator } from './replicator.js'

export interface ProtocolStreamOptions extends ReplicateOptions {
  /**
   * Called with the discovery key of each hypercore channel the remote opens that no core of
   * ours pairs with; replicate a core on the stream before the returned promise settles to
   * accept it (corestore opens stored cores on demand this way).
   */
  ondiscoverykey?: ((discoveryKey: Uint8Array) => unknown) | null
}

/**
 * The replication stream `core.replicate` would return, without any core on it yet: for a
 * boolean a new connection (pipe it to the remote's), for a stream or a protomux the one it
 * belongs to (then the stream itself, or the protomux's secret stream, is returned).
 */
export function createProtocolStream (isInitiator: boolean | object, opts: ProtocolStreamOptions = {}): RawStream | SecretStream {
  const conn = connection(isInitiator, opts)
  if (opts.ondiscoverykey != null) onDiscoveryKey(conn, opts.ondiscoverykey)
  return conn.outer
}

/** The connection's multiplexer (our Mux, or the npm protomux it already had), as `stream.noiseStream.userData`. */
export function getProtocolMuxer (stream: object): unknown {
  const noise = noiseStreamOf(stream)
  if (noise !== null) return noise.userData
  // A raw transport we run a connection over (`replicate(true, { stream })`) has no noiseStream.
  const mux = muxOf(stream)
  if (mux === null) throw HypercoreError.BAD_ARGUMENT('not a replication stream (it has no noiseStream)')
  return mux
}

/** `(core, mux)` pairs held open, so a second `replicate(stream, { session: true })` takes no second hold. */
const held = new WeakMap<Mux, WeakSet<Core>>()

/**
 * Keeps `core` open while it replicates over `mux` (hypercore@10's `{ session: true }`): until
 * its channel there, once open, closes, or the connection does. (A channel the remote refused
 * before it opened does not end the hold: the remote may open it later, when its core is.)
 * Then the core closes if nothing else holds it (Core.closeIfUnused).
 */
export function holdWhileReplicating (core: Core, mux: Mux): void {
  if (core.closing || mux.destroyed) return
  let cores = held.get(mux)
  if (cores === undefined) held.set(mux, cores = new WeakSet())
  if (cores.has(core)) return
  cores.add(core)
  core.replicationSessions++
  const stream = mux.stream
  let offPeers = (): void => {}
  const release = (): void => {
    if (!cores.delete(core)) return
    offPeers()
    stream.removeListener('close', release)
    core.replicationSessions--
    void core.closeIfUnused()
  }
  const rep = Replicator.for(core)
  const opened = new WeakSet<object>(rep.peers.filter(p => p.mux === mux))
  offPeers = rep.onPeerUpdate((added, peer) => {
    if (peer.mux !== mux) return
    if (added) opened.add(peer)
    else if (opened.has(peer)) release()
  })
  stream.on('close', release)
  if (stream.destroyed === true) release()
}
