/**
 * @module storage/indexeddb/database
 * `IdbStorage`: one IndexedDB database holding all the files of a core (spec §6: oplog, tree,
 * bitfield, data, header). `db.file(name)` returns a random-access file; `db` itself is a
 * storage factory.
 *
 * How it stays fast (NOTES: one put per transaction is ~10× slower than many puts in one;
 * getAll reads ranges faster than writes):
 * - files are split into fixed-size pages (32 KiB default; 4 KiB for the oplog, bitfield and
 *   header); a write is merged into its pages;
 * - mutations go into a pending batch; the batch commits as ONE readwrite transaction at the
 *   end of the tick, or, while another transaction is committing, as soon as that one is
 *   done (group commit: everything issued during a commit goes into the next one);
 * - a small commit of plain writes is ONE journal record of the bytes it changed, not its
 *   pages (journal.ts); the pages are stored later, many commits at once, at a checkpoint;
 * - a transaction is committed (`tx.commit()`) as soon as its requests are issued
 *   (connection.ts), not when the task that issued them ends;
 * - a mutation's callback fires only after its transaction's `complete`;
 * - reads see pending writes; a read that needs stored pages makes ONE getAll request, and
 *   the reads of a moment share one read-only transaction (read-queue.ts);
 * - a small LRU keeps committed pages, so sequential appends do not re-read their last page.
 *
 * Ordering. Writes become durable in the order they were issued, across all files of the
 * database: at most one transaction is in flight, and a batch that fails takes the batch
 * queued behind it (built on its pages) with it. That is the `durabilityGroup` contract the
 * core relies on to issue an append's writes without waiting for each (core/commit-queue).
 * Reads never hold up commits: a read takes what memory has at once and fetches the rest on
 * a read-only transaction of its own. Only a mutation that needs the stored bytes of a page
 * memory lacks (a partial write, a truncate inside a page) waits for them, and operations
 * issued after it wait for it, so everything still applies in issue order.
 *
 * Safety. A database is opened by one writer at a time: the first file opened takes the
 * database's Web Lock (lock.ts) and a second opener gets STORAGE_LOCKED (`readOnly` opens
 * skip it and refuse every write). Every transaction checks that the database is still the
 * one that was loaded (connection.ts); if it was wiped, replaced or deleted by another
 * connection, nothing more is written, every operation fails with STORAGE_LOST and open
 * files emit 'lost'.
 *
 * The connection (and the lock) are held only while files opened through this database are
 * open: when the last one closes, pending writes are committed and both are released (an
 * open connection blocks `indexedDB.deleteDatabase` and version upgrades). Opening a file
 * again reopens them, re-reading sizes and pages. `close()` ends the database for good.
 */
import b4a from 'b4a'
import { promisifyRequest } from 'idb-keyval'
import { HypercoreError } from '../../errors.js'
import type { DurabilityGroup, FileProvider, StorageFactory } from '../types.js'
import { Batch, FileChanges, MAX_PAGE, META_KEY, PageCache, SIZE_PAGE, SIZES_KEY, pageSizeOf, type MetaRecord, type PageRecord, type PendingPage, type SizeRecord, type SizesRecord } from './batch.js'
import { IdbConnection, assertIndexedDB, databaseReplaced, deleteDatabase, isDatabaseReplaced, type TransactionHook } from './connection.js'
import { IdbFile } from './file.js'
import { lockName, tryLock, type HeldLock } from './lock.js'
import { JOURNAL_KEY, JOURNAL_RANGE_HI, JOURNAL_RANGE_LO, Journal, checkJournal, pageKey, pagesOf, type JournalRecord } from './journal.js'
import { ReadQueue } from './read-queue.js'
import { nextMacrotask } from './tick.js'

/**
 * 32 KiB: Chromium stores a value over 64 KiB as a Blob beside its database (slower to put and
 * to get: a 64 KiB page plus its record header crossed that line and cost twice as much), and
 * a reader fetching a block gets no more than it needs from a smaller page.
 */
export const DEFAULT_IDB_PAGE_SIZE = 32768
/**
 * Format 2: one record for every file's size (batch.ts). Format 3: the journal (journal.ts);
 * a format 2 database becomes format 3 with its first journaled commit. Format 1 databases
 * keep their layout (and commit as pages).
 */
const FORMAT_VERSION = 3
/**
 * New databases give these files 4 KiB pages: the bitfield is written in 4 KiB pages anyway,
 * and the header is a few hundred bytes; with large pages each write would re-store up to a
 * whole page. The oplog, blocks and tree nodes have the large pages: a small append to the
 * oplog is journaled (journal.ts), and a batch's oplog entry is then one or two page records.
 */
const SMALL_PAGE_FILES = ['bitfield', 'header']

