/**
 * @module web-test/storage-safety.spec
 * Storage-safety regressions in real Chromium (page: web-test/pages/storage-safety.page.ts):
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

interface Group { name: string, passed: string[], failed: Array<{ name: string, error: string }> }

async function open (page: Page): Promise<void> {
  await page.goto('/pages/storage-safety.html')
  await page.waitForFunction(() => (globalThis as any).testApi)
}

let seq = 0
const unique = (tag: string): string => `spec-${tag}-${Date.now()}-${seq++}`

// The shared groups and how many cases each runs (the page's `suites`).
const GROUPS: Record<string, number> = {
  'indexeddb adapter': 7,
  'indexeddb lock': 1,
  'indexeddb core': 5, // 2 starvation (two get loops, two read streams) + 3 wipe cases
  'one writer: storage name string': 4,
  'interrupted: storage name string': 3,
  'one writer: IdbStorage per open': 4,
  'interrupted: IdbStorage per open': 3,
  'one writer: memory': 4,
  'interrupted: memory': 3
}

for (const [group, count] of Object.entries(GROUPS)) {
  test(`shared cases in Chromium: ${group}`, async ({ page }) => {
    await open(page)
    const g = await page.evaluate(n => (globalThis as any).testApi.run(n), group) as Group
    expect(g.failed, `${group} failures`).toEqual([])
    expect(g.passed.length, `${group} cases passed`).toBe(count)
  })
}

test('two tabs on one core name: the second tab\'s open rejects STORAGE_LOCKED, unlocked is read-only, and it opens once the first closes the core', async ({ page, context }) => {
  const name = unique('tabs')
  const other = await context.newPage()
  await Promise.all([open(page), open(other)])
  try {
    expect(await page.evaluate(([n]) => (globalThis as any).testApi.hold(n, ['a', 'b', 'c']), [name])).toEqual({ length: 3 })

    expect(await other.evaluate(([n]) => (globalThis as any).testApi.tryOpen(n), [name])).toEqual({ error: 'STORAGE_LOCKED' })
    expect(await other.evaluate(([n]) => (globalThis as any).testApi.tryOpen(n, { unlocked: true }), [name]))
      .toEqual({ length: 3, writable: false, blocks: ['a', 'b', 'c'], append: 'SESSION_NOT_WRITABLE' })

    await page.evaluate(([n]) => (globalThis as any).testApi.release(n), [name])
    expect(await other.evaluate(([n]) => (globalThis as any).testApi.tryOpen(n), [name]))
      .toEqual({ length: 4, writable: true, blocks: ['a', 'b', 'c'], append: 'ok' })
    // and the first tab now opens what the second wrote
    expect(await page.evaluate(([n]) => (globalThis as any).testApi.tryOpen(n, { unlocked: true }), [name]))
      .toEqual({ length: 4, writable: false, blocks: ['a', 'b', 'c', 'appended'], append: 'SESSION_NOT_WRITABLE' })
  } finally {
    await other.evaluate(([n]) => (globalThis as any).testApi.tryDelete(n), [name]).catch(() => {})
    await other.close()
  }
})

test('two tabs on one core name: closing the first tab frees the core for the second', async ({ page, context }) => {
  const name = unique('tab-close')
  const first = await context.newPage()
  await Promise.all([open(page), open(first)])
  expect(await first.evaluate(([n]) => (globalThis as any).testApi.hold(n, ['x']), [name])).toEqual({ length: 1 })
  expect(await page.evaluate(([n]) => (globalThis as any).testApi.tryOpen(n), [name])).toEqual({ error: 'STORAGE_LOCKED' })
  await first.close() // its core never closed: the browser releases the page's Web Lock
  await page.evaluate(([n]) => (globalThis as any).testApi.lockFree(n), [name])
  expect(await page.evaluate(([n]) => (globalThis as any).testApi.tryOpen(n), [name]))
    .toEqual({ length: 2, writable: true, blocks: ['x'], append: 'ok' })
  await page.evaluate(([n]) => (globalThis as any).testApi.tryDelete(n), [name])
})

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
