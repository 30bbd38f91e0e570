/**
 * @module signaling/tracker-socket
 * One WebSocket to one tracker URL that comes back after it drops: reconnects with
 * exponential backoff (with jitter, so a tracker restart is not hit by every client in
 * the same second) until closed. Knows nothing of the tracker protocol: text in, text out.
 */
import { WebSocketImpl } from '#platform/websocket'
import { HypercoreError } from '../errors.js'
import { retryDelay } from './retry-delay.js'

export interface TrackerSocketHandlers {
  /** The socket (re)opened: announce everything again. */
  onOpen (): void
  onMessage (text: unknown): void
  /** A connection failed or dropped; a retry is already scheduled. */
  onError (err: HypercoreError): void
}

export interface BackoffOptions {
  /** First retry delay; doubles per failed attempt. */
  minMs?: number
  maxMs?: number
}

/** How long close() waits for the socket's close handshake before giving up on it. */
const CLOSE_WAIT_MS = 2000

export class TrackerSocket {
  readonly url: string
  private readonly handlers: TrackerSocketHandlers
  private readonly minMs: number
  private readonly maxMs: number
  private ws: WebSocket | null = null
  private attempts = 0
  private retryTimer: ReturnType<typeof setTimeout> | null = null
  private closed = false

  constructor (url: string, handlers: TrackerSocketHandlers, backoff: BackoffOptions = {}) {
    this.url = url
    this.handlers = handlers
    this.minMs = backoff.minMs ?? 1000
    this.maxMs = backoff.maxMs ?? 60_000
  }

  get isOpen (): boolean {
    return this.ws !== null && this.ws.readyState === WebSocketImpl.OPEN
  }

  /** Connects unless connected, connecting, waiting to retry or closed. */
  start (): void {
    if (this.closed || this.ws !== null || this.retryTimer !== null) return
    let ws: WebSocket
    try {
      ws = new WebSocketImpl(this.url)
    } catch (err) {
      this.failed(false, err)
      return
    }
    this.ws = ws
    let opened = false
    ws.onopen = () => {
      if (this.ws !== ws) return
      opened = true
      this.attempts = 0
      this.handlers.onOpen()
    }
    ws.onmessage = (ev: MessageEvent) => {
      if (this.ws === ws) this.handlers.onMessage(ev.data)
    }
    // 'error' always comes with (or before) 'close'; report once, from 'close'.
    ws.onerror = () => {}
    ws.onclose = (ev: CloseEvent) => {
      if (this.ws !== ws) return
      this.ws = null
      this.failed(opened, ev.reason !== '' ? ev.reason : `code ${ev.code}`)
    }
  }

  /** Sends a text frame; false when the socket is not open (the caller re-announces on open). */
  send (text: string): boolean {
    if (!this.isOpen) return false
    try {
      this.ws!.send(text)
      return true
    } catch {
      return false
    }
  }

  /** Stops for good; resolves once the socket is closed (or after CLOSE_WAIT_MS). */
  async close (): Promise<void> {
    this.closed = true
    if (this.retryTimer !== null) clearTimeout(this.retryTimer)
    this.retryTimer = null
    const ws = this.ws
    this.ws = null
    if (ws === null || ws.readyState === WebSocketImpl.CLOSED) return
    await new Promise<void>(resolve => {
      const timer = setTimeout(done, CLOSE_WAIT_MS)
      function done (): void {
        clearTimeout(timer)
        resolve()
      }
      ws.onclose = done
      ws.onopen = () => ws.close()
      ws.onmessage = null
      // A CONNECTING socket cannot be closed politely in every implementation (ws throws,
      // browsers log): close it as soon as it opens, or let it fail on its own.
      if (ws.readyState === WebSocketImpl.OPEN) ws.close(1000)
      else if (ws.readyState === WebSocketImpl.CLOSING) { /* close event follows */ } else {
        try { ws.close() } catch { /* onopen above closes it */ }
      }
    })
  }

  private failed (opened: boolean, cause: unknown): void {
    if (this.closed) return
    const delay = retryDelay(this.attempts, this.minMs, this.maxMs)
    this.attempts++
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null
      this.start()
    }, delay)
    const why = `retrying in ${Math.round(delay)} ms`
    this.handlers.onError(opened
      ? HypercoreError.CONNECTION_CLOSED(`tracker ${this.url} dropped the connection; ${why}`, cause)
      : HypercoreError.SIGNALING_FAILED(`cannot connect to tracker ${this.url}; ${why}`, cause))
  }
}
