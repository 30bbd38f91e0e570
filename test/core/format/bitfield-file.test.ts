/** @module test/core/format/bitfield-file — paged bitfield over the bitfield file (spec §6.3). */
import { test } from 'node:test'
import { BitfieldFile, BITS_PER_PAGE } from '../../../src/core/format/bitfield-file.js'
import { bytesEqual, equal, ok, rejectsWithCode, throwsWithCode } from '../../helpers/assert.js'
import { ram, readAll, VECTORS } from './helpers.js'

/** A plain reference model: a Set of set bits. */
class Model {
  bits = new Set<number>()
  set (i: number, v: boolean): void { if (v) this.bits.add(i); else this.bits.delete(i) }
  setRange (s: number, n: number, v: boolean): void { for (let i = s; i < s + n; i++) this.set(i, v) }
  firstSet (from: number): number { let best = -1; for (const b of this.bits) if (b >= from && (best === -1 || b < best)) best = b; return best }
  firstUnset (from: number): number { let i = from; while (this.bits.has(i)) i++; return i }
  count (s: number, n: number): number { let c = 0; for (const b of this.bits) if (b >= s && b < s + n) c++; return c }
}

test('bitfield: a, b, c → first byte 07, one 4096-byte page (vector)', async () => {
  const file = ram()
  const b = await BitfieldFile.open(file)
  await b.setRange(0, 3, true)
  equal(b.dirtyPages, 1)
  await b.flush()
  equal(b.dirtyPages, 0)
  const bytes = await readAll(file)
  equal(bytes.byteLength, VECTORS.compat.storage.bitfield.byteLength)
  bytesEqual(bytes.subarray(0, 8), VECTORS.compat.storage.bitfield.first8hex)
})

test('bitfield: bit layout is bit i&7 of byte i>>3, pages at pageIndex·4096, holes stay holes', async () => {
  const file = ram()
  const b = await BitfieldFile.open(file)
  await b.set(9, true) // byte 1, bit 1
  await b.set(31, true) // byte 3, bit 7
  await b.set(2 * BITS_PER_PAGE + 8 * 5 + 3, true) // page 2, byte 5, bit 3
  await b.flush()
  const bytes = await readAll(file)
  equal(bytes.byteLength, 3 * 4096)
  equal(bytes[1], 0x02); equal(bytes[3], 0x80)
  equal(bytes[2 * 4096 + 5], 0x08)
  ok(bytes.subarray(4096, 8192).every(x => x === 0), 'page 1 never written (a hole, reads as zeros)')
  // reopen lazily: pages are read on demand
  const again = await BitfieldFile.open(ram(bytes))
  equal(again.isLoaded(0), false)
  throwsWithCode(() => again.has(9), 'ASSERTION')
  equal(await again.get(9), true)
  equal(again.has(9), true)
  equal(again.has(10), false)
  equal(await again.get(2 * BITS_PER_PAGE + 43), true)
  equal(again.has(10 * BITS_PER_PAGE), false, 'past the file: known zero')
  equal(await again.count(), 3)
})

test('bitfield: random ops agree with a reference model (ranges across words and pages)', async () => {
  let seed = 7
  const rnd = (n: number): number => { seed = (seed * 1103515245 + 12345) >>> 0; return seed % n }
  let file = ram()
  let b = await BitfieldFile.open(file)
  const m = new Model()
  const SPAN = 3 * BITS_PER_PAGE
  for (let step = 0; step < 400; step++) {
    const op = rnd(10)
    const s = rnd(SPAN)
    const n = rnd(5) === 0 ? rnd(BITS_PER_PAGE + 100) : rnd(100)
    const v = rnd(3) !== 0
    if (op < 3) { await b.set(s, v); m.set(s, v) } else if (op < 7) { await b.setRange(s, n, v); m.setRange(s, n, v) }
    if (step % 25 === 0) {
      await b.flush()
      // reopen from a copy of the bytes, and go on writing to that copy
      file = ram(await readAll(file))
      b = await BitfieldFile.open(file)
    }
    const q = rnd(SPAN)
    equal(await b.get(q), m.bits.has(q), `get ${q} step ${step}`)
    equal(await b.firstSet(q), m.firstSet(q), `firstSet ${q} step ${step}`)
    equal(await b.firstUnset(q), m.firstUnset(q), `firstUnset ${q} step ${step}`)
    const cn = rnd(BITS_PER_PAGE * 2)
    equal(await b.count(q, cn), m.count(q, cn), `count ${q}+${cn} step ${step}`)
  }
})

test('bitfield: flush writes back, reopen sees the same bits; clearing bits in holes allocates nothing', async () => {
  const file = ram()
  const b = await BitfieldFile.open(file)
  await b.setRange(100, 70000, true)
  await b.setRange(5000, 10, false)
  await b.setRange(10 * BITS_PER_PAGE, 1000, false)
  equal(await b.set(20 * BITS_PER_PAGE, false), false)
  await b.flush()
  const bytes = await readAll(file)
  equal(bytes.byteLength, 3 * 4096, 'pages 0..2 only')
  const r = await BitfieldFile.open(ram(bytes), { preload: true })
  equal(r.has(99), false); equal(r.has(100), true); equal(r.has(5009), false); equal(r.has(5010), true)
  equal(r.has(70099), true); equal(r.has(70100), false)
  equal(await r.count(), 70000 - 10)
  equal(await r.firstUnset(100), 5000)
  equal(await r.firstUnset(5010), 70100)
  equal(await r.firstSet(70100), -1)
  equal(await r.firstSet(0), 100)
})

test('bitfield: millions of bits use word ops (10M-bit range, scans and count)', async () => {
  const b = await BitfieldFile.open(ram())
  const N = 10_000_000
  const t0 = performance.now()
  await b.setRange(0, N, true)
  await b.set(N - 5, false)
  equal(await b.firstUnset(0), N - 5)
  equal(await b.firstUnset(N - 4), N)
  equal(await b.count(), N - 1)
  equal(await b.firstSet(N), -1)
  await b.flush()
  const ms = performance.now() - t0
  ok(ms < 2000, `10M bits in ${ms.toFixed(0)} ms`)
  equal(Math.ceil(N / BITS_PER_PAGE), 306)
})

test('bitfield: indexes past 2^32 work (pages are numbered by division, not shifts)', async () => {
  const b = await BitfieldFile.open(ram())
  const big = 2 ** 33 + 5
  await b.set(big, true)
  equal(await b.get(big), true)
  equal(await b.firstSet(2 ** 32), big)
  equal(await b.count(2 ** 33, 100), 1)
})

test('bitfield: bad arguments are BAD_ARGUMENT', async () => {
  const b = await BitfieldFile.open(ram())
  await rejectsWithCode(() => b.get(-1), 'BAD_ARGUMENT')
  await rejectsWithCode(() => b.setRange(0, 1.5, true), 'BAD_ARGUMENT')
  await rejectsWithCode(() => b.firstSet(Number.NaN), 'BAD_ARGUMENT')
})
