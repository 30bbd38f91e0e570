/**
 * @module test/swarm/identity.test
 * The swarm's identity is one Ed25519 key pair: its public key is the peer id the signaling
 * clients prove (signed challenge, signed signals) and the Noise static key the handshake
 * proves. So:
 * - a key pair whose public key is not that of its secret key is refused at construction;
 * - the context lent to a signaling client signs with that key pair, and only signaling's
 *   own messages (never, say, a hypercore signable);
 * - over our WebSocket client, a signal relabelled by a lying server (another peer's id as
 *   sender) is dropped before any WebRTC attempt: the swarm only ever starts an attempt for an
 *   id that signed the offer, and the connection it hands out has that id as its Noise key.
 */
import { afterEach, test } from 'node:test'
import assert from 'node:assert/strict'
import { EventEmitter } from 'events'
import { compatSignable, cryptoReady, keyPair, verify } from '../../src/crypto/index.js'
import { HypercoreError } from '../../src/errors.js'
import { helloSignable, signalSignable } from '../../src/signaling/auth.js'
import type { SignalingClient, SignalingContext } from '../../src/signaling/types.js'
import { WebSocketSignaling } from '../../src/signaling/ws-client.js'
import { Swarm } from '../../src/swarm/index.js'
import { hex } from '../helpers/assert.js'
import { honest, lyingRelay } from '../signaling/lying-relay.js'
import { cleanup, settle, track } from './helpers.js'
import { createTestPeer, wrtc } from './test-peer.js'

await cryptoReady()
afterEach(cleanup)

/** A signaling client that only keeps the context the swarm lends it. */
class Capture extends EventEmitter implements SignalingClient {
  readonly name = 'capture'
  ctx: SignalingContext | null = null
  start (ctx: SignalingContext): void { this.ctx = ctx }
  join (): void {}
  leave (): void {}
  async close (): Promise<void> {}
}

test('a key pair whose public key is not its secret key\'s is refused (BAD_ARGUMENT)', () => {
  const a = keyPair()
  const b = keyPair()
  assert.throws(() => new Swarm({ signaling: [], keyPair: { publicKey: b.publicKey, secretKey: a.secretKey } }), (e: unknown) => HypercoreError.is(e, 'BAD_ARGUMENT'))
  assert.throws(() => new Swarm({ signaling: [], keyPair: { publicKey: a.publicKey, secretKey: a.secretKey.slice(0, 32) } }), (e: unknown) => HypercoreError.is(e, 'BAD_ARGUMENT'))
})

test('the context signs hellos and signals with the key of its id, which is the Noise key; nothing else', async () => {
  const kp = keyPair()
  const capture = new Capture()
  const swarm = track(new Swarm({ signaling: [capture], keyPair: kp }))
  await swarm.ready()
  const ctx = capture.ctx!
  assert.equal(ctx.self, hex(kp.publicKey))
  assert.equal(ctx.self, swarm.self)
  const hello = helloSignable(new Uint8Array(32).fill(3), ctx.self, '127.0.0.1:8787')
  assert.ok(verify(hello, ctx.sign(hello), kp.publicKey), 'a hello signed with the swarm key')
  const signal = signalSignable(ctx.self, hex(keyPair().publicKey), hex(new Uint8Array(32).fill(9)), 5, '{"type":"offer"}')
  assert.ok(verify(signal, ctx.sign(signal), kp.publicKey), 'a signal signed with the swarm key')
  const refuse = (m: Uint8Array, what: string): void => assert.throws(() => ctx.sign(m), (e: unknown) => HypercoreError.is(e, 'BAD_ARGUMENT'), what)
  refuse(new Uint8Array(200), 'arbitrary bytes')
  refuse(compatSignable(new Uint8Array(32), 1, 0), 'a hypercore tree signable')
  refuse(hello.subarray(0, 90), 'a truncated hello')
  await swarm.destroy()
  assert.throws(() => ctx.sign(hello), (e: unknown) => HypercoreError.is(e, 'SESSION_CLOSED'))
})

test('over a lying server, a relabelled offer starts no attempt (INVALID_SIGNATURE, never INVALID_HANDSHAKE); the peers still meet under their proven ids', async () => {
  const relay = await lyingRelay()
  const make = (): Swarm => track(new Swarm({
    signaling: [WebSocketSignaling({ url: relay.url })],
    createPeer: createTestPeer,
    wrtc,
    flushQuiet: 150,
    connectTimeout: 1500,
    backoff: { initial: 100, max: 500 }
  }))
  const [s1, s2] = [make(), make()]
  await Promise.all([s1.ready(), s2.ready()])
  const [lo, hi] = s1.self < s2.self ? [s1, s2] : [s2, s1]
  const claimed = hex(keyPair().publicKey) // an id the server says sent the offer; nobody here holds it
  const warnings: Error[] = []
  let forged = 0
  const relabelled = new Promise<void>(resolve => {
    hi.on('warning', (e: Error) => {
      warnings.push(e)
      if (HypercoreError.is(e, 'INVALID_SIGNATURE')) resolve()
    })
  })
  lo.on('warning', (e: Error) => warnings.push(e))
  // Every signal from lo to hi is relabelled as coming from `claimed`, until hi reported one.
  relay.tamper = (m) => {
    if (m.from !== lo.self) return null
    forged++
    return [{ to: m.to, msg: { ...honest(m), from: claimed } }]
  }
  const topic = new Uint8Array(32).fill(7)
  hi.join(topic)
  await hi.flush()
  lo.join(topic)
  await relabelled
  relay.tamper = null
  // lo's unanswered attempt times out and it re-announces; this time the relay is honest.
  await settle([lo, hi], () => lo.connections.size === 1 && hi.connections.size === 1, 20_000)
  assert.ok(forged >= 1)
  assert.equal(hex(hi.peers.get(lo.self)!.publicKey), lo.self, 'the Noise key is the id that signed')
  assert.deepEqual([...hi.peers.keys()], [lo.self])
  assert.deepEqual(warnings.filter(e => HypercoreError.is(e, 'INVALID_HANDSHAKE')).map(String), [], 'no attempt was made for the claimed id')
  assert.ok(warnings.filter(e => HypercoreError.is(e, 'INVALID_SIGNATURE')).every(e => e.message.includes(claimed.slice(0, 16))))
  await Promise.all([s1.destroy(), s2.destroy()])
  await relay.close()
})
