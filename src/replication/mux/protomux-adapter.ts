/**
 * @module replication/mux/protomux-adapter
 * A connection whose multiplexer is npm's `protomux` (made by hypercore@10, corestore@6 or
 * any protomux user before us, kept in `noiseStream.userData`): our cores replicate on it
 * through the same channel calls they make on our `Mux`, since both speak protomux@3's API
 * (`createChannel`, `pair`, `opened`, `cork`; compact-encoding message codecs). Only what our
 * `Mux` adds is supplied here: holding the stream's input (`pause`/`resume`) and `destroyed`.
 *
 * Two multiplexers cannot read one stream, so a connection that already has a protomux is
 * never given a `Mux` of ours: we join its protomux instead. Our Mux's limits on hostile
 * remotes (unpaired opens, busy time) do not apply on such a connection: protomux's own do.
 */
import type { ChannelOptions, MessageStream, PairNotify } from './types.js'
import type { Mux } from './mux.js'

/** The part of npm protomux@3 we use (duck-typed: no import, nothing bundled for the browser). */
export interface ForeignProtomux {
  readonly isProtomux: true
  readonly stream: MessageStream & { readonly destroying?: boolean }
  createChannel (opts: ChannelOptions<any>): unknown
  opened (key: { protocol: string, id?: Uint8Array | null }): boolean
  pair (key: { protocol: string, id?: Uint8Array | null }, notify: PairNotify): void
  unpair (key: { protocol: string, id?: Uint8Array | null }): void
  cork (): void
  uncork (): void
  destroy (err?: unknown): void
}

/** Whether `x` is a protomux (ours or npm's): what `Protomux.isProtomux` checks. */
export function isProtomux (x: unknown): x is { readonly isProtomux: true, readonly stream: unknown } {
  return typeof x === 'object' && x !== null && (x as { isProtomux?: unknown }).isProtomux === true
}

const adapters = new WeakMap<object, ProtomuxAdapter>()

/** Our `Mux`'s face on npm protomux `p` (one per protomux). */
export function adaptProtomux (p: ForeignProtomux): Mux {
  let a = adapters.get(p)
  if (a === undefined) {
    a = new ProtomuxAdapter(p)
    adapters.set(p, a)
  }
  // The replicator only calls what both have (checked by the interop tests).
  return a as unknown as Mux
}

class ProtomuxAdapter {
  readonly isProtomux = true
  private _holds = 0

  constructor (readonly protomux: ForeignProtomux) {}

  get stream (): MessageStream { return this.protomux.stream }
  get destroyed (): boolean { return this.protomux.stream.destroyed === true || this.protomux.stream.destroying === true }

  createChannel (opts: ChannelOptions<any>): unknown {
    return this.destroyed ? null : this.protomux.createChannel(opts)
  }

  opened (key: { protocol: string, id?: Uint8Array | null }): boolean { return this.protomux.opened(key) }
  pair (key: { protocol: string, id?: Uint8Array | null }, notify: PairNotify): void { this.protomux.pair(key, notify) }
  unpair (key: { protocol: string, id?: Uint8Array | null }): void { this.protomux.unpair(key) }
  cork (): void { this.protomux.cork() }
  uncork (): void { this.protomux.uncork() }
  destroy (err?: unknown): void { this.protomux.destroy(err) }

  /** Stops the stream's `data` events until every holder released (all channels wait: it is one stream). */
  holdInput (): void {
    if (this._holds++ === 0) this.protomux.stream.pause?.()
  }

  releaseInput (): void {
    if (this._holds === 0) return
    if (--this._holds === 0) this.protomux.stream.resume?.()
  }

  get inputHeld (): boolean { return this._holds > 0 }
}
