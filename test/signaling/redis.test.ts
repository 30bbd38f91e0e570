/**
 * @module test/signaling/redis.test
 * Signaling rooms shared by several server processes through Redis (Debian's redis-server on
 * loopback; the Chromium run is web-test/redis.spec.ts):
 * 1. peers on different instances meet, exchange signed signals and replicate a core; a relayed
 *    signal altered by nobody verifies, and each instance counts only its own members;
 * 2. a peer id proven again on another instance replaces the first connection (4004);
 * 3. behind one address, an instance killed outright drops only its own clients: they reconnect
 *    to the other instance and meet again; the survivor's clients keep their connections;
 * 4. the members of a dead instance stop being listed once its liveness key expires;
 * 5. a server whose Redis is unreachable refuses to start (it must not run as a lone one).
 */
import { after, afterEach, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { cryptoReady } from '../../src/crypto/index.js'
import { createSignalServer } from '../../src/signaling/server/index.js'
import { WebSocketSignaling } from '../../src/signaling/ws-client.js'
import { Swarm } from '../../src/swarm/index.js'
import { createTestPeer, wrtc } from '../swarm/test-peer.js'
import { ourReader, ourWriter, text } from '../replication/replicator-helpers.js'
import { newId, randomHex } from './fakes.js'
import { eventually, helloClient } from './server-helpers.js'
import { balancer, startInstance, startRedis, type RedisProcess } from './redis-helpers.js'

let redis: RedisProcess
before(async () => { await cryptoReady(); redis = await startRedis() })
after(async () => { await redis.stop() })
const cleanups: Array<() => Promise<unknown>> = []
afterEach(async () => { for (const c of cleanups.splice(0).reverse()) await c().catch(() => {}) })

function swarmOn (url: string): Swarm {
  const s = new Swarm({ signaling: [WebSocketSignaling({ url, minBackoffMs: 100, maxBackoffMs: 500 })], createPeer: createTestPeer, wrtc, flushQuiet: 150, backoff: { initial: 100, max: 1000 } })
  cleanups.push(() => s.destroy())
  return s
}

test('peers on two instances sharing one Redis meet, exchange signed signals and replicate', async () => {
  const prefix = `t${randomHex().slice(0, 6)}:`
  const a = await createSignalServer({ port: 0, redis: redis.url, redisPrefix: prefix })
  const b = await createSignalServer({ port: 0, redis: redis.url, redisPrefix: prefix })
  cleanups.push(() => a.close(), () => b.close())
  const w = await ourWriter()
  await w.append(['over', 'redis'].map(s => Buffer.from(s)))
  const r = await ourReader(w.key!)
  cleanups.push(() => w.close(), () => r.close())
  const sw = swarmOn(a.url)
  const sr = swarmOn(b.url)
  const warnings: Error[] = []
  for (const s of [sw, sr]) s.on('warning', (e: Error) => warnings.push(e))
  sw.on('connection', (s) => w.replicate(s))
  sr.on('connection', (s) => r.replicate(s))
  sw.join(w.discoveryKey!)
  sr.join(r.discoveryKey!)
  assert.equal(text(await r.get(1, { timeout: 20_000 })), 'redis')
  assert.equal(sw.connections.size, 1)
  assert.deepEqual(warnings.map(e => e.message), [])
  assert.equal(a.stats().memberships, 1)
  assert.equal(b.stats().memberships, 1)
  assert.equal(a.stats().redisErrors, 0)
})

test('a peer id proven again on another instance replaces the first connection (4004)', async () => {
  const prefix = `t${randomHex().slice(0, 6)}:`
  const a = await createSignalServer({ port: 0, redis: redis.url, redisPrefix: prefix })
  const b = await createSignalServer({ port: 0, redis: redis.url, redisPrefix: prefix })
  cleanups.push(() => a.close(), () => b.close())
  const id = newId()
  const first = await helloClient(a.url, id)
  const topic = randomHex()
  first.send({ type: 'join', topic })
  await first.next('peers')
  const second = await helloClient(b.url, id)
  assert.equal((await first.closed).code, 4004)
  // The room lists the id once, at its new home, to a third peer on the first instance.
  second.send({ type: 'join', topic })
  await second.next('peers')
  const third = await helloClient(a.url, newId())
  third.send({ type: 'join', topic })
  assert.deepEqual((await third.next('peers')).peers, [id])
  third.ws.close()
  second.ws.close()
})

test('behind one address, an instance killed outright drops only its clients: they reconnect to the other and meet again', async () => {
  const one = await startInstance(redis.url)
  const two = await startInstance(redis.url)
  cleanups.push(() => one.kill(), () => two.kill())
  const lb = await balancer([one.port, two.port])
  cleanups.push(() => lb.close())
  const w = await ourWriter()
  await w.append(Buffer.from('first'))
  const r = await ourReader(w.key!)
  cleanups.push(() => w.close(), () => r.close())
  const clientW = WebSocketSignaling({ url: lb.url, minBackoffMs: 100, maxBackoffMs: 300 })
  const clientR = WebSocketSignaling({ url: lb.url, minBackoffMs: 100, maxBackoffMs: 300 })
  const mk = (client: ReturnType<typeof WebSocketSignaling>): Swarm => {
    const s = new Swarm({ signaling: [client], createPeer: createTestPeer, wrtc, flushQuiet: 150, backoff: { initial: 100, max: 500 } })
    cleanups.push(() => s.destroy())
    return s
  }
  const sw = mk(clientW)
  await eventually(() => clientW.connected, 10_000, 'the writer on the first instance')
  const sr = mk(clientR)
  await eventually(() => clientR.connected, 10_000, 'the reader on the second instance')
  sw.on('connection', (s) => w.replicate(s))
  sr.on('connection', (s) => r.replicate(s))
  sw.join(w.discoveryKey!)
  sr.join(r.discoveryKey!)
  assert.equal(text(await r.get(0, { timeout: 20_000 })), 'first')

  // The writer's instance dies (round robin: the writer is on `one`).
  let lost = false
  clientW.onConnectedChange((c) => { if (!c) lost = true })
  const readerDropped = { n: 0 }
  clientR.onConnectedChange((c) => { if (!c) readerDropped.n++ })
  await one.kill()
  await eventually(() => lost, 10_000, 'the writer to notice')
  await eventually(() => clientW.connected, 10_000, 'the writer back through the other instance')
  assert.equal(readerDropped.n, 0, 'the other instance\'s client kept its connection')
  // Their WebRTC connection does not need the server; drop it so they must meet again.
  for (const s of [...sw.connections]) s.destroy()
  await eventually(() => sw.connections.size === 1 && sr.connections.size === 1, 20_000, 'a new meeting')
  await w.append(Buffer.from('second'))
  assert.equal(text(await r.get(1, { timeout: 20_000 })), 'second')
})

test('the members of a dead instance stop being listed once its liveness expires', async () => {
  // Both with the default prefix, as the child instance has it.
  const one = await startInstance(redis.url)
  cleanups.push(() => one.kill())
  const other = await createSignalServer({ port: 0, redis: redis.url })
  cleanups.push(() => other.close())
  const topic = randomHex()
  const ghostId = newId()
  const earlyId = newId()
  const ghost = await helloClient(one.url, ghostId)
  ghost.send({ type: 'join', topic })
  await ghost.next('peers')
  const early = await helloClient(other.url, earlyId)
  early.send({ type: 'join', topic })
  assert.deepEqual((await early.next('peers')).peers, [ghostId], 'listed while its instance lives')
  await one.kill()
  await new Promise(resolve => setTimeout(resolve, 11_000))
  const late = await helloClient(other.url, newId())
  late.send({ type: 'join', topic })
  assert.deepEqual((await late.next('peers')).peers, [earlyId], 'only the live one')
  early.ws.close()
  late.ws.close()
})

test('a server whose Redis cannot be reached refuses to start', async () => {
  await assert.rejects(createSignalServer({ port: 0, redis: 'redis://127.0.0.1:1' }), (e: Error & { code?: string }) => e.code === 'BAD_ARGUMENT' && /Redis/.test(e.message))
})
