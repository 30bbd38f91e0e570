/**
 * @module core/session-open
 * How a session finds its core, as hypercore@10's constructor does: the `preload` hook's
 * options first (what corestore uses), then either `from` (a session of another session's
 * core) or a storage, opened once per realm (registry.ts) with the checks an open makes.
 */
import { defaultStorage, defaultStorageId } from '#platform/storage'
import { HypercoreError } from '../errors.js'
import { equalBytes } from '../crypto/bytes.js'
import { createManifest } from '../crypto/manifest.js'
import { storageIdentity, toStorageFactory } from '../storage/factory.js'
import type { StorageInput } from '../storage/types.js'
import type { Core } from './core.js'
import { openCore } from './open.js'
import { openShared } from './registry.js'
import { checkKey, checkKeyPair, type HypercoreOptions } from './session-options.js'

/** What the session knows when it opens. */
export interface SessionStart {
  storage: StorageInput | null
  key: Uint8Array | null
  opts: HypercoreOptions
}

/** The options after `preload` (merged over the given ones, as hypercore@10 merges them). */
export async function preloaded (start: SessionStart): Promise<SessionStart> {
  const preload = start.opts.preload
  if (preload == null) return start
  const more = await preload()
  if (more == null) return start
  if (typeof more !== 'object') throw HypercoreError.BAD_ARGUMENT('preload must return options')
  const opts = { ...start.opts, ...more, preload: null }
  if (opts.keyPair != null) checkKeyPair(opts.keyPair)
  const key = start.key ?? (more.key != null ? checkKey(more.key) : null)
  return { storage: start.storage ?? opts.storage ?? null, key, opts }
}

/**
 * Opens (or joins) the core at `start.storage`. `join(core)` runs synchronously with the
 * registry's answer, so a joined core cannot start closing before the session is counted.
 */
export async function openStorageCore (start: SessionStart, join: (core: Core) => void): Promise<Core> {
  const { storage, key, opts } = start
  if (storage == null) throw HypercoreError.BAD_ARGUMENT('storage is required')
  const unlocked = opts.unlocked === true
  const factory = toStorageFactory(storage, unlocked ? name => defaultStorage(name, { unlocked }) : defaultStorage)
  const id = storageIdentity(storage, defaultStorageId)
  const manifest = opts.manifest != null ? createManifest(opts.manifest) : null
  const open = (): Promise<Core> => openCore(factory, {
    key,
    keyPair: opts.keyPair ?? null,
    createIfMissing: opts.createIfMissing !== false,
    overwrite: opts.overwrite === true,
    readOnly: unlocked,
    compat: opts.compat,
    manifest,
    force: opts.force === true
  })
  // A place already open in this realm is joined (registry.ts); a read-only (unlocked) core
  // is never the one others join, as it cannot write.
  return openShared(id, open, join, !unlocked)
}

/**
 * The checks a second open of an open core makes (a different key is another core; an
 * overwrite must wait for the core to close); a key pair that signs the core lends its
 * secret key to a core opened without it.
 */
export function checkJoin (core: Core, key: Uint8Array | null, opts: HypercoreOptions): void {
  if (opts.overwrite === true) throw HypercoreError.STORAGE_LOCKED('this core is open in this page (or process): close it before overwriting')
  if (key !== null && !equalBytes(key, core.key)) throw HypercoreError.STORAGE_CONFLICT('Another Hypercore is stored here')
  const kp = opts.keyPair ?? null
  if (kp !== null) {
    const signers = core.header.manifest !== null ? core.header.manifest.signers.map(s => s.publicKey) : [core.key]
    if (!signers.some(pk => equalBytes(pk, kp.publicKey))) throw HypercoreError.STORAGE_CONFLICT('The key pair does not sign the core stored here')
    if (core.keyPair?.secretKey == null && kp.secretKey != null) core.keyPair = { publicKey: kp.publicKey, secretKey: kp.secretKey }
  }
}
