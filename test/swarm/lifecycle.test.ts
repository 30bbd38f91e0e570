/**
 * @module test/swarm/lifecycle.test
 * leave() (discovery stops, connections stay), reconnection after a drop, destroy() releasing
 * everything, a failing signaling client next to a working one, and the findingPeers pattern.
 */
import { afterEach, test } from 'node:test'
import assert from 'node:assert'
import { HypercoreError } from '../../src/errors.js'
import { FailingSignaling, FakeSignaling, Room } from './fake-signaling.js'
import { createTestPeer, live } from './test-peer.js'
import type { WebRtcPeerOptions } from '../../src/transport/types.js'
import { connections, destroyAll, makeSwarm, next, ourReader, ourWriter, settle, text, cleanup } from './helpers.js'
import { hex } from '../helpers/assert.js'
import type { Swarm } from '../../src/swarm/index.js'

// A failed test leaves swarms behind: destroy them so the file still ends.
afterEach(cleanup)

const topic = (n: number): Uint8Array => new Uint8Array(32).fill(n)
const fakeOf = (s: Swarm): FakeSignaling => (s as any)._opts.signaling.find((c: unknown) => c instanceof FakeSignaling)

test('leave: the topic is no longer discovered, existing connections stay', async () => {
  const room = new Room()
  const a = makeSwarm(room)
  const b = makeSwarm(room)
  a.join(topic(1)); b.join(topic(1))
  await settle([a, b], () => a.connections.size === 1 && b.connections.size === 1)
  await a.leave(topic(1))
  assert.equal(fakeOf(a).joined.size, 0, 'the signaling client left')
  assert.equal(a.connections.size, 1, 'the connection is kept')
  const c = makeSwarm(room)
  c.join(topic(1))
  await settle([b, c], () => b.connections.size === 2)
  await c.flush()
  assert.deepEqual([...c.peers.keys()], [b.self])
  assert.deepEqual([...a.peers.keys()], [b.self])
  await destroyAll(a, b, c)
})

test('a dropped peer is found again (re-announce with backoff); after leave it is not', async () => {
  const room = new Room()
  const a = makeSwarm(room)
  const b = makeSwarm(room)
  a.join(topic(2)); b.join(topic(2))
  await settle([a, b], () => a.connections.size === 1 && b.connections.size === 1)
  const [first] = a.connections
  const joins = (): number => fakeOf(a).joins.get(hex(topic(2)))! + fakeOf(b).joins.get(hex(topic(2)))!
  const joinsBefore = joins()
  first!.destroy() // a network drop, as far as both swarms know
  await settle([a, b], () => a.connections.size === 1 && b.connections.size === 1 && !a.connections.has(first!))
  // Both schedule a re-announcement; whichever fires first reconnects, the other one is skipped.
  assert.ok(joins() > joinsBefore, 'the topic was re-announced')
  const [second] = a.connections
  assert.notEqual(hex(second!.handshakeHash!), hex(first!.handshakeHash!))

  await a.leave(topic(2))
  const aJoins = fakeOf(a).joins.get(hex(topic(2)))
  const bReannounced = next(fakeOf(b), 'join')
  second!.destroy()
  await bReannounced // b looks again; a, having left, neither announces nor is found
  await b.flush()
  assert.equal(a.connections.size + b.connections.size, 0)
  assert.equal(fakeOf(a).joins.get(hex(topic(2))), aJoins)
  await destroyAll(a, b)
})

test('destroy releases connections, attempts, timers, listeners and signaling clients', async () => {
  const baseline = process.getActiveResourcesInfo().filter(r => r === 'Timeout').length
  const room = new Room()
  const a = makeSwarm(room)
  const b = makeSwarm(room)
  let attemptStarted: () => void = () => {}
  const started = new Promise<void>(resolve => { attemptStarted = resolve })
  const c = makeSwarm(room, { createPeer: (o: WebRtcPeerOptions) => { attemptStarted(); return createTestPeer(o) } })
  for (const s of [a, b]) s.join(topic(3))
  await settle([a, b], () => a.connections.size === 1 && b.connections.size === 1)
  c.join(topic(3))
  await started // an attempt of c's is in flight while everything is destroyed
  const [streamA] = a.connections
  const closedA = next(streamA!, 'close')
  await Promise.all([a.destroy(), b.destroy(), c.destroy()])
  await closedA
  assert.equal(a.destroy(), a.destroy(), 'idempotent')
  for (const s of [a, b, c]) {
    assert.equal(s.connections.size, 0)
    assert.equal(s.peers.size, 0)
    assert.equal(fakeOf(s).closed, true)
    assert.equal(fakeOf(s).listenerCount('error'), 0)
    assert.throws(() => s.join(topic(4)), (e: unknown) => HypercoreError.is(e, 'SESSION_CLOSED'))
  }
  assert.equal(live.size, 0, 'every WebRTC peer destroyed')
  await new Promise(resolve => setImmediate(resolve))
  assert.equal(process.getActiveResourcesInfo().filter(r => r === 'Timeout').length, baseline, 'no timer left')
})

test('a failing signaling client is reported as warnings; the others go on', async () => {
  const room = new Room()
  const failing = new FailingSignaling()
  const a = makeSwarm(room, { extra: [failing] })
  const b = makeSwarm(room)
  const warnings: Error[] = []
  a.on('warning', (e: Error) => warnings.push(e))
  const refused = next(a, 'warning', (e: Error) => /connection refused/.test(e.message))
  a.join(topic(5)); b.join(topic(5))
  await connections(a, 1)
  await refused
  assert.ok(warnings.some(e => /join while disconnected/.test(e.message)), 'a throwing join() is a warning too')
  assert.equal([...a.peers.values()][0]!.signaling, 'fake')
  await destroyAll(a, b)
  assert.equal(failing.closed, true)
})

test('findingPeers: update() waits for the first discovery round and sees the remote length', async () => {
  const room = new Room()
  const w = await ourWriter()
  await w.append(['x', 'y', 'z'].map(s => Buffer.from(s)))
  const r = await ourReader(w.key!)
  // Give the reader a replicator with no peer left: the control below must see "no peers and
  // nobody looking", not merely "never replicated".
  const stale = r.replicate(true) as any
  const staleClosed = new Promise(resolve => stale.once('close', resolve))
  stale.destroy()
  await staleClosed
  assert.equal(await r.update(), false, 'control: no peers and nobody looking → false at once')

  const sw = makeSwarm(room)
  const sr = makeSwarm(room)
  sw.on('connection', (s) => w.replicate(s))
  const order: string[] = []
  sr.on('connection', (s) => { order.push('connection'); r.replicate(s) })
  sw.join(w.discoveryKey!)
  // The documented pattern:
  const done = r.findingPeers()
  const d = sr.join(r.discoveryKey!)
  const finding = sr.flush().then(done, done)
  const updated = r.update().then((v) => { order.push('updated'); return v })
  await d.flushed()
  order.push('flushed')
  await finding
  assert.equal(await updated, true)
  assert.equal(r.length, 3)
  assert.equal(order[0], 'connection', 'update() did not answer before the swarm found the writer')
  assert.equal((r as any).core.findingPeers, 0)
  assert.equal(text(await r.get(2)), 'z')
  await destroyAll(sw, sr)
  await w.close(); await r.close()
})
