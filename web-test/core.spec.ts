import { test, expect, type Page } from '@playwright/test'

// The Hypercore API suite on real IndexedDB in Chromium (web-test/pages/core.page.ts runs the
// same cases as test/core/api.test.ts), an IndexedDB transaction aborted mid-append followed
// by a page reload (rejected ⇔ not committed), and a write → reload → read round trip.

async function open (page: Page): Promise<void> {
  await page.goto('/pages/core.html')
  await page.waitForFunction(() => (globalThis as any).testApi)
}

test('core API suite passes on IndexedDB and memory in Chromium', async ({ page }) => {
  await open(page)
  const result = await page.evaluate(() => (globalThis as any).testApi.run())
  for (const g of result.groups) {
    expect(g.failed, `${g.name}: ${JSON.stringify(g.failed, null, 2)}`).toEqual([])
    expect(g.passed.length, g.name).toBe(16)
  }
  expect(result.groups.length).toBe(3)
})

test('IdbStorage releases its connection when the last file closes (the database can be deleted) and reopens transparently', async ({ page }) => {
  await open(page)
  const g = await page.evaluate(() => (globalThis as any).testApi.release())
  expect(g.failed).toEqual([])
  expect(g.passed.length).toBe(4)
})

test('a core written to IndexedDB survives a page reload', async ({ page }) => {
  await open(page)
  const written = await page.evaluate(() => (globalThis as any).testApi.write('core-reload', ['a', 'b', 'c']))
  expect(written.blocks).toEqual(['a', 'b', 'last'])
  expect(written.fork).toBe(1)
  await page.reload()
  await page.waitForFunction(() => (globalThis as any).testApi)
  const read = await page.evaluate(() => (globalThis as any).testApi.state('core-reload'))
  expect(read).toEqual(written)
  expect(read.signed).toBe(true)
})

test('an IndexedDB transaction aborted at each write of an append: after a reload the core is the state before or after', async ({ page }) => {
  await open(page)
  const outcomes: string[] = []
  for (let n = 0; n < 8; n++) {
    const name = `core-abort-${n}`
    const r = await page.evaluate(([name, n]) => (globalThis as any).testApi.abortAppend(name, n), [name, n] as const)
    await page.reload()
    await page.waitForFunction(() => (globalThis as any).testApi)
    const st = await page.evaluate((name) => (globalThis as any).testApi.state(name), name)
    expect(st.signed, `abort at ${n}: signature`).toBe(true)
    // The append rejects exactly when it did not commit: an abort after its oplog entry (in
    // the flush) leaves it resolved, durable, with the flush remembered for a retry.
    if (r.error !== null) {
      expect(st, `abort at ${n}: rejected (${r.error}) → before`).toEqual(r.before)
      outcomes.push(`${n}:before(${r.error})`)
    } else {
      expect(st.blocks, `abort at ${n}: resolved → after`).toEqual([...r.before.blocks, 'four'])
      expect(st.treeHash).toBe(r.after.treeHash)
      outcomes.push(`${n}:after(flush ${r.flushError ?? 'ok'})`)
    }
    if (r.transactions <= n) break // fewer write transactions than n: nothing left to abort
  }
  console.log('abort outcomes:', outcomes.join(' '))
  expect(outcomes.some(o => o.includes('before(STORAGE_ABORTED)'))).toBe(true)
  expect(outcomes.some(o => o.includes('after(flush STORAGE_ABORTED)'))).toBe(true)
})
