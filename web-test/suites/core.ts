/**
 * @module web-test/suites/core
 * The Hypercore API suite on a real browser's IndexedDB (web-test/pages/core.page.ts runs
 * the same cases as test/core/api.test.ts), the connection release, an IndexedDB
 * transaction aborted mid-append followed by a page reload (rejected ⇔ not committed), and
 * a write → reload → read round trip.
 */
import assert from 'node:assert/strict'
import type { BrowserCase } from './page.js'

interface Group { name: string, passed: string[], failed: Array<{ name: string, error: string }> }
interface CoreState { length: number, fork: number, treeHash: string, signed: boolean, blocks: string[] }

export const coreCases: BrowserCase[] = [
  {
    title: b => `core API suite passes on IndexedDB and memory in ${b}`,
    async run ({ page }) {
      await page.open('/pages/core.html')
      const result = await page.call<{ groups: Group[] }>('run')
      for (const g of result.groups) {
        assert.deepEqual(g.failed, [], `${g.name}: ${JSON.stringify(g.failed, null, 2)}`)
        assert.equal(g.passed.length, 16, g.name)
      }
      assert.equal(result.groups.length, 3)
    }
  },
  {
    title: () => 'IdbStorage releases its connection when the last file closes (the database can be deleted) and reopens transparently',
    async run ({ page }) {
      await page.open('/pages/core.html')
      const g = await page.call<Group>('release')
      assert.deepEqual(g.failed, [])
      assert.equal(g.passed.length, 4)
    }
  },
  {
    title: () => 'a core written to IndexedDB survives a page reload',
    async run ({ page }) {
      await page.open('/pages/core.html')
      const written = await page.call<CoreState>('write', 'core-reload', ['a', 'b', 'c'])
      assert.deepEqual(written.blocks, ['a', 'b', 'last'])
      assert.equal(written.fork, 1)
      await page.reload()
      const read = await page.call<CoreState>('state', 'core-reload')
      assert.deepEqual(read, written)
      assert.equal(read.signed, true)
    }
  },
  {
    title: () => 'an IndexedDB transaction aborted at each write of an append: after a reload the core is the state before or after',
    async run ({ page }) {
      await page.open('/pages/core.html')
      const outcomes: string[] = []
      for (let n = 0; n < 8; n++) {
        const name = `core-abort-${n}`
        const r = await page.call<{ before: CoreState, after: CoreState | null, error: string | null, flushError: string | null, transactions: number }>('abortAppend', name, n)
        await page.reload()
        const st = await page.call<CoreState>('state', name)
        assert.equal(st.signed, true, `abort at ${n}: signature`)
        // The append rejects exactly when it did not commit: an abort after its oplog entry (in
        // the flush) leaves it resolved, durable, with the flush remembered for a retry.
        if (r.error !== null) {
          assert.deepEqual(st, r.before, `abort at ${n}: rejected (${r.error}) → before`)
          outcomes.push(`${n}:before(${r.error})`)
        } else {
          assert.deepEqual(st.blocks, [...r.before.blocks, 'four'], `abort at ${n}: resolved → after`)
          assert.equal(st.treeHash, r.after!.treeHash)
          outcomes.push(`${n}:after(flush ${r.flushError ?? 'ok'})`)
        }
        if (r.transactions <= n) break // fewer write transactions than n: nothing left to abort
      }
      console.log('abort outcomes:', outcomes.join(' '))
      assert.ok(outcomes.some(o => o.includes('before(STORAGE_ABORTED)')), outcomes.join(' '))
      assert.ok(outcomes.some(o => o.includes('after(flush STORAGE_ABORTED)')), outcomes.join(' '))
    }
  }
]
