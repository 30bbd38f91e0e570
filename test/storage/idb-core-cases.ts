/**
 * @module test/storage/idb-core-cases
 * Regression cases for a `Hypercore` on IndexedDB, browser-safe: Node runs them on
 * fake-indexeddb (test/storage/idb-safety.test.ts), Chromium on the real IndexedDB
 * (web-test/storage-safety.spec.ts). Each case checks values, bytes or error codes.
 *
 * - `starvationCase(kinds)`: an append is not starved by readers that keep reading.
 * - `idbWipeCases`: a database wiped under a live core (deleted by another connection, or
 *   force-closed and recreated as clearing site data does) is never written into again, its
 *   sessions close and later calls say STORAGE_LOST, and it reopens clean.
 */
import Hypercore from '../../src/index.js'
import { IdbStorage } from '../../src/storage/indexeddb/database.js'
import { bytesEqual, deepEqual, equal, ok, rejectsWithCode, type SuiteCase } from '../helpers/assert.js'
import { dbName, storedKeys, tryDelete, type IdbSafetyCtx } from './idb-safety-cases.js'

type Case = SuiteCase<IdbSafetyCtx>

const te = new TextEncoder()

/** Creates database `name` afresh with an empty store, as another tab (or idb-keyval) would. */
function createEmpty (name: string, storeName = 'pages'): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(name)
    req.onupgradeneeded = () => { req.result.createObjectStore(storeName) }
    req.onerror = () => reject(req.error)
    req.onsuccess = () => { req.result.close(); resolve() }
  })
}

interface Reader { reads: number, finished: boolean, done: Promise<void> }

/**
 * `core.get(i)` over blocks [from, n) then [0, n) again, `cap` reads in all. A cap, not a
 * stop signal, ends it, so the readers stop by themselves on the old code too.
 */
function getLoop (core: Hypercore, from: number, n: number, cap: number, onRead: () => void): Reader {
  const r: Reader = { reads: 0, finished: false, done: Promise.resolve() }
  r.done = (async () => {
    for (let i = from; r.reads < cap; i = (i + 1) % n) {
      const block = await core.get(i) as Uint8Array
      if (block[0] !== i % 256) throw new Error(`get reader: block ${i} holds ${block[0]}`)
      r.reads++
      onRead()
    }
    r.finished = true
  })()
  return r
}

/** `core.createReadStream()` from `from`, started again at 0 at the end, `cap` blocks in all. */
function streamLoop (core: Hypercore, from: number, n: number, cap: number, onRead: () => void): Reader {
  const r: Reader = { reads: 0, finished: false, done: Promise.resolve() }
  r.done = (async () => {
    let start = from
    while (r.reads < cap) {
      let i = start
      for await (const block of core.createReadStream({ start, end: n })) {
        if ((block as Uint8Array)[0] !== i % 256) throw new Error(`stream reader: block ${i} holds ${(block as Uint8Array)[0]}`)
        i++
        r.reads++
        onRead()
        if (r.reads >= cap) break
      }
      start = 0
    }
    r.finished = true
  })()
  return r
}

export type ReaderKind = 'get' | 'stream'

/**
 * Appends resolve while readers keep reading (the old adapter held every commit back while
 * any read was queued, so with readers that never pause an append waited for them to stop).
 * `kinds`: the readers to run, each starting at its own offset.
 */
export function starvationCase (kinds: ReaderKind[]): Case {
  return {
    name: `an append resolves while ${kinds.length} readers (${kinds.join(', ')}) keep reading a core larger than the page cache`,
    run: async (ctx) => {
      const name = dbName(ctx, 'starve')
      const N = 64
      const CAP = 1000 // reads per reader; on the new code the append needs a handful
      try {
        // 64 blocks of 4 KiB on 4 KiB pages: 64 data pages, twice the 32-page cache.
        const writer = new Hypercore(new IdbStorage(name, { pageSize: 4096 }))
        await writer.append(Array.from({ length: N }, (_, i) => new Uint8Array(4096).fill(i)))
        await writer.close()

        const core = new Hypercore(new IdbStorage(name)) // reopened: nothing cached
        await core.ready()
        // Warm up first: once every block was read, the tree nodes are all cached, so each
        // read is one request for a data page (with cold tree nodes the readers share node
        // requests, which left the old adapter gaps to commit in).
        let total = 0
        let warm!: () => void
        const warmed = new Promise<void>(resolve => { warm = resolve })
        const onRead = (): void => { if (++total === N * kinds.length) warm() }
        const readers = kinds.map((kind, i) => (kind === 'get' ? getLoop : streamLoop)(core, Math.floor(i * N / kinds.length), N, CAP, onRead))
        const allDone = Promise.all(readers.map(r => r.done))
        allDone.catch(() => {})
        await Promise.race([warmed, allDone]) // warm and under way (or a reader failed)

        const appended = await core.append(te.encode('while reading'))
        const running = readers.filter(r => !r.finished).length
        const readsThen = readers.map(r => r.reads)

        deepEqual(appended, { length: N + 1, byteLength: N * 4096 + 13 }, 'append result')
        equal(running, kinds.length, `every reader still running when the append resolved (reads then: ${readsThen.join(', ')} of ${CAP} each)`)
        await allDone
        equal(total, kinds.length * CAP, 'the readers read every block they asked for')
        bytesEqual(await core.get(N) as Uint8Array, te.encode('while reading'), 'the appended block')
        await core.close()
      } finally {
        await tryDelete(name)
      }
    }
  }
}

