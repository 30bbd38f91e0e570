/**
 * @module bench/signaling-load/clients-child
 * The load of the signaling benchmark, in its own process (one core, its own file
 * descriptors): thousands of raw `ws` clients of one server, driven over IPC by
 * bench/signaling-load.bench.ts.
 *   { cmd: 'connect', url, n, topics, auth } → every client says hello (answering the challenge
 *     with its own Ed25519 key when `auth`) and joins topic i mod `topics`; rooms are rings,
 *     each client signals the next member of its room. `url` may list several servers (sharing
 *     rooms through Redis): ring neighbours then alternate between them, so every signal
 *     crosses from one server process to another
 *   { cmd: 'run', seconds, warmup, active, rate, window } → the first `active` clients each send
 *     `rate` signals a second (paced on a timing wheel, never bursting) with at most `window`
 *     unanswered at once; returns the signals received per second and the relay latencies
 *   { cmd: 'close' } → closes every client
 * Signals look like real ones (an ICE candidate's JSON text, a counter, a 128-hex signature)
 * but are not signed: the server does not verify signals (their receivers do), so signing
 * here would only measure this process. The send time rides in the signal's text.
 */
import { WebSocket } from 'ws'
import { cryptoReady, keyPair, sign } from '../../src/crypto/index.js'
import { helloSignable, toHex } from '../../src/signaling/auth.js'

interface Client {
  ws: WebSocket
  id: string
  topic: string
  /** Index of the client this one signals (the next member of its room). */
  to: number
  /** Index of the client that signals this one. */
  from: number
  inflight: number
  prefix: string
  seq: number
}

const clients: Client[] = []
const closes = new Map<number, number>()
let onSignal: ((c: Client, text: string) => void) | null = null

function reply (msg: unknown): void {
  process.send!(msg)
}

const SIGNATURE = 'ab'.repeat(64)
const CANDIDATE = 'candidate:842163049 1 udp 1677729535 192.0.2.10 51234 typ srflx raddr 10.0.0.5 rport 51234 generation 0 ufrag EsAw network-cost 999'

async function connect (urls: string | string[], n: number, topics: number, auth: boolean): Promise<unknown> {
  await cryptoReady()
  const list = typeof urls === 'string' ? [urls] : urls
  // Every client has its key pair before it dials (as a real one does): making them is not timed.
  const keys = Array.from({ length: n }, () => keyPair())
  const t0 = performance.now()
  const topicIds = Array.from({ length: topics }, (_, i) => i.toString(16).padStart(64, '0'))
  let failures = 0
  const one = (i: number): Promise<void> => new Promise((resolve) => {
    const kp = keys[i]!
    const id = toHex(kp.publicKey)
    const topic = topicIds[i % topics]!
    // Client i is member floor(i / topics) of its room: consecutive members, different servers.
    const url = list[Math.floor(i / topics) % list.length]!
    const host = new URL(url).host
    const ws = new WebSocket(url, { perMessageDeflate: false })
    const c: Client = { ws, id, topic, to: -1, from: -1, inflight: 0, prefix: '', seq: 0 }
    clients[i] = c
    let state: 'hello' | 'welcome' | 'peers' | 'ready' = 'hello'
    ws.on('open', () => {
      if (!auth) {
        ws.send(JSON.stringify({ type: 'hello', peerId: id }))
        state = 'welcome'
      }
    })
    ws.on('message', (raw: Buffer) => {
      const text = raw.toString()
      if (state === 'ready') {
        if (onSignal !== null && text.startsWith('{"type":"signal"')) onSignal(c, text)
        return
      }
      const m = JSON.parse(text)
      if (state === 'hello' && m.type === 'challenge') {
        const signature = toHex(sign(helloSignable(Buffer.from(m.nonce, 'hex'), id, host), kp.secretKey))
        ws.send(JSON.stringify({ type: 'hello', peerId: id, signature }))
        state = 'welcome'
      } else if (state === 'welcome' && m.type === 'welcome') {
        ws.send(JSON.stringify({ type: 'join', topic }))
        state = 'peers'
      } else if (state === 'peers' && m.type === 'peers') {
        state = 'ready'
        resolve()
      }
    })
    ws.on('error', () => {})
    ws.on('close', (code) => {
      closes.set(code, (closes.get(code) ?? 0) + 1)
      if (state !== 'ready') {
        failures++
        resolve()
      }
    })
  })
  // A few hundred handshakes at a time: the listen backlog is finite.
  let next = 0
  await Promise.all(Array.from({ length: 256 }, async () => {
    while (next < n) await one(next++)
  }))
  const ms = performance.now() - t0
  // Rings: the members of each room, in index order, each signalling the next.
  for (let t = 0; t < topics; t++) {
    const members: number[] = []
    for (let i = t; i < n; i += topics) members.push(i)
    for (let k = 0; k < members.length; k++) {
      const c = clients[members[k]!]!
      c.to = members[(k + 1) % members.length]!
      clients[c.to]!.from = members[k]!
    }
  }
  for (const c of clients) {
    const to = clients[c.to]!
    c.prefix = `{"type":"signal","to":"${to.id}","topic":"${c.topic}","data":"{\\"type\\":\\"candidate\\",\\"candidate\\":{\\"candidate\\":\\"${CANDIDATE}\\",\\"sdpMid\\":\\"0\\",\\"sdpMLineIndex\\":0},\\"t\\":`
  }
  return { ms, connected: n - failures, failures, connectionsPerSecond: (n - failures) / (ms / 1000), closes: Object.fromEntries(closes) }
}

