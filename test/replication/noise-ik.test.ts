/**
 * @module test/replication/noise-ik.test
 * The Noise IK handshake HyperDHT runs (src/replication/noise/ik.ts): interop with the reference
 * `noise-handshake` + `noise-curve-ed` in both roles with HyperDHT's prologue and non-empty
 * payloads, the same keys and hash on both ends, HyperDHT's namespace constants re-derived,
 * and refusal of tampered or misdirected messages.
 */
import { before, test } from 'node:test'
import assert from 'node:assert/strict'
// @ts-expect-error the reference ships no types
import RefNoise from 'noise-handshake'
// @ts-expect-error the reference ships no types
import refCurve from 'noise-curve-ed'
import { createRequire } from 'node:module'
import { HypercoreError } from '../../src/errors.js'
import { cryptoReady, keyPair, namespace } from '../../src/crypto/index.js'
import * as caps from '../../src/dht/constants.js'
import { NoiseIK, ikMessageLength } from '../../src/replication/noise/ik.js'

before(async () => { await cryptoReady() })

const require = createRequire(import.meta.url)
const buf = (b: Uint8Array): Buffer => Buffer.from(b)
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')
const isCode = (code: string) => (e: unknown): boolean => HypercoreError.is(e) && e.code === code

function refPeer (isInitiator: boolean, kp: { publicKey: Uint8Array, secretKey: Uint8Array }, remote: Uint8Array | null): any {
  const n = new RefNoise('IK', isInitiator, { publicKey: buf(kp.publicKey), secretKey: buf(kp.secretKey) }, { curve: refCurve })
  n.initialise(buf(caps.DHT_PEER_HANDSHAKE), remote === null ? undefined : buf(remote))
  return n
}

test('HyperDHT namespace constants are namespace("hyperswarm/dht") at its command numbers, as hyperdht has them', () => {
  const ns = namespace(caps.NAMESPACES.hyperdht.name, caps.NAMESPACES.hyperdht.count)
  assert.equal(hex(caps.DHT_PEER_HANDSHAKE), hex(ns[0]!))
  assert.equal(hex(caps.DHT_PEER_HOLEPUNCH), hex(ns[1]!))
  assert.equal(hex(caps.DHT_ANNOUNCE), hex(ns[4]!))
  assert.equal(hex(caps.DHT_UNANNOUNCE), hex(ns[5]!))
  const { NS } = require('hyperdht/lib/constants')
  assert.equal(hex(caps.DHT_PEER_HANDSHAKE), hex(NS.PEER_HANDSHAKE))
  assert.equal(hex(caps.DHT_PEER_HOLEPUNCH), hex(NS.PEER_HOLEPUNCH))
  assert.equal(hex(caps.DHT_ANNOUNCE), hex(NS.ANNOUNCE))
  assert.equal(hex(caps.DHT_UNANNOUNCE), hex(NS.UNANNOUNCE))
})

test('interop with noise-handshake IK: ours initiator ↔ reference responder and the reverse, payloads both ways', () => {
  for (let i = 0; i < 10; i++) {
    const ki = keyPair()
    const kr = keyPair()
    const p1 = new Uint8Array(i * 7).fill(1 + i)
    const p2 = new Uint8Array(i * 11 + 3).fill(2 + i)
    {
      const ours = new NoiseIK(true, ki, kr.publicKey, { prologue: caps.DHT_PEER_HANDSHAKE })
      const ref = refPeer(false, kr, null)
      const m1 = ours.send(p1)
      assert.equal(m1.byteLength, ikMessageLength(0, p1.byteLength))
      assert.equal(hex(ref.recv(buf(m1))), hex(p1))
      assert.equal(hex(ref.rs), hex(ki.publicKey))
      const m2 = ref.send(buf(p2))
      assert.equal(m2.byteLength, ikMessageLength(1, p2.byteLength))
      assert.equal(hex(ours.recv(new Uint8Array(m2))), hex(p2))
      const r = ours.result!
      assert.equal(hex(r.tx), hex(ref.rx))
      assert.equal(hex(r.rx), hex(ref.tx))
      assert.equal(hex(r.handshakeHash), hex(ref.hash))
      assert.equal(hex(r.remotePublicKey), hex(kr.publicKey))
    }
    {
      const ref = refPeer(true, ki, kr.publicKey)
      const ours = new NoiseIK(false, kr, null, { prologue: caps.DHT_PEER_HANDSHAKE })
      assert.equal(hex(ours.recv(new Uint8Array(ref.send(buf(p1))))), hex(p1))
      assert.equal(hex(ours.remotePublicKey!), hex(ki.publicKey))
      assert.equal(hex(ref.recv(buf(ours.send(p2)))), hex(p2))
      const r = ours.result!
      assert.equal(hex(r.tx), hex(ref.rx))
      assert.equal(hex(r.rx), hex(ref.tx))
      assert.equal(hex(r.handshakeHash), hex(ref.hash))
    }
  }
})

