/**
 * @module test/storage/idb-journal-cases
 * The IndexedDB adapter's write-ahead journal (src/storage/indexeddb/journal.ts): a small
 * commit is ONE put; the pages are stored at a checkpoint; a database left with a journal (the
 * page died before closing) reopens with every acknowledged write, and keeps working.
 * Browser-safe: the same cases run in Node on fake-indexeddb and in Chromium and Firefox.
 *
 * A crash is a copy of every record of the database, taken while the adapter still has it
 * open, into a new database (test/helpers/idb-crash.ts): what reached the disk, without
 * anything the close would write.
 */
import { promisifyRequest } from 'idb-keyval'
import { bytesEqual, deepEqual, equal, ok, rejectsWithCode, type SuiteCase } from '../helpers/assert.js'
import { IdbStorage } from '../../src/storage/indexeddb/database.js'
import { promisify, type StoragePromises } from '../../src/storage/promises.js'
import { abortSoon } from '../helpers/idb-fault.js'
import { copyDatabase } from '../helpers/idb-crash.js'
import { seededBytes as bytes } from '../helpers/bytes.js'

export interface IdbJournalCaseContext { prefix: string }
type Case = SuiteCase<IdbJournalCaseContext>

let seq = 0
const dbName = (ctx: IdbJournalCaseContext): string => `${ctx.prefix}-journal-${Date.now()}-${seq++}`

const isJournalKey = (k: IDBValidKey): boolean => Array.isArray(k) && k[0] === 2
const isPageKey = (name: string) => (k: IDBValidKey): boolean => Array.isArray(k) && k[0] === name && (k[1] as number) >= 0

async function keysOf (db: IdbStorage): Promise<IDBValidKey[]> {
  return await db.connection.run('readonly', s => promisifyRequest(s.getAllKeys()))
}

/** Counts the requests of each readwrite transaction from now on. */
function countRequests (db: IdbStorage): Array<{ puts: number, deletes: number }> {
  const txs: Array<{ puts: number, deletes: number }> = []
  db.connection.onTransaction = (tx, mode) => {
    if (mode !== 'readwrite') return
    const t = { puts: 0, deletes: 0 }
    txs.push(t)
    const store = tx.objectStore(db.connection.storeName)
    const put = store.put.bind(store)
    const del = store.delete.bind(store)
    store.put = (...a: Parameters<IDBObjectStore['put']>) => { t.puts++; return put(...a) }
    store.delete = (...a: Parameters<IDBObjectStore['delete']>) => { t.deletes++; return del(...a) }
  }
  return txs
}

/** A new database holding a copy of every record `db` has stored right now: the disk after a crash. */
async function crashImage (ctx: IdbJournalCaseContext, db: IdbStorage): Promise<string> {
  const name = dbName(ctx) + '-crashed'
  await copyDatabase(db.name, name, db.connection.storeName)
  return name
}

async function readAll (f: StoragePromises): Promise<Uint8Array> {
  const { size } = await f.stat()
  return f.read(0, size)
}

/** A model of the files: what every read must return. */
class Model {
  readonly files = new Map<string, Uint8Array>()
  write (name: string, offset: number, data: Uint8Array): void {
    const old = this.files.get(name) ?? new Uint8Array(0)
    const out = new Uint8Array(Math.max(old.byteLength, offset + data.byteLength))
    out.set(old)
    out.set(data, offset)
    this.files.set(name, out)
  }

  truncate (name: string, length: number): void {
    const old = this.files.get(name) ?? new Uint8Array(0)
    const out = new Uint8Array(length)
    out.set(old.subarray(0, Math.min(length, old.byteLength)))
    this.files.set(name, out)
  }
}

async function expectModel (db: IdbStorage, model: Model, label: string): Promise<void> {
  for (const [name, want] of model.files) {
    const f = promisify(db.file(name))
    try {
      deepEqual(await f.stat(), { size: want.byteLength }, `${label}: ${name} size`)
      bytesEqual(await readAll(f), want, `${label}: ${name} bytes`)
    } finally {
      await f.close()
    }
  }
}

async function destroyAll (...dbs: IdbStorage[]): Promise<void> {
  for (const db of dbs) await db.destroy()
}

