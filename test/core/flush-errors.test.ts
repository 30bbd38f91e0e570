/**
 * @module test/core/flush-errors
 * A mutation resolves once committed (its oplog entry written, §6.1); a flush that fails
 * after that point loses nothing and is retried by the next mutation or by close, which
 * reject with the storage's typed error only if the retry fails too (and then change
 * nothing). Driven by the fault-injecting storage: one failing write (`fail`) and a storage
 * that keeps failing (`stuck`).
 */
import { test } from 'node:test'
import Hypercore from '../../src/index.js'
import { HypercoreError } from '../../src/errors.js'
import { cryptoReady } from '../../src/crypto/sodium.js'
import { keyPair } from '../../src/crypto/sign.js'
import { AssertionFailed, deepEqual, equal, hex, ok, rejectsWithCode } from '../helpers/assert.js'
import { FaultDisk } from './fault-storage.js'

const enc = (s: string): Uint8Array => new TextEncoder().encode(s)
const dec = (b: unknown): string => new TextDecoder().decode(b as Uint8Array)
const KP = (): ReturnType<typeof keyPair> => keyPair(new Uint8Array(32).fill(3))

/** A disk holding a core of `n` blocks b0..b(n-1), closed cleanly. */
async function seeded (n: number): Promise<FaultDisk> {
  await cryptoReady()
  const disk = new FaultDisk()
  const w = new Hypercore(disk.factory, { keyPair: KP() })
  for (let i = 0; i < n; i++) await w.append(enc(`b${i}`))
  await w.close()
  return disk
}

/** Reopens from exactly the bytes on the disk; checks the signature covers the tree. */
async function reboot (disk: FaultDisk): Promise<{ length: number, blocks: string[], treeHash: string }> {
  const core = new Hypercore(disk.clone().factory)
  await core.ready()
  const c = core.core!
  const hash = await core.treeHash()
  ok(c.verifier.verify(hash, core.length, core.fork, c.tree.signature), 'signature covers the reopened tree')
  const blocks: string[] = []
  for (let i = 0; i < core.length; i++) blocks.push(dec(await core.get(i)))
  await core.close()
  return { length: core.length, blocks, treeHash: hex(hash) }
}

/** The first append after open is a flush point (hypercore@10's schedule): its writes are data, entry, then the flush. */
async function writesOfFirstAppend (disk: FaultDisk): Promise<number> {
  const d = disk.clone()
  const core = new Hypercore(d.factory)
  await core.ready()
  d.reset()
  await core.append(enc('x'))
  const n = d.count
  await core.close()
  return n
}

test('append: a failure before the commit point rejects and changes nothing; after it, append resolves', async () => {
  const base = await seeded(3)
  const writes = await writesOfFirstAppend(base)
  ok(writes >= 4, `data, entry and flush writes (${writes})`)
  for (let at = 0; at < writes; at++) {
    const disk = base.clone()
    const core = new Hypercore(disk.factory)
    await core.ready()
    disk.arm(at, 'fail')
    let error: unknown = null
    let result: { length: number } | null = null
    try { result = await core.append(enc('new')) } catch (err) { error = err }
    const st = await reboot(disk)
    if (at < 2) {
      // write 0 is the block, write 1 the oplog entry: the commit point
      ok(HypercoreError.is(error, 'STORAGE_IO'), `fail at ${at}: typed rejection, got ${String(error)}`)
      equal(core.length, 3, `fail at ${at}: length unchanged`)
      equal(st.length, 3, `fail at ${at}: nothing stored`)
      equal(core.core!.flushError, null)
    } else {
      if (error !== null) throw new AssertionFailed(`fail at ${at} (after the commit point): append rejected with ${String(error)}`)
      equal(result!.length, 4, `fail at ${at}: resolved length`)
      deepEqual(st.blocks, ['b0', 'b1', 'b2', 'new'], `fail at ${at}: durable`)
      ok(HypercoreError.is(core.core!.flushError, 'STORAGE_IO'), `fail at ${at}: the failed flush is remembered`)
      equal(dec(await core.get(3)), 'new', 'readable at once')
      // the next mutation retries the flush first (the disk works again), then appends
      await core.append(enc('next'))
      equal(core.core!.flushError, null, `fail at ${at}: the retry flushed`)
      deepEqual((await reboot(disk)).blocks, ['b0', 'b1', 'b2', 'new', 'next'])
    }
    await core.close()
  }
})

test('a storage that keeps failing after the commit point: append resolves, the next mutation and close reject typed, nothing is lost', async () => {
  const base = await seeded(3)
  const disk = base.clone()
  const core = new Hypercore(disk.factory, { valueEncoding: 'utf-8' })
  await core.ready()
  const before = await reboot(disk)
  disk.arm(2, 'stuck')
  const r = await core.append('four')
  deepEqual(r, { length: 4, byteLength: 2 + 2 + 2 + 4 })
  equal(await core.get(3), 'four')
  let appends = 0
  core.on('append', () => { appends++ })
  // the retry fails: the mutation is refused before it changes anything
  await rejectsWithCode(() => core.append('five'), 'STORAGE_IO', 'append after the failed flush')
  await rejectsWithCode(() => core.truncate(1), 'STORAGE_IO', 'truncate after the failed flush')
  await rejectsWithCode(() => core.clear(0), 'STORAGE_IO', 'clear after the failed flush')
  equal(core.length, 4)
  equal(appends, 0, 'no append event for a refused append')
  ok(await core.has(0), 'clear refused: block 0 still here')
  const after = await reboot(disk)
  deepEqual(after.blocks, [...before.blocks, 'four'], 'the committed append is durable')
  // close retries once more, closes the files anyway, then reports the fault
  await rejectsWithCode(() => core.close(), 'STORAGE_IO', 'close')
  ok(core.closed, 'the session is closed')
  await rejectsWithCode(() => core.get(0), 'SESSION_CLOSED')
  // a healthy reopen replays the oplog and flushes on its first mutation
  disk.reset()
  const again = new Hypercore(disk.factory, { valueEncoding: 'utf-8' })
  await again.append('five')
  deepEqual(await Promise.all([0, 1, 2, 3, 4].map(i => again.get(i))), ['b0', 'b1', 'b2', 'four', 'five'])
  await again.close()
  equal((await reboot(disk)).length, 5)
})

test('truncate: its always-run flush failing after the commit point resolves the truncate; the retry happens at close', async () => {
  const base = await seeded(6)
  // count the truncate's writes: the entry is write 0, the flush follows
  const probe = base.clone()
  const p = new Hypercore(probe.factory)
  await p.ready()
  probe.reset()
  await p.truncate(2)
  const writes = probe.count
  await p.close()
  ok(writes >= 3, `entry and flush writes (${writes})`)
  for (let at = 1; at < writes; at++) {
    const disk = base.clone()
    const core = new Hypercore(disk.factory)
    await core.ready()
    disk.arm(at, 'fail')
    await core.truncate(2)
    equal(core.length, 2)
    equal(core.fork, 1)
    ok(core.core!.flushError !== null, `fail at ${at}: remembered`)
    const st = await reboot(disk)
    equal(st.length, 2, `fail at ${at}: durable`)
    await core.close() // the retry succeeds: close resolves
    equal(core.core!.flushError, null)
    const clean = await reboot(disk)
    deepEqual(clean.blocks, ['b0', 'b1'])
  }
})
