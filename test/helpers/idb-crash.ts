/**
 * @module test/helpers/idb-crash
 * A crash of an IndexedDB-backed page, the same way in Node (fake-indexeddb) and in browsers:
 * every record a database holds right now, copied into a new database, while the adapter
 * still has the original open. The copy is what a reload after the page died would find:
 * everything committed, nothing a close would have written.
 */
import { promisifyRequest } from 'idb-keyval'

/** Copies every record of store `storeName` of database `source` into a new database `target`. */
export async function copyDatabase (source: string, target: string, storeName = 'pages'): Promise<void> {
  const from = await promisifyRequest(indexedDB.open(source))
  let keys: IDBValidKey[]
  let values: unknown[]
  try {
    const tx = from.transaction(storeName, 'readonly')
    const store = tx.objectStore(storeName)
    ;[keys, values] = await Promise.all([promisifyRequest(store.getAllKeys()), promisifyRequest(store.getAll())])
  } finally {
    from.close()
  }
  const open = indexedDB.open(target, 1)
  open.onupgradeneeded = () => { open.result.createObjectStore(storeName) }
  const to = await promisifyRequest(open)
  try {
    const tx = to.transaction(storeName, 'readwrite')
    keys.forEach((k, i) => tx.objectStore(storeName).put(values[i], k))
    await new Promise<void>((resolve, reject) => { tx.oncomplete = () => resolve(); tx.onabort = () => reject(tx.error) })
  } finally {
    to.close()
  }
}
