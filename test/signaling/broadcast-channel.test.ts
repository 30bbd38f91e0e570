/**
 * @module test/signaling/broadcast-channel.test
 * What the conformance suite does not cover for `BroadcastChannelSignaling`: any page of the
 * origin can post on the channel, so junk and badly-formed messages (even ones addressed to
 * us) are ignored without an error or a connect(), and the client still meets real peers.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { BroadcastChannelSignaling } from '../../src/signaling/broadcast-channel.js'
import { FakeSwarm, randomHex, sortedIds } from './fakes.js'

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
      { type: 'signal', from: j, to: mid, topic, data: [1] },
      { type: 'signal', from: j, to: mid, topic, data: 'offer' },
      { type: 'signal', from: j, to: mid, topic, data: { sdp: 'x'.repeat(20_000) } },
      { type: 'signal', from: j, to: mid.slice(1) + '0', topic, data: { sdp: 'not for us' } },
      { type: 'signal', from: j.toUpperCase(), to: mid, topic, data: { sdp: 'bad from' } },
      { type: 'signal', from: lo, to: mid, topic: randomHex(), data: { sdp: 'other topic' } },
      { type: 'signal', from: mid, to: mid, topic, data: { sdp: 'our own id' } },
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