export interface IdbStorageOptions {
  /**
   * Page size in bytes for a NEW database (an existing one keeps the sizes it was made with):
   * of the data and tree files; the oplog, bitfield and header files get 4 KiB pages (or this
   * size, if smaller).
   */
  pageSize?: number
  /** Committed pages kept in memory (default 64: 2 MiB of 32 KiB pages). */
  cachePages?: number
  /** Object store name (default 'pages'). */
  storeName?: string
  /** Test hook: called with every transaction before any request is made in it. */
  onTransaction?: TransactionHook
  /**
   * Open without the writer lock and refuse every write (STORAGE_READ_ONLY): a view of what
   * is stored, for a page that must not take the database from the tab that writes it.
   * Another tab writing meanwhile is not seen by this view.
   */
  readOnly?: boolean
}

/** The meta record: not read yet, to be written with the first commit (a new database), or stored. */
type Meta = { state: 'unknown' } | { state: 'new', record: MetaRecord } | { state: 'stored', record: MetaRecord }

/**
 * Stored pages an operation fetched. A commit that touches one of them while the fetch is
 * in progress (or before a mutation used it) marks it stale: the fetched copy is older than
 * what memory now holds, so it must neither be cached nor built on.
 */
interface Fetch {
  name: string
  /** Every page this fetch was asked for. */
  wanted: Set<number>
  pages: Map<number, Uint8Array | null>
  stale: Set<number>
}

/** A change to one file, applied to the pending batch in issue order. */
interface Mutation {
  name: string
  /** The file's size when it is not loaded (an unlink after close). */
  knownSize?: number
  /** Pages whose current bytes the change builds on, given the file's current size. */
  needs (size: number): number[]
  /** Applies the change; synchronous, and only after every needed page is at hand (all or nothing). */
  apply (f: FileChanges, size: number, page: (index: number) => Uint8Array | null): void
}

export class IdbStorage implements FileProvider, DurabilityGroup {
  readonly name: string
  readonly connection: IdbConnection
  readonly readOnly: boolean
  pageSize: number
  /** True once `close()` was called: every later operation fails with STORAGE_CLOSED. */
  closed = false

  private readonly _cache: PageCache
  /** Pages whose newest bytes are in journal records, not yet in their page records (journal.ts). */
  private readonly _journal = new Journal()
  /** Committed sizes of the files loaded so far. */
  private readonly _sizes = new Map<string, number>()
  private _meta: Meta = { state: 'unknown' }
  private _loadingMeta: Promise<void> | null = null
  private _pending: Batch | null = null
  private _inflight: Batch | null = null
  private _scheduled = false
  /** Mutations that wait for stored pages, in issue order (see "Ordering" above). */
  private _chain: Promise<void> = Promise.resolve()
  private _chained = 0
  /** Numbers the chained mutations in issue order. */
  private _chainSeq = 0
  /**
   * A commit came due while chained mutations issued before it were still waiting for pages:
   * it waits for those (up to this number), not for any issued later, so writes of one tick
   * stay in one transaction and a stream of later writes cannot hold a commit back.
   */
  private _holdUntil = 0
  /** Numbers every mutation in issue order. */
  private _issueSeq = 0
  /**
   * After a failure (a transaction, or a mutation whose page fetch failed): the mutations
   * issued up to this number that have not applied yet fail too, with `_failedWith`. They
   * were issued after the failed one and may depend on it (the durability-group contract: a
   * write fails if an earlier one failed); what is issued after the failure is known applies.
   */
  private _failedUpTo = 0
  private _failedWith: unknown = null
  private readonly _fetches = new Set<Fetch>()
  private readonly _reads: ReadQueue
  private _lost: HypercoreError | null = null
  private _lock: HeldLock | null = null
  private _locking: Promise<void> | null = null
  /** Our last release of the lock, until the lock manager has it back (lock.ts). */
  private _unlocking: Promise<void> = Promise.resolve()
  private _closing: Promise<void> | null = null
  /** Files opened through this database and not closed yet (see the top of this file). */
  private _openFiles = 0
  private readonly _files = new Set<IdbFile>()

  constructor (name: string, opts: IdbStorageOptions = {}) {
    if (typeof name !== 'string' || name === '') throw HypercoreError.BAD_ARGUMENT('database name must be a non-empty string')
    const pageSize = opts.pageSize ?? DEFAULT_IDB_PAGE_SIZE
    if (!Number.isSafeInteger(pageSize) || pageSize < 512) throw HypercoreError.BAD_ARGUMENT('pageSize must be an integer ≥ 512')
    assertIndexedDB()
    this.name = name
    this.pageSize = pageSize
    this.readOnly = opts.readOnly === true
    this._cache = new PageCache(opts.cachePages ?? 64)
    this.connection = new IdbConnection(name, opts.storeName ?? 'pages', META_KEY)
    this._reads = new ReadQueue(fn => this.connection.run('readonly', fn), { busy: () => this._pending !== null || this._inflight !== null })
    this.connection.onVersionChange = () => this._lose(databaseReplaced('IndexedDB: another connection deleted or upgraded the database'))
    if (opts.onTransaction !== undefined) this.connection.onTransaction = opts.onTransaction
  }

  file (name: string): IdbFile {
    if (typeof name !== 'string') throw HypercoreError.BAD_ARGUMENT('file name must be a string')
    return new IdbFile(this, name)
  }

