/**
 * @module test/dht/relay-limits.test
 * The DHT relay endpoint under bad input, while an honest page downloads through the same
 * relay from a hyperswarm peer: junk frames, text, an oversized message, a message before the
 * hello, a hello that does not verify, a flood, too many topics, too many connections,
 * unasked answers, a full relay. Each offender is closed with its code; the honest page's
 * download completes, and the relay forgets the offenders.
 */
import { afterEach, before, test } from 'node:test'
import assert from 'node:assert/strict'
import b4a from 'b4a'
import { WebSocket } from 'ws'
import { cryptoReady, keyPair, sign } from '../../src/crypto/index.js'
import { Hypercore } from '../../src/core/hypercore.js'
import { MemoryDirectory } from '../../src/storage/memory.js'
import { Swarm } from '../../src/swarm/index.js'
import { relayHelloSignable } from '../../src/dht/auth.js'
import { MSG, RELAY_CLOSE, decodeRelayMessage, encodeMessage, type PageMessage, type RelayMessage } from '../../src/dht/protocol.js'
import { blockBytes, mismatches } from '../../web-test/peers/blocks.js'
import { RAM, RefHypercore, hyperswarm, relayServer, testnet, until } from './helpers.js'

before(() => cryptoReady())
const cleanups: Array<() => Promise<unknown>> = []
afterEach(async () => { for (const c of cleanups.splice(0).reverse()) await c().catch(() => {}) })

interface RawPage {
  ws: WebSocket
  received: RelayMessage[]
  closed: Promise<number>
  send (msg: PageMessage | Uint8Array | string): void
}

/** A hand-driven page: answers the challenge unless `hello` is false. */
async function rawPage (url: string, hello = true, tamperHello = false): Promise<RawPage> {
  const ws = new WebSocket(url)
  const received: RelayMessage[] = []
  const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)))
  const kp = keyPair()
  const host = new URL(url).host
  const welcomed = new Promise<void>((resolve) => {
    ws.on('message', (data: Buffer) => {
      const msg = decodeRelayMessage(new Uint8Array(data))
      received.push(msg)
      if (msg.type === MSG.CHALLENGE && hello) {
        const signature = sign(relayHelloSignable(msg.nonce, kp.publicKey, tamperHello ? 'elsewhere:1' : host), kp.secretKey)
        ws.send(encodeMessage({ type: MSG.HELLO, publicKey: kp.publicKey, signature }))
      }
      if (msg.type === MSG.WELCOME || (msg.type === MSG.CHALLENGE && !hello)) resolve()
    })
    ws.on('close', () => resolve())
  })
  ws.on('error', () => {})
  await welcomed
  return {
    ws,
    received,
    closed,
    send (msg) {
      if (ws.readyState !== WebSocket.OPEN) return
      ws.send(typeof msg === 'string' ? msg : msg instanceof Uint8Array ? msg : encodeMessage(msg))
    }
  }
}

