/**
 * @module demo/network
 * The demo's only door to the network: `network.join(target)` finds peers for a core (the
 * log) or a Corestore (a dataset's drive: `storeTarget`) and replicates with each; the
 * returned function leaves. Pages never see how.
 *
 * Default: the library's WebRTC swarm (src/swarm) with two signalers at once — the local
 * signaling server that `npm start` runs, and BroadcastChannel for tabs of this browser.
 * `?relay` in a page's URL uses the demo server's WebSocket relay instead (relay-client.ts).
 */
import type { Corestore } from '../../src/store/index.js'
import { Swarm } from '../../src/swarm/index.js'
import { createWebRtcPeer } from '../../src/transport/webrtc.js'
import { WebSocketSignalingClient } from '../../src/signaling/ws-client.js'
import { BroadcastChannelSignalingClient } from '../../src/signaling/broadcast-channel.js'
import type { SignalingClient } from '../../src/signaling/types.js'
import { hex } from './link.js'
import { RelayTopic, type Replicable } from './relay-client.js'

export type { Replicable }

/**
 * A Corestore as a swarm target: its topic is the drive's discovery key, and each connection
 * carries the whole store (`store.replicate(stream)`: the drive's db core and its blobs core,
 * and any core a peer asks for that the store has).
 */
export function storeTarget (store: Corestore, discoveryKey: Uint8Array): Replicable {
  return {
    discoveryKey,
    replicate: (isInitiator: boolean | object, opts?: object) => store.replicate(isInitiator, opts),
    findingPeers: () => store.findingPeers(),
    get closed () { return store.closed },
    get closing () { return store.closing }
  }
}

export interface DemoConfig {
  /** A signaling server URL given to `npm start` (SIGNAL_URL), or null for the local one. */
  signaling: string | null
  /** The local signaling server's port on the page's host, or null when it is not running. */
  signalingPort: number | null
}

export type NetworkState = 'connecting' | 'online' | 'offline'

type Listener = (state: NetworkState) => void

/** Config from the demo server, kept so an offline page (service worker) still has it. */
export async function loadConfig (): Promise<DemoConfig> {
  try {
    const res = await fetch('/config/config.json', { cache: 'no-store' })
    if (!res.ok) throw new Error(String(res.status))
    const cfg = await res.json() as DemoConfig
    localStorage.setItem('hypercore-web-demo:config', JSON.stringify(cfg))
    return cfg
  } catch {
    const saved = localStorage.getItem('hypercore-web-demo:config')
    return saved !== null ? JSON.parse(saved) as DemoConfig : { signaling: null, signalingPort: null }
  }
}

/** The signaling server's URL as this page reaches it (the page's host, so a LAN address works too). */
export function signalingUrl (cfg: DemoConfig): string | null {
  if (cfg.signaling !== null) return cfg.signaling
  if (cfg.signalingPort === null) return null
  return `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.hostname}:${cfg.signalingPort}`
}

export class Network {
  state: NetworkState = 'connecting'
  private readonly _listeners = new Set<Listener>()
  private readonly _cores = new Map<string, Replicable>()
  private readonly _swarm: Swarm | null = null
  private readonly _relay = new Map<string, RelayTopic>()
  /** Open swarm connections: a core joined later replicates on them too (one connection per peer). */
  private readonly _streams = new Set<object>()

  constructor (readonly config: DemoConfig, { relay = new URLSearchParams(location.search).has('relay') } = {}) {
    addEventListener('online', () => { this._server?.reconnectNow(); this._refresh(); for (const t of this._relay.values()) t.retryNow() })
    addEventListener('offline', () => this._setState('offline'))
    if (relay) return
    const url = signalingUrl(config)
    const signaling: SignalingClient[] = [new BroadcastChannelSignalingClient()]
    const server = url !== null ? new WebSocketSignalingClient({ url }) : null
    this._server = server
    if (server !== null) {
      signaling.unshift(server)
      // Online = welcomed by the signaling server (tabs of this browser meet without it).
      server.onConnectedChange(connected => this._setState(connected ? 'online' : 'offline'))
    }
    // Signaling errors are retried by each client; the state above is what the page shows.
    for (const s of signaling) s.on('error', () => {})
    // createPeer: the swarm asks for it until the WebRTC transport is its default.
    const swarm = new Swarm({ signaling, createPeer: createWebRtcPeer })
    this._swarm = swarm
    // Every core (or store) on every connection, as with hyperswarm: a channel opens only for
    // the cores both sides have.
    swarm.on('connection', (stream: object) => {
      this._streams.add(stream)
      for (const core of this._cores.values()) if (!core.closed && core.closing === null) core.replicate(stream)
      this._setState('online')
    })
    swarm.on('disconnection', (stream: object) => { this._streams.delete(stream) })
    swarm.on('warning', () => {})
    swarm.ready().then(() => {
      // With no signaling server (tabs only), being able to meet other tabs is being online.
      if (server === null) this._setState('online')
    }, () => this._setState('offline'))
  }

  /** 'swarm' or 'relay', for the page to show. */
  get kind (): string { return this._swarm !== null ? 'WebRTC swarm' : 'relay' }

  onState (fn: Listener): void { this._listeners.add(fn) }

  /** Finds peers for `core` (a Hypercore, or a store through `storeTarget`) and replicates with each; returns `leave`. */
  join (core: Replicable): () => void {
    const topic = hex(core.discoveryKey!)
    this._cores.set(topic, core)
    const done = core.findingPeers()
    if (this._swarm !== null) {
      const swarm = this._swarm
      for (const stream of this._streams) core.replicate(stream)
      swarm.join(core.discoveryKey!).flushed().then(done, done)
      return () => { this._cores.delete(topic); done(); void swarm.leave(topic) }
    }
    const base = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/relay`
    const t = new RelayTopic(base, topic, core, s => this._setState(s), done)
    this._relay.set(topic, t)
    return () => { t.close(); this._relay.delete(topic); this._cores.delete(topic); done() }
  }

  destroy (): void {
    void this._swarm?.destroy()
    for (const t of this._relay.values()) t.close()
    this._relay.clear()
  }

  private _server: WebSocketSignalingClient | null = null

  private _refresh (): void {
    if (this._swarm === null) return
    for (const topic of this._cores.keys()) this._swarm.join(topic).refresh()
  }

  private _setState (s: NetworkState): void {
    if (s === this.state) return
    this.state = s
    for (const fn of this._listeners) fn(s)
  }
}
