/**
 * @module signaling/server
 * Our WebSocket signaling server (Node only; `hypercore-web/signal-server`, and the
 * `hypercore-web-signal` command). Peers prove their id (an Ed25519 public key) by signing a
 * challenge, join rooms by topic, learn who else is there and relay WebRTC signals to each
 * other, signed end to end by their senders; see ../PROTOCOL.md.
 *
 * Why a challenge: ids are public (every `peers` answer lists them), so a hello that merely
 * named an id would let anyone take it over. A connection is welcomed only once it signed this
 * connection's random nonce and this server's host with the id's key; a new connection that
 * proves a connected id replaces the old one (the owner reconnecting), one that does not is
 * closed with AUTH_FAILED and disturbs nobody. Until then it may do nothing else, and it must
 * answer within `helloTimeoutMs`.
 *
 * Rooms live in this process (./directory.ts) unless `redis` is given: then they are shared
 * through Redis with every other process given the same Redis (./redis-directory.ts), so
 * peers connected to different processes behind one address meet; a process that dies drops
 * only its own clients, who reconnect to another.
 *
 * It stores nothing but live room membership and relays nothing but signals. Every message
 * is validated; a client that sends junk, oversized or too many messages is closed with a
 * code (`CLOSE` in ../protocol.ts) while every other client keeps being served. Memory is
 * bounded: connections ≤ maxConnections, topics per connection ≤ maxTopics, a message ≤
 * maxMessageBytes, a client's unsent backlog ≤ maxBufferedBytes.
 */
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { WebSocketServer, WebSocket, type RawData } from 'ws'
import { HypercoreError } from '../../errors.js'
import { cryptoReady } from '../../crypto/sodium.js'
import { randomBytes } from '../../crypto/sign.js'
import { helloSignable, MAX_HOST_BYTES, NONCE_BYTES, toHex, verifyHex } from '../auth.js'
import { CLOSE, DEFAULT_MAX_SIGNAL_BYTES, parseClientMessage, type ServerMessage } from '../protocol.js'
import { LocalDirectory, type Directory, type DirectoryHooks } from './directory.js'
import { RedisDirectory } from './redis-directory.js'
import { TokenBucket, type RateLimit } from './token-bucket.js'
import { createDhtRelay, type DhtRelay, type DhtRelayOptions, type DhtRelayStats } from '../../dht/relay/index.js'

export type { RateLimit } from './token-bucket.js'
export { createDhtRelay, type DhtRelay, type DhtRelayOptions, type DhtRelayStats } from '../../dht/relay/index.js'

export interface SignalServerOptions {
  /** Port to listen on (0: any free port). Default 8787. Ignored with `server`. */
  port?: number
  /** Interface to listen on. Default 127.0.0.1 (pass 0.0.0.0 to serve other machines). */
  host?: string
  /** Attach to this HTTP server instead of listening; `close()` leaves it open. */
  server?: http.Server
  /** Only upgrade requests to this path (with `server`, to share it with other routes). */
  path?: string
  /** Largest WebSocket message; a bigger one closes the client with 1009. Default 64 KiB. */
  maxMessageBytes?: number
  /** Largest signal payload (its JSON). Default 16 KiB. */
  maxSignalBytes?: number
  /** Per-connection token bucket. Default 20 messages/s, bursts of 100. */
  rateLimit?: RateLimit
  /** Topics one connection may be in at once. Default 64. */
  maxTopics?: number
  /** Connections at once; more are closed with SERVER_FULL. Default 10,000. */
  maxConnections?: number
  /** Peers named in the answer to a join (and told of the newcomer). Default 32. */
  maxPeersListed?: number
  /** A connection must answer its challenge (a signed hello) within this. Default 10 s. */
  helloTimeoutMs?: number
  /**
   * The hosts (`host[:port]` as in the URL clients dial, e.g. 'signal.example.com') a hello may
   * be signed for. Default: the Host header of each connection's upgrade request, which is the
   * dialled host unless a reverse proxy rewrites it: behind such a proxy, list the public names.
   */
  hosts?: string[]
  /** Ping period; a client that misses a pong is dropped. Default 30 s. */
  pingIntervalMs?: number
  /** A client whose unsent backlog passes this is closed (it does not read). Default 1 MiB. */
  maxBufferedBytes?: number
  /**
   * Share rooms with every other server process given the same Redis (`redis://host:port`):
   * peers connected to different processes meet. Default: rooms in this process only.
   */
  redis?: string
  /** Prefix of the Redis keys and channels (several deployments on one Redis). Default 'hws:'. */
  redisPrefix?: string
  /**
   * Also serve a DHT relay (pages join the HyperDHT through it, see src/dht/PROTOCOL.md) at
   * `path` (default '/dht') of the same HTTP server; needs the optional dependency hyperdht.
   */
  dhtRelay?: DhtRelayOptions & { path?: string }
}

