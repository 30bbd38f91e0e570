/**
 * @module test/signaling/tracker.test
 * TrackerSignaling against a real WebTorrent tracker (`bittorrent-tracker`'s server, WebSocket
 * only, on loopback) with a fake swarm whose connect() makes REAL WebRTC peers (simple-peer
 * over `@roamhq/wrtc`, no ICE servers): peers meet and move bytes both ways, topics stay apart,
 * leave and close reach the tracker, unanswered offers expire, a lost tracker is reconnected,
 * and failures arrive as 'error' events with stable codes.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { TrackerSignaling } from '../../src/signaling/tracker.js'
import { HypercoreError } from '../../src/errors.js'
import { EventEmitter, once } from 'node:events'
import { createRequire } from 'node:module'
import SimplePeer from 'simple-peer'
import type { ConnectRequest, PeerId, SignalingContext, TopicHex } from '../../src/signaling/types.js'
import type { SignalData, WebRtcPeer } from '../../src/transport/types.js'

const require = createRequire(import.meta.url)
const wrtc = require('@roamhq/wrtc') as unknown

interface TrackerServer {
  url: string
  port: number
  /** The tracker server object (bittorrent-tracker's `Server`). */
  server: any
  /** Resolves with the announce params of the next `event` ('start' | 'update' | 'stop') matching. */
  next (event: string, match?: (peerIdHex: string, params: any) => boolean): Promise<any>
  /** Server-side sockets, to see them close. */
  sockets: Set<any>
  close (): Promise<void>
}

/** bittorrent-tracker is ESM-only with an `import` export; load it dynamically (a devDependency). */
async function startTracker (port = 0, filter?: (infoHash: string) => string | null): Promise<TrackerServer> {
  // Untyped ESM package: a specifier in a variable keeps tsc from looking for declarations.
  const pkg = 'bittorrent-tracker'
  const { Server } = await import(pkg) as any
  const server = new Server({
    udp: false,
    http: false,
    ws: true,
    stats: false,
    filter: filter === undefined ? undefined : (ih: string, _p: unknown, cb: (err: Error | null) => void) => {
      const refusal = filter(ih)
      cb(refusal === null ? null : new Error(refusal))
    }
  })
  server.on('warning', () => {})
  server.on('error', () => {})
  await new Promise<void>(resolve => server.listen(port, '127.0.0.1', resolve))
  const sockets = new Set<any>()
  server.ws.on('connection', (s: any) => {
    sockets.add(s)
    s.once('close', () => sockets.delete(s))
  })
  const actual: number = server.ws.address().port
  return {
    url: `ws://127.0.0.1:${actual}`,
    port: actual,
    server,
    sockets,
    next (event, match = () => true) {
      return new Promise(resolve => {
        const on = (addr: string, params: any): void => {
          if (!match(addr, params)) return
          server.off(event, on)
          resolve(params)
        }
        server.on(event, on)
      })
    },
    close: () => new Promise<void>(resolve => server.close(() => resolve()))
  }
}

interface Made {
  req: ConnectRequest
  sp: SimplePeer.Instance
  peer: WebRtcPeer
  /** Resolves when the peer is destroyed (by anyone). */
  closed: Promise<void>
  isClosed: () => boolean
}

interface FakeSwarm {
  ctx: SignalingContext
  made: Made[]
  /** Emits 'made' (Made) on connect() and 'connect' (Made) when its data channel opens. */
  hub: EventEmitter
  /** Peers the swarm counts as connected: wants() is false for them. */
  connected: Set<PeerId>
  destroyAll (): Promise<void>
}

