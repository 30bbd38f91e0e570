/**
 * @module test/storage/idb-safety-cases
 * Regression cases for IndexedDB adapter safety fixes, browser-safe: Node runs them on
 * fake-indexeddb (test/storage/idb-safety.test.ts, test/core/one-writer.test.ts), Chromium on
 * the real IndexedDB (web-test/storage-safety.spec.ts). Each case checks values, bytes or
 * error codes. (A `Hypercore` on IndexedDB: idb-core-cases.ts.)
 *
 * - `idbAdapterCases`: the adapter on its own (`IdbStorage` files through `promisify`): an
 *   unlink and a write of the same name in one batch, a truncate/del whose page read fails,
 *   operations issued as an open completes, `close()` racing a write, another connection
 *   deleting the database (`versionchange`).
 * - `idbLockCases`: one writer per database: a second `IdbStorage` on the same name is refused
 *   (STORAGE_LOCKED) while the first holds it; a `readOnly` one may look.
 *
 * Faults are injected by patching IDB prototypes for one call (restored at once), as
 * test/storage/idb-cases.ts does, never by changing the adapter.
 */
import { HypercoreError } from '../../src/errors.js'
import { IdbStorage } from '../../src/storage/indexeddb/database.js'
import { promisify, type StoragePromises } from '../../src/storage/promises.js'
import type { RandomAccessStorage } from '../../src/storage/types.js'
import { bytesEqual, deepEqual, equal, ok, rejectsWithCode, type SuiteCase } from '../helpers/assert.js'

export interface IdbSafetyCtx { prefix: string }
type Case = SuiteCase<IdbSafetyCtx>

let seq = 0
export function dbName (ctx: IdbSafetyCtx, tag: string): string {
  return `${ctx.prefix}-${tag}-${Date.now()}-${seq++}`
}

/** Bytes 1..251 repeating, so every offset holds a known non-zero value. */
function pattern (n: number, shift = 0): Uint8Array {
  const out = new Uint8Array(n)
  for (let i = 0; i < n; i++) out[i] = ((i + shift) % 251) + 1
  return out
}

/** Deletes a database from a connection of its own: 'blocked' if an open connection holds it (the request stays pending). */
export function tryDelete (name: string): Promise<'deleted' | 'blocked'> {
  return new Promise((resolve, reject) => {
    const req = indexedDB.deleteDatabase(name)
    req.onsuccess = () => resolve('deleted')
    req.onerror = () => reject(req.error)
    req.onblocked = () => resolve('blocked')
  })
}

/**
 * The keys stored in database `name`, read without creating it: null when no such database
 * exists, [] when it exists without our object store.
 */
export async function storedKeys (name: string, storeName = 'pages'): Promise<IDBValidKey[] | null> {
  const listed = (await indexedDB.databases()).some(d => d.name === name)
  if (!listed) return null
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(name)
    req.onerror = () => reject(req.error)
    req.onsuccess = () => {
      const db = req.result
      if (!db.objectStoreNames.contains(storeName)) { db.close(); resolve([]); return }
      const keys = db.transaction(storeName, 'readonly').objectStore(storeName).getAllKeys()
      keys.onerror = () => { db.close(); reject(keys.error) }
      keys.onsuccess = () => { db.close(); resolve(keys.result) }
    }
  })
}

const G = globalThis as unknown as { IDBObjectStore: { prototype: Record<string, unknown> } }

/** Makes the next `IDBObjectStore.getAll` throw (a DataError: not a lost connection, so not retried); counts the calls. */
function failNextGetAll (): { calls: () => number, restore: () => void } {
  const proto = G.IDBObjectStore.prototype
  const orig = proto.getAll as (...args: unknown[]) => unknown
  let calls = 0
  proto.getAll = function (this: unknown, ...args: unknown[]) {
    if (calls++ === 0) throw new DOMException('injected read failure', 'DataError')
    return orig.apply(this, args)
  }
  return { calls: () => calls, restore: () => { proto.getAll = orig } }
}

/** The first offset where `a` and `b` differ (or where one ends); -1 if they are equal. */
function firstDifference (a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.byteLength, b.byteLength)
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i
  return a.byteLength === b.byteLength ? -1 : n
}

async function readAll (f: StoragePromises): Promise<Uint8Array> {
  const { size } = await f.stat()
  return f.read(0, size)
}

