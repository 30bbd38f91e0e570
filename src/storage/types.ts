/**
 * @module storage/types
 * The random-access storage interface (the seeds' "random-access-storage" idea) as
 * Hypercore 10 uses it: one object per file, callback methods, capability flags.
 * Objects from npm's `random-access-memory` / `random-access-file` satisfy it as they are,
 * and ours plug into anything that takes them (including hypercore@10 itself).
 */

export type Callback<T = void> = (err: Error | null, value?: T) => void

export interface StorageStat {
  /** Logical size of the file in bytes (the end of the last written byte). */
  size: number
}

/**
 * Files whose writes become durable in the order issued (see `durabilityGroup` below). A
 * group may take a hint that a caller has issued a whole unit of writes: `commitSoon()` lets
 * them start committing now instead of at the end of the tick.
 */
export interface DurabilityGroup {
  commitSoon?: () => void
}

/** One random-access "file". All methods are callback based; callbacks are optional for mutations. */
export interface RandomAccessStorage {
  readable: boolean
  writable: boolean
  deletable: boolean
  truncatable: boolean
  statable: boolean
  opened?: boolean
  closed?: boolean
  unlinked?: boolean

  open (cb?: Callback): void
  read (offset: number, size: number, cb: Callback<Uint8Array>): void
  write (offset: number, data: Uint8Array, cb?: Callback): void
  del (offset: number, size: number, cb?: Callback): void
  truncate (offset: number, cb?: Callback): void
  stat (cb: Callback<StorageStat>): void
  close (cb?: Callback): void
  unlink (cb?: Callback): void

  /**
   * Files that report the same object become durable in the order their writes were issued,
   * and a write fails if an earlier write of the group failed (our IndexedDB database is such
   * a group). This holds between files that are open: a write to a file still opening waits
   * for its open, so open every file of the group first. The core then issues a mutation's writes without waiting for each (and groups
   * mutations into one transaction). Absent or null: every write is awaited in turn.
   */
  readonly durabilityGroup?: DurabilityGroup | null

  /** Lifecycle events (`open`, `close`, `unlink`; `lost` for a database wiped under us), when the implementation has them. */
  on?: (event: string, listener: (...args: unknown[]) => void) => unknown
}

/**
 * What a core is given as its storage: a function from a file name (`oplog`, `tree`,
 * `bitfield`, `data`, `header`) to a random-access file. A random-access class such as
 * `random-access-memory` is itself such a function when called with `new`.
 */
export type StorageFactory = (name: string) => RandomAccessStorage

/** A random-access class (e.g. npm's `RAM`): hypercore@10 calls it as `new Cls(name)`. */
export type RandomAccessClass = new (name: string) => RandomAccessStorage

/**
 * A storage that holds several named files (a directory, an IndexedDB database):
 * `file(name)` returns a handle; a name opened again after close sees the same bytes.
 */
export interface FileProvider {
  file (name: string): RandomAccessStorage
}

/**
 * A storage that can name the place it holds: two with the same `storageId` hold the same
 * bytes (the same directory, the same IndexedDB database), so a core opened on both in one
 * page is one core (core/registry.ts). Without it, the object itself is the identity.
 */
export interface IdentifiedStorage {
  readonly storageId?: string
}

/**
 * A place holding many cores under path prefixes, as a corestore directory or database does:
 * files by their full name (`primary-key`, `cores/ab/cd/<hex>/oplog`), the identity of the
 * core under a prefix (for core/registry.ts), and a close for what the place holds (pooled
 * file handles, a database connection).
 */
export interface MultiCoreStorage extends FileProvider {
  /** The `storageId` of the core stored under `prefix` (IdentifiedStorage), or null when it has none. */
  idOf (prefix: string): string | null
  /** Releases what the storage holds; files still open keep working until they close. */
  close (): Promise<void>
  /** True when file `name` exists and is not empty, found without creating anything (optional). */
  exists?: (name: string) => Promise<boolean>
}

/** Everything `toStorageFactory` accepts (strings are resolved by the platform default). */
export type StorageInput = string | StorageFactory | RandomAccessClass | FileProvider
