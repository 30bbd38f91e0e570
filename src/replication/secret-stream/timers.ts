/**
 * @module replication/secret-stream/timers
 * The secret stream's two clocks (spec §5.4): keep-alive (send an empty message when we have
 * sent nothing for `keepAlive` ms) and timeout (give up when nothing arrived for `timeout` ms).
 * Each is one interval that checks an "anything happened since the last tick" flag, so the
 * hot paths only set a boolean. Timers are unref'd where the platform allows, so an idle
 * stream does not keep a Node process alive on its own; `clear()` stops everything.
 */
import { HypercoreError } from '../../errors.js'

export interface TimerHooks {
  sendKeepAlive (): void
  onTimeout (): void
  /** Whether the stream is connected (the clocks only run then). */
  active (): boolean
}

type Handle = ReturnType<typeof setInterval>

export class Timers {
  keepAlive = 0
  timeout = 0
  private readonly _hooks: TimerHooks
  private _keepAliveTimer: Handle | null = null
  private _timeoutTimer: Handle | null = null
  private _sent = false
  private _received = false
  private _running = false
  private _cleared = false

  constructor (hooks: TimerHooks) {
    this._hooks = hooks
  }

  setKeepAlive (ms: number): void {
    this.keepAlive = _checkMs(ms, 'keepAlive')
    this._arm()
  }

  setTimeout (ms: number): void {
    this.timeout = _checkMs(ms, 'timeout')
    this._arm()
  }

  /** The stream connected: start the clocks that are set. */
  start (): void {
    this._running = true
    this._arm()
  }

  sent (): void { this._sent = true }
  received (): void { this._received = true }

  /** Stops both clocks for good (the stream closed). */
  clear (): void {
    this._cleared = true
    this._stop()
  }

  private _stop (): void {
    if (this._keepAliveTimer !== null) clearInterval(this._keepAliveTimer)
    if (this._timeoutTimer !== null) clearInterval(this._timeoutTimer)
    this._keepAliveTimer = this._timeoutTimer = null
  }

  private _arm (): void {
    this._stop()
    if (!this._running || this._cleared) return
    if (this.keepAlive > 0) {
      this._sent = false
      this._keepAliveTimer = _unref(setInterval(() => {
        if (!this._sent && this._hooks.active()) this._hooks.sendKeepAlive()
        this._sent = false
      }, this.keepAlive))
    }
    if (this.timeout > 0) {
      this._received = false
      this._timeoutTimer = _unref(setInterval(() => {
        if (!this._received && this._hooks.active()) this._hooks.onTimeout()
        this._received = false
      }, this.timeout))
    }
  }
}

function _checkMs (ms: unknown, name: string): number {
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) throw HypercoreError.BAD_ARGUMENT(`${name} must be a non-negative number of ms`)
  return ms
}

function _unref (h: Handle): Handle {
  (h as unknown as { unref?: () => void }).unref?.()
  return h
}