/** A swarm stand-in. `wants` defaults to "yes unless already connected to that peer id". */
function fakeSwarm (self: PeerId, wants?: (peerId: PeerId | null, topic: TopicHex) => boolean): FakeSwarm {
  const made: Made[] = []
  const hub = new EventEmitter()
  const connected = new Set<PeerId>()
  const ctx: SignalingContext = {
    self,
    sign: () => { throw new Error('the tracker client signs nothing') },
    wants: wants ?? ((peerId) => peerId === null || !connected.has(peerId)),
    connect (req) {
      const sp = new SimplePeer({ initiator: req.initiator, trickle: req.trickle ?? true, wrtc: wrtc as SimplePeer.Options['wrtc'], config: { iceServers: [] } })
      sp.on('error', () => {})
      let closedFlag = false
      const closed = once(sp, 'close').then(() => { closedFlag = true })
      // simple-peer is a Node duplex with EventEmitter methods: enough as the stream here.
      const peer: WebRtcPeer = {
        stream: sp as unknown as WebRtcPeer['stream'],
        signal: (data: SignalData) => sp.signal(data as SimplePeer.SignalData),
        onSignal: (listener) => { sp.on('signal', listener as (d: SimplePeer.SignalData) => void) },
        destroy: (err) => sp.destroy(err)
      }
      const m: Made = { req, sp, peer, closed, isClosed: () => closedFlag }
      made.push(m)
      sp.once('connect', () => hub.emit('connect', m))
      hub.emit('made', m)
      return peer
    }
  }
  return {
    ctx,
    made,
    hub,
    connected,
    async destroyAll () {
      for (const m of made) m.sp.destroy()
      await Promise.all(made.map(m => m.closed))
    }
  }
}

/** Reads exactly `n` bytes from a simple-peer. */
function readBytes (sp: SimplePeer.Instance, n: number): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const out = new Uint8Array(n)
    let at = 0
    const onData = (d: Uint8Array): void => {
      out.set(d.subarray(0, Math.min(d.byteLength, n - at)), at)
      at += d.byteLength
      if (at >= n) {
        sp.off('data', onData)
        if (at > n) reject(new Error(`read ${at} bytes, expected ${n}`))
        else resolve(out)
      }
    }
    sp.on('data', onData)
  })
}

/** A 64-hex id whose first byte is `first` (so info hashes / tracker peer ids differ). */
function hexId (first: number, fill: number): string {
  return first.toString(16).padStart(2, '0') + fill.toString(16).padStart(2, '0').repeat(31)
}

const T1 = hexId(0x11, 0xaa)
const T2 = hexId(0x22, 0xaa)
const ID_A = hexId(0xa0, 0x01)
const ID_B = hexId(0xb0, 0x02)
const ID_C = hexId(0xc0, 0x03)
const prefix = (hex: string): string => hex.slice(0, 40)

function randomBytes (n: number): Uint8Array {
  const out = new Uint8Array(n)
  for (let i = 0; i < n; i += 65536) globalThis.crypto.getRandomValues(out.subarray(i, Math.min(n, i + 65536)))
  return out
}

/** The next 'error' event of a client. */
function nextError (client: TrackerSignaling): Promise<Error> {
  return new Promise(resolve => {
    const on = (err: Error): void => { client.off('error', on); resolve(err) }
    client.on('error', on)
  })
}