  get factory (): StorageFactory {
    return name => this.file(name)
  }

  /** Which database this is (storage/types.ts `IdentifiedStorage`): opens of one name share one core. */
  get storageId (): string {
    return idbStorageId(this.name)
  }

  /** Why this database can no longer be used (STORAGE_LOST), or null. */
  get lost (): HypercoreError | null {
    return this._lost
  }

  /** Commits everything issued so far; resolves once it is durable (rejects with the typed fault). */
  async flush (): Promise<void> {
    const refused = this._refuse(false)
    if (refused !== null) throw refused
    await this._drain()
  }

  /**
   * The writes issued so far may start committing now (a caller issued a whole unit, such as
   * an append's data and oplog entry): saves waiting for the end of the tick. Writes issued
   * while it commits go into the next transaction as usual.
   */
  commitSoon (): void {
    if (this._pending !== null && this._lost === null) this._kick()
  }

  /** Commits what was issued, then closes the connection and releases the lock. Later operations fail with STORAGE_CLOSED. */
  close (): Promise<void> {
    if (this._closing === null) {
      this.closed = true
      this._closing = (async () => {
        try {
          if (this._lost === null) await this._drain(true)
        } finally {
          this._cache.clear()
          this._journal.reset()
          this._sizes.clear()
          await this.connection.close()
          await this._unlock()
        }
      })()
    }
    return this._closing
  }

  /** Closes and deletes the whole database. */
  async destroy (): Promise<void> {
    await this.close().catch(() => {})
    await deleteDatabase(this.name)
  }

  /** Files currently open (their connection is held while this is above zero). */
  get openFiles (): number {
    return this._openFiles
  }

  // --- for IdbFile ------------------------------------------------------------------------

  /** A file opens: counted at once, so a release racing with it keeps the connection. */
  _retain (file: IdbFile): void {
    this._openFiles++
    this._files.add(file)
  }

  /**
   * A file closed. The last one commits what is pending and releases the connection and the
   * lock, unless another file opened meanwhile.
   */
  async _release (file: IdbFile): Promise<void> {
    this._files.delete(file)
    if (--this._openFiles > 0 || this.closed) return
    await this._releaseIfIdle()
  }

  /** Takes the lock if needed, then reads what opening `name` needs (its size; the meta record once). */
  async _load (name: string): Promise<void> {
    const refused = this._refuse(false)
    if (refused !== null) throw refused
    await this._acquire()
    // close() may have been called while the lock was coming: open nothing more then.
    if (this.closed) throw HypercoreError.STORAGE_CLOSED('IndexedDB storage is closed')
    await this._ensureMeta()
    if (this._knownSize(name) !== undefined) return
    const meta = this._meta
    if (meta.state === 'unknown') throw HypercoreError.ASSERTION('IndexedDB meta not loaded')
    if (meta.state === 'new' || meta.record.version >= 2) {
      this._sizes.set(name, 0) // not in the sizes record: an empty file
      return
    }
    const size = await this.connection.run('readonly', store => request<SizeRecord | undefined>(store.get([name, SIZE_PAGE])))
    if (this._knownSize(name) === undefined) this._sizes.set(name, size?.size ?? 0)
  }

  private async _ensureMeta (): Promise<void> {
    if (this._meta.state !== 'unknown') return
    if (this._loadingMeta === null) this._loadingMeta = this._loadMeta().finally(() => { this._loadingMeta = null })
    await this._loadingMeta
  }

  /**
   * The meta record, every file's size (format 2), the journal (format 3) and the page records
   * the journal changes (only if there is one: the database was not closed after its last
   * journaled commit), all in one transaction, so a reader without the lock sees one moment.
   */
  private async _loadMeta (): Promise<void> {
    const { meta, sizes, journal, pages } = await this.connection.run('readonly', async store => {
      const [meta, sizes, records] = await Promise.all([
        request<MetaRecord | undefined>(store.get(META_KEY)),
        request<SizesRecord | undefined>(store.get(SIZES_KEY)),
        request<unknown[]>(store.getAll(IDBKeyRange.bound(JOURNAL_RANGE_LO, JOURNAL_RANGE_HI)))
      ])
      if (records.length > 0 && meta === undefined) throw HypercoreError.STORAGE_IO('IndexedDB: a journal without a meta record; it was not replayed')
      const journal = records.length > 0 ? checkJournal(records, name => pageSizeOf(meta!, name)) : []
      const wanted = journal.length > 0 ? pagesOf(journal) : []
      const stored = await Promise.all(wanted.map(([name, page]) => request<PageRecord | undefined>(store.get([name, page]))))
      const pages = new Map<string, Uint8Array | null>()
      wanted.forEach(([name, page], i) => pages.set(pageKey(name, page), stored[i]?.b ?? null))
      return { meta, sizes, journal, pages }
    })
    if (this._meta.state !== 'unknown') return
    if (meta !== undefined && (typeof meta.version !== 'number' || meta.version > FORMAT_VERSION)) {
      throw HypercoreError.STORAGE_NOT_SUPPORTED(`IndexedDB database "${this.name}" has storage format ${String(meta.version)}, newer than this version of the library reads (${FORMAT_VERSION})`)
    }
    if (meta === undefined) {
      const pageSizes: Record<string, number> = {}
      for (const f of SMALL_PAGE_FILES) pageSizes[f] = Math.min(4096, this.pageSize)
      this._meta = { state: 'new', record: { version: FORMAT_VERSION, pageSize: this.pageSize, pageSizes } }
    } else {
      this.pageSize = meta.pageSize
      this._meta = { state: 'stored', record: meta }
      if (meta.version >= 2) {
        for (const [file, size] of Object.entries(sizes?.sizes ?? {})) if (this._knownSize(file) === undefined) this._sizes.set(file, size)
        if (journal.length > 0) for (const [file, size] of this._journal.replay(journal, pages)) this._sizes.set(file, size)
      }
    }
    this._guard()
  }

