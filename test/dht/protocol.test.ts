/**
 * @module test/dht/protocol.test
 * The page ↔ relay messages (src/dht/protocol.ts) and what the page signs and derives
 * (src/dht/auth.ts): every message round-trips, a message for the other direction or with
 * trailing bytes is refused, random bytes never throw anything but DECODING_ERROR; the
 * announce signable is the one hyperdht signs (captured through its `keyPair.sign` hook), the
 * holepunch secret the one its NoiseWrap derives, and a peer record naming another key is
 * recognised as not ours.
 */
import { before, test } from 'node:test'
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import c from 'compact-encoding'
import { cryptoReady, keyPair, namespace } from '../../src/crypto/index.js'
import { DHT_RELAY_HELLO, NAMESPACES } from '../../src/dht/constants.js'
import { HypercoreError } from '../../src/errors.js'
import { MSG, SIGN_ANNOUNCE, SIGN_UNANNOUNCE, decodePageMessage, decodeRelayMessage, encodeMessage, type PageMessage, type RelayMessage } from '../../src/dht/protocol.js'
import { announceSignable, holepunchSecret, isOwnRecord, peerRecordKey } from '../../src/dht/auth.js'
import { prng } from '../replication/secret-stream-helpers.js'

before(() => cryptoReady())
const require = createRequire(import.meta.url)
const bytes = (n: number, fill = 7): Uint8Array => new Uint8Array(n).fill(fill)
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')

const PAGE: PageMessage[] = [
  { type: MSG.HELLO, publicKey: bytes(32), signature: bytes(64) },
  { type: MSG.JOIN, topic: bytes(32), flags: 3 },
  { type: MSG.LEAVE, topic: bytes(32) },
  { type: MSG.REFRESH, topic: bytes(32) },
  { type: MSG.SIGNATURE, id: 300, signature: bytes(64) },
  { type: MSG.CONNECT, stream: 1e6, publicKey: bytes(32) },
  { type: MSG.NOISE, stream: 2, message: bytes(120), holepunchSecret: new Uint8Array(0) },
  { type: MSG.PAYLOAD, stream: 3, payload: bytes(60), publicKey: bytes(32), holepunchSecret: bytes(32) },
  { type: MSG.DATA, stream: 4, data: bytes(60 * 1024) },
  { type: MSG.END, stream: 5 },
  { type: MSG.CLOSE, stream: 6, reason: 'bye' }
]
const RELAY: RelayMessage[] = [
  { type: MSG.CHALLENGE, nonce: bytes(32) },
  { type: MSG.WELCOME, maxMessageBytes: 65536, maxStreams: 64, maxTopics: 64 },
  { type: MSG.PEER, topic: bytes(32), publicKey: bytes(32) },
  { type: MSG.LOOKUP_DONE, topic: bytes(32), error: '' },
  { type: MSG.SIGN, id: 1, kind: SIGN_ANNOUNCE, target: bytes(32), nodeId: bytes(32), token: bytes(32), peer: bytes(39), refresh: new Uint8Array(0) },
  { type: MSG.NOISE_SEND, stream: 0, payload: bytes(50) },
  { type: MSG.NOISE_RECV, stream: 1, message: bytes(130) },
  { type: MSG.OPEN, stream: 9 },
  { type: MSG.DATA, stream: 9, data: new Uint8Array(0) },
  { type: MSG.CLOSE, stream: 9, reason: 'PEER_NOT_FOUND' }
]

const plain = (m: object): unknown => JSON.parse(JSON.stringify(m, (_k, v) => v instanceof Uint8Array ? hex(v) : v))

test('every message round-trips in its direction and is refused in the other', () => {
  for (const m of PAGE) {
    assert.deepEqual(plain(decodePageMessage(encodeMessage(m))), plain(m))
    if (m.type < 32) assert.throws(() => decodeRelayMessage(encodeMessage(m)), (e: unknown) => HypercoreError.is(e, 'DECODING_ERROR'))
  }
  for (const m of RELAY) {
    assert.deepEqual(plain(decodeRelayMessage(encodeMessage(m))), plain(m))
    if (m.type < 32) assert.throws(() => decodePageMessage(encodeMessage(m)), (e: unknown) => HypercoreError.is(e, 'DECODING_ERROR'))
  }
  const withTrailer = new Uint8Array([...encodeMessage({ type: MSG.LEAVE, topic: bytes(32) }), 0])
  assert.throws(() => decodePageMessage(withTrailer), (e: unknown) => HypercoreError.is(e, 'DECODING_ERROR'))
})

