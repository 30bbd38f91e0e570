/**
 * @module test/storage/core-safety-cases
 * Regression cases for two storage-safety fixes seen through the `Hypercore` API,
 * browser-safe and run on every kind of place (a `MemoryDirectory`, an IndexedDB database, a
 * directory in Node; a storage name string in the browser):
 *
 * - `oneWriterCases`: one writer per core in a realm. Opening a place that is already open
 *   joins that core as a session, so two opens can never sign two different trees into one
 *   storage; a joining open is checked like an open (another key: STORAGE_CONFLICT,
 *   `overwrite`: STORAGE_LOCKED), and once every session closed the next open is a new one.
 * - `interruptedCases`: a `purge()` or an `overwrite` interrupted after the oplog (the header)
 *   went but before the other files: the next core created there must not adopt the old
 *   core's tree, bitfield and data.
 *
 * Node runs them from test/core/one-writer.test.ts and test/storage/idb-safety.test.ts,
 * Chromium from web-test/storage-safety.spec.ts.
 */
import Hypercore from '../../src/index.js'
import { keyPair } from '../../src/crypto/sign.js'
import { cryptoReady } from '../../src/crypto/sodium.js'
import type { KeyPair } from '../../src/crypto/types.js'
import { IdbStorage } from '../../src/storage/indexeddb/database.js'
import { MemoryDirectory } from '../../src/storage/memory.js'
import { promisify } from '../../src/storage/promises.js'
import type { Callback, RandomAccessStorage, StorageFactory, StorageInput } from '../../src/storage/types.js'
import { deepEqual, equal, ok, rejectsWithCode, type SuiteCase } from '../helpers/assert.js'
import { tryDelete } from './idb-safety-cases.js'

/** Where a core is stored. */
export interface Place {
  /** A storage input for `new Hypercore(…)`: a new object each call where the place allows (a new IdbStorage, the same path string). */
  open: () => StorageInput
  /** The same files through a storage of their own (to break an operation or unlink by hand). */
  raw: () => StorageFactory
  cleanup: () => Promise<void>
}

export interface PlaceCtx { place: () => Place }
type Case = SuiteCase<PlaceCtx>

/** One `MemoryDirectory`: every open is that same object. */
export function memoryPlace (): Place {
  const dir = new MemoryDirectory()
  return { open: () => dir, raw: () => dir.factory, cleanup: async () => {} }
}

let seq = 0

/** One IndexedDB database: every open is a new `IdbStorage` object on its name. */
export function idbPlace (prefix: string): Place {
  const name = `${prefix}-${Date.now()}-${seq++}`
  return { open: () => new IdbStorage(name), raw: () => new IdbStorage(name).factory, cleanup: async () => { await tryDelete(name) } }
}

async function withPlace (ctx: PlaceCtx, fn: (p: Place) => Promise<void>): Promise<void> {
  const p = ctx.place()
  try {
    await fn(p)
  } finally {
    await p.cleanup()
  }
}

async function pairs (): Promise<[KeyPair, KeyPair]> {
  await cryptoReady()
  return [keyPair(new Uint8Array(32).fill(1)), keyPair(new Uint8Array(32).fill(2))]
}

/** Every block of a core, in order (utf-8 sessions). */
async function blocksOf (core: Hypercore): Promise<unknown[]> {
  const out: unknown[] = []
  for (let i = 0; i < core.length; i++) out.push(await core.get(i, { wait: false }))
  return out
}

/** The stored signature covers the tree as it is (§2.4). */
async function signed (core: Hypercore): Promise<boolean> {
  const c = core.core!
  return c.verifier.verify(await core.treeHash(), core.length, core.fork, c.tree.signature)
}

/** Opens the place again, checks length, blocks and signature, closes. */
async function expectStored (p: Place, blocks: string[], label: string): Promise<void> {
  const core = new Hypercore(p.open(), { valueEncoding: 'utf-8', createIfMissing: false })
  await core.ready()
  try {
    equal(core.length, blocks.length, `${label}: length`)
    deepEqual(await blocksOf(core), blocks, `${label}: blocks`)
    ok(await signed(core), `${label}: the signature verifies`)
  } finally {
    await core.close()
  }
}

