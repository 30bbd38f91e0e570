/**
 * @module demo/network
 * The demo's only door to the network: `network.join(core)` finds peers for a core and
 * replicates with each; `leave()` stops. Pages never see how.
 *
 * INTERIM: until src/swarm (issue 6) lands, peers meet through the demo server's WebSocket
 * relay (demo/relay.mjs), which copies the encrypted replication stream between two pages.
 * Switching to the swarm replaces `RelayTopic` with:
 *   const swarm = new Swarm({ signaling: [new WebSocketSignaling({ url: config.signaling }), new BroadcastChannelSignaling()] })
 *   swarm.on('connection', stream => { for (const c of cores) c.replicate(stream) })
 *   swarm.join(core.discoveryKey)  /  swarm.leave(core.discoveryKey)  /  swarm.destroy()
 */
import type { Hypercore } from '../../src/core/hypercore.js'
import { hex } from './link.js'

export interface DemoConfig {
  /** The signaling server's WebSocket URL (null before the swarm lands). */
  signaling: string | null
  /** The interim relay's base URL. */
  relay: string
}

export type NetworkState = 'connecting' | 'online' | 'offline'

type Listener = (state: NetworkState) => void

/** Config from the demo server, cached so an offline page (service worker) still has it. */
export async function loadConfig (): Promise<DemoConfig> {
  const fallback: DemoConfig = { signaling: null, relay: `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/relay` }
  try {
    const res = await fetch('/config/config.json', { cache: 'no-store' })
    if (!res.ok) throw new Error(String(res.status))
    const cfg = await res.json() as DemoConfig
    localStorage.setItem('demo-config', JSON.stringify(cfg))
    return cfg
  } catch {
    const saved = localStorage.getItem('demo-config')
    return saved !== null ? JSON.parse(saved) as DemoConfig : fallback
  }
}

export class Network {
  state: NetworkState = 'connecting'
  private readonly _topics = new Map<string, RelayTopic>()
  private readonly _listeners = new Set<Listener>()

  constructor (readonly config: DemoConfig) {
    // Coming back online: try at once instead of waiting for the backoff.
    addEventListener('online', () => { for (const t of this._topics.values()) t.retryNow() })
  }

  onState (fn: Listener): void { this._listeners.add(fn) }

  /** Finds peers for `core` and replicates with each; returns `leave`. */
  join (core: Hypercore): () => void {
    const topic = hex(core.discoveryKey!)
    const done = core.findingPeers()
    let t = this._topics.get(topic)
    if (t === undefined) {
      t = new RelayTopic(this.config.relay, topic, core, s => this._setState(s), done)
      this._topics.set(topic, t)
    }
    const joined = t
    return () => { joined.close(); this._topics.delete(topic); done() }
  }

  destroy (): void {
    for (const t of this._topics.values()) t.close()
    this._topics.clear()
  }

  private _setState (s: NetworkState): void {
    if (s === this.state) return
    this.state = s
    for (const fn of this._listeners) fn(s)
  }
}

/** One topic on the relay: a control socket (reconnected with backoff) and a pipe per peer. */
class RelayTopic {
  private _ws: WebSocket | null = null
  private _closed = false
  private _backoff = 500
  private _timer: ReturnType<typeof setTimeout> | null = null
  private readonly _pipes = new Set<WebSocket>()

  constructor (private readonly base: string, private readonly topic: string, private readonly core: Hypercore,
    private readonly setState: (s: NetworkState) => void, private foundFirstRound: (() => void) | null) {
    this._connect()
  }

  retryNow (): void {
    if (this._closed || this._ws !== null) return
    if (this._timer !== null) clearTimeout(this._timer)
    this._connect()
  }

  close (): void {
    this._closed = true
    if (this._timer !== null) clearTimeout(this._timer)
    this._ws?.close()
    for (const p of this._pipes) p.close()
  }

  private _connect (): void {
    this._timer = null
    this.setState('connecting')
    const ws = new WebSocket(`${this.base}/topic?t=${this.topic}`)
    this._ws = ws
    ws.onopen = () => {
      this._backoff = 500
      this.setState('online')
      // The relay pairs us with everyone already there right away; give the pairs a moment
      // before telling the core the first discovery round is over.
      setTimeout(() => { this.foundFirstRound?.(); this.foundFirstRound = null }, 1500)
    }
    ws.onmessage = (e) => {
      const msg = JSON.parse(String(e.data)) as { type: string, id: string, initiator: boolean }
      if (msg.type === 'pair') this._pipe(msg.id, msg.initiator)
    }
    ws.onclose = () => {
      this._ws = null
      if (this._closed) return
      this.setState('offline')
      this.foundFirstRound?.(); this.foundFirstRound = null
      this._timer = setTimeout(() => this._connect(), this._backoff)
      this._backoff = Math.min(this._backoff * 2, 8000)
    }
  }

  /** One peer: the core's replication stream over a relay pipe, with backpressure. */
  private _pipe (id: string, initiator: boolean): void {
    if (this.core.closed) return
    const ws = new WebSocket(`${this.base}/pipe?p=${id}`)
    ws.binaryType = 'arraybuffer'
    this._pipes.add(ws)
    const raw = this.core.replicate(initiator, { keepAlive: 5000 }) as unknown as DuplexLike
    const queue: Uint8Array[] = []
    const flushWhenLow = (): void => {
      if (ws.bufferedAmount > HIGH_WATER) { setTimeout(flushWhenLow, 10); return }
      raw.resume()
    }
    raw.on('data', (chunk: Uint8Array) => {
      if (ws.readyState !== WebSocket.OPEN) { queue.push(chunk); return }
      ws.send(chunk)
      if (ws.bufferedAmount > HIGH_WATER) { raw.pause(); setTimeout(flushWhenLow, 10) }
    })
    ws.onopen = () => { for (const c of queue.splice(0)) ws.send(c) }
    ws.onmessage = (e) => { raw.write(new Uint8Array(e.data as ArrayBuffer)) }
    ws.onclose = () => { this._pipes.delete(ws); raw.destroy() }
    raw.on('close', () => ws.close())
    raw.on('error', () => ws.close())
  }
}

const HIGH_WATER = 1024 * 1024

interface DuplexLike {
  on (event: string, fn: (arg: any) => void): unknown
  write (data: Uint8Array): boolean
  pause (): unknown
  resume (): unknown
  destroy (err?: Error): void
}