/** After a wipe: no core (STORAGE_EMPTY) or a fresh empty one; never the old length with blocks missing. */
export async function expectCleanReopen (name: string): Promise<void> {
  const strict = new Hypercore(new IdbStorage(name), { createIfMissing: false })
  await rejectsWithCode(() => strict.ready(), 'STORAGE_EMPTY', 'reopen with createIfMissing: false')
  await strict.close().catch(() => {})
  const fresh = new Hypercore(new IdbStorage(name), { valueEncoding: 'utf-8' })
  await fresh.ready()
  equal(fresh.length, 0, 'a new core there starts empty')
  equal(await fresh.get(0, { wait: false }), null, 'no block 0')
  await fresh.append('new')
  equal(await fresh.get(0), 'new')
  await fresh.close()
}

/**
 * What a browser does to our connection when it clears site data: closes it without a
 * versionchange and fires 'close' on it. idb-keyval's store listens (`onclose`) and opens a
 * new connection on its next call; that handler is run here as the event would run it
 * (fake-indexeddb cannot dispatch a plain Event).
 */
function forceClose (storage: IdbStorage): void {
  const db = storage.connection.db
  ok(db !== null, 'a live connection to force-close')
  db.close()
  const onclose = db.onclose
  ok(typeof onclose === 'function', 'idb-keyval listens for the close event')
  onclose.call(db, new Event('close'))
}

/** A core of eight blocks with a second session, on a new database. */
async function liveCore (name: string): Promise<{ storage: IdbStorage, core: Hypercore, session: Hypercore, closed: Promise<[void, void]> }> {
  const storage = new IdbStorage(name)
  const core = new Hypercore(storage, { valueEncoding: 'utf-8' })
  const session = core.session()
  for (let i = 0; i < 8; i++) await core.append(`block ${i}`)
  const closeOf = (s: Hypercore): Promise<void> => new Promise(resolve => s.once('close', () => resolve()))
  return { storage, core, session, closed: Promise.all([closeOf(core), closeOf(session)]) }
}

export const idbWipeCases: Case[] = [
  {
    // Old code: the delete stayed blocked by our connection, appends kept being acknowledged
    // on the doomed database, and a reopen found length 8 with blocks missing.
    name: 'a database deleted under a live core: the delete is not blocked, every session closes, nothing of ours is written again, a reopen is clean',
    run: async (ctx) => {
      const name = dbName(ctx, 'wipe-delete')
      const { core, session, closed } = await liveCore(name)
      try {
        equal(await tryDelete(name), 'deleted', 'deleteDatabase is not blocked by the live core')
        await closed // both sessions emit 'close' (an event, not a timer)
        equal(core.closed && session.closed, true, 'sessions closed')
        equal(await storedKeys(name), null, 'no database was recreated by us')
        await expectCleanReopen(name)
      } finally {
        await core.close().catch(() => {})
        await session.close().catch(() => {})
        await tryDelete(name)
      }
    }
  },
  {
    // How Chromium's "clear site data" looks from the page: our connection is force-closed
    // (no versionchange), the database deleted and maybe recreated empty by someone else.
    // Old code: the next write reopened a connection and wrote our pages into the new
    // database; a reopen then found a core with the old length and blocks missing.
    name: 'a database wiped while our connection was down and recreated empty by another party: our next append rejects STORAGE_LOST and writes nothing into it; every session closes; a reopen is clean',
    run: async (ctx) => {
      const name = dbName(ctx, 'wipe-recreate')
      const { storage, core, session, closed } = await liveCore(name)
      try {
        forceClose(storage)
        equal(await tryDelete(name), 'deleted')
        await createEmpty(name)
        await rejectsWithCode(() => core.append('after the wipe'), 'STORAGE_LOST', 'the first append after the wipe')
        await closed
        deepEqual(await storedKeys(name), [], 'the recreated database holds nothing of ours')
        await expectCleanReopen(name)
      } finally {
        await core.close().catch(() => {})
        await session.close().catch(() => {})
        await tryDelete(name)
      }
    }
  },
  {
    // What the fix promises callers: once the storage is gone, operations say so. Pending
    // operations get STORAGE_LOST; this checks the ones made after the sessions closed.
    name: 'after the database is deleted under a live core, later append and get on its sessions reject STORAGE_LOST',
    run: async (ctx) => {
      const name = dbName(ctx, 'wipe-later-ops')
      const { core, session, closed } = await liveCore(name)
      try {
        equal(await tryDelete(name), 'deleted', 'deleteDatabase is not blocked by the live core')
        await closed
        await rejectsWithCode(() => core.append('after'), 'STORAGE_LOST', 'append')
        await rejectsWithCode(() => core.get(0), 'STORAGE_LOST', 'get')
        await rejectsWithCode(() => session.get(1), 'STORAGE_LOST', 'get on the other session')
      } finally {
        await core.close().catch(() => {})
        await session.close().catch(() => {})
        await tryDelete(name)
      }
    }
  }
]
