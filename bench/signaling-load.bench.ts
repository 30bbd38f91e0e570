/**
 * @module bench/signaling-load.bench
 * Load and abuse of our signaling server, measured against a reference in the same run: a
 * plain `ws` relay of the same messages (bench/signaling-load/reference-relay.ts: hello taken
 * at its word, no validation, no limits, no heartbeat). Each server and each server's clients
 * run in their own child process (the file limit raised to the hard one there); this process
 * only drives them. Both servers stay up side by side and their measuring rounds alternate,
 * so a neighbour's load on the shared 2-core machine falls on both alike.
 *
 * Per server: N connections (10,000; `--quick` 2,000) prove their id (ours: challenge + Ed25519
 * signature; the reference: a bare hello) and join T topics (1,000; quick 200: rooms of 10,
 * each a ring where every client signals the next). Then
 *   - connections per second and server CPU per connection (the cost of the challenge);
 *   - memory per connection: the server's heap, external and RSS after a full GC, minus
 *     before, / N;
 *   - throughput at the rate limit: every client sends 20 signals/s (the server's sustained
 *     limit; 200,000/s offered in all), at most 2 unanswered each: relayed signals/s and server
 *     CPU per relayed signal (both servers saturate: the CPU figure is the steadier one);
 *   - latency: a tenth of the clients at 20 signals/s (20,000/s): p50 and p99 from send to
 *     receipt (client clock, one process).
 * Best of 2 rounds each (1 in quick mode). Every figure is given for both servers and as
 * ours / reference. Also the client's own cost per signal (sign + verify) against what it
 * spends on the message anyway (JSON encode + parse).
 *
 * Then the same load on two of our servers sharing rooms through Redis (Debian's redis-server,
 * started here; skipped when it is missing), the clients split between them so that every
 * signal crosses from one server process to the other: the same figures, server CPU summed
 * over both (and Redis's own CPU apart), as ratios to the single server measured just before.
 *
 * Run: node --import tsx bench/signaling-load.bench.ts [--quick]   (about 70 s; quick 20 s)
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { cryptoReady, keyPair } from '../src/crypto/index.js'
import { sign } from '../src/crypto/index.js'
import { SignalSealer, SignalVerifier, toHex } from '../src/signaling/auth.js'
import { Redis } from 'ioredis'
import fs from 'node:fs'
import { REDIS_SERVER, startRedis } from '../test/signaling/redis-helpers.js'

const here = path.dirname(fileURLToPath(import.meta.url))

export interface SignalingLoadOptions {
  quick?: boolean
  /** Override the number of connections / topics / seconds per measuring phase. */
  connections?: number
  topics?: number
  seconds?: number
}

interface Memory { heapUsed: number, rss: number, external: number, arrayBuffers: number, gc: boolean }
interface RunResult {
  offeredPerSecond: number
  sentPerSecond: number
  relayedPerSecond: number
  totalRelayed: number
  latencyMs: { p50: number, p99: number, max: number, samples: number }
  clientCpuShare: number
  closes: Record<string, number>
}

export interface ServerFigures {
  connect: { ms: number, connected: number, connectionsPerSecond: number, closes: Record<string, number>, serverCpuMicrosPerConnection: number }
  /** Server memory per connection: V8 heap, buffers outside it (external), and the whole process (RSS). */
  bytesPerConnection: { heap: number, external: number, rss: number }
  throughput: RunResult & { serverCpuMicrosPerSignal: number, serverCpuShare: number }
  latency: RunResult
}

export interface SignalingLoadResult {
  machine: { cpus: number, node: string, fileLimit: { soft: number, hard: number } }
  connections: number
  topics: number
  seconds: number
  ours: ServerFigures
  reference: ServerFigures
  /** ours / reference: memory and CPU and latency lower is better, throughput higher is better. */
  ratios: {
    heapPerConnection: number
    rssPerConnection: number
    relayedPerSecond: number
    serverCpuPerSignal: number
    latencyP50: number
    latencyP99: number
    connectionsPerSecond: number
    serverCpuPerConnection: number
  }
  /** Per signal on a client: sign (send) + verify (receive), against JSON encode + parse of the message. */
  clientPerSignal: { signMicros: number, verifyMicros: number, jsonMicros: number, ratioToJson: number }
  /** Two of our servers sharing rooms through Redis, every signal crossing between them (null: no redis-server). */
  redis: null | {
    figures: Omit<ServerFigures, 'bytesPerConnection'> & { redisCpuMicrosPerSignal: number }
    /** two behind Redis / one server (this run): throughput higher is better, the rest lower. */
    ratios: { relayedPerSecond: number, serverCpuPerSignal: number, latencyP50: number, latencyP99: number, connectionsPerSecond: number }
  }
}

