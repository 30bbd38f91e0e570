/**
 * @module web-test/secret-stream.spec
 * The secret-stream suite (Noise transcript, recorded frames, a pair of our streams) must
 * pass in real Chromium, exactly the cases node:test runs (secret-stream-shared.test.ts).
 */
import { test, expect } from '@playwright/test'
import { secretStreamSuite } from '../test/replication/secret-stream-suite.js'

interface Report {
  passed: string[]
  failed: Array<{ name: string, error: string }>
  userAgent: string
  ms: number
}

test('Noise handshake and secret stream round-trip in Chromium', async ({ page }) => {
  const errors: string[] = []
  page.on('pageerror', (e) => errors.push(e.message))
  await page.goto('/pages/secret-stream.html')
  await page.waitForFunction(() => (globalThis as unknown as { testApi?: unknown }).testApi)
  const report = await page.evaluate(() => (globalThis as unknown as { testApi: { run: () => Promise<Report> } }).testApi.run())
  console.log(`${report.userAgent}: ${report.passed.length} passed, ${report.failed.length} failed in ${report.ms} ms`)
  for (const f of report.failed) console.log(`FAILED ${f.name}\n${f.error}\n`)
  expect(errors, 'uncaught page errors').toEqual([])
  expect(report.failed.map((f) => `${f.name}: ${f.error.split('\n')[0]}`)).toEqual([])
  expect(report.passed).toEqual(secretStreamSuite.map((c) => c.name))
})
