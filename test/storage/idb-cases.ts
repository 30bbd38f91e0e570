/**
 * @module test/storage/idb-cases
 * IndexedDB-specific cases (batching, pages, one-request range reads, the page cache) and
 * fault cases (quota on a request or on the transaction, an aborted transaction, a lost
 * connection: transient, persistent, and a really closed connection). Browser-safe: the same
 * cases run in Node on fake-indexeddb and in Chromium on the real IndexedDB. Faults are
 * injected by patching the IDB prototypes (restored after each case) or from the
 * `onTransaction` hook, never by changing the adapter.
 */
import { bytesEqual, deepEqual, equal, ok, rejectsWithCode, type SuiteCase } from '../helpers/assert.js'
import { promisifyRequest } from 'idb-keyval'
import { IdbStorage, type IdbStorageOptions } from '../../src/storage/indexeddb/database.js'
import { IdbFile } from '../../src/storage/indexeddb/file.js'
import { toStorageFactory } from '../../src/storage/factory.js'
import { promisify, type StoragePromises } from '../../src/storage/promises.js'
import type { ErrorCode } from '../../src/errors.js'
import { abortSoon, abortWith } from '../helpers/idb-fault.js'
import { seededBytes as bytes } from '../helpers/bytes.js'

export interface IdbCaseContext { prefix: string }
type Case = SuiteCase<IdbCaseContext>

let seq = 0
function dbName (ctx: IdbCaseContext): string {
  return `${ctx.prefix}-${Date.now()}-${seq++}`
}

/** Replaces `obj[key]` until `restore()`; the replacement gets the original as its first argument. */
function patch<T extends object> (obj: T, key: string, make: (orig: (...args: unknown[]) => unknown) => (this: unknown, ...args: unknown[]) => unknown): () => void {
  const rec = obj as Record<string, unknown>
  const orig = rec[key] as (...args: unknown[]) => unknown
  rec[key] = make(orig)
  return () => { rec[key] = orig }
}

/**
 * Counts calls of `proto[key]`. The meta record (key 0) is left out: every transaction reads
 * it first to check the database is still the one loaded; the counts are about page reads.
 */
function counter (proto: object, key: string): { count: () => number, restore: () => void } {
  let n = 0
  const restore = patch(proto, key, orig => function (this: unknown, ...args) { if (args[0] !== 0) n++; return orig.apply(this, args) })
  return { count: () => n, restore }
}

const G = globalThis as unknown as { IDBObjectStore: { prototype: object }, IDBDatabase: { prototype: object } }

async function withDb (ctx: IdbCaseContext, opts: IdbStorageOptions, fn: (db: IdbStorage, name: string) => Promise<void>): Promise<void> {
  const name = dbName(ctx)
  const db = new IdbStorage(name, opts)
  try {
    await fn(db, name)
  } finally {
    await db.destroy()
  }
}

async function readAll (f: StoragePromises): Promise<Uint8Array> {
  const { size } = await f.stat()
  return f.read(0, size)
}

/** Committed state before a fault: two files spanning several 4 KiB pages. */
const A_DATA = bytes(150000, 1)
const A_OPLOG = bytes(9000, 2)

async function seed (db: IdbStorage): Promise<{ data: StoragePromises, oplog: StoragePromises }> {
  const data = promisify(db.file('data'))
  const oplog = promisify(db.file('oplog'))
  await Promise.all([data.write(0, A_DATA), oplog.write(0, A_OPLOG)])
  return { data, oplog }
}

/** A batch that overlaps committed pages partially, adds pages, truncates and grows: all must fail. */
function failingBatch (files: { data: StoragePromises, oplog: StoragePromises }): Array<Promise<void>> {
  return [
    files.data.write(100000, bytes(80000, 3)),
    files.data.write(7, bytes(3, 4)),
    files.oplog.truncate(5000),
    files.oplog.write(4000, bytes(3000, 5))
  ]
}

async function expectIntact (files: { data: StoragePromises, oplog: StoragePromises }, label: string): Promise<void> {
  bytesEqual(await readAll(files.data), A_DATA, `${label}: data`)
  bytesEqual(await readAll(files.oplog), A_OPLOG, `${label}: oplog`)
}

/**
 * The shared fault scenario: seed, inject, run the failing batch (every op gets `code`),
 * check that committed bytes are intact and the failed writes invisible, that the adapter
 * keeps working, and that a reopened database holds exactly the committed state.
 */