test('junk, floods and broken rules close only the offending page; an honest page keeps downloading', async () => {
  const net = await testnet()
  cleanups.push(() => net.destroy())
  const server = await relayServer(net, { maxStreams: 4, maxTopics: 3 })
  cleanups.push(() => server.close())
  const url = server.dhtRelayUrl

  // An honest page downloading from a hyperswarm peer.
  const blocks = 256
  const size = 16 * 1024
  const ref = new RefHypercore(RAM)
  await ref.append(Array.from({ length: blocks }, (_, i) => b4a.from(blockBytes(i, size))))
  const hs = hyperswarm(net)
  cleanups.push(() => hs.destroy())
  hs.on('connection', (c: any) => { c.on('error', () => {}); ref.replicate(c) })
  await hs.join(ref.discoveryKey, { server: true, client: false }).flushed()
  const swarm = new Swarm({ dht: { relay: url } })
  cleanups.push(() => swarm.destroy())
  const reader = new Hypercore(new MemoryDirectory(), ref.key)
  cleanups.push(() => reader.close())
  swarm.on('connection', (s) => reader.replicate(s))
  await reader.ready()
  swarm.join(reader.discoveryKey!, { server: false, client: true })
  const download = reader.download({ start: 0, end: blocks })
  await until(() => reader.contiguousLength > 0, 30_000, 'the honest download to start')

  const cases: Array<[string, () => Promise<number>, number]> = [
    ['a junk frame', async () => { const p = await rawPage(url); p.send(new Uint8Array([0xff, 0xff, 0xff, 1, 2])); return await p.closed }, RELAY_CLOSE.BAD_MESSAGE],
    ['a text message', async () => { const p = await rawPage(url); p.send('{"type":"join"}'); return await p.closed }, RELAY_CLOSE.BAD_MESSAGE],
    ['a relay-to-page message', async () => { const p = await rawPage(url); p.send(encodeMessage({ type: MSG.OPEN, stream: 1 })); return await p.closed }, RELAY_CLOSE.BAD_MESSAGE],
    ['a 100 KiB message', async () => { const p = await rawPage(url); p.send(new Uint8Array(100 * 1024)); return await p.closed }, RELAY_CLOSE.MESSAGE_TOO_BIG],
    ['a join before the hello', async () => { const p = await rawPage(url, false); p.send({ type: MSG.JOIN, topic: new Uint8Array(32), flags: 3 }); return await p.closed }, RELAY_CLOSE.HELLO_REQUIRED],
    ['a hello signed for another host', async () => { const p = await rawPage(url, true, true); return await p.closed }, RELAY_CLOSE.AUTH_FAILED],
    ['a flood of refreshes', async () => { const p = await rawPage(url); for (let i = 0; i < 300; i++) p.send({ type: MSG.REFRESH, topic: new Uint8Array(32) }); return await p.closed }, RELAY_CLOSE.RATE_LIMITED],
    ['too many topics', async () => { const p = await rawPage(url); for (let i = 0; i < 4; i++) p.send({ type: MSG.JOIN, topic: new Uint8Array(32).fill(i + 1), flags: 2 }); return await p.closed }, RELAY_CLOSE.TOO_MANY_TOPICS],
    ['too many connections', async () => { const p = await rawPage(url); for (let i = 0; i < 5; i++) p.send({ type: MSG.CONNECT, stream: 2 * i, publicKey: keyPair().publicKey }); return await p.closed }, RELAY_CLOSE.TOO_MANY_STREAMS],
    ['an odd stream id', async () => { const p = await rawPage(url); p.send({ type: MSG.CONNECT, stream: 7, publicKey: keyPair().publicKey }); return await p.closed }, RELAY_CLOSE.BAD_MESSAGE],
    ['an unasked signature', async () => { const p = await rawPage(url); p.send({ type: MSG.SIGNATURE, id: 99, signature: new Uint8Array(64) }); return await p.closed }, RELAY_CLOSE.BAD_MESSAGE]
  ]
  for (const [what, run, code] of cases) {
    assert.equal(await run(), code, what)
  }
  // Junk at full speed from several pages at once, while the download goes on.
  const noisy = await Promise.all([0, 1, 2].map(() => rawPage(url)))
  for (const p of noisy) for (let i = 0; i < 50; i++) p.send(new Uint8Array(1 + (i % 30)).fill(i))
  for (const p of noisy) assert.equal(await p.closed, RELAY_CLOSE.BAD_MESSAGE)

  await download.done()
  const got: Uint8Array[] = []
  for (let i = 0; i < blocks; i++) got.push(await reader.get(i) as Uint8Array)
  assert.deepEqual(mismatches(got, size), [])
  // Still the same live connection: a block appended now arrives through it.
  const connection = [...swarm.connections][0]
  await ref.append(b4a.from(blockBytes(blocks, size)))
  assert.deepEqual(mismatches([...got, await reader.get(blocks, { timeout: 10_000 }) as Uint8Array], size), [])
  assert.equal([...swarm.connections][0], connection)
  await until(() => server.stats().dhtRelay!.pages === 1, 5000, 'the offenders forgotten')
  assert.equal(server.stats().dhtRelay!.pages, 1)
})

test('a full relay refuses a page with 4003; a page that does not answer the challenge is closed with 4001', async () => {
  const net = await testnet()
  cleanups.push(() => net.destroy())
  const server = await relayServer(net, { maxConnections: 1, helloTimeoutMs: 300 })
  cleanups.push(() => server.close())
  const first = await rawPage(server.dhtRelayUrl)
  const second = await rawPage(server.dhtRelayUrl, false)
  assert.equal(await second.closed, RELAY_CLOSE.SERVER_FULL)
  first.ws.close()
  await first.closed
  await until(() => server.stats().dhtRelay!.pages === 0, 5000, 'the first page gone')
  const silent = await rawPage(server.dhtRelayUrl, false)
  assert.equal(await silent.closed, RELAY_CLOSE.HELLO_REQUIRED)
})

test('the same key connecting again replaces the old connection (4004), whose DHT server is closed first', async () => {
  const net = await testnet()
  cleanups.push(() => net.destroy())
  const server = await relayServer(net)
  cleanups.push(() => server.close())
  const kp = keyPair()
  const topic = b4a.alloc(32, 5)
  const swarmA = new Swarm({ keyPair: kp, dht: { relay: server.dhtRelayUrl } })
  cleanups.push(() => swarmA.destroy())
  swarmA.join(topic, { server: true, client: false })
  await swarmA.flush()
  const warningsA: Error[] = []
  swarmA.on('warning', (e: Error) => warningsA.push(e))
  // A second page with the same key (the same page reloaded, its old socket not noticed dead).
  const swarmB = new Swarm({ keyPair: kp, dht: { relay: server.dhtRelayUrl } })
  cleanups.push(() => swarmB.destroy())
  swarmB.join(topic, { server: true, client: false })
  await swarmB.flush()
  await until(() => warningsA.some(w => /connected again elsewhere/.test(w.message)), 10_000, 'A replaced')
  // A hyperswarm client still reaches the key (now through B's listening server).
  const hs = hyperswarm(net)
  cleanups.push(() => hs.destroy())
  let connected = 0
  swarmB.on('connection', () => { connected++ })
  hs.on('connection', (c: any) => c.on('error', () => {}))
  hs.join(topic, { server: false, client: true })
  await until(() => connected === 1, 30_000, 'B reached')
})
