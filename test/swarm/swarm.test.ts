/**
 * @module test/swarm/swarm.test
 * Swarms over the in-memory room with real WebRTC: one connection per pair whatever the
 * topics, replication of a core through the handed-out secret stream, the peer cap.
 */
import { afterEach, test } from 'node:test'
import assert from 'node:assert'
import { Room } from './fake-signaling.js'
import { createTestPeer, live } from './test-peer.js'
import type { WebRtcPeer, WebRtcPeerOptions } from '../../src/transport/types.js'
import { connections, destroyAll, makeSwarm, ourReader, ourWriter, settle, text, cleanup } from './helpers.js'
import { hex } from '../helpers/assert.js'

// A failed test leaves swarms behind: destroy them so the file still ends.
afterEach(cleanup)

test('two swarms on one topic: one connection each, a core replicates through it', async () => {
  const room = new Room()
  const w = await ourWriter()
  await w.append(['a', 'b', 'c'].map(s => Buffer.from(s)))
  const r = await ourReader(w.key!)
  const sw = makeSwarm(room)
  const sr = makeSwarm(room)
  sw.on('connection', (s) => w.replicate(s))
  sr.on('connection', (s) => r.replicate(s))
  sw.join(w.discoveryKey!)
  sr.join(r.discoveryKey!)
  const [cw] = await connections(sw, 1)
  const [cr] = await connections(sr, 1)
  assert.equal(hex(cw!.remotePublicKey!), sr.self)
  assert.equal(hex(cr!.remotePublicKey!), sw.self)
  assert.deepEqual(sr.peers.get(sw.self)?.topics, [hex(w.discoveryKey!)])
  assert.equal(text(await r.get(2)), 'c')
  assert.equal(text(await r.get(0)), 'a')
  await sr.flush()
  assert.equal(sw.connections.size, 1)
  assert.equal(sr.connections.size, 1)
  await destroyAll(sw, sr)
  assert.equal(sw.connections.size + sr.connections.size, 0)
  assert.equal(live.size, 0, 'every WebRTC peer destroyed')
  await w.close()
  await r.close()
})

const topic = (n: number): Uint8Array => new Uint8Array(32).fill(n)

test('two shared topics: still one connection, and it lists both topics', async () => {
  const room = new Room()
  const a = makeSwarm(room)
  const b = makeSwarm(room)
  for (const s of [a, b]) { s.join(topic(1)); s.join(topic(2)) }
  await connections(a, 1)
  await Promise.all([a.flush(), b.flush()])
  assert.equal(a.connections.size, 1)
  assert.equal(b.connections.size, 1)
  // The smaller id offers on both topics; its second offer is folded into the first.
  const [lo, hi] = a.self < b.self ? [a, b] : [b, a]
  assert.deepEqual([...lo.peers.get(hi.self)!.topics].sort(), [hex(topic(1)), hex(topic(2))])
  await destroyAll(a, b)
})

test('duplicate connections (both sides offer on two topics) end as the same single connection on both sides', async () => {
  const room = new Room()
  let made = 0
  const createPeer = (o: WebRtcPeerOptions): WebRtcPeer => { made++; return createTestPeer(o) }
  const a = makeSwarm(room, { fake: { greedy: true }, createPeer })
  const b = makeSwarm(room, { fake: { greedy: true }, createPeer })
  let handedOut = 0
  a.on('connection', () => handedOut++)
  for (const s of [a, b]) { s.join(topic(1)); s.join(topic(2)) }
  await Promise.all([a.flush(), b.flush()])
  const same = (): boolean => {
    if (a.connections.size !== 1 || b.connections.size !== 1) return false
    const [ca] = a.connections
    const [cb] = b.connections
    return hex(ca!.handshakeHash!) === hex(cb!.handshakeHash!)
  }
  await settle([a, b], same)
  assert.equal(made, 8, 'each side offered on both topics and answered both offers')
  assert.ok(handedOut >= 1)
  const [ca] = a.connections
  assert.equal(hex(ca!.remotePublicKey!), b.self)
  await destroyAll(a, b)
  assert.equal(live.size, 0)
})

test('three swarms: each pair connected once', async () => {
  const room = new Room()
  const swarms = [makeSwarm(room), makeSwarm(room), makeSwarm(room)]
  for (const s of swarms) s.join(topic(3))
  await settle(swarms, () => swarms.every(s => s.connections.size === 2))
  await Promise.all(swarms.map(s => s.flush()))
  for (const s of swarms) {
    assert.equal(s.connections.size, 2)
    const others = swarms.filter(o => o !== s).map(o => o.self).sort()
    assert.deepEqual([...s.peers.keys()].sort(), others)
    assert.deepEqual([...s.connections].map(c => hex(c.remotePublicKey!)).sort(), others)
  }
  await destroyAll(...swarms)
})

test('maxPeers: a swarm capped at 1 never holds more, the others connect among themselves', async () => {
  const room = new Room()
  const capped = makeSwarm(room, { maxPeers: 1, connectTimeout: 3000 })
  const others = [makeSwarm(room, { connectTimeout: 3000 }), makeSwarm(room, { connectTimeout: 3000 }), makeSwarm(room, { connectTimeout: 3000 })]
  let most = 0
  capped.on('connection', () => { most = Math.max(most, capped.connections.size) })
  for (const s of [capped, ...others]) s.join(topic(4))
  await settle(others, () => others.every(s => s.connections.size >= 2))
  await capped.flush()
  assert.equal(capped.connections.size, 1)
  assert.equal(most, 1)
  const linked = others.filter(o => o.peers.has(capped.self))
  assert.equal(linked.length, 1, 'exactly one of the others is connected to the capped swarm')
  await destroyAll(capped, ...others)
})

test('maxPeers holds at the handshake too, when a signaling client ignores wants()', async () => {
  const room = new Room()
  const capped = makeSwarm(room, { maxPeers: 1, fake: { greedy: true } })
  const others = [makeSwarm(room, { fake: { greedy: true } }), makeSwarm(room, { fake: { greedy: true } })]
  let most = 0
  capped.on('connection', () => { most = Math.max(most, capped.connections.size) })
  for (const s of [capped, ...others]) s.join(topic(6))
  await Promise.all([capped, ...others].map(s => s.flush()))
  // The others may see a connection to the capped swarm that it refuses after the handshake
  // (and retry later, backing off): wait until that refusal reached them.
  await settle([capped, ...others], () => capped.connections.size === 1 &&
    others.filter(o => o.peers.has(capped.self)).length === 1 &&
    others.every(o => o.peers.has(others.find(x => x !== o)!.self)))
  assert.equal(most, 1)
  await destroyAll(capped, ...others)
})
