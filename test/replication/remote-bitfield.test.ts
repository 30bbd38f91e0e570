/**
 * RemoteBitfield (what a peer says it has, §5.7) against a plain model, and its costs: runs
 * for long claims, pages only where short ones land, budgets that forget pages of the largest
 * holder. Each operation must cost the runs and pages it touches, never the span it names.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Budget } from '../../src/replication/replicator/budget.js'
import { PAGE_BYTES, RUN_BYTES, RemoteBitfield } from '../../src/replication/replicator/remote-bitfield.js'

function rng (seed: number): (n: number) => number {
  let s = seed
  return (n) => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0
    return (s >>> 8) % n
  }
}

test('matches a plain model under random ranges, drops, bitfield words and truncations', () => {
  const rnd = rng(7)
  for (let round = 0; round < 200; round++) {
    const U = [100, 2000, 70000, 200000][round % 4]!
    const rb = new RemoteBitfield()
    const model = new Uint8Array(U)
    for (let op = 0; op < 200; op++) {
      const t = rnd(5)
      const s = rnd(U)
      const e = Math.min(U, s + (rnd(4) === 0 ? rnd(U) : rnd(100) + 1))
      if (t <= 1) {
        rb.setRange(s, e - s)
        model.fill(1, s, e)
      } else if (t === 2) {
        rb.clearRange(s, e - s)
        model.fill(0, s, e)
      } else if (t === 3) {
        const start = Math.floor(s / 32) * 32
        const words = new Uint32Array(rnd(40) + 1).map(() => [0, 0xffffffff, (rnd(0x10000) << 16 | rnd(0x10000)) >>> 0][rnd(3)]!)
        rb.applyWords(start, words)
        for (let w = 0; w < words.length; w++) for (let b = 0; b < 32; b++) if (start + 32 * w + b < U) model[start + 32 * w + b] = (words[w]! >>> b) & 1
        rb.clearRange(U, 2 ** 40) // the model ends at U
      } else {
        rb.truncate(s)
        model.fill(0, s)
      }
      for (let k = 0; k < 40; k++) {
        const i = rnd(U)
        assert.equal(rb.get(i), model[i] === 1, `round ${round} op ${op}: bit ${i}`)
      }
    }
    for (let i = 0; i < U; i++) if (rb.get(i) !== (model[i] === 1)) assert.fail(`round ${round}: bit ${i}`)
  }
})

test('a claim of 2^52 blocks is one run; drops and sets over any span cost only what exists', () => {
  const rb = new RemoteBitfield()
  const t0 = performance.now()
  for (let i = 0; i < 10000; i++) {
    rb.clearRange(0, 2 ** 52)
    rb.setRange(2, 2 ** 52)
  }
  rb.setRange(2 ** 52 + 10, 1)
  rb.clearRange(5, 2 ** 53)
  const ms = performance.now() - t0
  assert.ok(ms < 500, `20,000 span operations took ${ms.toFixed(0)} ms`)
  assert.equal(rb.runCount, 1)
  assert.equal(rb.pageCount, 0)
  assert.equal(rb.bytes, RUN_BYTES)
  assert.equal(rb.get(4), true)
  assert.equal(rb.get(5), false)
  assert.equal(rb.contiguousLength, 0) // [2, 5) does not start at 0
  // Sequential single-block announcements extend a run instead of taking pages.
  const seq = new RemoteBitfield()
  for (let i = 0; i < 100000; i++) seq.setRange(i, 1)
  assert.equal(seq.contiguousLength, 100000)
  assert.equal(seq.bytes, RUN_BYTES) // bits in a page until it filled, then one run that keeps growing
})

test('a page of ones becomes a run; a bitfield of ones is runs, not pages', () => {
  const rb = new RemoteBitfield()
  for (let i = 0; i < 32768; i += 2) rb.setRange(1_000_000 * 32768 + i, 1)
  for (let i = 1; i < 32768; i += 2) rb.setRange(1_000_000 * 32768 + i, 1)
  assert.equal(rb.pageCount, 0)
  assert.equal(rb.runCount, 1)
  const words = new Uint32Array(65536).fill(0xffffffff)
  rb.applyWords(0, words)
  assert.equal(rb.pageCount, 0)
  assert.equal(rb.contiguousLength, 65536 * 32)
})

test('the per-peer cap forgets its own oldest pages; a full budget takes pages from the largest holder only', () => {
  const core = new Budget(8 * PAGE_BYTES)
  const a = new RemoteBitfield({ budget: core, maxBytes: 6 * PAGE_BYTES })
  const b = new RemoteBitfield({ budget: core, maxBytes: 6 * PAGE_BYTES })
  for (let i = 0; i < 100; i++) a.setRange(i * 40000, 1)
  assert.equal(a.bytes, 6 * PAGE_BYTES)
  assert.equal(a.lossy, true)
  assert.equal(a.get(99 * 40000), true, 'the newest announcements are kept')
  for (let i = 0; i < 4; i++) b.setRange(i * 40000, 1)
  assert.equal(b.bytes, 4 * PAGE_BYTES)
  assert.equal(a.bytes, 4 * PAGE_BYTES, 'the larger holder gave up two pages')
  assert.equal(core.bytes, 8 * PAGE_BYTES)
  assert.equal(b.lossy, false)
  // b is now as large as a: neither can take from the other; b keeps less instead.
  b.setRange(9 * 40000, 1)
  assert.equal(b.get(9 * 40000), false)
  assert.equal(b.lossy, true)
  a.dispose()
  b.dispose()
  assert.equal(core.bytes, 0)
  assert.equal(core.holders.size, 0)
})
