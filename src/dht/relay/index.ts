/**
 * @module dht/relay
 * A DHT relay (Node only): one HyperDHT node that pages use through a WebSocket, since a page
 * cannot speak UDP. `createSignalServer({ dhtRelay })` serves it beside the signaling rooms;
 * `createDhtRelay()` gives the same thing to attach to any `ws` server (`relay.handle(ws, req)`).
 *
 * Unlike `@hyperswarm/dht-relay`, nothing here holds a page's secret key (there is no custodial
 * mode): the page answers a challenge with its key, runs every Noise handshake and secret
 * stream itself and signs its own announce records; the relay drives HyperDHT through its
 * public hooks (`createHandshake`, `createSecretStream`, `signAnnounce`) and forwards handshake
 * messages and ciphertext (./streams.ts). Protocol: ../PROTOCOL.md.
 *
 * Limits mirror the signaling server's: message size, a token bucket per page, pages at once,
 * topics per page, plus connections per page and a backlog cap; a page that breaks one is
 * closed with a code and nobody else notices.
 */
import type http from 'node:http'
import type { WebSocket } from 'ws'
import { HypercoreError } from '../../errors.js'
import { cryptoReady } from '../../crypto/sodium.js'
import type { RateLimit } from '../../signaling/server/token-bucket.js'
import { RELAY_CLOSE } from '../protocol.js'
import { loadHyperdht, type HyperdhtNode, type IPv4 } from './hyperdht.js'
import { RelaySession, type SessionLimits } from './session.js'

export interface DhtRelayOptions {
  /** DHT bootstrap nodes (`host:port` or `{ host, port }`); default HyperDHT's public ones. */
  bootstrap?: Array<string | IPv4>
  /**
   * Address the DHT node's UDP socket binds (default every interface). On a machine whose
   * only working network is loopback (a local testnet), bind 127.0.0.1: a node on 0.0.0.0
   * advertises the machine's other addresses and peers never reach it.
   */
  dhtHost?: string
  /** UDP port of the DHT node (default any). */
  dhtPort?: number
  /** An existing hyperdht node to use instead (not destroyed by `close()`). */
  dht?: unknown
  /** Pages at once; more are closed with 4003. Default 10,000. */
  maxConnections?: number
  /** Largest WebSocket message. Default 64 KiB. */
  maxMessageBytes?: number
  /** Topics one page may join at once. Default 64. */
  maxTopics?: number
  /** DHT connections (and handshakes in progress) one page may have at once. Default 64. */
  maxStreams?: number
  /** Per-page token bucket for requests (join, connect, close…). Default 20/s, bursts of 100. */
  rateLimit?: RateLimit
  /** Per-page token bucket for DATA messages. Default 4000/s, bursts of 8000. */
  dataRateLimit?: RateLimit
  /** A page must answer its challenge within this. Default 10 s. */
  helloTimeoutMs?: number
  /** A page must answer each handshake step within this. Default 10 s. */
  handshakeTimeoutMs?: number
  /** A page whose unsent backlog passes this is closed (4005). Default 8 MiB. */
  maxBufferedBytes?: number
  /** Host names pages dial, when a proxy rewrites `Host` (as the signaling server's `hosts`). */
  hosts?: string[]
  /** Ping period; a page that misses a pong is dropped. Default 30 s. */
  pingIntervalMs?: number
}

export interface DhtRelayStats {
  pages: number
  streams: number
  topics: number
}

export interface DhtRelay {
  /** Serves one page on an accepted WebSocket. */
  handle (ws: WebSocket, req: http.IncomingMessage): void
  stats (): DhtRelayStats
  /** Closes every page (1001), then the DHT node if we made it; idempotent. */
  close (): Promise<void>
}

