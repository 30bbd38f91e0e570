/**
 * @module web-test/pages/secret-stream.page
 * Chromium side of the secret-stream suite (served at /pages/secret-stream.html):
 * `await testApi.run()` loads sodium and runs the shared cases of
 * test/replication/secret-stream-suite.ts (transcript vectors, a pair of our secret streams
 * round-tripping messages up to 1 MiB, a tampered frame), returning plain JSON.
 */
import { cryptoReady } from '../../src/crypto/index.js'
import { runSuiteInPage } from '../../test/helpers/assert.js'
import { secretStreamSuite } from '../../test/replication/secret-stream-suite.js'

interface Report {
  passed: string[]
  failed: Array<{ name: string, error: string }>
  userAgent: string
  ms: number
}

async function run (): Promise<Report> {
  const t0 = performance.now()
  await cryptoReady()
  const r = await runSuiteInPage(secretStreamSuite, () => undefined)
  return { ...r, userAgent: navigator.userAgent, ms: Math.round(performance.now() - t0) }
}

(globalThis as unknown as { testApi: unknown }).testApi = { run }
