/**
 * @module test/storage/indexeddb.test
 * The IndexedDB adapter's own cases and fault cases in Node, on fake-indexeddb (the same
 * cases run in Chromium through web-test/storage.spec.ts).
 */
import 'fake-indexeddb/auto'
import { test } from 'node:test'
import { idbCases, idbFaultCases } from './idb-cases.js'
import { idbJournalCases } from './idb-journal-cases.js'

for (const c of [...idbCases, ...idbJournalCases, ...idbFaultCases]) test(c.name, () => c.run({ prefix: 'node-idb' }))
