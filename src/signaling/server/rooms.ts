/**
 * @module signaling/server/rooms
 * Live room membership, the only state the server keeps: topic → (peer id → member).
 * A room exists while it has a member; an emptied room is deleted at once, so memory is
 * bounded by connections × topics per connection.
 */
export class Rooms<M> {
  private readonly rooms = new Map<string, Map<string, M>>()

  /** Number of non-empty rooms. */
  get size (): number {
    return this.rooms.size
  }

  /** Total memberships over all rooms. */
  memberships (): number {
    let n = 0
    for (const r of this.rooms.values()) n += r.size
    return n
  }

  add (topic: string, peerId: string, member: M): void {
    let room = this.rooms.get(topic)
    if (room === undefined) {
      room = new Map()
      this.rooms.set(topic, room)
    }
    room.set(peerId, member)
  }

  /** Removes `peerId` from `topic` if `member` is still the one registered there. */
  remove (topic: string, peerId: string, member: M): void {
    const room = this.rooms.get(topic)
    if (room === undefined || room.get(peerId) !== member) return
    room.delete(peerId)
    if (room.size === 0) this.rooms.delete(topic)
  }

  /** Every room with the peer ids in it. */
  * entries (): IterableIterator<[string, IterableIterator<string>]> {
    for (const [topic, room] of this.rooms) yield [topic, room.keys()]
  }

  get (topic: string, peerId: string): M | undefined {
    return this.rooms.get(topic)?.get(peerId)
  }

  /**
   * Up to `max` members of `topic` other than `except`: all of them in a small room, a random
   * sample in a big one (so a join costs O(max) messages, not O(room), and newcomers still
   * meet different peers).
   */
  sample (topic: string, except: string, max: number): Array<[string, M]> {
    const room = this.rooms.get(topic)
    if (room === undefined) return []
    const all: Array<[string, M]> = []
    for (const e of room) if (e[0] !== except) all.push(e)
    if (all.length <= max) return all
    for (let i = 0; i < max; i++) {
      const j = i + Math.floor(Math.random() * (all.length - i))
      const t = all[i]
      all[i] = all[j]
      all[j] = t
    }
    all.length = max
    return all
  }
}
