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
import { Mux } from '../mux/index.js'
import { SecretStream, type RawStream } from '../secret-stream/index.js'
import { Replicator } from './replicator.js'
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

/** Until `attached` settles, a remote hypercore open with no local channel yet waits for it. */
function holdRemoteOpens (mux: Mux, attached: Promise<void>): void {
  const known = opening.get(mux)
  const set = known ?? new Set<Promise<void>>()
  if (known === undefined) {
    opening.set(mux, set)
    mux.pair({ protocol: HYPERCORE_PROTOCOL }, () => Promise.all([...set]).then(() => {}))
  }
  set.add(attached)
  void attached.finally(() => {
    set.delete(attached)
    if (set.size === 0 && opening.get(mux) === set) {
      opening.delete(mux)
      mux.unpair({ protocol: HYPERCORE_PROTOCOL })
    }
  })
}

/** The mux of a connection made by `replicate` (for tests and sharing), or null. */
export function muxOf (stream: object): Mux | null {
  const secret = secrets.get(stream) ?? (stream instanceof SecretStream ? stream : undefined)
  return secret === undefined ? null : muxes.get(secret) ?? null
}

export function replicate (core: Core | Promise<Core>, isInitiator: boolean | object, opts: ReplicateOptions = {}): RawStream | SecretStream {
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
    const known = secrets.get(isInitiator)
    if (known === undefined) throw HypercoreError.BAD_ARGUMENT('replicate(stream) needs a stream returned by replicate() or a SecretStream; pass { stream } with a boolean for a raw transport')
    secret = known
    outer = isInitiator as RawStream
  }
  let mux = muxes.get(secret)
  if (mux === undefined) {
    mux = new Mux(secret)
    muxes.set(secret, mux)
  }
  const m = mux
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
