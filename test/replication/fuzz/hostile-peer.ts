/**
 * @module test/replication/fuzz/hostile-peer
 * One hostile peer of the fuzzer: an attacker connection (hostile-helpers.ts `attack`) whose
 * every move is drawn from a seeded generator. Moves are well-formed messages of every
 * hypercore type (§5.6) with edge values, the Protomux control frames (§5.5: opens, closes
 * and rejects of channels it has and has not got), repeats and bursts of them, answers to
 * the victim's requests (genuine, tampered, out of order, duplicated, on another fork, or
 * never), answers to requests never made, and silence (not reading, not answering).
 *
 * What it is like (which moves, which answers, what its syncs claim) is its profile
 * (profiles.ts); the messages themselves come from messages.ts. The honest writer makes the
 * genuine answers (serve.ts `answer`), so a tampered answer differs from a valid one in
 * exactly the way tamper.ts says.
 */
import { Writable } from 'streamx'
import { muxOf } from '../../../src/replication/replicator/index.js'
import type { Peer } from '../../../src/replication/replicator/peer.js'
import { answer } from '../../../src/replication/replicator/serve.js'
import { discoveryKey } from '../../../src/crypto/index.js'
import { MESSAGE_NAMES, type DataMessage, type RequestMessage } from '../../../src/wire/messages.js'
import { encodeClose } from '../../../src/wire/mux-frames.js'
import { attack, type Attacker } from '../hostile-helpers.js'
import { once } from '../replicator-helpers.js'
import { RawIds, bitfieldWords, controlFrame, requestMessage, syncMessage } from './messages.js'
import { drawProfile, type AnswerKind, type Claim, type Move, type Profile } from './profiles.js'
import { EDGES, type Rng } from './random.js'
import { randomNode, tamper } from './tamper.js'

/** What every hostile peer of one iteration shares. */
export interface World {
  /** The honest writer (a Hypercore): its length is what a plausible claim is near; it makes genuine answers. */
  writer: any
  victim: any
  /** Messages sent, by kind (the hypercore message names, plus control frames). */
  counts: Record<string, number>
}

/** The moves that send at once (a burst is made of them). */
const QUICK = ['sync', 'request', 'cancel', 'noData', 'want', 'unwant', 'bitfield', 'range', 'extension', 'control'] as const
type Quick = typeof QUICK[number]

/** Requests of the victim kept to answer later (oldest dropped first). */
const MAX_PENDING = 512
/** A repeated move re-sends at most about this many bytes. */
const REPEAT_BYTES = 2 * 1024 * 1024

const delay = (ms: number): Promise<void> => new Promise(resolve => setTimeout(resolve, ms))

export class HostilePeer {
  readonly world: World
  /** This peer's own generator: its moves do not depend on how other peers' moves interleave. */
  readonly rng: Rng
  readonly a: Attacker
  /** The attacker's Peer (a new one after a reopen). */
  peer: Peer
  /** The victim's Peer for this connection (a new one after a reopen). */
  victimPeer: Peer
  /** Messages this peer sent. */
  sent = 0
  /** The victim's requests to us, not yet answered. */
  readonly pending: RequestMessage[] = []
  private _answered: DataMessage[] = []
  private _last: (() => void) | null = null
  private _lastBytes = 0
  private _lastIsData = false
  private _ourIds = 1
  private readonly _rawIds = new RawIds()
  private _deafUntil = 0
  /** Its character (profiles.ts). */
  private readonly _who: { profile: Profile, ackRate: number, claim: Claim }

  private constructor (world: World, rng: Rng, a: Attacker) {
    this.world = world
    this.rng = rng
    this.a = a
    this._who = drawProfile(rng)
    this.peer = a.peer
    this.victimPeer = a.victimPeer
    a.onrequest = (m) => {
      this.pending.push(m)
      if (this.pending.length > MAX_PENDING) this.pending.shift()
    }
  }

