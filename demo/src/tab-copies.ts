/**
 * @module demo/tab-copies
 * One tab per IndexedDB database: the library lets one core (or one Corestore) write a
 * database, and refuses a second tab of the same browser with STORAGE_LOCKED. So a tab that
 * finds a dataset's store (or a log) open in another tab opens its own replica database
 * (`<name>~2`, `~3`, …) and fetches from the first one like from any peer (BroadcastChannel
 * finds it): "open the link in another tab" works as people expect.
 */
import { HypercoreError } from '../../src/index.js'

/** A Hypercore or a Corestore: what holds a database. */
interface Openable {
  ready (): Promise<unknown>
  close (): Promise<unknown>
}

export interface Opened<T extends Openable> {
  core: T
  /** The database this tab uses. */
  name: string
  /** 1 for the main copy, 2+ for a replica of another tab's. */
  copy: number
}

const MAX_COPIES = 16

/**
 * Opens the first of `base`, `base~2`, … that no other tab holds. `open(name, main)` makes the
 * core (`main`: the first copy, which may be this browser's own writable core).
 */
export async function openFreeCopy<T extends Openable> (base: string, open: (name: string, main: boolean) => T): Promise<Opened<T>> {
  for (let copy = 1; copy <= MAX_COPIES; copy++) {
    const name = copy === 1 ? base : `${base}~${copy}`
    const core = open(name, copy === 1)
    try {
      await core.ready()
      return { core, name, copy }
    } catch (err) {
      await core.close().catch(() => {})
      if (!HypercoreError.is(err, 'STORAGE_LOCKED')) throw err
    }
  }
  throw new Error(`more than ${MAX_COPIES} tabs have ${base} open`)
}

/** Every database of `base` (the main copy and the replicas of other tabs), for deletion. */
export async function copiesOf (base: string): Promise<string[]> {
  const all = await indexedDB.databases?.().catch(() => []) ?? []
  const names = all.map(d => d.name ?? '').filter(n => n === base || n.startsWith(base + '~'))
  return names.includes(base) ? names : [base, ...names]
}
