/**
 * @module store/replicate
 * `store.replicate(isInitiator | stream, opts)`: one connection for all the store's cores
 * (§5.6: one channel per core, keyed by discovery key), as corestore@6 does it:
 * - every core of the store that some session wants (an active session: the replicator's
 *   `downloading`) joins the connection at once, and a core wanted later joins every
 *   connection of the store (`attachToStreams`, from the replicator's `ondownloading`);
 * - a peer opening a channel for a core we have stored but not open gets it opened on demand
 *   (`onDiscoveryKey`), held open while that peer replicates it. Cores we do not have are
 *   remembered, so asking again costs nothing, and looked for without creating any file.
 * The returned stream is the connection's outer stream, which `core.replicate(stream)` of
 * any other core also accepts.
 */
import type { Hypercore } from '../core/hypercore.js'
import { connection, onDiscoveryKey, type Connection, type ReplicateOptions } from '../replication/replicator/index.js'
import type { Peer } from '../replication/replicator/index.js'
import type { RawStream, SecretStream } from '../replication/secret-stream/index.js'
import { coreId, coreRoot } from './layout.js'
import type { StoreState, StreamRecord } from './state.js'
import { coreExists } from './storage.js'

/** What replication needs of the store that makes the stream. */
export interface ReplicatingStore {
  readonly state: StoreState
  readonly passive: boolean
  /** True once this store (or its root) is closing. */
  isClosing (): boolean
  /** A session of the stored core with this discovery key (it fails to open if none is stored). */
  openStored (discoveryKey: Uint8Array): Hypercore
}

/** True for something that looks like a stream (what corestore@6 treats as the user's transport). */
function isStream (x: unknown): boolean {
  return typeof x === 'object' && x !== null && typeof (x as { pipe?: unknown }).pipe === 'function'
}

export function replicateStore (store: ReplicatingStore, isInitiator: boolean | object, opts: ReplicateOptions = {}): RawStream | SecretStream {
  const external = isStream(isInitiator) || opts.stream != null
  const conn = connection(isInitiator, opts)
  // Every core on the connection listens for its close: many cores are the point here.
  conn.secret.setMaxListeners(0)
  onDiscoveryKey(conn, dk => openOnDemand(store, conn, dk))
  if (!store.passive) {
    // One batch for all the channel opens (they go out once the handshake is done).
    conn.mux.cork()
    for (const core of store.state.cores.values()) {
      if (core.opened && core.closing === null && core.replicator?.downloading === true) core.replicate(conn.outer)
    }
    void conn.secret.opened.then(() => conn.mux.uncork())
  }
  const record: StreamRecord = { stream: conn.outer, external }
  store.state.streams.add(record)
  conn.secret.once('close', () => store.state.streams.delete(record))
  return conn.outer
}

/** A core that just opened joins every connection of the store. */
export function attachToStreams (state: StoreState, core: Hypercore): void {
  for (const { stream } of state.streams) {
    if (core.closing !== null) return
    try {
      core.replicate(stream)
    } catch {} // the stream ended meanwhile
  }
}

async function openOnDemand (store: ReplicatingStore, conn: Connection, dk: Uint8Array): Promise<void> {
  if (store.isClosing()) return
  const { state } = store
  const id = coreId(dk)
  if (state.missing.has(id)) return
  if (!state.cores.has(id) && !(await coreExists(state.storage, coreRoot(id)))) {
    state.missing.add(id)
    return
  }
  if (store.isClosing() || conn.mux.destroyed) return
  let core: Hypercore
  try {
    core = store.openStored(dk)
    await core.ready()
  } catch {
    return
  }
  if (core.closing !== null) return
  core.replicate(conn.outer)
  holdWhileReplicating(core, conn)
}

/**
 * The session that opened a core for a peer stays open while that peer replicates it: until
 * the peer's channel closes or the connection ends (hypercore@10's replication session).
 */
function holdWhileReplicating (core: Hypercore, conn: Connection): void {
  const forget = (): void => {
    core.off('peer-remove', onremove)
    core.off('close', forget)
    conn.secret.off('close', release)
  }
  const release = (): void => {
    forget()
    void core.close().catch(() => {})
  }
  const onremove = (peer: Peer): void => { if (peer.stream === conn.secret) release() }
  core.on('peer-remove', onremove)
  core.once('close', forget)
  conn.secret.once('close', release)
  if (conn.secret.destroyed) release()
}
