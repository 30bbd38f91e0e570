/**
 * @module core/session-wiring
 * What connects one session to the shared core: relaying the core's updates as the session's
 * events (and to its frozen view, for a snapshot), and waiting for a block that is not
 * stored yet (`get` with `wait`, `onwait`, `timeout`; the replicator is asked to fetch it).
 */
import type { Core, CoreUpdate } from './core.js'
import type { GetOptions, HypercoreOptions } from './session-options.js'
import type { SnapshotView } from './snapshot.js'
import type { BlockWaits, Requester } from './waits.js'

/** The session side of an update: its events, its waits, its snapshot view. */
export interface UpdateTarget {
  emit (event: string, ...args: unknown[]): boolean
  readonly waits: BlockWaits
  readonly snapshotView: SnapshotView | null
  readonly sparse: boolean
  readonly length: number
  /** The length a `sparse: false` session last announced. */
  reportedLength: number
}

/**
 * Wakes the session's waits for appended blocks; a snapshot only learns that a truncation
 * went below it; a live session emits 'append' and 'truncate' (ancestors, fork) as Hypercore 10's README
 * says — for `sparse: false`, when its (contiguous) length grows or shrinks.
 */
export function relayUpdate (s: UpdateTarget, u: CoreUpdate): void {
  if (u.type === 'append' || u.type === 'download') s.waits.wake(u.start, u.end)
  const snapshot = s.snapshotView
  if (snapshot !== null) {
    if (u.type === 'truncate') snapshot.truncated(u.ancestors)
    return
  }
  if (!s.sparse) {
    // hypercore@10: a non-sparse session's length is the contiguous length, and it announces
    // only changes of that (a block arriving past a gap or an append after one says nothing).
    const length = s.length
    const before = s.reportedLength
    s.reportedLength = length
    if (length < before) s.emit('truncate', length, u.fork)
    else if (length > before) s.emit('append')
    return
  }
  if (u.type === 'append') s.emit('append')
  else if (u.type === 'truncate') s.emit('truncate', u.ancestors, u.fork)
}

/** The fetch of block `index` through whichever replicator the core has when it is asked. */
export function blockRequester (core: Core, index: number): Requester {
  return () => {
    const rep = core.replicator
    return rep === null ? null : signal => rep.request(index, signal)
  }
}

/**
 * Waits until block `index` is stored, with the call's options over the session's defaults.
 * Returns false without waiting when `wait` is off. `onwait` runs once, before waiting.
 */
export async function waitForBlock<S> (session: S, core: Core, waits: BlockWaits, index: number, opts: GetOptions, defaults: HypercoreOptions): Promise<boolean> {
  const wait = opts.wait ?? defaults.wait ?? true
  if (!wait) return false
  const onwait = opts.onwait ?? defaults.onwait ?? null
  if (onwait !== null) onwait(index, session as never)
  const timeout = opts.timeout ?? defaults.timeout ?? 0
  await waits.wait(index, i => core.has(i), timeout, blockRequester(core, index), opts.signal)
  return true
}
