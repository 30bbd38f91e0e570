/**
 * @module test/vectors/vectors
 * Runs the shared vector suites (crypto, tree, proofs) under node:test, one test per case.
 * web-test/vectors.spec.ts runs the very same cases in Chromium.
 */
import { before, test } from 'node:test'
import { cryptoReady } from '../../src/crypto/sodium.js'
import { equal } from '../helpers/assert.js'
import { VECTOR_CASE_COUNT, VECTOR_CASE_NAMES, vectorSuites } from './suites.js'

before(() => cryptoReady())

for (const [suite, cases] of Object.entries(vectorSuites)) {
  for (const c of cases) test(`${suite}: ${c.name}`, () => c.run())
}

test('case names are unique (the browser report is keyed by name)', () => {
  equal(new Set(VECTOR_CASE_NAMES).size, VECTOR_CASE_COUNT)
})
