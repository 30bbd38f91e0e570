/** @module test/core/format/data-file — block bytes at offsets (spec §6.4). */
import { test } from 'node:test'
import { DataFile } from '../../../src/core/format/data-file.js'
import { MemoryStorage } from '../../../src/storage/memory.js'
import { bytesEqual, equal, ok, rejectsWithCode } from '../../helpers/assert.js'
import { ram, readAll, VECTORS } from './helpers.js'

const enc = new TextEncoder()

test('data file: a, b, c → "abc" (vector), blocks read back at their offsets', async () => {
  const file = ram()
  const d = new DataFile(file)
  equal(await d.writeBlocks(0, [enc.encode('a')]), 1)
  equal(await d.writeBlocks(1, [enc.encode('b'), enc.encode('c')]), 2)
  bytesEqual(await readAll(file), VECTORS.compat.storage.data.hex)
  equal(await d.byteLength(), VECTORS.compat.storage.data.byteLength)
  bytesEqual(await d.read(1, 1), enc.encode('b'))
  bytesEqual(await d.read(0, 3), enc.encode('abc'))
  const r = await d.read(2, 1)
  equal(Object.getPrototypeOf(r), Uint8Array.prototype, 'plain Uint8Array out')
  equal((await d.read(3, 0)).byteLength, 0, 'empty block at the end: no I/O')
  await rejectsWithCode(() => d.read(2, 5), 'STORAGE_OUT_OF_BOUNDS')
})

test('data file: a batch is one write; sparse writes leave holes', async () => {
  const file = ram()
  let writes = 0
  const write = file.write.bind(file)
  file.write = (o, b, cb) => { writes++; write(o, b, cb) }
  const d = new DataFile(file)
  await d.writeBlocks(100, Array.from({ length: 50 }, (_, i) => new Uint8Array([i])))
  equal(writes, 1)
  equal(await d.byteLength(), 150)
  bytesEqual(await d.read(110, 2), '0a0b')
  bytesEqual(await d.read(0, 4), '00000000', 'hole reads as zeros')
})

test('data file: clear punches holes (del) or writes zeros; truncate cuts', async () => {
  for (const [name, file] of [['npm RAM', ram()], ['ours', new MemoryStorage()]] as const) {
    const d = new DataFile(file)
    await d.writeBlocks(0, [new Uint8Array(10000).fill(7)])
    let dels = ''
    const del = file.del.bind(file)
    file.del = (o, n, cb) => { dels += `${o}+${n}`; del(o, n, cb) }
    await d.clear(100, 5000)
    equal(dels, '100+5000', `${name}: clear is one del of the range`)
    bytesEqual(await d.read(98, 2), '0707', `${name}: bytes before the range kept`)
    bytesEqual(await d.read(5100, 2), '0707', `${name}: bytes after the range kept`)
    await d.truncate(50)
    equal(await d.byteLength(), 50, name)
  }
  // a storage that cannot delete: zeros are written instead
  const nodel = ram()
  nodel.deletable = false
  const d = new DataFile(nodel)
  await d.writeBlocks(0, [new Uint8Array(200000).fill(9)])
  await d.clear(10, 150000)
  const all = await d.read(0, 200000)
  ok(all.subarray(10, 150010).every(b => b === 0))
  equal(all[9], 9); equal(all[150010], 9)
})

test('data file: bad arguments are BAD_ARGUMENT', async () => {
  const d = new DataFile(ram())
  await rejectsWithCode(() => d.read(-1, 1), 'BAD_ARGUMENT')
  await rejectsWithCode(() => d.writeBlocks(0.5, []), 'BAD_ARGUMENT')
  await rejectsWithCode(() => d.clear(0, Number.NaN), 'BAD_ARGUMENT')
})