/** The open-files limit a child gets (`ulimit -n`, soft and hard). */
function fileLimit (): { soft: number, hard: number } {
  const out = (flag: string): number => {
    const r = spawnSync('sh', ['-c', `ulimit ${flag}`], { encoding: 'utf8' }).stdout.trim()
    return r === 'unlimited' ? Infinity : Number(r)
  }
  return { soft: out('-Sn'), hard: out('-Hn') }
}

/** A child running `file` under tsx with --expose-gc and the file limit raised to the hard limit. */
function child (file: string): { proc: ChildProcess, request: (msg: unknown) => Promise<any> } {
  const proc = spawn('sh', ['-c', 'ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$@"', 'sh', process.execPath, '--import', 'tsx', '--expose-gc', path.join(here, file)], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc']
  })
  const queue: Array<(m: any) => void> = []
  const ready = new Promise<void>((resolve) => queue.push(() => resolve()))
  proc.on('message', (m) => queue.shift()?.(m))
  proc.on('exit', (code) => { for (const q of queue.splice(0)) q({ error: `child ${file} exited with ${code}` }) })
  const request = async (msg: unknown): Promise<any> => {
    await ready
    const r = await new Promise<any>((resolve) => { queue.push(resolve); proc.send(msg as object) })
    if (r?.error !== undefined) throw new Error(r.error)
    return r
  }
  return { proc, request }
}

/** One server under test: its process, its clients' process, and what they measured. */
interface Side {
  kind: 'ours' | 'reference'
  server: ReturnType<typeof child>
  clients: ReturnType<typeof child>
  url: string
  m0: Memory
}

async function open (kind: Side['kind'], n: number): Promise<Side> {
  const server = child('signaling-load/server-child.ts')
  const clients = child('signaling-load/clients-child.ts')
  const { url } = await server.request({ cmd: 'start', kind, maxConnections: n })
  const m0: Memory = await server.request({ cmd: 'memory' })
  return { kind, server, clients, url, m0 }
}

async function shut (side: Side): Promise<void> {
  await side.clients.request({ cmd: 'close' }).catch(() => {})
  await side.server.request({ cmd: 'stop' }).catch(() => {})
  side.clients.proc.kill()
  side.server.proc.kill()
}

async function throughputRound (side: Side, n: number, seconds: number): Promise<ServerFigures['throughput']> {
  const cpu0 = await side.server.request({ cmd: 'cpu' })
  const t0 = performance.now()
  const r: RunResult = await side.clients.request({ cmd: 'run', seconds, warmup: 1, active: n, rate: 20, window: 2 })
  const cpu1 = await side.server.request({ cmd: 'cpu' })
  const wall = (performance.now() - t0) / 1000
  const serverCpu = cpu1.user - cpu0.user + cpu1.system - cpu0.system
  return { ...r, serverCpuMicrosPerSignal: serverCpu / Math.max(1, r.totalRelayed), serverCpuShare: serverCpu / 1e6 / wall }
}

/**
 * Both servers stay up side by side (each with its own client process, idle while the other
 * is measured), and their rounds alternate, so a neighbour's load on the shared machine falls
 * on both alike; the best round of each is kept, as in the other benchmarks.
 */
async function measureBoth (n: number, topics: number, seconds: number, rounds: number): Promise<{ ours: ServerFigures, reference: ServerFigures }> {
  const sides = [await open('ours', n), await open('reference', n)]
  try {
    const connect: Array<ServerFigures['connect']> = []
    const mem: Array<ServerFigures['bytesPerConnection']> = []
    for (const side of sides) {
      const cpu0 = await side.server.request({ cmd: 'cpu' })
      const c = await side.clients.request({ cmd: 'connect', url: side.url, n, topics, auth: side.kind === 'ours' })
      const cpu1 = await side.server.request({ cmd: 'cpu' })
      const per = Math.max(1, c.connected)
      connect.push({ ...c, serverCpuMicrosPerConnection: (cpu1.user - cpu0.user + cpu1.system - cpu0.system) / per })
      const m1: Memory = await side.server.request({ cmd: 'memory' })
      mem.push({ heap: (m1.heapUsed - side.m0.heapUsed) / per, external: (m1.external - side.m0.external) / per, rss: (m1.rss - side.m0.rss) / per })
    }
    const tp: Array<Array<ServerFigures['throughput']>> = [[], []]
    const lat: RunResult[][] = [[], []]
    for (let r = 0; r < rounds; r++) {
      for (const i of r % 2 === 0 ? [0, 1] : [1, 0]) tp[i]!.push(await throughputRound(sides[i]!, n, seconds))
    }
    for (let r = 0; r < rounds; r++) {
      for (const i of r % 2 === 0 ? [0, 1] : [1, 0]) lat[i]!.push(await sides[i]!.clients.request({ cmd: 'run', seconds, warmup: 1, active: Math.ceil(n / 10), rate: 20, window: 4 }))
    }
    const figures = (i: number): ServerFigures => ({
      connect: connect[i]!,
      bytesPerConnection: mem[i]!,
      throughput: tp[i]!.reduce((a, b) => (b.relayedPerSecond > a.relayedPerSecond ? b : a)),
      latency: lat[i]!.reduce((a, b) => (b.latencyMs.p99 < a.latencyMs.p99 ? b : a))
    })
    return { ours: figures(0), reference: figures(1) }
  } finally {
    await Promise.all(sides.map(shut))
  }
}