async function withDb (name: string, opts: { pageSize?: number }, fn: (db: IdbStorage) => Promise<void>): Promise<void> {
  const db = new IdbStorage(name, opts)
  try {
    await fn(db)
  } finally {
    await db.close().catch(() => {})
    await tryDelete(name)
  }
}

/** Writes `data` to file `file` of a new database with 4 KiB pages and closes it, so the next open is cold. */
async function seedFile (name: string, file: string, data: Uint8Array): Promise<void> {
  const db = new IdbStorage(name, { pageSize: 4096 })
  await promisify(db.file(file)).write(0, data)
  await db.close()
}

/**
 * A change whose page read fails must change nothing: it rejects, and the file keeps its size
 * and bytes in memory and after a reopen. `cut` is the change; it needs page 0 or 1 from
 * storage (the database is cold, so no page is cached).
 */
async function failedCutScenario (ctx: IdbSafetyCtx, tag: string, cut: (f: StoragePromises) => Promise<void>): Promise<void> {
  const name = dbName(ctx, tag)
  const data = pattern(3 * 4096)
  await seedFile(name, 'x', data)
  try {
    const cold = new IdbStorage(name)
    const f = promisify(cold.file('x'))
    deepEqual(await f.stat(), { size: data.byteLength }, 'seeded size')
    const fault = failNextGetAll()
    let err: unknown = null
    try {
      await cut(f)
    } catch (e) {
      err = e
    } finally {
      fault.restore()
    }
    equal(fault.calls(), 1, 'the change read its edge page (and that read failed)')
    ok(HypercoreError.is(err, 'STORAGE_IO'), `the change rejects with STORAGE_IO, got ${String(err)}`)
    deepEqual(await f.stat(), { size: data.byteLength }, 'size in memory unchanged')
    equal(firstDifference(await f.read(0, data.byteLength), data), -1, 'first changed byte in memory')
    await cold.close()
    const again = new IdbStorage(name)
    const g = promisify(again.file('x'))
    deepEqual(await g.stat(), { size: data.byteLength }, 'size after reopen unchanged')
    equal(firstDifference(await g.read(0, data.byteLength), data), -1, 'first changed byte after reopen')
    await again.close()
  } finally {
    await tryDelete(name)
  }
}

/**
 * Runs the open-ordering scenario on a fresh file: a write issued before the open completed
 * (it is what starts the open), then a write and a read that `hook` issues at the moment under
 * test. Returns what that read saw and the file's final bytes, in hex.
 */
async function openOrder (db: IdbStorage, file: string, hook: (raw: RandomAccessStorage, later: () => void) => void): Promise<{ seen: string, final: string }> {
  const raw = db.file(file)
  const f = promisify(raw)
  const later: { write?: Promise<void>, read?: Promise<string> } = {}
  let issued!: () => void
  const wasIssued = new Promise<void>(resolve => { issued = resolve })
  hook(raw, () => {
    later.write = f.write(1, Uint8Array.of(2, 2))
    later.read = f.read(0, 4).then(hexOf, (err: unknown) => `rejected ${String((err as { code?: string }).code)}`)
    issued()
  })
  await f.write(0, Uint8Array.of(1, 1, 1, 1))
  await wasIssued
  await later.write
  const seen = await later.read as string
  const final = hexOf(await f.read(0, 4))
  await f.close()
  return { seen, final }
}

function hexOf (b: Uint8Array): string {
  return Array.from(b, x => x.toString(16).padStart(2, '0')).join('')
}

