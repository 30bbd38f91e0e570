/**
 * @module hypercore-web
 * Public entry point. Re-exports the layers that exist so far.
 */
export { HypercoreError, ERROR_CODES } from './errors.js'
export type { ErrorCode } from './errors.js'
export type { RandomAccessStorage, StorageFactory, StorageStat, Callback } from './storage/types.js'
