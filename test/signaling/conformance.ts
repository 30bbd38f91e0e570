/**
 * @module test/signaling/conformance
 * The signaling conformance suite: every `SignalingClient` (WebSocket server client,
 * BroadcastChannel, …) must pass these cases, in Node (conformance.test.ts) and in Chromium
 * (web-test/signaling.spec.ts). Clients run against a fake swarm that records connect()
 * calls and fake WebRTC peers, so what is checked is exactly the client's job: who meets
 * whom, who offers, and that signals arrive intact and in order.
 *
 * "Nothing else happened" is checked after a signal round trip that went over the same
 * channels later than any duplicate would have, not after a sleep.
 */
import { HypercoreError } from '../../src/errors.js'
import type { SignalingClient } from '../../src/signaling/types.js'
import type { SignalData } from '../../src/transport/types.js'
import { deepEqual, equal, ok, type SuiteCase } from '../helpers/assert.js'
import { changes, FakeSwarm, randomHex, sortedIds, type FakePeer } from './fakes.js'

export interface SignalingEnv {
  /** A fresh, unstarted client. */
  create: () => SignalingClient
}

interface Node {
  client: SignalingClient
  swarm: FakeSwarm
  errors: Error[]
}

/** Creates and starts clients for one case and closes every one of them afterwards. */
class Harness {
  readonly nodes: Node[] = []
  constructor (private readonly env: SignalingEnv) {}

  node (id: string): Node {
    const client = this.env.create()
    const swarm = new FakeSwarm(id)
    const n: Node = { client, swarm, errors: [] }
    client.on('error', (e) => n.errors.push(e))
    client.start(swarm)
    this.nodes.push(n)
    return n
  }

  async close (): Promise<void> {
    await Promise.all(this.nodes.map(n => n.client.close()))
  }
}

function withHarness (env: SignalingEnv, fn: (h: Harness) => Promise<void>): () => Promise<void> {
  return async () => {
    const h = new Harness(env)
    try {
      await fn(h)
    } finally {
      await h.close()
    }
  }
}

const offer = (n: number): SignalData => ({ type: 'offer', sdp: `v=0\r\no=- ${n} 2 IN IP4 127.0.0.1\r\ns=-\r\na=group:BUNDLE 0\r\na=ice-ufrag:ü✓${'x'.repeat(2000)}\r\n` })
const answer = (n: number): SignalData => ({ type: 'answer', sdp: `v=0\r\no=- ${n} 2 IN IP4 127.0.0.1\r\n` })
const candidate = (n: number): SignalData => ({ type: 'candidate', candidate: { candidate: `candidate:${n} 1 udp 2122260223 127.0.0.1 5${n} typ host`, sdpMLineIndex: 0, sdpMid: '0' }, nested: [1, null, { deep: true }] })

/**
 * Runs one offer/answer/candidate exchange between an initiator peer and the responder it
 * creates, checking the responder's connect() and that every signal arrives intact in order.
 */
async function exchange (initiator: FakePeer, responderSwarm: FakeSwarm, initiatorId: string, seq: number): Promise<FakePeer> {
  const before = responderSwarm.connects.length
  initiator.emit(offer(seq))
  const connects = await responderSwarm.waitConnects(before + 1)
  const responder = connects[before]
  deepEqual(responder.req, { peerId: initiatorId, topic: initiator.req.topic, initiator: false, trickle: initiator.req.trickle }, 'responder connect request')
  deepEqual(await responder.waitReceived(1), [offer(seq)], 'offer intact')
  responder.emit(answer(seq))
  responder.emit(candidate(seq))
  deepEqual(await initiator.waitReceived(2), [answer(seq), candidate(seq)], 'answer and candidate intact, in order')
  initiator.emit(candidate(seq + 1))
  deepEqual(await responder.waitReceived(2), [offer(seq), candidate(seq + 1)], 'second candidate intact')
  return responder
}

/** Two nodes meet in `topic`: checks the offerer's connect() and runs an exchange. */
async function meet (lo: Node, hi: Node, topic: string, seq: number): Promise<[FakePeer, FakePeer]> {
  const before = lo.swarm.connects.length
  const connects = await lo.swarm.waitConnects(before + 1)
  const initiator = connects[before]
  equal(initiator.req.peerId, hi.swarm.self, 'the smaller id offers to the larger')
  equal(initiator.req.topic, topic, 'topic of the connection')
  equal(initiator.req.initiator, true, 'initiator flag')
  const responder = await exchange(initiator, hi.swarm, lo.swarm.self, seq)
  return [initiator, responder]
}

function noErrors (...nodes: Node[]): void {
  for (const n of nodes) deepEqual(n.errors.map(String), [], `errors on ${n.swarm.self.slice(0, 8)}`)
}

