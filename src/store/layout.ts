/**
 * @module store/layout
 * Where corestore@6 keeps things, so a store directory (or database) opens in either: the
 * primary key in `primary-key` (32 bytes), each core under `cores/<dk[0..2]>/<dk[2..4]>/<dk>/`
 * (dk: the discovery key in hex), and the name a core was derived from in its header's user
 * data, so reopening it by key finds its key pair again.
 */
import b4a from 'b4a'

export const PRIMARY_KEY_FILE = 'primary-key'
export const CORES_DIR = 'cores'
/** User data keys of a named core's header: the name (utf-8) and the 32-byte namespace. */
export const USERDATA_NAME_KEY = 'corestore/name'
export const USERDATA_NAMESPACE_KEY = 'corestore/namespace'

/** The lower-case hex of a discovery key: a core's id inside the store. */
export function coreId (discoveryKey: Uint8Array): string {
  return b4a.toString(discoveryKey, 'hex')
}

/** The folder of the core with this id (`cores/ab/cd/abcd…`). */
export function coreRoot (id: string): string {
  return CORES_DIR + '/' + id.slice(0, 2) + '/' + id.slice(2, 4) + '/' + id
}
