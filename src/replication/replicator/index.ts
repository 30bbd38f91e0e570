/**
 * @module replication/replicator
 * The hypercore replication protocol over the mux (§5.6–§5.9): `replicate()` and the
 * per-core `Replicator`.
 */
export { replicate, muxOf, connection, onDiscoveryKey, type Connection, type ReplicateOptions } from './replicate.js'
export { Replicator } from './replicator.js'
export { createProtocolStream, getProtocolMuxer, holdWhileReplicating, type ProtocolStreamOptions } from './protocol-stream.js'
export { seekFromPeers } from './seek.js'
export { Peer } from './peer.js'
export { RangeHandle, type RangeSpec, type RangeProgress } from './ranges.js'
export { RemoteBitfield } from './remote-bitfield.js'
export type { ReplicatorOptions, Outstanding } from './types.js'
export { Budget, processBitfieldBudget, DEFAULT_PROCESS_BITFIELD_BYTES, DEFAULT_CORE_BITFIELD_BYTES, DEFAULT_PEER_BITFIELD_BYTES } from './budget.js'
export type { HealthPolicy } from './health.js'
