/**
 * @module storage/indexeddb
 * The IndexedDB storage: one database per core, paged files, one transaction per tick.
 */
export { IdbStorage, DEFAULT_IDB_PAGE_SIZE, type IdbStorageOptions } from './database.js'
export { IdbFile } from './file.js'
export { IdbConnection, deleteDatabase, type TransactionHook } from './connection.js'
export { mapIdbError, isLostConnection } from './errors.js'
