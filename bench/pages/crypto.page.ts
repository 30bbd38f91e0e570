/**
 * @module bench/pages/crypto.page
 * Chromium side of the crypto benchmark (served at /bench/crypto.html):
 * `await testApi.run(budgetMs)` returns ops/s for ours and for the naive wrappers path.
 */
import { cryptoReady } from '../../src/crypto/index.js'
import { measure, ours, ratios, viaWrappers } from '../crypto-ops.js'

(globalThis as unknown as { testApi: unknown }).testApi = {
  async run (budgetMs = 1000) {
    const t0 = performance.now()
    await cryptoReady()
    const loadMs = Math.round(performance.now() - t0)
    const oursOps = measure(ours, budgetMs)
    const wrappersOps = measure(await viaWrappers(), budgetMs)
    return {
      runtime: navigator.userAgent,
      sodiumLoadMs: loadMs,
      opsPerSecond: { ours: oursOps, oursViaWrappers: wrappersOps },
      ratioOursToWrappers: ratios(oursOps, wrappersOps)
    }
  }
}
