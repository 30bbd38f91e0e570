/**
 * @module dht/relay/topics
 * A relay's side of one page's topics, as hyperswarm's peer discovery does them: a topic
 * joined as server is announced (`dht.announce` with the page's server record's relay
 * addresses, the first time clearing older records of ours), a topic joined only as client is
 * looked up; either query reports the peers it meets (`PEER`) when the page is a client of the
 * topic, and `LOOKUP_DONE` when it ends. It runs again every 10 minutes (with jitter), or when
 * the page asks (`REFRESH`). Leaving a server topic unannounces it. Announce records are
 * signed by the page (the session's signers): the relay never holds its key.
 */
import { equalBytes } from '../../crypto/bytes.js'
import { MSG, JOIN_CLIENT, JOIN_SERVER, type RelayMessage } from '../protocol.js'
import type { HyperdhtNode, IPv4, SignOptions, DhtQuery } from './hyperdht.js'

export interface TopicHost {
  readonly dht: HyperdhtNode
  readonly publicKey: Uint8Array
  readonly signers: SignOptions
  /** Makes the page's DHT server listen (once); resolves with its relay addresses. */
  listen (): Promise<IPv4[]>
  /** A peer met on a topic, with the relay addresses to connect through. */
  rememberPeer (publicKey: Uint8Array, relayAddresses: IPv4[]): void
  send (msg: RelayMessage): void
}

const REFRESH_MS = 10 * 60 * 1000

interface Topic {
  readonly key: Buffer
  server: boolean
  client: boolean
  announced: boolean
  first: boolean
  running: boolean
  again: boolean
  closed: boolean
  query: DhtQuery | null
  timer: ReturnType<typeof setTimeout> | null
}

export class RelayTopics {
  private readonly topics = new Map<string, Topic>()

  constructor (private readonly host: TopicHost) {}

  get size (): number { return this.topics.size }

  has (topic: Uint8Array): boolean { return this.topics.has(hex(topic)) }

  join (topic: Uint8Array, flags: number): void {
    const id = hex(topic)
    let t = this.topics.get(id)
    if (t === undefined) {
      t = { key: Buffer.from(topic), server: false, client: false, announced: false, first: true, running: false, again: false, closed: false, query: null, timer: null }
      this.topics.set(id, t)
    }
    t.server = (flags & JOIN_SERVER) !== 0
    t.client = (flags & JOIN_CLIENT) !== 0
    this.run(t)
  }

  refresh (topic: Uint8Array): void {
    const t = this.topics.get(hex(topic))
    if (t !== undefined) this.run(t)
  }

  leave (topic: Uint8Array): void {
    const id = hex(topic)
    const t = this.topics.get(id)
    if (t === undefined) return
    this.topics.delete(id)
    this.stop(t)
    if (t.announced) this.host.dht.unannounce(t.key, { publicKey: Buffer.from(this.host.publicKey) }, this.host.signers).catch(() => {})
  }

  /** The session ends: stop every query; records expire by themselves (nobody can sign their removal now). */
  closeAll (): void {
    for (const t of this.topics.values()) this.stop(t)
    this.topics.clear()
  }

  private stop (t: Topic): void {
    t.closed = true
    if (t.timer !== null) clearTimeout(t.timer)
    t.timer = null
    t.query?.destroy()
    t.query = null
  }

  private run (t: Topic): void {
    if (t.closed) return
    if (t.running) {
      t.again = true
      return
    }
    if (t.timer !== null) clearTimeout(t.timer)
    t.timer = null
    t.running = true
    this.query(t).finally(() => {
      t.running = false
      t.query = null
      if (t.closed) return
      if (t.again) {
        t.again = false
        return this.run(t)
      }
      t.timer = setTimeout(() => { t.timer = null; this.run(t) }, REFRESH_MS * (0.9 + 0.2 * Math.random()))
    })
  }

  private async query (t: Topic): Promise<void> {
    let error = ''
    try {
      const keyPair = { publicKey: Buffer.from(this.host.publicKey) }
      let q: DhtQuery
      if (t.server) {
        const relays = await this.host.listen()
        if (t.closed) return
        q = this.host.dht.announce(t.key, keyPair, relays, { clear: t.first, ...this.host.signers })
        t.first = false
        t.announced = true
      } else {
        q = this.host.dht.lookup(t.key)
      }
      t.query = q
      for await (const data of q) {
        if (t.closed) return
        if (!t.client) continue
        for (const peer of data.peers) {
          if (equalBytes(peer.publicKey, this.host.publicKey)) continue
          this.host.rememberPeer(peer.publicKey, peer.relayAddresses)
          this.host.send({ type: MSG.PEER, topic: t.key, publicKey: peer.publicKey })
        }
      }
    } catch (err) {
      error = err instanceof Error ? err.message : String(err)
    }
    if (!t.closed) this.host.send({ type: MSG.LOOKUP_DONE, topic: t.key, error: error.slice(0, 200) })
  }
}

function hex (b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex')
}
