/**
 * @module web-test/pages/vectors.page
 * Chromium side of the vector suites (served at /pages/vectors.html): `await testApi.run()`
 * loads sodium, runs the shared crypto and tree suites (test/vectors/) and returns the
 * names that passed and the failures with their messages, as plain JSON.
 */
import { cryptoReady } from '../../src/crypto/index.js'
import { runSuiteInPage } from '../../test/helpers/assert.js'
import { vectorSuites } from '../../test/vectors/suites.js'

interface Report {
  passed: string[]
  failed: Array<{ name: string, error: string }>
  userAgent: string
  ms: number
}

async function run (): Promise<Report> {
  const t0 = performance.now()
  await cryptoReady()
  const passed: string[] = []
  const failed: Report['failed'] = []
  for (const [suite, cases] of Object.entries(vectorSuites)) {
    const r = await runSuiteInPage(cases, () => undefined)
    passed.push(...r.passed.map((n) => `${suite}: ${n}`))
    failed.push(...r.failed.map((f) => ({ name: `${suite}: ${f.name}`, error: f.error })))
  }
  return { passed, failed, userAgent: navigator.userAgent, ms: Math.round(performance.now() - t0) }
}

(globalThis as unknown as { testApi: unknown }).testApi = { run }
