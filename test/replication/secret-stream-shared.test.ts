/**
 * @module test/replication/secret-stream-shared.test
 * Registers the browser-safe secret-stream suite (transcript vectors, pair round trips) with
 * node:test; web-test/secret-stream.spec.ts runs the same cases in Chromium.
 */
import { before, test } from 'node:test'
import { cryptoReady } from '../../src/crypto/index.js'
import { secretStreamSuite } from './secret-stream-suite.js'

before(async () => { await cryptoReady() })

for (const c of secretStreamSuite) test(c.name, () => c.run())
