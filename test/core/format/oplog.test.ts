/** @module test/core/format/oplog — slots, framing, replay and crash recovery of the oplog (spec §6.1). */
import { test } from 'node:test'
import { Oplog, decodeFrame, encodeEntryFrames, encodeFrame, ENTRIES_OFFSET, HEADER_SLOT_SIZE } from '../../../src/core/format/oplog.js'
import { encodeOplogEntry, encodeOplogHeader, type OplogEntry } from '../../../src/core/format/oplog-encoding.js'
import { promisify } from '../../../src/storage/promises.js'
import type { RandomAccessStorage } from '../../../src/storage/types.js'
import { bytesEqual, deepEqual, equal, hex, ok, rejectsWithCode } from '../../helpers/assert.js'
import { entry, entryFromJson, header, headerFromJson, ram, readAll, VECTORS } from './helpers.js'

const before = VECTORS.compat.storageBeforeFlush
const after = VECTORS.compat.storage.oplog

async function reopen (bytes: Uint8Array, headerFile?: RandomAccessStorage): Promise<{ log: Oplog, file: RandomAccessStorage, result: Awaited<ReturnType<Oplog['open']>> }> {
  const file = ram(bytes)
  const log = new Oplog(file, { headerFile: headerFile ?? null })
  const result = await log.open()
  return { log, file, result }
}

test('oplog: frame encode/decode and the vector entry frames', () => {
  for (const f of before.oplogEntries) {
    const frame = encodeFrame(Buffer.from(f.bodyHex, 'hex'), f.headerBit, f.partialBit === 1)
    bytesEqual(frame, f.frameHex)
    const d = decodeFrame(frame, 0)!
    equal(d.headerBit, 1)
    equal(d.partial, false)
    equal(d.end - d.start, f.bodyHex.length / 2)
  }
  const p = encodeFrame(new Uint8Array([1, 2, 3]), 0, true)
  equal(hex(p.subarray(4, 8)), '0e000000', 'word = 3<<2 | partial')
  equal(decodeFrame(p, 0)!.partial, true)
  equal(decodeFrame(p, 0, p.byteLength - 1), null, 'cut frame')
  equal(decodeFrame(new Uint8Array(64), 0), null, 'zeros never check')
})

test('oplog: a batch framed in place is the frames of its entries back to back, all but the last partial', () => {
  for (const n of [1, 2, 5]) {
    const entries = Array.from({ length: n }, (_, i) => entry(i * 37))
    for (const bit of [0, 1] as const) {
      const frames = entries.map((e, i) => encodeFrame(encodeOplogEntry(e), bit, i < n - 1))
      const joined = new Uint8Array(frames.reduce((t, f) => t + f.byteLength, 0))
      let at = 0
      for (const f of frames) { joined.set(f, at); at += f.byteLength }
      bytesEqual(encodeEntryFrames(entries, bit), hex(joined), `${n} entries, header bit ${bit}`)
    }
  }
})

test('oplog: reproduces hypercore@10\'s bytes for a, b, c (slots, entries, truncation)', async () => {
  const file = ram()
  const log = new Oplog(file)
  deepEqual(await log.open(), { header: null, entries: [] })
  const h3 = headerFromJson(after.headerSlots[0].decoded)
  const h1 = headerFromJson(after.headerSlots[1].decoded)
  // hypercore flushed three times: at creation (slot 0, bit 0), after "a" (slot 1, bit 1) and
  // after "c" (slot 0, bit 1); "b" and "c" were oplog entries tagged with slot 1 in between.
  await log.flush({ ...h1, tree: { fork: 0, length: 0, rootHash: null, signature: null }, hints: { reorgs: [], contiguousLength: 0 } })
  equal(log.activeSlot, 0)
  await log.flush(h1)
  equal(log.activeSlot, 1)
  for (const f of before.oplogEntries) await log.append([entryFromJson(f.decoded)])
  let bytes = await readAll(file)
  equal(bytes.byteLength, before.oplogByteLength)
  for (const f of before.oplogEntries) bytesEqual(bytes.subarray(f.offset, f.offset + f.frameHex.length / 2), f.frameHex, `entry at ${f.offset}`)
  const slot1 = after.headerSlots[1]
  bytesEqual(bytes.subarray(HEADER_SLOT_SIZE, HEADER_SLOT_SIZE + 8 + slot1.bodyHex.length / 2).subarray(8), slot1.bodyHex)

  // replay before the last flush: the header of length 1 and both entries
  const mid = await reopen(bytes)
  deepEqual(mid.result.header, h1)
  deepEqual(mid.result.entries, before.oplogEntries.map((f: any) => entryFromJson(f.decoded)))

  await log.flush(h3)
  bytes = await readAll(file)
  equal(bytes.byteLength, after.byteLength)
  bytesEqual(bytes.subarray(0, after.header0hex.length / 2), after.header0hex, 'slot 0 frame')
  equal(log.activeSlot, 0)
  const end = await reopen(bytes)
  deepEqual(end.result, { header: h3, entries: [] })
  equal(end.log.activeSlot, 0)
})