  /** Connects a new hostile peer to the world's victim. */
  static async connect (world: World, rng: Rng): Promise<HostilePeer> {
    const a = await attack(world.victim, world.writer.key)
    a.echo = rng.bool(0.5)
    return new HostilePeer(world, rng, a)
  }

  /** Its profile's name (for reports). */
  get profile (): string { return this._who.profile.name }

  private get _profile (): Profile { return this._who.profile }

  /** The victim's side of this connection is gone (dropped, or the channel closed for good). */
  get connectionGone (): boolean { return this.a.victimStream.destroyed === true }

  /** How the victim ended this connection (its error code), once it did. */
  get droppedWith (): string | null { return (muxOf(this.a.victimStream)?.error?.code as string | undefined) ?? null }

  /** One random move (several messages for repeats and bursts; time for silences). */
  async step (): Promise<void> {
    const rng = this.rng
    if (this._deafUntil !== 0 && Date.now() >= this._deafUntil) this._listen()
    if (this.victimPeer.closed) return
    const move = rng.weighted(this._profile.moves as Record<Move, number>)
    switch (move) {
      case 'answer': return await this._answer()
      case 'unasked': return this._unasked()
      case 'conflictData': return await this._conflictData()
      case 'closeChannel': return this._closeChannel()
      case 'repeat': return this._repeat()
      case 'burst': return this._burst()
      case 'deaf': return this._deaf()
      case 'pause': return await delay(rng.int(1, this._profile.pauseMs))
      default: return this._quick(move)
    }
  }

  /**
   * After our channel was closed (a move of ours), opens it again on the same connection,
   * sometimes: true when it is open again and moves may go on.
   */
  async revive (): Promise<boolean> {
    if (!this.victimPeer.closed) return true
    if (this.connectionGone || !this.peer.closed || !this.rng.bool(0.7)) return false
    await this._reopen()
    return !this.victimPeer.closed
  }

  /** Ends the hostile behaviour that outlives a step (not reading). */
  calm (): void {
    if (this._deafUntil !== 0) this._listen()
  }

  /**
   * How this peer's connection ended, as the victim saw it (set when destroyed): the error
   * code it was dropped with, 'channel closed' (our move), or 'none' (closed by us at the end).
   */
  ended: string | null = null

  destroy (): void {
    this.ended ??= this.droppedWith ?? (this.victimPeer.closed ? 'channel closed' : 'none')
    this.calm()
    this.a.destroy()
  }

  // --- sending ---------------------------------------------------------------------------

  private _send (type: number, msg: unknown, bytes = 16): void {
    this.peer.channel.messages[type]!.send(msg)
    this._count(MESSAGE_NAMES[type]!)
    this._last = () => { this.peer.channel.messages[type]!.send(msg); this._count(MESSAGE_NAMES[type]!) }
    this._lastBytes = bytes
    this._lastIsData = type === 3
  }

  /** A raw frame on the connection, below the channel: control frames, unknown types. */
  private _raw (frame: Uint8Array, kind: string): void {
    const stream = muxOf(this.a.stream)?.stream
    if (stream === undefined || stream.destroyed === true) return
    stream.write(frame)
    this._count(kind)
    this._last = () => { if (stream.destroyed !== true) { stream.write(frame); this._count(kind) } }
    this._lastBytes = frame.byteLength
    this._lastIsData = false
  }

  private _count (kind: string): void {
    this.sent++
    this.world.counts[kind] = (this.world.counts[kind] ?? 0) + 1
  }

  private get _near (): number { return this.world.writer.length }

  // --- quick moves: one message each ------------------------------------------------------

