/**
 * @module test/core/crash-download
 * Crash safety (§6.1) of downloaded blocks stored as one group (Core.insertVerifiedBlock,
 * core/verified.ts): blocks whose proofs arrive while the core's lock is taken are stored by
 * ONE mutation (their data writes, one oplog write with an entry per block, one apply). As in
 * crash.test.ts, we count the group's storage writes, then fail (I/O error) or tear (power cut)
 * each in turn, reboot from the bytes on "disk", and check the reader holds either none of the
 * group's blocks or all of them, with an I/O error rejecting every caller exactly when the
 * group did not commit. A bad proof in the group fails only its own caller.
 */
import { test } from 'node:test'
import Hypercore from '../../src/index.js'
import type { Core } from '../../src/core/core.js'
import { HypercoreError } from '../../src/errors.js'
import { cryptoReady } from '../../src/crypto/sodium.js'
import { keyPair } from '../../src/crypto/sign.js'
import { MemoryStorage } from '../../src/storage/memory.js'
import { generateProof } from '../../src/tree/proof-generate.js'
import { verifyProof } from '../../src/tree/proof-verify.js'
import type { Proof } from '../../src/tree/types.js'
import { AssertionFailed, equal, hex, ok } from '../helpers/assert.js'
import { FaultDisk, type FaultMode } from './fault-storage.js'

const enc = (s: string): Uint8Array => new TextEncoder().encode(s)
const LENGTH = 12
/** Blocks 3..6 follow each other in the data file (one write), 9 stands apart (another). */
const GROUP = [3, 4, 5, 6, 9]

interface State { length: number, contiguous: number, blocks: Array<string | null> }

async function stateOf (core: Hypercore): Promise<State> {
  const blocks: Array<string | null> = []
  for (let i = 0; i < core.length; i++) {
    const b = await core.get(i, { wait: false }) as Uint8Array | null
    blocks.push(b === null ? null : hex(b))
  }
  return { length: core.length, contiguous: core.contiguousLength, blocks }
}
const same = (a: State, b: State): boolean => JSON.stringify(a) === JSON.stringify(b)

async function open (disk: FaultDisk): Promise<Hypercore> {
  const core = new Hypercore(disk.factory)
  await core.ready()
  return core
}

/** A proof of block `index` as a peer answers a request made now (omitting the nodes we hold). */
async function blockProof (writer: Hypercore, reader: Core, index: number): Promise<Proof> {
  const w = writer.core!
  const nodes = await reader.tree.missingNodes(2 * index)
  return await generateProof(w.tree, { fork: w.tree.fork, block: { index, nodes } }, async (i) => await w.readBlock(i))
}

/** Stores the proofs as the replicator does: all issued at once, so they form one group. */
function storeGroup (reader: Core, proofs: Proof[]): Array<Promise<boolean>> {
  return proofs.map(p => reader.insertVerifiedBlock(async (tree) => {
    const batch = await verifyProof(tree, p)
    return { batch, block: { index: p.block!.index, value: p.block!.value } }
  }))
}

async function setup (): Promise<{ writer: Hypercore, base: FaultDisk, proofs: Proof[] }> {
  await cryptoReady()
  const writer = new Hypercore(() => new MemoryStorage(), { keyPair: keyPair(new Uint8Array(32).fill(9)) })
  await writer.ready()
  for (let i = 0; i < LENGTH; i++) await writer.append(enc(`block ${i}`))
  const base = new FaultDisk()
  const reader = new Hypercore(base.factory, writer.key)
  await reader.ready()
  // The signed length (an upgrade proof), then blocks 0 and 1 on their own.
  const c = reader.core!
  const up = await generateProof(writer.core!.tree, { fork: 0, upgrade: { start: 0, length: LENGTH } })
  await c.insertVerified(async (tree) => ({ batch: await verifyProof(tree, up, (h, l, f, s) => c.verifier.verify(h, l, f, s)), block: null }))
  for (const i of [0, 1]) await Promise.all(storeGroup(c, [await blockProof(writer, c, i)]))
  const proofs: Proof[] = []
  for (const i of GROUP) proofs.push(await blockProof(writer, c, i))
  await reader.close()
  return { writer, base, proofs }
}

