/**
 * @module signaling/error-events
 * The 'error' event of a signaling client. Not an EventEmitter on purpose: an EventEmitter
 * throws an 'error' nobody listens to, and a signaling client must never throw into the swarm.
 */
import { HypercoreError } from '../errors.js'

type Listener = (err: Error) => void

export class ErrorEvents {
  private readonly listeners = new Set<Listener>()

  on (event: 'error', listener: Listener): this {
    if (event === 'error') this.listeners.add(listener)
    return this
  }

  off (event: 'error', listener: Listener): this {
    if (event === 'error') this.listeners.delete(listener)
    return this
  }

  /** Delivers to every listener; a listener that throws does not stop the others. */
  protected emitError (err: unknown): void {
    const e = err instanceof HypercoreError ? err : HypercoreError.CONNECTION_CLOSED(err instanceof Error ? err.message : String(err), err)
    for (const l of [...this.listeners]) {
      try {
        l(e)
      } catch {}
    }
  }
}