test('two clients meet through the tracker and move bytes both ways', { timeout: 30_000 }, async () => {
  const tracker = await startTracker()
  const a = new TrackerSignaling({ announce: [tracker.url], numOffers: 1 })
  const b = new TrackerSignaling({ announce: [tracker.url], numOffers: 1 })
  const sa = fakeSwarm(ID_A)
  const sb = fakeSwarm(ID_B)
  try {
    a.start(sa.ctx)
    a.join(T1)
    // A is in the swarm (with one offer nobody can take yet) before B arrives, so B's
    // offer is the one the tracker hands to A: exactly one connection, B initiating.
    const startA = await tracker.next('start', id => id === prefix(ID_A))
    assert.equal(startA.info_hash, prefix(T1), 'info_hash is the first 20 bytes of the topic')
    assert.equal(startA.offers.length, 1)
    assert.equal(startA.offers[0].offer.type, 'offer')
    assert.equal(startA.offers[0].offer.noise_key, ID_A)
    b.start(sb.ctx)
    const connected = Promise.all([once(sa.hub, 'connect'), once(sb.hub, 'connect')])
    b.join(T1)
    const [[ma], [mb]] = await connected as [[Made], [Made]]
    assert.deepEqual(ma.req, { peerId: ID_B, topic: T1, initiator: false, trickle: false }, 'A answers, knowing B from its noise_key')
    assert.deepEqual(mb.req, { peerId: null, topic: T1, initiator: true, trickle: false }, 'B offered to nobody in particular')

    const fromA = randomBytes(64 * 1024)
    const fromB = randomBytes(64 * 1024)
    const gotAtB = readBytes(mb.sp, fromA.byteLength)
    const gotAtA = readBytes(ma.sp, fromB.byteLength)
    ma.sp.write(fromA)
    mb.sp.write(fromB)
    assert.deepEqual(Buffer.from(await gotAtB), Buffer.from(fromA))
    assert.deepEqual(Buffer.from(await gotAtA), Buffer.from(fromB))

    assert.equal(sa.made.filter(m => !m.req.initiator).length, 1, 'A answered once')
    assert.equal(sb.made.filter(m => !m.req.initiator).length, 0, "A's offer went out before B joined: never forwarded")
  } finally {
    await Promise.all([a.close(), b.close()])
    await Promise.all([sa.destroyAll(), sb.destroyAll()])
    await tracker.close()
  }
})

test('offers of different topics do not meet', { timeout: 30_000 }, async () => {
  const tracker = await startTracker()
  const clients = [ID_A, ID_B, ID_C].map(() => new TrackerSignaling({ announce: [tracker.url], numOffers: 2 }))
  const [a, b, c] = clients as [TrackerSignaling, TrackerSignaling, TrackerSignaling]
  const [sa, sb, sc] = [fakeSwarm(ID_A), fakeSwarm(ID_B), fakeSwarm(ID_C)]
  try {
    a.start(sa.ctx)
    b.start(sb.ctx)
    c.start(sc.ctx)
    const inA = tracker.next('start', id => id === prefix(ID_A))
    const inB = tracker.next('start', id => id === prefix(ID_B))
    a.join(T1)
    b.join(T2)
    await Promise.all([inA, inB])
    const met = Promise.all([once(sa.hub, 'connect'), once(sc.hub, 'connect')])
    const announced = tracker.next('start', id => id === prefix(ID_C))
    c.join(T1)
    // C's two offers went to the tracker in one announce; it forwards them (up to both
    // peers of T1, only A) at once, so by the time A and C are connected B would have one.
    assert.equal((await announced).offers.length, 2)
    await met
    assert.equal(sb.made.filter(m => !m.req.initiator).length, 0, 'B (other topic) got no offer')
    assert.deepEqual(sa.made.filter(m => !m.req.initiator).map(m => m.req.peerId), [ID_C])
    assert.deepEqual(Object.keys(tracker.server.torrents).sort(), [prefix(T1), prefix(T2)])
  } finally {
    await Promise.all(clients.map(x => x.close()))
    await Promise.all([sa, sb, sc].map(s => s.destroyAll()))
    await tracker.close()
  }
})

