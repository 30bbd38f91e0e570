/**
 * @module storage/indexeddb/lock
 * The writer lock of one IndexedDB database: one holder per origin at a time, across tabs,
 * windows and workers. Two writers on one core each sign their own tree at the same length
 * and rewrite each other's pages from stale caches (hypercore@10 locks its oplog file for the
 * same reason), so a second opener must be refused, not merged.
 *
 * Browsers give this through the Web Locks API (`navigator.locks`): the lock is held for as
 * long as the callback's promise is pending and is released by the browser if the page dies.
 * Where there is no Web Locks API (Node with fake-indexeddb in tests, very old browsers), a
 * lock table of this JavaScript realm gives the same answer within it; another realm is not
 * seen there (nor would it share that IndexedDB).
 */

/**
 * A held lock: `release()` gives it up (idempotent) and resolves once the lock manager has
 * taken it back, so a `tryLock` issued after it (this page or another) finds the lock free.
 */
export interface HeldLock {
  release (): Promise<void>
}

interface LockManagerLike {
  request (name: string, options: { mode?: 'exclusive' | 'shared', ifAvailable?: boolean }, callback: (lock: unknown) => Promise<void> | void): Promise<unknown>
}

const localLocks = new Set<string>()

function lockManager (): LockManagerLike | null {
  const nav = (globalThis as { navigator?: { locks?: LockManagerLike } }).navigator
  return nav?.locks !== undefined && typeof nav.locks.request === 'function' ? nav.locks : null
}

/** The Web Lock name of a database (prefixed so it cannot meet an app's own lock names). */
export function lockName (dbName: string): string {
  return `hypercore-web:idb:${dbName}`
}

/** Takes the exclusive lock `name` if nobody holds it; null if somebody does. Never waits for it. */
export async function tryLock (name: string): Promise<HeldLock | null> {
  const locks = lockManager()
  if (locks === null) {
    if (localLocks.has(name)) return null
    localLocks.add(name)
    let held = true
    return { async release () { if (held) { held = false; localLocks.delete(name) } } }
  }
  return new Promise<HeldLock | null>((resolve, reject) => {
    let letGo!: () => void
    const holding = new Promise<void>(resolve => { letGo = resolve })
    // `request` settles once the lock manager took the lock back (Web Locks, "request a lock":
    // after the callback's promise settled and the lock was released). Settling `holding`
    // alone is not enough: Firefox gives the lock back asynchronously, and an `ifAvailable`
    // request made right after still finds it held (Chromium happens to find it free one
    // microtask later), so a close followed at once by an open failed STORAGE_LOCKED.
    let released: Promise<void> = Promise.resolve()
    const release = async (): Promise<void> => { letGo(); await released }
    released = locks.request(name, { mode: 'exclusive', ifAvailable: true }, (lock) => {
      if (lock === null) {
        resolve(null)
        return
      }
      resolve({ release })
      return holding // held until release() settles it
    }).then(() => {}, (err: unknown) => { reject(err) })
  })
}