  private _quick (move: Quick): void {
    const rng = this.rng
    const near = this._near
    const vl = this.world.victim.length
    switch (move) {
      case 'sync': return this._send(0, syncMessage(rng, this._who, near, vl))
      case 'request': return this._send(1, requestMessage(rng, rng.bool(0.8) ? this._ourIds++ : rng.pick(EDGES), vl, this.world.victim.fork))
      case 'cancel':
        return this._send(2, { request: rng.bool(0.6) ? rng.int(1, Math.max(1, this._ourIds)) : rng.pick(EDGES) })
      case 'noData': {
        const id = this.pending.length > 0 && rng.bool(0.7) ? this._takePending().id : rng.index(this._ourIds)
        this._send(4, { request: id, reason: rng.bool(0.8) ? null : rng.pick([0, 1, 2, Number.MAX_SAFE_INTEGER]) })
        return
      }
      case 'want':
      case 'unwant':
        this._send(move === 'want' ? 5 : 6, { start: rng.index(near), length: rng.length(near), any: rng.bool(0.2) })
        return
      case 'bitfield': {
        const words = bitfieldWords(rng)
        this._send(7, { start: Math.floor(rng.index(near) / 32) * 32, bitfield: words }, 4 * words.length + 8)
        return
      }
      case 'range':
        if (rng.bool(this._profile.claimAll)) this._send(8, { drop: false, start: 0, length: near })
        else this._send(8, { drop: rng.bool(0.3), start: rng.index(near), length: rng.length(near) })
        return
      case 'extension': {
        const message = rng.bytes(rng.pick([0, 1, 64, 4096]))
        this._send(9, { name: rng.pick(['fuzz', 'fuzz', '', 'nobody', 'x'.repeat(rng.int(0, 300))]), message }, message.byteLength + 8)
        return
      }
      case 'control': {
        const { frame, kind } = controlFrame(rng, this.peer.channel.localId, discoveryKey(this.world.writer.key), this._rawIds)
        return this._raw(frame, kind)
      }
    }
  }

  // --- answers ---------------------------------------------------------------------------

  private _takePending (): RequestMessage {
    const rng = this.rng
    // Oldest first half of the time; otherwise out of order.
    const i = rng.bool(0.5) ? 0 : rng.int(0, this.pending.length - 1)
    return this.pending.splice(i, 1)[0]!
  }

  /** The writer's answer to `m`, or (for a claim past its length) the most it can prove. */
  private async _genuine (m: RequestMessage): Promise<DataMessage | null> {
    const core = this.world.writer.core
    const d = await answer(core, m)
    if (d !== null || m.upgrade === null || m.upgrade.start >= core.length) return d
    return await answer(core, { ...m, upgrade: { start: m.upgrade.start, length: core.length - m.upgrade.start } })
  }

  private async _answer (): Promise<void> {
    const rng = this.rng
    if (this.pending.length === 0) {
      // Nothing asked: a duplicate of an old answer, or nothing.
      if (this._answered.length > 0 && rng.bool(0.05)) this._send(3, rng.pick(this._answered), 256)
      return
    }
    const keep = rng.bool(0.02) // answered, yet answered again later (a duplicate)
    const m = this._takePending()
    if (keep) this.pending.push(m)
    const how = rng.weighted(this._profile.answers as Record<AnswerKind, number>)
    if (how === 'noData') return this._send(4, { request: m.id, reason: null })
    const genuine = await this._genuine(m)
    if (this.victimPeer.closed) return
    let d: DataMessage
    if (how === 'empty' || genuine === null) d = { request: m.id, fork: m.fork, block: null, hash: null, seek: null, upgrade: null, manifest: null }
    else if (how === 'genuine') d = genuine
    else if (how === 'otherFork') d = { ...genuine, fork: genuine.fork + rng.int(1, 3) } // the writer's fork: small
    else d = tamper(rng, genuine, this._near).data
    this._send(3, d, 256 + (d.block?.value.byteLength ?? 0))
    this._answered.push(d)
    if (this._answered.length > 16) this._answered.shift()
  }

  /** `data` for a request id the victim never used: PROTOCOL_ERROR, the connection ends. */
  private _unasked (): void {
    const rng = this.rng
    const id = rng.pick([2 ** 20 + rng.int(0, 1000), 2 ** 32, Number.MAX_SAFE_INTEGER])
    const nodes = Array.from({ length: rng.int(0, 3) }, () => randomNode(rng, this._near))
    this._send(3, { request: id, fork: 0, block: { index: rng.index(this._near), value: rng.bytes(rng.int(0, 64)), nodes }, hash: null, seek: null, upgrade: null, manifest: null })
  }

