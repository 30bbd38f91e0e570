/**
 * @module test/signaling/server-limits.test
 * Server limits that bound memory and fan-out, beyond message validation (server.test.ts):
 * a client that stops reading is closed once its backlog passes maxBufferedBytes; a client
 * that stops answering pings is dropped and its rooms emptied; a join into a big room names
 * at most maxPeersListed peers and tells at most that many of the newcomer.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { WebSocket } from 'ws'
import { cryptoReady } from '../../src/crypto/index.js'
import { CLOSE } from '../../src/signaling/protocol.js'
import { createSignalServer, type SignalServer, type SignalServerOptions } from '../../src/signaling/server/index.js'
import { newId, randomHex, sortedIds } from './fakes.js'
import { eventually, helloClient, hostOf, signedHello, signedSignal } from './server-helpers.js'

await cryptoReady()

async function withServer (opts: SignalServerOptions, fn: (s: SignalServer) => Promise<void>): Promise<void> {
  const s = await createSignalServer({ port: 0, ...opts })
  try {
    await fn(s)
  } finally {
    await s.close()
  }
}

test('a client that stops reading is closed with 4005 once its backlog passes maxBufferedBytes; the sender is not', () => withServer({ maxBufferedBytes: 256 * 1024, rateLimit: { perSecond: 100_000, burst: 100_000 } }, async (s) => {
  const [lo, hi] = sortedIds(2)
  const topic = randomHex()
  const sender = await helloClient(s.url, lo)
  const sleeper = await helloClient(s.url, hi)
  for (const c of [sender, sleeper]) { c.send({ type: 'join', topic }); await c.next('peers') }
  // Stop reading at the TCP level: the kernel buffers fill, then the server's own backlog grows.
  const socket = (sleeper.ws as unknown as { _socket: { pause: () => void, resume: () => void } })._socket
  socket.pause()
  const data = { sdp: 'x'.repeat(15_000) }
  let sent = 0
  while (s.stats().peers === 2 && sent < 4000) {
    for (let i = 0; i < 50; i++) sender.send(signedSignal(lo, hi, topic, data, sent + i))
    sent += 50
    await new Promise<void>((resolve) => sender.ws.send('{"type":"join","topic":"' + topic + '"}', () => resolve()))
    await sender.next('peers')
  }
  assert.equal(s.stats().peers, 1, `the sleeper was dropped (after ${sent} signals of 15 KB)`)
  socket.resume()
  assert.equal((await sleeper.closed).code, CLOSE.SLOW_CONSUMER)
  assert.equal(sender.ws.readyState, sender.ws.OPEN)
  await eventually(() => s.stats().connections === 1, 5000, 'the sleeper gone')
  assert.deepEqual(s.stats(), { connections: 1, peers: 1, rooms: 1, memberships: 1 })
  sender.ws.close()
  await sender.closed
}))

test('a client that does not answer pings is dropped and leaves its rooms', () => withServer({ pingIntervalMs: 50 }, async (s) => {
  const mute = new WebSocket(s.url, { autoPong: false })
  const challenge = new Promise<{ nonce: string }>((resolve) => mute.once('message', (d) => resolve(JSON.parse(d.toString()))))
  await new Promise((resolve) => mute.once('open', resolve))
  const closed = new Promise<number>((resolve) => mute.once('close', (code) => resolve(code)))
  mute.send(JSON.stringify(signedHello((await challenge).nonce, newId(), hostOf(s.url))))
  mute.send(JSON.stringify({ type: 'join', topic: randomHex() }))
  const alive = await helloClient(s.url, newId())
  await eventually(() => s.stats().memberships === 1, 5000, 'the mute client in its room')
  assert.equal(await closed, 1006, 'terminated, no close handshake')
  await eventually(() => s.stats().connections === 1, 5000, 'the server to forget it')
  assert.deepEqual(s.stats(), { connections: 1, peers: 1, rooms: 0, memberships: 0 })
  assert.equal(alive.ws.readyState, alive.ws.OPEN, 'a client that answers pings stays')
  alive.ws.close()
  await alive.closed
}))

test('a join into a big room lists at most maxPeersListed peers and tells exactly those of the newcomer', () => withServer({ maxPeersListed: 5 }, async (s) => {
  const topic = randomHex()
  const members = new Map<string, Awaited<ReturnType<typeof helloClient>>>()
  for (let i = 0; i < 30; i++) {
    const id = newId()
    const c = await helloClient(s.url, id)
    c.send({ type: 'join', topic })
    await c.next('peers')
    members.set(id, c)
  }
  const newcomerId = newId()
  const newcomer = await helloClient(s.url, newcomerId)
  newcomer.send({ type: 'join', topic })
  const { peers } = await newcomer.next('peers')
  assert.equal(new Set(peers).size, 5)
  assert.ok(peers.every(p => members.has(p)))
  // A round trip per member: whatever the server sent it before has arrived by then.
  const told: string[] = []
  for (const [id, c] of members) {
    c.send({ type: 'leave', topic: randomHex() })
    c.send({ type: 'join', topic: randomHex() })
    await c.next('peers')
    if (c.messages.some(m => m.type === 'peer-joined' && m.peerId === newcomerId)) told.push(id)
  }
  assert.deepEqual(told.sort(), [...peers].sort(), 'peer-joined went to the listed peers only')
  for (const c of [...members.values(), newcomer]) { c.ws.close(); await c.closed }
}))

test('pings are spread over the ping interval, a slice every 100 ms, not sent to every client at once', () => withServer({ pingIntervalMs: 400 }, async (s) => {
  // 40 clients, 400 ms: 10 pings per 100 ms tick, the pass over four ticks.
  const clients = []
  for (let i = 0; i < 40; i++) clients.push(await helloClient(s.url, newId()))
  // The second ping of each client: by then every client was there for a whole pass.
  const t0 = performance.now()
  const second = await Promise.all(clients.map(c => new Promise<number>((resolve) => {
    let n = 0
    const onPing = (): void => { if (++n === 2) { c.ws.off('ping', onPing); resolve(performance.now() - t0) } }
    c.ws.on('ping', onPing)
  })))
  second.sort((a, b) => a - b)
  const span = second[second.length - 1]! - second[0]!
  // All at once (one sweep over every client) would be a span of a few ms.
  assert.ok(span >= 200 && span < 1000, `pings spread over ${span.toFixed(0)} ms: ${second.map(x => x.toFixed(0)).join(' ')}`)
  // Every client answered, so nobody was dropped.
  assert.equal(s.stats().peers, 40)
  for (const c of clients) { c.ws.close(); await c.closed }
}))
