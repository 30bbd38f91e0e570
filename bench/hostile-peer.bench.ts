/**
 * @module bench/hostile-peer.bench
 * What each hostile-peer attack costs its victim, against the same work with no attacker in
 * the same run. The victim is a reader downloading `blocks` 1 KiB blocks from an honest writer
 * (both ours, memory storage, in-process pipes, default replicator options: the 10 s request
 * timeout a real page has) while one attack runs; the reference is the same download alone.
 * Reported per attack: the victim's worst event-loop stall (a 5 ms interval probe, from when
 * the attacker has sent its messages), its memory growth after a full GC (V8
 * heap plus array buffers), the download's time,
 * and how the attacker's connection ended.
 *
 * The attacks (the attacker holds only the core's key):
 *   1. `range{drop, 0, 2^52}` and `range{0, 2^52}` pairs, 200 of them;
 *   2. four connections each claiming `range{2, 2^52}` plus scattered partial bitfield words
 *      far out (filling the per-peer, per-core and process budgets);
 *   3. 20,000 `want`s from a peer that stops reading;
 *   4a. a claimed length of 2^40 with `canUpgrade`, never answered (the victim calls update());
 *   4b. every block claimed, no request ever answered.
 *
 * Run: node --import tsx --expose-gc bench/hostile-peer.bench.ts [blocks]
 */
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { connect, once, ourReader, ourWriter } from '../test/replication/replicator-helpers.js'
import { attack, blocks as makeBlocks, loopProbe, processed, type Attacker } from '../test/replication/hostile-helpers.js'

export interface HostileRow {
  attack: string
  stallMs: number
  memoryGrowthMiB: number
  downloadMs: number
  /** downloadMs / the reference's. */
  timeRatio: number
  /** The typed code the attacker's connection ended with (null: still open at the end). */
  attackerClosedWith: string | null
}

export interface HostileResult {
  blocks: number
  reference: { stallMs: number, memoryGrowthMiB: number, downloadMs: number }
  rows: HostileRow[]
}

const gc = (globalThis as { gc?: () => void }).gc
function heapMiB (): number {
  gc?.()
  gc?.()
  // Bitfield pages are typed arrays, whose bytes live outside the V8 heap: count both.
  const m = process.memoryUsage()
  return (m.heapUsed + m.arrayBuffers) / 2 ** 20
}

type Attack = (victim: any, key: Uint8Array, n: number) => Promise<Attacker[]>

const attacks: Array<[string, Attack]> = [
  ['1: range{drop, 0, 2^52} / range{0, 2^52} × 200', async (v, key) => {
    const a = await attack(v, key)
    a.cork()
    for (let i = 0; i < 200; i++) {
      a.send.range(true, 0, 2 ** 52)
      a.send.range(false, 0, 2 ** 52)
    }
    a.uncork()
    return [a]
  }],
  ['2: four connections claiming 2^52 blocks and scattered words far out', async (v, key) => {
    const all: Attacker[] = []
    const words = new Uint32Array(1024).fill(0x55555555)
    for (let c = 0; c < 4; c++) {
      const a = await attack(v, key)
      a.cork()
      a.send.range(false, 2, 2 ** 52)
      // Partial words cost pages (a run cannot hold them): spread so each lands on its own page.
      for (let i = 0; i < 2048; i++) a.send.bitfield((c * 2048 + i + 1) * 2 ** 20 * 32, words)
      a.uncork()
      all.push(a)
    }
    return all
  }],
  ['3: 20,000 wants from a peer that stopped reading', async (v, key, n) => {
    const a = await attack(v, key)
    a.send.sync({ length: n, remoteLength: n })
    await processed(a)
    a.stopReading()
    for (let batch = 0; batch < 20 && !a.victimPeer.closed; batch++) {
      a.cork()
      for (let i = 0; i < 1000; i++) a.send.want(0, 2 ** 21)
      a.uncork()
    }
    return [a]
  }],
  ['4a: claims length 2^40 with canUpgrade, never answers', async (v, key) => {
    const a = await attack(v, key)
    a.echo = true
    a.send.sync({ length: 2 ** 40, canUpgrade: true, remoteLength: 0 })
    void v.update({ wait: true }).catch(() => {})
    return [a]
  }],
  ['4b: claims every block, answers no request', async (v, key, n) => {
    const a = await attack(v, key)
    a.echo = true
    a.send.sync({ length: n, remoteLength: n })
    a.send.range(false, 0, n)
    await processed(a)
    return [a]
  }]
]

/** One download of `n` blocks by a fresh victim, with `hostile` (or nothing) attacking meanwhile. */
async function run (n: number, hostile: Attack | null): Promise<{ stallMs: number, memoryGrowthMiB: number, downloadMs: number, closed: Array<string | null> }> {
  const w = await ourWriter()
  const block = Buffer.alloc(1024, 0x61)
  for (let i = 0; i < n; i += 100) await w.append(Array.from({ length: Math.min(100, n - i) }, () => block))
  const v = await ourReader(w.key!)
  const before = heapMiB()
  // The attacker runs in this process: its own encoding and encryption of what it sends are
  // not the victim's cost, so the probe starts once it has sent (the victim reads it later).
  const attackers = hostile === null ? [] : await hostile(v, w.key!, n)
  const probe = loopProbe()
  const added = once(v, 'peer-add')
  const honest = connect(w, v)
  await added
  const started = performance.now()
  await v.download({ start: 0, end: n }).done()
  const downloadMs = performance.now() - started
  const stallMs = probe.stop()
  const memoryGrowthMiB = heapMiB() - before
  const closed = attackers.map(a => a.victimPeer.closed ? ((a.victimPeer as any).mux?.error?.code ?? 'closed') : null)
  for (const a of attackers) a.destroy()
  await honest.done()
  await v.close()
  await w.close()
  return { stallMs, memoryGrowthMiB, downloadMs, closed }
}

const round1 = (x: number): number => Math.round(x * 10) / 10

export async function hostilePeerBench (opts: { blocks?: number } = {}): Promise<HostileResult> {
  const n = opts.blocks ?? 2000
  await run(Math.min(n, 200), null) // warm-up: code paths compiled before anything is measured
  const ref = await run(n, null)
  const rows: HostileRow[] = []
  for (const [name, fn] of attacks) {
    const r = await run(n, fn)
    rows.push({
      attack: name,
      stallMs: round1(r.stallMs),
      memoryGrowthMiB: round1(r.memoryGrowthMiB),
      downloadMs: Math.round(r.downloadMs),
      timeRatio: Math.round(r.downloadMs / ref.downloadMs * 10) / 10,
      attackerClosedWith: r.closed.find(c => c !== null) ?? null
    })
  }
  return { blocks: n, reference: { stallMs: round1(ref.stallMs), memoryGrowthMiB: round1(ref.memoryGrowthMiB), downloadMs: Math.round(ref.downloadMs) }, rows }
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  if (gc === undefined) console.error('(run with --expose-gc for heap figures after a full GC)')
  const res = await hostilePeerBench({ blocks: Number(process.argv[2] ?? 2000) })
  console.log(JSON.stringify(res, null, 2))
  process.exit(0)
}
