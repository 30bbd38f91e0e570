/**
 * @module core/registry
 * The cores open in this JavaScript realm (a page, a worker, a Node process), by the place
 * they are stored (storage/factory.ts `storageIdentity`). Opening a place that is already
 * open joins that core as one more session instead of opening the storage a second time:
 * two independent cores on one storage would each sign their own tree at the same length
 * and overwrite each other's pages. (Across realms the storage's lock refuses the second
 * opener: STORAGE_LOCKED.)
 */
import type { Core } from './core.js'

const open = new Map<unknown, Promise<Core>>()

/**
 * The core stored at `id`: the one already open (after `join` accepted it), or a new one from
 * `create`, registered until it closes (unless `register` is false: a read-only core that
 * later writers must not join). `id` null: not shareable, always `create`.
 */
export async function openShared (id: unknown, create: () => Promise<Core>, join: (core: Core) => void, register = true): Promise<Core> {
  if (id === null) return create()
  for (;;) {
    const entry = open.get(id)
    if (entry === undefined) {
      if (!register) return create()
      const opening = create()
      open.set(id, opening)
      let core: Core
      try {
        core = await opening
      } catch (err) {
        if (open.get(id) === opening) open.delete(id)
        throw err
      }
      void core.whenClosed().then(() => { if (open.get(id) === opening) open.delete(id) })
      return core
    }
    const core = await entry.catch(() => null)
    // Its open failed (the opener reports why; we try ourselves) or it is closing: once it is
    // gone, the place is free again.
    if (core === null) {
      if (open.get(id) === entry) open.delete(id)
      continue
    }
    if (core.closing) {
      await core.whenClosed()
      if (open.get(id) === entry) open.delete(id)
      continue
    }
    join(core)
    return core
  }
}