/** Builds a log: one flushed header, batches of entries; returns the bytes and the offsets. */
async function buildLog (batches: OplogEntry[][]): Promise<{ bytes: Uint8Array, ends: number[] }> {
  const file = ram()
  const log = new Oplog(file)
  await log.open()
  await log.flush(header(0))
  const ends: number[] = []
  for (const b of batches) {
    await log.append(b)
    ends.push(ENTRIES_OFFSET + log.byteLength)
  }
  return { bytes: await readAll(file), ends }
}

test('oplog: a torn last batch (cut at every byte) replays exactly the batches before it', async () => {
  const batches = [[entry(0)], [entry(1), entry(2)], [entry(3), entry(4), entry(5)]]
  const { bytes, ends } = await buildLog(batches)
  const lastStart = ends[1]!
  const lastEnd = ends[2]!
  equal(bytes.byteLength, lastEnd)
  for (let cut = lastStart; cut < lastEnd; cut++) {
    const { log, file, result } = await reopen(bytes.subarray(0, cut))
    deepEqual(result.entries, [...batches[0]!, ...batches[1]!], `cut at ${cut}`)
    equal(log.length, 3)
    equal((await readAll(file)).byteLength, lastStart, `file truncated back (cut ${cut})`)
    // and the log goes on from there
    await log.append([entry(9)])
    const again = await reopen(await readAll(file))
    deepEqual(again.result.entries, [...batches[0]!, ...batches[1]!, entry(9)])
  }
  deepEqual((await reopen(bytes)).result.entries, batches.flat(), 'uncut')
})

test('oplog: corrupting any byte of the last batch drops the whole batch, never throws', async () => {
  const batches = [[entry(0), entry(1)], [entry(2), entry(3)]]
  const { bytes, ends } = await buildLog(batches)
  for (let at = ends[0]!; at < ends[1]!; at++) {
    for (const flip of [0x01, 0x80, 0xff]) {
      const bad = bytes.slice()
      bad[at] = bad[at]! ^ flip
      const { result, file } = await reopen(bad)
      deepEqual(result.entries, batches[0], `byte ${at} ^ ${flip}`)
      equal((await readAll(file)).byteLength, ends[0])
    }
  }
})

test('oplog: a corrupt earlier batch ends the log there (later batches are not trusted)', async () => {
  const batches = [[entry(0)], [entry(1)], [entry(2)]]
  const { bytes, ends } = await buildLog(batches)
  const bad = bytes.slice()
  bad[ends[0]! + 10] ^= 1
  const { result } = await reopen(bad)
  deepEqual(result.entries, batches[0])
})

test('oplog: header slots alternate over many flushes; reopen always sees the newest', async () => {
  const file = ram()
  const log = new Oplog(file)
  await log.open()
  const seen: number[] = []
  for (let n = 1; n <= 40; n++) {
    await log.flush(header(n))
    seen.push(log.activeSlot)
    if (n % 3 === 0) await log.append([entry(n)])
    const { result, log: l2 } = await reopen(await readAll(file))
    equal(result.header!.tree.length, n, `flush ${n}`)
    equal(l2.activeSlot, log.activeSlot)
    equal(result.entries.length, n % 3 === 0 ? 1 : 0)
  }
  deepEqual(seen.slice(0, 6), [0, 1, 0, 1, 0, 1], 'slots alternate')
})

test('oplog: recovery when either slot is corrupt, and flushing on from there', async () => {
  for (let n = 2; n <= 9; n++) {
    const file = ram()
    const log = new Oplog(file)
    await log.open()
    for (let k = 1; k <= n; k++) await log.flush(header(k))
    const bytes = await readAll(file)
    const active = log.activeSlot
    for (const slot of [0, 1] as const) {
      const bad = bytes.slice()
      bad[slot * HEADER_SLOT_SIZE + 12] ^= 0xff // inside the payload
      const r = await reopen(bad)
      // losing the active slot falls back to the previous header; losing the other loses nothing
      equal(r.result.header!.tree.length, slot === active ? n - 1 : n, `n=${n} slot ${slot}`)
      // the next flush must become the active header and survive a reopen
      await r.log.flush(header(100 + n))
      const r2 = await reopen(await readAll(r.file))
      equal(r2.result.header!.tree.length, 100 + n)
      // ... and one more, which now overwrites the other slot
      await r2.log.flush(header(200 + n))
      equal((await reopen(await readAll(r2.file))).result.header!.tree.length, 200 + n)
    }
  }
})

