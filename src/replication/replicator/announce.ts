/**
 * @module replication/replicator/announce
 * Telling peers what changed here (§5.7): blocks we downloaded or appended (`range`), blocks
 * we cleared (`range{drop}`), a new length or fork (`sync`). Downloads are gathered per
 * macrotask and leave as one batch per peer. A peer that does not read gets none of it
 * buffered: `Peer.announce` and `Peer.sendSync` hold what it would be told until its stream
 * drains (peer.ts).
 */
import type { CoreUpdate } from '../../core/core.js'
import type { Peer } from './peer.js'
import type { Replicator } from './replicator.js'
import { WANT_SEGMENT } from './types.js'

/** Download announcements sent as one batch at most. */
const ANNOUNCE_BATCH = 32

export class Announcer {
  private readonly _rep: Replicator
  /** Downloads to announce, as (start, length) pairs. */
  private _downloaded: number[] = []
  private _timer: ReturnType<typeof setTimeout> | null = null

  constructor (rep: Replicator) {
    this._rep = rep
  }

  close (): void {
    if (this._timer !== null) clearTimeout(this._timer)
    this._timer = null
    this._downloaded = []
  }

  /** A change to the core (ours or one a peer proved): tell every peer. */
  onlocal (u: CoreUpdate): void {
    const rep = this._rep
    if (u.type === 'download') {
      this._download(u.start, u.end)
      return
    }
    for (const peer of rep.peers) {
      if (u.type === 'append' && rep.core.writable) {
        peer.channel.cork()
        peer.announce(false, u.start, u.end - u.start)
        rep.sendSync(peer)
        peer.channel.uncork()
      } else if (u.type === 'clear') {
        peer.announce(true, u.start, u.end - u.start)
      } else {
        if (u.type === 'truncate') forgetAnswered(peer, u.start)
        rep.sendSync(peer)
      }
    }
  }

  /**
   * A downloaded block is announced with its own `range` message, but the announcements made
   * before the next macrotask leave together as one mux batch (§5.5): blocks are stored one
   * per microtask chain (the core's lock), so a microtask would batch nothing; a 0 ms timer
   * batches a whole burst of answers into one encrypted message.
   */
  private _download (start: number, end: number): void {
    this._downloaded.push(start, end - start)
    // A download that never yields to a macrotask still announces every ANNOUNCE_BATCH blocks.
    if (this._downloaded.length >= 2 * ANNOUNCE_BATCH) this._flush()
    else if (this._timer === null) this._timer = setTimeout(() => this._flush(), 0)
  }

  private _flush (): void {
    if (this._timer !== null) clearTimeout(this._timer)
    this._timer = null
    const ranges = this._downloaded
    this._downloaded = []
    for (const peer of this._rep.peers) {
      peer.channel.cork()
      for (let i = 0; i < ranges.length; i += 2) peer.announce(false, ranges[i]!, ranges[i + 1]!)
      peer.channel.uncork()
    }
  }
}

/**
 * Our tree was cut at `start` (a truncation or a reorg): the peer drops what it knew of ours
 * past it (§3.5), so wants for those segments, and our prefix, are answered again.
 */
function forgetAnswered (peer: Peer, start: number): void {
  const first = Math.floor(start / WANT_SEGMENT)
  for (const s of [...peer.answeredSegments]) if (s >= first) peer.answeredSegments.delete(s)
  if (peer.sentContig > start) peer.sentContig = start
}