  _size (name: string): Promise<number> {
    const refused = this._refuse(false)
    if (refused !== null) return Promise.reject(refused)
    if (this._chained > 0) return this._chain.then(() => { if (this._lost !== null) throw this._lost; return this._currentSize(name) })
    try {
      return Promise.resolve(this._currentSize(name))
    } catch (err) {
      return Promise.reject(err)
    }
  }

  _read (name: string, offset: number, size: number): Promise<Uint8Array> {
    const refused = this._refuse(false)
    if (refused !== null) return Promise.reject(refused)
    // Read-your-writes: a mutation issued earlier that still waits for pages applies first.
    if (this._chained > 0) return this._chain.then(() => this._readNow(name, offset, size))
    return this._readNow(name, offset, size)
  }

  _write (name: string, offset: number, data: Uint8Array): Promise<void> {
    if (data.byteLength === 0) return this._mutate({ name, needs: () => [], apply: () => {} }) // does not extend the file (as pwrite)
    const ps = this._ps(name)
    const end = offset + data.byteLength
    const first = Math.floor(offset / ps)
    const last = Math.floor((end - 1) / ps)
    // A page needs its old bytes unless the write covers everything stored in it.
    const partial = (page: number, size: number): boolean => {
      const start = page * ps
      const stored = Math.min(ps, Math.max(0, size - start))
      return stored > 0 && !(offset <= start && end >= start + stored)
    }
    return this._mutate({
      name,
      needs: size => [...new Set([first, last])].filter(p => partial(p, size)),
      apply: (f, size, page) => {
        for (let p = first; p <= last; p++) {
          const start = p * ps
          const from = Math.max(offset, start) - start
          const to = Math.min(end, start + ps) - start
          const pg = this._pendingPage(f, p, partial(p, size) ? page(p) : null, to, from)
          pg.buf.set(data.subarray(start + from - offset, start + to - offset), from)
          pg.lo = Math.min(pg.lo, from)
          pg.hi = Math.max(pg.hi, to)
        }
        f.size = Math.max(size, end)
        f.unlinked = false
      }
    })
  }

  _truncate (name: string, length: number): Promise<void> {
    return this._mutate({ name, needs: size => this._cutNeeds(name, size, length), apply: (f, size, page) => this._cut(f, size, length, page) })
  }

  _del (name: string, offset: number, length: number): Promise<void> {
    const ps = this._ps(name)
    const end = offset + length
    const firstFull = Math.ceil(offset / ps)
    const lastFull = Math.floor(end / ps) - 1
    const edges = [...new Set([Math.floor(offset / ps), Math.floor((Math.min(end, MAX_PAGE) - 1) / ps)])].filter(p => p < firstFull || p > lastFull)
    return this._mutate({
      name,
      needs: (size) => {
        if (offset >= size) return []
        if (end >= size) return this._cutNeeds(name, size, offset) // a range reaching the end truncates
        return edges.filter(p => p * ps < size)
      },
      apply: (f, size, page) => {
        if (offset >= size) return
        if (end >= size) return this._cut(f, size, offset, page)
        f.drop(firstFull, lastFull)
        // Zero the partial pages at the edges (if they hold anything).
        for (const p of edges) {
          if (p * ps >= size) continue
          const bytes = page(p)
          if (bytes === null) continue
          const start = p * ps
          const from = Math.max(offset, start) - start
          const to = Math.min(end - start, bytes.byteLength)
          if (to <= from) continue
          this._pendingPage(f, p, bytes, 0, 0).buf.fill(0, from, to)
        }
      }
    })
  }

  /**
   * True when file `name` holds bytes, found without opening it: opening a file (even to stat
   * it) records it, empty, in the sizes record of the next commit, which a look for a file that
   * is not there must not do (a store checks for cores a peer asks about this way).
   */
  async exists (name: string): Promise<boolean> {
    const refused = this._refuse(false)
    if (refused !== null) throw refused
    await this._acquire()
    try {
      if (this.closed) throw HypercoreError.STORAGE_CLOSED('IndexedDB storage is closed')
      await this._ensureMeta()
      const known = this._knownSize(name)
      if (known !== undefined) return known > 0
      const meta = this._meta
      if (meta.state !== 'stored' || meta.record.version >= 2) return false // format 2: every size is known
      const size = await this.connection.run('readonly', store => request<SizeRecord | undefined>(store.get([name, SIZE_PAGE])))
      return (size?.size ?? 0) > 0
    } finally {
      if (this._openFiles === 0 && !this.closed) await this._releaseIfIdle()
    }
  }

