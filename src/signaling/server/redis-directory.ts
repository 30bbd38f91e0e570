/**
 * @module signaling/server/redis-directory
 * Rooms shared by several signaling server processes through Redis
 * (`createSignalServer({ redis: 'redis://…' })`): peers connected to different processes meet,
 * and signals between them are relayed process to process. Each process still keeps its own
 * connections' memberships in memory (./rooms.ts) for local delivery; Redis holds everyone's:
 *
 *   {prefix}inst:{id}      '1' with a 10 s expiry, refreshed every 3 s: the process is alive
 *   {prefix}room:{topic}   hash peer id → process id: who is in the room, and where
 *   {prefix}peer:{peer}    process id holding the peer's connection (for replacements)
 *   channel {prefix}to:{id}  what other processes send this one: deliver a message to a local
 *                            peer, or replace (4004) a local connection whose id reconnected elsewhere
 *
 * A process that dies stops refreshing its `inst` key: within 10 s its members are no longer
 * listed (entries of dead processes are skipped and deleted when met), and its clients, who
 * reconnect to another process, join again from there. Membership entries are removed only
 * by their own process (compare-and-delete), so a peer that moved is never removed by the
 * process it left. A Redis error costs the operation it happened in (logged in the stats),
 * never the process; ioredis reconnects by itself.
 */
import { Redis } from 'ioredis'
import { HypercoreError } from '../../errors.js'
import { randomBytes } from '../../crypto/sign.js'
import { toHex } from '../auth.js'
import type { ServerMessage } from '../protocol.js'
import type { PeerId, TopicHex } from '../types.js'
import { LocalDirectory, type DirectoryHooks } from './directory.js'

export interface RedisDirectoryOptions {
  /** Key and channel prefix, so several deployments can share one Redis. Default 'hws:'. */
  prefix?: string
}

const ALIVE_MS = 10_000
const REFRESH_MS = 3000
/** How long we believe another process's liveness before asking Redis again. */
const LIVENESS_CACHE_MS = 1000
/**
 * How long we remember where a signal's receiver is. A peer sends a burst of signals to the
 * same receiver (offer, answer, candidates); asking Redis for each doubled the CPU per relayed
 * signal. A receiver that moved process meanwhile (it reconnected) misses a signal or two;
 * its WebRTC attempt fails and the swarm meets the peer again.
 */
const ROUTE_CACHE_MS = 2000
const ROUTE_CACHE_SIZE = 65_536

const DEL_FIELD_IF = "if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then return redis.call('HDEL', KEYS[1], ARGV[1]) else return 0 end"
const DEL_KEY_IF = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end"

type Envelope =
  | { k: 'd', to: PeerId, t: TopicHex, m: ServerMessage }
  | { k: 'r', p: PeerId }

export class RedisDirectory<C> extends LocalDirectory<C> {
  /** This process's id in Redis. */
  readonly id = toHex(randomBytes(8))
  /** Redis operations that failed (the message or membership they carried was lost). */
  errors = 0
  private readonly prefix: string
  private readonly cmd: Redis
  private readonly sub: Redis
  private readonly liveness = new Map<string, { alive: boolean, until: number }>()
  private readonly routes = new Map<string, { inst: string, until: number }>()
  private refresh: ReturnType<typeof setInterval> | null = null
  private closed = false

  private constructor (url: string, hooks: DirectoryHooks<C>, opts: RedisDirectoryOptions) {
    super(hooks)
    this.prefix = opts.prefix ?? 'hws:'
    // Auto-pipelining: commands issued in one tick (a burst of signals) share one round trip.
    const common = { lazyConnect: true, maxRetriesPerRequest: 2, enableOfflineQueue: true, enableAutoPipelining: true }
    this.cmd = new Redis(url, common)
    this.sub = new Redis(url, common)
    for (const r of [this.cmd, this.sub]) r.on('error', () => {})
  }

  /** Connects to Redis, subscribes to this process's channel and starts its liveness key. */
  static async open<C> (url: string, hooks: DirectoryHooks<C>, opts: RedisDirectoryOptions = {}): Promise<RedisDirectory<C>> {
    const d = new RedisDirectory(url, hooks, opts)
    try {
      await Promise.all([d.cmd.connect(), d.sub.connect()])
      d.sub.on('message', (_channel: string, text: string) => d.onEnvelope(text))
      await d.sub.subscribe(d.channel(d.id))
      await d.cmd.set(d.key('inst', d.id), '1', 'PX', ALIVE_MS)
    } catch (err) {
      d.cmd.disconnect()
      d.sub.disconnect()
      throw HypercoreError.BAD_ARGUMENT(`cannot use Redis at ${url}: ${(err as Error)?.message ?? String(err)}`)
    }
    d.refresh = setInterval(() => {
      d.cmd.set(d.key('inst', d.id), '1', 'PX', ALIVE_MS).catch(() => { d.errors++ })
    }, REFRESH_MS)
    d.refresh.unref()
    return d
  }

  override claim (peerId: PeerId, c: C): void {
    super.claim(peerId, c)
    this.cmd.set(this.key('peer', peerId), this.id, 'GET').then((old) => {
      if (old !== null && old !== this.id) this.publish(old, { k: 'r', p: peerId })
    }, () => { this.errors++ })
  }

  override join (topic: TopicHex, peerId: PeerId, c: C, max: number): void {
    this.rooms.add(topic, peerId, c)
    void this.listRoom(topic, peerId, c, max)
  }