export interface SignalServerStats {
  connections: number
  /** Connections that said hello. */
  peers: number
  /** Rooms and memberships of this process's clients (with `redis`, other processes have their own). */
  rooms: number
  memberships: number
  /** With `redis`: Redis operations that failed (each lost the message or membership it carried). */
  redisErrors?: number
  /** The DHT relay's, when it runs. */
  dhtRelay?: DhtRelayStats
}

export interface SignalServer {
  readonly port: number
  /** ws://host:port/path to give `WebSocketSignaling({ url })`. */
  readonly url: string
  /** ws://host:port/dht to give `new Swarm({ dht: { relay } })`, when `dhtRelay` is on. */
  readonly dhtRelayUrl: string | null
  stats (): SignalServerStats
  /** Closes every client (1001) and stops listening; idempotent. */
  close (): Promise<void>
}

interface Conn {
  ws: WebSocket
  peerId: string | null
  /** This connection's challenge until it is answered (one answer, right or wrong). */
  nonce: Uint8Array | null
  /** The Host header of the upgrade request (lowercase). */
  host: string
  topics: Set<string>
  bucket: TokenBucket
  helloTimer: ReturnType<typeof setTimeout> | null
  alive: boolean
  closing: boolean
}

const CLOSE_GRACE_MS = 2000
/** The heartbeat pings a slice of the clients this often (see the heartbeat below). */
const HEARTBEAT_TICK_MS = 100