async function faultScenario (ctx: IdbCaseContext, code: ErrorCode, inject: (db: IdbStorage) => () => void): Promise<void> {
  await withDb(ctx, { pageSize: 4096 }, async (db, name) => {
    const files = await seed(db)
    const restore = inject(db)
    try {
      const ops = failingBatch(files)
      for (const [i, op] of ops.entries()) await rejectsWithCode(() => op, code, `op ${i}`)
    } finally {
      restore()
    }
    await expectIntact(files, 'after the fault')
    await files.data.write(0, Uint8Array.of(0xc0, 0xde))
    await files.oplog.write(9000, Uint8Array.of(0xee))
    const want = A_DATA.slice()
    want.set([0xc0, 0xde], 0)
    bytesEqual(await readAll(files.data), want, 'keeps working')
    await db.close()
    const again = new IdbStorage(name)
    try {
      const data = promisify(again.file('data'))
      const oplog = promisify(again.file('oplog'))
      bytesEqual(await readAll(data), want, 'reopened: data')
      const wantOplog = new Uint8Array(9001)
      wantOplog.set(A_OPLOG)
      wantOplog[9000] = 0xee
      bytesEqual(await readAll(oplog), wantOplog, 'reopened: oplog')
    } finally {
      await again.close()
    }
  })
}

/** Makes the first `put` of the next readwrite transaction fail as `fault` says. */
function onFirstPut (fault: (store: IDBObjectStore, orig: (...a: unknown[]) => unknown, args: unknown[]) => unknown): () => void {
  let fired = false
  return patch(G.IDBObjectStore.prototype, 'put', orig => function (this: unknown, ...args) {
    if (fired) return orig.apply(this, args)
    fired = true
    return fault(this as IDBObjectStore, orig, args)
  })
}