  async _unlink (name: string): Promise<void> {
    // A file is unlinked after it closed (random-access semantics), so the lock may have been
    // released: take it again, or this could delete what another tab now owns.
    const refused = this._refuse(true)
    if (refused !== null) throw refused
    await this._acquire()
    try {
      await this._ensureMeta()
      await this._mutate({
        name,
        knownSize: 0,
        needs: () => [],
        apply: (f) => {
          f.drop(0, MAX_PAGE)
          f.size = 0
          f.unlinked = true
        }
      })
    } finally {
      if (this._openFiles === 0 && !this.closed) await this._releaseIfIdle()
    }
  }

  // --- internals --------------------------------------------------------------------------

  /** The error an operation fails with now, or null (`write`: the operation changes bytes). */
  private _refuse (write: boolean): HypercoreError | null {
    if (this._lost !== null) return this._lost
    if (this.closed) return HypercoreError.STORAGE_CLOSED('IndexedDB storage is closed')
    if (write && this.readOnly) return HypercoreError.STORAGE_READ_ONLY(`IndexedDB database "${this.name}" was opened read-only`)
    return null
  }

  private async _acquire (): Promise<void> {
    if (this.readOnly || this._lock !== null) return
    if (this._locking === null) {
      // A release of ours still in flight would refuse us our own lock: wait for it first.
      this._locking = this._unlocking.then(() => tryLock(lockName(this.name))).then((lock) => {
        if (lock === null) throw HypercoreError.STORAGE_LOCKED(`IndexedDB database "${this.name}" is open in another tab, window or worker (one writer per core)`)
        if (this.closed || this._lost !== null) void lock.release()
        else this._lock = lock
      }).finally(() => { this._locking = null })
    }
    await this._locking
  }

  /** Gives the lock back; resolves once another opener can take it (lock.ts). */
  private async _unlock (): Promise<void> {
    const lock = this._lock
    this._lock = null
    if (lock !== null) this._unlocking = lock.release()
    await this._unlocking
  }

  /** From now on, every transaction checks the meta record is the one we know (connection.ts). */
  private _guard (): void {
    const known = this._meta
    if (known.state === 'unknown') this.connection.guard = null
    else if (known.state === 'new') this.connection.guard = meta => meta === undefined
    else this.connection.guard = meta => sameMeta(meta, known.record)
  }

  /** A replaced or deleted database: nothing more is written; open files are told. */
  private _lose (err: HypercoreError): void {
    if (this._lost !== null) return
    this._lost = err
    const pending = this._pending
    this._pending = null
    pending?.reject(err)
    this._cache.clear()
    this._journal.reset()
    this._sizes.clear()
    this.connection.close().catch(() => {})
    void this._unlock()
    for (const f of [...this._files]) f._storageLost(err)
  }

  /**
   * Everything issued so far applied and committed (or failed); with `checkpoint`, also every
   * journaled page stored as a page and the journal deleted (before the connection is let go:
   * the next opener then reads pages alone).
   */
  private async _drain (checkpoint = false): Promise<void> {
    await this._chain
    if (checkpoint && this._lost === null && !this.readOnly && !this._journal.empty) this._batch().checkpoint = true
    const waits: Array<Promise<void>> = []
    if (this._inflight !== null) waits.push(this._inflight.done)
    if (this._pending !== null) waits.push(this._pending.done)
    this._kick()
    await Promise.all(waits)
  }

  /** Commits what is pending, then drops the connection, the lock and what was read, if no file is open. */
  private async _releaseIfIdle (): Promise<void> {
    try {
      if (this._lost === null) await this._drain(true)
    } finally {
      if (this._openFiles === 0 && this._pending === null && this._inflight === null && this._chained === 0 && !this.closed) {
        await this.connection.close()
        this._cache.clear()
        this._journal.reset()
        this._sizes.clear()
        this._meta = { state: 'unknown' }
        this._guard()
        await this._unlock()
      }
    }
  }

