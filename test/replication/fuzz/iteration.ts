/**
 * @module test/replication/fuzz/iteration
 * One seeded fuzz iteration: an honest writer, a victim reader of it, and one to a few hostile
 * peers (hostile-peer.ts). The hostile peers first have the victim alone for a moment (or the
 * writer is already there), then go on while the victim, connected to the writer too, must
 * get its work done (victim.ts); dropped hostile peers are replaced. Measured: the worst
 * stall (stall-probe.ts), heap growth, how long each piece of work took, uncaught errors and
 * unhandled rejections, that everything stored is the writer's, and that the availability
 * budgets are given back once every peer is gone. Everything is torn down whatever happened.
 */
import { performance } from 'node:perf_hooks'
import { runInNewContext } from 'node:vm'
import { setFlagsFromString } from 'node:v8'
import { processBitfieldBudget } from '../../../src/replication/replicator/budget.js'
import { connect, once } from '../replicator-helpers.js'
import { within } from '../hostile-helpers.js'
import { HostilePeer, type World } from './hostile-peer.js'
import { Rng } from './random.js'
import { stallProbe } from './stall-probe.js'
import { checkStored, makeCores, startEarly, workload, type Op } from './victim.js'

export interface FuzzOptions {
  /** The victim's request timeout (ms): stalled requests move to the writer after it. */
  requestTimeout?: number
  /** Each piece of the victim's work must finish within this (ms). */
  deadline?: number
  /** Most hostile peers connected at once. */
  maxAttackers?: number
  /** Messages all hostile peers send at full speed in one iteration; past it they go on slowly while the victim works. */
  messages?: number
  /** Most hostile peers that replace dropped ones in one iteration. */
  maxReplacements?: number
  /** Most time the hostile peers have the victim alone before the work starts (ms). */
  aloneMs?: number
}

export interface IterationResult {
  seed: number
  /** Messages the hostile peers sent (all kinds). */
  messages: number
  /** Messages by kind (hypercore names, and open/close/reject/stray/type?/control? frames). */
  counts: Record<string, number>
  /** Worst event-loop stall while this process ran (ms; stall-probe.ts). */
  stall: number
  /** Worst event-loop gap by the wall clock (ms): includes time the machine did not run us. */
  stallWall: number
  /** heapUsed after the iteration (everything closed) minus before (bytes; after gc when exposed). */
  heapGrowth: number
  /** heapUsed while the hostile peers were still connected, minus before (bytes). */
  heapDuring: number
  /** The victim's work, piece by piece. */
  ops: Op[]
  /** How hostile connections ended, by the victim's error code (hostile-peer.ts `ended`). */
  drops: Record<string, number>
  /** Hostile peers by profile (hostile-peer.ts). */
  profiles: Record<string, number>
  /** What went wrong (empty: nothing). */
  failures: string[]
  ms: number
}

const DEFAULTS: Required<FuzzOptions> = { requestTimeout: 300, deadline: 5000, maxAttackers: 3, messages: 1500, maxReplacements: 8, aloneMs: 1000 }

/** `gc` when the process exposes it (`--expose-gc`), or can be made to; null otherwise. */
export const gc: (() => void) | null = (() => {
  if (typeof (globalThis as any).gc === 'function') return (globalThis as any).gc
  try {
    // Node allows turning the flag on at runtime; a fresh context then sees the function.
    setFlagsFromString('--expose-gc')
    const fn = runInNewContext('gc')
    return typeof fn === 'function' ? fn : null
  } catch {
    return null
  }
})()

export function heapUsed (collect: boolean): number {
  if (collect && gc !== null) {
    gc()
    gc()
  }
  return process.memoryUsage().heapUsed
}

const tally = (to: Record<string, number>, key: string): void => { to[key] = (to[key] ?? 0) + 1 }
const describe = (err: unknown): string => err instanceof Error ? err.stack ?? err.message : String(err)

/** Runs one seeded iteration. Never throws: what went wrong is in `failures`. */
export async function runIteration (seed: number, options: FuzzOptions = {}): Promise<IterationResult> {
  const it = new Iteration(seed, { ...DEFAULTS, ...options })
  return await it.run()
}

class Iteration {
  readonly seed: number
  readonly opts: Required<FuzzOptions>
  readonly rng: Rng
  readonly failures: string[] = []
  readonly ops: Op[] = []
  readonly counts: Record<string, number> = {}
  w: any = null
  v: any = null
  honest: ReturnType<typeof connect> | null = null
  /** The hostile peer of each slot (null once its slot ran out of replacements). */
  readonly slots: Array<HostilePeer | null> = []
  readonly retired: HostilePeer[] = []
  private _replacements = 0
  /** A driver failed (a fuzzer bug): every slot stops. */
  private _broken = false

  constructor (seed: number, opts: Required<FuzzOptions>) {
    this.seed = seed
    this.opts = opts
    this.rng = new Rng(seed)
  }

  get hostiles (): HostilePeer[] { return [...this.retired, ...this.slots.filter((h): h is HostilePeer => h !== null)] }
  get sent (): number { return this.hostiles.reduce((n, h) => n + h.sent, 0) }

