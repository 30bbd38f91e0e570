/**
 * @module replication/replicator/replicate
 * `core.replicate(isInitiator | stream, opts)` (§5.1): finds or makes the connection's
 * secret stream and its one Protomux, then adds this core's channel. It returns the outer
 * (raw) stream, as hypercore@10 does, so the same value can be passed to another core's
 * `replicate` to share the connection (many cores, one channel each keyed by discovery key).
 */
import { HypercoreError } from '../../errors.js'
import type { Core } from '../../core/core.js'
import type { KeyPair } from '../../crypto/index.js'
import type { Mux } from '../mux/index.js'
import { isProtomux } from '../mux/protomux-adapter.js'
import { SecretStream, type RawStream } from '../secret-stream/index.js'
import { Replicator } from './replicator.js'
import { muxOfNoiseStream, noiseStreamOf } from './foreign-streams.js'
import { HYPERCORE_PROTOCOL } from '../../wire/message-types.js'
import type { ReplicatorOptions } from './types.js'

export interface ReplicateOptions extends ReplicatorOptions {
  /** A raw transport (socket, WebSocket stream, …) to run the secret stream over. */
  stream?: RawStream
  /** Our static Noise key pair (default: a fresh one per connection). */
  keyPair?: KeyPair
  /** Keep-alive interval in ms (hypercore@10: 5000); false or 0 turns it off. */
  keepAlive?: number | false
}

/** Every connection we know: outer stream or secret stream → its secret stream. */
const secrets = new WeakMap<object, SecretStream>()
/** One Protomux per connection (§5.6). */
const muxes = new WeakMap<SecretStream, Mux>()

/** Cores of a connection still opening: remote opens wait for them (see `holdRemoteOpens`). */
const opening = new WeakMap<Mux, Set<Promise<void>>>()
/** A connection's handler for remote opens no core of ours pairs with (see `onDiscoveryKey`). */
const discovery = new WeakMap<Mux, (discoveryKey: Uint8Array) => unknown>()

/**
 * The one "any id" pairing of the hypercore protocol on `mux`: a remote open with no local
 * channel waits for the cores still opening on this connection, then, if it is still unpaired,
 * goes to the connection's discovery-key handler. Unpaired once neither has anything to do.
 */
function syncAnyPair (mux: Mux): void {
  if (!opening.has(mux) && !discovery.has(mux)) {
    mux.unpair({ protocol: HYPERCORE_PROTOCOL })
    return
  }
  mux.pair({ protocol: HYPERCORE_PROTOCOL }, async (id) => {
    const set = opening.get(mux)
    if (set !== undefined) await Promise.all([...set])
    const handler = discovery.get(mux)
    if (handler !== undefined && id != null && !mux.opened({ protocol: HYPERCORE_PROTOCOL, id })) await handler(id)
  })
}

/** Until `attached` settles, a remote hypercore open with no local channel yet waits for it. */
function holdRemoteOpens (mux: Mux, attached: Promise<void>): void {
  const known = opening.get(mux)
  const set = known ?? new Set<Promise<void>>()
  if (known === undefined) {
    opening.set(mux, set)
    syncAnyPair(mux)
  }
  set.add(attached)
  void attached.finally(() => {
    set.delete(attached)
    if (set.size === 0 && opening.get(mux) === set) {
      opening.delete(mux)
      syncAnyPair(mux)
    }
  })
}

/**
 * Calls `handler(discoveryKey)` when the peer opens a hypercore channel that no core of ours
 * pairs with (after the cores still opening on the connection had their chance): attach a
 * core before the returned promise settles to accept it, else the open is rejected. This is
 * hypercore@10's `ondiscoverykey`, how a Corestore opens stored cores on demand. One handler
 * per connection; null removes it.
 */
export function onDiscoveryKey (conn: Connection, handler: ((discoveryKey: Uint8Array) => unknown) | null): void {
  if (handler === null) discovery.delete(conn.mux)
  else discovery.set(conn.mux, handler)
  syncAnyPair(conn.mux)
}

/** The mux of a connection made by `replicate` (for tests and sharing), or null. */
export function muxOf (stream: object): Mux | null {
  const secret = secrets.get(stream) ?? (stream instanceof SecretStream ? stream : undefined)
  return secret === undefined ? null : muxes.get(secret) ?? null
}

/** One replication connection: what the user pipes (`outer`), its secret stream and its one mux. */
export interface Connection {
  outer: RawStream | SecretStream
  secret: SecretStream
  mux: Mux
}

/**
 * The connection `isInitiator` names (a stream `replicate` returned, a SecretStream, or any
 * form hypercore@10 takes: foreign-streams.ts) or a new one (a boolean), with its one mux
 * (§5.6): what `replicate` adds a core to, and what a Corestore shares between all its cores.
 */
export function connection (isInitiator: boolean | object, opts: ReplicateOptions = {}): Connection {
  // hypercore@10's `{ stream }` is an existing connection (one with a `noiseStream`); ours
  // also takes a raw transport there, wrapped in a new secret stream below.
  if (typeof isInitiator === 'boolean' && noiseStreamOf(opts.stream) !== null) return connection(opts.stream!, { ...opts, stream: undefined })
  let secret: SecretStream
  let outer: RawStream | SecretStream
  if (typeof isInitiator === 'boolean') {
    secret = new SecretStream(isInitiator, opts.stream ?? null, { keyPair: opts.keyPair })
    const keepAlive = opts.keepAlive === false ? 0 : opts.keepAlive ?? 5000
    if (keepAlive > 0) secret.setKeepAlive(keepAlive)
    outer = secret.rawStream
    secrets.set(outer, secret)
    secrets.set(secret, secret)
  } else if (isInitiator instanceof SecretStream) {
    secret = isInitiator
    outer = secret
    secrets.set(secret, secret)
  } else {
    // Also what hypercore@10 accepts: anything with a `noiseStream`, or a protomux (then the
    // stream returned is its secret stream, as there).
    const known = secrets.get(isInitiator) ?? noiseStreamOf(isInitiator)
    if (known === null) throw HypercoreError.BAD_ARGUMENT('replicate(stream) needs a replication stream (one with a noiseStream, e.g. from replicate() or Hypercore.createProtocolStream), a Noise secret stream or a protomux; pass { stream } with a boolean for a raw transport')
    secrets.set(isInitiator, known)
    secret = known
    outer = (isProtomux(isInitiator) ? known : isInitiator) as RawStream
  }
  let mux = muxes.get(secret)
  if (mux === undefined) {
    // The connection's one multiplexer, kept in `secret.userData` as hypercore@10 keeps it.
    mux = muxOfNoiseStream(secret)
    muxes.set(secret, mux)
  }
  return { outer, secret, mux }
}

export function replicate (core: Core | Promise<Core>, isInitiator: boolean | object, opts: ReplicateOptions = {}): RawStream | SecretStream {
  const { outer, secret, mux: m } = connection(isInitiator, opts)
  if (core instanceof Promise) {
    // Called before the core opened (allowed, as in hypercore@10): join once it has. The
    // peer may open its channel first (its storage was faster than ours): hold such opens
    // until our core is open and attached, instead of rejecting them (§5.6 pairing).
    const attached = core.then(c => { if (!c.closed) Replicator.for(c, opts).attach(m, secret) }, (err: unknown) => m.destroy(err))
    holdRemoteOpens(m, attached)
  } else {
    Replicator.for(core, opts).attach(m, secret)
  }
  return outer
}
