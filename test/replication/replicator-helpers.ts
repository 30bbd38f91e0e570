/**
 * @module test/replication/replicator-helpers
 * Helpers for the replicator tests: cores on memory storage (ours and hypercore@10), piping
 * two replication streams together, waiting for events with a deadline.
 */
import { createRequire } from 'node:module'
import { Hypercore } from '../../src/core/hypercore.js'
import { MemoryStorage } from '../../src/storage/memory.js'

const require = createRequire(import.meta.url)
export const RefHypercore = require('hypercore') as any
export const RAM = require('random-access-memory') as any

/** A fresh writer (ours) on memory storage. */
export async function ourWriter (opts: Record<string, unknown> = {}): Promise<Hypercore> {
  const core = new Hypercore(() => new MemoryStorage(), opts)
  await core.ready()
  return core
}

/** A reader (ours) of `key` on memory storage. */
export async function ourReader (key: Uint8Array, opts: Record<string, unknown> = {}): Promise<Hypercore> {
  const core = new Hypercore(() => new MemoryStorage(), key, opts)
  await core.ready()
  return core
}

export async function refWriter (opts: Record<string, unknown> = {}): Promise<any> {
  const core = new RefHypercore(RAM, opts)
  await core.ready()
  return core
}

export async function refReader (key: Uint8Array, opts: Record<string, unknown> = {}): Promise<any> {
  const core = new RefHypercore(RAM, key, opts)
  await core.ready()
  return core
}

/** Connects two cores (any mix of ours and hypercore@10): a replicates as initiator. */
export function connect (a: any, b: any, opts: Record<string, unknown> = {}): { sa: any, sb: any, done: () => Promise<void> } {
  const sa = a.replicate(true, { keepAlive: false, ...opts })
  const sb = b.replicate(false, { keepAlive: false, ...opts })
  sa.pipe(sb).pipe(sa)
  sa.on('error', () => {})
  sb.on('error', () => {})
  const closed = (s: any): Promise<void> => new Promise(resolve => { if (s.destroyed) resolve(); else s.once('close', () => resolve()) })
  return {
    sa,
    sb,
    done: async () => {
      sa.destroy()
      sb.destroy()
      await Promise.all([closed(sa), closed(sb)])
    }
  }
}

/** Resolves with the args of the next `event`, or rejects after `ms`. */
export function once (emitter: any, event: string, ms = 10000): Promise<any[]> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`timed out waiting for ${event}`)), ms)
    emitter.once(event, (...args: any[]) => { clearTimeout(t); resolve(args) })
  })
}

/** Polls `fn` (on events, not sleeps: every emitted 'append'/'download' or 10 ms ticks) until true. */
export async function until (fn: () => boolean | Promise<boolean>, ms = 10000): Promise<void> {
  const deadline = Date.now() + ms
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error('condition not met in time')
    await new Promise(resolve => setTimeout(resolve, 10))
  }
}

export const text = (b: unknown): string => Buffer.from(b as Uint8Array).toString()
