/**
 * @module test/store/indexeddb
 * A Corestore on one IndexedDB database (fake-indexeddb in Node; the real thing runs in
 * web-test/corestore.spec.ts): many cores in one database, reopened from it, served to a
 * corestore@6 peer on demand; a key the store does not have is looked for without adding
 * anything to the database (`IdbStorage.exists`).
 */
import 'fake-indexeddb/auto'
import { test } from 'node:test'
import { Corestore, IdbStorage } from '../../src/index.js'
import { cryptoReady } from '../../src/crypto/sodium.js'
import { deepEqual, equal } from '../helpers/assert.js'
import { RAM, RefCorestore, connectStores } from './helpers.js'

let seq = 0

/** The file names in the database's sizes record (format 2: one record, key 1, store 'pages'). */
async function storedFiles (name: string): Promise<string[]> {
  const db = await new Promise<IDBDatabase>((resolve, reject) => {
    const req = indexedDB.open(name)
    req.onsuccess = () => resolve(req.result)
    req.onerror = () => reject(req.error)
  })
  try {
    const record = await new Promise<{ sizes: Record<string, number> } | undefined>((resolve, reject) => {
      const req = db.transaction('pages', 'readonly').objectStore('pages').get(1)
      req.onsuccess = () => resolve(req.result)
      req.onerror = () => reject(req.error)
    })
    return Object.keys(record?.sizes ?? {})
  } finally {
    db.close()
  }
}

test('indexeddb: 30 cores in one database; reopened; closed cores served to a corestore@6 peer on demand; unknown keys leave no trace', async () => {
  await cryptoReady()
  const name = `store-${Date.now()}-${seq++}`
  const db = new IdbStorage(name)
  const store = new Corestore(db)
  const keys: Buffer[] = []
  for (let i = 0; i < 30; i++) {
    const core = store.get({ name: `c${i}` })
    await core.ready()
    await core.append(Buffer.from(`block ${i}`))
    keys.push(Buffer.from(core.key!))
    if (i % 2 === 1) await core.close()
  }
  equal(await db.exists('primary-key'), true)
  equal(await db.exists('cores/00/00/nothing/oplog'), false)

  const reader = new RefCorestore(RAM.reusable())
  const link = connectStores(reader, store)
  for (const [i, key] of keys.entries()) {
    const c = reader.get({ key })
    await c.ready()
    equal(Buffer.from(await c.get(0, { timeout: 10000 })).toString(), `block ${i}`)
  }
  const unknown = reader.get({ key: Buffer.alloc(32, 3) })
  await unknown.ready()
  equal(await unknown.get(0, { timeout: 300 }).catch((e: any) => e.code), 'REQUEST_TIMEOUT')
  // A commit after the look (a look that recorded the file would be written now).
  const c0 = store.get({ name: 'c0' })
  await c0.ready()
  await c0.append(Buffer.from('more'))
  await link.done()
  await reader.close()
  await store.close()
  await db.close()
  const dk = Buffer.from(unknown.discoveryKey).toString('hex')
  const files = await storedFiles(name)
  equal(files.length, 30 * 5 + 1, 'five files per core and the primary key')
  deepEqual(files.filter(f => f.includes(dk)), [])

  // Reopened from the database: every core, and nothing about the unknown key.
  const again = new IdbStorage(name)
  const store2 = new Corestore(again)
  const values: string[] = []
  for (const key of keys) {
    const c = store2.get({ key, createIfMissing: false })
    await c.ready()
    values.push(Buffer.from((await c.get(0)) as Uint8Array).toString())
  }
  deepEqual(values, keys.map((_, i) => `block ${i}`))
  equal(await again.exists(`cores/${dk.slice(0, 2)}/${dk.slice(2, 4)}/${dk}/oplog`), false)
  await store2.close()
  await again.destroy()
})
