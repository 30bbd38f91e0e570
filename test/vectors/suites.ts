/**
 * @module test/vectors/suites
 * The shared vector suites by name, and how many cases each has: vectors.test.ts registers
 * them with node:test, web-test/pages/vectors.page.ts runs them in Chromium, and
 * web-test/vectors.spec.ts checks that the page passed exactly these cases.
 */
import type { SuiteCase } from '../helpers/assert.js'
import { cryptoVectorCases } from './crypto-vectors.js'
import { treeVectorCases } from './tree-vectors.js'
import { proofVectorCases } from './proof-vectors.js'
import { proofPropertyCases } from './proof-property.js'

export const vectorSuites: Record<'crypto' | 'tree', Array<SuiteCase<void>>> = {
  crypto: cryptoVectorCases,
  tree: [...treeVectorCases, ...proofVectorCases, ...proofPropertyCases]
}

/** Every case's name as both runners report it: `<suite>: <case>`. */
export const VECTOR_CASE_NAMES: string[] = Object.entries(vectorSuites)
  .flatMap(([suite, cases]) => cases.map((c) => `${suite}: ${c.name}`))

export const VECTOR_CASE_COUNT = VECTOR_CASE_NAMES.length