export const oneWriterCases: Case[] = [
  {
    // The bug report. Old code: two cores on one storage, each signing its own tree:
    // A.length 4 and B.length 6, and a reopen found one of the two histories, or a mix.
    name: 'two opens of one place are one core: A has 3 blocks, B appends 3, A appends 1: both are 7 long, see every block, and a reopen has 7 signed blocks',
    run: ctx => withPlace(ctx, async (p) => {
      const a = new Hypercore(p.open(), { valueEncoding: 'utf-8' })
      await a.append(['a0', 'a1', 'a2'])
      const b = new Hypercore(p.open(), { valueEncoding: 'utf-8' })
      await b.ready()
      try {
        await b.append(['b0', 'b1', 'b2'])
        await a.append('a3')
        deepEqual([a.length, b.length], [7, 7], 'A and B lengths')
        const all = ['a0', 'a1', 'a2', 'b0', 'b1', 'b2', 'a3']
        deepEqual(await blocksOf(a), all, 'A sees every block')
        deepEqual(await blocksOf(b), all, 'B sees every block')
        ok(a.core === b.core, 'one shared core')
        equal(a.sessions.length, 2, 'two sessions on it')
      } finally {
        await a.close()
        await b.close()
      }
      await expectStored(p, ['a0', 'a1', 'a2', 'b0', 'b1', 'b2', 'a3'], 'reopened')
    })
  },
  {
    // Old code: both opens found no header and each wrote its own: two cores of different
    // keys in one storage, both "ready".
    name: 'two opens of one place with different keys in the same tick: the second rejects STORAGE_CONFLICT, the first keeps the place',
    run: ctx => withPlace(ctx, async (p) => {
      const [k1, k2] = await pairs()
      const a = new Hypercore(p.open(), { keyPair: k1, valueEncoding: 'utf-8' })
      const b = new Hypercore(p.open(), k2.publicKey, { keyPair: k2 })
      const [ra, rb] = await Promise.allSettled([a.ready(), b.ready()])
      equal(ra.status, 'fulfilled', 'the first open')
      equal(rb.status, 'rejected', 'the second open')
      equal((rb as PromiseRejectedResult).reason?.code, 'STORAGE_CONFLICT', 'the second open\'s error')
      // The same check for an open made once the first is ready.
      await rejectsWithCode(() => new Hypercore(p.open(), k2.publicKey).ready(), 'STORAGE_CONFLICT', 'a later open with the other key')
      await a.append(['x', 'y'])
      equal(a.writable, true)
      await a.close()
      await b.close().catch(() => {})
      const again = new Hypercore(p.open(), k1.publicKey, { valueEncoding: 'utf-8', createIfMissing: false })
      await again.ready()
      deepEqual(await blocksOf(again), ['x', 'y'], 'the place holds the first key\'s core')
      ok(await signed(again))
      await again.close()
    })
  },
  {
    // Old code: the overwrite truncated the files under the open core; its blocks were gone.
    name: 'overwrite: true while the place is open rejects STORAGE_LOCKED; the open core keeps its blocks and stays writable',
    run: ctx => withPlace(ctx, async (p) => {
      const a = new Hypercore(p.open(), { valueEncoding: 'utf-8' })
      await a.append(['a0', 'a1', 'a2'])
      const o = new Hypercore(p.open(), { overwrite: true })
      await rejectsWithCode(() => o.ready(), 'STORAGE_LOCKED', 'overwrite while open')
      await o.close().catch(() => {})
      equal(a.length, 3)
      deepEqual(await blocksOf(a), ['a0', 'a1', 'a2'], 'blocks after the refused overwrite')
      await a.append('a3')
      await a.close()
      await expectStored(p, ['a0', 'a1', 'a2', 'a3'], 'reopened')
    })
  },
  {
    // Old code: B was a second core (a.core !== b.core), so nothing was shared.
    name: 'a joined open keeps the core open until its last session closes; after that an open is a fresh one, also when it races the last close',
    run: ctx => withPlace(ctx, async (p) => {
      const a = new Hypercore(p.open(), { valueEncoding: 'utf-8' })
      await a.append('one')
      const b = new Hypercore(p.open(), { valueEncoding: 'utf-8' })
      await b.ready()
      ok(b.core === a.core, 'B joined A\'s core (one Core object)')
      const shared = a.core!
      await a.close()
      equal(shared.closed, false, 'the core stays open while B is')
      equal(b.writable, true)
      await b.append('two')
      const c = new Hypercore(p.open(), { valueEncoding: 'utf-8' })
      await c.ready()
      ok(c.core === shared, 'C joins the core B keeps open')
      await b.close()
      await c.close()
      equal(shared.closed, true, 'closed with its last session')

      const d = new Hypercore(p.open(), { valueEncoding: 'utf-8' })
      await d.ready()
      ok(d.core !== shared && d.core !== null && !d.core.closed, 'D opened a new core')
      deepEqual(await blocksOf(d), ['one', 'two'], 'D reads what was stored')
      await d.append('three')
      // An open issued while the last session is closing waits for the close, then opens.
      const closing = d.close()
      const e = new Hypercore(p.open(), { valueEncoding: 'utf-8' })
      await e.ready()
      await closing
      ok(e.core !== d.core && !e.core!.closed, 'E opened a new core after D closed')
      equal(e.writable, true)
      await e.append('four')
      deepEqual(await blocksOf(e), ['one', 'two', 'three', 'four'])
      await e.close()
      await expectStored(p, ['one', 'two', 'three', 'four'], 'reopened')
    })
  }
]