export const idbCases: Case[] = [
  {
    name: 'format 1 databases (one size record per file, one page size) open and keep their layout',
    run: ctx => withDb(ctx, {}, async (db, name) => {
      await db.close()
      // A database as format 1 wrote it: meta without page sizes, a size record per file.
      const page0 = bytes(5000, 3)
      await db.connection.run('readwrite', s => {
        s.put({ version: 1, pageSize: 4096 }, 0)
        s.put({ i: 0, b: page0.subarray(0, 4096) }, ['data', 0])
        s.put({ i: 1, b: page0.subarray(4096) }, ['data', 1])
        s.put({ size: 5000 }, ['data', -1])
      })
      await db.connection.close()
      const old = new IdbStorage(name)
      try {
        const f = promisify(old.file('data'))
        bytesEqual(await f.read(0, 5000), page0)
        await f.write(5000, bytes(100, 4))
        equal(old.pageSize, 4096)
        const size = await old.connection.run('readonly', s => promisifyRequest(s.get(['data', -1])))
        deepEqual(size, { size: 5100 }, 'still a per-file size record')
        equal(await old.connection.run('readonly', s => promisifyRequest(s.get(1))), undefined, 'no sizes record')
      } finally {
        await old.close()
      }
    })
  },
  {
    name: 'writes of one tick to several files are ONE readwrite transaction; callbacks fire after complete',
    run: ctx => withDb(ctx, {}, async (db) => {
      const txs: Array<{ mode: string, completed: boolean }> = []
      db.connection.onTransaction = (tx, mode) => {
        const t = { mode, completed: false }
        txs.push(t)
        tx.addEventListener('complete', () => { t.completed = true })
      }
      const a = db.file('a')
      const b = db.file('b')
      await Promise.all([promisify(a).open(), promisify(b).open()])
      txs.length = 0
      const seen: boolean[] = []
      const writes: Array<Promise<void>> = []
      for (let i = 0; i < 50; i++) {
        for (const f of [a, b]) {
          writes.push(new Promise((resolve, reject) => f.write(i * 1000, bytes(1000, i), err => {
            seen.push(txs.length === 1 && txs[0].completed)
            if (err) reject(err); else resolve()
          })))
        }
      }
      await Promise.all(writes)
      deepEqual(txs.map(t => t.mode), ['readwrite'], 'one readwrite transaction')
      equal(seen.length, 100)
      ok(seen.every(Boolean), 'every callback ran after the transaction completed')
      bytesEqual(await promisify(b).read(49000, 1000), bytes(1000, 49))
    })
  },
  {
    name: 'reads see pending writes before their transaction commits',
    run: ctx => withDb(ctx, {}, async (db) => {
      const f = promisify(db.file('a'))
      await f.write(0, bytes(10, 1))
      let commits = 0
      db.connection.onTransaction = (tx, mode) => { if (mode === 'readwrite') tx.addEventListener('complete', () => { commits++ }) }
      const w = f.write(5, Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8))
      const r = await f.read(0, 13)
      equal(commits, 0, 'not committed yet when the read resolved')
      const want = new Uint8Array(13)
      want.set(bytes(10, 1))
      want.set([1, 2, 3, 4, 5, 6, 7, 8], 5)
      bytesEqual(r, want)
      deepEqual(await f.stat(), { size: 13 })
      await w
      equal(commits, 1)
    })
  },
  {
    name: 'a range read on a cold database is ONE getAll request',
    run: ctx => withDb(ctx, {}, async (db, name) => {
      const data = bytes(1024 * 1024 + 100, 7)
      await promisify(db.file('data')).write(0, data)
      await db.close()
      const cold = new IdbStorage(name)
      const f = promisify(cold.file('data'))
      try {
        deepEqual(await f.stat(), { size: data.byteLength })
        const getAll = counter(G.IDBObjectStore.prototype, 'getAll')
        const get = counter(G.IDBObjectStore.prototype, 'get')
        let r: Uint8Array
        try {
          r = await f.read(0, data.byteLength)
        } finally {
          getAll.restore()
          get.restore()
        }
        equal(getAll.count(), 1, 'getAll calls')
        equal(get.count(), 0, 'get calls')
        bytesEqual(r, data)
      } finally {
        await cold.close()
      }
    })
  },
  {
    name: 'partial writes merge into fixed-size page records; every size lives in one record of the same store',
    run: ctx => withDb(ctx, { pageSize: 4096 }, async (db) => {
      const f = promisify(db.file('log'))
      const other = promisify(db.file('other'))
      for (let i = 0; i < 100; i++) await f.write(i * 1000, bytes(1000, i))
      await other.write(0, bytes(10, 1))
      // Small writes are journaled (idb-journal-cases.ts); closing the files stores their pages.
      await f.close()
      await other.close()
      const keys = await db.connection.run('readonly', s => promisifyRequest(s.getAllKeys()))
      const pages = keys.filter(k => Array.isArray(k) && k[0] === 'log' && (k[1] as number) >= 0)
      equal(pages.length, Math.ceil(100000 / 4096), 'one record per 4 KiB page')
      equal(keys.filter(k => Array.isArray(k) && k[1] === -1).length, 0, 'no per-file size records (format 2)')
      const sizes = await db.connection.run('readonly', s => promisifyRequest(s.get(1))) as { sizes: Record<string, number> }
      deepEqual(sizes, { sizes: { log: 100000, other: 10 } }, 'the sizes record')
      const rec = await db.connection.run('readonly', s => promisifyRequest(s.get(['log', 3]))) as { i: number, b: Uint8Array }
      equal(rec.i, 3, 'a record carries its page number')
      equal(rec.b.byteLength, 4096)
      const want = new Uint8Array(100000)
      for (let i = 0; i < 100; i++) want.set(bytes(1000, i), i * 1000)
      bytesEqual(rec.b, want.subarray(3 * 4096, 4 * 4096))
    })
  },
  {
    name: 'sequential appends reuse cached committed pages: no read requests',
    run: ctx => withDb(ctx, {}, async (db) => {
      const f = promisify(db.file('data'))
      await f.open()
      const getAll = counter(G.IDBObjectStore.prototype, 'getAll')
      const get = counter(G.IDBObjectStore.prototype, 'get')
      try {
        for (let i = 0; i < 60; i++) await f.write(i * 1500, bytes(1500, i))
      } finally {
        getAll.restore()
        get.restore()
      }
      equal(getAll.count() + get.count(), 0, 'read requests during appends')
      const want = new Uint8Array(90000)
      for (let i = 0; i < 60; i++) want.set(bytes(1500, i), i * 1500)
      bytesEqual(await f.read(0, 90000), want)
    })
  },
  {
    name: 'truncate drops whole pages and trims the partial one; del drops whole pages',
    run: ctx => withDb(ctx, { pageSize: 4096 }, async (db) => {
      const f = promisify(db.file('t'))
      await f.write(0, bytes(20000, 9))
      await f.truncate(5000)
      const pageKeys = async (): Promise<number[]> => (await db.connection.run('readonly', s => promisifyRequest(s.getAllKeys())))
        .filter(k => Array.isArray(k) && k[0] === 't' && (k[1] as number) >= 0).map(k => (k as [string, number])[1])
      deepEqual(await pageKeys(), [0, 1])
      const rec = await db.connection.run('readonly', s => promisifyRequest(s.get(['t', 1]))) as { b: Uint8Array }
      equal(rec.b.byteLength, 5000 - 4096, 'trimmed page length')
      await f.write(12000, Uint8Array.of(1))
      await f.del(0, 6000)
      deepEqual(await pageKeys(), [1, 2], 'page 0 dropped, page 1 zeroed in place, page 2 new')
      const p1 = await db.connection.run('readonly', s => promisifyRequest(s.get(['t', 1]))) as { b: Uint8Array }
      bytesEqual(p1.b, new Uint8Array(904), 'page 1 zeroed')
      const want = new Uint8Array(12001)
      want[12000] = 1
      bytesEqual(await f.read(0, 12001), want)
    })
  },
  {
    name: 'flush() commits what was issued and resolves after complete',
    run: ctx => withDb(ctx, {}, async (db, name) => {
      const file = promisify(db.file('x'))
      await file.open()
      let commits = 0
      db.connection.onTransaction = (tx, mode) => { if (mode === 'readwrite') tx.addEventListener('complete', () => { commits++ }) }
      const w = file.write(0, bytes(5000, 1))
      await db.flush()
      equal(commits, 1, 'the transaction completed before flush resolved')
      await w
      await db.close()
      const again = new IdbStorage(name)
      bytesEqual(await promisify(again.file('x')).read(0, 5000), bytes(5000, 1))
      await again.close()
    })
  },
  {
    name: 'a reopened database keeps the page size it was created with',
    run: ctx => withDb(ctx, { pageSize: 4096 }, async (db, name) => {
      await promisify(db.file('x')).write(1000, bytes(10000, 2))
      await db.close()
      const again = new IdbStorage(name, { pageSize: 65536 })
      const f = promisify(again.file('x'))
      bytesEqual(await f.read(1000, 10000), bytes(10000, 2))
      equal(again.pageSize, 4096)
      await f.write(0, Uint8Array.of(7))
      bytesEqual(await f.read(0, 2), '0700')
      await again.close()
    })
  },
  {
    name: 'the database is a storage factory; a closed database fails with STORAGE_CLOSED',
    run: ctx => withDb(ctx, {}, async (db) => {
      const viaFactory = toStorageFactory(db)('oplog')
      ok(viaFactory instanceof IdbFile, 'toStorageFactory(db) makes IdbFiles')
      ok(db.factory('tree') instanceof IdbFile, 'db.factory')
      await promisify(viaFactory).write(0, Uint8Array.of(1))
      bytesEqual(await promisify(db.file('oplog')).read(0, 1), '01')
      await db.close()
      await rejectsWithCode(() => promisify(db.file('oplog')).read(0, 1), 'STORAGE_CLOSED')
    })
  }
]

