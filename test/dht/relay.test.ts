/**
 * @module test/dht/relay.test
 * A page's side of the HyperDHT, run in Node (the Chromium run is web-test/dht.spec.ts): our
 * Swarm with `dht: { relay }` behind our signaling server's DHT relay, against hyperswarm +
 * hypercore@10 on a local testnet.
 * 1. It downloads a hypercore@10 core from a hyperswarm peer (every block verified), then the
 *    hyperswarm peer downloads a core the page wrote; a proxy recording every byte between the
 *    page and the relay finds none of the blocks' plaintext, nor any part of the page's secret key.
 * 2. A hyperswarm peer that only looks up finds the page (announced through the relay, records
 *    signed by the page) and connects to it.
 * 3. Both join as server and client and reach each other both ways: one connection each side.
 * 4. A relay that alters, drops, reorders or forges the connection's bytes: the connection ends
 *    with a typed error, nothing unverified is stored, and the download still completes once
 *    the relay is honest again.
 * 5. The relay asks the page to sign records for a topic it does not announce, or another key:
 *    refused, reported, and the page stays connected.
 * 6. The relay dies mid-download: the page moves to the second relay and finishes.
 */
import { afterEach, test } from 'node:test'
import assert from 'node:assert/strict'
import b4a from 'b4a'
import { Hypercore } from '../../src/core/hypercore.js'
import { MemoryDirectory } from '../../src/storage/memory.js'
import { Swarm } from '../../src/swarm/index.js'
import { HypercoreError } from '../../src/errors.js'
import { MSG, decodeRelayMessage, encodeMessage } from '../../src/dht/protocol.js'
import { blockBytes, mismatches } from '../../web-test/peers/blocks.js'
import { RAM, RefHypercore, contains, hyperswarm, recordingProxy, relayServer, testnet, until, type Alter } from './helpers.js'

const cleanups: Array<() => Promise<unknown>> = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => {})
})
function later<T extends { destroy?: () => Promise<unknown>, close?: () => Promise<unknown> }> (x: T): T {
  cleanups.push(async () => { await (x.destroy?.() ?? x.close?.()) })
  return x
}

async function refWriter (blocks: number, size: number): Promise<any> {
  const core = later(new RefHypercore(RAM))
  await core.ready()
  const batch = []
  for (let i = 0; i < blocks; i++) batch.push(b4a.from(blockBytes(i, size)))
  await core.append(batch)
  return core
}

/** `idleTimeout` above hyperswarm's 5 s keep-alive, or idle connections time out. */
function pageSwarm (relay: string | string[], idleTimeout?: number): { swarm: Swarm, warnings: Error[] } {
  const swarm = later(new Swarm({ dht: { relay, minBackoffMs: 100, maxBackoffMs: 500 }, flushQuiet: 300, backoff: { initial: 200, max: 1000 }, ...(idleTimeout === undefined ? {} : { idleTimeout }) }))
  const warnings: Error[] = []
  swarm.on('warning', (e: Error) => warnings.push(e))
  return { swarm, warnings }
}

async function readAll (core: Hypercore | any, n: number, timeout = 30_000): Promise<Uint8Array[]> {
  const out: Uint8Array[] = []
  for (let i = 0; i < n; i++) out.push(await core.get(i, { timeout }))
  return out
}

test('a page behind the relay downloads from a hyperswarm + hypercore@10 peer, the peer downloads what the page writes; the relay sees no plaintext', async () => {
  const net = later(await testnet())
  const server = later(await relayServer(net))
  const proxy = later(await recordingProxy(server.dhtRelayUrl))
  const blocks = 128
  const size = 16 * 1024
  const ref = await refWriter(blocks, size)
  const hs = later(hyperswarm(net))
  hs.on('connection', (c: any) => ref.replicate(c))
  await hs.join(ref.discoveryKey, { server: true, client: false }).flushed()

  const { swarm, warnings } = pageSwarm(proxy.url)
  const reader = later(new Hypercore(new MemoryDirectory(), ref.key))
  const mine = later(new Hypercore(new MemoryDirectory()))
  await mine.ready()
  const own: Uint8Array[] = []
  for (let i = 0; i < 32; i++) own.push(blockBytes(1000 + i, 4096))
  await mine.append(own)
  swarm.on('connection', (s) => { reader.replicate(s); mine.replicate(s) })
  await reader.ready()
  const done = reader.findingPeers()
  swarm.join(reader.discoveryKey!, { server: false, client: true })
  swarm.flush().then(done, done)
  const got = await readAll(reader, blocks)
  assert.deepEqual(mismatches(got, size), [])
  assert.equal(swarm.connections.size, 1)

  // The other way: the hyperswarm peer reads the core the page wrote, over the same connection.
  const copy = later(new RefHypercore(RAM, mine.key))
  hs.on('connection', (c: any) => copy.replicate(c))
  for (const c of hs.connections) copy.replicate(c)
  const back = await readAll(copy, own.length)
  back.forEach((b, i) => assert.ok(b4a.equals(b, own[i]!), `page block ${i}`))

  // Every byte between page and relay: no block's plaintext, either way.
  const all = [...proxy.down, ...proxy.up]
  assert.ok(all.reduce((n, m) => n + m.byteLength, 0) > blocks * size, 'the transfer went through the proxy')
  for (let i = 0; i < blocks; i += 7) assert.equal(contains(all, blockBytes(i, size).subarray(100, 132)), false, `block ${i} in clear`)
  for (let i = 0; i < own.length; i++) assert.equal(contains(all, own[i]!.subarray(100, 132)), false, `page block ${i} in clear`)
  // Nor the page's secret key: its seed half, any 16 bytes of it (the other half is the public key).
  const seed = swarm.keyPair!.secretKey.subarray(0, 32)
  for (let off = 0; off <= 16; off += 8) assert.equal(contains(proxy.up, seed.subarray(off, off + 16)), false, `secret key bytes ${off}…`)
  assert.deepEqual(warnings.filter(w => !HypercoreError.is(w, 'CONNECTION_CLOSED')).map(w => w.message), [])
})