export const idbAdapterCases: Case[] = [
  {
    // Old code: the batch kept the unlink's "delete the size record" flag under the new write,
    // so a reopen saw an empty file, and growing it later showed the orphaned page in the hole.
    name: 'unlink, then a write to the same name in the same batch: the write is kept (size and bytes) after a reopen, and growing the file shows zeros around it',
    run: ctx => withDb(dbName(ctx, 'unlink-write'), { pageSize: 4096 }, async (db) => {
      const keep = promisify(db.file('keep'))
      await keep.write(0, Uint8Array.of(9)) // holds the connection and the lock across the unlink
      const old = promisify(db.file('x'))
      await old.write(0, pattern(10000, 7))
      const writer = promisify(db.file('x'))
      const watcher = promisify(db.file('x'))
      await Promise.all([writer.open(), watcher.open()])
      let commits = 0
      db.connection.onTransaction = (tx, mode) => { if (mode === 'readwrite') tx.addEventListener('complete', () => { commits++ }) }

      const unlinked = old.unlink()
      // The unlink reaches the pending batch a few microtasks later; wait for exactly that
      // (the file reads as empty) without leaving this task, so the write joins the same batch.
      let hops = 0
      while ((await watcher.stat()).size !== 0) ok(++hops < 100, 'the unlink applied within this task')
      equal(commits, 0, 'nothing committed yet: the write below joins the unlink\'s batch')
      const payload = pattern(100, 3)
      const written = writer.write(4096 + 10, payload) // page 1: page 0 stays a hole
      await Promise.all([unlinked, written])
      equal(commits, 1, 'the unlink and the write committed in one transaction')
      db.connection.onTransaction = null

      const want = new Uint8Array(4096 + 110)
      want.set(payload, 4096 + 10)
      deepEqual(await watcher.stat(), { size: want.byteLength }, 'size in memory')
      await Promise.all([keep.close(), writer.close(), watcher.close()])

      const again = new IdbStorage(db.name)
      const f = promisify(again.file('x'))
      deepEqual(await f.stat(), { size: want.byteLength }, 'size after reopen')
      bytesEqual(await readAll(f), want, 'bytes after reopen')
      // Grow the file past a hole: what lies between is zeros and the write, nothing else.
      await f.write(4 * 4096, Uint8Array.of(0xee))
      const grown = new Uint8Array(4 * 4096 + 1)
      grown.set(payload, 4096 + 10)
      grown[4 * 4096] = 0xee
      bytesEqual(await readAll(f), grown, 'after growing')
      await again.close()
      const third = new IdbStorage(db.name)
      bytesEqual(await readAll(promisify(third.file('x'))), grown, 'after growing and reopening')
      await third.close()
    })
  },
  {
    // Old code: the truncate dropped the pages past the cut before reading the edge page, so a
    // failed read still committed the drop: rejected, yet applied in part.
    name: 'a truncate whose edge-page read fails is rejected with STORAGE_IO and not applied (size and bytes unchanged, in memory and after reopen)',
    run: ctx => failedCutScenario(ctx, 'truncate-fail', f => f.truncate(5000))
  },
  {
    // Old code: the same for del: page 1 (wholly inside the range) was dropped before the
    // failing read of edge page 0.
    name: 'a del whose edge-page read fails is rejected with STORAGE_IO and not applied (size and bytes unchanged, in memory and after reopen)',
    run: ctx => failedCutScenario(ctx, 'del-fail', f => f.del(1000, 9000))
  },
  {
    // Old code: operations waiting for the open started one promise hop after it completed,
    // so one issued at that moment (open callback, 'open' event) ran first: the read saw an
    // empty file (STORAGE_OUT_OF_BOUNDS) and the first write landed last.
    name: 'operations issued as a file\'s open completes do not overtake those issued before it',
    run: ctx => withDb(dbName(ctx, 'open-order'), {}, async (db) => {
      // (a) issued synchronously in the open() callback, which was registered before the write
      const inCallback = await openOrder(db, 'a', (raw, later) => raw.open(() => later()))
      deepEqual(inCallback, { seen: '01020201', final: '01020201' }, 'issued in the open callback')
      // (b) issued in a microtask queued by the 'open' event
      const inMicrotask = await openOrder(db, 'b', (raw, later) => { raw.on?.('open', () => queueMicrotask(later)) })
      deepEqual(inMicrotask, { seen: '01020201', final: '01020201' }, 'issued in a microtask right after the open event')
    })
  },
  {
    // Old code: a file whose open was still loading when close() ran reopened the connection
    // after close had released it, and nothing ever closed that one: deleteDatabase stayed
    // blocked for good.
    name: 'close() with a write issued in the same tick on a file still opening: deleteDatabase afterwards is not blocked',
    run: async (ctx) => {
      const name = dbName(ctx, 'close-race')
      const db = new IdbStorage(name)
      const write = promisify(db.file('x')).write(0, Uint8Array.of(1, 2, 3))
        .then(() => 'committed', (err: unknown) => `rejected ${String((err as { code?: string }).code)}`)
      await db.close()
      // Issued first, but its file had not opened yet: refused (STORAGE_CLOSED) or committed.
      const outcome = await write
      ok(outcome === 'committed' || outcome === 'rejected STORAGE_CLOSED', `write outcome: ${outcome}`)
      // No cleanup after a blocked delete: a second delete would queue behind it for ever.
      equal(await tryDelete(name), 'deleted', 'deleteDatabase once close() resolved')
      equal(await storedKeys(name), null, 'and nothing recreated the database after it')
    }
  },
  {
    // Stricter than the case above: that one passes as long as our connection gives way to a
    // delete (versionchange); this one checks close() left no connection at all.
    name: 'close() while a file is still opening leaves no IndexedDB connection open',
    run: async (ctx) => {
      const name = dbName(ctx, 'close-leak')
      const db = new IdbStorage(name)
      try {
        const write = promisify(db.file('x')).write(0, Uint8Array.of(1)).catch(() => {})
        await db.close()
        await write // the open it started has settled too
        equal(db.connection.db, null, 'connection after close() and the racing open settled')
        equal(db.connection.opens, 0, 'connections opened after close() was called')
      } finally {
        await db.close().catch(() => {})
        db.connection.db?.close()
        await tryDelete(name)
      }
    }
  },
  {
    // Old code: our open connection ignored versionchange, so the delete stayed blocked (and
    // our writes kept succeeding on the doomed database).
    name: 'another connection deleting the database is not blocked; our later operations reject STORAGE_LOST and open files emit \'lost\'',
    run: async (ctx) => {
      const name = dbName(ctx, 'versionchange')
      const db = new IdbStorage(name)
      try {
        const raw = db.file('x')
        const f = promisify(raw)
        await f.write(0, Uint8Array.of(1, 2, 3))
        const lost = new Promise<unknown>(resolve => { raw.on?.('lost', resolve) })
        equal(await tryDelete(name), 'deleted', 'the delete is not blocked by our open file')
        ok(HypercoreError.is(await lost, 'STORAGE_LOST'), '\'lost\' event with STORAGE_LOST')
        await rejectsWithCode(() => f.write(3, Uint8Array.of(4)), 'STORAGE_LOST', 'write')
        await rejectsWithCode(() => f.read(0, 3), 'STORAGE_LOST', 'read')
        await rejectsWithCode(() => f.stat(), 'STORAGE_LOST', 'stat')
        await rejectsWithCode(() => promisify(db.file('y')).write(0, Uint8Array.of(1)), 'STORAGE_LOST', 'a new file of the same database')
        equal(await storedKeys(name), null, 'nothing recreated the database')
      } finally {
        await db.close().catch(() => {})
        await tryDelete(name)
      }
    }
  }
]

