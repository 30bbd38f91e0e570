/**
 * @module web-test/storage.spec
 * The storage suites in real Chromium: the shared conformance suite on the memory and
 * IndexedDB adapters and the IndexedDB cases and fault cases must all pass, and exactly
 * as many cases must run as in Node (test/storage/*.test.ts run the same case lists).
 */
import { test, expect } from '@playwright/test'

interface Group { name: string, passed: string[], failed: Array<{ name: string, error: string }> }

// 24 conformance cases + 1 strict case per target; 9 IndexedDB cases; 8 fault cases.
const EXPECTED: Record<string, number> = {
  'conformance: memory': 25,
  'conformance: memory (pageSize 4096)': 25,
  'conformance: indexeddb': 25,
  'conformance: indexeddb (pageSize 4096)': 25,
  indexeddb: 10,
  'indexeddb faults': 8
}

test('storage conformance, IndexedDB cases and fault cases pass in Chromium', async ({ page }) => {
  await page.goto('/pages/storage.html')
  await page.waitForFunction(() => (globalThis as any).testApi)
  const report = await page.evaluate(() => (globalThis as any).testApi.run()) as { groups: Group[], ms: number }
  for (const g of report.groups) {
    expect(g.failed, `${g.name} failures`).toEqual([])
  }
  const counts = Object.fromEntries(report.groups.map(g => [g.name, g.passed.length]))
  expect(counts).toEqual(EXPECTED)
})
