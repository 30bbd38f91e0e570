/**
 * @module demo/tab-lock
 * One tab per IndexedDB database: a core's files must have one writer, and two tabs of one
 * browser share IndexedDB. The first tab to open a dataset (or log) holds a Web Lock on its
 * database name for as long as it lives; another tab of the same browser gets its own
 * replica database (`<name>~2`, `~3`, …) and fetches from the first one like any peer
 * (BroadcastChannel finds it), so "open the link in another tab" works as people expect.
 */

export interface Claimed {
  /** The database this tab uses. */
  name: string
  /** 1 for the main copy, 2+ for a replica of another tab. */
  copy: number
  release (): void
}

const MAX_COPIES = 16

/** Takes the first free database of `base`, `base~2`, …; without Web Locks, always `base`. */
export async function claimDatabase (base: string): Promise<Claimed> {
  const locks = (navigator as Navigator & { locks?: LockManager }).locks
  if (locks === undefined) return { name: base, copy: 1, release: () => {} }
  for (let copy = 1; copy <= MAX_COPIES; copy++) {
    const name = copy === 1 ? base : `${base}~${copy}`
    const got = await tryLock(locks, 'hypercore-web-demo:' + name)
    if (got !== null) return { name, copy, release: got }
  }
  throw new Error(`more than ${MAX_COPIES} tabs have ${base} open`)
}

/** Holds the lock until the returned release is called, or null if another tab holds it. */
function tryLock (locks: LockManager, name: string): Promise<(() => void) | null> {
  return new Promise(resolve => {
    let release: () => void = () => {}
    const held = new Promise<void>(r => { release = r })
    locks.request(name, { ifAvailable: true }, async lock => {
      if (lock === null) { resolve(null); return }
      resolve(release)
      await held
    }).catch(() => resolve(null))
  })
}

/** Every database of `base` (the main copy and the replicas of other tabs), for deletion. */
export async function copiesOf (base: string): Promise<string[]> {
  const all = await indexedDB.databases?.().catch(() => []) ?? []
  const names = all.map(d => d.name ?? '').filter(n => n === base || n.startsWith(base + '~'))
  return names.includes(base) ? names : [base, ...names]
}
