/**
 * @module test/core/crash
 * Crash safety (§6.1): an append, a truncate and a clear are atomic. For each operation we
 * count its storage writes, then run it again failing (I/O error) or tearing (power cut) at
 * every one of them in turn, reboot from exactly the bytes on "disk", and check the core is
 * in the state before or after the operation: same length, fork, tree hash, a valid
 * signature over it, the same blocks and bits — never a mix, never a broken core. With an
 * I/O error the operation also rejects exactly when it did not commit. The rebooted core must
 * also take a further append and survive another reopen.
 */
import { test } from 'node:test'
import Hypercore from '../../src/index.js'
import { HypercoreError } from '../../src/errors.js'
import { cryptoReady } from '../../src/crypto/sodium.js'
import { keyPair } from '../../src/crypto/sign.js'
import { AssertionFailed, equal, hex, ok } from '../helpers/assert.js'
import { FaultDisk, type FaultMode } from './fault-storage.js'

interface State {
  length: number
  fork: number
  treeHash: string
  blocks: Array<string | null>
}

const E = new Uint8Array(32).fill(4)
const enc = (s: string): Uint8Array => new TextEncoder().encode(s)

async function open (disk: FaultDisk, encrypted: boolean): Promise<Hypercore> {
  const core = new Hypercore(disk.factory, { encryptionKey: encrypted ? E : undefined })
  await core.ready()
  return core
}

/** The observable state, after checking the stored signature covers it. */
async function stateOf (core: Hypercore): Promise<State> {
  const c = core.core!
  const treeHash = await core.treeHash()
  if (core.length > 0) ok(c.verifier.verify(treeHash, core.length, core.fork, c.tree.signature), 'the stored signature must cover the tree')
  const blocks: Array<string | null> = []
  for (let i = 0; i < core.length; i++) {
    const b = await core.get(i, { wait: false }) as Uint8Array | null
    blocks.push(b === null ? null : hex(b))
  }
  return { length: core.length, fork: core.fork, treeHash: hex(treeHash), blocks }
}

const same = (a: State, b: State): boolean => JSON.stringify(a) === JSON.stringify(b)

interface Scenario {
  name: string
  /** Operations that build the starting core (their count decides whether the op flushes). */
  prep: (core: Hypercore) => Promise<void>
  op: (core: Hypercore) => Promise<unknown>
}

const scenarios: Scenario[] = [
  {
    name: 'append of one block (not a flush point)',
    prep: async (core) => { for (let i = 0; i < 6; i++) await core.append(enc(`b${i}`)) },
    op: (core) => core.append(enc('new block'))
  },
  {
    name: 'append of a batch (a flush point: bitfield, tree, header, oplog cut)',
    prep: async (core) => { for (let i = 0; i < 4; i++) await core.append(enc(`b${i}`)) },
    op: (core) => core.append(['x', 'yy', 'zzz', 'wwww', 'v'].map(enc))
  },
  {
    name: 'truncate (tree file cut, blanks, header, always flushed)',
    prep: async (core) => { for (let i = 0; i < 7; i++) await core.append(enc(`b${i}`)) },
    op: (core) => core.truncate(3)
  },
  {
    name: 'clear of a range (bitfield drop, hole punch)',
    prep: async (core) => { await core.append(['a', 'b', 'c', 'd', 'e', 'f'].map(enc)) },
    op: (core) => core.clear(1, 4)
  },
  {
    name: 'clear at a flush point',
    prep: async (core) => { for (let i = 0; i < 4; i++) await core.append(enc(`b${i}`)) },
    op: (core) => core.clear(0, 2)
  }
]

for (const encrypted of [false, true]) {
  for (const sc of scenarios) {
    test(`crash safety${encrypted ? ' (encrypted)' : ''}: ${sc.name}`, async () => {
      await cryptoReady()
      const base = new FaultDisk()
      const w = new Hypercore(base.factory, { keyPair: keyPair(new Uint8Array(32).fill(8)), encryptionKey: encrypted ? E : undefined })
      await sc.prep(w)
      await w.close()

      // before and after, from clean runs
      const clean = base.clone()
      const c0 = await open(clean, encrypted)
      const before = await stateOf(c0)
      clean.reset()
      await sc.op(c0)
      const writes = clean.count
      await c0.close()
      const after = await stateOf(await open(clean.clone(), encrypted))
      ok(!same(before, after), 'the operation changes the state')
      ok(writes >= 2, `the operation writes (${writes})`)

      let sawBefore = 0
      let sawAfter = 0
      for (const mode of ['fail', 'torn'] as FaultMode[]) {
        for (let at = 0; at < writes; at++) {
          const label = `${mode} at write ${at}/${writes}`
          const disk = base.clone()
          const core = await open(disk, encrypted)
          disk.arm(at, mode)
          let threw = false
          try {
            await sc.op(core)
          } catch (err) {
            threw = true
            if (!HypercoreError.is(err)) throw new AssertionFailed(`${label}: untyped error ${String(err)}`)
          }
          // reboot from what reached the disk; the old process is abandoned without a close
          const rebooted = disk.clone()
          const r = await open(rebooted, encrypted)
          const st = await stateOf(r)
          // An I/O error (the process lives on) must tell the truth: the operation rejects
          // exactly when it did not commit (a failing flush after the commit point is retried
          // later, test/core/flush-errors.test.ts). A power cut reports nothing reliable.
          if (mode === 'fail' && same(st, threw ? after : before) && !same(before, after)) {
            throw new AssertionFailed(`${label}: the operation ${threw ? 'rejected but committed' : 'resolved but did not commit'}`)
          }
          if (same(st, before)) sawBefore++
          else if (same(st, after)) sawAfter++
          else throw new AssertionFailed(`${label}: state is neither before nor after\n  got    ${JSON.stringify(st).slice(0, 300)}\n  before ${JSON.stringify(before).slice(0, 300)}\n  after  ${JSON.stringify(after).slice(0, 300)}`)
          // and it keeps working: one more append, a clean close, a reopen
          await r.append(enc('after the crash'))
          const len = r.length
          const hash = hex(await r.treeHash())
          await r.close()
          const again = await open(rebooted.clone(), encrypted)
          equal(again.length, len, `${label}: length after recovery`)
          equal(hex(await again.treeHash()), hash, `${label}: tree hash after recovery`)
          equal(new TextDecoder().decode(await again.get(len - 1) as Uint8Array), 'after the crash')
          await again.close()
        }
      }
      ok(sawBefore > 0 && sawAfter > 0, `both outcomes occur (before ${sawBefore}, after ${sawAfter})`)
    })
  }
}
