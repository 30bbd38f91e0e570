/**
 * @module test/replication/hostile-helpers
 * Driving a hostile peer at the message level against a victim core, and measuring what the
 * victim pays: the longest event-loop stall (a 5 ms interval probe), bytes it holds for a
 * peer (its remote-availability accessors, the stream's pending output), and how each
 * connection ended. The attacker is a real core with the key (so its capability is right)
 * whose replicator is silenced: it says and answers only what the test sends.
 */
import { HypercoreError } from '../../src/errors.js'
import { muxOf } from '../../src/replication/replicator/index.js'
import type { Peer } from '../../src/replication/replicator/peer.js'
import { Replicator } from '../../src/replication/replicator/replicator.js'
import { once, ourReader } from './replicator-helpers.js'

/** Measures the longest gap between ticks of a 5 ms interval beyond its period (ms), until `stop()`. */
export function loopProbe (): { stop: () => number, max: () => number } {
  const period = 5
  let last = performance.now()
  let worst = 0
  const t = setInterval(() => {
    const now = performance.now()
    worst = Math.max(worst, now - last - period)
    last = now
  }, period)
  const max = (): number => Math.max(worst, performance.now() - last - period)
  return {
    max,
    stop: () => {
      const m = max()
      clearInterval(t)
      return m
    }
  }
}

/** Resolves `p`, or rejects with `what` after `ms` (a deadline on behaviour, not a sleep). */
export async function within<T> (p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const deadline = new Promise<never>((_resolve, reject) => { timer = setTimeout(() => reject(new Error(`${what}: not done within ${ms} ms`)), ms) })
  try {
    return await Promise.race([p, deadline])
  } finally {
    clearTimeout(timer)
  }
}

/** The error a replication stream's connection ended with, once it closed. */
export function closedWith (stream: any): Promise<HypercoreError | null> {
  return new Promise(resolve => {
    const done = (): void => resolve(muxOf(stream)?.error ?? null)
    if (stream.destroyed) done()
    else stream.once('close', done)
  })
}

/** Makes the victim's replicator with `opts` (small timeouts) before anything replicates. */
export function victimOptions (victim: any, opts: Record<string, unknown>): Replicator {
  return Replicator.for(victim.core, opts)
}

export interface Attacker {
  core: any
  /** The attacker's Peer: raw messages go out through `send`. */
  peer: Peer
  /** The victim's Peer for this connection (what it knows and holds for the attacker). */
  victimPeer: Peer
  /** The attacker's and the victim's replication streams. */
  stream: any
  victimStream: any
  /** Emits 'data' for each message the attacker receives from the victim. */
  incoming: any
  /** Resolves with the error the victim's side of this connection ended with. */
  closed: Promise<HypercoreError | null>
  send: {
    sync: (m: { fork?: number, length: number, remoteLength?: number, canUpgrade?: boolean }) => void
    range: (drop: boolean, start: number, length: number) => void
    want: (start: number, length: number) => void
    bitfield: (start: number, words: Uint32Array) => void
    data: (m: any) => void
    noData: (request: number) => void
  }
  /** Requests the victim sent to the attacker (the attacker answers none unless `onrequest` is set). */
  requests: any[]
  onrequest: ((m: any) => void) | null
  /**
   * Acknowledge the victim's length as an honest peer does (§5.7): each victim sync is
   * answered with the attacker's last claim, echoing the victim's length.
   */
  echo: boolean
  /** The attacker stops reading: everything the victim sends it stays in the victim's buffers. */
  stopReading: () => void
  resumeReading: () => void
  /** Cork/uncork the attacker's writes into one batch. */
  cork: () => void
  uncork: () => void
  destroy: () => void
}

/**
 * Connects a silenced attacker with `key` to `victim` (the attacker is the initiator). The
 * victim's replicator must already exist with the options the test wants (`victimOptions`).
 */
