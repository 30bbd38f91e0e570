/**
 * @module test/replication/noise.test
 * The Noise XX handshake (spec §5.3) beyond the transcript (which secret-stream-suite.ts
 * checks): interop with the reference `noise-handshake` + `noise-curve-ed` as a black box in
 * both roles, message sizes, refusal of bad points and tampered messages, state errors, and a
 * bounded fuzz of the handshake reader where nothing but HypercoreError escapes.
 */
import { before, test } from 'node:test'
import assert from 'node:assert/strict'
// @ts-expect-error the reference ships no types
import RefNoise from 'noise-handshake'
// @ts-expect-error the reference ships no types
import refCurve from 'noise-curve-ed'
import { HypercoreError } from '../../src/errors.js'
import { cryptoReady, keyPair } from '../../src/crypto/index.js'
import { NoiseHandshake, dh, hkdf, hmac, messageLength } from '../../src/replication/noise/index.js'
import { prng } from './secret-stream-helpers.js'

before(async () => { await cryptoReady() })

const buf = (b: Uint8Array): Buffer => Buffer.from(b)
const isCode = (code: string) => (e: unknown): boolean => HypercoreError.is(e) && e.code === code
const EMPTY = Buffer.alloc(0)

function refPeer (isInitiator: boolean, kp: { publicKey: Uint8Array, secretKey: Uint8Array }): any {
  const n = new RefNoise('XX', isInitiator, { publicKey: buf(kp.publicKey), secretKey: buf(kp.secretKey) }, { curve: refCurve })
  n.initialise(EMPTY)
  return n
}

test('interop with noise-handshake (Ed25519 curve): ours initiator ↔ reference responder and the reverse, 20 random key sets', () => {
  for (let i = 0; i < 20; i++) {
    const ki = keyPair()
    const kr = keyPair()
    // ours initiator
    {
      const ours = new NoiseHandshake(true, ki)
      const ref = refPeer(false, kr)
      ref.recv(buf(ours.send()))
      ours.recv(new Uint8Array(ref.send()))
      ref.recv(buf(ours.send()))
      assert.ok(ours.complete && ref.complete)
      assert.deepEqual(buf(ours.result!.handshakeHash), ref.hash)
      assert.deepEqual(buf(ours.result!.tx), ref.rx, 'initiator tx = responder rx (reference naming: rx is the receive key)')
      assert.deepEqual(buf(ours.result!.rx), ref.tx)
      assert.deepEqual(buf(ours.result!.remotePublicKey), buf(kr.publicKey))
      assert.deepEqual(ref.rs, buf(ki.publicKey))
    }
    // reference initiator
    {
      const ref = refPeer(true, ki)
      const ours = new NoiseHandshake(false, kr)
      ours.recv(new Uint8Array(ref.send()))
      ref.recv(buf(ours.send()))
      ours.recv(new Uint8Array(ref.send()))
      assert.ok(ours.complete && ref.complete)
      assert.deepEqual(buf(ours.result!.handshakeHash), ref.hash)
      assert.deepEqual(buf(ours.result!.remotePublicKey), buf(ki.publicKey))
      assert.deepEqual([buf(ours.result!.tx), buf(ours.result!.rx)].map((b) => b.toString('hex')).sort(), [ref.tx, ref.rx].map((b: Buffer) => b.toString('hex')).sort())
    }
  }
})

test('message sizes are 32, 96 and 64 with empty payloads; payloads are carried and authenticated', () => {
  assert.deepEqual([0, 1, 2].map((i) => messageLength(i)), [32, 96, 64])
  const i = new NoiseHandshake(true, keyPair())
  const r = new NoiseHandshake(false, keyPair())
  const m1 = i.send(new Uint8Array([1]))
  assert.equal(m1.length, 33)
  assert.deepEqual([...r.recv(m1)], [1])
  const m2 = r.send(new Uint8Array([2, 2]))
  assert.equal(m2.length, 98)
  assert.deepEqual([...i.recv(m2)], [2, 2])
  const m3 = i.send(new Uint8Array(0))
  assert.equal(m3.length, 64)
  assert.deepEqual([...r.recv(m3)], [])
  assert.deepEqual(i.result!.handshakeHash, r.result!.handshakeHash)
})

test('DH refuses the identity, small-order and non-canonical points with INVALID_HANDSHAKE', () => {
  const sk = keyPair().secretKey
  const identity = new Uint8Array(32); identity[0] = 1
  const zero = new Uint8Array(32) // (0, ±1)-like small-order encodings
  const nonCanonical = new Uint8Array(32).fill(0xff); nonCanonical[31] = 0x7f // y ≥ p
  for (const p of [identity, zero, nonCanonical]) assert.throws(() => dh(sk, p), isCode('INVALID_HANDSHAKE'))
  assert.throws(() => dh(sk, new Uint8Array(31)), isCode('INVALID_HANDSHAKE'))
  // DH is symmetric for honest keys.
  const a = keyPair()
  const b = keyPair()
  assert.deepEqual(dh(a.secretKey, b.publicKey), dh(b.secretKey, a.publicKey))
})