export const idbLockCases: Case[] = [
  {
    // Old code: there was no lock; both objects opened and wrote the same database.
    name: 'two IdbStorage objects on one name: the second open rejects STORAGE_LOCKED until the first closes; a readOnly one reads and refuses writes',
    run: async (ctx) => {
      const name = dbName(ctx, 'lock')
      const first = new IdbStorage(name)
      const second = new IdbStorage(name)
      try {
        const a = promisify(first.file('oplog'))
        await a.write(0, Uint8Array.of(1, 2, 3))
        const b = promisify(second.file('oplog'))
        await rejectsWithCode(() => b.open(), 'STORAGE_LOCKED', 'second open while the first holds the database')
        await rejectsWithCode(() => promisify(second.file('tree')).write(0, Uint8Array.of(9)), 'STORAGE_LOCKED', 'any file of the second object')
        const viewer = new IdbStorage(name, { readOnly: true })
        const v = promisify(viewer.file('oplog'))
        bytesEqual(await v.read(0, 3), '010203', 'readOnly reads what is stored')
        await rejectsWithCode(() => v.write(0, Uint8Array.of(7)), 'STORAGE_READ_ONLY', 'readOnly write')
        await viewer.close()
        await a.close() // the last open file of `first`: connection and lock released
        bytesEqual(await b.read(0, 3), '010203', 'the second object opens once the first let go')
        await b.write(3, Uint8Array.of(4))
        await rejectsWithCode(() => promisify(new IdbStorage(name).file('oplog')).open(), 'STORAGE_LOCKED', 'and now it excludes others')
        await b.close()
        const third = new IdbStorage(name)
        bytesEqual(await promisify(third.file('oplog')).read(0, 4), '01020304', 'a third opens after both closed')
        await third.close()
      } finally {
        await first.close().catch(() => {})
        await second.close().catch(() => {})
        await tryDelete(name)
      }
    }
  }
]
