/**
 * @module test/signaling/broadcast-channel.test
 * What the conformance suite does not cover for `BroadcastChannelSignaling`: any page of the
 * origin can post on the channel, so junk and badly-formed messages (even ones addressed to
 * us) are ignored without an error or a connect(), signals forged in another peer's name or
 * replayed are dropped and reported, and the client still meets real peers.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { cryptoReady, keyPair, sign } from '../../src/crypto/index.js'
import { HypercoreError } from '../../src/errors.js'
import { signalSignable, toHex } from '../../src/signaling/auth.js'
import { BroadcastChannelSignaling } from '../../src/signaling/broadcast-channel.js'
import { changes, FakeSwarm, randomHex, sortedIds } from './fakes.js'

await cryptoReady()

test('junk on the channel is ignored; a real peer is still met', async () => {
  const channelName = 'bc-junk-' + randomHex().slice(0, 8)
  // j < lo < mid: a signal from j or lo would make the victim (mid) answer, if it were valid.
  const [j, lo, mid, hi] = sortedIds(4)
  const topic = randomHex()
  const victim = BroadcastChannelSignaling({ channelName })
  const friend = BroadcastChannelSignaling({ channelName })
  const sv = new FakeSwarm(mid)
  const sf = new FakeSwarm(lo)
  const errors: Error[] = []
  victim.on('error', (e) => errors.push(e))
  const attacker = new BroadcastChannel(channelName)
  try {
    victim.start(sv)
    victim.join(topic)
    const junk: unknown[] = [
      'hello', null, 42, [1, 2],
      { type: 'join', from: 'x', topic },
      { type: 'join', from: hi.toUpperCase(), topic },
      { type: 'join', from: hi, topic: topic.slice(2) },
      { type: 'peer-joined', from: hi, topic }, // no `to`
      { type: 'signal', from: j, to: mid, topic, data: [1], seq: 1, signature: 'ab'.repeat(64) },
      { type: 'signal', from: j, to: mid, topic, data: { sdp: 'an object: the old protocol' }, seq: 1, signature: 'ab'.repeat(64) },
      { type: 'signal', from: j, to: mid, topic, data: JSON.stringify({ sdp: 'x'.repeat(20_000) }), seq: 1, signature: 'ab'.repeat(64) },
      { type: 'signal', from: j, to: mid, topic, data: '{}', signature: 'ab'.repeat(64) }, // no seq
      { type: 'signal', from: j, to: mid, topic, data: '{}', seq: -1, signature: 'ab'.repeat(64) },
      { type: 'signal', from: j, to: mid, topic, data: '{}', seq: 1 }, // no signature
      { type: 'signal', from: j, to: mid, topic, data: '{}', seq: 1, signature: 'AB'.repeat(64) },
      { type: 'signal', from: j, to: mid.slice(1) + '0', topic, data: '{"sdp":"not for us"}', seq: 1, signature: 'ab'.repeat(64) },
      { type: 'signal', from: j.toUpperCase(), to: mid, topic, data: '{"sdp":"bad from"}', seq: 1, signature: 'ab'.repeat(64) },
      { type: 'signal', from: lo, to: mid, topic: randomHex(), data: '{"sdp":"other topic"}', seq: 1, signature: 'ab'.repeat(64) },
      { type: 'signal', from: mid, to: mid, topic, data: '{"sdp":"our own id"}', seq: 1, signature: 'ab'.repeat(64) },
      { type: 'nonsense', from: hi, to: mid, topic }
    ]
    for (const m of junk) attacker.postMessage(m)
    // Then a real peer: the smaller id, so it offers and the victim must answer.
    friend.start(sf)
    friend.join(topic)
    const [pf] = await sf.waitConnects(1)
    assert.equal(pf.req.peerId, mid)
    pf.emit({ type: 'offer', sdp: 'real' })
    const [pv] = await sv.waitConnects(1)
    assert.deepEqual(await pv.waitReceived(1), [{ type: 'offer', sdp: 'real' }])
    assert.deepEqual(sv.connects.map(p => p.req.peerId), [lo], 'only the real peer was connected')
    assert.deepEqual(errors, [])
  } finally {
    attacker.close()
    await Promise.all([victim.close(), friend.close()])
  }
})

test('bad options are BAD_ARGUMENT at construction', async () => {
  const { HypercoreError } = await import('../../src/errors.js')
  for (const opts of [{ channelName: 5 }, { channelName: '' }, { trickle: 'yes' }]) {
    assert.throws(() => BroadcastChannelSignaling(opts as any), (err: unknown) => HypercoreError.is(err, 'BAD_ARGUMENT'), JSON.stringify(opts))
  }
})

test('a signal forged on the channel in another peer\'s name, altered or replayed is dropped and reported; the real peer is met once', async () => {
  const channelName = 'bc-forged-' + randomHex().slice(0, 8)
  // lo (the friend) offers to mid (the victim); other is a second receiver on the channel.
  const [lo, mid, other] = sortedIds(3)
  const topic = randomHex()
  const victim = BroadcastChannelSignaling({ channelName })
  const bystander = BroadcastChannelSignaling({ channelName })
  const friend = BroadcastChannelSignaling({ channelName })
  const [sv, sb, sf] = [new FakeSwarm(mid), new FakeSwarm(other), new FakeSwarm(lo)]
  const errors: Error[] = []
  const bystanderErrors: Error[] = []
  victim.on('error', (e) => { errors.push(e); changes.notify() })
  bystander.on('error', (e) => { bystanderErrors.push(e); changes.notify() })
  // Another script of the origin: it hears everything and can post anything.
  const attacker = new BroadcastChannel(channelName)
  const heard: any[] = []
  attacker.onmessage = (ev) => { heard.push(ev.data); changes.notify() }
  const mallory = keyPair()
  const forge = (from: string, to: string, data: string, seq: number, key = mallory.secretKey): object =>
    ({ type: 'signal', from, to, topic, data, seq, signature: toHex(sign(signalSignable(from, to, topic, seq, data), key)) })
  const codes = (): string[] => errors.map(e => (e as HypercoreError).code)
  try {
    victim.start(sv)
    victim.join(topic)
    bystander.start(sb)
    bystander.join(topic)
    // 1. In the friend's name, signed by the attacker's key: before the friend even exists.
    attacker.postMessage(forge(lo, mid, '{"type":"offer","sdp":"forged"}', 2 ** 52))
    await changes.until(() => errors.length === 1, 5000, 'the forged signal reported')
    assert.deepEqual(codes(), ['INVALID_SIGNATURE'])
    assert.equal(sv.responders.length, 0, 'no connection for the forged offer')

    // 2. The real friend offers; the attacker captures that signal on the channel.
    friend.start(sf)
    friend.join(topic)
    const [pf] = await sf.waitConnects(1)
    assert.equal(pf.req.peerId, mid)
    pf.emit({ type: 'offer', sdp: 'real' })
    const [pv] = await sv.waitResponders(1)
    assert.deepEqual(await pv.waitReceived(1), [{ type: 'offer', sdp: 'real' }])
    await changes.until(() => heard.some(m => m.type === 'signal' && m.from === lo), 5000, 'the attacker hearing the real offer')
    const real = heard.find(m => m.type === 'signal' && m.from === lo)
    assert.deepEqual(Object.keys(real).sort(), ['data', 'from', 'seq', 'signature', 'to', 'topic', 'type'])
    assert.equal(real.data, '{"type":"offer","sdp":"real"}')

    // 3. Posted again verbatim: a replay. 4. Its data altered. 5. Its counter moved on.
    // 6. Addressed to another peer (to changed): that peer drops it.
    attacker.postMessage(real)
    attacker.postMessage({ ...real, data: '{"type":"offer","sdp":"evil"}' })
    attacker.postMessage({ ...real, seq: real.seq + 1 })
    attacker.postMessage({ ...real, to: other })
    await changes.until(() => errors.length === 4 && bystanderErrors.length === 1, 5000, 'every forgery reported')
    assert.deepEqual(codes(), ['INVALID_SIGNATURE', 'SIGNAL_REPLAYED', 'INVALID_SIGNATURE', 'INVALID_SIGNATURE'])
    assert.deepEqual(bystanderErrors.map(e => (e as HypercoreError).code), ['INVALID_SIGNATURE'])
    assert.ok(HypercoreError.is(errors[1], 'SIGNAL_REPLAYED'))

    // The friend's next signal still goes through, and nothing forged reached a peer.
    pf.emit({ type: 'candidate', candidate: { candidate: 'c' } })
    assert.deepEqual(await pv.waitReceived(2), [{ type: 'offer', sdp: 'real' }, { type: 'candidate', candidate: { candidate: 'c' } }])
    assert.deepEqual(sv.responders.map(p => p.req.peerId), [lo], 'only the real peer\'s offer was answered')
    assert.equal(sb.responders.length, 0)
    assert.equal(errors.length, 4)
  } finally {
    attacker.close()
    await Promise.all([victim.close(), bystander.close(), friend.close()])
  }
})
