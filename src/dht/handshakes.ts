/**
 * @module dht/handshakes
 * The page's HyperDHT connections while their Noise IK handshake runs, and the relayed byte
 * streams they become: the part of the DHT client (./client.ts) that holds the swarm's key.
 *
 * Connecting to a peer the relay met: `CONNECT`, then we write message 1 when the relay asks
 * (`NOISE_SEND`: hyperdht's payload, which we carry without reading) and read message 2
 * (`NOISE_RECV`). A peer connecting to us: `NOISE_RECV` on a new odd stream id carries its
 * message 1; we learn its key, ask the swarm whether we want it, and answer or refuse. Either
 * way the finished handshake's keys go to the swarm with a `RelayedStream` (`ctx.attach`), and
 * the relay gets the holepunch secret (derived from the handshake hash, not the stream keys).
 * Every failure is an error event plus a `CLOSE` of that stream, nothing more.
 */
import b4a from 'b4a'
import { HypercoreError } from '../errors.js'
import type { KeyPair } from '../crypto/types.js'
import { NoiseIK } from '../replication/noise/ik.js'
import type { SignalingContext, TopicHex } from '../signaling/types.js'
import { holepunchSecret } from './auth.js'
import { DHT_PEER_HANDSHAKE } from './constants.js'
import { MSG, type PageMessage } from './protocol.js'
import { RelayedStream, type RelayLink } from './relayed-stream.js'

const EMPTY: Uint8Array = new Uint8Array(0)

/** What the handshakes need from the client they run in. */
export interface HandshakeHost {
  readonly keyPair: KeyPair
  readonly self: string
  readonly ctx: SignalingContext
  readonly link: RelayLink
  readonly handshakeTimeoutMs: number
  send (msg: PageMessage): boolean
  emitError (err: unknown): void
  /** The relay broke the protocol. */
  violation (why: string): void
  /** A handshake of `topic` settled (the topic's first round may be over). */
  settled (topic: TopicHex): void
}

interface Handshake {
  readonly id: number
  readonly ik: NoiseIK
  readonly initiator: boolean
  readonly topic: TopicHex | null
  readonly remote: string
  readonly timer: ReturnType<typeof setTimeout>
}

export class DhtHandshakes {
  private readonly handshakes = new Map<number, Handshake>()
  readonly streams = new Map<number, RelayedStream>()
  private nextId = 0

  constructor (private readonly host: HandshakeHost) {}

  /** True while a handshake of `topic` runs. */
  pending (topic: TopicHex): boolean {
    for (const h of this.handshakes.values()) if (h.topic === topic) return true
    return false
  }

  /** The relay met `publicKey` on `topic` (a client topic): connect unless we have it or do not want it. */
  connect (topic: TopicHex, publicKey: Uint8Array): void {
    const remote = b4a.toString(publicKey, 'hex')
    if (remote === this.host.self || this.busyWith(remote) || !this.host.ctx.wants(remote, topic)) return
    const id = this.nextId
    this.nextId += 2
    const ik = new NoiseIK(true, this.host.keyPair, publicKey, { prologue: DHT_PEER_HANDSHAKE })
    this.track({ id, ik, initiator: true, topic, remote })
    this.host.send({ type: MSG.CONNECT, stream: id, publicKey })
  }

  onNoiseSend (id: number, payload: Uint8Array): void {
    const h = this.handshakes.get(id)
    if (h === undefined) return // dropped meanwhile; the relay has our CLOSE
    let message: Uint8Array
    try {
      message = h.ik.send(payload)
    } catch (err) {
      return this.drop(h, err)
    }
    const result = h.ik.result
    this.host.send({ type: MSG.NOISE, stream: id, message, holepunchSecret: result === null ? EMPTY : holepunchSecret(result.handshakeHash) })
    if (result !== null) this.attach(h)
  }

  onNoiseRecv (id: number, message: Uint8Array): void {
    const h = this.handshakes.get(id)
    if (h === undefined) return this.incoming(id, message)
    let payload: Uint8Array
    try {
      payload = h.ik.recv(message)
    } catch (err) {
      return this.drop(h, err)
    }
    const result = h.ik.result
    if (result === null) return this.drop(h, HypercoreError.INVALID_HANDSHAKE('handshake did not finish'))
    this.host.send({ type: MSG.PAYLOAD, stream: id, payload, publicKey: EMPTY, holepunchSecret: holepunchSecret(result.handshakeHash) })
    this.attach(h)
  }

