/**
 * @module test/swarm/swarm.test
 * Swarms over the in-memory room with real WebRTC: one connection per pair whatever the
 * topics, replication of a core through the handed-out secret stream, the peer cap.
 */
import { test } from 'node:test'
import assert from 'node:assert'
import { Room } from './fake-signaling.js'
import { live } from './simple-peer-adapter.js'
import { connections, destroyAll, makeSwarm, ourReader, ourWriter, text } from './helpers.js'
import { hex } from '../helpers/assert.js'

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