test('leave announces stopped, destroys that topic\'s offers and stops announcing it', { timeout: 30_000 }, async () => {
  const tracker = await startTracker()
  const a = new TrackerSignaling({ announce: [tracker.url], numOffers: 1, announceIntervalMs: 100 })
  const sa = fakeSwarm(ID_A)
  try {
    a.start(sa.ctx)
    const started = Promise.all([T1, T2].map(t => tracker.next('start', (id, p) => id === prefix(ID_A) && p.info_hash === prefix(t))))
    a.join(T1)
    a.join(T2)
    await started
    // At least one periodic re-announce of T1 before leaving.
    await tracker.next('update', (_id, p) => p.info_hash === prefix(T1))
    let afterStop = 0
    const stopped = tracker.next('stop', (id, p) => id === prefix(ID_A) && p.info_hash === prefix(T1))
    a.leave(T1)
    await stopped
    const t1Made = sa.made.filter(m => m.req.topic === T1).length
    const count = (_addr: string, p: any): void => { if (p.info_hash === prefix(T1)) afterStop++ }
    tracker.server.on('update', count)
    tracker.server.on('start', count)
    // Three re-announces of T2 (100 ms apart) with none of T1 in between.
    for (let i = 0; i < 3; i++) await tracker.next('update', (_id, p) => p.info_hash === prefix(T2))
    tracker.server.off('update', count)
    tracker.server.off('start', count)
    assert.equal(afterStop, 0, 'no announce of a left topic')
    assert.equal(sa.made.filter(m => m.req.topic === T1).length, t1Made, 'no offers made for a left topic')
    const t1Offers = sa.made.filter(m => m.req.topic === T1)
    assert.ok(t1Offers.length >= 1)
    await Promise.all(t1Offers.map(m => m.closed))
    assert.equal(tracker.server.torrents[prefix(T1)].peers.length, 0, 'the tracker forgot us in T1')
    assert.equal(tracker.server.torrents[prefix(T2)].peers.length, 1)
  } finally {
    await a.close()
    await sa.destroyAll()
    await tracker.close()
  }
})

test('close announces stopped and releases the socket; it is idempotent', { timeout: 30_000 }, async () => {
  const tracker = await startTracker()
  const a = new TrackerSignaling({ announce: [tracker.url], numOffers: 2 })
  const sa = fakeSwarm(ID_A)
  try {
    a.start(sa.ctx)
    const started = tracker.next('start', id => id === prefix(ID_A))
    a.join(T1)
    assert.equal((await started).offers.length, 2)
    assert.equal(tracker.sockets.size, 1)
    const [socket] = tracker.sockets
    const socketClosed = once(socket, 'close')
    const stopped = tracker.next('stop', id => id === prefix(ID_A))
    await Promise.all([a.close(), a.close()])
    await stopped
    await socketClosed
    assert.equal(tracker.sockets.size, 0, 'the tracker sees our socket gone')
    assert.equal(tracker.server.torrents[prefix(T1)].peers.length, 0)
    await Promise.all(sa.made.map(m => m.closed))
    // After close nothing starts again.
    a.start(sa.ctx)
    a.join(T2)
    assert.equal(tracker.sockets.size, 0)
    assert.equal(sa.made.length, 2)
  } finally {
    await a.close()
    await sa.destroyAll()
    await tracker.close()
  }
})

test('unanswered offers are destroyed after offerTimeoutMs', { timeout: 30_000 }, async () => {
  const tracker = await startTracker()
  const a = new TrackerSignaling({ announce: [tracker.url], numOffers: 2, offerTimeoutMs: 300 })
  const sa = fakeSwarm(ID_A)
  try {
    a.start(sa.ctx)
    const started = tracker.next('start', id => id === prefix(ID_A))
    a.join(T1)
    await started
    assert.equal(sa.made.length, 2)
    assert.ok(sa.made.every(m => !m.isClosed()), 'offers live once announced')
    await Promise.all(sa.made.map(m => m.closed))
  } finally {
    await a.close()
    await sa.destroyAll()
    await tracker.close()
  }
})

test('offers from a peer the swarm does not want are not answered', { timeout: 30_000 }, async () => {
  const tracker = await startTracker()
  const a = new TrackerSignaling({ announce: [tracker.url], numOffers: 1 })
  const b = new TrackerSignaling({ announce: [tracker.url], numOffers: 1, offerTimeoutMs: 1500 })
  const sa = fakeSwarm(ID_A)
  const sb = fakeSwarm(ID_B)
  sa.connected.add(ID_B)
  try {
    a.start(sa.ctx)
    b.start(sb.ctx)
    const inA = tracker.next('start', id => id === prefix(ID_A))
    a.join(T1)
    await inA
    const inB = tracker.next('start', id => id === prefix(ID_B))
    b.join(T1)
    assert.equal((await inB).offers.length, 1)
    // B's offer reached A (the only other peer), A declined it: it expires unanswered.
    await Promise.all(sb.made.map(m => m.closed))
    assert.equal(sa.made.filter(m => !m.req.initiator).length, 0)
  } finally {
    await Promise.all([a.close(), b.close()])
    await Promise.all([sa.destroyAll(), sb.destroyAll()])
    await tracker.close()
  }
})