  /** Applies `m` now if nothing issued earlier waits and its pages are at hand; else queues it behind the waiting ones. */
  private _mutate (m: Mutation): Promise<void> {
    const refused = this._refuse(true)
    if (refused !== null) return Promise.reject(refused)
    const issued = ++this._issueSeq
    if (this._chained === 0) {
      try {
        const batch = this._tryApply(m, null)
        if (batch instanceof Batch) return batch.done
      } catch (err) {
        return Promise.reject(err)
      }
    }
    this._chained++
    const seq = ++this._chainSeq
    const applied = this._chain.then(async () => {
      const fetch: Fetch = { name: m.name, wanted: new Set(), pages: new Map(), stale: new Set() }
      this._fetches.add(fetch)
      try {
        for (;;) {
          // Issued before close(): it still applies; only a lost database stops it.
          if (this._lost !== null) throw this._lost
          if (issued <= this._failedUpTo) throw this._failedWith
          const r = this._tryApply(m, fetch)
          if (r instanceof Batch) return r
          await this._fetch(fetch, r, false, true)
        }
      } catch (err) {
        this._failed(err)
        throw err
      } finally {
        this._fetches.delete(fetch)
        this._chained--
        if (seq === this._holdUntil) {
          this._holdUntil = 0
          this._kick()
        }
      }
    })
    this._chain = applied.then(() => {}, () => {})
    return applied.then(batch => batch.done)
  }

  /** Applies `m` to the pending batch (returned), or returns the pages it still needs. */
  private _tryApply (m: Mutation, fetched: Fetch | null): Batch | number[] {
    const size = m.knownSize ?? this._currentSize(m.name)
    const bytes = new Map<number, Uint8Array | null>()
    const missing: number[] = []
    for (const p of m.needs(size)) {
      let b = this._lookup(m.name, p)
      if (b === undefined && fetched !== null && !fetched.stale.has(p)) b = fetched.pages.get(p)
      if (b === undefined) missing.push(p)
      else bytes.set(p, b)
    }
    if (missing.length > 0) return missing
    const batch = this._batch()
    m.apply(batch.file(m.name, size, this._ps(m.name)), size, p => bytes.get(p) ?? null)
    return batch
  }

  /** Truncating to `length`: the page it ends in needs its bytes (to trim them). */
  private _cutNeeds (name: string, size: number, length: number): number[] {
    const ps = this._ps(name)
    return length < size && length % ps !== 0 ? [Math.ceil(length / ps) - 1] : []
  }

  /** Truncates to `length`: drops whole pages past it, trims the page it ends in. */
  private _cut (f: FileChanges, size: number, length: number, page: (index: number) => Uint8Array | null): void {
    if (length < size) {
      const ps = f.pageSize
      const keep = Math.ceil(length / ps)
      const tail = length % ps
      const bytes = tail !== 0 ? page(keep - 1) : null
      f.drop(keep, MAX_PAGE)
      if (bytes !== null && bytes.byteLength > tail) {
        const p = this._pendingPage(f, keep - 1, bytes, 0, 0)
        p.buf.fill(0, tail, p.len)
        p.len = tail
      }
    }
    f.size = length
    f.unlinked = false
  }

  /**
   * The pending page to change, holding at least `minLen` bytes, for a change starting at
   * byte `from` of the page. Committed and in-flight bytes are never modified: on first touch
   * the page is a copy of its current bytes, except when the change only appends to them and
   * their buffer has room past them. Then it shares that buffer and writes past the bytes
   * others see (`shared`): the newest bytes of a page are the only view that reaches that far,
   * so nothing else can see the region. Sequential appends thus copy a page only when its
   * buffer fills (capacities double up to the page size); a change inside the shared bytes
   * copies first.
   */
  private _pendingPage (f: FileChanges, page: number, base: Uint8Array | null, minLen: number, from: number): PendingPage {
    let p = f.pages.get(page)
    if (p === undefined) {
      const len = base?.byteLength ?? 0
      if (base !== null && len > 0 && from >= len && base.byteOffset === 0 && base.buffer.byteLength >= minLen) {
        p = { buf: new Uint8Array(base.buffer), len, lo: Number.MAX_SAFE_INTEGER, hi: 0, shared: len }
      } else {
        const buf = new Uint8Array(capacity(f.pageSize, len, minLen))
        if (base !== null) buf.set(base)
        p = { buf, len, lo: Number.MAX_SAFE_INTEGER, hi: 0, shared: 0 }
      }
      f.pages.set(page, p)
    } else if (minLen > p.buf.byteLength || from < p.shared) {
      const buf = new Uint8Array(capacity(f.pageSize, p.len, minLen))
      buf.set(p.buf.subarray(0, p.len))
      p.buf = buf
      p.shared = 0
    }
    p.len = Math.max(p.len, minLen)
    return p
  }

  /**
   * Page `page` of `name` from memory: the pending batch, then the in-flight one, then the
   * cache of committed pages; `null` for a page known to hold nothing (dropped, or past the
   * committed end and untouched since), `undefined` when only storage can tell.
   */
  private _lookup (name: string, page: number): Uint8Array | null | undefined {
    let bytes = this._pending?.files.get(name)?.lookup(page)
    if (bytes === undefined) bytes = this._inflight?.files.get(name)?.lookup(page)
    if (bytes === undefined) bytes = this._journal.lookup(name, page)
    if (bytes === undefined) bytes = this._cache.get(name, page)
    if (bytes === undefined) {
      const committed = this._sizes.get(name)
      if (committed !== undefined && page * this._ps(name) >= committed) return null
    }
    return bytes
  }

