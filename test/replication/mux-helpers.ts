/**
 * @module test/replication/mux-helpers
 * In-memory message pairs for the mux tests: `memoryPair()` (an EventEmitter pair that
 * records every frame and lets a test inject raw frames synchronously) and `streamxPair()`
 * (two streamx Duplexes, which the real protomux needs). Frames are delivered a microtask
 * later, in order, like a real transport.
 */
import { EventEmitter } from 'node:events'
import { Duplex } from 'streamx'
import type { MessageStream } from '../../src/replication/mux/index.js'

export class MemoryStream extends EventEmitter implements MessageStream {
  peer: MemoryStream | null = null
  destroyed = false
  destroyError: unknown = null
  /** Every frame written, in order (copies). */
  readonly written: Uint8Array[] = []

  write (message: Uint8Array): boolean {
    if (this.destroyed) return false
    const copy = message.slice()
    this.written.push(copy)
    const peer = this.peer
    if (peer !== null) queueMicrotask(() => { if (!peer.destroyed) peer.emit('data', copy) })
    return true
  }

  /** Delivers a frame to this side's mux right now, as if the peer had sent it. */
  inject (frame: Uint8Array): void {
    this.emit('data', frame)
  }

  destroy (err?: Error): void {
    if (this.destroyed) return
    this.destroyed = true
    this.destroyError = err ?? null
    if (err) this.emit('error', err)
    this.emit('close')
    this.peer?.destroy()
  }
}

export function memoryPair (): [MemoryStream, MemoryStream] {
  const a = new MemoryStream()
  const b = new MemoryStream()
  a.peer = b
  b.peer = a
  return [a, b]
}

/** A lone stream with no peer: the test plays the remote by injecting frames. */
export function loneStream (): MemoryStream {
  return new MemoryStream()
}

/** Two streamx Duplexes wired back to back, each write one message; `log` sees every frame. */
export function streamxPair (log?: (from: 'a' | 'b', frame: Uint8Array) => void): [Duplex, Duplex] {
  // eslint-disable-next-line prefer-const
  let b: Duplex
  const a: Duplex = new Duplex({
    write (data, cb) { log?.('a', data as Uint8Array); b.push(data); cb(null) },
    destroy (cb) { b.destroy(); cb(null) }
  })
  b = new Duplex({
    write (data, cb) { log?.('b', data as Uint8Array); a.push(data); cb(null) },
    destroy (cb) { a.destroy(); cb(null) }
  })
  return [a, b]
}

/** Lets queued microtasks and I/O callbacks run (used only to check that nothing happened). */
export function settle (): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve))
}

/** A promise and its resolver, for awaiting a callback. */
export function deferred<T = void> (): { promise: Promise<T>, resolve: (v: T) => void } {
  let resolve!: (v: T) => void
  const promise = new Promise<T>((r) => { resolve = r })
  return { promise, resolve }
}