  /** `data` with request 0 (a conflict claim, §3.5) with the writer's tree from 0, as is or tampered. */
  private async _conflictData (): Promise<void> {
    const rng = this.rng
    const length = rng.int(1, Math.max(1, this._near))
    const genuine = await answer(this.world.writer.core, { id: 0, fork: 0, block: null, hash: null, seek: null, upgrade: { start: 0, length }, manifest: false, priority: 0 })
    if (genuine === null || this.victimPeer.closed) return
    const d = rng.bool(0.5) ? genuine : tamper(rng, genuine, this._near).data
    this._send(3, d, 256)
  }

  // --- channel lifecycle -----------------------------------------------------------------

  /** Closes our channel: properly (we may open it again), or by a raw close the attacker's side never hears of. */
  private _closeChannel (): void {
    if (this.rng.bool(0.7)) {
      this.peer.close()
      this._count('close')
    } else {
      this._raw(encodeClose(this.peer.channel.localId), 'close')
    }
  }

  /** Opens the hypercore channel again on the same connection (a new Peer on both sides). */
  private async _reopen (): Promise<void> {
    const mux = muxOf(this.a.stream)
    const victimMux = muxOf(this.a.victimStream)
    if (mux === null || victimMux === null || mux.destroyed) return
    const rep = this.a.core.core.replicator
    const added = once(this.a.core, 'peer-add', 2000)
    rep.attach(mux, mux.stream)
    this._count('open')
    let peer: Peer
    try {
      [peer] = await added
    } catch {
      return // the victim did not take it (the connection ended meanwhile)
    }
    this.peer = peer
    this.pending.length = 0 // the new channel's request ids start again
    this.victimPeer = this.world.victim.peers.find((p: Peer) => p.mux === victimMux) ?? this.victimPeer
  }

  // --- repeats, bursts, silence ----------------------------------------------------------

  private _repeat (): void {
    const rng = this.rng
    const again = this._last
    // A repeated answer ends the connection (PROTOCOL_ERROR): less often, so peers live long enough to do the rest.
    if (again === null || (this._lastIsData && rng.bool(0.8))) return
    const want = rng.pick([1, 2, 10, 100, 300])
    const n = Math.max(1, Math.min(want, Math.floor(REPEAT_BYTES / Math.max(1, this._lastBytes))))
    for (let i = 0; i < n && !this.victimPeer.closed; i++) again()
    this._last = again
  }

  private _burst (): void {
    const rng = this.rng
    const n = rng.int(2, 64)
    this.peer.channel.cork()
    try {
      for (let i = 0; i < n && !this.victimPeer.closed; i++) this._quick(rng.pick(QUICK))
    } finally {
      this.peer.channel.uncork()
    }
  }

  /** Stops reading the connection for a while (or for the rest of the iteration). */
  private _deaf (): void {
    const rng = this.rng
    if (this._deafUntil !== 0) return
    this.a.stopReading()
    this._deafUntil = rng.bool(0.2) ? Infinity : Date.now() + rng.int(10, 1500)
  }

  private _listen (): void {
    this._deafUntil = 0
    this.a.resumeReading()
  }

  /** Waits until our own stream may take more (or a moment passes): we flood, but not our own memory. */
  async pace (): Promise<void> {
    await new Promise(resolve => setImmediate(resolve))
    const stream = muxOf(this.a.stream)?.stream as any
    if (stream === undefined || stream.destroyed === true || !Writable.isBackpressured(stream)) return
    await new Promise<void>(resolve => {
      const done = (): void => { clearTimeout(t); stream.off('drain', done); resolve() }
      const t = setTimeout(done, 100)
      stream.once('drain', done)
    })
  }
}

