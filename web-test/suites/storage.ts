/**
 * @module web-test/suites/storage
 * The storage suites on a real browser's IndexedDB (page: web-test/pages/storage.page.ts):
 * the shared conformance suite on the memory and IndexedDB adapters and the IndexedDB cases,
 * journal cases and fault cases must all pass, and exactly as many cases must run as in Node
 * (test/storage/*.test.ts run the same case lists).
 */
import assert from 'node:assert/strict'
import type { BrowserCase } from './page.js'

interface Group { name: string, passed: string[], failed: Array<{ name: string, error: string }> }

// 24 conformance cases + 1 strict case per target; 10 IndexedDB cases; 6 journal cases; 8 fault cases.
const EXPECTED: Record<string, number> = {
  'conformance: memory': 25,
  'conformance: memory (pageSize 4096)': 25,
  'conformance: indexeddb': 25,
  'conformance: indexeddb (pageSize 4096)': 25,
  indexeddb: 10,
  'indexeddb journal': 6,
  'indexeddb faults': 8
}

export const storageCases: BrowserCase[] = [{
  title: b => `storage conformance, IndexedDB cases and fault cases pass in ${b}`,
  async run ({ page }) {
    await page.open('/pages/storage.html')
    const report = await page.call<{ groups: Group[], ms: number }>('run')
    for (const g of report.groups) assert.deepEqual(g.failed, [], `${g.name} failures`)
    assert.deepEqual(Object.fromEntries(report.groups.map(g => [g.name, g.passed.length])), EXPECTED)
  }
}]
