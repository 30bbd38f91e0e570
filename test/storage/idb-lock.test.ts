/**
 * @module test/storage/idb-lock.test
 * The IndexedDB writer lock (src/storage/indexeddb/lock.ts) under a Web Locks API that gives
 * a lock back asynchronously, as Firefox does: the lock is free only once the request's
 * promise settled, not when the holder's promise did. Closing an IdbStorage and opening the
 * same database at once must not meet our own lock (Firefox failed STORAGE_LOCKED there);
 * a second holder is still refused while the first holds it. The real browsers run the same
 * close-then-open in the storage suites (web-test/suites/storage.ts, Chromium and Firefox).
 */
import 'fake-indexeddb/auto'
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { lockName, tryLock } from '../../src/storage/indexeddb/lock.js'
import { IdbStorage, deleteDatabase } from '../../src/storage/indexeddb/index.js'
import { promisify } from '../../src/storage/promises.js'

type Grant = (lock: unknown) => Promise<void> | void

/** navigator.locks with `ifAvailable` only, releasing a lock one macrotask after its holder let go. */
function lateReleasingLocks (): { request: (name: string, opts: { ifAvailable?: boolean }, cb: Grant) => Promise<void> } {
  const held = new Set<string>()
  return {
    async request (name, _opts, cb) {
      if (held.has(name)) { await cb(null); return }
      held.add(name)
      try {
        await cb({ name })
      } finally {
        await new Promise(resolve => setTimeout(resolve, 0))
        held.delete(name)
      }
    }
  }
}

async function withLocks (fn: () => Promise<void>): Promise<void> {
  const g = globalThis as { navigator?: unknown }
  const had = Object.getOwnPropertyDescriptor(globalThis, 'navigator')
  Object.defineProperty(globalThis, 'navigator', { value: { locks: lateReleasingLocks() }, configurable: true, writable: true })
  try {
    await fn()
  } finally {
    if (had !== undefined) Object.defineProperty(globalThis, 'navigator', had)
    else delete g.navigator
  }
}

test('a released Web Lock is free for the next tryLock once release() resolved, and held until then', () => withLocks(async () => {
  const name = lockName('late-release')
  const a = await tryLock(name)
  assert.ok(a !== null, 'the first holder gets it')
  assert.equal(await tryLock(name), null, 'a second holder is refused')
  await a.release()
  const b = await tryLock(name)
  assert.ok(b !== null, 'free after release() resolved')
  await b.release()
  await b.release() // idempotent
}))

test('an IdbStorage closed and opened again at once takes its lock back (no STORAGE_LOCKED from itself)', () => withLocks(async () => {
  const name = `idb-lock-reopen-${Date.now()}`
  try {
    for (let i = 0; i < 3; i++) {
      const db = new IdbStorage(name)
      const f = promisify(db.file('data'))
      await f.write(i, Uint8Array.of(i + 1))
      await db.close()
    }
    // and the last file closing (not the storage) releases it too
    const db = new IdbStorage(name)
    const f = promisify(db.file('data'))
    await f.stat()
    await f.close()
    const again = new IdbStorage(name)
    assert.deepEqual(await promisify(again.file('data')).stat(), { size: 3 })
    await again.close()
    await db.close()
  } finally {
    await deleteDatabase(name)
  }
}))