export async function createSignalServer (options: SignalServerOptions = {}): Promise<SignalServer> {
  const o = {
    port: options.port ?? 8787,
    host: options.host ?? '127.0.0.1',
    maxMessageBytes: positive(options.maxMessageBytes, 64 * 1024, 'maxMessageBytes'),
    maxSignalBytes: positive(options.maxSignalBytes, DEFAULT_MAX_SIGNAL_BYTES, 'maxSignalBytes'),
    rateLimit: options.rateLimit ?? { perSecond: 20, burst: 100 },
    maxTopics: positive(options.maxTopics, 64, 'maxTopics'),
    maxConnections: positive(options.maxConnections, 10_000, 'maxConnections'),
    maxPeersListed: positive(options.maxPeersListed, 32, 'maxPeersListed'),
    helloTimeoutMs: positive(options.helloTimeoutMs, 10_000, 'helloTimeoutMs'),
    pingIntervalMs: positive(options.pingIntervalMs, 30_000, 'pingIntervalMs'),
    maxBufferedBytes: positive(options.maxBufferedBytes, 1024 * 1024, 'maxBufferedBytes')
  }
  if (!(o.rateLimit.perSecond > 0) || !(o.rateLimit.burst >= 1)) throw HypercoreError.BAD_ARGUMENT('rateLimit needs perSecond > 0 and burst >= 1')
  if (!Number.isInteger(o.port) || o.port < 0 || o.port > 65535) throw HypercoreError.BAD_ARGUMENT(`bad port ${String(options.port)}`)
  const hosts = options.hosts?.map(h => {
    if (typeof h !== 'string' || h === '' || h.length > MAX_HOST_BYTES || /[\s/]/.test(h)) throw HypercoreError.BAD_ARGUMENT(`hosts: bad host ${String(h)}`)
    return h.toLowerCase()
  }) ?? null
  if (hosts !== null && hosts.length === 0) throw HypercoreError.BAD_ARGUMENT('hosts must name at least one host')
  // Hellos are verified with libsodium (the same code as the clients' signal checks).
  await cryptoReady()
  const hooks: DirectoryHooks<Conn> = {
    send: (c, msg) => send(c, msg),
    replace: (c) => fail(c, CLOSE.REPLACED, 'replaced by a newer connection')
  }
  // Redis first: a server that cannot share its rooms must not start as a lone one.
  const directory: Directory<Conn> = options.redis === undefined
    ? new LocalDirectory(hooks)
    : await RedisDirectory.open(options.redis, hooks, { prefix: options.redisPrefix })

  const httpServer = options.server ?? http.createServer((_req, res) => {
    res.writeHead(426, { 'content-type': 'text/plain' })
    res.end('hypercore-web signaling server: connect with a WebSocket\n')
  })
  const ownServer = options.server === undefined
  // The relay first: it loads hyperdht and joins the DHT, and a failure must leave nothing listening.
  const relayPath = options.dhtRelay?.path ?? '/dht'
  let relay: DhtRelay | null = null
  try {
    if (options.dhtRelay !== undefined) relay = await createDhtRelay(options.dhtRelay)
    if (ownServer) await listen(httpServer, o.port, o.host)
  } catch (err) {
    await relay?.close()
    await directory.close()
    throw err
  }

  let wss: WebSocketServer
  let relayWss: WebSocketServer | null = null
  if (relay === null) {
    wss = new WebSocketServer({ server: httpServer, path: options.path, maxPayload: o.maxMessageBytes })
  } else {
    // Two endpoints on one HTTP server: route upgrades by path.
    wss = new WebSocketServer({ noServer: true, maxPayload: o.maxMessageBytes })
    relayWss = new WebSocketServer({ noServer: true, maxPayload: options.dhtRelay?.maxMessageBytes ?? 64 * 1024 })
    relayWss.on('error', () => {})
    httpServer.on('upgrade', (req: http.IncomingMessage, socket, head) => {
      const path = (req.url ?? '/').split('?')[0]
      if (path === relayPath) return relayWss!.handleUpgrade(req, socket, head, (ws) => relay.handle(ws, req))
      if (options.path !== undefined && path !== options.path) return socket.destroy()
      wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req))
    })
  }
  const conns = new Set<Conn>()
  let welcomed = 0
  const limits = { maxMessageBytes: o.maxMessageBytes, maxSignalBytes: o.maxSignalBytes, maxTopics: o.maxTopics }

  function send (c: Conn, msg: ServerMessage): void {
    if (c.closing || c.ws.readyState !== WebSocket.OPEN) return
    if (c.ws.bufferedAmount > o.maxBufferedBytes) return fail(c, CLOSE.SLOW_CONSUMER, 'not reading')
    c.ws.send(JSON.stringify(msg))
  }

  /** Forgets the client's memberships at once (nobody relays to it any more), then closes it. */
  function fail (c: Conn, code: number, reason: string): void {
    if (c.closing) return
    forget(c)
    c.closing = true
    c.ws.close(code, reason)
  }

  function forget (c: Conn): void {
    if (c.helloTimer !== null) clearTimeout(c.helloTimer)
    c.helloTimer = null
    c.nonce = null
    if (c.peerId !== null) {
      directory.release(c.peerId, c, c.topics)
      welcomed--
      c.peerId = null
    }
    c.topics.clear()
  }

  function onMessage (c: Conn, data: RawData, isBinary: boolean): void {
    if (c.closing) return
    if (!c.bucket.take()) return fail(c, CLOSE.RATE_LIMITED, 'rate limit')
    if (isBinary) return fail(c, CLOSE.BAD_MESSAGE, 'binary message')
    const msg = parseClientMessage(data.toString(), o.maxSignalBytes)
    if (msg === null) return fail(c, CLOSE.BAD_MESSAGE, 'malformed message')
    if (msg.type === 'hello') {
      const nonce = c.nonce
      if (c.peerId !== null || nonce === null) return fail(c, CLOSE.HELLO_REQUIRED, 'hello twice')
      c.nonce = null // one answer per challenge, right or wrong
      if (!proves(msg.peerId, msg.signature, nonce, c.host)) return fail(c, CLOSE.AUTH_FAILED, 'peer id not proven')
      if (c.helloTimer !== null) clearTimeout(c.helloTimer)
      c.helloTimer = null
      // Only now, with the key proven: the owner reconnecting before we noticed its old socket
      // died (with Redis, maybe on another process) has that connection replaced.
      directory.claim(msg.peerId, c)
      c.peerId = msg.peerId
      welcomed++
      return send(c, { type: 'welcome', peerId: msg.peerId, limits })
    }
    const self = c.peerId
    if (self === null) return fail(c, CLOSE.HELLO_REQUIRED, 'hello first')
    switch (msg.type) {
      case 'join': {
        if (!c.topics.has(msg.topic)) {
          if (c.topics.size >= o.maxTopics) return fail(c, CLOSE.TOO_MANY_TOPICS, 'too many topics')
          c.topics.add(msg.topic)
        }
        // A repeated join re-lists the room: how a client looks again for peers.
        return directory.join(msg.topic, self, c, o.maxPeersListed)
      }
      case 'leave':
        if (c.topics.delete(msg.topic)) directory.leave(msg.topic, self, c)
        return
      case 'signal': {
        // Only within a room both are in; otherwise dropped, not fatal (it raced a leave).
        if (!c.topics.has(msg.topic)) return
        // `from` is the proven id of the sender; the signature is the receiver's to check.
        directory.relay(msg.to, msg.topic, { type: 'signal', from: self, topic: msg.topic, data: msg.data, seq: msg.seq, signature: msg.signature })
      }
    }
  }

  /** The hello's signature is by `peerId`'s key over this connection's nonce and a host of ours. */
  function proves (peerId: string, signature: string, nonce: Uint8Array, host: string): boolean {
    for (const h of hosts ?? [host]) {
      if (verifyHex(helloSignable(nonce, peerId, h), signature, peerId)) return true
    }
    return false
  }

  wss.on('connection', (ws: WebSocket, req: http.IncomingMessage) => {
    if (closing !== null || conns.size >= o.maxConnections) {
      ws.close(closing !== null ? CLOSE.GOING_AWAY : CLOSE.SERVER_FULL, closing !== null ? 'server closing' : 'server full')
      return
    }
    const host = (req.headers.host ?? '').toLowerCase().slice(0, MAX_HOST_BYTES)
    const c: Conn = { ws, peerId: null, nonce: randomBytes(NONCE_BYTES), host, topics: new Set(), bucket: new TokenBucket(o.rateLimit), helloTimer: null, alive: true, closing: false }
    c.helloTimer = setTimeout(() => fail(c, CLOSE.HELLO_REQUIRED, 'no hello'), o.helloTimeoutMs)
    conns.add(c)
    send(c, { type: 'challenge', nonce: toHex(c.nonce!) })
    ws.on('message', (data, isBinary) => onMessage(c, data, isBinary))
    ws.on('pong', () => { c.alive = true })
    // ws reports protocol faults (oversized frame: it closes with 1009 itself) as 'error'.
    ws.on('error', () => { forget(c); c.closing = true })
    ws.on('close', () => {
      forget(c)
      c.closing = true
      conns.delete(c)
      if (conns.size === 0 && allClosed !== null) allClosed()
    })
  })
  // Errors of the listening socket after startup; a signaling server keeps running.
  wss.on('error', () => {})

  // Each client is pinged once per `pingIntervalMs` and dropped if it did not answer the
  // previous ping. The pings are spread over the interval, a slice every tick: sent all at
  // once, 10,000 of them blocked the event loop for 0.1 to 0.5 s on a 2-core VM
  // (bench/signaling-load.bench.ts), and every signal waited behind them.
  const tickMs = Math.min(HEARTBEAT_TICK_MS, o.pingIntervalMs)
  let sweep: IterableIterator<Conn> | null = null
  const heartbeat = setInterval(() => {
    for (let budget = Math.ceil(conns.size * tickMs / o.pingIntervalMs); budget > 0; budget--) {
      sweep ??= conns.values()
      const next = sweep.next()
      if (next.done === true) {
        sweep = null // the pass is over; the next one starts at the next tick
        return
      }
      const c = next.value
      if (c.closing) continue
      if (!c.alive) {
        forget(c)
        c.ws.terminate()
        continue
      }
      c.alive = false
      c.ws.ping()
    }
  }, tickMs)
  heartbeat.unref()

  const address = httpServer.address() as AddressInfo | null
  const port = address?.port ?? o.port
  const shownHost = !ownServer || o.host === '0.0.0.0' || o.host === '::' ? '127.0.0.1' : o.host
  const base = `ws://${shownHost.includes(':') ? `[${shownHost}]` : shownHost}:${port}`
  const url = `${base}${options.path ?? ''}`
  const dhtRelayUrl = relay === null ? null : `${base}${relayPath}`

  let closing: Promise<void> | null = null
  let allClosed: (() => void) | null = null
  async function close (): Promise<void> {
    clearInterval(heartbeat)
    const drained = new Promise<void>((resolve) => {
      allClosed = resolve
      if (conns.size === 0) resolve()
    })
    for (const c of conns) fail(c, CLOSE.GOING_AWAY, 'server closing')
    // A client that never answers the close frame is cut off after a grace period.
    const grace = setTimeout(() => { for (const c of conns) c.ws.terminate() }, CLOSE_GRACE_MS)
    await drained
    clearTimeout(grace)
    await relay?.close()
    await directory.close()
    if (relayWss !== null) await new Promise<void>((resolve) => relayWss!.close(() => resolve()))
    await new Promise<void>((resolve) => wss.close(() => resolve()))
    if (ownServer) await new Promise<void>((resolve) => httpServer.close(() => resolve()))
  }

  return {
    port,
    url,
    dhtRelayUrl,
    stats: () => ({
      connections: conns.size,
      peers: welcomed,
      ...directory.stats(),
      ...(directory instanceof RedisDirectory ? { redisErrors: directory.errors } : {}),
      ...(relay === null ? {} : { dhtRelay: relay.stats() })
    }),
    close: () => (closing ??= close())
  }
}

function positive (v: number | undefined, dflt: number, name: string): number {
  if (v === undefined) return dflt
  if (!Number.isSafeInteger(v) || v <= 0) throw HypercoreError.BAD_ARGUMENT(`${name} must be a positive integer`)
  return v
}

function listen (server: http.Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(HypercoreError.BAD_ARGUMENT(`cannot listen on ${host}:${port}: ${err.message}`))
    server.once('error', onError)
    server.listen(port, host, () => {
      server.off('error', onError)
      resolve()
    })
  })
}