  private async listRoom (topic: TopicHex, peerId: PeerId, c: C, max: number): Promise<void> {
    const room = this.key('room', topic)
    let entries: string[]
    try {
      await this.cmd.hset(room, peerId, this.id)
      // A random sample, as the local rooms give one (HRANDFIELD: distinct fields); twice what
      // we list, since some may belong to processes that died.
      entries = await this.cmd.hrandfield(room, 2 * max + 1, 'WITHVALUES') as string[]
    } catch {
      this.errors++
      entries = []
    }
    if (this.rooms.get(topic, peerId) !== c) return // left or gone meanwhile
    const others: Array<[PeerId, string]> = []
    for (let i = 0; i + 1 < entries.length; i += 2) if (entries[i] !== peerId) others.push([entries[i]!, entries[i + 1]!])
    const alive = await this.alive(new Set(others.map(([, inst]) => inst)))
    const listed: Array<[PeerId, string]> = []
    for (const [id, inst] of others) {
      if (!alive.has(inst)) {
        this.cmd.eval(DEL_FIELD_IF, 1, room, id, inst).catch(() => { this.errors++ })
        continue
      }
      if (listed.length < max) listed.push([id, inst])
    }
    if (this.rooms.get(topic, peerId) !== c) return
    this.hooks.send(c, { type: 'peers', topic, peers: listed.map(([id]) => id) })
    for (const [id, inst] of listed) this.deliver(id, topic, inst, { type: 'peer-joined', topic, peerId })
  }

  override leave (topic: TopicHex, peerId: PeerId, c: C): void {
    if (this.rooms.get(topic, peerId) !== c) return
    super.leave(topic, peerId, c)
    this.cmd.eval(DEL_FIELD_IF, 1, this.key('room', topic), peerId, this.id).catch(() => { this.errors++ })
  }

  override release (peerId: PeerId, c: C, topics: Iterable<TopicHex>): void {
    const mine = [...topics].filter(t => this.rooms.get(t, peerId) === c)
    const claimed = this.byPeer.get(peerId) === c
    super.release(peerId, c, mine)
    if (this.closed) return
    const p = this.cmd.pipeline()
    for (const t of mine) p.eval(DEL_FIELD_IF, 1, this.key('room', t), peerId, this.id)
    if (claimed) p.eval(DEL_KEY_IF, 1, this.key('peer', peerId), this.id)
    p.exec().catch(() => { this.errors++ })
  }

  override relay (to: PeerId, topic: TopicHex, msg: ServerMessage): void {
    const local = this.rooms.get(topic, to)
    if (local !== undefined) return this.hooks.send(local, msg)
    const route = topic + to
    const known = this.routes.get(route)
    if (known !== undefined && known.until > Date.now()) return this.publish(known.inst, { k: 'd', to, t: topic, m: msg })
    this.cmd.hget(this.key('room', topic), to).then((inst) => {
      if (inst === null || inst === this.id) return
      if (this.routes.size >= ROUTE_CACHE_SIZE) this.routes.clear()
      this.routes.set(route, { inst, until: Date.now() + ROUTE_CACHE_MS })
      this.publish(inst, { k: 'd', to, t: topic, m: msg })
    }, () => { this.errors++ })
  }

  override async close (): Promise<void> {
    if (this.closed) return
    this.closed = true
    if (this.refresh !== null) clearInterval(this.refresh)
    // Our memberships go now rather than in 10 s: the clients are closed with the process.
    const p = this.cmd.pipeline()
    for (const [topic, members] of this.rooms.entries()) for (const peerId of members) p.eval(DEL_FIELD_IF, 1, this.key('room', topic), peerId, this.id)
    for (const peerId of this.byPeer.keys()) p.eval(DEL_KEY_IF, 1, this.key('peer', peerId), this.id)
    p.del(this.key('inst', this.id))
    await p.exec().catch(() => {})
    await Promise.all([this.cmd.quit().catch(() => {}), this.sub.quit().catch(() => {})])
  }

  private deliver (to: PeerId, topic: TopicHex, inst: string, msg: ServerMessage): void {
    if (inst !== this.id) return this.publish(inst, { k: 'd', to, t: topic, m: msg })
    const c = this.rooms.get(topic, to)
    if (c !== undefined) this.hooks.send(c, msg)
  }

  private publish (inst: string, env: Envelope): void {
    this.cmd.publish(this.channel(inst), JSON.stringify(env)).catch(() => { this.errors++ })
  }

  /** What another process asks of us; its word is trusted as far as our own peers are concerned (same deployment). */
  private onEnvelope (text: string): void {
    let env: Envelope
    try {
      env = JSON.parse(text)
    } catch {
      return
    }
    if (env.k === 'd') {
      const c = this.rooms.get(env.t, env.to)
      if (c !== undefined) this.hooks.send(c, env.m)
    } else if (env.k === 'r') {
      const c = this.byPeer.get(env.p)
      if (c !== undefined) this.hooks.replace(c)
    }
  }

  /** The processes of `ids` that are alive (ours always is). */
  private async alive (ids: Set<string>): Promise<Set<string>> {
    const now = Date.now()
    const out = new Set<string>()
    const ask: string[] = []
    for (const id of ids) {
      if (id === this.id) { out.add(id); continue }
      const known = this.liveness.get(id)
      if (known !== undefined && known.until > now) { if (known.alive) out.add(id); continue }
      ask.push(id)
    }
    if (ask.length > 0) {
      try {
        const found = await this.cmd.mget(ask.map(id => this.key('inst', id)))
        ask.forEach((id, i) => {
          const alive = found[i] !== null
          this.liveness.set(id, { alive, until: now + LIVENESS_CACHE_MS })
          if (alive) out.add(id)
        })
      } catch {
        this.errors++
        for (const id of ask) out.add(id) // unknown: better listed than lost
      }
      if (this.liveness.size > 1024) this.liveness.clear()
    }
    return out
  }

  private key (kind: string, id: string): string { return `${this.prefix}${kind}:${id}` }
  private channel (inst: string): string { return `${this.prefix}to:${inst}` }
}
