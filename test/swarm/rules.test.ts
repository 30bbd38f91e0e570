/**
 * @module test/swarm/rules.test
 * The pure parts of the swarm: the duplicate-connection rule must give both ends the same
 * answer; backoff delays grow, cap, and restart after a connection that lasted; when a topic
 * flushes and re-announces; a client's optional refresh() is used.
 */
import { test } from 'node:test'
import assert from 'node:assert'
import { EventEmitter } from 'events'
import { Duplex } from 'streamx'
import type { HypercoreError } from '../../src/errors.js'
import type { SignalingContext } from '../../src/signaling/types.js'
import type { WebRtcPeer } from '../../src/transport/types.js'
import { Backoff, Swarm, keepFirst } from '../../src/swarm/index.js'
import { TopicDiscovery, type DiscoveryHooks } from '../../src/swarm/discovery.js'

function bytes (n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n)
  let x = seed * 2654435761 >>> 0
  for (let i = 0; i < n; i++) { x = (x * 1103515245 + 12345) >>> 0; out[i] = x >>> 24 }
  return out
}

test('keepFirst: both ends keep the same connection', () => {
  let keptA = 0
  for (let i = 0; i < 500; i++) {
    const self = bytes(32, i)
    const remote = bytes(32, i + 10000)
    const a = { initiator: (i & 1) === 0, handshakeHash: bytes(64, i + 20000) }
    const b = { initiator: (i & 2) === 0, handshakeHash: i % 7 === 0 ? a.handshakeHash : bytes(64, i + 30000) }
    const here = keepFirst(a, b, self, remote)
    // The same two connections seen from the other end: roles flipped, same handshake hashes.
    const there = keepFirst({ initiator: !a.initiator, handshakeHash: a.handshakeHash }, { initiator: !b.initiator, handshakeHash: b.handshakeHash }, remote, self)
    assert.equal(here, there, `case ${i}`)
    // Order of arrival does not matter either (unless the hashes are equal: then it is the same connection).
    if (a.handshakeHash !== b.handshakeHash) assert.equal(keepFirst(b, a, self, remote), !here, `case ${i} swapped`)
    if (here) keptA++
  }
  assert.ok(keptA > 100 && keptA < 400, 'the rule is not constant')
})

test('keepFirst: the connection started by the larger key wins (hyperswarm\'s tie-break)', () => {
  const small = new Uint8Array(32).fill(1)
  const big = new Uint8Array(32).fill(2)
  const h1 = new Uint8Array(64).fill(9)
  const h2 = new Uint8Array(64).fill(3)
  assert.equal(keepFirst({ initiator: true, handshakeHash: h1 }, { initiator: false, handshakeHash: h2 }, small, big), false)
  assert.equal(keepFirst({ initiator: true, handshakeHash: h1 }, { initiator: false, handshakeHash: h2 }, big, small), true)
  assert.equal(keepFirst({ initiator: true, handshakeHash: h1 }, { initiator: true, handshakeHash: h2 }, small, big), false, 'same initiator: smaller hash')
})

test('Backoff: doubles with jitter, caps, restarts after a stable connection', () => {
  const b = new Backoff({ initial: 100, max: 1000, random: () => 0.5 })
  assert.deepEqual([1, 2, 3, 4, 5, 6].map(() => b.fail('p')), [100, 200, 400, 800, 1000, 1000])
  assert.equal(b.fail('q'), 100, 'per key')
  assert.equal(b.fail('p', 999), 1000, 'a short-lived connection keeps the count')
  assert.equal(b.fail('p', 1000), 100, 'one that lasted stableAfter (10 × initial) restarts it')
  const low = new Backoff({ initial: 100, random: () => 0 })
  const high = new Backoff({ initial: 100, random: () => 0.999999 })
  assert.equal(low.fail('x'), 75)
  assert.equal(high.fail('x'), 125)
  b.reset('p')
  assert.equal(b.failures('p'), 0)
})

function hooks (over: Partial<DiscoveryHooks> = {}): DiscoveryHooks & { calls: string[], pendingCount: number } {
  const h: DiscoveryHooks & { calls: string[], pendingCount: number } = {
    calls: [] as string[],
    pendingCount: 0,
    pending: (): number => h.pendingCount,
    connected: (_p: string) => false,
    reannounce: (t: string) => { h.calls.push('reannounce ' + t) },
    clientsFlushed: async () => {},
    leave: async () => {},
    ...over
  }
  return h
}

const tick = (ms = 0): Promise<void> => new Promise(resolve => setTimeout(resolve, ms))