function quantile (sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return NaN
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!
}

async function run (o: { seconds: number, warmup: number, active: number, rate: number, window: number }): Promise<unknown> {
  const closesBefore = new Map(closes)
  const period = 1000 / o.rate
  const slotMs = 5
  const slots = Math.max(1, Math.round(period / slotMs))
  const wheel: number[][] = Array.from({ length: slots }, () => [])
  for (let i = 0; i < o.active && i < clients.length; i++) wheel[i % slots]!.push(i)
  const lat = new Float64Array(Math.ceil(o.active * o.rate * (o.seconds + 1)) + 1024)
  let nLat = 0
  let received = 0
  let total = 0
  let sent = 0
  let measuring = false
  onSignal = (c, text) => {
    const at = text.indexOf('\\"t\\":')
    const t = parseFloat(text.slice(at + 6, at + 26))
    const from = clients[c.from]!
    if (from.inflight > 0) from.inflight--
    total++
    if (!measuring) return
    received++
    if (nLat < lat.length) lat[nLat++] = performance.now() - t
  }
  const start = performance.now()
  const measureFrom = start + o.warmup * 1000
  const end = measureFrom + o.seconds * 1000
  let cpu0 = process.cpuUsage()
  let slot = 0
  let due = start
  await new Promise<void>((resolve) => {
    const tick = (): void => {
      const now = performance.now()
      if (!measuring && now >= measureFrom) { measuring = true; cpu0 = process.cpuUsage() }
      if (now >= end) return resolve()
      // Catch up at most one period: a late tick must not turn into a burst.
      if (due < now - period) due = now - period
      while (due <= now) {
        for (const i of wheel[slot]!) {
          const c = clients[i]!
          if (c.inflight >= o.window || c.ws.readyState !== WebSocket.OPEN) continue
          c.inflight++
          c.ws.send(c.prefix + performance.now().toFixed(3) + '}","seq":' + (++c.seq) + ',"signature":"' + SIGNATURE + '"}')
          if (measuring) sent++
        }
        slot = (slot + 1) % slots
        due += slotMs
      }
      setTimeout(tick, 1)
    }
    tick()
  })
  measuring = false
  const cpu = process.cpuUsage(cpu0)
  const wall = o.seconds
  // Let what is in flight land before the next phase.
  const drainBy = performance.now() + 5000
  while (clients.some(c => c.inflight > 0) && performance.now() < drainBy) await new Promise(resolve => setTimeout(resolve, 20))
  onSignal = null
  for (const c of clients) c.inflight = 0
  const sorted = lat.slice(0, nLat).sort()
  const newCloses: Record<number, number> = {}
  for (const [code, k] of closes) if (k !== (closesBefore.get(code) ?? 0)) newCloses[code] = k - (closesBefore.get(code) ?? 0)
  return {
    offeredPerSecond: Math.min(o.active, clients.length) * o.rate,
    sentPerSecond: sent / wall,
    relayedPerSecond: received / wall,
    totalRelayed: total,
    latencyMs: { p50: quantile(sorted, 0.5), p99: quantile(sorted, 0.99), max: sorted.length > 0 ? sorted[sorted.length - 1] : NaN, samples: sorted.length },
    clientCpuShare: (cpu.user + cpu.system) / 1e6 / wall,
    closes: newCloses
  }
}

async function closeAll (): Promise<unknown> {
  await Promise.all(clients.map(c => new Promise<void>((resolve) => {
    if (c.ws.readyState === WebSocket.CLOSED) return resolve()
    c.ws.once('close', () => resolve())
    c.ws.terminate()
  })))
  clients.length = 0
  closes.clear()
  return { closed: true }
}

process.on('message', (m: any) => {
  const job = m.cmd === 'connect' ? connect(m.url, m.n, m.topics, m.auth)
    : m.cmd === 'run' ? run(m)
      : m.cmd === 'close' ? closeAll()
        : Promise.resolve({ error: `unknown command ${String(m.cmd)}` })
  job.then(reply, (err) => reply({ error: String(err?.stack ?? err) }))
})
reply({ ready: true })