  /**
   * Reads `[offset, offset + size)` as it is now: what memory holds is copied at once (a
   * later write to a pending page must not show through), the rest comes from ONE getAll.
   */
  private _readNow (name: string, offset: number, size: number): Promise<Uint8Array> {
    try {
      if (this._lost !== null) throw this._lost
      if (offset + size > this._currentSize(name)) throw HypercoreError.STORAGE_OUT_OF_BOUNDS()
    } catch (err) {
      return Promise.reject(err)
    }
    const out = b4a.alloc(size)
    if (size === 0) return Promise.resolve(out)
    const ps = this._ps(name)
    const first = Math.floor(offset / ps)
    const last = Math.floor((offset + size - 1) / ps)
    const copy = (page: number, bytes: Uint8Array): void => {
      const start = page * ps
      const from = Math.max(offset, start)
      const to = Math.min(offset + size, start + bytes.byteLength)
      if (to > from) out.set(bytes.subarray(from - start, to - start), from - offset)
    }
    const missing: number[] = []
    for (let page = first; page <= last; page++) {
      const bytes = this._lookup(name, page)
      if (bytes === undefined) missing.push(page)
      else if (bytes !== null) copy(page, bytes)
    }
    if (missing.length === 0) return Promise.resolve(out)
    const fetch: Fetch = { name, wanted: new Set(), pages: new Map(), stale: new Set() }
    this._fetches.add(fetch)
    return this._fetch(fetch, missing, last - first < 4).then(() => {
      for (const page of missing) {
        const bytes = fetch.pages.get(page)
        if (bytes !== null && bytes !== undefined) copy(page, bytes)
      }
      return out
    }).finally(() => this._fetches.delete(fetch))
  }

  /** Fetches stored pages into `fetch` (ONE getAll over their span); caches the ones no commit touched meanwhile. */
  private async _fetch (fetch: Fetch, pages: number[], cache: boolean, urgent = false): Promise<void> {
    for (const p of pages) {
      fetch.wanted.add(p)
      fetch.stale.delete(p)
    }
    const lo = Math.min(...pages)
    const hi = Math.max(...pages)
    const records = await this._reads.get(fetch.name, lo, hi, urgent)
    const found = new Map<number, Uint8Array>()
    for (const r of records) found.set(r.i, r.b)
    for (const p of pages) {
      const bytes = found.get(p) ?? null
      // A page a commit touched meanwhile: what was read may be older than what memory now
      // holds, so it is not cached, and a mutation fetches it again (it builds on the newest
      // bytes). A read still takes it: committed bytes from after the read was issued.
      fetch.pages.set(p, bytes)
      if (cache && bytes !== null && this._lost === null && !fetch.stale.has(p)) this._cache.set(fetch.name, p, bytes)
    }
  }

  private _knownSize (name: string): number | undefined {
    return this._pending?.files.get(name)?.size ?? this._inflight?.files.get(name)?.size ?? this._sizes.get(name)
  }

  private _currentSize (name: string): number {
    const size = this._knownSize(name)
    if (size === undefined) throw HypercoreError.ASSERTION(`IndexedDB file ${name} used before it was loaded`)
    return size
  }

  private _batch (): Batch {
    if (this._pending === null) {
      const batch = this._pending = new Batch()
      if (!this._scheduled) {
        this._scheduled = true
        // The end-of-tick commit is for writers that do not say when a unit is issued
        // (commitSoon). A microtask first looks whether the batch is still waiting: cheaper than
        // a task each time, and the core's appends have usually been committed by then. A batch
        // made meanwhile goes when the one committing completes (`_committed`).
        queueMicrotask(() => {
          if (this._pending !== batch) {
            this._scheduled = false
            return
          }
          nextMacrotask(() => { this._scheduled = false; this._kick() })
        })
      }
    }
    return this._pending
  }

  /** Starts committing the pending batch unless a transaction is already in flight. */
  private _kick (): void {
    if (this._holdUntil !== 0) return
    if (this._chained > 0) {
      this._holdUntil = this._chainSeq
      return
    }
    if (this._inflight !== null || this._pending === null || this._lost !== null) return
    const batch = this._pending
    this._pending = null
    this._inflight = batch
    batch.frozen = true
    const journal = this._journalRecord(batch)
    const meta = this._metaToWrite(journal !== null)
    let committing: Promise<void>
    if (journal !== null) {
      committing = this.connection.run('readwrite', store => {
        if (meta !== null) store.put(meta, META_KEY)
        store.put(journal, [JOURNAL_KEY, journal.q])
      })
    } else {
      const sizes = this._sizesToWrite(batch)
      const journaled = this._journal.empty ? null : this._journal.pagesToStore(batch)
      committing = this.connection.run('readwrite', store => batch.apply(store, meta, sizes, journaled))
    }
    committing.then(() => {
      this._committed(batch, meta, journal)
    }, (err: unknown) => {
      this._inflight = null
      // Whatever is pending was built on the failed batch's pages and sizes: it fails too, and
      // so does whatever was issued meanwhile and waits to apply.
      const dependent = this._pending
      this._pending = null
      this._failed(err)
      batch.reject(err)
      dependent?.reject(err)
      if (isDatabaseReplaced(err)) this._lose(err as HypercoreError)
      this._reads.committed() // (or failed: either way reads need not wait for it)
    })
  }

