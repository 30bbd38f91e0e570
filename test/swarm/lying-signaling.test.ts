/**
 * @module test/swarm/lying-signaling.test
 * A signaling server is not trusted. Three malicious servers, each for the first attempt
 * only (then honest, so we also see the swarms recover):
 * - relabel: an offer from A is delivered to B as if from C → B's Noise check refuses it;
 * - reroute: A's offer to B goes to an attacker who answers with its own key → A refuses it,
 *   and the attacker never receives a single decrypted message;
 * - man in the middle: the server splices two WebRTC connections and relays the bytes → it
 *   sees only ciphertext, and one flipped byte kills the connection (DECRYPTION_FAILED) while
 *   the reader's core keeps only verified blocks.
 */
import { afterEach, test } from 'node:test'
import assert from 'node:assert'
import { HypercoreError } from '../../src/errors.js'
import { keyPair } from '../../src/crypto/index.js'
import { SecretStream, type RawStream } from '../../src/replication/secret-stream/index.js'
import type { Swarm } from '../../src/swarm/index.js'
import type { WebRtcPeer } from '../../src/transport/types.js'
import { Room, type Msg } from './fake-signaling.js'
import { createTestPeer, live } from './test-peer.js'
import { connections, destroyAll, makeSwarm, next, ourReader, ourWriter, text, cleanup } from './helpers.js'
import { hex } from '../helpers/assert.js'

// A failed test leaves swarms behind: destroy them so the file still ends.
afterEach(cleanup)

async function writerAndReader (blocks: string[]): Promise<{ w: any, r: any, sw: Swarm, sr: Swarm, room: Room, warnings: Error[] }> {
  const room = new Room()
  const w = await ourWriter()
  await w.append(blocks.map(s => Buffer.from(s)))
  const r = await ourReader(w.key!)
  const sw = makeSwarm(room)
  const sr = makeSwarm(room)
  await Promise.all([sw.ready(), sr.ready()])
  const warnings: Error[] = []
  for (const s of [sw, sr]) s.on('warning', (e: Error) => warnings.push(e))
  sw.on('connection', (s) => w.replicate(s))
  sr.on('connection', (s) => r.replicate(s))
  return { w, r, sw, sr, room, warnings }
}

test('relabel: an offer from A delivered to B as if from C is refused after the handshake', async () => {
  const { w, r, sw, sr, room } = await writerAndReader(['one', 'two'])
  const c = keyPair() // a peer id the server claims; nobody holds it here
  const claimed = hex(c.publicKey)
  let lyingId = -1
  let lo = ''
  room.intercept = (m: Msg) => {
    if (lyingId === -1 && m.data.type === 'offer') { lyingId = m.id; lo = m.from }
    if (m.id !== lyingId) return false
    if (m.from === lo) room.deliver({ ...m, from: claimed }) // the offer and candidates, relabelled
    else room.deliver({ ...m, to: lo }) // the answer addressed to "C" goes back to the real offerer
    return true
  }
  const hi = sw.self < sr.self ? sr : sw
  const refused = next(hi, 'warning', (e: Error) => HypercoreError.is(e, 'INVALID_HANDSHAKE'))
  sw.join(w.discoveryKey!)
  sr.join(r.discoveryKey!)
  const [err] = await refused
  assert.match(err.message, new RegExp(claimed.slice(0, 16)))
  assert.ok(!hi.peers.has(claimed), 'no peer C')
  // The server turns honest after one lie: the swarms re-announce (backoff) and replicate.
  // (get() only fetches once the reader replicates somewhere: see the report on core.replicator.)
  await connections(sr, 1)
  assert.equal([...sr.peers.keys()][0], sw.self)
  assert.equal(text(await r.get(1)), 'two')
  await destroyAll(sw, sr)
  assert.equal(live.size, 0)
  await w.close(); await r.close()
})