test('oplog: a torn header write leaves the previous header (cut at every byte of the new slot)', async () => {
  const file = ram()
  const log = new Oplog(file)
  await log.open()
  await log.flush(header(1))
  await log.flush(header(2))
  await log.append([entry(2)])
  const base = await readAll(file)
  const next = log.activeSlot === 0 ? 1 : 0
  const frame = encodeFrame(encodeOplogHeader(header(3)), 1, false)
  for (let n = 0; n < frame.byteLength; n++) {
    const torn = base.slice()
    torn.set(frame.subarray(0, n), next * HEADER_SLOT_SIZE)
    const { result } = await reopen(torn)
    equal(result.header!.tree.length, 2, `torn at ${n}`)
    equal(result.entries.length, 1, 'entries of the old header are still replayed')
  }
})

test('oplog: entries of an older header are ignored when the truncate after a flush never happened', async () => {
  const file = ram()
  const log = new Oplog(file)
  await log.open()
  await log.flush(header(1))
  await log.append([entry(1), entry(2)])
  const withEntries = await readAll(file)
  await log.flush(header(3))
  const flushed = await readAll(file)
  // simulate a crash between the header write and the truncate: new slots, old entries
  const crash = withEntries.slice()
  crash.set(flushed.subarray(0, ENTRIES_OFFSET))
  const { result, file: f2 } = await reopen(crash)
  equal(result.header!.tree.length, 3)
  deepEqual(result.entries, [])
  equal((await readAll(f2)).byteLength, ENTRIES_OFFSET, 'stale entries cut off')
})

test('oplog: empty, torn-first-write and corrupt files', async () => {
  deepEqual((await reopen(new Uint8Array(0))).result, { header: null, entries: [] })
  // a first header write torn halfway: less than a slot of garbage, a new oplog
  const first = encodeFrame(encodeOplogHeader(header(0)), 0, false)
  deepEqual((await reopen(first.subarray(0, 20))).result, { header: null, entries: [] })
  // data beyond a slot but no valid header anywhere: refuse
  const junk = new Uint8Array(ENTRIES_OFFSET + 100).fill(0x33)
  await rejectsWithCode(() => new Oplog(ram(junk)).open(), 'OPLOG_CORRUPT')
  // a CRC-valid header of a newer version is not skipped silently
  const future = new Uint8Array(HEADER_SLOT_SIZE)
  future.set(encodeFrame(new Uint8Array([9, 0]), 0, false))
  await rejectsWithCode(() => new Oplog(ram(future)).open(), 'INVALID_OPLOG_VERSION')
})

test('oplog: misuse is typed: append before a header, open twice, after close', async () => {
  const log = new Oplog(ram())
  await rejectsWithCode(() => log.append([entry(0)]), 'INVALID_OPERATION')
  await log.open()
  await rejectsWithCode(() => log.open(), 'INVALID_OPERATION')
  await rejectsWithCode(() => log.append([entry(0)]), 'INVALID_OPERATION')
  await log.flush(header(0))
  await log.append([])
  equal(log.length, 0)
  await log.close()
  await log.close()
  await rejectsWithCode(() => log.flush(header(1)), 'SESSION_CLOSED')
})

test('oplog: big headers go to the header file (§6.5), alternating places, and read back', async () => {
  const file = ram()
  const hfile = ram()
  const log = new Oplog(file, { headerFile: hfile })
  await log.open()
  const big = (n: number, size: number): ReturnType<typeof header> =>
    header(n, { userData: [{ key: 'blob', value: new Uint8Array(size).fill(n) }] })
  const places = new Set<number>()
  for (let n = 1; n <= 6; n++) {
    const h = n === 4 ? header(n) : big(n, n === 5 ? 10000 : 5000)
    await log.flush(h)
    const { result } = await reopen(await readAll(file), ram(await readAll(hfile)))
    deepEqual(result.header, h, `flush ${n}`)
    if (n !== 4) {
      const slot = await promisify(file).read(log.activeSlot * HEADER_SLOT_SIZE + 8, 4)
      equal(slot[0], 1, 'version'); equal(slot[1], 1, 'external flag')
      const ptr = await promisify(file).read(log.activeSlot * HEADER_SLOT_SIZE + 10, 1)
      places.add(ptr[0]!)
    }
  }
  ok(places.size === 2, `copies alternate between two places (start bytes ${[...places].join(',')})`)
  ok((await readAll(hfile)).byteLength <= 3 * 4096 + 10000, `header file stays bounded: ${(await readAll(hfile)).byteLength}`)
  // without a header file a big header is refused with a clear error, and nothing is written
  const plain = new Oplog(ram())
  await plain.open()
  const err = await rejectsWithCode(() => plain.flush(big(1, 5000)), 'OPLOG_HEADER_OVERFLOW')
  ok(/no header file/.test(err.message))
  // and reading a pointer without the header file is corruption, not a crash
  const pointer = await readAll(file)
  const noHeaderFile = new Oplog(ram(pointer))
  await rejectsWithCode(() => noHeaderFile.open(), 'OPLOG_CORRUPT')
})
