/**
 * @module test/signaling/conformance.test
 * Runs the signaling conformance suite against each client in Node: the WebSocket client
 * against our server on a free port, and the BroadcastChannel client on Node's global
 * BroadcastChannel (clients in one process hear each other like tabs of one origin).
 */
import { after, before, describe, test } from 'node:test'
import { BroadcastChannelSignaling } from '../../src/signaling/broadcast-channel.js'
import { createSignalServer, type SignalServer } from '../../src/signaling/server/index.js'
import { WebSocketSignaling } from '../../src/signaling/ws-client.js'
import { cryptoReady } from '../../src/crypto/index.js'
import { signalingConformance } from './conformance.js'

await cryptoReady()

describe('WebSocketSignaling + our server', () => {
  let server: SignalServer
  before(async () => { server = await createSignalServer({ port: 0 }) })
  after(async () => { await server.close() })
  for (const c of signalingConformance({ create: () => WebSocketSignaling({ url: server.url }) })) test(c.name, () => c.run())
})

describe('BroadcastChannelSignaling', () => {
  const channelName = 'conformance-' + Math.random().toString(36).slice(2)
  for (const c of signalingConformance({ create: () => BroadcastChannelSignaling({ channelName }) })) test(c.name, () => c.run())
})
