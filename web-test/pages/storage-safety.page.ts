/**
 * @module web-test/pages/storage-safety.page
 * Browser side (Chromium and Firefox) of the storage-safety regressions (served at /pages/storage-safety.html):
 * - `run(group)` runs one group of the shared cases on the real IndexedDB
 *   (test/storage/idb-safety-cases.ts, idb-core-cases.ts, core-safety-cases.ts): the adapter cases,
 *   the lock (two IdbStorage objects in one page, through Web Locks here), an append while
 *   two readers read, a database wiped under a live core, one writer per place and
 *   interrupted purge/overwrite, on a storage name string, IdbStorage objects and memory;
 *   returns the passed names and the failures;
 * - `hold` / `tryOpen` / `release` / `lockFree`: one core per page, for the two-tab spec;
 * - `startLive` / `afterWipe`: a live core for the spec to wipe with CDP, then what the page sees.
 * Everything returned is plain JSON.
 */
import Hypercore, { IdbStorage } from '../../src/index.js'
import { runSuiteInPage } from '../../test/helpers/assert.js'
import { idbAdapterCases, idbLockCases, storedKeys, tryDelete } from '../../test/storage/idb-safety-cases.js'
import { expectCleanReopen, idbWipeCases, starvationCase } from '../../test/storage/idb-core-cases.js'
import { idbPlace, interruptedCases, memoryPlace, oneWriterCases, type Place } from '../../test/storage/core-safety-cases.js'

interface Group { name: string, passed: string[], failed: Array<{ name: string, error: string }> }

let seq = 0

/** A storage name string: the browser's default storage (an IndexedDB database). */
function namePlace (): Place {
  const name = `safety-name-${Date.now()}-${seq++}`
  return { open: () => name, raw: () => new IdbStorage(name).factory, cleanup: async () => { await tryDelete(name) } }
}

const places: Array<[string, () => Place]> = [
  ['storage name string', namePlace],
  ['IdbStorage per open', () => idbPlace('chromium-place')],
  ['memory', memoryPlace]
]

/** The shared case lists, by group name (the spec runs each group as a test of its own). */
const suites: Record<string, () => Promise<Omit<Group, 'name'>>> = {
  'indexeddb adapter': () => runSuiteInPage(idbAdapterCases, () => ({ prefix: 'chromium-safety' })),
  'indexeddb lock': () => runSuiteInPage(idbLockCases, () => ({ prefix: 'chromium-lock' })),
  'indexeddb core': () => runSuiteInPage([starvationCase(['get', 'get']), starvationCase(['stream', 'stream']), ...idbWipeCases], () => ({ prefix: 'chromium-core' })),
  ...Object.fromEntries(places.flatMap(([label, place]) => [
    [`one writer: ${label}`, () => runSuiteInPage(oneWriterCases, () => ({ place }))],
    [`interrupted: ${label}`, () => runSuiteInPage(interruptedCases, () => ({ place }))]
  ]))
}

async function run (name: string): Promise<Group> {
  const suite = suites[name]
  if (suite === undefined) throw new Error(`no group ${name}`)
  return { name, ...await suite() }
}

// --- two tabs ------------------------------------------------------------------------------

const held = new Map<string, Hypercore>()

/** Opens `name` in this page and keeps it open, after appending `blocks`. */
async function hold (name: string, blocks: string[]): Promise<{ length: number }> {
  const core = new Hypercore(name, { valueEncoding: 'utf-8' })
  if (blocks.length > 0) await core.append(blocks)
  await core.ready()
  held.set(name, core)
  return { length: core.length }
}

/**
 * Resolves once nobody holds the core's writer lock: a Web Lock named as
 * src/storage/indexeddb/lock.ts `lockName` names it. The browser frees the locks of a closed
 * page asynchronously; a waiting request is how a page hears of it.
 */
async function lockFree (name: string): Promise<void> {
  await navigator.locks.request(`hypercore-web:idb:${name}`, () => {})
}

async function release (name: string): Promise<void> {
  await held.get(name)?.close()
  held.delete(name)
}

type Attempt = { error: string } | { length: number, writable: boolean, blocks: unknown[], append: string }

/** Opens `name` (`unlocked`: read-only), reads every block, tries an append, closes. */
async function tryOpen (name: string, opts: { unlocked?: boolean } = {}): Promise<Attempt> {
  const core = new Hypercore(name, { valueEncoding: 'utf-8', unlocked: opts.unlocked === true })
  try {
    await core.ready()
  } catch (err) {
    await core.close().catch(() => {})
    return { error: (err as { code?: string }).code ?? String(err) }
  }
  const blocks: unknown[] = []
  for (let i = 0; i < core.length; i++) blocks.push(await core.get(i))
  const writable = core.writable
  let append = 'ok'
  try { await core.append('appended') } catch (err) { append = (err as { code?: string }).code ?? String(err) }
  const length = core.length
  await core.close()
  return { length, writable, blocks, append }
}

// --- a database cleared under a live core (the spec clears it through CDP) -------------------

let live: { core: Hypercore, session: Hypercore, closed: Promise<unknown> } | null = null

async function startLive (name: string): Promise<{ length: number }> {
  const core = new Hypercore(name, { valueEncoding: 'utf-8' })
  const session = core.session()
  for (let i = 0; i < 8; i++) await core.append(`block ${i}`)
  const closeOf = (s: Hypercore): Promise<void> => new Promise(resolve => s.once('close', () => resolve()))
  live = { core, session, closed: Promise.all([closeOf(core), closeOf(session)]) }
  return { length: core.length }
}

/** After the wipe: what an append says, that both sessions closed, what the database holds, and a clean reopen. */
async function afterWipe (name: string): Promise<{ append: string, closed: boolean, keys: unknown, reopen: string }> {
  const l = live!
  let append = 'ok'
  try { await l.core.append('after the wipe') } catch (err) { append = (err as { code?: string }).code ?? String(err) }
  // The sessions close because the storage was found lost; without that they never would
  // (the old code), so only wait for the event when the append saw it.
  if (append === 'STORAGE_LOST') await l.closed
  const keys = await storedKeys(name)
  let reopen = 'clean'
  try { await expectCleanReopen(name) } catch (err) { reopen = err instanceof Error ? err.message : String(err) }
  return { append, closed: l.core.closed && l.session.closed, keys, reopen }
}

;(globalThis as unknown as { testApi: unknown }).testApi = { run, hold, release, lockFree, tryOpen, startLive, afterWipe, tryDelete }
