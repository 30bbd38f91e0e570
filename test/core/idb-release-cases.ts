/**
 * @module test/core/idb-release-cases
 * An `IdbStorage` holds its IndexedDB connection only while files opened through it are
 * open: after `core.close()` (or `purge()`) the database can be deleted at once (an open
 * connection would block `deleteDatabase`), and the same storage object reopens
 * transparently. Browser-safe: Node runs these on fake-indexeddb
 * (idb-release.test.ts), Chromium on the real IndexedDB (web-test/core.spec.ts), plus the
 * browser-only case of a storage name string.
 */
import Hypercore from '../../src/index.js'
import { IdbStorage } from '../../src/storage/indexeddb/database.js'
import { promisify } from '../../src/storage/promises.js'
import { bytesEqual, deepEqual, equal, ok, type SuiteCase } from '../helpers/assert.js'

export interface ReleaseCtx { prefix: string }

let seq = 0
const nameOf = (ctx: ReleaseCtx): string => `${ctx.prefix}-${Date.now()}-${seq++}`

/** Deletes the database; 'blocked' if an open connection holds it (the request is left pending). */
function tryDelete (name: string): Promise<'deleted' | 'blocked'> {
  return new Promise((resolve, reject) => {
    const req = indexedDB.deleteDatabase(name)
    req.onsuccess = () => resolve('deleted')
    req.onerror = () => reject(req.error)
    req.onblocked = () => resolve('blocked')
  })
}

export const idbReleaseCases: Array<SuiteCase<ReleaseCtx>> = [
  {
    name: 'after core.close() the database can be deleted; the same IdbStorage reopens the core',
    run: async (ctx) => {
      const name = nameOf(ctx)
      const db = new IdbStorage(name)
      const core = new Hypercore(db, { valueEncoding: 'utf-8' })
      await core.append(['a', 'b', 'c'])
      ok(db.connection.db !== null, 'a connection while the core is open')
      await core.close()
      equal(db.openFiles, 0, 'no file open')
      equal(db.connection.db, null, 'the connection is released')
      const again = new Hypercore(db, { valueEncoding: 'utf-8' })
      deepEqual(await Promise.all([0, 1, 2].map(i => again.get(i))), ['a', 'b', 'c'], 'reopened through the same storage')
      await again.append('d')
      await again.close()
      equal(db.connection.db, null)
      equal(await tryDelete(name), 'deleted')
    }
  },
  {
    name: 'purge: files deleted and the connection released',
    run: async (ctx) => {
      const name = nameOf(ctx)
      const db = new IdbStorage(name)
      const core = new Hypercore(db)
      await core.append(new Uint8Array(100))
      await core.purge()
      equal(db.connection.db, null, 'released after unlinking')
      const f = promisify(db.file('data'))
      equal((await f.stat()).size, 0, 'the data file is gone')
      await f.close()
      equal(await tryDelete(name), 'deleted')
    }
  },
  {
    name: 'files: the connection is held until the LAST open file closes; pending writes are committed first',
    run: async (ctx) => {
      const name = nameOf(ctx)
      const db = new IdbStorage(name, { pageSize: 4096 })
      const a = promisify(db.file('a'))
      const b = promisify(db.file('b'))
      await a.write(0, new Uint8Array([1, 2, 3]))
      await b.open()
      const pending = a.write(5000, new Uint8Array([9])) // same tick as the close below
      await a.close()
      await pending
      ok(db.connection.db !== null, 'b still holds the connection')
      equal(db.openFiles, 1)
      await b.close()
      equal(db.connection.db, null, 'released with the last file')
      const again = promisify(db.file('a'))
      bytesEqual(await again.read(0, 3), Uint8Array.of(1, 2, 3), 'reopened transparently')
      equal((await again.stat()).size, 5001, 'the write issued before close was committed')
      await again.close()
      equal(await tryDelete(name), 'deleted')
    }
  }
]

/** Browser only: there a storage name string is an IndexedDB database (in Node, a directory). */
export const idbReleaseBrowserCases: Array<SuiteCase<ReleaseCtx>> = [
  {
    name: 'a storage name string: close, then delete, then a new core there starts empty',
    run: async (ctx) => {
      const name = nameOf(ctx)
      const core = new Hypercore(name)
      await core.append(new Uint8Array([1, 2, 3]))
      await core.close()
      equal(await tryDelete(name), 'deleted')
      const fresh = new Hypercore(name)
      await fresh.ready()
      equal(fresh.length, 0)
      await fresh.close()
      equal(await tryDelete(name), 'deleted')
    }
  }
]