export const idbJournalCases: Case[] = [
  {
    name: 'journal: a small commit is ONE put; the pages are stored, and the journal deleted, when the files close',
    run: async ctx => {
      const db = new IdbStorage(dbName(ctx), { pageSize: 4096 })
      try {
        const data = promisify(db.file('data'))
        const oplog = promisify(db.file('oplog'))
        await Promise.all([data.open(), oplog.open()])
        await data.write(0, bytes(10, 0)) // the first commit also stores the meta record
        const txs = countRequests(db)
        const model = new Model()
        model.write('data', 0, bytes(10, 0))
        for (let i = 0; i < 20; i++) {
          // An append's two writes, issued together: one transaction of one put.
          await Promise.all([data.write(10 + i * 1000, bytes(1000, i + 1)), oplog.write(i * 60, bytes(60, i + 100))])
          model.write('data', 10 + i * 1000, bytes(1000, i + 1))
          model.write('oplog', i * 60, bytes(60, i + 100))
        }
        deepEqual(txs.map(t => t.puts + t.deletes), new Array(20).fill(1), 'one request per commit')
        const keys = await keysOf(db)
        equal(keys.filter(isJournalKey).length, 21, 'a journal record per commit')
        equal(keys.filter(isPageKey('data')).length, 0, 'no data page stored yet')
        await expectModel(db, model, 'journaled')
        await data.close()
        await oplog.close() // the last file: a checkpoint, then the connection is let go
        const after = await keysOf(db)
        equal(after.filter(isJournalKey).length, 0, 'journal deleted at the checkpoint')
        equal(after.filter(isPageKey('data')).length, Math.ceil(20010 / 4096), 'data pages stored')
        equal(after.filter(isPageKey('oplog')).length, 1, 'oplog page stored')
        const again = new IdbStorage(db.name)
        try {
          await expectModel(again, model, 'reopened')
        } finally {
          await again.close()
        }
      } finally {
        await destroyAll(db)
      }
    }
  },
  {
    name: 'journal: a database left with a journal (crash) reopens with every acknowledged write, in order, and keeps working',
    run: async ctx => {
      const db = new IdbStorage(dbName(ctx), { pageSize: 4096 })
      let crashed: IdbStorage | null = null
      try {
        const model = new Model()
        const data = promisify(db.file('data'))
        const header = promisify(db.file('header'))
        // Stored as pages first (a large write), then small writes over them and past them.
        await data.write(0, bytes(9000, 1))
        model.write('data', 0, bytes(9000, 1))
        const writes: Array<[StoragePromises, string, number, Uint8Array]> = [
          [data, 'data', 100, bytes(50, 2)], // over a stored page
          [data, 'data', 4090, bytes(20, 3)], // across a page boundary
          [header, 'header', 0, bytes(100, 4)],
          [header, 'header', 0, bytes(40, 5)], // the same bytes again: the later write wins
          [data, 'data', 12000, bytes(300, 6)], // past the end: a hole, then a new page
          [data, 'data', 110, bytes(5, 7)] // over the first journaled range
        ]
        for (const [f, name, offset, b] of writes) {
          await f.write(offset, b)
          model.write(name, offset, b)
        }
        // A truncate is not journaled: it is a checkpoint; small writes after it journal again.
        await data.truncate(9500)
        model.truncate('data', 9500)
        await data.write(9400, bytes(200, 8))
        model.write('data', 9400, bytes(200, 8))
        await header.write(10, bytes(3, 9))
        model.write('header', 10, bytes(3, 9))
        ok((await keysOf(db)).some(isJournalKey), 'the last commits are journal records')
        const image = await crashImage(ctx, db)
        crashed = new IdbStorage(image)
        // Held open, so the replayed journal is not checkpointed before the next write.
        const cdata = promisify(crashed.file('data'))
        await cdata.open()
        await expectModel(crashed, model, 'after the crash')
        ok((await keysOf(crashed)).some(isJournalKey), 'the replayed journal is still the journal')
        // Keeps working on the replayed pages, then a clean close and reopen.
        await cdata.write(9590, bytes(20, 10))
        model.write('data', 9590, bytes(20, 10))
        await expectModel(crashed, model, 'written after the crash')
        await crashed.close()
        const again = new IdbStorage(image)
        try {
          await expectModel(again, model, 'reopened')
          equal((await keysOf(again)).filter(isJournalKey).length, 0, 'no journal after a clean close')
        } finally {
          await again.close()
        }
      } finally {
        await destroyAll(db, ...(crashed !== null ? [crashed] : []))
      }
    }
  },
  {
    name: 'journal: a large write commits as pages; many small writes stay within the journal bounds',
    run: async ctx => {
      const db = new IdbStorage(dbName(ctx))
      try {
        const f = promisify(db.file('data'))
        await f.open()
        const txs = countRequests(db)
        await f.write(0, bytes(40000, 1))
        ok(!(await keysOf(db)).some(isJournalKey), 'a 40 KB write is not journaled')
        equal(txs.length, 1)
        ok(txs[0]!.puts >= 2, `pages and the sizes record are put (${txs[0]!.puts} puts)`)
        const model = new Model()
        model.write('data', 0, bytes(40000, 1))
        let most = 0
        for (let i = 0; i < 400; i++) {
          await f.write(40000 + i * 2000, bytes(2000, i + 2))
          model.write('data', 40000 + i * 2000, bytes(2000, i + 2))
          most = Math.max(most, (await keysOf(db)).filter(isJournalKey).length)
        }
        ok(most <= Math.ceil(256 * 1024 / 2000) && most > 10, `journal records at most ${most} (bounded by 256 KiB of journal)`)
        const image = await crashImage(ctx, db)
        const crashed = new IdbStorage(image)
        try {
          await expectModel(crashed, model, 'after a crash')
        } finally {
          await crashed.destroy()
        }
      } finally {
        await db.destroy()
      }
    }
  },
  {
    name: 'journal: a journaled commit that fails changes nothing stored; a crash then shows the state before it',
    run: async ctx => {
      const db = new IdbStorage(dbName(ctx))
      try {
        const f = promisify(db.file('data'))
        await f.write(0, bytes(100, 1))
        await f.write(100, bytes(100, 2))
        let fail = true
        db.connection.onTransaction = (tx, mode) => {
          if (mode === 'readwrite' && fail) { fail = false; abortSoon(tx) }
        }
        await rejectsWithCode(() => f.write(50, bytes(100, 3)), 'STORAGE_ABORTED')
        const want = new Uint8Array(200)
        want.set(bytes(100, 1))
        want.set(bytes(100, 2), 100)
        bytesEqual(await readAll(f), want, 'the failed write is not visible')
        // An append written in place past the committed bytes, then a change inside them in
        // the same batch: both fail, and neither shows through in the committed bytes.
        fail = true
        const both = [f.write(200, bytes(50, 4)), f.write(10, bytes(5, 5))]
        for (const w of both) await rejectsWithCode(() => w, 'STORAGE_ABORTED')
        deepEqual(await f.stat(), { size: 200 }, 'size after the failed batch')
        bytesEqual(await readAll(f), want, 'committed bytes after the failed batch')
        await f.write(200, bytes(30, 6))
        const longer = new Uint8Array(230)
        longer.set(want)
        longer.set(bytes(30, 6), 200)
        bytesEqual(await readAll(f), longer, 'an append over the failed one')
        const image = await crashImage(ctx, db)
        const crashed = new IdbStorage(image)
        try {
          bytesEqual(await readAll(promisify(crashed.file('data'))), longer, 'after a crash')
        } finally {
          await crashed.destroy()
        }
      } finally {
        await db.destroy()
      }
    }
  },
  {
    name: 'journal: a malformed journal record fails the open with STORAGE_IO; nothing is replayed or written',
    run: async ctx => {
      const db = new IdbStorage(dbName(ctx), { pageSize: 4096 })
      try {
        const f = promisify(db.file('data'))
        await f.write(0, bytes(100, 1))
        await f.write(100, bytes(10, 2)) // a journal record
        const image = await crashImage(ctx, db)
        const bad = [
          { q: 5, s: { data: 110 }, w: ['data', 0, 100, 10], b: new Uint8Array(9) }, // bytes do not add up
          { q: 5, s: { data: 110 }, w: ['data', 0, 4090, 10], b: new Uint8Array(10) }, // past the page
          { q: 5, s: { data: -1 }, w: [], b: new Uint8Array(0) }, // a negative size
          'not a record'
        ]
        for (const [i, record] of bad.entries()) {
          const name = `${image}-${i}`
          await copyDatabase(image, name)
          const raw = new IdbStorage(name)
          await raw.connection.run('readwrite', s => { s.put(record, [2, 5]) })
          await raw.connection.close()
          const keysBefore = (await keysOf(raw)).length
          await raw.connection.close()
          const opened = new IdbStorage(name)
          try {
            await rejectsWithCode(() => promisify(opened.file('data')).read(0, 1), 'STORAGE_IO', `record ${i}`)
          } finally {
            await opened.close().catch(() => {})
          }
          equal((await keysOf(raw)).length, keysBefore, `record ${i}: nothing written`)
          await raw.destroy()
        }
        await new IdbStorage(image).destroy()
      } finally {
        await db.destroy()
      }
    }
  },
  {
    name: 'journal: a format 2 database becomes format 3 at its first journaled commit; a newer format is refused with STORAGE_NOT_SUPPORTED',
    run: async ctx => {
      const db = new IdbStorage(dbName(ctx))
      try {
        await db.connection.run('readwrite', s => {
          s.put({ version: 2, pageSize: 4096, pageSizes: { oplog: 4096 }, id: 'f2' }, 0)
          s.put({ i: 0, b: bytes(10, 1) }, ['data', 0])
          s.put({ sizes: { data: 10 } }, 1)
        })
        await db.connection.close()
        const old = new IdbStorage(db.name)
        try {
          const f = promisify(old.file('data'))
          bytesEqual(await f.read(0, 10), bytes(10, 1))
          await f.write(10, bytes(5, 2))
          const meta = await old.connection.run('readonly', s => promisifyRequest(s.get(0))) as { version: number, id: string }
          deepEqual([meta.version, meta.id], [3, 'f2'], 'format 3, same incarnation id')
        } finally {
          await old.close()
        }
        const meta = await db.connection.run('readonly', s => promisifyRequest(s.get(0))) as object
        await db.connection.run('readwrite', s => { s.put({ ...meta, version: 99 }, 0) })
        await db.connection.close()
        const newer = new IdbStorage(db.name)
        try {
          await rejectsWithCode(() => promisify(newer.file('data')).read(0, 1), 'STORAGE_NOT_SUPPORTED')
        } finally {
          await newer.close().catch(() => {})
        }
      } finally {
        await db.destroy()
      }
    }
  }
]
