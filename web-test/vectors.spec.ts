/**
 * @module web-test/vectors.spec
 * Every crypto/tree/proof vector case (test/vectors/) must pass in real Chromium, exactly
 * the cases node:test runs (test/vectors/vectors.test.ts).
 */
import { test, expect } from '@playwright/test'
import { VECTOR_CASE_COUNT, VECTOR_CASE_NAMES } from '../test/vectors/suites.js'

interface Report {
  passed: string[]
  failed: Array<{ name: string, error: string }>
  userAgent: string
  ms: number
}

test('crypto, tree and proof vectors pass in Chromium', async ({ page }) => {
  const errors: string[] = []
  page.on('pageerror', (e) => errors.push(e.message))
  await page.goto('/pages/vectors.html')
  await page.waitForFunction(() => (globalThis as unknown as { testApi?: unknown }).testApi)
  const report = await page.evaluate(() => (globalThis as unknown as { testApi: { run: () => Promise<Report> } }).testApi.run())
  console.log(`${report.userAgent}: ${report.passed.length} passed, ${report.failed.length} failed in ${report.ms} ms`)
  for (const f of report.failed) console.log(`FAILED ${f.name}\n${f.error}\n`)
  expect(errors, 'uncaught page errors').toEqual([])
  expect(report.failed.map((f) => `${f.name}: ${f.error.split('\n')[0]}`)).toEqual([])
  expect(report.passed.length).toBe(VECTOR_CASE_COUNT)
  expect(report.passed).toEqual(VECTOR_CASE_NAMES)
})