/**
 * `factory`'s files, except that the first `op` on each of `names` fails (an interruption:
 * the process died there, the tab closed). Everything else goes to the real file.
 */
function failing (factory: StorageFactory, op: 'unlink' | 'truncate', names: string[]): StorageFactory {
  return (name: string) => {
    const file = factory(name)
    if (!names.includes(name)) return file
    let failed = false
    const real = file[op].bind(file) as (...args: unknown[]) => void
    const broken = (...args: unknown[]): void => {
      if (failed) return real(...args)
      failed = true
      const cb = args[args.length - 1] as Callback | undefined
      queueMicrotask(() => cb?.(new Error(`injected: ${op} of ${name} interrupted`)))
    }
    ;(file as unknown as Record<string, unknown>)[op] = broken
    return file
  }
}

/** The stored size of each of a core's files other than the oplog. */
async function sizes (core: Hypercore): Promise<Record<string, number>> {
  const files = core.core!.files as unknown as Record<string, RandomAccessStorage>
  const out: Record<string, number> = {}
  for (const name of ['tree', 'bitfield', 'data']) out[name] = (await promisify(files[name]).stat()).size
  return out
}

/** A core of key `k1` with two 100-byte blocks at `p`, written through `storage`. */
async function oldCore (storage: StorageInput, k1: KeyPair): Promise<Hypercore> {
  const core = new Hypercore(storage, { keyPair: k1 })
  await core.append([new Uint8Array(100).fill(1), new Uint8Array(100).fill(2)])
  return core
}

/**
 * The check every interrupted case ends with: a new core of another key created at `p`
 * starts empty, holds none of the old files' bytes, and what it writes is all there is.
 */
async function expectNewCoreClean (p: Place, k2: KeyPair): Promise<void> {
  const core = new Hypercore(p.open(), { keyPair: k2, valueEncoding: 'utf-8' })
  await core.ready()
  try {
    equal(core.length, 0, 'length of the new core')
    equal(await core.has(0), false, 'has(0)')
    deepEqual(await sizes(core), { tree: 0, bitfield: 0, data: 0 }, 'the old core\'s tree, bitfield and data are gone')
    await core.append('new')
    equal(await core.get(0), 'new')
    equal(await core.has(1), false, 'has(1) after one append')
    equal((await sizes(core)).data, 3, 'the data file holds the new block only')
  } finally {
    await core.close()
  }
  const again = new Hypercore(p.open(), k2.publicKey, { valueEncoding: 'utf-8', createIfMissing: false })
  await again.ready()
  deepEqual(await blocksOf(again), ['new'], 'reopened')
  ok(await signed(again), 'reopened: the signature verifies')
  await again.close()
}

export const interruptedCases: Case[] = [
  {
    // Old code: the new core's header went on top of the old tree, bitfield and data (sizes
    // 120, 4096 and 200 here): blocks it never verified, under its key.
    name: 'purge interrupted after the oplog was removed (unlink of tree, bitfield and data fails): a new core of another key there starts empty',
    run: ctx => withPlace(ctx, async (p) => {
      const [k1, k2] = await pairs()
      const core = await oldCore(failing(p.raw(), 'unlink', ['tree', 'bitfield', 'data']), k1)
      await rejectsWithCode(() => core.purge(), 'STORAGE_IO', 'the interrupted purge')
      await core.close().catch(() => {})
      await expectNewCoreClean(p, k2)
    })
  },
  {
    name: 'purge interrupted, by hand: only the oplog unlinked: a new core of another key there starts empty',
    run: ctx => withPlace(ctx, async (p) => {
      const [k1, k2] = await pairs()
      const core = await oldCore(p.open(), k1)
      await core.close()
      await promisify(p.raw()('oplog')).unlink()
      await expectNewCoreClean(p, k2)
    })
  },
  {
    // Old code: overwrite truncated the files one by one, oplog first; interrupted after it,
    // the next open created a header over the old tree, bitfield and data. (Which of those
    // hold bytes depends on the flush schedule: on IndexedDB a closed core may keep its tree
    // and bitfield in the oplog, so every truncate of the three fails here.)
    name: 'overwrite interrupted after the oplog truncate (truncating tree, bitfield or data fails): a new core of another key there starts empty',
    run: ctx => withPlace(ctx, async (p) => {
      const [k1, k2] = await pairs()
      const core = await oldCore(p.open(), k1)
      await core.close()
      const over = new Hypercore(failing(p.raw(), 'truncate', ['tree', 'bitfield', 'data']), { keyPair: k1, overwrite: true })
      await rejectsWithCode(() => over.ready(), 'STORAGE_IO', 'the interrupted overwrite')
      await over.close().catch(() => {})
      await expectNewCoreClean(p, k2)
    })
  }
]
