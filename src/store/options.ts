/**
 * @module store/options
 * The options of `new Corestore(storage, opts)` and `store.session(opts)` (corestore@6's).
 */

export interface CorestoreOptions {
  /** Use this primary key (written to a new store; `overwrite` writes it over a stored one). */
  primaryKey?: Uint8Array | null
  /** The namespace names are derived in (32 bytes; default 32 zero bytes). */
  namespace?: Uint8Array | null
  overwrite?: boolean
  /** false: every session handed out is read-only. */
  writable?: boolean
  /** Do not replicate open cores on new connections by themselves (peers may still ask for them). */
  passive?: boolean
  /** false: new cores' keys are manifest hashes (corestore@6 default: true, compat cores). */
  compat?: boolean
  /** The manifest version of non-compat cores (default 0). */
  manifestVersion?: number
  /** Node: file handles the store keeps open at most (default 512). */
  poolSize?: number
  /** Accepted for corestore@6 compatibility; this implementation has no block cache. */
  cache?: boolean
  inflightRange?: [number, number] | null
  globalCache?: unknown
  notDownloadingLinger?: number
  /** For `session()`: false makes closing the session close the store it came from. */
  detach?: boolean
}
