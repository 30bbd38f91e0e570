/**
 * @module test/core/idb-release
 * IndexedDB connection release after close (idb-release-cases.ts) in Node, on fake-indexeddb.
 */
import 'fake-indexeddb/auto'
import { test } from 'node:test'
import { idbReleaseCases } from './idb-release-cases.js'

for (const c of idbReleaseCases) test(`idb release: ${c.name}`, () => c.run({ prefix: 'node-release' }))
