/**
 * @module replication/mux/inbox
 * The incoming side's pace: frames are dispatched only as fast as we can handle them.
 *
 * - **Holds.** A channel may hold the input (`hold`/`release`, counted): the replicator does
 *   while its answers to a peer are behind, so a peer that sends faster than it reads stops
 *   being read instead of being buffered. Holds stop dispatching only when the stream can
 *   pause (`pause`/`resume`); otherwise they are advisory.
 * - **Turns.** After `maxBusyMs` of dispatching without the event loop getting a turn, the
 *   stream is paused until it has had one (next-turn.ts). A batch is cut between items for
 *   that and continued where it stopped, so even a 16 MiB batch of tiny messages, or a
 *   replication over an in-process pipe, never holds the event loop (or a page's UI) long.
 *
 * Order is kept: frames that arrive while a batch is unfinished, or before a pause took
 * effect, wait behind it.
 */
import { countBatchItems, walkBatch, type BatchPosition } from '../../wire/mux-frames.js'
import { nextTurn } from './next-turn.js'
import type { MessageStream } from './types.js'

/** What the inbox dispatches into (the Mux). */
export interface InboxHost {
  /** The mux is destroyed: nothing more is dispatched. */
  destroyed: () => boolean
  /** Decodes and dispatches one whole frame; a batch frame comes back through `Inbox.batch`. Never throws. */
  frame: (frame: Uint8Array) => void
  /** Decodes and dispatches one item of a batch (may throw: the batch then fails). */
  item: (channel: number, body: Uint8Array) => void
  /** The batch failed: destroy (before the replies corked so far are flushed). */
  fail: (err: unknown) => void
  cork: () => void
  uncork: () => void
}

export class Inbox {
  private readonly _stream: MessageStream
  private readonly _host: InboxHost
  private readonly _maxBusyMs: number
  /** The stream can stop its 'data' events: only then do holds stop dispatching. */
  private readonly _canPause: boolean
  private _holds = 0
  /** When the current run of dispatching began (the first frame since the event loop's last turn). */
  private _busySince = 0
  /** A callback is queued for the event loop's next turn, which ends the current run. */
  private _turnPending = false
  /** Reading stops until the next turn (the run went on too long). */
  private _yielding = false
  /** Whether we paused the stream (holds or yielding). */
  private _paused = false
  /** A batch whose dispatch was cut short (continued on a later turn). */
  private _rest: { payload: Uint8Array, at: BatchPosition | null, cork: boolean } | null = null
  /** Frames waiting behind the unfinished batch, or that came before a pause took effect. */
  private readonly _backlog: Uint8Array[] = []
  private readonly _onturn = (): void => this._turn()

  constructor (stream: MessageStream, host: InboxHost, maxBusyMs: number) {
    this._stream = stream
    this._host = host
    this._maxBusyMs = maxBusyMs
    this._canPause = typeof stream.pause === 'function' && typeof stream.resume === 'function'
  }

  /** True while some holder keeps the stream from being read. */
  get held (): boolean { return this._holds > 0 }

  hold (): void {
    this._holds++
    this._syncPause()
  }

  release (): void {
    if (this._holds === 0) return
    this._holds--
    this._syncPause()
    // What was cut short while held goes on at the next turn.
    if (!this._stopped() && this._pending()) this._startRun()
  }

  /** A frame from the stream. */
  push (frame: Uint8Array): void {
    if (this._pending() || this._stopped()) {
      this._backlog.push(frame)
      return
    }
    this._startRun()
    this._host.frame(frame)
    this._busy()
  }

  /** A batch frame's payload (from `InboxHost.frame`): dispatched item by item, cut when busy. */
  batch (payload: Uint8Array): void {
    // Validate the whole batch first, so a malformed tail dispatches nothing; and, like
    // protomux, answer a multi-item batch with a batch (§5.5).
    this._rest = { payload, at: null, cork: countBatchItems(payload) > 1 }
    this._continueBatch()
  }

  /** The stream is gone: drop what waits. */
  clear (): void {
    this._rest = null
    this._backlog.length = 0
  }

  private _pending (): boolean {
    return this._rest !== null || this._backlog.length > 0
  }

  /** A holder stops dispatching (when the stream can pause). */
  private _stopped (): boolean {
    return this._holds > 0 && this._canPause
  }

  /** Pauses the stream while held or yielding, resumes it otherwise. */
  private _syncPause (): void {
    const pause = !this._host.destroyed() && (this._holds > 0 || this._yielding)
    if (pause === this._paused) return
    this._paused = pause
    if (pause) this._stream.pause?.()
    else this._stream.resume?.()
  }

  /** Marks the start of a run of dispatching; the event loop's next turn ends it. */
  private _startRun (): void {
    if (this._turnPending) return
    this._turnPending = true
    this._busySince = Date.now()
    nextTurn(this._onturn)
  }

  /** True (and reading stopped until the next turn) once this run has gone on for `maxBusyMs`. */
  private _busy (): boolean {
    if (this._yielding) return true
    if (Date.now() - this._busySince < this._maxBusyMs) return false
    this._yielding = true
    this._syncPause()
    return true
  }

  /** The event loop had a turn: continue what was cut short, then read again. */
  private _turn (): void {
    this._turnPending = false
    if (this._host.destroyed()) return
    this._yielding = false
    if (!this._stopped() && this._pending()) {
      this._startRun()
      this._continue()
    }
    this._syncPause()
  }

  /** Dispatches the unfinished batch and the frames behind it, until done, held or busy again. */
  private _continue (): void {
    while (!this._host.destroyed() && !this._stopped()) {
      if (this._rest !== null) {
        if (!this._continueBatch()) return
        continue
      }
      const frame = this._backlog.shift()
      if (frame === undefined) return
      this._host.frame(frame)
      if (this._rest === null && (this._busy() || this._stopped())) return
    }
  }

  /** Dispatches items of the unfinished batch until it ends (true) or must stop (false). */
  private _continueBatch (): boolean {
    const rest = this._rest!
    const host = this._host
    if (rest.cork) host.cork()
    let stopped: BatchPosition | null = null
    try {
      stopped = walkBatch(rest.payload, (channel, body) => {
        if (host.destroyed()) return false
        host.item(channel, body)
        return !(this._busy() || this._stopped())
      }, rest.at)
    } catch (err) {
      this._rest = null
      host.fail(err) // first, so the replies corked so far are dropped, not flushed
      return true
    } finally {
      if (rest.cork) host.uncork()
    }
    if (stopped === null || host.destroyed()) {
      this._rest = null
      return true
    }
    rest.at = stopped
    return false
  }
}