test('TopicDiscovery: a re-announcement waits for attempts in progress, and is skipped if the peer is back', async () => {
  const h = hooks()
  const d = new TopicDiscovery('t', { server: true, client: true }, h, { quiet: 0, max: 1000 })
  h.pendingCount = 1
  d.scheduleRefresh(0, 'p')
  await tick(5)
  assert.deepEqual(h.calls, [], 'deferred while an attempt is in progress')
  h.pendingCount = 0
  d.check()
  assert.deepEqual(h.calls, ['reannounce t'])
  let back = false
  const h2 = hooks({ connected: () => back })
  const d2 = new TopicDiscovery('u', { server: true, client: true }, h2, { quiet: 0, max: 1000 })
  d2.scheduleRefresh(0, 'p')
  back = true
  await tick(5)
  assert.deepEqual(h2.calls, [], 'the peer reconnected meanwhile')
  d.close(); d2.close()
})

test('TopicDiscovery: flushed() waits for the quiet period, attempts in progress and the clients\' own flushed()', async () => {
  let clientsDone: () => void = () => {}
  const h = hooks({ clientsFlushed: () => new Promise<void>(resolve => { clientsDone = resolve }) })
  const d = new TopicDiscovery('t', { server: true, client: true }, h, { quiet: 0, max: 60000 })
  let flushed = false
  void d.flushed().then(() => { flushed = true })
  d.started()
  h.pendingCount = 1
  await tick(5)
  assert.equal(flushed, false, 'a client has not finished its lookup')
  clientsDone()
  await tick(5)
  assert.equal(flushed, false, 'an attempt is in progress')
  h.pendingCount = 0
  d.check()
  await tick(0)
  assert.equal(flushed, true)
  d.close()
})

test('Swarm: a client with refresh(topic) is asked to refresh instead of leave + join', async () => {
  const calls: string[] = []
  const client = Object.assign(new EventEmitter(), {
    name: 'stub',
    start: () => { calls.push('start') },
    join: (t: string) => { calls.push('join ' + t.slice(0, 4)) },
    leave: (t: string) => { calls.push('leave ' + t.slice(0, 4)) },
    refresh: (t: string) => { calls.push('refresh ' + t.slice(0, 4)) },
    close: async () => { calls.push('close') }
  })
  const swarm = new Swarm({ signaling: [client], createPeer: () => { throw new Error('no peers here') }, flushQuiet: 0 })
  const d = swarm.join(new Uint8Array(32).fill(0xab))
  await swarm.ready()
  await d.flushed()
  d.refresh()
  await d.destroy()
  await swarm.destroy()
  assert.deepEqual(calls, ['start', 'join abab', 'refresh abab', 'leave abab', 'close'])
  assert.equal(client.listenerCount('error'), 0)
})

function stubPeer (): WebRtcPeer {
  const stream = new Duplex({ write (_d: unknown, cb: (err: Error | null) => void) { cb(null) } })
  return { stream, signal () {}, onSignal () {}, destroy (err?: Error) { stream.destroy(err) } }
}

test('Swarm: a known peer that cannot be reached is a warning and a re-announcement; a speculative offer is neither', async () => {
  const calls: string[] = []
  let ctx: SignalingContext | null = null
  const client = Object.assign(new EventEmitter(), {
    name: 'stub',
    start: (c: SignalingContext) => { ctx = c },
    join: () => {},
    leave: () => {},
    refresh: (t: string) => { calls.push('refresh ' + t.slice(0, 4)); client.emit('refreshed') },
    close: async () => {}
  })
  const swarm = new Swarm({ signaling: [client], createPeer: stubPeer, connectTimeout: 30, backoff: { initial: 1, max: 1 }, flushQuiet: 0 })
  const warnings: Error[] = []
  swarm.on('warning', (e) => warnings.push(e))
  const topicHex = 'cd'.repeat(32)
  swarm.join(topicHex)
  await swarm.ready()
  const c = ctx as SignalingContext | null
  assert.ok(c !== null)
  const known = 'ef'.repeat(32)
  assert.equal(c.wants(known, topicHex), true)
  c.connect({ peerId: known, topic: topicHex, initiator: true })
  assert.equal(c.wants(known, topicHex), false, 'already offering to it')
  await swarm.flush() // the attempt times out
  assert.deepEqual(warnings.map(e => (e as HypercoreError).code), ['REQUEST_TIMEOUT'])
  if (calls.length === 0) await new Promise(resolve => client.once('refreshed', resolve))
  assert.deepEqual(calls, ['refresh cdcd'])

  const speculative = c.connect({ peerId: null, topic: topicHex, initiator: true })
  speculative.destroy()
  await swarm.flush()
  await new Promise(resolve => setTimeout(resolve, 20)) // longer than the backoff: nothing may follow
  assert.deepEqual(calls, ['refresh cdcd'])
  assert.equal(warnings.length, 1)
  await swarm.destroy()
})
