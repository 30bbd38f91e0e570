/**
 * @module test/replication/fuzz/hostile-peer-fuzzer
 * A seeded fuzzer of replication against hostile peers: runs iterations (iteration.ts) from a
 * base seed, judges each against thresholds, and reports. In each iteration one to a few
 * hostile peers (hostile-peer.ts) send random, valid-looking messages of every hypercore type
 * and the channel's open/close with edge values, repeats, bursts, tampered, out-of-order and
 * unasked answers, and silence, while the victim, also connected to the honest writer, must
 * get its work done (victim.ts).
 *
 * Reproducible: iteration i runs with seed base + i, and a seed fixes every random choice
 * (each peer draws from its own generator, so how peers interleave does not change what each
 * sends); timing still varies a little between runs, as it does between any two machines.
 *
 * Long run (not part of `npm test`): `npm run fuzz -- [--minutes 10] [--seed N] [--iterations N]`
 * (with --expose-gc, so heap figures are after collection). Exits 1 when an iteration failed.
 */
import { pathToFileURL } from 'node:url'
import { gc, heapUsed, runIteration, type FuzzOptions, type IterationResult } from './iteration.js'
import { iterationSeed } from './random.js'

export { runIteration, gc, type FuzzOptions, type IterationResult }

export interface Thresholds {
  /** Worst stall allowed (ms), counted while this process ran (stall-probe.ts: on a shared machine the wall clock also counts the others). */
  stallMs: number
  /** Heap growth allowed per iteration, everything closed (bytes). */
  heapGrowth: number
  /** Heap allowed while attacked, above the start of the iteration (bytes). */
  heapDuring: number
}

export const THRESHOLDS: Thresholds = { stallMs: 150, heapGrowth: 8 * 1024 * 1024, heapDuring: 128 * 1024 * 1024 }

/** What an iteration's figures say is wrong, beside its own failures. */
export function judge (r: IterationResult, t: Thresholds = THRESHOLDS): string[] {
  const out = [...r.failures]
  if (r.stall >= t.stallMs) out.push(`event loop stalled ${r.stall.toFixed(0)} ms`)
  if (gc !== null && r.heapGrowth >= t.heapGrowth) out.push(`heap grew ${mib(r.heapGrowth)} MiB over the iteration`)
  if (r.heapDuring >= t.heapDuring) out.push(`heap was ${mib(r.heapDuring)} MiB above its start while attacked`)
  return out
}

const mib = (n: number): string => (n / 1024 / 1024).toFixed(1)

export interface RunReport {
  baseSeed: number
  iterations: number
  messages: number
  worstStall: { ms: number, seed: number }
  /** The worst wall-clock gap, including time the machine did not run this process. */
  worstWallGap: { ms: number, seed: number }
  maxHeapGrowth: { bytes: number, seed: number }
  maxHeapDuring: { bytes: number, seed: number }
  /** heapUsed at the end minus after the first iteration (a leak across iterations shows here). */
  heapDrift: number
  slowestOp: { name: string, ms: number, seed: number }
  counts: Record<string, number>
  drops: Record<string, number>
  profiles: Record<string, number>
  failures: Array<{ seed: number, problems: string[] }>
}