/** Client cost per signal: seal (one signature) + check (one verification) vs JSON encode + parse of the same message. */
async function clientPerSignal (): Promise<SignalingLoadResult['clientPerSignal']> {
  await cryptoReady()
  const a = keyPair()
  const b = keyPair()
  const [from, to] = [toHex(a.publicKey), toHex(b.publicKey)]
  const topic = 'ab'.repeat(32)
  const data = JSON.stringify({ type: 'candidate', candidate: { candidate: 'candidate:842163049 1 udp 1677729535 192.0.2.10 51234 typ srflx raddr 10.0.0.5 rport 51234 generation 0 ufrag EsAw network-cost 999', sdpMid: '0', sdpMLineIndex: 0 } })
  const sealer = new SignalSealer({ self: from, sign: (m) => sign(m, a.secretKey) })
  const count = 3000
  const sealed = []
  let t = performance.now()
  for (let i = 0; i < count; i++) sealed.push(sealer.seal(to, topic, data))
  const signMicros = (performance.now() - t) * 1000 / count
  const verifier = new SignalVerifier()
  t = performance.now()
  for (const s of sealed) if (verifier.check(from, to, topic, s.seq, s.data, s.signature) !== null) throw new Error('bench signal did not verify')
  const verifyMicros = (performance.now() - t) * 1000 / count
  t = performance.now()
  let sink = 0
  for (const s of sealed) {
    const text = JSON.stringify({ type: 'signal', to, topic, ...s })
    sink += (JSON.parse(JSON.parse(text).data) as { type: string }).type.length
  }
  const jsonMicros = (performance.now() - t) * 1000 / count
  if (sink === 0) throw new Error('unreachable')
  return { signMicros, verifyMicros, jsonMicros, ratioToJson: (signMicros + verifyMicros) / jsonMicros }
}

/** Redis's own CPU so far (µs), from INFO. */
async function redisCpu (r: Redis): Promise<number> {
  const info = await r.info('cpu')
  const num = (k: string): number => Number((new RegExp(`${k}:([0-9.]+)`).exec(info) ?? [])[1] ?? 0)
  return (num('used_cpu_user') + num('used_cpu_sys')) * 1e6
}

