/**
 * @module test/store/hyperdrive
 * hyperdrive@11, unchanged, on our Corestore in Node, side by side with hyperdrive@11 on
 * corestore@6: the same workload (hyperdrive-workload.ts) sees the same things and writes the
 * same blocks (same keys and tree hashes for the same primary key); a drive directory
 * written by one opens in the other; and drives replicate both ways (get, ranges, download,
 * diff, checkout, live updates) over one store stream.
 */
import { test } from 'node:test'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { Corestore, MemoryDirectory } from '../../src/index.js'
import { cryptoReady } from '../../src/crypto/sodium.js'
import { deepEqual, equal, ok } from '../helpers/assert.js'
import { tmpDir } from '../core/helpers.js'
import { RAM, RefCorestore, connectStores } from './helpers.js'
import { collect, driveWorkload, pattern, sha } from './hyperdrive-workload.js'

const require = createRequire(import.meta.url)
const Hyperdrive = require('hyperdrive') as any

const PK = Buffer.alloc(32, 0x5a)

test('hyperdrive: the same workload on our store (memory, directory) and on corestore@6 sees the same things and writes the same blocks', async (t) => {
  await cryptoReady()
  const theirs = await driveWorkload(Hyperdrive, new RefCorestore(RAM.reusable(), { primaryKey: PK }))
  const onMemory = await driveWorkload(Hyperdrive, new Corestore(new MemoryDirectory(), { primaryKey: PK }))
  const dir = tmpDir(t, 'hcw-drive-')
  const onDisk = await driveWorkload(Hyperdrive, new Corestore(dir, { primaryKey: PK }))
  for (const k of Object.keys(theirs)) {
    deepEqual(onMemory[k], theirs[k], `memory vs corestore@6: ${k}`)
    deepEqual(onDisk[k], theirs[k], `directory vs corestore@6: ${k}`)
  }
  deepEqual(Object.keys(onMemory), Object.keys(theirs))
  // The directory is a real drive store: corestore@6 opens it and reads the drive.
  const store = new RefCorestore(dir)
  const drive = new Hyperdrive(store)
  await drive.ready()
  equal(drive.key.toString('hex'), theirs.key)
  equal(drive.version, theirs.version)
  equal(sha(await drive.get('/dir/b.bin')), sha(pattern(200_000, 1)))
  await drive.put('/from-corestore6', Buffer.from('x'))
  await drive.close()
  // And back in ours, writable, with what corestore@6 added.
  const again = new Hyperdrive(new Corestore(dir))
  await again.ready()
  equal(again.writable, true)
  equal((await again.get('/from-corestore6')).toString(), 'x')
  await again.put('/from-ours', Buffer.from('y'))
  equal((await again.get('/from-ours')).toString(), 'y')
  await again.close()
})

for (const [w, r] of [['ours', 'corestore@6'], ['corestore@6', 'ours'], ['ours', 'ours']] as const) {
  test(`hyperdrive: a ${r} reader replicates a drive from a ${w} writer over one store stream (get, ranges, download, diff, checkout, live)`, async () => {
    await cryptoReady()
    const mk = (kind: string): any => kind === 'ours' ? new Corestore(new MemoryDirectory()) : new RefCorestore(RAM.reusable())
    const wstore = mk(w)
    const rstore = mk(r)
    const writer = new Hyperdrive(wstore)
    await writer.ready()
    await writer.put('/a.txt', Buffer.from('hello'))
    await writer.put('/dir/big.bin', pattern(300_000, 2))
    await writer.put('/dir/small.txt', Buffer.from('small'))
    const v1 = writer.version
    await writer.put('/later.txt', Buffer.from('later'))

    const link = connectStores(wstore, rstore)
    const reader = new Hyperdrive(rstore, writer.key)
    await reader.ready()
    await reader.update({ wait: true })
    equal(reader.version, writer.version)
    equal((await reader.get('/a.txt')).toString(), 'hello')
    const range = Buffer.concat((await collect(reader.createReadStream('/dir/big.bin', { start: 100_000, length: 50_000 }))) as Buffer[])
    equal(sha(range), sha(pattern(300_000, 2).subarray(100_000, 150_000)))
    // Sparse: the range did not fetch the whole file.
    const blobs = await reader.getBlobs()
    ok(blobs.core.contiguousLength < blobs.core.length || !(await blobs.core.has(0, blobs.core.length)), 'sparse read')
    await reader.download('/dir')
    equal(await blobs.core.has(0, blobs.core.length - 1), true, 'download fetched the folder\'s blobs')
    equal(sha(await reader.get('/dir/big.bin', { wait: false })), sha(pattern(300_000, 2)))
    deepEqual(((await collect(reader.diff(v1, '/'))) as any[]).map(d => [d.left?.key ?? null, d.right?.key ?? null]), [['/later.txt', null]])
    const co = reader.checkout(v1)
    await co.ready()
    equal(await co.exists('/later.txt'), false)
    await co.close()
    // Live: a put on the writer reaches the reader (its db core's 'append').
    const grown = new Promise(resolve => reader.core.once('append', resolve))
    await writer.put('/live.txt', Buffer.from('live'))
    await grown
    equal((await reader.get('/live.txt')).toString(), 'live')
    deepEqual(((await collect(reader.list('/'))) as any[]).map(e => e.key), ['/a.txt', '/dir/big.bin', '/dir/small.txt', '/later.txt', '/live.txt'])
    await link.done()
    await reader.close()
    await writer.close()
  })
}

test('hyperdrive: a drive made by name in a namespace has the same key on both stores, and getDriveKey agrees', async () => {
  await cryptoReady()
  const ours = new Corestore(new MemoryDirectory(), { primaryKey: PK })
  const theirs = new RefCorestore(RAM.reusable(), { primaryKey: PK })
  const a = new Hyperdrive(ours.namespace('app'))
  const b = new Hyperdrive(theirs.namespace('app'))
  await Promise.all([a.ready(), b.ready()])
  equal(a.key.toString('hex'), b.key.toString('hex'))
  equal((await Hyperdrive.getDriveKey(ours.namespace('x'))).toString('hex'), (await Hyperdrive.getDriveKey(theirs.namespace('x'))).toString('hex'))
  await Promise.all([a.close(), b.close()])
  await Promise.all([ours.close(), theirs.close()])
})

test('hyperdrive: a directory made by hyperdrive on corestore@6 opens as a drive on our store', async (t) => {
  const dir = tmpDir(t, 'hcw-drive-')
  const d1 = new Hyperdrive(new RefCorestore(join(dir, 's')))
  await d1.ready()
  await d1.put('/x', pattern(100_000, 3))
  await d1.symlink('/y', '/x')
  const key = d1.key.toString('hex')
  await d1.close()
  const d2 = new Hyperdrive(new Corestore(join(dir, 's')))
  await d2.ready()
  equal(d2.key.toString('hex'), key)
  equal(sha(await d2.get('/x')), sha(pattern(100_000, 3)))
  equal((await d2.entry('/y')).value.linkname, '/x')
  equal(d2.writable, true)
  await d2.close()
})
