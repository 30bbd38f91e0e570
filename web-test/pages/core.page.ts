/**
 * @module web-test/pages/core.page
 * Browser side (Chromium and Firefox) of the Hypercore suites (served at /pages/core.html):
 * - `run()` runs the shared API suite (test/core/api-cases.ts) on real IndexedDB (a storage
 *   name string, the browser default, and an explicit IdbStorage) and on memory;
 * - `abortAppend(name, n)` builds a core of 3 blocks, then appends while the n-th IndexedDB
 *   write transaction of that append is aborted; the spec reloads the page and calls
 *   `state(name)`, which must be the state before the append if it rejected and after it if
 *   it resolved (signature verified);
 * - `write(name)` / `state(name)` for the reload round trip;
 * - `release()`: after close the database can be deleted, and the same storage reopens.
 */
import Hypercore, { IdbStorage, deleteDatabase } from '../../src/index.js'
import { MemoryDirectory } from '../../src/storage/memory.js'
import { keyPair } from '../../src/crypto/sign.js'
import { cryptoReady } from '../../src/crypto/sodium.js'
import { hex, runSuiteInPage } from '../../test/helpers/assert.js'
import { abortSoon } from '../../test/helpers/idb-fault.js'
import { coreCases, type CoreCtx } from '../../test/core/api-cases.js'
import { idbReleaseBrowserCases, idbReleaseCases } from '../../test/core/idb-release-cases.js'

interface Group { name: string, passed: string[], failed: Array<{ name: string, error: string }> }
let seq = 0

const targets: Array<{ name: string, ctx: CoreCtx }> = [
  {
    name: 'indexeddb (storage name string)',
    ctx: { place: () => { const name = `core-api-${Date.now()}-${seq++}`; return { open: () => name, cleanup: () => deleteDatabase(name) } } }
  },
  {
    name: 'indexeddb (IdbStorage, 4 KiB pages)',
    ctx: { place: () => { const name = `core-api-p-${Date.now()}-${seq++}`; return { open: () => new IdbStorage(name, { pageSize: 4096 }), cleanup: () => deleteDatabase(name) } } }
  },
  {
    name: 'memory',
    ctx: { place: () => { const dir = new MemoryDirectory(); return { open: () => dir, cleanup: async () => {} } } }
  }
]

async function run (): Promise<{ groups: Group[], ms: number }> {
  const t0 = performance.now()
  const groups: Group[] = []
  for (const t of targets) groups.push({ name: t.name, ...await runSuiteInPage(coreCases, () => t.ctx) })
  return { groups, ms: Math.round(performance.now() - t0) }
}

const te = new TextEncoder()

async function seedPair (): Promise<{ publicKey: Uint8Array, secretKey: Uint8Array }> {
  await cryptoReady()
  return keyPair(new Uint8Array(32).fill(9))
}

export interface CoreState { length: number, fork: number, treeHash: string, signed: boolean, blocks: string[] }

async function state (name: string): Promise<CoreState> {
  const core = new Hypercore(name, { createIfMissing: false, valueEncoding: 'utf-8' })
  await core.ready()
  const c = core.core!
  const treeHash = await core.treeHash()
  const signed = core.length === 0 || c.verifier.verify(treeHash, core.length, core.fork, c.tree.signature)
  const blocks: string[] = []
  for (let i = 0; i < core.length; i++) blocks.push(await core.get(i) as string)
  const out = { length: core.length, fork: core.fork, treeHash: hex(treeHash), signed, blocks }
  await core.close()
  return out
}

/** A core of three blocks, its state, then an append whose n-th write transaction aborts. */
async function abortAppend (name: string, n: number): Promise<{ before: CoreState, after: CoreState | null, error: string | null, flushError: string | null, transactions: number }> {
  await deleteDatabase(name)
  const w = new Hypercore(name, { keyPair: await seedPair() })
  await w.append(['one', 'two', 'three'].map(s => te.encode(s)))
  await w.close()
  const before = await state(name)
  let seen = 0
  let armed = false
  const db = new IdbStorage(name, {
    onTransaction: (tx, mode) => {
      if (!armed || mode !== 'readwrite') return
      if (seen++ === n) abortSoon(tx)
    }
  })
  const core = new Hypercore(db)
  await core.ready()
  armed = true
  let error: string | null = null
  try {
    await core.append(te.encode('four'))
  } catch (err) {
    error = (err as { code?: string }).code ?? String(err)
  }
  // what the append would have produced, for the spec to compare (only if it went through)
  const after = error === null ? { length: core.length, fork: core.fork, treeHash: hex(await core.treeHash()), signed: true, blocks: [...before.blocks, 'four'] } : null
  // The flush that follows (on IndexedDB the core flushes by oplog size and at close, so it
  // is asked for here): an abort there, after the append's commit point, leaves the append
  // durable and the flush to be retried (core.ts); the spec checks the append is there anyway.
  let flushError: string | null = null
  if (error === null) {
    try {
      await core.core!.flush()
    } catch (err) {
      flushError = (err as { code?: string }).code ?? String(err)
    }
  }
  return { before, after, error, flushError, transactions: seen }
  // no close: the spec reloads the page, abandoning this connection mid-flight
}

async function write (name: string, blocks: string[]): Promise<CoreState> {
  await deleteDatabase(name)
  const core = new Hypercore(name, { valueEncoding: 'utf-8' })
  await core.append(blocks)
  await core.truncate(blocks.length - 1)
  await core.append('last')
  await core.close()
  return state(name)
}

/** The connection-release cases (test/core/idb-release-cases.ts) on the real IndexedDB. */
async function release (): Promise<Group> {
  return { name: 'idb release', ...await runSuiteInPage([...idbReleaseCases, ...idbReleaseBrowserCases], () => ({ prefix: 'chromium-release' })) }
}

;(globalThis as unknown as { testApi: unknown }).testApi = { run, abortAppend, state, write, release }
