/**
 * @module test/swarm/real-signaling.test
 * The swarm with the project's own signaling clients (not the test room): our WebSocket
 * server + `WebSocketSignaling` and `BroadcastChannelSignaling` (Node's global channel) at
 * the same time. Still one connection per pair, a core replicates, a dropped connection is
 * found again through the server (the client's leave + join), destroy releases everything.
 */
import { afterEach, test } from 'node:test'
import assert from 'node:assert'
import { createSignalServer } from '../../src/signaling/server/index.js'
import { WebSocketSignaling } from '../../src/signaling/ws-client.js'
import { BroadcastChannelSignalingClient } from '../../src/signaling/broadcast-channel.js'
import { Swarm } from '../../src/swarm/index.js'
import { createTestPeer, live, wrtc } from './test-peer.js'
import { destroyAll, ourReader, ourWriter, settle, text, cleanup, track } from './helpers.js'
import { hex } from '../helpers/assert.js'

// A failed test leaves swarms behind: destroy them so the file still ends.
afterEach(cleanup)

let channel = 0

function swarmOn (url: string, channelName: string): Swarm {
  return track(new Swarm({
    signaling: [WebSocketSignaling({ url }), new BroadcastChannelSignalingClient({ channelName })],
    createPeer: createTestPeer,
    wrtc,
    flushQuiet: 150,
    backoff: { initial: 100, max: 1000 }
  }))
}

test('WebSocket server and BroadcastChannel together: one connection, a core replicates, a drop is healed', async () => {
  const server = await createSignalServer({ port: 0 })
  const name = `swarm-test-${process.pid}-${channel++}`
  const w = await ourWriter()
  await w.append(['p', 'q'].map(s => Buffer.from(s)))
  const r = await ourReader(w.key!)
  const sw = swarmOn(server.url, name)
  const sr = swarmOn(server.url, name)
  const warnings: Error[] = []
  for (const s of [sw, sr]) s.on('warning', (e: Error) => warnings.push(e))
  sw.on('connection', (s) => w.replicate(s))
  sr.on('connection', (s) => r.replicate(s))
  sw.join(w.discoveryKey!)
  sr.join(r.discoveryKey!)
  await settle([sw, sr], () => sw.connections.size === 1 && sr.connections.size === 1)
  await Promise.all([sw.flush(), sr.flush()])
  assert.equal(sw.connections.size, 1)
  assert.equal(sr.connections.size, 1)
  const [first] = sr.connections
  assert.equal(hex(first!.remotePublicKey!), sw.self)
  assert.equal(text(await r.get(1)), 'q')

  first!.destroy()
  await settle([sw, sr], () => sw.connections.size === 1 && sr.connections.size === 1 && !sr.connections.has(first!))
  await w.append(Buffer.from('r'))
  assert.equal(text(await r.get(2)), 'r')
  assert.deepEqual(warnings.filter(e => !/closed|CONNECTION_CLOSED/.test(e.message)).map(e => e.message), [])

  await destroyAll(sw, sr)
  assert.equal(live.size, 0)
  assert.equal(server.stats().memberships, 0)
  await server.close()
  await w.close(); await r.close()
})