test('random and truncated bytes fail with DECODING_ERROR only', () => {
  const r = prng(42)
  const rand = (): number => r.u32() / 2 ** 32
  const all = [...PAGE, ...RELAY].map(encodeMessage)
  for (let i = 0; i < 5000; i++) {
    let buf: Uint8Array
    if (i % 2 === 0) {
      buf = new Uint8Array(Math.floor(rand() * 80))
      for (let j = 0; j < buf.length; j++) buf[j] = Math.floor(rand() * 256)
    } else {
      const m = all[i % all.length]!
      buf = m.slice(0, Math.floor(rand() * m.length))
      if (buf.length > 0 && rand() < 0.5) buf[Math.floor(rand() * buf.length)]! ^= 0xff
    }
    for (const decode of [decodePageMessage, decodeRelayMessage]) {
      try { decode(buf) } catch (e) { assert.ok(HypercoreError.is(e, 'DECODING_ERROR'), String(e)) }
    }
  }
})

test('the announce and unannounce signables are the ones hyperdht signs', async () => {
  const Persistent = require('hyperdht/lib/persistent')
  const m = require('hyperdht/lib/messages')
  const kp = keyPair()
  const target = bytes(32, 1)
  const token = bytes(32, 2)
  const nodeId = bytes(32, 3)
  for (const refresh of [null, bytes(32, 4)]) {
    const ann = { peer: { publicKey: Buffer.from(kp.publicKey), relayAddresses: [{ host: '127.0.0.1', port: 49737 }] }, refresh }
    let captured: Uint8Array | null = null
    const capture = { publicKey: kp.publicKey, sign: (s: Uint8Array) => { captured = s; return bytes(64) } }
    await Persistent.signAnnounce(Buffer.from(target), Buffer.from(token), Buffer.from(nodeId), ann, capture)
    const peer = c.encode(m.peer, ann.peer)
    assert.equal(hex(announceSignable(SIGN_ANNOUNCE, target, nodeId, token, peer, refresh ?? new Uint8Array(0))), hex(captured!))
    await Persistent.signUnannounce(Buffer.from(target), Buffer.from(token), Buffer.from(nodeId), ann, capture)
    assert.equal(hex(announceSignable(SIGN_UNANNOUNCE, target, nodeId, token, peer, refresh ?? new Uint8Array(0))), hex(captured!))
    assert.equal(hex(peerRecordKey(peer)), hex(kp.publicKey))
    assert.ok(isOwnRecord(peer, kp.publicKey))
    assert.ok(!isOwnRecord(peer, keyPair().publicKey))
    assert.ok(!isOwnRecord(new Uint8Array([...peer, 0]), kp.publicKey), 'trailing bytes')
  }
})

test('the relay hello prefix is namespace("hypercore-web/dht-relay", 1)[0]', () => {
  assert.equal(hex(DHT_RELAY_HELLO), hex(namespace(NAMESPACES.dhtRelay.name, NAMESPACES.dhtRelay.count)[0]!))
})

test('the holepunch secret is the one hyperdht derives from the handshake', () => {
  const NoiseWrap = require('hyperdht/lib/noise-wrap')
  const a = keyPair()
  const b = keyPair()
  const payload = { version: 1, error: 0, firewall: 0, holepunch: null, addresses4: [], addresses6: [], udx: { reusableSocket: false, id: 1, seq: 0 }, secretStream: {}, relayThrough: null, relayAddresses: null }
  const init = new NoiseWrap({ publicKey: Buffer.from(a.publicKey), secretKey: Buffer.from(a.secretKey) }, Buffer.from(b.publicKey))
  const resp = new NoiseWrap({ publicKey: Buffer.from(b.publicKey), secretKey: Buffer.from(b.secretKey) }, null)
  resp.recv(init.send(payload))
  init.recv(resp.send(payload))
  const f = init.final()
  assert.equal(hex(holepunchSecret(f.hash)), hex(f.holepunchSecret))
})
