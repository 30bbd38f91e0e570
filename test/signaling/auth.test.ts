/**
 * @module test/signaling/auth.test
 * Peer ids prove themselves (src/signaling/auth.ts, PROTOCOL.md "Proving a peer id"):
 * - the server welcomes a hello only with a signature by the id's key over this connection's
 *   challenge and this server's host: an impostor (own key, no signature, a captured answer,
 *   an answer meant for another server) is closed with 4006 and the victim keeps its
 *   connection and its offers, while the owner reconnecting replaces its stale socket (4004);
 * - every relayed signal is signed by its sender over (from, to, topic, counter, data): a
 *   lying relay that alters any of them, or replays a signal, gets it dropped and reported by
 *   the receiving client, which still accepts the honest ones;
 * - the signed bytes are exactly those PROTOCOL.md documents.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { cryptoReady, keyPair, namespace, sign, verify } from '../../src/crypto/index.js'
import { HypercoreError } from '../../src/errors.js'
import { HELLO, helloSignable, NAMESPACE, SIGNAL, signalSignable, SignalSealer, SignalVerifier, toHex } from '../../src/signaling/auth.js'
import { CLOSE } from '../../src/signaling/protocol.js'
import { createSignalServer, type SignalServer, type SignalServerOptions } from '../../src/signaling/server/index.js'
import { WebSocketSignaling } from '../../src/signaling/ws-client.js'
import type { SignalData } from '../../src/transport/types.js'
import { changes, FakeSwarm, keyOf, newId, randomHex, sortedIds } from './fakes.js'
import { honest, lyingRelay, type Relayed } from './lying-relay.js'
import { eventually, helloClient, hostOf, rawClient, signedHello } from './server-helpers.js'

await cryptoReady()

async function withServer (opts: SignalServerOptions, fn: (s: SignalServer) => Promise<void>): Promise<void> {
  const s = await createSignalServer({ port: 0, ...opts })
  try {
    await fn(s)
  } finally {
    await s.close()
  }
}

function collect (client: { on: (e: 'error', l: (err: Error) => void) => unknown }): Error[] {
  const errors: Error[] = []
  client.on('error', (e) => { errors.push(e); changes.notify() })
  return errors
}

const offer = (n: number): SignalData => ({ type: 'offer', sdp: `v=0\r\no=- ${n} 2 IN IP4 127.0.0.1\r\na=ice-ufrag:ü✓\r\n` })

describe('the signed bytes', () => {
  test('the domain prefixes are namespace("hypercore-web/signaling", 2)', () => {
    const [hello, signal] = namespace(NAMESPACE.name, NAMESPACE.count)
    assert.equal(toHex(HELLO), toHex(hello!))
    assert.equal(toHex(SIGNAL), toHex(signal!))
    assert.equal(toHex(HELLO), '95cc31a5b841ac91cf537a90bd1448b5d97ab29f84453f666b25da214d525227')
    assert.equal(toHex(SIGNAL), '1ace3e670e8c65f7d9455a566fc2b518d45195e875075e4ba230f6e3f02ceb1f')
  })

  test('hello: HELLO ‖ nonce ‖ peer id ‖ utf8(lowercase host)', () => {
    const nonce = new Uint8Array(32).fill(1)
    const id = 'ab'.repeat(32)
    assert.equal(toHex(helloSignable(nonce, id, 'Signal.Example.com:8443')),
      toHex(HELLO) + '01'.repeat(32) + id + Buffer.from('signal.example.com:8443').toString('hex'))
    assert.throws(() => helloSignable(new Uint8Array(31), id, 'x'), (e: unknown) => HypercoreError.is(e, 'BAD_ARGUMENT'))
  })

  test('signal: SIGNAL ‖ from ‖ to ‖ topic ‖ u64le(seq) ‖ utf8(data text)', () => {
    const [from, to, topic] = ['01'.repeat(32), '02'.repeat(32), 'ff'.repeat(32)]
    const data = '{"sdp":"é"}'
    assert.equal(toHex(signalSignable(from, to, topic, 0x0102030405060, data)),
      toHex(SIGNAL) + from + to + topic + '6050403020100000' + '7b22736470223a22c3a9227d')
    assert.equal(toHex(signalSignable(from, to, topic, 2 ** 53 - 1, '')).slice(-16), 'ffffffffffff1f00')
  })

  test('a sealer counts up from the clock and never goes back; a verifier takes each counter once per sender', () => {
    const [a, b] = sortedIds(2)
    const topic = randomHex()
    let now = 1_700_000_000_000
    const sealer = new SignalSealer(new FakeSwarm(a), () => now)
    const s1 = sealer.seal(b, topic, '{}')
    const s2 = sealer.seal(b, topic, '{}')
    now -= 60_000 // the clock goes back
    const s3 = sealer.seal(b, topic, '{}')
    assert.deepEqual([s1.seq, s2.seq, s3.seq], [1_700_000_000_000_000, 1_700_000_000_000_001, 1_700_000_000_000_002])
    assert.ok(verify(signalSignable(a, b, topic, s1.seq, '{}'), Buffer.from(s1.signature, 'hex'), keyOf(a).publicKey))
    const v = new SignalVerifier(2)
    assert.equal(v.check(a, b, topic, s2.seq, '{}', s2.signature), null)
    assert.equal(v.check(a, b, topic, s1.seq, '{}', s1.signature)?.code, 'SIGNAL_REPLAYED', 'an older counter')
    assert.equal(v.check(a, b, topic, s2.seq, '{}', s2.signature)?.code, 'SIGNAL_REPLAYED', 'the same counter')
    assert.equal(v.check(a, b, topic, s3.seq, '{}', s3.signature), null)
    assert.equal(v.check(a, b, topic, s3.seq + 1, '{}', s3.signature)?.code, 'INVALID_SIGNATURE')
    // Bounded: a third sender evicts the least recently heard one.
    for (const id of sortedIds(2)) {
      const s = new SignalSealer(new FakeSwarm(id)).seal(b, topic, '{}')
      assert.equal(v.check(id, b, topic, s.seq, '{}', s.signature), null)
    }
    assert.equal(v.size, 2)
  })
})

describe('server: a hello must prove its peer id', () => {
  test('an impostor cannot take a connected id: closed with 4006, the victim keeps its connection and receives its offers', () => withServer({}, async (s) => {
    const [lo, victimId] = sortedIds(2) // lo offers to the victim
    const topic = randomHex()
    const victim = WebSocketSignaling({ url: s.url })
    const victimErrors = collect(victim)
    const connected: boolean[] = []
    victim.onConnectedChange(v => connected.push(v))
    const sv = new FakeSwarm(victimId)
    const offerer = WebSocketSignaling({ url: s.url })
    const so = new FakeSwarm(lo)
    try {
      victim.start(sv)
      victim.join(topic)
      await victim.flushed(topic)
      const attacker = keyPair()
      const host = hostOf(s.url)
      // Another connection's challenge, answered by the victim's key: what an eavesdropper of an old hello holds.
      const other = await rawClient(s.url)
      const otherNonce = (await other.next('challenge')).nonce
      const attempts: Array<[string, (nonce: string) => unknown, number]> = [
        ['signed with its own key', (n) => signedHello(n, victimId, host, attacker), CLOSE.AUTH_FAILED],
        ['no signature (the old protocol)', () => ({ type: 'hello', peerId: victimId }), CLOSE.BAD_MESSAGE],
        ['the victim\'s answer to another challenge', () => signedHello(otherNonce, victimId, host), CLOSE.AUTH_FAILED],
        ['the victim\'s answer for another server', (n) => signedHello(n, victimId, 'other-server.example:443'), CLOSE.AUTH_FAILED]
      ]
      for (const [what, hello, code] of attempts) {
        const impostor = await rawClient(s.url)
        const { nonce } = await impostor.next('challenge')
        impostor.send(hello(nonce))
        const closed = await impostor.closed
        assert.equal(closed.code, code, what)
        assert.deepEqual(impostor.messages.map(m => m.type), ['challenge'], `${what}: never welcomed`)
      }
      other.ws.close()
      await eventually(() => s.stats().connections === 1, 5000, 'the impostors gone')
      assert.deepEqual(s.stats(), { connections: 1, peers: 1, rooms: 1, memberships: 1 })
      // The victim is still the one in the room: the offer for it reaches it.
      offerer.start(so)
      offerer.join(topic)
      const [po] = await so.waitConnects(1)
      assert.equal(po.req.peerId, victimId)
      po.emit(offer(1))
      const [pv] = await sv.waitConnects(1)
      assert.deepEqual(pv.req, { peerId: lo, topic, initiator: false, trickle: true })
      assert.deepEqual(await pv.waitReceived(1), [offer(1)])
      assert.deepEqual(connected, [true], 'the victim was never disconnected')
      assert.deepEqual(victimErrors.map(String), [])
    } finally {
      await Promise.all([victim.close(), offerer.close()])
    }
  }))

  test('the owner reconnecting with its key replaces its stale socket (4004) and is served', () => withServer({}, async (s) => {
    const id = newId()
    const topic = randomHex()
    const stale = await helloClient(s.url, id)
    stale.send({ type: 'join', topic })
    await stale.next('peers')
    const fresh = WebSocketSignaling({ url: s.url })
    const errors = collect(fresh)
    try {
      fresh.start(new FakeSwarm(id))
      fresh.join(topic)
      await fresh.flushed(topic)
      assert.deepEqual(await stale.closed, { code: CLOSE.REPLACED, reason: 'replaced by a newer connection' })
      await eventually(() => s.stats().connections === 1, 5000, 'the stale socket gone')
      assert.deepEqual(s.stats(), { connections: 1, peers: 1, rooms: 1, memberships: 1 })
      // The room holds the new connection: a newcomer is told of the id and the id of the newcomer.
      const c = await helloClient(s.url, newId())
      c.send({ type: 'join', topic })
      assert.deepEqual((await c.next('peers')).peers, [id])
      c.ws.close()
      await c.closed
      assert.deepEqual(errors.map(String), [])
    } finally {
      await fresh.close()
    }
  }))

  test('a challenge answered wrongly, late, twice or with another id\'s signature is refused; the owner is not disturbed', () => withServer({ helloTimeoutMs: 300 }, async (s) => {
    const victimId = newId()
    const owner = await helloClient(s.url, victimId)
    const host = hostOf(s.url)
    const mallory = newId()
    // An answer that was right for a connection whose deadline passed.
    const late = await rawClient(s.url)
    const lateNonce = (await late.next('challenge')).nonce
    assert.deepEqual(await late.closed, { code: CLOSE.HELLO_REQUIRED, reason: 'no hello' })
    const cases: Array<[string, (nonce: string) => unknown[], number]> = [
      ['a random signature', () => [{ type: 'hello', peerId: victimId, signature: toHex(new Uint8Array(64).fill(7)) }], CLOSE.AUTH_FAILED],
      ['a signature by another key', (n) => [signedHello(n, victimId, host, keyOf(mallory))], CLOSE.AUTH_FAILED],
      ['another id\'s key signing for the victim id', (n) => [{ ...signedHello(n, mallory, host), peerId: victimId }], CLOSE.AUTH_FAILED],
      ['the victim\'s key signing for another id', (n) => [signedHello(n, mallory, host, keyOf(victimId))], CLOSE.AUTH_FAILED],
      ['late: the answer to a challenge whose deadline passed', () => [signedHello(lateNonce, victimId, host)], CLOSE.AUTH_FAILED],
      ['a right answer after a wrong one', (n) => [signedHello(n, victimId, host, keyOf(mallory)), signedHello(n, victimId, host)], CLOSE.AUTH_FAILED],
      ['twice: a second hello after the welcome', (n) => [signedHello(n, mallory, host), signedHello(n, mallory, host)], CLOSE.HELLO_REQUIRED],
      ['a signal signature where the hello signature goes', (n) => [{ type: 'hello', peerId: victimId, signature: toHex(sign(signalSignable(victimId, victimId, randomHex(), 1, n), keyOf(victimId).secretKey)) }], CLOSE.AUTH_FAILED]
    ]
    for (const [what, msgs, code] of cases) {
      const c = await rawClient(s.url)
      const { nonce } = await c.next('challenge')
      for (const m of msgs(nonce)) c.send(m)
      assert.equal((await c.closed).code, code, what)
      assert.equal(c.messages.some(m => m.type === 'welcome' && m.peerId === victimId), false, `${what}: never welcomed as the victim`)
    }
    await eventually(() => s.stats().connections === 1, 5000, 'every refused connection gone')
    assert.deepEqual(s.stats(), { connections: 1, peers: 1, rooms: 0, memberships: 0 })
    assert.equal(owner.ws.readyState, owner.ws.OPEN)
    assert.deepEqual(owner.messages.map(m => m.type), ['challenge', 'welcome'])
    owner.ws.close()
    await owner.closed
  }))

  test('behind a proxy: with `hosts`, a hello is signed for a listed public host, not for the Host header', () => withServer({ hosts: ['Signal.Example.com', 'alt.example.com:8443'] }, async (s) => {
    for (const [host, code] of [['signal.example.com', null], ['alt.example.com:8443', null], [hostOf(s.url), CLOSE.AUTH_FAILED], ['evil.example.com', CLOSE.AUTH_FAILED]] as const) {
      const id = newId()
      const c = await rawClient(s.url)
      c.send(signedHello((await c.next('challenge')).nonce, id, host))
      if (code === null) {
        assert.equal((await c.next('welcome')).peerId, id, host)
        c.ws.close()
      } else {
        assert.equal((await c.closed).code, code, host)
      }
      await c.closed
    }
    await assert.rejects(createSignalServer({ port: 0, hosts: [] }), (e: unknown) => HypercoreError.is(e, 'BAD_ARGUMENT'))
    await assert.rejects(createSignalServer({ port: 0, hosts: ['a b'] }), (e: unknown) => HypercoreError.is(e, 'BAD_ARGUMENT'))
  }))
})

describe('client: signals that do not verify are dropped and reported, whatever the server says', () => {
  /**
   * A and B (and C, for the reroute) on a lying relay, all in t1 and t2. A offers to B; the
   * relay tampers with that first signal; the receiver must report `code` and make no
   * connection. Then the relay turns honest and A's next offer must arrive, alone.
   */
  const cases: Array<{ name: string, code: string, tamper: (m: Relayed, ids: { c: string, t2: string }) => Array<{ to: string, msg: Record<string, unknown> }>, at: 'b' | 'c' }> = [
    { name: 'a flipped bit of the signature', code: 'INVALID_SIGNATURE', at: 'b', tamper: (m) => [{ to: m.to, msg: { ...honest(m), signature: m.signature.slice(0, -1) + (m.signature.endsWith('0') ? '1' : '0') } }] },
    { name: 'another counter', code: 'INVALID_SIGNATURE', at: 'b', tamper: (m) => [{ to: m.to, msg: { ...honest(m), seq: m.seq + 1 } }] },
    { name: 'another sender (from)', code: 'INVALID_SIGNATURE', at: 'b', tamper: (m, { c }) => [{ to: m.to, msg: { ...honest(m), from: c } }] },
    { name: 'another receiver (to): delivered to C', code: 'INVALID_SIGNATURE', at: 'c', tamper: (m, { c }) => [{ to: c, msg: honest(m) }] },
    { name: 'another topic', code: 'INVALID_SIGNATURE', at: 'b', tamper: (m, { t2 }) => [{ to: m.to, msg: { ...honest(m), topic: t2 } }] },
    { name: 'other data (the SDP rewritten)', code: 'INVALID_SIGNATURE', at: 'b', tamper: (m) => [{ to: m.to, msg: { ...honest(m), data: m.data.replace('127.0.0.1', '6.6.6.666') } }] },
    { name: 'data re-encoded (same object, other text)', code: 'INVALID_SIGNATURE', at: 'b', tamper: (m) => [{ to: m.to, msg: { ...honest(m), data: JSON.stringify(JSON.parse(m.data), null, 1) } }] }
  ]
  for (const c of cases) {
    test(`a lying server alters ${c.name}: dropped, ${c.code} reported, the honest signal after it still arrives`, async () => {
      const relay = await lyingRelay()
      const [lo, hi, third] = sortedIds(3)
      const [t1, t2] = [randomHex(), randomHex()]
      const clients = [lo, hi, third].map(() => WebSocketSignaling({ url: relay.url }))
      const errors = clients.map(collect)
      const swarms = [lo, hi, third].map(id => new FakeSwarm(id))
      try {
        // B and C first, so that A's join lists both and A offers to both (A is the smallest id).
        for (const i of [1, 2, 0]) {
          clients[i]!.start(swarms[i]!)
          clients[i]!.join(t1)
          clients[i]!.join(t2)
          await clients[i]!.flushed(t2)
        }
        const [sa, sb, sc] = swarms as [FakeSwarm, FakeSwarm, FakeSwarm]
        const toB = (await sa.waitConnects(2)).find(p => p.req.peerId === hi && p.req.topic === t1)!
        let tampered = false
        relay.tamper = (m) => {
          if (tampered || m.to !== hi) return null
          tampered = true
          return c.tamper(m, { c: third, t2 })
        }
        toB.emit(offer(1))
        const at = c.at === 'b' ? 1 : 2
        await changes.until(() => errors[at]!.length === 1, 5000, `the error on ${c.at}`)
        assert.equal((errors[at]![0] as HypercoreError).code, c.code, String(errors[at]![0]))
        assert.equal(sb.responders.length + sc.responders.length, 0, 'the forged signal started no connection')
        toB.emit(offer(2))
        const [pb] = await sb.waitResponders(1)
        assert.deepEqual(pb.req, { peerId: lo, topic: t1, initiator: false, trickle: true })
        assert.deepEqual(await pb.waitReceived(1), [offer(2)], 'only the honest offer reached B')
        assert.equal(sc.responders.length, 0)
        assert.deepEqual(errors.map(e => e.length), c.at === 'b' ? [0, 1, 0] : [0, 0, 1])
      } finally {
        await Promise.all(clients.map(x => x.close()))
        await relay.close()
      }
    })
  }

  test('a replayed signal is dropped with SIGNAL_REPLAYED, also after the receiver reconnected', async () => {
    const relay = await lyingRelay()
    const [lo, hi] = sortedIds(2)
    const topic = randomHex()
    const a = WebSocketSignaling({ url: relay.url })
    const b = WebSocketSignaling({ url: relay.url, minBackoffMs: 10, maxBackoffMs: 20 })
    const [ea, eb] = [collect(a), collect(b)]
    const [sa, sb] = [new FakeSwarm(lo), new FakeSwarm(hi)]
    try {
      b.start(sb)
      b.join(topic)
      await b.flushed(topic)
      a.start(sa)
      a.join(topic)
      const [pa] = await sa.waitConnects(1)
      // The relay delivers A's offer twice.
      relay.tamper = (m) => [{ to: m.to, msg: honest(m) }, { to: m.to, msg: honest(m) }]
      pa.emit(offer(1))
      await changes.until(() => eb.length === 1, 5000, 'the replay reported')
      assert.equal((eb[0] as HypercoreError).code, 'SIGNAL_REPLAYED')
      const [pb] = await sb.waitConnects(1)
      assert.deepEqual(pb.received, [offer(1)], 'the offer reached B once')
      relay.tamper = null
      // B loses its connection and comes back: its router forgot the peer, its counters did not.
      const reconnected = new Promise<void>(resolve => {
        const off = b.onConnectedChange(v => { if (v) { off(); resolve() } })
      })
      relay.sockets.get(hi)!.terminate()
      await reconnected
      await b.flushed(topic)
      relay.deliver(hi, honest(relay.seen[0]!))
      await changes.until(() => eb.length === 3, 5000, 'the lost connection and the second replay reported')
      assert.deepEqual(eb.slice(1).map(e => (e as HypercoreError).code), ['CONNECTION_CLOSED', 'SIGNAL_REPLAYED'])
      assert.equal(sb.connects.length, 1, 'the replay after the reconnect started no connection')
      assert.deepEqual(ea.map(String), [])
    } finally {
      await Promise.all([a.close(), b.close()])
      await relay.close()
    }
  })
})
