/**
 * @module test/storage/interop.test
 * Our storages inside the real hypercore@10 (black box), npm's storages inside our factory
 * normaliser, and `toStorageFactory`'s class-vs-function detection.
 */
import 'fake-indexeddb/auto'
import { test } from 'node:test'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import Hypercore from 'hypercore'
import RAM from 'random-access-memory'
import { bytesEqual, deepEqual, equal, ok, throwsWithCode } from '../helpers/assert.js'
import { MemoryDirectory, MemoryStorage } from '../../src/storage/memory.js'
import { IdbStorage } from '../../src/storage/indexeddb/database.js'
import { FileStorage } from '../../src/storage/file.node.js'
import { defaultStorage } from '../../src/storage/default.node.js'
import { toStorageFactory, isRandomAccessClass } from '../../src/storage/factory.js'
import { promisify } from '../../src/storage/promises.js'
import type { StorageFactory } from '../../src/storage/types.js'

const enc = (s: string): Uint8Array => new TextEncoder().encode(s)

/** Appends, closes, reopens on the same storage, and reads every block back. */
async function roundTrip (storage: StorageFactory): Promise<void> {
  const core = new Hypercore(storage)
  await core.append([enc('a'), enc('bb'), enc('ccc')])
  for (let i = 0; i < 200; i++) await core.append(enc('block ' + i))
  await core.truncate(150)
  await core.append(enc('after truncate'))
  const key = core.key
  await core.close()

  const again = new Hypercore(storage)
  await again.ready()
  bytesEqual(again.key, key, 'same key')
  equal(again.length, 151)
  bytesEqual(await again.get(0), enc('a'))
  bytesEqual(await again.get(2), enc('ccc'))
  bytesEqual(await again.get(149), enc('block 146'))
  bytesEqual(await again.get(150), enc('after truncate'))
  await again.clear(10, 20)
  equal(await again.get(15, { wait: false }), null, 'cleared block is gone')
  bytesEqual(await again.get(21), enc('block 18'))
  await again.append(enc('more'))
  equal(again.length, 152)
  await again.close()
}

test('hypercore@10 runs on our memory storage (name => storage) and reopens on the same directory', async () => {
  const dir = new MemoryDirectory()
  await roundTrip(name => dir.file(name))
  deepEqual([...dir.files.keys()].sort(), ['bitfield', 'data', 'header', 'oplog', 'tree'])
})

test('hypercore@10 takes our MemoryStorage class as it takes RAM (new Cls(name))', async () => {
  ok(isRandomAccessClass(MemoryStorage))
  const core = new Hypercore(MemoryStorage)
  await core.append([enc('x'), enc('y')])
  bytesEqual(await core.get(1), enc('y'))
  await core.close()
})

test('hypercore@10 runs on our IndexedDB storage (fake-indexeddb) and reopens from a new IdbStorage', async () => {
  const name = 'interop-' + Date.now()
  const db = new IdbStorage(name)
  await roundTrip(db.factory)
  await db.close()
  const db2 = new IdbStorage(name)
  const core = new Hypercore(db2.factory)
  await core.ready()
  equal(core.length, 152)
  bytesEqual(await core.get(151), enc('more'))
  await core.close()
  await db2.destroy()
})

test('hypercore@10 runs on our Node file storage; the files are where defaultStorage puts them', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hcw-interop-'))
  try {
    await roundTrip(defaultStorage(dir))
    deepEqual(fs.readdirSync(dir).sort(), ['bitfield', 'data', 'oplog', 'tree'])
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
})

test('a core written by hypercore@10 on RAM reads back byte-identical through our storage', async () => {
  const ramFiles = new Map<string, InstanceType<typeof RAM>>()
  const core = new Hypercore((name: string) => { const f = new RAM(); ramFiles.set(name, f); return f })
  await core.append([enc('a'), enc('b'), enc('c')])
  const ours = new MemoryDirectory()
  const ourCore = new Hypercore(ours.factory, null, { keyPair: (core as unknown as { keyPair: unknown }).keyPair })
  await ourCore.append([enc('a'), enc('b'), enc('c')])
  for (const name of ['tree', 'bitfield', 'data']) {
    const a = promisify(ramFiles.get(name) as InstanceType<typeof RAM>)
    const b = promisify(ours.file(name))
    const { size } = await a.stat()
    deepEqual(await b.stat(), { size }, `${name} size`)
    bytesEqual(await b.read(0, size), await a.read(0, size), name)
  }
  await core.close()
  await ourCore.close()
})

test('toStorageFactory: functions are called, classes constructed, providers asked, strings need a default', async () => {
  const made: string[] = []
  const fn = toStorageFactory((name: string) => { made.push(name); return new MemoryStorage() })
  ok(fn('oplog') instanceof MemoryStorage)
  deepEqual(made, ['oplog'])
  const ramFactory = toStorageFactory(RAM as unknown as StorageFactory)
  const ram = ramFactory('tree')
  ok(ram instanceof RAM, 'RAM is constructed with new')
  await promisify(ram).write(0, enc('hi'))
  bytesEqual(await promisify(ram).read(0, 2), enc('hi'))
  ok(toStorageFactory(MemoryStorage)('data') instanceof MemoryStorage)
  const dir = new MemoryDirectory()
  const viaDir = toStorageFactory(dir)
  await promisify(viaDir('x')).write(0, enc('z'))
  bytesEqual(await promisify(dir.file('x')).read(0, 1), enc('z'))
  throwsWithCode(() => toStorageFactory('some/path'), 'BAD_ARGUMENT')
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hcw-factory-'))
  try {
    const f = toStorageFactory(tmp, defaultStorage)('oplog')
    ok(f instanceof FileStorage)
    equal((f as FileStorage).filename, path.join(tmp, 'oplog'))
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true })
  }
  throwsWithCode(() => toStorageFactory(42 as unknown as StorageFactory), 'BAD_ARGUMENT')
  throwsWithCode(() => toStorageFactory((() => ({})) as unknown as StorageFactory)('x'), 'BAD_ARGUMENT')
})

test('promise wrapper normalises npm errors to our codes', async () => {
  const s = promisify(new RAM())
  await s.write(0, enc('abc'))
  const err = await s.read(0, 10).then(() => null, (e: unknown) => e as { code: string })
  equal(err?.code, 'STORAGE_OUT_OF_BOUNDS')
  await s.close()
  const closed = await s.read(0, 1).then(() => null, (e: unknown) => e as { code: string })
  equal(closed?.code, 'STORAGE_CLOSED')
})
