/**
 * @module web-test/storage-safety.spec
 * Storage-safety regressions in real Chromium (page: web-test/pages/storage-safety.page.ts;
 * all but the CDP case are shared with the Firefox runner: web-test/suites/storage-safety.ts):
 * - the shared cases on the real IndexedDB (the same lists Node runs on fake-indexeddb and on
 *   memory/files: test/storage/idb-safety.test.ts, test/core/one-writer.test.ts), with two
 *   readers for the starvation case;
 * - one writer across tabs: two pages of one browser context (two tabs of the origin) open
 *   the same core name; the second is refused STORAGE_LOCKED (Web Locks) until the first
 *   closes the core or the page, and `unlocked` opens it read-only meanwhile;
 * - a database cleared by the browser under a live core (CDP Storage.clearDataForOrigin,
 *   what "clear site data" does): STORAGE_LOST, sessions close, nothing of ours is written
 *   into the recreated database, a reopen is clean.
 */
import { test, expect, type Page } from '@playwright/test'
import { storageSafetyCases } from './suites/storage-safety.js'
import { unique } from './suites/page.js'
import { runCase } from './suites/playwright.js'

async function open (page: Page): Promise<void> {
  await page.goto('/pages/storage-safety.html')
  await page.waitForFunction(() => (globalThis as any).testApi)
}

// The shared groups and the two-tab cases (also run in Firefox: web-test/suites/storage-safety.ts).
for (const c of storageSafetyCases) test(c.title('Chromium'), runCase(c))

// Chromium only: clearing an origin's IndexedDB under a live page needs CDP.
test('IndexedDB cleared by the browser (CDP Storage.clearDataForOrigin) under a live core: STORAGE_LOST, the sessions close, nothing of ours is written, a reopen is clean', async ({ page, baseURL }) => {
  const name = unique('cleared')
  await open(page)
  expect(await page.evaluate(([n]) => (globalThis as any).testApi.startLive(n), [name])).toEqual({ length: 8 })
  const cdp = await page.context().newCDPSession(page)
  await cdp.send('Storage.clearDataForOrigin', { origin: new URL(baseURL!).origin, storageTypes: 'indexeddb' })
  const seen = await page.evaluate(([n]) => (globalThis as any).testApi.afterWipe(n), [name]) as { append: string, closed: boolean, keys: unknown[] | null, reopen: string }
  expect({
    ...seen,
    // Our failed append may have reopened (so recreated) the database, but wrote nothing in it.
    keys: seen.keys === null || seen.keys.length === 0 ? 'none of ours' : seen.keys
  }).toEqual({ append: 'STORAGE_LOST', closed: true, keys: 'none of ours', reopen: 'clean' })
  await page.evaluate(([n]) => (globalThis as any).testApi.tryDelete(n), [name])
})
