/**
 * @module test/signaling/ws-client.test
 * What the conformance suite cannot show for `WebSocketSignaling`: it survives its server
 * going away (error events, backoff, reconnect, re-join, meets peers again), keeps retrying
 * an unreachable server with growing delays without throwing, stops after being replaced
 * by another connection with its peer id, and refuses a bad URL at construction.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { HypercoreError } from '../../src/errors.js'
import { createSignalServer } from '../../src/signaling/server/index.js'
import { WebSocketSignaling } from '../../src/signaling/ws-client.js'
import { cryptoReady } from '../../src/crypto/index.js'
import { changes, FakeSwarm, newId, randomHex, sortedIds } from './fakes.js'
import { eventually, helloClient } from './server-helpers.js'

await cryptoReady()

function collect (client: ReturnType<typeof WebSocketSignaling>): { errors: Error[], at: number[] } {
  const r = { errors: [] as Error[], at: [] as number[] }
  client.on('error', (e) => { r.errors.push(e); r.at.push(Date.now()); changes.notify() })
  return r
}

test('after its server restarts, the client reconnects, re-joins and meets a newcomer', async () => {
  let server = await createSignalServer({ port: 0 })
  const port = server.port
  const [lo, hi] = sortedIds(2)
  const topic = randomHex()
  const a = WebSocketSignaling({ url: server.url, minBackoffMs: 20, maxBackoffMs: 200 })
  const b = WebSocketSignaling({ url: server.url })
  const ea = collect(a)
  const sa = new FakeSwarm(lo)
  try {
    a.start(sa)
    a.join(topic)
    await eventually(() => server.stats().memberships === 1, 5000, 'a in the room')
    await server.close()
    await changes.until(() => ea.errors.length >= 1, 5000, 'an error event for the lost server')
    assert.ok(HypercoreError.is(ea.errors[0], 'CONNECTION_CLOSED'), String(ea.errors[0]))
    server = await createSignalServer({ port })
    const sb = new FakeSwarm(hi)
    b.start(sb)
    b.join(topic)
    const [pa] = await sa.waitConnects(1, 10_000)
    assert.deepEqual(pa.req, { peerId: hi, topic, initiator: true, trickle: true })
    pa.emit({ type: 'offer', sdp: 'again' })
    const [pb] = await sb.waitConnects(1)
    assert.deepEqual(await pb.waitReceived(1), [{ type: 'offer', sdp: 'again' }])
  } finally {
    await Promise.all([a.close(), b.close()])
    await server.close()
  }
})

test('an unreachable server: error events with growing delays, never a throw; close() stops retrying', async () => {
  const probe = await createSignalServer({ port: 0 })
  const url = probe.url
  await probe.close() // a port nobody listens on now
  const c = WebSocketSignaling({ url, minBackoffMs: 20, maxBackoffMs: 1000 })
  const e = collect(c)
  c.start(new FakeSwarm(newId()))
  c.join(randomHex())
  await changes.until(() => e.errors.length >= 4, 10_000, '4 failed attempts')
  await c.close()
  const n = e.errors.length
  const gaps = e.at.slice(1).map((t, i) => t - e.at[i])
  // Delays are 20·2^k ms with ±25 % jitter: the third gap is at least 60 ms, the first at most 25 + a connect attempt.
  assert.ok(gaps[2] >= 40 && gaps[2] > gaps[0], `gaps ${gaps.join(', ')}`)
  assert.ok(e.errors.every(x => HypercoreError.is(x, 'CONNECTION_CLOSED')))
  assert.equal(e.errors.length, n)
  // No retry after close: d retries every 7.5–12.5 ms until closed; while a twin fails 6 more
  // times (≥ 45 ms), d would have failed at least twice more had a timer survived close().
  const d = WebSocketSignaling({ url, minBackoffMs: 10, maxBackoffMs: 10 })
  const ed = collect(d)
  d.start(new FakeSwarm(newId()))
  await changes.until(() => ed.errors.length >= 2, 5000, 'd failing twice')
  await d.close()
  const dn = ed.errors.length
  const twin = WebSocketSignaling({ url, minBackoffMs: 10, maxBackoffMs: 10 })
  const et = collect(twin)
  twin.start(new FakeSwarm(newId()))
  await changes.until(() => et.errors.length >= 6, 5000, 'the twin failing 6 times')
  await twin.close()
  assert.equal(ed.errors.length, dn, 'the closed client did not try again')
})

test('replaced by another connection with the same peer id: an error and no reconnect fight', async () => {
  const server = await createSignalServer({ port: 0, rateLimit: { perSecond: 10_000, burst: 10_000 } })
  try {
    const id = newId()
    const c = WebSocketSignaling({ url: server.url, minBackoffMs: 10 })
    const e = collect(c)
    c.start(new FakeSwarm(id))
    try {
      await eventually(() => server.stats().peers === 1, 5000, 'hello')
      const other = await helloClient(server.url, id)
      await changes.until(() => e.errors.length === 1, 5000, 'the replaced error')
      assert.match(e.errors[0].message, /not reconnecting/)
      // The usurper stays: a reconnecting client would have replaced it (4004) by now.
      // Round trips for longer than the client's 5–10 ms backoff.
      const t0 = Date.now()
      const topic = randomHex()
      while (Date.now() - t0 < 50) {
        other.send({ type: 'join', topic })
        await other.next('peers')
      }
      assert.equal(server.stats().peers, 1)
      assert.equal(other.ws.readyState, other.ws.OPEN)
      other.ws.close()
    } finally {
      await c.close()
    }
  } finally {
    await server.close()
  }
})

test('a bad URL is refused at construction with BAD_ARGUMENT', () => {
  for (const url of ['http://x', '', 'ws://has space', 42]) {
    assert.throws(() => WebSocketSignaling({ url: url as string }), (e: unknown) => HypercoreError.is(e, 'BAD_ARGUMENT'))
  }
})

test('a signal over the server\'s maxSignalBytes is dropped with an error event instead of getting us closed', async () => {
  const server = await createSignalServer({ port: 0, maxSignalBytes: 1000 })
  const [lo, hi] = sortedIds(2)
  const topic = randomHex()
  const a = WebSocketSignaling({ url: server.url })
  const b = WebSocketSignaling({ url: server.url })
  const ea = collect(a)
  const sa = new FakeSwarm(lo)
  const sb = new FakeSwarm(hi)
  try {
    a.start(sa)
    b.start(sb)
    a.join(topic)
    b.join(topic)
    const [pa] = await sa.waitConnects(1)
    pa.emit({ type: 'offer', sdp: 'x'.repeat(2000) })
    assert.equal(ea.errors.length, 1)
    assert.ok(HypercoreError.is(ea.errors[0], 'BAD_ARGUMENT'), String(ea.errors[0]))
    pa.emit({ type: 'offer', sdp: 'small' })
    const [pb] = await sb.waitConnects(1)
    assert.deepEqual(await pb.waitReceived(1), [{ type: 'offer', sdp: 'small' }], 'still connected, the small one went through')
    assert.equal(ea.errors.length, 1)
  } finally {
    await Promise.all([a.close(), b.close()])
    await server.close()
  }
})

test('a signal whose escaped text would not fit the server\'s maxMessageBytes is dropped with an error event, not sent', async () => {
  const server = await createSignalServer({ port: 0, maxSignalBytes: 1000, maxMessageBytes: 1500 })
  const [lo, hi] = sortedIds(2)
  const topic = randomHex()
  const a = WebSocketSignaling({ url: server.url })
  const b = WebSocketSignaling({ url: server.url })
  const ea = collect(a)
  const sa = new FakeSwarm(lo)
  const sb = new FakeSwarm(hi)
  try {
    a.start(sa)
    b.start(sb)
    a.join(topic)
    b.join(topic)
    const [pa] = await sa.waitConnects(1)
    // 900 bytes of JSON text, but every quote is escaped inside the message: about 1.3 KB of signature and fields more.
    pa.emit({ type: 'offer', sdp: '"'.repeat(440) })
    assert.equal(ea.errors.length, 1)
    assert.ok(HypercoreError.is(ea.errors[0], 'BAD_ARGUMENT'), String(ea.errors[0]))
    assert.match(ea.errors[0].message, /does not fit in the server's 1500-byte messages/)
    pa.emit({ type: 'offer', sdp: 'small' })
    const [pb] = await sb.waitConnects(1)
    assert.deepEqual(await pb.waitReceived(1), [{ type: 'offer', sdp: 'small' }], 'still connected, the small one went through')
    assert.equal(ea.errors.length, 1)
  } finally {
    await Promise.all([a.close(), b.close()])
    await server.close()
  }
})

test('flushed(topic) resolves once the server listed the topic and the offers were started', async () => {
  const server = await createSignalServer({ port: 0 })
  const [lo, hi] = sortedIds(2)
  const topic = randomHex()
  const a = WebSocketSignaling({ url: server.url })
  const b = WebSocketSignaling({ url: server.url })
  const [sa, sb] = [new FakeSwarm(lo), new FakeSwarm(hi)]
  try {
    b.start(sb)
    b.join(topic)
    await b.flushed(topic)
    assert.equal(server.stats().memberships, 1, 'b is in the room once flushed')
    a.start(sa)
    a.join(topic)
    const pending = a.flushed(topic)
    assert.equal(sa.connects.length, 0)
    await pending
    assert.deepEqual(sa.connects.map(p => p.req.peerId), [hi], 'the offer to b started before flushed resolved')
    await a.flushed(randomHex()) // not joined: at once
    const c = WebSocketSignaling({ url: 'ws://127.0.0.1:9' })
    c.on('error', () => {})
    c.start(new FakeSwarm(newId()))
    c.join(topic)
    const never = c.flushed(topic)
    await c.close()
    await never // released by close
  } finally {
    await Promise.all([a.close(), b.close()])
    await server.close()
  }
})

test('connected / onConnectedChange follow the welcome, a lost server and the reconnect', async () => {
  let server = await createSignalServer({ port: 0 })
  const port = server.port
  const c = WebSocketSignaling({ url: server.url, minBackoffMs: 20, maxBackoffMs: 200 })
  c.on('error', () => {})
  const seen: boolean[] = []
  const next = (want: boolean): Promise<void> => new Promise(resolve => {
    const off = c.onConnectedChange(v => { if (v === want) { off(); resolve() } })
  })
  c.onConnectedChange(v => seen.push(v))
  try {
    assert.equal(c.connected, false)
    const up = next(true)
    c.start(new FakeSwarm(newId()))
    await up
    assert.equal(c.connected, true)
    const down = next(false)
    await server.close()
    await down
    assert.equal(c.connected, false)
    const again = next(true)
    server = await createSignalServer({ port })
    await again
    assert.deepEqual(seen, [true, false, true])
  } finally {
    await c.close()
    await server.close()
  }
  assert.equal(c.connected, false)
  assert.deepEqual(seen, [true, false, true, false])
})

test('reconnectNow() skips a long backoff once the server is back', async () => {
  let server = await createSignalServer({ port: 0 })
  const port = server.port
  const c = WebSocketSignaling({ url: server.url, minBackoffMs: 60_000, maxBackoffMs: 60_000 })
  c.on('error', () => {})
  const next = (want: boolean): Promise<void> => new Promise(resolve => {
    const off = c.onConnectedChange(v => { if (v === want) { off(); resolve() } })
  })
  try {
    const up = next(true)
    c.start(new FakeSwarm(newId()))
    await up
    const down = next(false)
    await server.close()
    await down // the next retry is now 30–60 s away
    server = await createSignalServer({ port })
    const again = next(true)
    c.reconnectNow()
    await again
    assert.equal(c.connected, true)
  } finally {
    await c.close()
    await server.close()
  }
})
