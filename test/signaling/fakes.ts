/**
 * @module test/signaling/fakes
 * A fake swarm (`SignalingContext` recording every connect()) and fake WebRTC peers that
 * record the signals fed to them and emit the ones a test gives them. Browser-safe: the
 * conformance suite runs with them in Node and in Chromium. Waiting is driven by change
 * notifications, never by sleeping.
 *
 * Peer ids are real Ed25519 public keys (the clients prove them by signing): `newId()` and
 * `sortedIds()` make key pairs and remember them, so `new FakeSwarm(id)` can sign for its id.
 * Call them after `await cryptoReady()`.
 */
import { Duplex } from 'streamx'
import { keyPair, sign, type KeyPair } from '../../src/crypto/index.js'
import { isSignalingSignable, toHex } from '../../src/signaling/auth.js'
import type { ConnectRequest, PeerId, SignalingContext, TopicHex } from '../../src/signaling/types.js'
import type { SignalData, WebRtcPeer } from '../../src/transport/types.js'

/** Wakes waiters whenever a fake changes; each waiter re-checks its condition. */
class Changes {
  private readonly waiters = new Set<() => void>()
  notify (): void {
    for (const w of [...this.waiters]) w()
  }

  until (cond: () => boolean, ms: number, what: string): Promise<void> {
    if (cond()) return Promise.resolve()
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (!cond()) return
        this.waiters.delete(check)
        clearTimeout(timer)
        resolve()
      }
      const timer = setTimeout(() => {
        this.waiters.delete(check)
        reject(new Error(`timed out after ${ms} ms waiting for ${what}`))
      }, ms)
      this.waiters.add(check)
    })
  }
}

export const changes = new Changes()

export class FakePeer implements WebRtcPeer {
  readonly stream = new Duplex()
  readonly received: SignalData[] = []
  private readonly listeners: Array<(data: SignalData) => void> = []

  constructor (readonly req: ConnectRequest) {
    this.stream.on('error', () => {})
    this.stream.on('close', () => changes.notify())
  }

  signal (data: SignalData): void {
    // Kept as JSON text-equal copies: what a real peer would parse.
    this.received.push(JSON.parse(JSON.stringify(data)))
    changes.notify()
  }

  onSignal (listener: (data: SignalData) => void): void {
    this.listeners.push(listener)
  }

  /** Pretends the local WebRTC stack produced `data`. */
  emit (data: SignalData): void {
    for (const l of this.listeners) l(data)
  }

  destroy (err?: Error): void {
    this.stream.destroy(err)
  }

  waitReceived (n: number, ms = 5000): Promise<SignalData[]> {
    return changes.until(() => this.received.length >= n, ms, `${n} signals at the peer for ${this.req.peerId}`).then(() => this.received)
  }
}

export class FakeSwarm implements SignalingContext {
  readonly connects: FakePeer[] = []
  /** When false, wants() refuses everything (a swarm at its cap). */
  accepting = true
  /** Messages signed for the client, in order (what the swarm would have signed). */
  readonly signed: Uint8Array[] = []
  private readonly keyPair: KeyPair

  constructor (readonly self: PeerId, kp?: KeyPair) {
    const k = kp ?? keys.get(self)
    if (k === undefined) throw new Error(`no key pair for peer id ${self.slice(0, 8)}: make ids with newId() or sortedIds()`)
    this.keyPair = k
  }

  /** Signs like the swarm: only signaling's own messages, with the key of `self`. */
  sign (message: Uint8Array): Uint8Array {
    if (!isSignalingSignable(message)) throw new Error('FakeSwarm signs only signaling messages')
    this.signed.push(message)
    return sign(message, this.keyPair.secretKey)
  }

  wants (peerId: PeerId | null, _topic: TopicHex): boolean {
    // Like the swarm: one live connection per remote peer, whatever the topic.
    return this.accepting && peerId !== null && !this.connects.some(p => p.req.peerId === peerId && !p.stream.destroyed)
  }

  connect (req: ConnectRequest): FakePeer {
    const p = new FakePeer(req)
    this.connects.push(p)
    changes.notify()
    return p
  }

  /** The connections made to answer a peer's offer (not the ones we offered). */
  get responders (): FakePeer[] {
    return this.connects.filter(p => !p.req.initiator)
  }

  async waitResponders (n: number, ms = 5000): Promise<FakePeer[]> {
    await changes.until(() => this.responders.length >= n, ms, `${n} answered offers on ${this.self.slice(0, 8)}`)
    return this.responders
  }

  async waitConnects (n: number, ms = 5000): Promise<FakePeer[]> {
    await changes.until(() => this.connects.length >= n, ms, `${n} connect() calls on ${this.self.slice(0, 8)}`)
    return this.connects
  }
}

/** Every key pair made by `newId()`, by peer id. */
const keys = new Map<PeerId, KeyPair>()

/** A fresh peer id (the hex of a new Ed25519 public key) whose key pair `keyOf()` returns. */
export function newId (): PeerId {
  const kp = keyPair()
  const id = toHex(kp.publicKey)
  keys.set(id, kp)
  return id
}

/** The key pair behind an id made by `newId()` / `sortedIds()`. */
export function keyOf (id: PeerId): KeyPair {
  const kp = keys.get(id)
  if (kp === undefined) throw new Error(`no key pair for ${id.slice(0, 8)}`)
  return kp
}

/** `n` fresh peer ids in ascending order (so index 0 is the one that offers). */
export function sortedIds (n: number): string[] {
  const out: string[] = []
  for (let i = 0; i < n; i++) out.push(newId())
  return out.sort()
}

export function randomHex (): string {
  const b = new Uint8Array(32)
  globalThis.crypto.getRandomValues(b)
  let s = ''
  for (const x of b) s += x.toString(16).padStart(2, '0')
  return s
}