/** Runs iterations from `baseSeed` until `minutes` have passed (or `iterations` ran). */
export async function runFuzz (baseSeed: number, minutes: number, maxIterations: number, options: FuzzOptions = {}, log: (line: string) => void = console.log): Promise<RunReport> {
  const end = Date.now() + minutes * 60000
  const report: RunReport = {
    baseSeed, iterations: 0, messages: 0,
    worstStall: { ms: 0, seed: baseSeed }, worstWallGap: { ms: 0, seed: baseSeed }, maxHeapGrowth: { bytes: -Infinity, seed: baseSeed }, maxHeapDuring: { bytes: 0, seed: baseSeed },
    heapDrift: 0, slowestOp: { name: '-', ms: 0, seed: baseSeed }, counts: {}, drops: {}, profiles: {}, failures: []
  }
  let heapStart = 0 // after the first iteration: module loading and caches warmed up
  let lastLog = Date.now()
  for (let i = 0; i < maxIterations && Date.now() < end; i++) {
    const seed = iterationSeed(baseSeed, i)
    const r = await runIteration(seed, options)
    report.iterations++
    report.messages += r.messages
    if (r.stall > report.worstStall.ms) report.worstStall = { ms: r.stall, seed }
    if (r.stallWall > report.worstWallGap.ms) report.worstWallGap = { ms: r.stallWall, seed }
    if (r.heapGrowth > report.maxHeapGrowth.bytes) report.maxHeapGrowth = { bytes: r.heapGrowth, seed }
    if (r.heapDuring > report.maxHeapDuring.bytes) report.maxHeapDuring = { bytes: r.heapDuring, seed }
    for (const op of r.ops) if (op.ms > report.slowestOp.ms) report.slowestOp = { ...op, seed }
    for (const [k, n] of Object.entries(r.counts)) report.counts[k] = (report.counts[k] ?? 0) + n
    for (const [k, n] of Object.entries(r.drops)) report.drops[k] = (report.drops[k] ?? 0) + n
    for (const [k, n] of Object.entries(r.profiles)) report.profiles[k] = (report.profiles[k] ?? 0) + n
    const problems = judge(r)
    if (problems.length > 0) {
      report.failures.push({ seed, problems })
      log(`FAIL seed ${seed}: ${problems.join('; ')}`)
    }
    const heap = heapUsed(true)
    if (i === 0) heapStart = heap
    report.heapDrift = heap - heapStart
    if (Date.now() - lastLog > 30000) {
      lastLog = Date.now()
      log(`… ${report.iterations} iterations, ${report.messages} messages, worst stall ${report.worstStall.ms.toFixed(0)} ms, heap drift ${mib(report.heapDrift)} MiB, ${report.failures.length} failing`)
    }
  }
  return report
}

const byCount = (m: Record<string, number>): string => Object.entries(m).sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${n}`).join(', ')

export function formatReport (r: RunReport): string {
  const lines = [
    `hostile-peer fuzz, base seed ${r.baseSeed} (gc ${gc === null ? 'not exposed: heap figures uncollected' : 'exposed'})`,
    `iterations:        ${r.iterations}`,
    `messages sent:     ${r.messages}`,
    `worst stall:       ${r.worstStall.ms.toFixed(1)} ms while running (seed ${r.worstStall.seed}); worst wall-clock gap ${r.worstWallGap.ms.toFixed(1)} ms (seed ${r.worstWallGap.seed})`,
    `max heap growth:   ${mib(r.maxHeapGrowth.bytes)} MiB per iteration, everything closed (seed ${r.maxHeapGrowth.seed})`,
    `max heap attacked: ${mib(r.maxHeapDuring.bytes)} MiB above the iteration's start (seed ${r.maxHeapDuring.seed})`,
    `heap drift:        ${mib(r.heapDrift)} MiB from the first iteration to the last`,
    `slowest work:      ${r.slowestOp.name} ${r.slowestOp.ms.toFixed(0)} ms (seed ${r.slowestOp.seed})`,
    `messages by kind:  ${byCount(r.counts)}`,
    `hostile peers:     ${byCount(r.profiles)}`,
    `connections ended: ${byCount(r.drops)}`,
    `failures:          ${r.failures.length}`
  ]
  for (const f of r.failures) lines.push(`  seed ${f.seed}: ${f.problems.join('; ')}`)
  if (r.failures.length > 0) lines.push(`replay one with: npm run fuzz -- --seed ${r.failures[0]!.seed} --iterations 1`)
  return lines.join('\n')
}

function parseArgs (argv: string[]): { minutes: number, seed: number, iterations: number } {
  const args = { minutes: 10, seed: Math.floor(Math.random() * 2 ** 32), iterations: Infinity }
  for (let i = 0; i < argv.length; i++) {
    const value = Number(argv[i + 1])
    if (argv[i] === '--minutes') args.minutes = value
    else if (argv[i] === '--seed') args.seed = value >>> 0
    else if (argv[i] === '--iterations') args.iterations = value
    else continue
    if (!Number.isFinite(value)) throw new Error(`${argv[i]} needs a number`)
    i++
  }
  return args
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const args = parseArgs(process.argv.slice(2))
  console.log(`hostile-peer fuzz: base seed ${args.seed}, ${args.minutes} min${Number.isFinite(args.iterations) ? `, at most ${args.iterations} iterations` : ''}`)
  const report = await runFuzz(args.seed, args.minutes, args.iterations)
  console.log(formatReport(report))
  process.exitCode = report.failures.length > 0 ? 1 : 0
}
