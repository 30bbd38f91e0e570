/**
 * @module test/replication/session-update
 * `update()` on sessions of a reader, side by side with hypercore@10 (a black box): a snapshot
 * asks the peers, then moves to what it learnt; a reader finds a writer whose channel was
 * rejected because the reader's core was not open yet (the writer pairs again on the
 * reader's late open, as hypercore@10 does); `findingPeers` holds updates until discovery ends.
 */
import { test } from 'node:test'
import { deepEqual } from '../helpers/assert.js'
import { connect, ourWriter, RAM, RefHypercore } from './replicator-helpers.js'
import { Hypercore } from '../../src/core/hypercore.js'
import { MemoryStorage } from '../../src/storage/memory.js'

type Reader = 'ours' | 'hypercore@10'
const readers: Reader[] = ['ours', 'hypercore@10']
const makeReader = (kind: Reader, key: Uint8Array): any => kind === 'ours' ? new Hypercore(() => new MemoryStorage(), key) : new RefHypercore(RAM, key)

for (const kind of readers) {
  test(`update(): a snapshot of a ${kind} reader asks the writer, then moves (ours as the writer)`, async () => {
    const w = await ourWriter()
    await w.append(['a'])
    const r = makeReader(kind, w.key!)
    await r.ready()
    const link = connect(w, r)
    await r.update({ wait: true })
    const snap = r.snapshot()
    await snap.ready()
    const before = snap.length
    await w.append(['b', 'c'])
    // Ours: the writer's announcement may still be on its way, and update() answers for what
    // the peers have said, so wait until the reader has it; the snapshot then moves to the
    // reader's length. (hypercore@10's snapshot moves only when this very update() upgraded
    // the core, so there the update must race the announcement, as it does here.)
    if (kind === 'ours') while (r.length < 3) await new Promise(resolve => r.once('append', resolve))
    const moved = await snap.update({ wait: true })
    const after = [snap.length, Buffer.from(await snap.get(2)).toString()]
    await snap.close()
    await link.done()
    await r.close()
    await w.close()
    deepEqual({ before, moved, after }, { before: 1, moved: true, after: [3, 'c'] })
  })

  test(`a ${kind} reader opened after replicate() started still meets our writer (late open paired)`, async () => {
    const w = await ourWriter()
    await w.append(['a', 'b'])
    const r = makeReader(kind, w.key!) // not ready: it rejects the writer's first open
    const link = connect(w, r)
    const added = new Promise(resolve => r.once('peer-add', resolve))
    await r.ready()
    await added
    const updated = await r.update({ wait: true })
    const got = Buffer.from(await r.get(1)).toString()
    await link.done()
    await r.close()
    await w.close()
    deepEqual({ updated, length: r.length, got }, { updated: true, length: 2, got: 'b' })
  })

  test(`findingPeers(): a ${kind} reader's update() waits for discovery, then for the peer's length`, async () => {
    const w = await ourWriter()
    await w.append(['a', 'b', 'c'])
    const r = makeReader(kind, w.key!)
    const found = r.findingPeers()
    const link = connect(w, r)
    r.once('peer-add', found)
    const updated = await r.update()
    const length = r.length
    await link.done()
    await r.close()
    await w.close()
    deepEqual({ updated, length }, { updated: true, length: 3 })
  })
}

test('late open the other way: our reader not open yet, a hypercore@10 writer', async () => {
  const w = new RefHypercore(RAM)
  await w.append(['x', 'y'])
  const r = new Hypercore(() => new MemoryStorage(), w.key)
  const link = connect(w, r)
  const added = new Promise(resolve => r.once('peer-add', resolve))
  await r.ready()
  await added
  const got = Buffer.from(await r.get(1) as Uint8Array).toString()
  await link.done()
  await r.close()
  await w.close()
  deepEqual(got, 'y')
})