test('reroute: an offer sent to an attacker who answers with its own key is refused; the attacker decrypts nothing', async () => {
  const { w, r, sw, sr, room } = await writerAndReader(['alpha', 'beta'])
  const attackerKp = keyPair()
  let attackPeer: WebRtcPeer | null = null
  let attackStream: SecretStream | null = null
  let lyingId = -1
  const received: Uint8Array[] = []
  let attackerConnected = false
  let rawBytes = 0
  room.intercept = (m: Msg) => {
    if (lyingId === -1 && m.data.type === 'offer') {
      lyingId = m.id
      attackPeer = createTestPeer({ initiator: false, iceServers: [] })
      attackPeer.stream.on('data', (d: any) => { rawBytes += d.byteLength })
      attackPeer.onSignal(data => room.deliver({ from: m.to, to: m.from, topic: m.topic, id: m.id, data }))
      attackStream = new SecretStream(false, attackPeer.stream as unknown as RawStream, { keyPair: attackerKp })
      attackStream.on('connect', () => { attackerConnected = true })
      attackStream.on('data', (d: any) => received.push(d))
      attackStream.on('error', () => {})
    }
    if (m.id !== lyingId) return false
    attackPeer!.signal(m.data)
    return true
  }
  const offerer = sw.self < sr.self ? sw : sr
  const refused = next(offerer, 'warning', (e: Error) => HypercoreError.is(e, 'INVALID_HANDSHAKE'))
  sw.join(w.discoveryKey!)
  sr.join(r.discoveryKey!)
  const [err] = await refused
  assert.match(err.message, new RegExp(hex(attackerKp.publicKey).slice(0, 16)))
  await connections(sr, 1)
  assert.equal([...sr.peers.keys()][0], sw.self)
  assert.equal(text(await r.get(0)), 'alpha')
  assert.equal(text(await r.get(1)), 'beta')
  const s = attackStream as SecretStream | null
  assert.ok(s !== null)
  if (!s.destroyed) await next(s, 'close')
  assert.ok(attackerConnected, 'the attacker did complete a Noise handshake (with its own key)')
  assert.equal(received.length, 0, 'not one message reached the attacker')
  assert.ok(rawBytes > 0 && rawBytes < 400, `only handshake and header frames reached the attacker (${rawBytes} bytes)`)
  assert.ok(![...offerer.peers.keys()].includes(hex(attackerKp.publicKey)))
  await destroyAll(sw, sr)
  ;(attackPeer as WebRtcPeer | null)?.destroy()
  assert.equal(live.size, 0)
  await w.close(); await r.close()
})

test('man in the middle: the relay sees only ciphertext; a flipped byte ends the connection, the core keeps verified blocks', async () => {
  const secret = 'very-secret-block-payload-'
  const { w, r, sw, sr, room } = await writerAndReader([secret + '0', secret + '1'])
  const writerToReader: Uint8Array[] = []
  const readerToWriter: Uint8Array[] = []
  let tamper = false
  let tampered = false
  const mitmPeers: WebRtcPeer[] = []
  let relayA = -1
  let relayB = -1
  room.intercept = (m: Msg) => {
    if (relayA === -1 && m.data.type === 'offer') {
      relayA = m.id
      relayB = room.nextId()
      const toOfferer = createTestPeer({ initiator: false, iceServers: [] }) // pretends to be the answerer
      const toAnswerer = createTestPeer({ initiator: true, iceServers: [] }) // pretends to be the offerer
      mitmPeers.push(toOfferer, toAnswerer)
      toOfferer.onSignal(data => room.deliver({ from: m.to, to: m.from, topic: m.topic, id: relayA, data }))
      toAnswerer.onSignal(data => room.deliver({ from: m.from, to: m.to, topic: m.topic, id: relayB, data }))
      const writerSide = m.from === sw.self ? toOfferer : toAnswerer
      const readerSide = writerSide === toOfferer ? toAnswerer : toOfferer
      writerSide.stream.on('data', (d: any) => {
        const chunk = new Uint8Array(d)
        if (tamper && !tampered && chunk.byteLength > 0) { chunk[chunk.byteLength - 1]! ^= 1; tampered = true }
        writerToReader.push(chunk)
        readerSide.stream.write(chunk)
      })
      readerSide.stream.on('data', (d: any) => { readerToWriter.push(new Uint8Array(d)); writerSide.stream.write(d) })
      for (const p of [toOfferer, toAnswerer]) {
        p.stream.on('error', () => {})
        p.stream.on('close', () => { for (const q of mitmPeers) q.destroy() })
      }
    }
    if (m.id === relayA) { mitmPeers[0]!.signal(m.data); return true }
    if (m.id === relayB) { mitmPeers[1]!.signal(m.data); return true }
    return false
  }
  const readerErrors: string[] = []
  sr.on('connection', (s) => s.on('error', (e: Error) => readerErrors.push((e as HypercoreError).code ?? e.message)))
  sw.join(w.discoveryKey!)
  sr.join(r.discoveryKey!)
  // Noise runs end to end through the relay: both see the right key, so both accept.
  const [conn] = await connections(sr, 1)
  assert.equal(hex(conn!.remotePublicKey!), sw.self)
  assert.equal(text(await r.get(1)), secret + '1')
  const seen = Buffer.concat([...writerToReader, ...readerToWriter])
  assert.ok(seen.byteLength > 100)
  assert.equal(seen.indexOf(secret), -1, 'the relay never sees a block in clear')
  assert.equal(seen.indexOf(Buffer.from(w.key!)), -1, 'nor the core key (only its discovery key and capability travel)')

  tamper = true
  const dropped = next(sr, 'disconnection')
  await w.append(Buffer.from(secret + '2')) // the announcement of block 2 crosses the relay, flipped
  await dropped
  assert.ok(tampered)
  assert.deepEqual(readerErrors, ['DECRYPTION_FAILED'])
  // The relay gave up; the swarms find each other again (directly this time) and go on.
  assert.equal(text(await r.get(2)), secret + '2')
  for (let i = 0; i < 3; i++) assert.equal(text(await r.get(i)), secret + i)
  await destroyAll(sw, sr)
  for (const p of mitmPeers) p.destroy()
  assert.equal(live.size, 0)
  await w.close(); await r.close()
})