  /** The relay closed stream `id`: a handshake that did not make it (peer not found…), or a connection. */
  onClose (id: number, reason: string): void {
    const h = this.handshakes.get(id)
    if (h !== undefined) return this.drop(h, null)
    this.streams.get(id)?.onClose(reason)
  }

  /** The relay connection is gone: every handshake and stream with it. */
  dropAll (why: string): void {
    for (const h of [...this.handshakes.values()]) {
      this.forget(h)
      h.ik.destroy()
    }
    for (const s of [...this.streams.values()]) s.onClose(why)
    this.streams.clear()
  }

  /** Someone connects to us: read their first message, and answer if the swarm wants them. */
  private incoming (id: number, message: Uint8Array): void {
    // An even id is ours: a late message for a handshake we dropped (our CLOSE is on its way).
    if (id % 2 !== 1) return
    if (this.streams.has(id)) return this.host.violation('a new handshake on a stream id in use')
    const ik = new NoiseIK(false, this.host.keyPair, null, { prologue: DHT_PEER_HANDSHAKE })
    let payload: Uint8Array
    try {
      payload = ik.recv(message)
    } catch (err) {
      this.host.emitError(err)
      this.host.send({ type: MSG.CLOSE, stream: id, reason: 'bad handshake' })
      return
    }
    const remote = b4a.toString(ik.remotePublicKey!, 'hex')
    if (!this.accepts(remote)) {
      this.host.send({ type: MSG.CLOSE, stream: id, reason: 'refused' })
      return
    }
    this.track({ id, ik, initiator: false, topic: null, remote })
    this.host.send({ type: MSG.PAYLOAD, stream: id, payload, publicKey: ik.remotePublicKey!, holepunchSecret: EMPTY })
  }

  /**
   * Whether to take a connection `remote` started. While our own handshake to it runs, take
   * theirs only if it will win the swarm's tie-break (the larger key's connection is kept,
   * as hyperswarm keeps it): otherwise both sides would drop the other's.
   */
  private accepts (remote: string): boolean {
    if (remote === this.host.self) return false
    for (const h of this.handshakes.values()) if (h.remote === remote && h.initiator && remote < this.host.self) return false
    return this.host.ctx.wants(remote, null)
  }

  private busyWith (remote: string): boolean {
    for (const h of this.handshakes.values()) if (h.remote === remote) return true
    return false
  }

  private track (h: Omit<Handshake, 'timer'>): void {
    const timer = setTimeout(() => {
      const live = this.handshakes.get(h.id)
      if (live !== undefined) this.drop(live, HypercoreError.REQUEST_TIMEOUT(`DHT handshake with ${h.remote.slice(0, 16)}… timed out`))
    }, this.host.handshakeTimeoutMs)
    this.handshakes.set(h.id, { ...h, timer })
  }

  /** The handshake is done: its raw stream goes to the swarm with the keys (it opens when the relay connects it). */
  private attach (h: Handshake): void {
    this.forget(h)
    const r = h.ik.result!
    const stream = new RelayedStream(this.host.link, h.id)
    this.streams.set(h.id, stream)
    try {
      this.host.ctx.attach!({
        peerId: h.remote,
        topic: h.topic,
        initiator: h.initiator,
        stream,
        handshake: { tx: r.tx, rx: r.rx, hash: r.handshakeHash, publicKey: r.publicKey, remotePublicKey: r.remotePublicKey }
      })
    } catch (err) {
      stream.destroy()
      this.host.emitError(err)
    }
  }

  /** `err` null: the relay closed it, which is ordinary (no error, no CLOSE back). */
  private drop (h: Handshake, err: unknown): void {
    this.forget(h)
    h.ik.destroy()
    if (err !== null) {
      this.host.emitError(err)
      this.host.send({ type: MSG.CLOSE, stream: h.id, reason: 'handshake failed' })
    }
  }

  private forget (h: Handshake): void {
    clearTimeout(h.timer)
    if (this.handshakes.get(h.id) === h) this.handshakes.delete(h.id)
    if (h.topic !== null) this.host.settled(h.topic)
  }
}