test('reconnects with backoff and announces again when the tracker comes back', { timeout: 30_000 }, async () => {
  let tracker = await startTracker()
  const port = tracker.port
  const a = new TrackerSignaling({ announce: [tracker.url], numOffers: 0, backoff: { minMs: 50, maxMs: 200 } })
  const sa = fakeSwarm(ID_A)
  const errors: Error[] = []
  a.on('error', err => errors.push(err))
  try {
    a.start(sa.ctx)
    const started = tracker.next('start', id => id === prefix(ID_A))
    a.join(T1)
    assert.equal((await started).numwant, 0)
    const dropped = nextError(a)
    for (const s of tracker.sockets) s.terminate()
    await tracker.close()
    const err = await dropped
    assert.ok(HypercoreError.is(err, 'CONNECTION_CLOSED'), String(err))
    tracker = await startTracker(port)
    const again = await tracker.next('start', id => id === prefix(ID_A))
    assert.equal(again.info_hash, prefix(T1))
    assert.equal(again.event, 'started')
    assert.ok(errors.every(e => HypercoreError.is(e, 'CONNECTION_CLOSED') || HypercoreError.is(e, 'SIGNALING_FAILED')), errors.join('; '))
  } finally {
    await a.close()
    await sa.destroyAll()
    await tracker.close()
  }
})

test('failures are error events with stable codes, never throws', { timeout: 30_000 }, async () => {
  assert.throws(() => new TrackerSignaling({ announce: ['http://127.0.0.1:1/announce'] }), (e: unknown) => HypercoreError.is(e, 'BAD_ARGUMENT'))
  assert.throws(() => new TrackerSignaling({ announce: [] }), (e: unknown) => HypercoreError.is(e, 'BAD_ARGUMENT'))

  const tracker = await startTracker(0, ih => ih === prefix(T2) ? 'topic not allowed here' : null)
  const a = new TrackerSignaling({ announce: [tracker.url], numOffers: 1 })
  // connect() throws: reported, and the client goes on.
  const sa = fakeSwarm(ID_A)
  const realConnect = sa.ctx.connect
  let throwOnce = true
  sa.ctx.connect = (req) => {
    if (throwOnce) { throwOnce = false; throw new Error('swarm exploded') }
    return realConnect(req)
  }
  try {
    const e1 = nextError(a)
    a.start(sa.ctx)
    a.join('NOT-A-TOPIC')
    const bad = await e1
    assert.ok(HypercoreError.is(bad, 'BAD_ARGUMENT'), String(bad))

    const e2 = nextError(a)
    const started = tracker.next('start', id => id === prefix(ID_A))
    a.join(T1)
    const thrown = await e2
    assert.ok(HypercoreError.is(thrown, 'SIGNALING_FAILED'), String(thrown))
    assert.equal((await started).offers.length, 0, 'no offer this time; announced anyway')

    const e3 = nextError(a)
    a.join(T2)
    const refused = await e3
    assert.ok(HypercoreError.is(refused, 'SIGNALING_FAILED'), String(refused))
    assert.match(refused.message, /topic not allowed here/)
  } finally {
    await a.close()
    await sa.destroyAll()
    await tracker.close()
  }
  // No 'error' listener: an unreachable tracker must not throw anything.
  const lonely = new TrackerSignaling({ announce: ['ws://127.0.0.1:1'], backoff: { minMs: 10, maxMs: 20 } })
  lonely.start(fakeSwarm(ID_B).ctx)
  lonely.join(T1)
  await lonely.close()
})
