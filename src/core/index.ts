/**
 * @module core
 * The Hypercore layer: the session facade and the shared state it works on.
 */
export { Hypercore, type HypercoreOptions, type GetOptions } from './hypercore.js'
export { Core, type CoreUpdate, type CoreFiles, type PreAppend } from './core.js'
export { openCore, type OpenOptions, FILE_NAMES } from './open.js'
export { ReadStream, type ReadStreamOptions } from './read-stream.js'
export { ByteStream, WriteStream, type ByteStreamOptions } from './byte-streams.js'
export { Download, type DownloadRange } from './download.js'
export { SnapshotView } from './snapshot.js'
export type { Info, StorageInfo } from './info.js'
export type { ReplicatorHook } from './waits.js'
export { resolveEncoding, type ValueEncoding, type ValueCodec } from './value-encoding.js'
export { HypercoreBatch, type BatchOptions } from './batch.js'