export const idbFaultCases: Case[] = [
  {
    name: 'fault: QuotaExceededError thrown by a request → STORAGE_QUOTA, committed data intact',
    run: ctx => faultScenario(ctx, 'STORAGE_QUOTA', () => onFirstPut(() => { throw new DOMException('The quota has been exceeded.', 'QuotaExceededError') }))
  },
  {
    name: 'fault: QuotaExceededError only on the transaction (abort) → STORAGE_QUOTA',
    run: ctx => faultScenario(ctx, 'STORAGE_QUOTA', () => onFirstPut((store, orig, args) => {
      const r = orig.apply(store, args)
      abortWith(store.transaction, new DOMException('The quota has been exceeded.', 'QuotaExceededError'))
      return r
    }))
  },
  {
    name: 'fault: an aborted transaction → STORAGE_ABORTED',
    run: ctx => faultScenario(ctx, 'STORAGE_ABORTED', () => onFirstPut((store, orig, args) => {
      const r = orig.apply(store, args)
      abortWith(store.transaction, null)
      return r
    }))
  },
  {
    name: 'fault: connection lost for good (every connection closes when it writes) → STORAGE_LOST after one reopen',
    run: ctx => {
      let opensBefore = 0
      let dbRef: IdbStorage | null = null
      return faultScenario(ctx, 'STORAGE_LOST', (db) => {
        dbRef = db
        opensBefore = db.connection.opens
        // Every connection dies as soon as it tries to write: closing it for real makes the
        // implementation itself throw InvalidStateError from db.transaction().
        const restore = patch(G.IDBDatabase.prototype, 'transaction', orig => function (this: unknown, ...args) {
          if (args[1] === 'readwrite') (this as IDBDatabase).close()
          return orig.apply(this, args)
        })
        return () => {
          restore()
          equal((dbRef as IdbStorage).connection.opens - opensBefore, 1, 'the store was reopened exactly once')
        }
      })
    }
  },
  {
    name: 'fault: "Connection to Indexed Database server lost" on the transaction → STORAGE_LOST after one retry',
    run: ctx => faultScenario(ctx, 'STORAGE_LOST', () => patch(G.IDBObjectStore.prototype, 'put', orig => function (this: unknown, ...args) {
      const store = this as IDBObjectStore
      const r = orig.apply(store, args)
      if (store.transaction.mode === 'readwrite' && (store.transaction as unknown as { _faulted?: boolean })._faulted !== true) {
        (store.transaction as unknown as { _faulted?: boolean })._faulted = true
        abortWith(store.transaction, new DOMException('Connection to Indexed Database server lost. Refresh the page to try again', 'UnknownError'))
      }
      return r
    }))
  },
  {
    name: 'fault: a transient lost connection is retried once on a reopened store and succeeds',
    run: ctx => withDb(ctx, { pageSize: 4096 }, async (db, name) => {
      const files = await seed(db)
      const opens = db.connection.opens
      let thrown = 0
      const restore = patch(G.IDBDatabase.prototype, 'transaction', orig => function (this: unknown, ...args) {
        if (args[1] === 'readwrite' && thrown === 0) {
          thrown++
          ;(this as IDBDatabase).close() // the connection drops once; db.transaction() throws InvalidStateError
        }
        return orig.apply(this, args)
      })
      try {
        await files.data.write(0, Uint8Array.of(9, 9))
      } finally {
        restore()
      }
      equal(thrown, 1)
      equal(db.connection.opens - opens, 1, 'reopened once')
      await db.close()
      const again = new IdbStorage(name)
      bytesEqual(await promisify(again.file('data')).read(0, 3), Uint8Array.of(9, 9, A_DATA[2]))
      await again.close()
    })
  },
  {
    name: 'fault: the real connection is closed under the adapter → reopened, the write succeeds',
    run: ctx => withDb(ctx, { pageSize: 4096 }, async (db, name) => {
      const files = await seed(db)
      const conn = db.connection.db
      ok(conn !== null, 'a connection exists')
      conn.close()
      await files.oplog.write(9000, Uint8Array.of(1, 2))
      await db.close()
      const again = new IdbStorage(name)
      const want = new Uint8Array(9002)
      want.set(A_OPLOG)
      want.set([1, 2], 9000)
      bytesEqual(await readAll(promisify(again.file('oplog'))), want)
      await again.close()
    })
  },
  {
    name: 'fault: writes queued behind a failing transaction fail with it (they were built on its pages)',
    run: ctx => withDb(ctx, { pageSize: 4096 }, async (db) => {
      const files = await seed(db)
      let second: Promise<void> | null = null
      db.connection.onTransaction = (tx, mode) => {
        if (mode !== 'readwrite' || second !== null) return
        second = files.data.write(10, Uint8Array.of(5)) // lands in the next batch, on top of this one
        abortSoon(tx, new DOMException('The quota has been exceeded.', 'QuotaExceededError'))
      }
      const first = files.data.write(0, Uint8Array.of(4))
      await rejectsWithCode(() => first, 'STORAGE_QUOTA', 'first')
      ok(second !== null)
      await rejectsWithCode(() => second as unknown as Promise<void>, 'STORAGE_QUOTA', 'second')
      db.connection.onTransaction = null
      await expectIntact(files, 'after both failed')
    })
  }
]
