/**
 * @module store
 * Many cores in one place, with corestore@6's API, key derivation and on-disk layout.
 */
export { Corestore, type CorestoreOptions } from './corestore.js'
export type { CorestoreGetOptions } from './get-options.js'
export type { StoreStorageInput } from './storage.js'