/** The same load on two of our servers sharing rooms through one Redis; best of `rounds`. */
async function measureRedis (n: number, topics: number, seconds: number, rounds: number): Promise<NonNullable<SignalingLoadResult['redis']>['figures'] | null> {
  if (!fs.existsSync(REDIS_SERVER)) return null
  const redis = await startRedis()
  const info = new Redis(redis.url)
  const servers = [child('signaling-load/server-child.ts'), child('signaling-load/server-child.ts')]
  const clients = child('signaling-load/clients-child.ts')
  try {
    const urls: string[] = []
    for (const s of servers) urls.push((await s.request({ cmd: 'start', kind: 'ours', maxConnections: n, redis: redis.url })).url)
    const cpu = async (): Promise<number> => {
      let t = 0
      for (const s of servers) { const c = await s.request({ cmd: 'cpu' }); t += c.user + c.system }
      return t
    }
    let c0 = await cpu()
    const c = await clients.request({ cmd: 'connect', url: urls, n, topics, auth: true })
    const connect = { ...c, serverCpuMicrosPerConnection: (await cpu() - c0) / Math.max(1, c.connected) }
    const tp: Array<ServerFigures['throughput'] & { redisCpuMicrosPerSignal: number }> = []
    const lat: RunResult[] = []
    for (let r = 0; r < rounds; r++) {
      c0 = await cpu()
      const r0 = await redisCpu(info)
      const t0 = performance.now()
      const res: RunResult = await clients.request({ cmd: 'run', seconds, warmup: 1, active: n, rate: 20, window: 2 })
      const serverCpu = await cpu() - c0
      const wall = (performance.now() - t0) / 1000
      const relayed = Math.max(1, res.totalRelayed)
      tp.push({ ...res, serverCpuMicrosPerSignal: serverCpu / relayed, serverCpuShare: serverCpu / 1e6 / wall, redisCpuMicrosPerSignal: (await redisCpu(info) - r0) / relayed })
    }
    for (let r = 0; r < rounds; r++) lat.push(await clients.request({ cmd: 'run', seconds, warmup: 1, active: Math.ceil(n / 10), rate: 20, window: 4 }))
    const best = tp.reduce((a, b) => (b.relayedPerSecond > a.relayedPerSecond ? b : a))
    return {
      connect,
      throughput: best,
      latency: lat.reduce((a, b) => (b.latencyMs.p99 < a.latencyMs.p99 ? b : a)),
      redisCpuMicrosPerSignal: best.redisCpuMicrosPerSignal
    }
  } finally {
    await clients.request({ cmd: 'close' }).catch(() => {})
    for (const s of servers) await s.request({ cmd: 'stop' }).catch(() => {})
    clients.proc.kill()
    for (const s of servers) s.proc.kill()
    info.disconnect()
    await redis.stop()
  }
}

export async function signalingLoadBench (opts: SignalingLoadOptions = {}): Promise<SignalingLoadResult> {
  const quick = opts.quick ?? false
  const limit = fileLimit()
  let n = opts.connections ?? (quick ? 2000 : 10_000)
  // Each child holds n sockets plus a few dozen of its own (and raises its soft limit to the hard one).
  if (limit.hard < n + 256) n = Math.max(100, limit.hard - 256)
  const topics = opts.topics ?? (quick ? 200 : 1000)
  const seconds = opts.seconds ?? (quick ? 3 : 6)
  const client = await clientPerSignal()
  const { ours, reference } = await measureBoth(n, topics, seconds, quick ? 1 : 2)
  const pair = await measureRedis(n, topics, seconds, quick ? 1 : 2)
  const r = (a: number, b: number): number => Math.round((a / b) * 100) / 100
  return {
    machine: { cpus: os.cpus().length, node: process.version, fileLimit: limit },
    connections: n,
    topics,
    seconds,
    ours,
    reference,
    ratios: {
      heapPerConnection: r(ours.bytesPerConnection.heap, reference.bytesPerConnection.heap),
      rssPerConnection: r(ours.bytesPerConnection.rss, reference.bytesPerConnection.rss),
      relayedPerSecond: r(ours.throughput.relayedPerSecond, reference.throughput.relayedPerSecond),
      serverCpuPerSignal: r(ours.throughput.serverCpuMicrosPerSignal, reference.throughput.serverCpuMicrosPerSignal),
      latencyP50: r(ours.latency.latencyMs.p50, reference.latency.latencyMs.p50),
      latencyP99: r(ours.latency.latencyMs.p99, reference.latency.latencyMs.p99),
      connectionsPerSecond: r(ours.connect.connectionsPerSecond, reference.connect.connectionsPerSecond),
      serverCpuPerConnection: r(ours.connect.serverCpuMicrosPerConnection, reference.connect.serverCpuMicrosPerConnection)
    },
    clientPerSignal: client,
    redis: pair === null
      ? null
      : {
          figures: pair,
          ratios: {
            relayedPerSecond: r(pair.throughput.relayedPerSecond, ours.throughput.relayedPerSecond),
            serverCpuPerSignal: r(pair.throughput.serverCpuMicrosPerSignal, ours.throughput.serverCpuMicrosPerSignal),
            latencyP50: r(pair.latency.latencyMs.p50, ours.latency.latencyMs.p50),
            latencyP99: r(pair.latency.latencyMs.p99, ours.latency.latencyMs.p99),
            connectionsPerSecond: r(pair.connect.connectionsPerSecond, ours.connect.connectionsPerSecond)
          }
        }
  }
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const t0 = Date.now()
  signalingLoadBench({ quick: process.argv.includes('--quick') }).then((res) => {
    console.log(JSON.stringify(res, null, 2))
    console.error(`signaling load bench: ${((Date.now() - t0) / 1000).toFixed(1)} s`)
  }, (err) => {
    console.error(err)
    process.exitCode = 1
  })
}