test('downloaded blocks stored as one group: all or none after a failed or torn write', async () => {
  const { writer, base, proofs } = await setup()

  const clean = base.clone()
  const c0 = await open(clean)
  const before = await stateOf(c0)
  clean.reset()
  const oplog = c0.core!.oplog
  const stage = oplog.stage.bind(oplog)
  let staged = 0
  oplog.stage = (entries) => { staged++; equal(entries.length, GROUP.length, 'one entry per block'); return stage(entries) }
  const results = await Promise.all(storeGroup(c0.core!, proofs))
  ok(results.every(r => r), 'every block of the group was new')
  equal(staged, 1, 'the group is ONE oplog write')
  const writes = clean.count
  await c0.close()
  const after = await stateOf(await open(clean.clone()))
  for (const i of GROUP) ok(after.blocks[i] !== null, `block ${i} stored`)
  equal(after.contiguous, 2, 'contiguous length (block 2 is missing)')
  // Two data writes (3..6 as one, then 9), the oplog write, and the flush the schedule asks
  // for (the first mutation after an open flushes: bitfield page, tree node runs, header).
  ok(writes >= 3, `the group writes (${writes})`)

  let sawBefore = 0
  let sawAfter = 0
  for (const mode of ['fail', 'torn'] as FaultMode[]) {
    for (let at = 0; at < writes; at++) {
      const label = `${mode} at write ${at}/${writes}`
      const disk = base.clone()
      const core = await open(disk)
      disk.arm(at, mode)
      const settled = await Promise.allSettled(storeGroup(core.core!, proofs))
      const rejected = settled.filter(s => s.status === 'rejected')
      for (const r of rejected) if (!HypercoreError.is((r as PromiseRejectedResult).reason)) throw new AssertionFailed(`${label}: untyped error`)
      ok(rejected.length === 0 || rejected.length === settled.length, `${label}: the group settles as one (${rejected.length} of ${settled.length} rejected)`)
      const rebooted = disk.clone()
      const r = await open(rebooted)
      const st = await stateOf(r)
      if (mode === 'fail' && same(st, rejected.length > 0 ? after : before)) {
        throw new AssertionFailed(`${label}: the group ${rejected.length > 0 ? 'rejected but committed' : 'resolved but did not commit'}`)
      }
      if (same(st, before)) sawBefore++
      else if (same(st, after)) sawAfter++
      else throw new AssertionFailed(`${label}: neither before nor after\n  got    ${JSON.stringify(st)}\n  before ${JSON.stringify(before)}\n  after  ${JSON.stringify(after)}`)
      // and it keeps working: the group again (what is there already counts as not new), a reopen
      await Promise.all(storeGroup(r.core!, await Promise.all(GROUP.map(async i => await blockProof(writer, r.core!, i)))))
      const full = await stateOf(r)
      await r.close()
      ok(same(await stateOf(await open(rebooted.clone())), full), `${label}: state after recovery survives a reopen`)
      ok(same(full, after), `${label}: recovered to the full group`)
    }
  }
  ok(sawBefore > 0 && sawAfter > 0, `both outcomes occur (before ${sawBefore}, after ${sawAfter})`)
  await writer.close()
})

test('a bad proof in a group fails its own caller only', async () => {
  const { writer, base, proofs } = await setup()
  const core = await open(base.clone())
  const tampered: Proof = { ...proofs[1]!, block: { ...proofs[1]!.block!, value: enc('not block 4') } }
  const settled = await Promise.allSettled(storeGroup(core.core!, [proofs[0]!, tampered, ...proofs.slice(2)]))
  equal(settled.map(s => s.status).join(','), 'fulfilled,rejected,fulfilled,fulfilled,fulfilled')
  ok(HypercoreError.is((settled[1] as PromiseRejectedResult).reason, 'INVALID_PROOF'), 'the tampered block is INVALID_PROOF')
  const st = await stateOf(core)
  for (const i of GROUP) equal(st.blocks[i] !== null, i !== 4, `block ${i}`)
  await core.close()
  await writer.close()
})