export async function attack (victim: any, key: Uint8Array): Promise<Attacker> {
  const core = await ourReader(key)
  const sa = core.replicate(true, { keepAlive: false })
  const rep = (core as any).core.replicator as Replicator
  const requests: any[] = []
  const a: Partial<Attacker> = { core, requests, onrequest: null, echo: false }
  let claim: { fork?: number, length: number, canUpgrade?: boolean } | null = null
  // Silence: no sync of its own, no requests, no answers; the test speaks for it.
  const noop = (): void => {}
  Object.assign(rep, {
    sendSync: noop,
    onsync: (_p: unknown, m: any) => { if (a.echo === true && claim !== null) a.send!.sync({ ...claim, remoteLength: m.length }) },
    onrequest: (_p: unknown, m: any) => { requests.push(m); a.onrequest?.(m) },
    oncancel: noop,
    ondata: async () => {},
    onnodata: noop,
    onwant: noop,
    onbitfield: noop,
    onrange: noop
  })
  rep.scheduler.kick = noop
  spyMarkers(Replicator.for(victim.core))
  const sb = victim.replicate(false, { keepAlive: false })
  sa.pipe(sb).pipe(sa)
  sa.on('error', () => {})
  sb.on('error', () => {})
  const [peer] = await once(core, 'peer-add')
  const victimMux = muxOf(sb)
  let victimPeer: Peer | undefined
  while ((victimPeer = victim.peers.find((p: Peer) => p.mux === victimMux)) === undefined) await once(victim, 'peer-add')
  const m = (type: number) => (msg: unknown) => { peer.channel.messages[type]!.send(msg) }
  return Object.assign(a, {
    peer,
    victimPeer,
    stream: sa,
    victimStream: sb,
    incoming: muxOf(sa)!.stream,
    closed: closedWith(sb),
    send: {
      sync: (s: { fork?: number, length: number, remoteLength?: number, canUpgrade?: boolean }) => {
        claim = { fork: s.fork, length: s.length, canUpgrade: s.canUpgrade }
        m(0)({ fork: s.fork ?? 0, length: s.length, remoteLength: s.remoteLength ?? 0, canUpgrade: s.canUpgrade ?? false, uploading: true, downloading: true, hasManifest: false, allowPush: false })
      },
      range: (drop: boolean, start: number, length: number) => m(8)({ drop, start, length }),
      want: (start: number, length: number) => m(5)({ start, length, any: false }),
      bitfield: (start: number, bitfield: Uint32Array) => m(7)({ start, bitfield }),
      data: m(3),
      noData: (request: number) => m(4)({ request, reason: null })
    },
    // (Through the stream itself where the mux cannot hold its input: the code before it could.)
    stopReading: () => { const mux: any = muxOf(sa); if (typeof mux.holdInput === 'function') mux.holdInput(); else mux.stream.pause() },
    resumeReading: () => { const mux: any = muxOf(sa); if (typeof mux.releaseInput === 'function') mux.releaseInput(); else mux.stream.resume() },
    cork: () => peer.channel.cork(),
    uncork: () => peer.channel.uncork(),
    destroy: () => { sa.destroy(); sb.destroy() }
  }) as Attacker
}

const MARKER = 2 ** 51
let markers = 0
const seen = new WeakMap<Peer, number>()
const spied = new WeakSet<object>()

/** Records, per peer, the last marker (a `range{drop}` at MARKER + n) the victim processed. */
function spyMarkers (rep: Replicator): void {
  if (spied.has(rep)) return
  spied.add(rep)
  const orig = rep.onrange.bind(rep)
  rep.onrange = (peer, m) => {
    if (m.drop && m.start >= MARKER) seen.set(peer, m.start)
    orig(peer, m)
  }
}

/** Waits until the victim has processed everything the attacker sent so far (a marker it must read). */
export async function processed (a: Attacker): Promise<void> {
  const marker = MARKER + ++markers
  a.send.range(true, marker, 1)
  while (seen.get(a.victimPeer) !== marker && !a.victimPeer.closed) await new Promise(resolve => setImmediate(resolve))
}

/**
 * Keeps the victim wanting blocks `[0, n)` the attacker claims (clear, download, again) until
 * the attacker is dropped: each round must finish within a few request timeouts, its stalled
 * requests going to honest peers. Resolves with how each attacker was dropped; the blocks are
 * stored at the end.
 */
export async function demandUntilDropped (v: any, a: Attacker | Attacker[], n: number, timeout: number): Promise<Array<string | null>> {
  const attackers = Array.isArray(a) ? a : [a]
  const deadline = Date.now() + 30000
  for (let round = 0; attackers.some(x => !x.victimPeer.closed); round++) {
    if (Date.now() > deadline) throw new Error('the attacker was not dropped within 30 s')
    await v.clear(0, n)
    await within(v.download({ start: 0, end: n }).done(), 8 * timeout + 2000, `download round ${round}`)
  }
  return await Promise.all(attackers.map(async x => (await x.closed)?.code ?? null))
}

export const blocks = (n: number, p = 'b'): Buffer[] => Array.from({ length: n }, (_, i) => Buffer.from(p + i))