test('a hyperswarm peer that only looks up finds the page (its records signed by the page) and connects', async () => {
  const net = later(await testnet())
  const server = later(await relayServer(net))
  const { swarm } = pageSwarm(server.dhtRelayUrl)
  const mine = later(new Hypercore(new MemoryDirectory()))
  await mine.append([b4a.from('hello'), b4a.from('from the page')])
  swarm.on('connection', (s, info) => { assert.equal(info.initiator, false); mine.replicate(s) })
  swarm.join(mine.discoveryKey!, { server: true, client: false })
  await swarm.flush()
  const hs = later(hyperswarm(net))
  const copy = later(new RefHypercore(RAM, mine.key))
  hs.on('connection', (c: any) => copy.replicate(c))
  hs.join(mine.discoveryKey, { server: false, client: true })
  assert.equal(b4a.toString(await copy.get(1, { timeout: 30_000 })), 'from the page')
  assert.equal(swarm.connections.size, 1)
})

test('page and hyperswarm peer both server and client: they reach each other both ways and keep one connection', async () => {
  const net = later(await testnet())
  const server = later(await relayServer(net))
  const topic = b4a.alloc(32, 3)
  for (let round = 0; round < 3; round++) {
    const { swarm } = pageSwarm(server.dhtRelayUrl)
    const hs = later(hyperswarm(net))
    const opened = { page: 0, hs: 0 }
    swarm.on('connection', () => { opened.page++ })
    hs.on('connection', (c: any) => { opened.hs++; c.on('error', () => {}) })
    hs.join(topic)
    swarm.join(topic)
    await until(() => swarm.connections.size === 1 && hs.connections.size === 1, 30_000, 'a connection each side')
    await new Promise(resolve => setTimeout(resolve, 1500))
    assert.equal(swarm.connections.size, 1, `round ${round}: page`)
    assert.equal(hs.connections.size, 1, `round ${round}: hyperswarm`)
    const [conn] = [...swarm.connections]
    const [theirs] = [...hs.connections]
    assert.ok(b4a.equals(conn!.handshakeHash!, theirs.handshakeHash), 'the same connection at both ends')
    await swarm.destroy()
    await hs.destroy()
  }
})

/** A relay that lies about one DATA message of a live connection, once, after `skip` of them. */
function lieOnce (kind: 'flip' | 'drop' | 'reorder' | 'forge' | 'forge-length', skip: number): Alter {
  let seen = 0
  let held: Uint8Array | null = null
  let done = false
  return (bytes) => {
    if (done) return [bytes]
    let msg
    try { msg = decodeRelayMessage(bytes) } catch { return [bytes] }
    if (msg.type !== MSG.DATA || msg.data.byteLength < 64 || seen++ < skip) return [bytes]
    if (kind === 'reorder') {
      if (held === null) { held = bytes; return [] }
      done = true
      return [bytes, held]
    }
    done = true
    if (kind === 'drop') return []
    // A frame of its own (uint24 length, then 197 bytes), or a frame header announcing 4 MiB
    // that the peer's bytes then fill, so no real message completes for a long while.
    if (kind === 'forge') return [encodeMessage({ type: MSG.DATA, stream: msg.stream, data: new Uint8Array([197, 0, 0, ...new Uint8Array(197).fill(0x42)]) }), bytes]
    if (kind === 'forge-length') return [encodeMessage({ type: MSG.DATA, stream: msg.stream, data: new Uint8Array([0, 0, 0x40]) }), bytes]
    const data = msg.data.slice()
    data[data.byteLength >> 1] ^= 0x10
    return [encodeMessage({ type: MSG.DATA, stream: msg.stream, data })]
  }
}