test('an invalid ephemeral in msg1 fails the responder at its reply; a bad point in msg2 fails the initiator', () => {
  const r = new NoiseHandshake(false, keyPair())
  r.recv(new Uint8Array(32)) // any 32 bytes are a syntactically valid msg1
  assert.throws(() => r.send(), isCode('INVALID_HANDSHAKE'))
  const i = new NoiseHandshake(true, keyPair())
  i.send()
  assert.throws(() => i.recv(new Uint8Array(96)), isCode('INVALID_HANDSHAKE'))
  assert.throws(() => i.send(), isCode('INVALID_HANDSHAKE'), 'failed handshakes stay failed')
})

test('a flipped bit anywhere in msg2 or msg3 is refused; short messages are refused; turns are enforced', () => {
  const run = (flip: { msg: 2 | 3, at: number } | null): void => {
    const i = new NoiseHandshake(true, keyPair())
    const r = new NoiseHandshake(false, keyPair())
    r.recv(i.send())
    const m2 = r.send()
    if (flip?.msg === 2) { m2[flip.at]! ^= 1; assert.throws(() => i.recv(m2), isCode('INVALID_HANDSHAKE'), `msg2[${flip.at}]`); return }
    i.recv(m2)
    const m3 = i.send()
    if (flip?.msg === 3) { m3[flip.at]! ^= 1; assert.throws(() => r.recv(m3), isCode('INVALID_HANDSHAKE'), `msg3[${flip.at}]`); return }
    r.recv(m3)
  }
  run(null)
  for (let at = 0; at < 96; at++) run({ msg: 2, at })
  for (let at = 0; at < 64; at++) run({ msg: 3, at })
  const i = new NoiseHandshake(true, keyPair())
  assert.throws(() => i.recv(new Uint8Array(32)), isCode('INVALID_HANDSHAKE'), 'initiator cannot receive first')
  const r = new NoiseHandshake(false, keyPair())
  assert.throws(() => r.send(), isCode('INVALID_OPERATION'), 'responder cannot send first')
  assert.throws(() => r.recv(new Uint8Array(31)), isCode('INVALID_HANDSHAKE'))
  assert.throws(() => new NoiseHandshake(true, { publicKey: new Uint8Array(32), secretKey: new Uint8Array(10) }), isCode('BAD_ARGUMENT'))
})

test('HMAC-BLAKE2b-512 / HKDF shapes: 64-byte outputs, key-dependent, long keys hashed', () => {
  const k = new Uint8Array(64).fill(1)
  assert.equal(hmac(k, new Uint8Array([1])).length, 64)
  assert.notDeepEqual(hmac(k, new Uint8Array([1])), hmac(new Uint8Array(64).fill(2), new Uint8Array([1])))
  assert.deepEqual(hmac(k, new Uint8Array([1, 2])), hmac(k, new Uint8Array([1]), new Uint8Array([2])), 'data parts concatenate')
  assert.equal(hmac(new Uint8Array(200), new Uint8Array(0)).length, 64)
  const [t1, t2] = hkdf(k, new Uint8Array(32))
  assert.equal(t1.length, 64)
  assert.notDeepEqual(t1, t2)
})

test('fuzz (bounded): random and mutated messages at every handshake step; only HypercoreError escapes', () => {
  const r = prng(0xf00d)
  const deadline = Date.now() + 3000
  const counts = { inputs: 0, refused: 0, accepted: 0 }
  const statics = [keyPair(), keyPair()]
  // A few honest transcripts to mutate.
  const honest: Uint8Array[][] = []
  for (let k = 0; k < 4; k++) {
    const i = new NoiseHandshake(true, statics[0]!)
    const s = new NoiseHandshake(false, statics[1]!)
    const m1 = i.send(); s.recv(m1); const m2 = s.send(); i.recv(m2); const m3 = i.send(); s.recv(m3)
    honest.push([m1, m2, m3])
  }
  while (Date.now() < deadline) {
    const step = r.int(3)
    const base = honest[r.int(honest.length)]![step]!
    let msg: Uint8Array
    switch (r.int(4)) {
      case 0: msg = r.bytes(r.int(200)); break
      case 1: msg = base.slice(); msg[r.int(msg.length)]! ^= 1 + r.int(255); break
      case 2: msg = base.slice(0, r.int(base.length)); break
      default: { msg = new Uint8Array(base.length + 1 + r.int(8)); msg.set(base) }
    }
    counts.inputs++
    try {
      if (step === 0) { // responder reading msg1, then replying (where a bad point shows)
        const s = new NoiseHandshake(false, statics[1]!)
        s.recv(msg)
        s.send()
      } else if (step === 1) { // initiator reading msg2
        const i = new NoiseHandshake(true, statics[0]!)
        i.send()
        i.recv(msg)
      } else { // responder reading msg3 after an honest msg1/msg2 of its own
        const i = new NoiseHandshake(true, statics[0]!)
        const s = new NoiseHandshake(false, statics[1]!)
        s.recv(i.send())
        i.recv(s.send())
        s.recv(msg)
      }
      counts.accepted++
      // Only msg1 can be accepted when altered (there is no key yet): anything else is a forgery.
      assert.equal(step, 0, 'an altered msg2/msg3 must never be accepted')
    } catch (e) {
      if (!HypercoreError.is(e)) throw e
      if (e.code !== 'INVALID_HANDSHAKE') throw e
      counts.refused++
    }
  }
  console.log(`noise fuzz: ${counts.inputs} inputs, ${counts.refused} refused with INVALID_HANDSHAKE, ${counts.accepted} msg1 variants accepted`)
  assert.ok(counts.inputs > 500)
})
