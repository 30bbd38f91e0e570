/**
 * @module test/dht/direct.test
 * The Node-side proof under the relay: our Noise IK handshake and our secret stream reach a
 * hyperswarm peer through hyperdht's public hooks directly, in one process, with no relay in
 * between. `createHandshake` gets our NoiseIK (hyperdht's payload codec around it, as its own
 * NoiseWrap does), `createSecretStream` gets an object that starts our `SecretStream` over the
 * UDX raw stream with the handshake's keys when hyperdht connects it. A hypercore@10 core
 * replicates over it from a hyperswarm + hypercore@10 peer on a local testnet.
 */
import { afterEach, test } from 'node:test'
import assert from 'node:assert/strict'
import { EventEmitter } from 'node:events'
import { createRequire } from 'node:module'
import b4a from 'b4a'
import c from 'compact-encoding'
import { cryptoReady, keyPair } from '../../src/crypto/index.js'
import { NoiseIK } from '../../src/replication/noise/ik.js'
import { SecretStream, type RawStream } from '../../src/replication/secret-stream/index.js'
import { Hypercore } from '../../src/core/hypercore.js'
import { MemoryDirectory } from '../../src/storage/memory.js'
import { DHT_PEER_HANDSHAKE } from '../../src/dht/constants.js'
import { holepunchSecret } from '../../src/dht/auth.js'
import { DHT, RAM, RefHypercore, hyperswarm, testnet } from './helpers.js'

const require = createRequire(import.meta.url)
const { noisePayload } = require('hyperdht/lib/messages')
const cleanups: Array<() => Promise<unknown>> = []
afterEach(async () => { for (const f of cleanups.splice(0).reverse()) await f().catch(() => {}) })

/** hyperdht's handshake interface over our NoiseIK. */
function ourHandshake (kp: { publicKey: Uint8Array, secretKey: Uint8Array }, remotePublicKey: Uint8Array) {
  const ik = new NoiseIK(true, kp, remotePublicKey, { prologue: DHT_PEER_HANDSHAKE })
  return {
    remotePublicKey,
    send: async (payload: unknown) => b4a.from(ik.send(c.encode(noisePayload, payload))),
    recv: async (message: Uint8Array) => c.decode(noisePayload, b4a.from(ik.recv(message))),
    final: () => {
      const r = ik.result!
      return { isInitiator: true, publicKey: r.publicKey, remotePublicKey: r.remotePublicKey, holepunchSecret: b4a.from(holepunchSecret(r.handshakeHash)), tx: r.tx, rx: r.rx, hash: r.handshakeHash }
    }
  }
}

/** hyperdht's encrypted socket: our SecretStream, started when hyperdht connects the raw stream. */
class OurSocket extends EventEmitter {
  rawStream: RawStream | null = null
  destroying = false
  stream: SecretStream | null = null
  readonly ready: Promise<SecretStream>
  private resolve!: (s: SecretStream) => void
  constructor () {
    super()
    this.ready = new Promise(resolve => { this.resolve = resolve })
  }

  start (rawStream: RawStream, opts: { handshake: { tx: Uint8Array, rx: Uint8Array, hash: Uint8Array, publicKey: Uint8Array, remotePublicKey: Uint8Array } }): void {
    this.rawStream = rawStream
    const h = opts.handshake
    this.stream = new SecretStream(true, rawStream, { handshake: { tx: h.tx, rx: h.rx, hash: h.hash, publicKey: h.publicKey, remotePublicKey: h.remotePublicKey } })
    this.stream.on('close', () => this.destroy())
    this.resolve(this.stream)
  }

  setKeepAlive (): void {}
  destroy (): void {
    if (this.destroying) return
    this.destroying = true
    this.stream?.destroy()
    this.emit('close')
  }
}

test('our Noise IK and secret stream, plugged into hyperdht\'s hooks in Node, replicate a core from a hyperswarm peer', async () => {
  await cryptoReady()
  const net = await testnet()
  cleanups.push(() => net.destroy())
  const seeder = new RefHypercore(RAM)
  cleanups.push(() => seeder.close())
  await seeder.append(['direct', 'over', 'hyperdht'].map(s => b4a.from(s)))
  const hs = hyperswarm(net)
  cleanups.push(() => hs.destroy())
  hs.on('connection', (conn: any) => seeder.replicate(conn))
  await hs.join(seeder.discoveryKey, { server: true, client: false }).flushed()

  const node = new DHT({ bootstrap: net.bootstrap, host: '127.0.0.1' })
  cleanups.push(() => node.destroy())
  const kp = keyPair()
  const socket = new OurSocket()
  node.connect(hs.keyPair.publicKey, {
    keyPair: kp,
    createHandshake: (k: typeof kp, remote: Uint8Array) => ourHandshake(k, remote),
    createSecretStream: () => socket
  })
  const stream = await socket.ready
  cleanups.push(async () => socket.destroy())
  const reader = new Hypercore(new MemoryDirectory(), seeder.key)
  cleanups.push(() => reader.close())
  reader.replicate(stream)
  assert.equal(b4a.toString(await reader.get(2, { timeout: 20_000 }) as Uint8Array), 'hyperdht')
  assert.ok(b4a.equals(stream.remotePublicKey!, hs.keyPair.publicKey))
})