const LIES = { flip: 'flips a bit of', drop: 'drops a message of', reorder: 'swaps two messages of', forge: 'injects a forged frame into', 'forge-length': 'injects a forged 4 MiB frame length into' } as const
for (const kind of Object.keys(LIES) as Array<keyof typeof LIES>) {
  test(`a relay that ${LIES[kind]} a connection: a typed error ends it, nothing unverified is stored, the download completes`, async () => {
    const net = later(await testnet())
    const server = later(await relayServer(net))
    const proxy = later(await recordingProxy(server.dhtRelayUrl, lieOnce(kind, 20)))
    const blocks = 96
    const size = 16 * 1024
    const ref = await refWriter(blocks, size)
    const hs = later(hyperswarm(net))
    hs.on('connection', (c: any) => { c.on('error', () => {}); ref.replicate(c) })
    await hs.join(ref.discoveryKey, { server: true, client: true }).flushed()
    const { swarm } = pageSwarm(proxy.url, 8000)
    const reader = later(new Hypercore(new MemoryDirectory(), ref.key))
    const errors: Error[] = []
    swarm.on('connection', (s) => {
      s.on('error', (e: Error) => errors.push(e))
      reader.replicate(s)
    })
    await reader.ready()
    swarm.join(reader.discoveryKey!, { server: false, client: true })
    // A stall is noticed after 8 to 16 s (the idle timeout's clock ticks once per period).
    const got = await readAll(reader, blocks, 60_000)
    assert.deepEqual(mismatches(got, size), [], 'every stored block is the writer\'s')
    assert.ok(errors.length >= 1, 'the lie ended a connection')
    for (const e of errors) assert.ok(HypercoreError.is(e), `typed: ${e.message}`)
    // A message held back or dropped at the end of a burst leaves nothing after it to fail
    // authentication: the stream then times out. So does a forged frame length, unless the
    // relay's next bytes complete a frame early, which then fails authentication.
    const authentication = ['DECRYPTION_FAILED', 'INVALID_HANDSHAKE', 'FRAME_TOO_LARGE', 'DECODING_ERROR', 'PROTOCOL_ERROR']
    const expected = kind === 'forge-length' || kind === 'drop' || kind === 'reorder' ? [...authentication, 'REQUEST_TIMEOUT'] : authentication
    assert.ok(errors.some(e => expected.includes((e as HypercoreError).code)), errors.map(e => (e as HypercoreError).code).join())
  })
}

test('the page refuses to sign records for a topic it does not announce or for another key, and stays connected', async () => {
  const net = later(await testnet())
  const server = later(await relayServer(net))
  const foreign = b4a.alloc(32, 9)
  let injected = false
  // A relay that slips a request of its own before the first genuine SIGN.
  const proxy = later(await recordingProxy(server.dhtRelayUrl, (bytes) => {
    let msg
    try { msg = decodeRelayMessage(bytes) } catch { return [bytes] }
    if (msg.type !== MSG.SIGN || injected) return [bytes]
    injected = true
    const otherKey = new Uint8Array(msg.peer)
    otherKey[0]! ^= 1
    return [
      encodeMessage({ ...msg, id: 1e6, target: foreign }),
      encodeMessage({ ...msg, id: 1e6 + 1, peer: otherKey }),
      bytes
    ]
  }))
  const { swarm, warnings } = pageSwarm(proxy.url)
  swarm.join(b4a.alloc(32, 4), { server: true, client: false })
  await swarm.flush()
  assert.ok(injected)
  const refused = warnings.filter(w => /not ours to sign/.test(w.message))
  assert.equal(refused.length, 2, warnings.map(w => w.message).join('\n'))
  // The relay got empty signatures for both (and our real ones for the rest).
  const answers = proxy.up.map(m => m[0] === MSG.SIGNATURE ? m : null).filter((m): m is Uint8Array => m !== null)
  assert.ok(answers.length > 2)
})

test('the relay dies mid-download: the page moves to the second relay and finishes', async () => {
  const net = later(await testnet())
  const first = await relayServer(net)
  const second = later(await relayServer(net))
  const blocks = 400
  const size = 16 * 1024
  const ref = await refWriter(blocks, size)
  const hs = later(hyperswarm(net))
  hs.on('connection', (c: any) => { c.on('error', () => {}); ref.replicate(c) })
  await hs.join(ref.discoveryKey, { server: true, client: true }).flushed()
  const { swarm } = pageSwarm([first.dhtRelayUrl, second.dhtRelayUrl])
  const reader = later(new Hypercore(new MemoryDirectory(), ref.key))
  swarm.on('connection', (s) => { s.on('error', () => {}); reader.replicate(s) })
  await reader.ready()
  swarm.join(reader.discoveryKey!, { server: false, client: true })
  const dl = reader.download({ start: 0, end: blocks })
  await until(() => reader.contiguousLength > blocks / 4, 30_000, 'a quarter downloaded')
  assert.ok(reader.contiguousLength < blocks, 'still downloading when the relay dies')
  await first.close()
  await dl.done()
  const got = await readAll(reader, blocks)
  assert.deepEqual(mismatches(got, size), [])
})
