/**
 * @module test/swarm/helpers
 * Swarm test helpers: swarms over the in-memory room with real WebRTC (`@roamhq/wrtc`),
 * cores on memory storage, waiting on events with a deadline (never sleeping).
 */
import { Swarm } from '../../src/swarm/index.js'
import type { SwarmOptions } from '../../src/swarm/index.js'
import type { SignalingClient } from '../../src/signaling/types.js'
import type { SecretStream } from '../../src/replication/secret-stream/index.js'
import { FakeSignaling, Room, type FakeOptions } from './fake-signaling.js'
import { createTestPeer, wrtc } from './test-peer.js'

export { ourWriter, ourReader, text } from '../replication/replicator-helpers.js'

/** Every swarm a test made: `afterEach(cleanup)` destroys what a failed test left behind. */
export const created = new Set<Swarm>()

export async function cleanup (): Promise<void> {
  const all = [...created]
  created.clear()
  await Promise.all(all.map(s => s.destroy()))
}

export function track (swarm: Swarm): Swarm {
  created.add(swarm)
  return swarm
}

export function makeSwarm (room: Room, opts: Partial<SwarmOptions> & { fake?: FakeOptions, extra?: SignalingClient[] } = {}): Swarm {
  const { fake, extra, ...rest } = opts
  return track(new Swarm({
    signaling: [...(extra ?? []), new FakeSignaling(room, fake)],
    createPeer: createTestPeer,
    wrtc,
    flushQuiet: 150,
    backoff: { initial: 100, max: 1000 },
    ...rest
  }))
}

/** Resolves with the args of the next `event` (optionally the next one passing `filter`), or rejects after `ms`. */
export function next (emitter: { on: Function, off: Function }, event: string, filter: (...args: any[]) => boolean = () => true, ms = 15000): Promise<any[]> {
  return new Promise((resolve, reject) => {
    const onEvent = (...args: any[]): void => {
      if (!filter(...args)) return
      clearTimeout(t)
      emitter.off(event, onEvent)
      resolve(args)
    }
    const t = setTimeout(() => { emitter.off(event, onEvent); reject(new Error(`timed out waiting for ${event}`)) }, ms)
    emitter.on(event, onEvent)
  })
}

/** Resolves when `swarm` holds `n` connections (checked on every connection event). */
export async function connections (swarm: Swarm, n: number, ms = 15000): Promise<SecretStream[]> {
  if (swarm.connections.size !== n) await next(swarm, 'connection', () => swarm.connections.size === n, ms)
  return [...swarm.connections]
}

export async function destroyAll (...swarms: Swarm[]): Promise<void> {
  await Promise.all(swarms.map(s => s.destroy()))
}

/** Resolves when `cond()` holds, re-checked on every (dis)connection of the swarms, or rejects after `ms`. */
export function settle (swarms: Swarm[], cond: () => boolean, ms = 15000): Promise<void> {
  return new Promise((resolve, reject) => {
    const check = (): void => {
      if (!cond()) return
      done()
      resolve()
    }
    const done = (): void => {
      clearTimeout(t)
      for (const s of swarms) { s.off('connection', onEvent); s.off('disconnection', onEvent) }
    }
    // A connection event fires before the swarm's bookkeeping settles around it: re-check a tick later.
    const onEvent = (): void => { setImmediate(check) }
    const t = setTimeout(() => { done(); reject(new Error('swarms did not settle in time')) }, ms)
    for (const s of swarms) { s.on('connection', onEvent); s.on('disconnection', onEvent) }
    check()
  })
}