export async function createDhtRelay (options: DhtRelayOptions = {}): Promise<DhtRelay> {
  const limits: SessionLimits = {
    maxMessageBytes: positive(options.maxMessageBytes, 64 * 1024, 'maxMessageBytes'),
    maxTopics: positive(options.maxTopics, 64, 'maxTopics'),
    maxStreams: positive(options.maxStreams, 64, 'maxStreams'),
    maxBufferedBytes: positive(options.maxBufferedBytes, 8 * 1024 * 1024, 'maxBufferedBytes'),
    rateLimit: options.rateLimit ?? { perSecond: 20, burst: 100 },
    dataRateLimit: options.dataRateLimit ?? { perSecond: 4000, burst: 8000 },
    helloTimeoutMs: positive(options.helloTimeoutMs, 10_000, 'helloTimeoutMs'),
    handshakeTimeoutMs: positive(options.handshakeTimeoutMs, 10_000, 'handshakeTimeoutMs')
  }
  const maxConnections = positive(options.maxConnections, 10_000, 'maxConnections')
  const pingIntervalMs = positive(options.pingIntervalMs, 30_000, 'pingIntervalMs')
  for (const r of [limits.rateLimit, limits.dataRateLimit]) {
    if (!(r.perSecond > 0) || !(r.burst >= 1)) throw HypercoreError.BAD_ARGUMENT('rate limits need perSecond > 0 and burst >= 1')
  }
  const hosts = options.hosts?.map(h => h.toLowerCase()) ?? null
  await cryptoReady()
  const hd = loadHyperdht()
  const ownDht = options.dht === undefined
  const dht = (options.dht ?? new hd.DHT({
    ...(options.bootstrap === undefined ? {} : { bootstrap: options.bootstrap.map(parseNode) }),
    ...(options.dhtHost === undefined ? {} : { host: options.dhtHost }),
    ...(options.dhtPort === undefined ? {} : { port: options.dhtPort })
  })) as HyperdhtNode
  await dht.ready()

  const sessions = new Set<RelaySession>()
  const byKey = new Map<string, RelaySession>()
  let closing: Promise<void> | null = null

  const registry = {
    dht,
    hd,
    limits,
    hosts,
    async claim (key: string, session: RelaySession): Promise<void> {
      if (closing !== null) throw HypercoreError.SESSION_CLOSED('relay closing')
      const previous = byKey.get(key)
      byKey.set(key, session)
      // The page reconnecting before we noticed its old socket died: its DHT server must be
      // gone before the new one listens with the same key.
      if (previous !== undefined && previous !== session) {
        previous.fail(RELAY_CLOSE.REPLACED, 'replaced by a newer connection')
        await previous.shutdown()
      }
    },
    closed (session: RelaySession): void {
      sessions.delete(session)
      const key = session.publicKey === null ? null : Buffer.from(session.publicKey).toString('hex')
      if (key !== null && byKey.get(key) === session) byKey.delete(key)
    }
  }

  const heartbeat = setInterval(() => {
    for (const s of sessions) {
      if (!s.alive) {
        s.ws.terminate()
        void s.shutdown()
        continue
      }
      s.alive = false
      try { s.ws.ping() } catch {}
    }
  }, pingIntervalMs)
  heartbeat.unref()

  function handle (ws: WebSocket, req: http.IncomingMessage): void {
    if (closing !== null || sessions.size >= maxConnections) {
      ws.close(closing !== null ? RELAY_CLOSE.GOING_AWAY : RELAY_CLOSE.SERVER_FULL, closing !== null ? 'relay closing' : 'relay full')
      return
    }
    const host = (req.headers.host ?? '').toLowerCase().slice(0, 512)
    sessions.add(new RelaySession(ws, host, registry))
  }

  async function close (): Promise<void> {
    clearInterval(heartbeat)
    const all = [...sessions]
    for (const s of all) s.fail(RELAY_CLOSE.GOING_AWAY, 'relay closing')
    await Promise.all(all.map(s => s.shutdown()))
    // A page that never answers the close frame is cut off after a grace period.
    await Promise.all(all.map(s => new Promise<void>((resolve) => {
      if (s.ws.readyState === 3) return resolve()
      const t = setTimeout(() => { s.ws.terminate(); resolve() }, 2000)
      s.ws.once('close', () => { clearTimeout(t); resolve() })
    })))
    if (ownDht) await dht.destroy()
  }

  return {
    handle,
    stats: () => {
      let streams = 0
      let topics = 0
      for (const s of sessions) {
        streams += s.stats.streams
        topics += s.stats.topics
      }
      return { pages: sessions.size, streams, topics }
    },
    close: () => (closing ??= close())
  }
}

/** A bootstrap node as hyperdht takes it; a typo fails here, clearly, not as a silent empty DHT. */
function parseNode (n: string | IPv4): string | IPv4 {
  if (typeof n !== 'string') return n
  const s = n.trim()
  // host:port, optionally prefixed with the node's address as hyperdht's defaults are (ip@name:port).
  if (!/^(?:[^\s@]+@)?[^\s@]+:\d{1,5}$/.test(s)) throw HypercoreError.BAD_ARGUMENT(`bootstrap node must be host:port, got ${n}`)
  return s
}

function positive (v: number | undefined, dflt: number, name: string): number {
  if (v === undefined) return dflt
  if (!Number.isSafeInteger(v) || v <= 0) throw HypercoreError.BAD_ARGUMENT(`${name} must be a positive integer`)
  return v
}
