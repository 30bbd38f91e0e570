/**
 * @module signaling/server/directory
 * Who is connected and in which rooms, and how a message reaches a peer: the part of the
 * signaling server that changes when rooms are shared by several server processes. The
 * server (./index.ts) validates what clients say and calls a `Directory`; the directory keeps
 * the memberships and delivers `peers`, `peer-joined` and relayed `signal`s.
 *
 * `LocalDirectory` is the single-process default: memberships in memory (./rooms.ts), every
 * delivery a direct send. `RedisDirectory` (./redis-directory.ts) shares them through Redis so
 * peers connected to different processes meet.
 */
import type { PeerId, TopicHex } from '../types.js'
import type { ServerMessage } from '../protocol.js'
import { Rooms } from './rooms.js'

/** What the directory may do to a connection: send it a message, or close it as replaced (4004). */
export interface DirectoryHooks<C> {
  send (c: C, msg: ServerMessage): void
  replace (c: C): void
}

export interface Directory<C> {
  /** `c` proved `peerId`: an older connection holding it, here or anywhere, is replaced. */
  claim (peerId: PeerId, c: C): void
  /** `c` (holding `peerId`) entered `topic`: it gets the room's `peers` (up to `max`), they get `peer-joined`. */
  join (topic: TopicHex, peerId: PeerId, c: C, max: number): void
  leave (topic: TopicHex, peerId: PeerId, c: C): void
  /** `c` is gone: every membership of it, and its claim. */
  release (peerId: PeerId, c: C, topics: Iterable<TopicHex>): void
  /** A signal for `to` in `topic`; dropped unless `to` is in it. */
  relay (to: PeerId, topic: TopicHex, msg: ServerMessage): void
  /** Rooms and memberships of this process's connections. */
  stats (): { rooms: number, memberships: number }
  close (): Promise<void>
}

export class LocalDirectory<C> implements Directory<C> {
  protected readonly rooms = new Rooms<C>()
  protected readonly byPeer = new Map<PeerId, C>()

  constructor (protected readonly hooks: DirectoryHooks<C>) {}

  claim (peerId: PeerId, c: C): void {
    const previous = this.byPeer.get(peerId)
    if (previous !== undefined && previous !== c) this.hooks.replace(previous)
    this.byPeer.set(peerId, c)
  }

  join (topic: TopicHex, peerId: PeerId, c: C, max: number): void {
    this.rooms.add(topic, peerId, c)
    const others = this.rooms.sample(topic, peerId, max)
    this.hooks.send(c, { type: 'peers', topic, peers: others.map(([id]) => id) })
    for (const [, other] of others) this.hooks.send(other, { type: 'peer-joined', topic, peerId })
  }

  leave (topic: TopicHex, peerId: PeerId, c: C): void {
    this.rooms.remove(topic, peerId, c)
  }

  release (peerId: PeerId, c: C, topics: Iterable<TopicHex>): void {
    for (const t of topics) this.rooms.remove(t, peerId, c)
    if (this.byPeer.get(peerId) === c) this.byPeer.delete(peerId)
  }

  relay (to: PeerId, topic: TopicHex, msg: ServerMessage): void {
    const c = this.rooms.get(topic, to)
    if (c !== undefined) this.hooks.send(c, msg)
  }

  stats (): { rooms: number, memberships: number } {
    return { rooms: this.rooms.size, memberships: this.rooms.memberships() }
  }

  async close (): Promise<void> {}
}
