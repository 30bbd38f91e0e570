/**
 * Attacks on what a peer says it has (§5.7 `range`, `bitfield`): any reader of a core can
 * send them. The victim's work per message must not depend on the span a peer names, and
 * the memory it keeps for announcements stays within the per-peer, per-core and process
 * budgets. Meanwhile the victim downloads from the honest writer, and the attacker, which
 * claims every block and answers nothing, loses its requests to the writer after a timeout
 * and is finally dropped with REQUEST_TIMEOUT.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { processBitfieldBudget } from '../../src/replication/replicator/budget.js'
import { connect, once, ourReader, ourWriter, text } from './replicator-helpers.js'
import { attack, blocks, demandUntilDropped, loopProbe, processed, victimOptions, within, type Attacker } from './hostile-helpers.js'

const MiB = 1024 * 1024
const TIMEOUT = 300

/** A writer with `n` blocks and a victim reader that knows its length, over an honest connection. */
async function setup (n: number) {
  const w = await ourWriter()
  for (let i = 0; i < n; i += 1000) await w.append(blocks(Math.min(1000, n - i), `b${i}-`).map((b, j) => Buffer.from('b' + (i + j))))
  const v = await ourReader(w.key!)
  victimOptions(v, { requestTimeout: TIMEOUT })
  const honest = connect(w, v)
  await once(v, 'peer-add')
  await v.update({ wait: true })
  assert.equal(v.length, n)
  return { w, v, honest }
}

/** What the victim keeps for one peer's announcements (the accessor; before it existed, its pages). */
function peerBytes (a: Attacker): number {
  const rb = a.victimPeer.remoteBitfield as any
  return typeof rb.bytes === 'number' ? rb.bytes : rb._pages.size * 4096
}

/**
 * The attackers claim every block and never answer: the victim keeps downloading from the
 * writer (stalled requests move to it after a timeout) until each attacker is dropped with
 * REQUEST_TIMEOUT; every block stored is the writer's.
 */
async function downloadUntilDropped (v: any, attackers: Attacker[]): Promise<void> {
  for (const a of attackers) a.send.range(false, 0, 2 ** 52)
  assert.deepEqual(await demandUntilDropped(v, attackers, 200, TIMEOUT), attackers.map(() => 'REQUEST_TIMEOUT'))
  for (let i = 0; i < 200; i += 7) assert.equal(text(await v.get(i, { wait: false })), 'b' + i)
  await within(v.download({ start: 0, end: v.length }).done(), 5000, 'the whole core from the writer')
}

test('attack 1: range{drop, 0, 2^42}, and then 2^52, cost the victim no stall', { timeout: 60000 }, async () => {
  const { v, honest } = await setup(4000)
  const a = await attack(v, v.key!)
  a.send.sync({ length: 4000, remoteLength: 4000 })
  await processed(a)
  // Spans that took seconds (2^42 blocks: 2^27 pages walked, one by one).
  let probe = loopProbe()
  a.send.range(true, 0, 2 ** 42)
  a.send.range(false, 2, 2 ** 42)
  a.send.range(true, 5, 2 ** 42)
  await processed(a)
  let stall = probe.stop()
  assert.ok(stall < 100, `the victim's event loop stalled ${stall.toFixed(0)} ms`)
  // The span that took over half an hour.
  probe = loopProbe()
  a.send.range(true, 0, 2 ** 52)
  a.send.range(false, 2, 2 ** 52)
  a.send.range(true, 0, 2 ** 52)
  await processed(a)
  stall = probe.stop()
  assert.ok(stall < 100, `the victim's event loop stalled ${stall.toFixed(0)} ms`)
  assert.ok(peerBytes(a) <= 4096, `held ${peerBytes(a)} bytes for the attacker`)
  await downloadUntilDropped(v, [a])
  await honest.done()
})

