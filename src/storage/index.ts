/**
 * @module storage
 * The storage layer (browser-safe part): the random-access interface, its base class, the
 * promise wrapper, the factory normaliser, memory and IndexedDB adapters. The Node file
 * adapter lives in `file.node.ts` and is reached through `default.node.ts`.
 */
export type { Callback, FileProvider, MultiCoreStorage, RandomAccessClass, RandomAccessStorage, StorageFactory, StorageInput, StorageStat } from './types.js'
export { RandomAccess, toStorageError } from './random-access.js'
export { StoragePromises, promisify, normaliseStorageError } from './promises.js'
export { toStorageFactory, isRandomAccessClass, isFileProvider, isRandomAccessStorage } from './factory.js'
export { FilePool, PooledFile, DEFAULT_POOL_SIZE } from './pool.js'
export { MemoryStorage, MemoryDirectory, MemoryFileState, DEFAULT_MEMORY_PAGE_SIZE, type MemoryOptions } from './memory.js'
export { IdbStorage, IdbFile, DEFAULT_IDB_PAGE_SIZE, deleteDatabase, type IdbStorageOptions } from './indexeddb/index.js'
