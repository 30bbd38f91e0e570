/**
 * A short run of the hostile-peer fuzzer (fuzz/hostile-peer-fuzzer.ts) in the normal suite:
 * 20 seeded iterations, each with one to three hostile peers sending random messages of every
 * type (edge values, repeats, bursts, tampered, out-of-order and unasked answers, silence)
 * while the victim, also connected to the honest writer, must get its work done. Every
 * iteration must keep the victim's event loop responsive, its memory bounded, its work done
 * within the deadline, nothing thrown uncaught and nothing unverified stored.
 *
 * The base seed is fixed so the suite replays the same choices; HOSTILE_FUZZ_SEED changes it.
 * A failing iteration prints its seed: `npm run fuzz -- --seed <seed> --iterations 1` replays it.
 * The long run (10 minutes, a report) is `npm run fuzz`.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { MESSAGE_NAMES } from '../../src/wire/messages.js'
import { gc, judge, runIteration, type IterationResult } from './fuzz/hostile-peer-fuzzer.js'
import { iterationSeed } from './fuzz/random.js'

const BASE_SEED = Number(process.env.HOSTILE_FUZZ_SEED ?? 20250611)
const ITERATIONS = 20
/** Small enough for a loaded 2-core machine: fewer messages, a shorter time alone, fewer replacements; 8 s for each piece of work (5 s in the long run) since other test files share the cores. */
const OPTIONS = { messages: 300, aloneMs: 300, maxReplacements: 4, requestTimeout: 300, deadline: 8000 }
const MiB = 1024 * 1024

test(`hostile-peer fuzz: ${ITERATIONS} seeded iterations from seed ${BASE_SEED}`, { timeout: 120000 }, async (t) => {
  const results: IterationResult[] = []
  for (let i = 0; i < ITERATIONS; i++) {
    const seed = iterationSeed(BASE_SEED, i)
    const r = await runIteration(seed, OPTIONS)
    results.push(r)
    // Thresholds (fuzz/hostile-peer-fuzzer.ts THRESHOLDS): stall < 150 ms while running,
    // heap growth < 8 MiB per iteration, < 128 MiB while attacked; plus every failure the
    // iteration found (work not done in time, uncaught errors, stored blocks that are not the
    // writer's, budgets not released).
    const problems = judge(r)
    if (problems.length > 0) t.diagnostic(`failing seed ${seed}: replay with npm run fuzz -- --seed ${seed} --iterations 1`)
    assert.deepEqual(problems, [], `seed ${seed} (replay: npm run fuzz -- --seed ${seed} --iterations 1)`)
  }

  // The victim did its work in every iteration: an update, then at least one more piece.
  for (const r of results) {
    assert.ok(r.ops.some(op => op.name === 'update'), `seed ${r.seed}: the victim's update() did not complete`)
    assert.ok(r.ops.length >= 2, `seed ${r.seed}: the victim did ${r.ops.length} pieces of work`)
  }
  // The run covered what it claims to: every hypercore message type and the channel's open/close.
  const counts: Record<string, number> = {}
  for (const r of results) for (const [k, n] of Object.entries(r.counts)) counts[k] = (counts[k] ?? 0) + n
  for (const name of [...MESSAGE_NAMES, 'open', 'close']) assert.ok((counts[name] ?? 0) > 0, `no ${name} message was sent (sent: ${JSON.stringify(counts)})`)
  const messages = results.reduce((n, r) => n + r.messages, 0)
  assert.ok(messages >= ITERATIONS * 100, `only ${messages} messages were sent`)
  // The victim dropped hostile peers for what they did, not only at the end.
  const dropped = results.reduce((n, r) => n + Object.entries(r.drops).filter(([k]) => k !== 'none' && k !== 'channel closed').reduce((m, [, c]) => m + c, 0), 0)
  assert.ok(dropped > 0, 'no hostile peer was ever dropped')
  // Memory does not build up across iterations (everything closed after each).
  if (gc !== null) {
    const total = results.reduce((n, r) => n + r.heapGrowth, 0)
    assert.ok(total < 32 * MiB, `the heap grew ${(total / MiB).toFixed(1)} MiB over ${ITERATIONS} iterations`)
  }
  const worst = Math.max(...results.map(r => r.stall))
  t.diagnostic(`${messages} messages, worst stall ${worst.toFixed(0)} ms, ${dropped} hostile peers dropped`)
})