  async run (): Promise<IterationResult> {
    const t0 = performance.now()
    const uncaught = (err: unknown): void => { this.failures.push(`uncaught: ${describe(err)}`) }
    process.on('uncaughtException', uncaught)
    process.on('unhandledRejection', uncaught)
    const budgetBefore = processBitfieldBudget.bytes
    const heapBefore = heapUsed(true)
    let stalls = { cpu: 0, wall: 0 }
    let heapDuring = 0
    let messages = 0
    try {
      const probe = stallProbe()
      try {
        await this._attack()
      } finally {
        stalls = probe.stop()
        heapDuring = heapUsed(false) - heapBefore
        messages = this.sent
      }
    } catch (err) {
      this.failures.push(`iteration failed: ${describe(err)}`)
    }
    const drops: Record<string, number> = {}
    const profiles: Record<string, number> = {}
    try {
      await this._teardown()
      for (const h of this.hostiles) {
        tally(drops, h.ended ?? 'none')
        tally(profiles, h.profile)
      }
      if (processBitfieldBudget.bytes !== budgetBefore) this.failures.push(`availability budget holds ${processBitfieldBudget.bytes - budgetBefore} bytes after every peer closed`)
    } catch (err) {
      this.failures.push(`teardown failed: ${describe(err)}`)
    } finally {
      // A rejection from the iteration surfaces a turn later: give it that turn before we stop listening.
      await new Promise(resolve => setImmediate(resolve))
      process.off('uncaughtException', uncaught)
      process.off('unhandledRejection', uncaught)
    }
    const heapGrowth = heapUsed(true) - heapBefore
    return {
      seed: this.seed, messages, counts: this.counts, stall: stalls.cpu, stallWall: stalls.wall, heapGrowth, heapDuring,
      ops: this.ops, drops, profiles, failures: this.failures, ms: performance.now() - t0
    }
  }

  /** Setup, the attack alone, the attack on the working victim, the check of what it stored. */
  private async _attack (): Promise<void> {
    const { rng, opts } = this
    // The victim's own settings vary too: how many requests per peer, and whether it asks for
    // upgrades as soon as a peer has one or only when something (a get, an update) wants one.
    const { w, v } = await makeCores(rng, { requestTimeout: opts.requestTimeout, maxInflight: rng.pick([4, 16, 48]), eagerUpgrade: rng.bool(0.8) })
    this.w = w
    this.v = v
    // Extension messages of hostile peers reach a registered extension.
    v.registerExtension('fuzz', { onmessage: () => {} })
    const world: World = { writer: w, victim: v, counts: this.counts }
    const early = startEarly(rng, w, v)
    const attackers = rng.int(1, opts.maxAttackers)
    for (let i = 0; i < attackers; i++) this.slots.push(await HostilePeer.connect(world, this._peerRng(i, 0)))
    // The writer connects before the attack, or after the hostile peers had the victim alone.
    if (rng.bool(0.5)) await this._connectHonest()
    const alone = Math.floor(opts.messages * rng.float() * 0.5)
    const aloneUntil = Date.now() + opts.aloneMs
    await this._drive(world, () => this.sent >= alone || Date.now() >= aloneUntil, Infinity)
    if (this.honest === null) await this._connectHonest()
    let worked = false
    const work = workload(rng, w, v, early, opts.deadline, this.ops, this.failures).finally(() => { worked = true })
    await Promise.all([work, this._drive(world, () => worked, opts.messages)])
    for (const h of this.hostiles) h.calm()
    this.failures.push(...await checkStored(w, v))
  }

  private async _connectHonest (): Promise<void> {
    const added = once(this.v, 'peer-add')
    this.honest = connect(this.w, this.v)
    await added
  }

  /** Slot i's k-th peer draws from its own generator: what it sends does not depend on how peers interleave. */
  private _peerRng (slot: number, k: number): Rng {
    return new Rng(Math.imul(this.seed, 0x9e3779b1) ^ Math.imul(slot + 1, 0x85ebca77) ^ Math.imul(k + 1, 0xc2b2ae3d))
  }

  /** Runs every slot until `stop()`; a driver's own failure stops them all and is reported. */
  private async _drive (world: World, stop: () => boolean, slowAfter: number): Promise<void> {
    const stopped = (): boolean => this._broken || stop()
    await Promise.all(this.slots.map(async (_, i) => {
      try {
        await this._slot(world, i, stopped, slowAfter)
      } catch (err) {
        this._broken = true
        this.failures.push(`hostile peer ${i} (a fuzzer bug): ${describe(err)}`)
      }
    }))
  }

  /**
   * One slot's peer, on its own, replaced when the victim drops it. Past `slowAfter` messages
   * it goes on slowly: a hostile peer keeps doing what it does for as long as the victim works
   * (re-claiming, not acknowledging, not answering), at a bounded cost.
   */
  private async _slot (world: World, i: number, stop: () => boolean, slowAfter: number): Promise<void> {
    for (let k = 1; !stop();) {
      let h = this.slots[i]
      if (h === null || h === undefined) return
      if (h.victimPeer.closed && !(await h.revive())) {
        this.retired.push(h)
        h.destroy()
        this.slots[i] = null
        if (this._replacements++ >= this.opts.maxReplacements) return
        h = this.slots[i] = await HostilePeer.connect(world, this._peerRng(i, k++))
      }
      const slow = this.sent >= slowAfter
      for (let n = slow ? 1 : h.rng.int(1, 16); n > 0 && !stop() && !h.victimPeer.closed; n--) await h.step()
      await h.pace()
      if (slow) await new Promise(resolve => setTimeout(resolve, 20))
    }
  }

  /** Closes everything this iteration made, whatever state it got to. */
  private async _teardown (): Promise<void> {
    for (const h of this.hostiles) h.destroy()
    await within(Promise.all(this.hostiles.map(h => h.a.closed)), 5000, 'hostile connections closed')
    await this.honest?.done()
    await this.v?.close()
    await this.w?.close()
    await Promise.all(this.hostiles.map(h => h.a.core.close()))
  }
}
