/**
 * @module test/signaling/webrtc-e2e.test
 * End to end in Node: two swarms-in-miniature whose connect() makes real WebRTC peers
 * (src/transport/webrtc.ts on `@roamhq/wrtc`) meet through each signaling client (our server;
 * BroadcastChannel) and exchange bytes over the resulting data channel. Shows that real SDP
 * and ICE candidates survive the clients and the server, trickled and not.
 */
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { after, before, test } from 'node:test'
import { BroadcastChannelSignaling } from '../../src/signaling/broadcast-channel.js'
import { createSignalServer, type SignalServer } from '../../src/signaling/server/index.js'
import type { ConnectRequest, SignalingClient, SignalingContext } from '../../src/signaling/types.js'
import { WebSocketSignaling } from '../../src/signaling/ws-client.js'
import type { WebRtcPeer } from '../../src/transport/types.js'
import { createWebRtcPeer } from '../../src/transport/webrtc.js'
import { cryptoReady } from '../../src/crypto/index.js'
import { FakeSwarm, randomHex, sortedIds } from './fakes.js'

await cryptoReady()

const wrtc = createRequire(import.meta.url)('@roamhq/wrtc') as unknown

class RealSwarm implements SignalingContext {
  readonly peers: WebRtcPeer[] = []
  readonly requests: ConnectRequest[] = []
  private onPeer: ((p: WebRtcPeer) => void) | null = null
  private readonly signer: FakeSwarm
  constructor (readonly self: string) { this.signer = new FakeSwarm(self) }
  sign (message: Uint8Array): Uint8Array { return this.signer.sign(message) }
  wants (peerId: string | null): boolean { return peerId !== null && this.peers.length === 0 }
  connect (req: ConnectRequest): WebRtcPeer {
    const p = createWebRtcPeer({ initiator: req.initiator, trickle: req.trickle, wrtc, iceServers: [] })
    this.requests.push(req)
    this.peers.push(p)
    this.onPeer?.(p)
    return p
  }

  firstPeer (): Promise<WebRtcPeer> {
    return this.peers.length > 0 ? Promise.resolve(this.peers[0]) : new Promise((resolve) => { this.onPeer = resolve })
  }
}

function firstChunk (p: WebRtcPeer): Promise<string> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('no data within 20 s')), 20_000)
    p.stream.once('data', (d: unknown) => { clearTimeout(t); resolve(new TextDecoder().decode(d as Uint8Array)) })
  })
}

let server: SignalServer
before(async () => { server = await createSignalServer({ port: 0 }) })
after(async () => { await server.close() })

/** Each maker is called twice per test with the same `scope`: both clients must hear each other. */
const makers: Array<[string, (trickle: boolean, scope: string) => SignalingClient]> = [
  ['our WebSocket server', (trickle) => WebSocketSignaling({ url: server.url, trickle })],
  ['BroadcastChannel', (trickle, scope) => BroadcastChannelSignaling({ channelName: 'e2e-' + scope, trickle })]
]

for (const [name, make] of makers) {
  for (const trickle of [true, false]) {
    test(`real WebRTC peers meet through ${name} (trickle ${String(trickle)}) and exchange bytes`, async () => {
      const [lo, hi] = sortedIds(2)
      const topic = randomHex()
      const scope = randomHex().slice(0, 8)
      const [ca, cb] = [make(trickle, scope), make(trickle, scope)]
      const [sa, sb] = [new RealSwarm(lo), new RealSwarm(hi)]
      try {
        ca.start(sa)
        cb.start(sb)
        ca.join(topic)
        cb.join(topic)
        const [pa, pb] = await Promise.all([sa.firstPeer(), sb.firstPeer()])
        assert.deepEqual(sa.requests, [{ peerId: hi, topic, initiator: true, trickle }])
        assert.deepEqual(sb.requests, [{ peerId: lo, topic, initiator: false, trickle }])
        const [ga, gb] = [firstChunk(pa), firstChunk(pb)]
        pa.stream.write(new TextEncoder().encode('from lo'))
        pb.stream.write(new TextEncoder().encode('from hi'))
        assert.equal(await gb, 'from lo')
        assert.equal(await ga, 'from hi')
        pa.destroy()
        pb.destroy()
      } finally {
        await Promise.all([ca.close(), cb.close()])
      }
    })
  }
}