export function signalingConformance (env: SignalingEnv): Array<SuiteCase<void>> {
  const cases: Array<SuiteCase<void>> = []
  for (const order of ['smaller joins first', 'larger joins first'] as const) {
    cases.push({
      name: `two clients in a topic meet exactly once, the smaller id offers, signals intact both ways (${order})`,
      run: withHarness(env, async (h) => {
        const [lo, hi] = sortedIds(2)
        const topic = randomHex()
        const a = h.node(lo)
        const b = h.node(hi)
        if (order === 'smaller joins first') { a.client.join(topic); b.client.join(topic) } else { b.client.join(topic); a.client.join(topic) }
        const [pa, pb] = await meet(a, b, topic, 1)
        // Later signals on an established pair still flow, in order, both ways.
        pb.emit(candidate(7))
        pa.emit(candidate(8))
        deepEqual((await pa.waitReceived(3))[2], candidate(7))
        deepEqual((await pb.waitReceived(3))[2], candidate(8))
        equal(a.swarm.connects.length, 1, 'connects on the smaller id')
        equal(b.swarm.connects.length, 1, 'connects on the larger id')
        noErrors(a, b)
      })
    })
  }

  cases.push({
    name: 'peers of different topics do not meet',
    run: withHarness(env, async (h) => {
      const [c, a, b] = sortedIds(3)
      const [t1, t2] = [randomHex(), randomHex()]
      const na = h.node(a)
      const nb = h.node(b)
      na.client.join(t1)
      nb.client.join(t2)
      const nc = h.node(c)
      nc.client.join(t1)
      nc.client.join(t2)
      const connects = await nc.swarm.waitConnects(2)
      const byPeer = new Map(connects.map(p => [p.req.peerId, p]))
      equal(byPeer.get(a)?.req.topic, t1, 'c meets a in t1')
      equal(byPeer.get(b)?.req.topic, t2, 'c meets b in t2')
      await exchange(byPeer.get(a)!, na.swarm, c, 1)
      await exchange(byPeer.get(b)!, nb.swarm, c, 3)
      deepEqual(na.swarm.connects.map(p => p.req.peerId), [c], 'a met only c')
      deepEqual(nb.swarm.connects.map(p => p.req.peerId), [c], 'b met only c')
      equal(nc.swarm.connects.length, 2)
      noErrors(na, nb, nc)
    })
  })

  cases.push({
    name: 'leave stops meetings and signals in that topic',
    run: withHarness(env, async (h) => {
      const [c, a, b] = sortedIds(3)
      const topic = randomHex()
      const na = h.node(a)
      const nb = h.node(b)
      na.client.join(topic)
      nb.client.join(topic)
      const [pa, pb] = await meet(na, nb, topic, 1)
      na.client.leave(topic)
      na.client.leave(topic) // idempotent
      pa.emit(candidate(50)) // after leave: must not reach b
      const nc = h.node(c)
      nc.client.join(topic)
      const [pc] = await nc.swarm.waitConnects(1)
      equal(pc.req.peerId, b, 'c meets b, not a (a left)')
      await exchange(pc, nb.swarm, c, 3)
      equal(nc.swarm.connects.length, 1, 'c met only b')
      deepEqual(na.swarm.connects.map(p => p.req.peerId), [b], 'a met nobody after leaving')
      equal(pb.received.length, 2, 'no signal from a after it left')
      noErrors(na, nb, nc)
    })
  })

  cases.push({
    name: 'after a connection closes, the pair can meet again (re-join)',
    run: withHarness(env, async (h) => {
      const [lo, hi] = sortedIds(2)
      const topic = randomHex()
      const a = h.node(lo)
      const b = h.node(hi)
      a.client.join(topic)
      b.client.join(topic)
      const [pa, pb] = await meet(a, b, topic, 1)
      pa.destroy()
      pb.destroy()
      await changes.until(() => pa.stream.destroyed && pb.stream.destroyed, 5000, 'streams closed')
      b.client.leave(topic)
      b.client.join(topic)
      await meet(a, b, topic, 5)
      equal(a.swarm.connects.length, 2)
      equal(b.swarm.connects.length, 2)
      noErrors(a, b)
    })
  })

  cases.push({
    name: 'close cleans up: a closed client meets nobody, close is idempotent, late signals are dropped',
    run: withHarness(env, async (h) => {
      const [c, a, b] = sortedIds(3)
      const topic = randomHex()
      const na = h.node(a)
      const nb = h.node(b)
      na.client.join(topic)
      nb.client.join(topic)
      const [pa, pb] = await meet(na, nb, topic, 1)
      await na.client.close()
      await na.client.close()
      pa.emit(candidate(60)) // after close: dropped, no throw
      na.client.join(randomHex()) // after close: a no-op, no throw
      const nc = h.node(c)
      nc.client.join(topic)
      const [pc] = await nc.swarm.waitConnects(1)
      equal(pc.req.peerId, b, 'c meets b, not the closed a')
      await exchange(pc, nb.swarm, c, 3)
      equal(nc.swarm.connects.length, 1)
      equal(pb.received.length, 2, 'no signal from a after close')
      noErrors(na, nb, nc)
    })
  })

  cases.push({
    name: 'a swarm that does not want the peer gets no connect(); a bad topic is an error event, not a throw',
    run: withHarness(env, async (h) => {
      const [c, a, b] = sortedIds(3)
      const topic = randomHex()
      const na = h.node(a)
      na.swarm.accepting = false
      na.client.join(topic)
      const nb = h.node(b)
      nb.client.join(topic)
      // b (larger) waits for a's offer, which a's swarm refused to make; c then meets b.
      const nc = h.node(c)
      nc.client.join(topic)
      const connects = await nc.swarm.waitConnects(2)
      deepEqual(connects.map(p => p.req.peerId).sort(), [a, b].sort())
      await exchange(connects.find(p => p.req.peerId === b)!, nb.swarm, c, 1)
      equal(na.swarm.connects.length, 0, 'a refused every connection')
      nb.client.join('NOT-A-TOPIC')
      equal(nb.errors.length, 1, 'one error event')
      ok(HypercoreError.is(nb.errors[0], 'BAD_ARGUMENT'), `BAD_ARGUMENT, got ${String(nb.errors[0])}`)
    })
  })
  return cases
}