  /** Mutations issued so far and not applied yet fail with `err` (see `_failedUpTo`). */
  private _failed (err: unknown): void {
    if (this._issueSeq > this._failedUpTo) {
      this._failedUpTo = this._issueSeq
      this._failedWith = err
    }
  }

  /** The journal record `batch` commits as, or null if it commits as pages (a checkpoint; journal.ts). */
  private _journalRecord (batch: Batch): JournalRecord | null {
    const m = this._meta
    if (m.state === 'unknown' || m.record.version < 2 || !this._journal.fits(batch)) return null
    return this._journal.record(batch)
  }

  private _committed (batch: Batch, meta: MetaRecord | null, journal: JournalRecord | null): void {
    if (meta !== null) {
      this._meta = { state: 'stored', record: meta }
      this._guard()
    }
    if (journal !== null) this._journaledCommitted(batch, journal)
    else this._pagesCommitted(batch)
    this._inflight = null
    batch.resolve()
    if (this._pending !== null) this._kick() // group commit: what came in meanwhile goes now
    this._reads.committed()
  }

  /** A batch stored as a journal record: its pages are journaled now (their newest bytes live there, not in the cache). */
  private _journaledCommitted (batch: Batch, journal: JournalRecord): void {
    this._journal.committed(journal, batch, (f, page) => { const p = f.pages.get(page)!; return p.buf.subarray(0, p.len) })
    for (const [name, f] of batch.files) {
      for (const page of f.pages.keys()) {
        this._cache.delete(name, page)
        this._markStale(name, page, page)
      }
      this._sizes.set(name, f.size)
    }
  }

  /** A batch stored as pages (with a checkpoint of the journal, if it held any). */
  private _pagesCommitted (batch: Batch): void {
    if (!this._journal.empty) this._journal.checkpointed((name, page, bytes) => this._cache.set(name, page, bytes))
    for (const [name, f] of batch.files) {
      for (const [lo, hi] of f.drops) {
        this._cache.drop(name, lo, hi)
        this._markStale(name, lo, hi)
      }
      for (const [page, pg] of f.pages) {
        this._cache.set(name, page, pg.buf.subarray(0, pg.len))
        this._markStale(name, page, page)
      }
      if (f.unlinked) this._sizes.delete(name)
      else this._sizes.set(name, f.size)
    }
  }

  private _markStale (name: string, lo: number, hi: number): void {
    for (const f of this._fetches) {
      if (f.name !== name) continue
      for (const p of f.wanted) if (p >= lo && p <= hi) f.stale.add(p)
    }
  }

  /**
   * The meta record to write with the next commit: a new database's, an older one's given an
   * id, or (`journaled`: the commit writes a journal record) a format 2 one's marked format 3.
   */
  private _metaToWrite (journaled: boolean): MetaRecord | null {
    const m = this._meta
    if (m.state === 'unknown') throw HypercoreError.ASSERTION('IndexedDB meta not loaded')
    const version = journaled ? Math.max(m.record.version, FORMAT_VERSION) : m.record.version
    if (m.state === 'stored' && m.record.id !== undefined && version === m.record.version) return null
    return { ...m.record, version, id: m.record.id ?? newId() }
  }

  /** Format 2: every file's size after `batch` (null for format 1: one record per file). */
  private _sizesToWrite (batch: Batch): Record<string, number> | null {
    const m = this._meta
    if (m.state === 'unknown' || m.record.version < 2) return null
    const sizes: Record<string, number> = {}
    for (const [name, size] of this._sizes) sizes[name] = size
    for (const [name, f] of batch.files) {
      if (f.unlinked) delete sizes[name]
      else sizes[name] = f.size
    }
    return sizes
  }

  /** The page size of file `name` (the meta record says; the file was loaded, so it is known). */
  private _ps (name: string): number {
    const m = this._meta
    return m.state === 'unknown' ? this.pageSize : pageSizeOf(m.record, name)
  }
}

/** A page buffer for `minLen` bytes that grows by doubling from `len`, up to the page size (at least 4 KiB, or what is needed). */
function capacity (pageSize: number, len: number, minLen: number): number {
  return Math.max(minLen, Math.min(pageSize, Math.max(2 * len, 4096)))
}

export function idbStorageId (name: string): string {
  return 'idb:' + name
}

function sameMeta (meta: unknown, known: MetaRecord): boolean {
  if (typeof meta !== 'object' || meta === null) return false
  const m = meta as Partial<MetaRecord>
  return m.id === known.id && m.pageSize === known.pageSize && m.version === known.version
}

function newId (): string {
  const bytes = new Uint8Array(16)
  globalThis.crypto.getRandomValues(bytes)
  return b4a.toString(bytes, 'hex')
}

function request<T> (req: IDBRequest): Promise<T> {
  return promisifyRequest(req as IDBRequest<T>)
}