test('hyperdht\'s own NoiseWrap (payload codec included) completes with ours in both roles', () => {
  const NoiseWrap = require('hyperdht/lib/noise-wrap')
  const m = require('hyperdht/lib/messages')
  const c = require('compact-encoding')
  const payload = { version: 1, error: 0, firewall: 0, holepunch: null, addresses4: [], addresses6: [], udx: { reusableSocket: false, id: 7, seq: 0 }, secretStream: {}, relayThrough: null, relayAddresses: null }
  const ki = keyPair()
  const kr = keyPair()
  const theirs = new NoiseWrap({ publicKey: buf(kr.publicKey), secretKey: buf(kr.secretKey) }, null)
  const ours = new NoiseIK(true, ki, kr.publicKey, { prologue: caps.DHT_PEER_HANDSHAKE })
  const got = theirs.recv(buf(ours.send(c.encode(m.noisePayload, payload))))
  assert.equal(got.udx.id, 7)
  const back = c.decode(m.noisePayload, buf(ours.recv(new Uint8Array(theirs.send({ ...payload, udx: { reusableSocket: false, id: 9, seq: 0 } })))))
  assert.equal(back.udx.id, 9)
  const f = theirs.final()
  assert.equal(hex(f.hash), hex(ours.result!.handshakeHash))
  assert.equal(hex(f.tx), hex(ours.result!.rx))
})

test('a tampered message, a message for another key, or a second recv fail with INVALID_HANDSHAKE', () => {
  const ki = keyPair()
  const kr = keyPair()
  const other = keyPair()
  // for another responder: the responder cannot decrypt the initiator's static key
  const toOther = new NoiseIK(true, ki, other.publicKey, { prologue: caps.DHT_PEER_HANDSHAKE })
  const r1 = new NoiseIK(false, kr, null, { prologue: caps.DHT_PEER_HANDSHAKE })
  assert.throws(() => r1.recv(toOther.send(new Uint8Array(3))), isCode('INVALID_HANDSHAKE'))
  assert.throws(() => r1.send(), isCode('INVALID_HANDSHAKE'), 'a failed handshake stays failed')
  // a flipped bit anywhere in message 2
  for (let bit = 0; bit < 8 * 48; bit += 37) {
    const a = new NoiseIK(true, ki, kr.publicKey, { prologue: caps.DHT_PEER_HANDSHAKE })
    const b = new NoiseIK(false, kr, null, { prologue: caps.DHT_PEER_HANDSHAKE })
    b.recv(a.send())
    const m2 = b.send(new Uint8Array(0))
    m2[bit >> 3]! ^= 1 << (bit & 7)
    assert.throws(() => a.recv(m2), isCode('INVALID_HANDSHAKE'), `bit ${bit}`)
  }
  // another prologue
  const a = new NoiseIK(true, ki, kr.publicKey)
  const b = new NoiseIK(false, kr, null, { prologue: caps.DHT_PEER_HANDSHAKE })
  assert.throws(() => b.recv(a.send()), isCode('INVALID_HANDSHAKE'))
  // too short, wrong turn
  const c = new NoiseIK(false, kr, null)
  assert.throws(() => c.recv(new Uint8Array(10)), isCode('INVALID_HANDSHAKE'))
  assert.throws(() => new NoiseIK(true, ki, null), isCode('BAD_ARGUMENT'))
  assert.throws(() => new NoiseIK(false, kr, ki.publicKey), isCode('BAD_ARGUMENT'))
})