test('attack 2: huge and scattered claims from four connections stay within the per-peer, per-core and process budgets', { timeout: 60000 }, async () => {
  const { v, honest } = await setup(4000)
  const attackers: Attacker[] = []
  for (let i = 0; i < 4; i++) attackers.push(await attack(v, v.key!))
  for (const a of attackers) {
    a.send.sync({ length: 4000, remoteLength: 4000 })
    await processed(a)
  }
  const probe = loopProbe()
  for (const a of attackers) {
    // One claim over 2^52 blocks (it used to fill 64 MiB of pages per connection), then
    // drop/set pairs over 2^40 blocks (each used to walk 2^25 pages).
    a.send.range(false, 2, 2 ** 52)
    a.cork()
    for (let i = 0; i < 10; i++) {
      a.send.range(true, 0, 2 ** 40)
      a.send.range(false, 2, 2 ** 40)
    }
    a.uncork()
    await processed(a)
  }
  let stall = probe.stop()
  assert.ok(stall < 100, `the victim's event loop stalled ${stall.toFixed(0)} ms`)
  for (const a of attackers) assert.ok(peerBytes(a) <= 4 * MiB, `one attacker holds ${(peerBytes(a) / MiB).toFixed(1)} MiB (cap 4 MiB)`)
  const probe2 = loopProbe()
  for (const a of attackers) {
    a.cork()
    for (let i = 0; i < 10; i++) {
      a.send.range(true, 0, 2 ** 52)
      a.send.range(false, 2, 2 ** 52)
    }
    a.send.range(true, 0, 2 ** 52)
    a.uncork()
    await processed(a)
    // One block every 40,000: each costs a page of bits unless it is bounded.
    for (let batch = 0; batch < 3; batch++) {
      a.cork()
      for (let k = 0; k < 600; k++) a.send.range(false, 10_000_000 + (batch * 600 + k) * 40_000, 1)
      a.uncork()
      await processed(a)
    }
    // A bitfield message full of scattered bits far out.
    const words = new Uint32Array(65536).map((_, i) => i % 1024 === 0 ? 1 : 0)
    a.send.bitfield(2 ** 40, words)
    await processed(a)
  }
  stall = probe2.stop()
  assert.ok(stall < 100, `the victim's event loop stalled ${stall.toFixed(0)} ms`)
  const rep = (v as any).core.replicator
  for (const a of attackers) assert.ok(peerBytes(a) <= 4 * MiB, `one attacker holds ${(peerBytes(a) / MiB).toFixed(1)} MiB (cap 4 MiB)`)
  const core = attackers.reduce((n, a) => n + peerBytes(a), 0)
  assert.ok(core <= 16 * MiB, `the core holds ${(core / MiB).toFixed(1)} MiB (cap 16 MiB)`)
  assert.equal(rep.bitfieldBudget.bytes, core + rep.peers.filter((p: any) => !attackers.some(a => a.victimPeer === p)).reduce((n: number, p: any) => n + p.remoteBitfield.bytes, 0))
  assert.ok(processBitfieldBudget.bytes <= processBitfieldBudget.limit)
  // The honest writer's announcement (its whole core, one run) was never given up.
  const writerPeer = rep.peers.find((p: any) => !attackers.some(a => a.victimPeer === p))
  assert.equal(writerPeer.remoteBitfield.contiguousLength, 4000)
  await downloadUntilDropped(v, attackers)
  for (const a of attackers) assert.equal(a.victimPeer.remoteBitfield.bytes, 0, 'a closed peer holds nothing')
  await honest.done()
})

test('budgets: a core over its budget takes pages from its largest holder, never a smaller one; the process budget bounds every core together', { timeout: 60000 }, async () => {
  const limit = processBitfieldBudget.limit
  processBitfieldBudget.limit = processBitfieldBudget.bytes + 3 * MiB
  const scatter = async (a: Attacker, n: number, from: number): Promise<void> => {
    a.cork()
    for (let k = 0; k < n; k++) a.send.range(false, from + k * 40_000, 1)
    a.uncork()
    await processed(a)
  }
  try {
    const w = await ourWriter()
    await w.append(blocks(10))
    const v1 = await ourReader(w.key!)
    victimOptions(v1, { requestTimeout: TIMEOUT, maxPeerBitfieldBytes: 2 * MiB, maxCoreBitfieldBytes: 2 * MiB })
    const v2 = await ourReader(w.key!)
    victimOptions(v2, { requestTimeout: TIMEOUT, maxPeerBitfieldBytes: 2 * MiB, maxCoreBitfieldBytes: 2 * MiB })
    const small = await attack(v1, w.key!)
    const big = await attack(v1, w.key!)
    const other = await attack(v2, w.key!)
    await scatter(small, 10, 1_000_000)
    assert.equal(small.victimPeer.remoteBitfield.bytes, 10 * 4096)
    await scatter(big, 1000, 500_000_000)
    const core1 = (v1 as any).core.replicator.bitfieldBudget
    assert.ok(big.victimPeer.remoteBitfield.bytes <= 2 * MiB - 10 * 4096, 'the large holder is held under the core budget')
    assert.ok(core1.bytes <= 2 * MiB, `core budget: ${core1.bytes}`)
    assert.equal(big.victimPeer.remoteBitfield.lossy, true)
    await scatter(other, 1000, 500_000_000)
    assert.ok(processBitfieldBudget.bytes <= processBitfieldBudget.limit, `process: ${processBitfieldBudget.bytes} > ${processBitfieldBudget.limit}`)
    assert.ok(other.victimPeer.remoteBitfield.bytes > 0.5 * MiB, 'another core still gets its share of the process budget')
    // The small holder kept every block it announced through both squeezes.
    for (let k = 0; k < 10; k++) assert.equal(small.victimPeer.remoteBitfield.get(1_000_000 + k * 40_000), true)
    assert.equal(small.victimPeer.remoteBitfield.lossy, false)
    for (const a of [small, big, other]) a.destroy()
    await Promise.all([small.closed, big.closed, other.closed])
    assert.equal(core1.bytes, 0, 'closed peers give their bytes back')
    await v1.close()
    await v2.close()
  } finally {
    processBitfieldBudget.limit = limit
  }
})
