/**
 * @module web-test/suites/storage-safety
 * Storage-safety regressions on a real browser (page: web-test/pages/storage-safety.page.ts):
 * - the shared cases on the real IndexedDB (the same lists Node runs on fake-indexeddb and on
 *   memory/files: test/storage/idb-safety.test.ts, test/core/one-writer.test.ts), with two
 *   readers for the starvation case;
 * - one writer across tabs: two tabs of one profile open the same core name; the second is
 *   refused STORAGE_LOCKED (Web Locks) until the first closes the core or the page, and
 *   `unlocked` opens it read-only meanwhile.
 * (A database cleared by the browser under a live core needs CDP: web-test/storage-safety.spec.ts.)
 */
import assert from 'node:assert/strict'
import { unique, type BrowserCase, type TestPage } from './page.js'

interface Group { name: string, passed: string[], failed: Array<{ name: string, error: string }> }

export async function openSafetyPage (page: TestPage): Promise<void> {
  await page.open('/pages/storage-safety.html')
}

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

export const storageSafetyCases: BrowserCase[] = [
  ...Object.entries(GROUPS).map(([group, count]): BrowserCase => ({
    title: b => `shared cases in ${b}: ${group}`,
    async run ({ page }) {
      await openSafetyPage(page)
      const g = await page.call<Group>('run', group)
      assert.deepEqual(g.failed, [], `${group} failures`)
      assert.equal(g.passed.length, count, `${group} cases passed`)
    }
  })),
  {
    title: () => 'two tabs on one core name: the second tab\'s open rejects STORAGE_LOCKED, unlocked is read-only, and it opens once the first closes the core',
    async run ({ page, newTab }) {
      const name = unique('tabs')
      const other = await newTab()
      await Promise.all([openSafetyPage(page), openSafetyPage(other)])
      try {
        assert.deepEqual(await page.call('hold', name, ['a', 'b', 'c']), { length: 3 })
        assert.deepEqual(await other.call('tryOpen', name), { error: 'STORAGE_LOCKED' })
        assert.deepEqual(await other.call('tryOpen', name, { unlocked: true }),
          { length: 3, writable: false, blocks: ['a', 'b', 'c'], append: 'SESSION_NOT_WRITABLE' })

        await page.call('release', name)
        assert.deepEqual(await other.call('tryOpen', name), { length: 4, writable: true, blocks: ['a', 'b', 'c'], append: 'ok' })
        // and the first tab now opens what the second wrote
        assert.deepEqual(await page.call('tryOpen', name, { unlocked: true }),
          { length: 4, writable: false, blocks: ['a', 'b', 'c', 'appended'], append: 'SESSION_NOT_WRITABLE' })
      } finally {
        await other.call('tryDelete', name).catch(() => {})
        await other.close()
      }
    }
  },
  {
    title: () => 'two tabs on one core name: closing the first tab frees the core for the second',
    async run ({ page, newTab }) {
      const name = unique('tab-close')
      const first = await newTab()
      await Promise.all([openSafetyPage(page), openSafetyPage(first)])
      assert.deepEqual(await first.call('hold', name, ['x']), { length: 1 })
      assert.deepEqual(await page.call('tryOpen', name), { error: 'STORAGE_LOCKED' })
      await first.close() // its core never closed: the browser releases the page's Web Lock
      await page.call('lockFree', name)
      assert.deepEqual(await page.call('tryOpen', name), { length: 2, writable: true, blocks: ['x'], append: 'ok' })
      await page.call('tryDelete', name)
    }
  }
]
