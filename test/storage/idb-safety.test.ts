/**
 * @module test/storage/idb-safety.test
 * Regressions of the storage-safety fixes in Node, on fake-indexeddb (Chromium runs the same
 * cases on the real IndexedDB: web-test/storage-safety.spec.ts):
 * - the IndexedDB adapter: an unlink and a write of one name in one batch, a truncate/del
 *   whose page read fails, operations issued as an open completes, close() racing a write,
 *   another connection deleting the database (idb-safety-cases.ts `idbAdapterCases`);
 * - a core on IndexedDB: appends not starved by readers, a database wiped under a live core
 *   (idb-core-cases.ts `starvationCase`, `idbWipeCases`);
 * - purge() and overwrite interrupted after the oplog went, on every Node storage: memory,
 *   IndexedDB and a directory of files (core-safety-cases.ts `interruptedCases`).
 * One writer per core (the registry and the locks) is in test/core/one-writer.test.ts.
 */
import 'fake-indexeddb/auto'
import { test } from 'node:test'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileStorage } from '../../src/storage/file.node.js'
import { idbAdapterCases } from './idb-safety-cases.js'
import { idbWipeCases, starvationCase } from './idb-core-cases.js'
import { idbPlace, interruptedCases, memoryPlace, type Place } from './core-safety-cases.js'

// Nothing here waits on a timer; this only turns a hang into a failure.
const T = { timeout: 60_000 }

for (const c of idbAdapterCases) test(`indexeddb adapter: ${c.name}`, T, () => c.run({ prefix: 'node-idb-safety' }))
for (const c of [starvationCase(['get', 'get']), starvationCase(['stream', 'stream']), ...idbWipeCases]) {
  test(`core on indexeddb: ${c.name}`, T, () => c.run({ prefix: 'node-idb-core' }))
}

/** A directory of files: every open is the path string (Node's default storage). */
function dirPlace (): Place {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hcw-safety-'))
  return { open: () => dir, raw: () => fileStorage(dir), cleanup: async () => fs.rmSync(dir, { recursive: true, force: true }) }
}

const places: Array<[string, () => Place]> = [
  ['memory', memoryPlace],
  ['indexeddb', () => idbPlace('node-interrupted')],
  ['files', dirPlace]
]
for (const [label, place] of places) {
  for (const c of interruptedCases) test(`${label}: ${c.name}`, T, () => c.run({ place }))
}
