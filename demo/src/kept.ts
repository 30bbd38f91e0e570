/**
 * @module demo/kept
 * The datasets and logs this browser keeps (shared or received), remembered in localStorage
 * so the page can list them, reopen them (to seed again) and delete them. Each dataset is a
 * Hyperdrive on its own Corestore, one IndexedDB database (`dbName`): deleting a dataset is
 * deleting that database.
 */
import { deleteDatabase } from '../../src/storage/indexeddb/connection.js'
import { hex } from './link.js'
import { copiesOf } from './tab-copies.js'

export interface KeptDataset {
  id: string
  name: string
  files: number
  bytes: number
  role: 'shared' | 'received'
  added: number
}

// 'datasets' held the demo's earlier format (one core per dataset): those are not listed.
const KEY = 'hypercore-web-demo:drives'

/** The IndexedDB database holding a dataset's Corestore (the drive's db and blobs cores), by drive key. */
export function dbName (key: Uint8Array): string {
  return 'drive-' + hex(key)
}

export function keptDatasets (): KeptDataset[] {
  try {
    const v = JSON.parse(localStorage.getItem(KEY) ?? '[]') as unknown
    return Array.isArray(v) ? v as KeptDataset[] : []
  } catch {
    return []
  }
}

export function keep (d: KeptDataset): void {
  const list = keptDatasets().filter(x => x.id !== d.id)
  list.unshift(d)
  localStorage.setItem(KEY, JSON.stringify(list))
}

export async function forget (id: string, key: Uint8Array): Promise<void> {
  localStorage.setItem(KEY, JSON.stringify(keptDatasets().filter(x => x.id !== id)))
  localStorage.removeItem(wantKey(id))
  for (const name of await copiesOf(dbName(key))) await deleteDatabase(name)
}

/** What the reader wants of a dataset: everything, or nothing right now (paused). */
export function wantKey (id: string): string {
  return 'hypercore-web-demo:want:' + id
}
