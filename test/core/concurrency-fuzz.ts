/**
 * @module test/core/concurrency-fuzz
 * A concurrency fuzzer for the core's commit pipeline: several sessions, snapshots and joined
 * instances on one core issue random operations that overlap (a random mix of awaited and
 * unawaited calls, several in flight), storage faults are injected, and the core is closed and
 * reopened between phases. Everything observed is checked against a model.
 *
 * The model is a fold, in issue order, of the mutations whose promise RESOLVED (the core's lock
 * takes mutations in the order they were issued, on sessions already open, which is all the
 * fuzzer mutates through). A rejected mutation changes nothing. A read is checked once every
 * mutation issued before it settled: it ran against some state between S(L) (L: the last
 * mutation that had resolved when the read was issued) and S(U) (U: the last mutation issued
 * when it settled), so its answer must be the answer of one of those states: a block is the
 * block that state holds at that index (content is a function of fork and index: the fuzzer
 * gives every truncation a fork never used before), null only where that state has none; a
 * length, fork, byte length or tree hash is one of those states'. A snapshot is one of the
 * states of its opening window and then reads exactly its own fork's blocks (or
 * SNAPSHOT_NOT_AVAILABLE once a truncation went below the block). A resolved append must say
 * the length and byte length the fold expects, and appends resolve in issue order. After a
 * close (quiet or with operations in flight), or on IndexedDB a crash at a quiet point (the
 * database reopened as the disk held it, without the close: test/helpers/idb-crash.ts), the
 * reopened core must be exactly the fold: length,
 * fork, byte length, contiguous length, tree hash (recomputed from the model's blocks), a valid
 * signature, every block not cleared equal and every cleared one absent. Every rejection must be
 * a HypercoreError with a known code that the situation allows (storage codes only after a fault
 * was injected, SESSION_CLOSED (or REQUEST_CANCELLED) only on a closing session, BAD_ARGUMENT only where the fold says
 * the argument is bad). No operation may hang: every wait is bounded by a count of event-loop
 * turns without progress (plus a generous wall-clock watchdog as a last resort), and a read
 * stream still waiting at the end of a phase must be waiting for a block that is really absent.
 *
 * Faults: on IndexedDB, readwrite transactions are aborted through IdbStorage's `onTransaction`
 * hook (an explicit abort, a QuotaExceededError, a lost connection that the adapter retries once,
 * and a lost connection on the retry too, after which the core must close every session); on
 * memory and file storage, a wrapper fails some writes, deletes, truncates and reads with a plain
 * EIO error, as random-access-file would. Reopening runs without faults.
 *
 * Deterministic from a seed on memory and IndexedDB storage (fake-indexeddb schedules on the
 * event loop like everything else); on files the I/O timing may change the interleaving, so
 * the printed op log is the reproduction there.
 *
 * CLI: node --import tsx test/core/concurrency-fuzz.ts --minutes 5 [--seed N] [--storage idb|memory|file]
 *      [--phases N] [--ops MIN,MAX] [--tolerate truncate-race,snapshot-race] [--keep-going]
 *      --seed N without --minutes replays that one seed (--verbose prints the op log as it runs).
 */
import 'fake-indexeddb/auto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import Hypercore from '../../src/index.js'
import { ERROR_CODES, HypercoreError, type ErrorCode } from '../../src/errors.js'
import { cryptoReady } from '../../src/crypto/sodium.js'
import { keyPair as makeKeyPair } from '../../src/crypto/sign.js'
import type { KeyPair } from '../../src/crypto/types.js'
import { leafHash, parentHash, treeHash as rootsHash, type TreeNode } from '../../src/crypto/hash.js'
import { BlockEncryption } from '../../src/crypto/block-encryption.js'
import { fullRoots } from '../../src/tree/flat.js'
import type { Core } from '../../src/core/core.js'
import { IdbStorage, type IdbStorageOptions } from '../../src/storage/indexeddb/database.js'
import { MemoryDirectory } from '../../src/storage/memory.js'
import { fileStorage, fileStorageId } from '../../src/storage/file.node.js'
import type { Callback, RandomAccessStorage, StorageInput, StorageStat } from '../../src/storage/types.js'
import { abortSoon, abortWith } from '../helpers/idb-fault.js'
import { copyDatabase } from '../helpers/idb-crash.js'

export type StorageKind = 'idb' | 'memory' | 'file'

export interface FuzzOptions {
  seed: number
  storage: StorageKind
  /** Close-and-reopen cycles (default 6). */
  phases?: number
  /** Operations issued per phase, [min, max] (default [20, 100]). */
  opsPerPhase?: [number, number]
  /** Inject storage faults (default true). */
  faults?: boolean
  /** Called with each op-log line as it is written (live tracing). */
  trace?: (line: string) => void
  /**
   * Known bugs to accept (and count) so a long run can look past them; none by default.
   * 'truncate-race': a get or read stream whose block a concurrent truncation removed rejects
   * with BAD_ARGUMENT ("out of range") or BLOCK_NOT_AVAILABLE instead of answering null (or
   * waiting).
   * 'snapshot-race': a snapshot opened (or updated) while a truncation applies gets the length
   * from before it and the fork from after it, or its open rejects with BLOCK_NOT_AVAILABLE.
   */
  tolerate?: KnownBug[]
}

export type KnownBug = 'truncate-race' | 'snapshot-race'

export interface FuzzStats {
  seed: number
  storage: StorageKind
  ops: number
  mutations: number
  mutationsOk: number
  checks: number
  phases: number
  faults: { write: number, read: number, lost: number, fatalLost: number }
  byKind: Record<string, number>
  /** Occurrences of the tolerated known bugs. */
  tolerated: Record<string, number>
}

/** A check failed: `report` holds the seed, the configuration and the op log. */
export class FuzzFailure extends Error {
  readonly seed: number
  readonly storage: StorageKind
  readonly report: string
  constructor (seed: number, storage: StorageKind, summary: string, report: string) {
    super(`concurrency fuzz [${storage}] seed ${seed}: ${summary}`)
    this.name = 'FuzzFailure'
    this.seed = seed
    this.storage = storage
    this.report = report
  }
}

// --- a small PRNG (sfc32 seeded through splitmix32) ------------------------------------------

export class Rng {
  private a: number
  private b: number
  private c: number
  private d: number

  constructor (seed: number) {
    let s = seed >>> 0
    const next = (): number => {
      s = (s + 0x9e3779b9) >>> 0
      let z = s
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b)
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35)
      return (z ^ (z >>> 16)) >>> 0
    }
    this.a = next(); this.b = next(); this.c = next(); this.d = next()
  }

  u32 (): number {
    const t = (this.a + this.b + this.d) >>> 0
    this.d = (this.d + 1) >>> 0
    this.a = this.b ^ (this.b >>> 9)
    this.b = (this.c + (this.c << 3)) >>> 0
    this.c = ((this.c << 21) | (this.c >>> 11)) >>> 0
    this.c = (this.c + t) >>> 0
    return t
  }

  float (): number { return this.u32() / 4294967296 }
  /** An integer in [lo, hi]. */
  int (lo: number, hi: number): number { return hi <= lo ? lo : lo + Math.floor(this.float() * (hi - lo + 1)) }
  chance (p: number): boolean { return this.float() < p }
  pick<T> (items: readonly T[]): T { return items[this.int(0, items.length - 1)] }
}

// --- blocks ----------------------------------------------------------------------------------

interface Block {
  id: string
  bytes: Uint8Array
  key: string
}

function fnv32 (bytes: Uint8Array): number {
  let h = 0x811c9dc5
  for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i], 0x01000193) >>> 0
  return h
}

const utf8 = new TextEncoder()
const keyOf = (b: Uint8Array): string => `${b.byteLength}:${fnv32(b).toString(16)}`

/** A block whose bytes derive from its id; blocks of 24 bytes or more start with the id (readable in reports). */
function makeBlock (id: string, size: number): Block {
  const bytes = new Uint8Array(size)
  let x = fnv32(utf8.encode(id)) || 1
  for (let i = 0; i < size; i++) {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0
    bytes[i] = x & 0xff
  }
  if (size >= 24) bytes.set(utf8.encode((id + ';').slice(0, 24)))
  return { id, bytes, key: keyOf(bytes) }
}

function showBytes (b: Uint8Array | null | undefined): string {
  if (b == null) return 'null'
  const head = new TextDecoder().decode(b.subarray(0, Math.min(24, b.byteLength))).split(';')[0].replace(/[^\x20-\x7e]/g, '.')
  return `<${keyOf(b)} "${head}">`
}

// --- fault injection -------------------------------------------------------------------------

class Faults {
  readonly rng: Rng
  enabled = false
  /** Probability that a mutating storage call / readwrite transaction fails. */
  write = 0
  /** …that a read / readonly transaction fails. */
  read = 0
  /** IndexedDB: lost connections may be injected (the adapter retries once). */
  lost = false
  injected = { write: 0, read: 0, lost: 0, fatalLost: 0 }
  /** Storage work started or finished (hang detection counts turns without it). */
  activity = 0
  /** Storage calls in flight on memory/file (their turns are not idle). */
  inflight = 0
  onFatal: (() => void) | null = null
  note: ((line: string) => void) | null = null
  private _retry = false

  constructor (seed: number) {
    this.rng = new Rng(seed ^ 0x5bd1e995)
  }

  wantWrite (): boolean { return this.enabled && this.write > 0 && this.rng.chance(this.write) }
  wantRead (): boolean { return this.enabled && this.read > 0 && this.rng.chance(this.read) }

  /** IdbStorage's `onTransaction` test hook. */
  onIdbTransaction (tx: IDBTransaction, mode: IDBTransactionMode): void {
    this.activity++
    tx.addEventListener('complete', () => { this.activity++ })
    tx.addEventListener('abort', () => { this.activity++ })
    if (mode !== 'readwrite') {
      if (this.wantRead()) {
        this.injected.read++
        this.note?.('fault: readonly transaction aborted')
        queueMicrotask(() => { try { tx.abort() } catch {} })
      }
      return
    }
    if (this._retry) {
      // The adapter's one retry after a lost connection: lose it again half the time (fatal).
      this._retry = false
      if (this.enabled && this.rng.chance(0.5)) {
        this.injected.fatalLost++
        this.note?.('fault: retry after the lost connection lost too (fatal: STORAGE_LOST)')
        this.onFatal?.()
        abortSoon(tx, lostError())
      }
      return
    }
    if (!this.wantWrite()) return
    const k = this.rng.int(0, 9)
    if (k < 4) {
      this.injected.write++
      this.note?.('fault: readwrite transaction aborted (microtask)')
      abortSoon(tx)
    } else if (k < 5) {
      this.injected.write++
      this.note?.('fault: readwrite transaction aborted (at once)')
      try { tx.abort() } catch {}
    } else if (k < 8 || !this.lost) {
      this.injected.write++
      this.note?.('fault: readwrite transaction aborted with QuotaExceededError')
      abortSoon(tx, new DOMException('The quota has been exceeded.', 'QuotaExceededError'))
    } else {
      this.injected.lost++
      this._retry = true
      this.note?.('fault: readwrite transaction lost its connection (retried once)')
      abortSoon(tx, lostError())
    }
  }
}


function lostError (): DOMException {
  return new DOMException('Connection to Indexed Database server lost. Refresh the page to try again', 'UnknownError')
}

function ioError (op: string): Error {
  return Object.assign(new Error(`EIO: injected ${op} fault (concurrency fuzz)`), { code: 'EIO' })
}

/** A random-access file that fails some calls with a plain EIO error and changes nothing (see fault-storage.ts). */
class FaultyFile implements RandomAccessStorage {
  private readonly _inner: RandomAccessStorage
  private readonly _faults: Faults

  constructor (inner: RandomAccessStorage, faults: Faults) {
    this._inner = inner
    this._faults = faults
  }

  get readable (): boolean { return this._inner.readable }
  get writable (): boolean { return this._inner.writable }
  get deletable (): boolean { return this._inner.deletable }
  get truncatable (): boolean { return this._inner.truncatable }
  get statable (): boolean { return this._inner.statable }
  get opened (): boolean | undefined { return this._inner.opened }
  get closed (): boolean | undefined { return this._inner.closed }
  get unlinked (): boolean | undefined { return this._inner.unlinked }

  open (cb?: Callback): void { this._run(done => this._inner.open(done), cb) }
  read (offset: number, size: number, cb: Callback<Uint8Array>): void {
    if (this._faults.wantRead()) return this._fail('read', cb)
    this._run(done => this._inner.read(offset, size, done), cb)
  }

  write (offset: number, data: Uint8Array, cb?: Callback): void {
    if (this._faults.wantWrite()) return this._fail('write', cb)
    this._run(done => this._inner.write(offset, data, done), cb)
  }

  del (offset: number, size: number, cb?: Callback): void {
    if (this._faults.wantWrite()) return this._fail('del', cb)
    this._run(done => this._inner.del(offset, size, done), cb)
  }

  truncate (offset: number, cb?: Callback): void {
    if (this._faults.wantWrite()) return this._fail('truncate', cb)
    this._run(done => this._inner.truncate(offset, done), cb)
  }

  stat (cb: Callback<StorageStat>): void { this._run(done => this._inner.stat(done), cb) }
  close (cb?: Callback): void { this._run(done => this._inner.close(done), cb) }
  unlink (cb?: Callback): void { this._run(done => this._inner.unlink(done), cb) }
  on (event: string, listener: (...args: unknown[]) => void): unknown { return this._inner.on?.(event, listener) }

  private _fail<T> (op: string, cb: Callback<T> | undefined): void {
    if (op === 'read') this._faults.injected.read++
    else this._faults.injected.write++
    this._faults.note?.(`fault: ${op} failed (EIO)`)
    queueMicrotask(() => cb?.(ioError(op)))
  }

  private _run<T> (call: (done: Callback<T>) => void, cb: Callback<T> | undefined): void {
    const f = this._faults
    f.inflight++
    f.activity++
    call((err, value) => {
      f.inflight--
      f.activity++
      cb?.(err, value)
    })
  }
}

// --- where the core is stored ------------------------------------------------------------------

interface Place {
  kind: StorageKind
  describe: string
  /** What the root core is opened on (a reopen may get a new object naming the same place). */
  open (rng: Rng): StorageInput
  /** IndexedDB: the page dies now; later opens see a copy of the database as it is at this moment. */
  crash?: () => Promise<void>
  /** What a joining `new Hypercore(…)` is given. */
  join (rng: Rng): StorageInput
  cleanup (): Promise<void>
}

let placeSeq = 0

function makePlace (kind: StorageKind, seed: number, rng: Rng, faults: Faults): Place {
  const tag = `${process.pid}-${seed}-${placeSeq++}`
  if (kind === 'idb') {
    const name = `hcw-concurrency-fuzz-${tag}`
    const opts: IdbStorageOptions = {
      pageSize: rng.pick([512, 4096, 65536]),
      cachePages: rng.pick([1, 4, 32]),
      onTransaction: (tx, mode) => faults.onIdbTransaction(tx, mode)
    }
    let db = new IdbStorage(name, opts)
    let current = name
    const names = [name]
    return {
      kind,
      describe: `IndexedDB "${name}" pageSize ${opts.pageSize} cachePages ${opts.cachePages}`,
      open: r => r.chance(0.5) ? db : (db = new IdbStorage(current, opts)),
      join: r => r.chance(0.5) ? db : new IdbStorage(current, opts),
      crash: async () => {
        const next = `${name}-crash${names.length}`
        await copyDatabase(current, next)
        names.push(next)
        current = next
        db = new IdbStorage(current, opts)
      },
      cleanup: async () => { for (const n of names) await new IdbStorage(n).destroy() }
    }
  }
  if (kind === 'memory') {
    const pageSize = rng.pick([512, 4096, 65536])
    const dir = new MemoryDirectory({ pageSize })
    const factory = Object.assign((name: string): RandomAccessStorage => new FaultyFile(dir.file(name), faults), { storageId: `concurrency-fuzz-memory:${tag}` })
    return { kind, describe: `MemoryDirectory pageSize ${pageSize} (fault wrapper)`, open: () => factory, join: () => factory, cleanup: async () => {} }
  }
  const dir = mkdtempSync(join(tmpdir(), 'hcw-concurrency-fuzz-'))
  const inner = fileStorage(dir)
  const factory = Object.assign((name: string): RandomAccessStorage => new FaultyFile(inner(name), faults), { storageId: fileStorageId(dir) })
  return {
    kind,
    describe: `directory ${dir} (fault wrapper)`,
    open: () => factory,
    // A plain path names the same place (same storageId), so it must join too.
    join: r => r.chance(0.5) ? dir : factory,
    cleanup: async () => rmSync(dir, { recursive: true, force: true })
  }
}

// --- the model ---------------------------------------------------------------------------------

/** One block of a fork's lineage: the block and the fork it was appended on (block encryption uses it). */
interface Entry {
  block: Block
  fork: number
  stored?: Uint8Array
  leaf?: Uint8Array
}

interface StateRec { seq: number, length: number, fork: number, byteLength: number }
interface Version { seq: number, block: Block | null }

class Model {
  length = 0
  fork = 0
  /** User bytes (padding excluded), as `session.byteLength`. */
  byteLength = 0
  present: boolean[] = []
  /** Each fork's blocks by index (a truncation copies the kept prefix to the new fork). */
  forks = new Map<number, Entry[]>([[0, []]])
  /** The state after each resolved mutation of this phase (seq 0: the phase's start). */
  history: StateRec[] = []
  /** Per index, what it held after each change this phase (null: absent). */
  versions: Version[][] = []
  private readonly _hashes = new Map<string, Uint8Array>()
  readonly encryption: BlockEncryption | null

  constructor (encryption: BlockEncryption | null) {
    this.encryption = encryption
    this.resetPhase()
  }

  get padding (): number { return this.encryption === null ? 0 : this.encryption.padding }
  get lineage (): Entry[] { return this.forks.get(this.fork)! }

  resetPhase (): void {
    for (const f of [...this.forks.keys()]) if (f !== this.fork) this.forks.delete(f)
    this._hashes.clear()
    this.history = [{ seq: 0, length: this.length, fork: this.fork, byteLength: this.byteLength }]
    this.versions = []
    const blocks = this.lineage
    for (let i = 0; i < this.length; i++) this.versions.push([{ seq: 0, block: this.present[i] ? blocks[i].block : null }])
  }

  contiguous (): number {
    for (let i = 0; i < this.length; i++) if (!this.present[i]) return i
    return this.length
  }

  append (seq: number, blocks: Block[]): void {
    const lineage = this.lineage
    for (const b of blocks) {
      const i = this.length++
      lineage[i] = { block: b, fork: this.fork }
      this.present[i] = true
      this.byteLength += b.bytes.byteLength
      ;(this.versions[i] ??= []).push({ seq, block: b })
    }
    this._record(seq)
  }

  truncate (seq: number, length: number, fork: number): void {
    this.forks.set(fork, this.lineage.slice(0, length))
    for (let i = length; i < this.length; i++) (this.versions[i] ??= []).push({ seq, block: null })
    this.present.length = length
    this.length = length
    this.fork = fork
    this.byteLength = this.bytesOf(fork, length)
    this._record(seq)
  }

  clear (seq: number, start: number, end: number): void {
    for (let i = start; i < Math.min(end, this.length); i++) {
      if (!this.present[i]) continue
      this.present[i] = false
      this.versions[i].push({ seq, block: null })
    }
    this._record(seq)
  }

  private _record (seq: number): void {
    this.history.push({ seq, length: this.length, fork: this.fork, byteLength: this.byteLength })
  }

  /** The states the core may have been in between S(L) and S(U). */
  statesIn (L: number, U: number): StateRec[] {
    let base = this.history[0]
    const out: StateRec[] = []
    for (const h of this.history) {
      if (h.seq <= L) base = h
      else if (h.seq <= U) out.push(h)
    }
    return [base, ...out]
  }

  /** What index `i` held in those states (null: absent or past the end). */
  versionsIn (i: number, L: number, U: number): Array<Block | null> {
    let base: Block | null = null
    const out: Array<Block | null> = []
    for (const v of this.versions[i] ?? []) {
      if (v.seq <= L) base = v.block
      else if (v.seq <= U) out.push(v.block)
    }
    return [base, ...out]
  }

  versionAt (i: number, seq: number): Block | null {
    let b: Block | null = null
    for (const v of this.versions[i] ?? []) if (v.seq <= seq) b = v.block
    return b
  }

  blockOf (fork: number, i: number): Block | null {
    return this.forks.get(fork)?.[i]?.block ?? null
  }

  bytesOf (fork: number, length: number): number {
    const lineage = this.forks.get(fork)!
    let n = 0
    for (let i = 0; i < length; i++) n += lineage[i].block.bytes.byteLength
    return n
  }

  /** The tree hash of `fork` at `length`, from the model's blocks (§2.1: leaves, parents, roots). */
  treeHash (fork: number, length: number): Uint8Array {
    const k = `${fork}:${length}`
    const cached = this._hashes.get(k)
    if (cached !== undefined) return cached
    const lineage = this.forks.get(fork)
    if (lineage === undefined || lineage.length < length) throw new Error(`model: no blocks for fork ${fork} length ${length}`)
    const node = (index: number): TreeNode => {
      if (index % 2 === 0) {
        const e = lineage[index / 2]
        e.stored ??= this.encryption === null ? e.block.bytes : this.encryption.encrypt(index / 2, e.block.bytes, e.fork)
        e.leaf ??= leafHash(e.stored)
        return { index, size: e.stored.byteLength, hash: e.leaf }
      }
      let depth = 0
      while (Math.floor(index / 2 ** depth) % 2 === 1) depth++
      const half = 2 ** (depth - 1)
      const l = node(index - half)
      const r = node(index + half)
      return { index, size: l.size + r.size, hash: parentHash(l, r) }
    }
    const hash = rootsHash(fullRoots(length).map(node))
    this._hashes.set(k, hash)
    return hash
  }
}

// --- the harness -----------------------------------------------------------------------------

type SessionKind = 'root' | 'session' | 'snapshot' | 'join'

interface SnapInfo {
  length: number
  /** The fork whose blocks the view holds. */
  fork: number
  byteLength: number
  L: number
  /** What the session says its fork is, when that differs (the tolerated 'snapshot-race'). */
  shownFork?: number
}

interface Sess {
  id: number
  kind: SessionKind
  h: Hypercore
  opened: boolean
  /** close() was called (by us, or the core closed it). */
  closing: boolean
  /** A snapshot's view once open; `L`: the resolved mutation it is at least as new as. */
  snap: SnapInfo | null
  inflight: number
  updating: boolean
  /** Why it failed to open (its reads reject with that). */
  openError: unknown
}

interface Mut {
  seq: number
  op: number
  kind: 'append' | 'truncate' | 'clear'
  sess: Sess
  blocks: Block[]
  length: number
  fork: number
  start: number
  end: number
  status: 'pending' | 'ok' | 'err'
  value: unknown
  error: unknown
  ctx: Ctx | null
}

/** What was going on when an operation settled (which rejections are allowed). */
interface Ctx { closing: boolean, writeFaults: number, readFaults: number, fatal: boolean }

type Outcome<T> = { ok: true, value: T } | { ok: false, error: unknown }

interface StreamRec {
  op: number
  sess: Sess
  start: number
  end: number
  next: number
  L: number
  finished: boolean
  closed: boolean
  stream: ReturnType<Hypercore['createReadStream']>
}

const STORAGE_CODES: ErrorCode[] = ['STORAGE_ABORTED', 'STORAGE_QUOTA', 'STORAGE_LOST', 'STORAGE_IO']
/** Event-loop turns without any progress (no operation settled, no storage work) before a wait counts as hung. */
const MAX_IDLE_TURNS = 20000
/** Last resort only: a wait that made no progress for this long is reported as hung. */
const WATCHDOG_MS = 120_000

const turn = (): Promise<void> => new Promise(resolve => setImmediate(resolve))

class Hang extends Error {}

export class Fuzz {
  readonly opts: FuzzOptions
  readonly rng: Rng
  readonly faults: Faults
  readonly place: Place
  readonly keyPair: KeyPair
  readonly encryptionKey: Uint8Array | undefined
  readonly model: Model
  readonly cfg: { maxInflight: number, maxLength: number, encrypted: boolean, appendHeavy: boolean }
  readonly stats: FuzzStats

  sessions: Sess[] = []
  core: Core | null = null
  muts: Mut[] = []
  cursor = 0
  resolvedMax = 0
  deferred: Array<{ U: number, run: () => void }> = []
  streams: StreamRec[] = []
  inflight = new Set<Promise<void>>()
  log: string[] = []
  failures: string[] = []
  activity = 0
  phase = 0
  closingAll = false
  fatal = false
  nextFork = 1
  opt = 0
  /** The operation just issued must be awaited before anything else happens. */
  awaitStep = false
  private _sessSeq = 0
  private _phaseStart = 0

  constructor (opts: FuzzOptions) {
    this.opts = opts
    this.rng = new Rng(opts.seed)
    this.faults = new Faults(opts.seed)
    this.faults.note = line => this.note(line)
    this.faults.onFatal = () => { this.fatal = true }
    this.place = makePlace(opts.storage, opts.seed, this.rng, this.faults)
    const seedBytes = new Uint8Array(32)
    new DataView(seedBytes.buffer).setUint32(0, opts.seed >>> 0)
    this.keyPair = makeKeyPair(seedBytes)
    const encrypted = this.rng.chance(0.25)
    this.encryptionKey = encrypted ? new Uint8Array(32).fill(7) : undefined
    this.model = new Model(encrypted ? new BlockEncryption(this.encryptionKey!, this.keyPair.publicKey, { compat: true }) : null)
    this.cfg = { maxInflight: this.rng.int(2, 16), maxLength: this.rng.pick([40, 200, 600]), encrypted, appendHeavy: this.rng.chance(0.3) }
    this.stats = {
      seed: opts.seed, storage: opts.storage, ops: 0, mutations: 0, mutationsOk: 0, checks: 0, phases: 0,
      faults: { write: 0, read: 0, lost: 0, fatalLost: 0 }, byKind: {}, tolerated: {}
    }
  }

  // --- logging and failures ----------------------------------------------------------------

  note (text: string): number {
    const line = `p${this.phase} #${this.log.length} ${text}`
    this.log.push(line)
    this.opts.trace?.(line)
    return this.log.length - 1
  }

  outcome (op: number, text: string): void {
    this.log[op] += `  → ${text}`
  }

  fail (msg: string): void {
    this.failures.push(`phase ${this.phase}: ${msg}`)
  }

  check (): void {
    if (this.failures.length > 0) throw this.failure(this.failures[0])
  }

  failure (summary: string): FuzzFailure {
    const m = this.model
    const lines = [
      `seed ${this.opts.seed}, storage ${this.opts.storage}: ${this.place.describe}`,
      `config: ${JSON.stringify(this.cfg)}, faults this phase: write p=${this.faults.write} read p=${this.faults.read} lost=${this.faults.lost}`,
      `model: length ${m.length} fork ${m.fork} byteLength ${m.byteLength}`,
      'failures:', ...this.failures.map(f => '  ' + f),
      `op log (phase ${this.phase} from line ${this._phaseStart}; earlier phases above it):`,
      ...this.log.slice(Math.max(0, this._phaseStart - 40)),
      `replay: node --import tsx test/core/concurrency-fuzz.ts --seed ${this.opts.seed} --storage ${this.opts.storage}` +
        (this.opts.phases !== undefined ? ` --phases ${this.opts.phases}` : '') +
        (this.opts.opsPerPhase !== undefined ? ` --ops ${this.opts.opsPerPhase.join(',')}` : '') +
        (this.opts.tolerate !== undefined && this.opts.tolerate.length > 0 ? ` --tolerate ${this.opts.tolerate.join(',')}` : '') + ' --verbose'
    ]
    return new FuzzFailure(this.opts.seed, this.opts.storage, summary, lines.join('\n'))
  }

  ctx (s: Sess | null): Ctx {
    return {
      closing: this.closingAll || this.fatal || (s?.closing ?? false),
      writeFaults: this.faults.injected.write + this.faults.injected.lost,
      readFaults: this.faults.injected.read,
      fatal: this.fatal
    }
  }

  /** Why a rejection is wrong here, or null if it is allowed. */
  badRejection (err: unknown, ctx: Ctx, allowed: readonly ErrorCode[], read: boolean): string | null {
    if (!(err instanceof HypercoreError)) return `rejected with a non-HypercoreError: ${describeError(err)}`
    if (!(ERROR_CODES as readonly string[]).includes(err.code)) return `rejected with an unknown code ${String(err.code)}`
    if (allowed.includes(err.code)) return null
    // A session that closes fails what was pending with REQUEST_CANCELLED (hypercore@10) and
    // what is asked after with SESSION_CLOSED.
    if ((err.code === 'SESSION_CLOSED' || err.code === 'STORAGE_CLOSED' || err.code === 'REQUEST_CANCELLED') && ctx.closing) return null
    if (err.code === 'STORAGE_LOST' && ctx.fatal) return null
    if (STORAGE_CODES.includes(err.code)) {
      const injected = read ? ctx.readFaults : ctx.readFaults + ctx.writeFaults
      if (injected > 0) return null
      return `${err.message} although no ${read ? 'read ' : ''}fault was injected this phase`
    }
    return `unexpected ${err.message}`
  }

  /** Runs `run` once every mutation up to `U` is folded. */
  defer (U: number, run: () => void): void {
    this.stats.checks++
    if (U <= this.cursor) run()
    else this.deferred.push({ U, run })
  }

  // --- bounded waiting -------------------------------------------------------------------------

  /** Awaits `p`; a hang (no progress for MAX_IDLE_TURNS turns, or the watchdog) is a failure. */
  async until<T> (p: Promise<T>, what: string): Promise<T> {
    let done = false
    const settled = p.then(() => { done = true }, () => { done = true })
    let idle = 0
    let seen = this.activity + this.faults.activity
    let since = Date.now()
    let n = 0
    while (!done) {
      await Promise.race([settled, turn()])
      if (done) break
      const now = this.activity + this.faults.activity
      if (now !== seen) {
        seen = now
        idle = 0
        since = Date.now()
      } else if (this.faults.inflight === 0) {
        idle++
      }
      if (idle > MAX_IDLE_TURNS) throw new Hang(`hang: ${what} made no progress for ${MAX_IDLE_TURNS} event-loop turns`)
      if ((++n & 1023) === 0 && Date.now() - since > WATCHDOG_MS) throw new Hang(`hang (watchdog): ${what} made no progress for ${WATCHDOG_MS / 1000} s`)
    }
    return p
  }

  async turns (n: number): Promise<void> {
    for (let i = 0; i < n; i++) await turn()
  }

  async micro (n: number): Promise<void> {
    for (let i = 0; i < n; i++) await Promise.resolve()
  }

  // --- sessions --------------------------------------------------------------------------------

  addSession (h: Hypercore, kind: SessionKind): Sess {
    const s: Sess = { id: ++this._sessSeq, kind, h, opened: false, closing: false, snap: null, inflight: 0, updating: false, openError: null }
    this.sessions.push(s)
    h.on('close', () => {
      this.activity++
      if (!s.closing && !this.closingAll) {
        s.closing = true
        if (!this.fatal) this.fail(`session s${s.id} (${kind}) closed although nobody closed it and the storage was not lost`)
      }
    })
    if (kind !== 'snapshot') {
      h.on('truncate', (ancestors: number, fork: number) => {
        const U = this.muts.length
        this.defer(U, () => {
          const t = this.muts.find(m => m.kind === 'truncate' && m.status === 'ok' && m.fork === fork && m.seq <= U)
          if (t === undefined) this.fail(`s${s.id} emitted 'truncate' (${ancestors}, fork ${fork}) but no resolved truncation made fork ${fork}`)
          else if (t.length !== ancestors) this.fail(`s${s.id} emitted 'truncate' (${ancestors}, fork ${fork}) but that truncation kept ${t.length} blocks`)
        })
      })
    }
    return s
  }

  /** Open sessions that are not closing (snapshots included unless `live`). */
  open (live: boolean, opened = true): Sess[] {
    return this.sessions.filter(s => !s.closing && (!opened || s.opened) && !s.updating && (!live || s.kind !== 'snapshot'))
  }

  // --- mutations -------------------------------------------------------------------------------

  mutate (s: Sess, m: Partial<Mut> & { kind: Mut['kind'] }, text: string, run: () => Promise<unknown>): Promise<void> {
    const seq = this.muts.length + 1
    const op = this.note(`m${seq} s${s.id} ${text}`)
    const mut: Mut = { seq, op, sess: s, blocks: [], length: 0, fork: 0, start: 0, end: 0, status: 'pending', value: undefined, error: undefined, ctx: null, ...m }
    this.muts.push(mut)
    this.stats.mutations++
    s.inflight++
    return run().then((value) => {
      mut.status = 'ok'
      mut.value = value
      this.stats.mutationsOk++
      if (seq > this.resolvedMax) this.resolvedMax = seq
      this.outcome(op, `ok ${value === undefined ? '' : JSON.stringify(value)}`)
      if (mut.kind === 'append') {
        const earlier = this.muts.find(o => o.seq < seq && o.kind === 'append' && o.status === 'pending')
        if (earlier !== undefined) this.fail(`append m${seq} resolved before the earlier append m${earlier.seq} settled (appends must resolve in issue order)`)
      }
    }, (err: unknown) => {
      mut.status = 'err'
      mut.error = err
      this.outcome(op, `rejected ${describeError(err)}`)
    }).then(() => {
      mut.ctx = this.ctx(s)
      s.inflight--
      this.activity++
      this.advance()
    })
  }

  advance (): void {
    while (this.cursor < this.muts.length && this.muts[this.cursor].status !== 'pending') {
      this.fold(this.muts[this.cursor++])
    }
    if (this.deferred.length === 0) return
    const due = this.deferred.filter(d => d.U <= this.cursor)
    if (due.length === 0) return
    this.deferred = this.deferred.filter(d => d.U > this.cursor)
    for (const d of due) {
      try {
        d.run()
      } catch (err) {
        this.fail(`a check threw: ${describeError(err)}`)
      }
    }
  }

  /** Folds a settled mutation into the model, checking what it resolved with. */
  fold (m: Mut): void {
    const model = this.model
    const where = `m${m.seq} (#${m.op}) ${m.kind}`
    if (m.status === 'err') {
      let allowed: ErrorCode[] = []
      if (m.kind === 'truncate' && m.length > model.length) allowed = ['BAD_ARGUMENT']
      const bad = this.badRejection(m.error, m.ctx!, allowed, false)
      if (bad !== null) this.fail(`${where}: ${bad}`)
      return
    }
    if (m.kind === 'append') {
      const v = m.value as { length: number, byteLength: number }
      const n = m.blocks.length
      const length = model.length + n
      const stored = model.byteLength + model.length * model.padding + m.blocks.reduce((a, b) => a + b.bytes.byteLength + model.padding, 0)
      if (v?.length !== length || v?.byteLength !== stored) {
        this.fail(`${where} resolved ${JSON.stringify(v)}, the fold expects { length: ${length}, byteLength: ${stored} }`)
      }
      model.append(m.seq, m.blocks)
    } else if (m.kind === 'truncate') {
      if (m.length > model.length) {
        this.fail(`${where} to ${m.length} resolved, but the fold's length is ${model.length} (must be BAD_ARGUMENT)`)
        return
      }
      model.truncate(m.seq, m.length, m.fork)
    } else {
      if (m.start < model.length) model.clear(m.seq, m.start, m.end)
    }
  }

  // --- operations --------------------------------------------------------------------------------

  blockSize (): number {
    const r = this.rng.float()
    if (r < 0.04) return 0
    if (r < 0.6) return this.rng.int(1, 64)
    if (r < 0.85) return this.rng.int(65, 2048)
    if (r < 0.97) return this.rng.int(2049, 20000)
    return this.rng.int(20001, 70000)
  }

  quiet (): boolean {
    return this.cursor === this.muts.length
  }

  opAppend (s: Sess): Promise<void> {
    const n = this.rng.chance(0.15) ? this.rng.int(5, 24) : this.rng.int(1, 4)
    const first = this.log.length
    const blocks = Array.from({ length: n }, (_, j) => makeBlock(`p${this.phase}.${first}.${j}`, this.blockSize()))
    const single = n === 1 && this.rng.chance(0.5)
    this.opt += n
    const text = `append ${n} [${blocks.map(b => b.bytes.byteLength).join(',')}] ids p${this.phase}.${first}.*`
    return this.mutate(s, { kind: 'append', blocks }, text, () => s.h.append(single ? blocks[0].bytes : blocks.map(b => b.bytes)))
  }

  opTruncate (s: Sess): Promise<void> {
    const r = this.rng.float()
    const opt = this.opt
    const length = r < 0.6 ? Math.max(0, opt - this.rng.int(0, 5)) : r < 0.9 ? this.rng.int(0, opt) : opt + this.rng.int(1, 2)
    let fork: number
    let call: () => Promise<unknown>
    if (this.quiet() && this.rng.chance(0.35)) {
      // No mutation in flight: `truncate(length)` takes the current fork + 1, which is the fold's.
      fork = this.model.fork + 1
      this.nextFork = Math.max(this.nextFork, fork + 1)
      call = () => s.h.truncate(length)
    } else {
      fork = this.nextFork++
      call = () => s.h.truncate(length, fork)
    }
    if (length <= this.opt) this.opt = length
    return this.mutate(s, { kind: 'truncate', length, fork }, `truncate(${length}) → fork ${fork}`, call)
  }

  opClear (s: Sess): Promise<void> {
    const start = this.rng.int(0, this.opt + 1)
    const end = start + (this.rng.chance(0.2) ? this.rng.int(1, 30) : this.rng.int(1, 4))
    const single = end === start + 1 && this.rng.chance(0.5)
    return this.mutate(s, { kind: 'clear', start, end }, `clear(${start}, ${end})`, () => single ? s.h.clear(start) : s.h.clear(start, end))
  }

  /**
   * Runs a read: `check` gets the outcome, L, U, what was going on and the snapshot view the
   * read used (captured when it settled: an update() may replace it before the check runs),
   * once every mutation up to U is folded.
   */
  read<T> (s: Sess, text: string, run: () => Promise<T>, check: (r: Outcome<T>, L: number, U: number, ctx: Ctx, snap: SnapInfo | null) => string | null): Promise<void> {
    const op = this.note(`s${s.id}${s.kind === 'snapshot' ? '(snapshot)' : ''} ${text}`)
    const L = this.resolvedMax
    s.inflight++
    const finish = (r: Outcome<T>): void => {
      s.inflight--
      this.activity++
      const U = this.muts.length
      const ctx = this.ctx(s)
      const snap = s.snap
      this.outcome(op, r.ok ? `${fmtValue(r.value)} [L=${L} U=${U}]` : `rejected ${describeError(r.error)}`)
      this.defer(U, () => {
        // A session that failed to open fails its reads with the same error.
        if (!r.ok && sameError(r.error, s.openError)) return
        const bad = check(r, L, U, ctx, snap)
        if (bad !== null) this.fail(`#${op} s${s.id} ${text}: ${bad}`)
      })
    }
    return run().then(value => finish({ ok: true, value }), error => finish({ ok: false, error }))
  }

  /** Allowed SNAPSHOT_NOT_AVAILABLE: block `i` is past the view, or a truncation below it was applied after the view. */
  truncatedBelow (snap: SnapInfo, i: number, U: number): boolean {
    return i >= snap.length || this.muts.some(m => m.kind === 'truncate' && m.status === 'ok' && m.seq > snap.L && m.seq <= U && m.length <= i)
  }

  /**
   * A known bug the options tolerate: reading block `i` rejected with BAD_ARGUMENT or
   * BLOCK_NOT_AVAILABLE while a truncation in the window removed it.
   */
  tolerated (err: unknown, i: number, L: number, U: number): boolean {
    if (this.opts.tolerate?.includes('truncate-race') !== true) return false
    if (!HypercoreError.is(err, 'BAD_ARGUMENT') && !HypercoreError.is(err, 'BLOCK_NOT_AVAILABLE')) return false
    const raced = this.muts.some(m => m.kind === 'truncate' && m.status === 'ok' && m.seq > L && m.seq <= U && m.length <= i)
    if (raced) this.stats.tolerated['truncate-race'] = (this.stats.tolerated['truncate-race'] ?? 0) + 1
    return raced
  }

  /** The 'snapshot-race' known bug: a view with one state's length and a later truncation's fork, or BLOCK_NOT_AVAILABLE. */
  toleratedSnapshot (snap: SnapInfo | null, err: unknown, L: number, U: number): boolean {
    if (this.opts.tolerate?.includes('snapshot-race') !== true) return false
    const truncations = this.muts.filter(m => m.kind === 'truncate' && m.status === 'ok' && m.seq > L && m.seq <= U)
    if (truncations.length === 0) return false
    const states = this.model.statesIn(L, U)
    // The state it was taken from: same length (a checkout: at least as long) and the same bytes.
    const before = snap === null ? undefined : states.find(st => st.fork !== snap.fork && st.length >= snap.length && this.model.bytesOf(st.fork, snap.length) === snap.byteLength)
    const raced = snap !== null
      ? before !== undefined && truncations.some(t => t.fork === snap.fork)
      : HypercoreError.is(err, 'BLOCK_NOT_AVAILABLE')
    if (!raced) return false
    this.stats.tolerated['snapshot-race'] = (this.stats.tolerated['snapshot-race'] ?? 0) + 1
    // The view holds the blocks of the state before the truncation; it only names the wrong fork.
    if (snap !== null && before !== undefined) {
      snap.shownFork = snap.fork
      snap.fork = before.fork
    }
    return true
  }

  opGet (s: Sess): Promise<void> {
    const i = this.rng.chance(0.85) ? this.rng.int(0, Math.max(0, this.opt - 1)) : this.rng.int(this.opt, this.opt + 3)
    return this.read(s, `get(${i})`, () => s.h.get(i, { wait: false }) as Promise<Uint8Array | null>, (r, L, U, ctx, snap) => {
      if (!r.ok) {
        if (snap !== null && HypercoreError.is(r.error, 'SNAPSHOT_NOT_AVAILABLE')) {
          return this.truncatedBelow(snap, i, U) ? null : `SNAPSHOT_NOT_AVAILABLE but block ${i} is within the view (length ${snap.length}) and no truncation went below it`
        }
        if (this.tolerated(r.error, i, L, U)) return null
        return this.badRejection(r.error, ctx, [], true)
      }
      const v = r.value
      const versions = this.model.versionsIn(i, L, U)
      if (snap !== null) {
        if (i >= snap.length) return `resolved ${showBytes(v)} past the snapshot (length ${snap.length}): must be SNAPSHOT_NOT_AVAILABLE`
        if (v === null) return versions.includes(null) || this.truncatedBelow(snap, i, U) ? null : `null, but block ${i} was stored in every state of the window`
        const want = this.model.blockOf(snap.fork, i)
        return want !== null && keyOf(v) === want.key ? null : `got ${showBytes(v)}, the snapshot (fork ${snap.fork}) holds ${showBytes(want?.bytes)}`
      }
      if (v === null) return versions.includes(null) ? null : `null, but block ${i} was ${showBytes(versions[0]?.bytes)} in every state of the window`
      if (!(v instanceof Uint8Array)) return `resolved a non-Uint8Array ${String(v)}`
      if (versions.some(b => b !== null && b.key === keyOf(v))) return null
      return `got ${showBytes(v)}, which no state of the window holds at ${i} (candidates: ${versions.map(b => showBytes(b?.bytes)).join(', ')})`
    })
  }

  opHas (s: Sess): Promise<void> {
    const start = this.rng.int(0, this.opt)
    const end = start + this.rng.int(1, 5)
    return this.read(s, `has(${start}, ${end})`, () => s.h.has(start, end), (r, L, U, ctx, snap) => {
      if (!r.ok) return this.badRejection(r.error, ctx, [], true)
      const snapLength = snap?.length ?? Infinity
      const answers = this.model.statesIn(L, U).map((st) => {
        if (end > st.length || end > snapLength) return false
        for (let i = start; i < end; i++) if (this.model.versionAt(i, st.seq) === null) return false
        return true
      })
      return answers.includes(r.value) ? null : `answered ${String(r.value)}, every state of the window says ${String(answers[0])}`
    })
  }

  opTreeHash (s: Sess): Promise<void> {
    const at = this.rng.chance(0.3) ? this.rng.int(0, this.opt) : undefined
    return this.read(s, `treeHash(${at ?? ''})`, () => s.h.treeHash(at), (r, L, U, ctx, snap) => {
      if (!r.ok) {
        if (HypercoreError.is(r.error, 'BAD_ARGUMENT') && at !== undefined) {
          const lengths = snap !== null ? [snap.length] : this.model.statesIn(L, U).map(st => st.length)
          return lengths.some(l => l < at) ? null : `BAD_ARGUMENT for length ${at} but the length was ${lengths.join('/')}`
        }
        if (snap !== null && at !== undefined && HypercoreError.is(r.error, 'SNAPSHOT_NOT_AVAILABLE')) {
          return this.truncatedBelow(snap, at - 1, U) ? null : 'SNAPSHOT_NOT_AVAILABLE without a truncation below'
        }
        if (snap !== null && at !== undefined && at > 0 && this.truncatedBelow(snap, at - 1, U) && this.tolerated(r.error, at - 1, snap.L, U)) return null
        if (snap === null && at !== undefined && at > 0 && this.tolerated(r.error, at - 1, L, U)) return null
        return this.badRejection(r.error, ctx, [], true)
      }
      const states = snap !== null ? [snap] : this.model.statesIn(L, U)
      const want = states.filter(st => at === undefined || at <= st.length).map(st => this.model.treeHash(st.fork, at ?? st.length))
      return want.some(w => hexOf(w) === hexOf(r.value)) ? null : `tree hash ${hexOf(r.value).slice(0, 16)}… matches no state of the window (${want.map(w => hexOf(w).slice(0, 16)).join(', ')})`
    })
  }

  /** Synchronous: the session's length, fork and byte length must be one state of the window. */
  opObserve (s: Sess): void {
    const h = s.h
    const seen = { length: h.length, fork: h.fork, byteLength: h.byteLength }
    const op = this.note(`s${s.id} observe ${JSON.stringify(seen)}`)
    const snap = s.snap
    if (snap !== null) {
      if (seen.length !== snap.length || seen.fork !== (snap.shownFork ?? snap.fork) || seen.byteLength !== snap.byteLength) {
        this.fail(`#${op} snapshot s${s.id} moved: ${JSON.stringify(seen)}, opened at ${JSON.stringify(snap)}`)
      }
      return
    }
    const L = this.resolvedMax
    const U = this.muts.length
    this.defer(U, () => {
      const states = this.model.statesIn(L, U)
      if (!states.some(st => st.length === seen.length && st.fork === seen.fork && st.byteLength === seen.byteLength)) {
        this.fail(`#${op} s${s.id} showed ${JSON.stringify(seen)}, which is no state of the window (${states.map(st => `${st.length}/${st.fork}/${st.byteLength}`).join(', ')})`)
      }
    })
  }

  opStream (s: Sess): Promise<void> {
    const start = this.rng.int(0, this.opt)
    const end = this.rng.chance(0.3) ? -1 : Math.max(start, Math.min(this.opt, start + this.rng.int(1, 20)))
    const op = this.note(`s${s.id}${s.kind === 'snapshot' ? '(snapshot)' : ''} createReadStream({ start: ${start}, end: ${end} })`)
    const L = this.resolvedMax
    const stream = s.h.createReadStream({ start, end })
    const rec: StreamRec = { op, sess: s, start, end, next: start, L, finished: false, closed: false, stream }
    this.streams.push(rec)
    s.inflight++
    let released = false
    const release = (): void => { if (!released) { released = true; s.inflight-- } }
    stream.on('data', (value: unknown) => {
      this.activity++
      const i = rec.next++
      const U = this.muts.length
      const snap = s.snap
      this.defer(U, () => {
        const v = value as Uint8Array
        if (snap !== null) {
          const want = this.model.blockOf(snap.fork, i)
          if (i >= snap.length || want === null || want.key !== keyOf(v)) this.fail(`#${op} stream item ${i} is ${showBytes(v)}, the snapshot holds ${showBytes(want?.bytes)}`)
          return
        }
        const versions = this.model.versionsIn(i, L, U)
        if (!versions.some(b => b !== null && b.key === keyOf(v))) this.fail(`#${op} stream item ${i} is ${showBytes(v)}, which no state of the window holds (${versions.map(b => showBytes(b?.bytes)).join(', ')})`)
      })
    })
    stream.on('end', () => {
      this.activity++
      rec.finished = true
      release()
      const U = this.muts.length
      const count = rec.next - start
      const snap = s.snap
      this.outcome(op, `ended after ${count} blocks`)
      this.defer(U, () => {
        let ends: number[]
        if (end !== -1) ends = [end]
        else if (snap !== null) ends = [snap.length]
        else ends = this.model.statesIn(L, U).map(st => st.length)
        if (!ends.some(e => Math.max(0, e - start) === count)) this.fail(`#${op} stream ended after ${count} blocks, expected ${ends.map(e => Math.max(0, e - start)).join(' or ')}`)
      })
    })
    stream.on('error', (err: unknown) => {
      this.activity++
      rec.finished = true
      release()
      const U = this.muts.length
      const ctx = this.ctx(s)
      const snap = s.snap
      this.outcome(op, `error ${describeError(err)} at block ${rec.next}`)
      this.defer(U, () => {
        if (sameError(err, s.openError)) return
        if (snap !== null && HypercoreError.is(err, 'SNAPSHOT_NOT_AVAILABLE') && this.truncatedBelow(snap, rec.next, U)) return
        if (this.tolerated(err, rec.next, L, U)) return
        const bad = this.badRejection(err, ctx, [], true)
        if (bad !== null) this.fail(`#${op} stream error at block ${rec.next}: ${bad}`)
      })
    })
    stream.on('close', () => { this.activity++; rec.closed = true; release() })
    return Promise.resolve()
  }

  opSession (parent: Sess): Promise<void> {
    const h = parent.h.session()
    const s = this.addSession(h, 'session')
    const op = this.note(`s${parent.id}.session() → s${s.id}`)
    return this.opening(s, op, {})
  }

  opSnapshot (parent: Sess): Promise<void> {
    const checkout = this.rng.chance(0.25) ? this.rng.int(0, this.opt + (this.rng.chance(0.2) ? 3 : 0)) : null
    const h = checkout === null ? parent.h.snapshot() : parent.h.snapshot({ length: checkout })
    const s = this.addSession(h, 'snapshot')
    const op = this.note(`s${parent.id}.snapshot(${checkout === null ? '' : `{ length: ${checkout} }`}) → s${s.id}`)
    let view: SnapInfo | null = null // the view it opened with (an update may replace s.snap before the check runs)
    return this.opening(s, op, {
      opened: (L) => { view = s.snap = { length: h.length, fork: h.fork, byteLength: h.byteLength, L } },
      check: (L, U) => {
        const bad = this.snapState(view!, checkout, L, U)
        return bad !== null && this.toleratedSnapshot(view, null, L, U) ? null : bad
      },
      // A checkout past the length the core had when the snapshot opened.
      rejected: (err, L, U) => (checkout !== null && HypercoreError.is(err, 'BAD_ARGUMENT') && this.model.statesIn(L, U).some(st => st.length < checkout)) ||
        this.toleratedSnapshot(null, err, L, U)
    })
  }

  /** Why a snapshot's view is no state of its window, or null. */
  snapState (snap: SnapInfo, checkout: number | null, L: number, U: number): string | null {
    const states = this.model.statesIn(L, U)
    const fits = states.some((st) => {
      if (checkout === null) return st.length === snap.length && st.fork === snap.fork && st.byteLength === snap.byteLength
      return st.length >= checkout && st.fork === snap.fork && snap.length === checkout && snap.byteLength === this.model.bytesOf(st.fork, checkout)
    })
    return fits ? null : `snapshot view ${JSON.stringify(snap)} is no state of its window (${states.map(st => `${st.length}/${st.fork}/${st.byteLength}`).join(', ')})`
  }

  opSnapUpdate (s: Sess): Promise<void> {
    const L = this.resolvedMax
    s.updating = true
    const op = this.note(`s${s.id}(snapshot) update()`)
    this.stats.checks++
    return s.h.update().then(() => {
      const U = this.muts.length
      const snap: SnapInfo = { length: s.h.length, fork: s.h.fork, byteLength: s.h.byteLength, L }
      s.snap = snap
      this.outcome(op, JSON.stringify(snap))
      this.defer(U, () => {
        const bad = this.snapState(snap, null, L, U)
        if (bad !== null && !this.toleratedSnapshot(snap, null, L, U)) this.fail(`#${op} after update: ${bad}`)
      })
    }, (err: unknown) => {
      const ctx = this.ctx(s)
      const U = this.muts.length
      this.outcome(op, `rejected ${describeError(err)}`)
      this.defer(U, () => {
        if (this.toleratedSnapshot(null, err, L, U)) return
        const bad = this.badRejection(err, ctx, [], true)
        if (bad !== null) this.fail(`#${op} update: ${bad}`)
      })
    }).finally(() => { s.updating = false; this.activity++ })
  }

  /**
   * Tracks a session's opening: `opened(L)` runs at once when it opened, `check(L, U)` once the
   * window is folded; a rejection must be allowed by `rejected(err, L, U)` or by the situation.
   */
  opening (s: Sess, op: number, hooks: { opened?: (L: number) => void, check?: (L: number, U: number) => string | null, rejected?: (err: unknown, L: number, U: number) => boolean }): Promise<void> {
    const L = this.resolvedMax
    return s.h.ready().then(() => {
      const U = this.muts.length
      if (s.h.core !== this.core && !this.closingAll && !this.fatal) this.fail(`#${op} s${s.id} opened on another core than the one open (it must join it)`)
      s.opened = true
      hooks.opened?.(L)
      this.outcome(op, `opened length ${s.h.length} fork ${s.h.fork} [L=${L} U=${U}]`)
      const check = hooks.check
      if (check !== undefined) {
        this.defer(U, () => {
          const bad = check(L, U)
          if (bad !== null) this.fail(`#${op} s${s.id}: ${bad}`)
        })
      }
    }, (err: unknown) => {
      s.closing = true
      s.openError = err
      const U = this.muts.length
      const ctx = this.ctx(s)
      this.outcome(op, `open rejected ${describeError(err)}`)
      this.defer(U, () => {
        if (hooks.rejected?.(err, L, U) === true) return
        // Joining while every session closes opens the storage anew (the registry waits for the
        // old core to close): that open writes (it cuts a torn oplog tail), so write faults count.
        const bad = this.badRejection(err, ctx, [], !ctx.closing)
        if (bad !== null) this.fail(`#${op} s${s.id} open: ${bad}`)
      })
      void s.h.close().catch(() => {})
    }).finally(() => { this.activity++ })
  }

  opCloseSession (s: Sess): Promise<void> {
    s.closing = true
    const op = this.note(`s${s.id} close()`)
    const twice = this.rng.chance(0.2)
    const closes = twice ? [s.h.close(), s.h.close()] : [s.h.close()]
    return Promise.all(closes).then(() => {
      this.outcome(op, 'closed')
      if (!s.h.closed) this.fail(`#${op} s${s.id}.close() resolved but the session is not closed`)
    }, (err: unknown) => {
      this.outcome(op, `rejected ${describeError(err)}`)
      if (!this.fatal) this.fail(`#${op} closing a session that is not the last one rejected: ${describeError(err)}`)
    }).finally(() => { this.activity++ })
  }

  opJoin (): Promise<void> {
    const variant = this.rng.int(0, 11)
    const input = this.place.join(this.rng)
    const enc = { encryptionKey: this.encryptionKey }
    if (variant === 0 || variant === 1) {
      // Misuse: another key, or overwrite, while the core is open here.
      const other = makeKeyPair(new Uint8Array(32).fill(99)).publicKey
      const h = variant === 0 ? new Hypercore(input, other, enc) : new Hypercore(input, { ...enc, overwrite: true })
      const want: ErrorCode = variant === 0 ? 'STORAGE_CONFLICT' : 'STORAGE_LOCKED'
      const op = this.note(`join ${variant === 0 ? 'with another key' : 'with overwrite'} (expect ${want})`)
      // Awaited at once: were the core closed first, an overwrite would really wipe the storage.
      this.awaitStep = true
      return this.expectCode(h.ready(), want, op, null).finally(() => h.close().catch(() => {}))
    }
    const h = variant < 5 ? new Hypercore(input, enc) : variant < 8 ? new Hypercore(input, this.keyPair.publicKey, enc) : new Hypercore(input, { ...enc, keyPair: this.keyPair })
    const s = this.addSession(h, 'join')
    const op = this.note(`join new Hypercore(${typeof input === 'string' ? 'path' : 'same storage'}${variant < 5 ? '' : variant < 8 ? ', key' : ', { keyPair }'}) → s${s.id}`)
    return this.opening(s, op, {})
  }

  expectCode (p: Promise<unknown>, code: ErrorCode, op: number, s: Sess | null): Promise<void> {
    return p.then((v) => {
      this.outcome(op, `resolved ${fmtValue(v)}`)
      this.fail(`#${op} resolved, expected ${code}`)
    }, (err: unknown) => {
      this.outcome(op, `rejected ${describeError(err)}`)
      if (HypercoreError.is(err, code)) return
      const bad = this.badRejection(err, this.ctx(s), [], true)
      if (bad !== null) this.fail(`#${op} expected ${code}: ${bad}`)
    }).finally(() => { this.activity++ })
  }

  opMisuse (): Promise<void> {
    const live = this.open(true)
    const snaps = this.open(false).filter(s => s.kind === 'snapshot')
    // Closed after opening (a session whose open failed rejects with that error instead).
    const closed = this.sessions.filter(s => s.opened && s.closing && s.h.closed)
    const k = this.rng.int(0, 5)
    if (k === 0 && snaps.length > 0) {
      const s = this.rng.pick(snaps)
      return this.expectCode(s.h.append(new Uint8Array(3)), 'SESSION_NOT_WRITABLE', this.note(`s${s.id}(snapshot) append (expect SESSION_NOT_WRITABLE)`), s)
    }
    if (k === 1 && closed.length > 0) {
      const s = this.rng.pick(closed)
      return this.expectCode(s.h.append(new Uint8Array(3)), 'SESSION_CLOSED', this.note(`closed s${s.id} append (expect SESSION_CLOSED)`), s)
    }
    if (k === 2 && closed.length > 0) {
      const s = this.rng.pick(closed)
      return this.expectCode(s.h.get(0, { wait: false }), 'SESSION_CLOSED', this.note(`closed s${s.id} get(0) (expect SESSION_CLOSED)`), s)
    }
    const s = this.rng.pick(live)
    if (k === 3) return this.expectCode(s.h.truncate(-1), 'BAD_ARGUMENT', this.note(`s${s.id} truncate(-1) (expect BAD_ARGUMENT)`), s)
    if (k === 4) return this.expectCode(s.h.clear(-1), 'BAD_ARGUMENT', this.note(`s${s.id} clear(-1) (expect BAD_ARGUMENT)`), s)
    return this.expectCode(s.h.get(1.5, { wait: false }), 'BAD_ARGUMENT', this.note(`s${s.id} get(1.5) (expect BAD_ARGUMENT)`), s)
  }

  /** Issues one random operation; returns its completion (never rejects), or null for a synchronous one. */
  step (): Promise<void> | null {
    if (this.quiet()) this.opt = this.model.length
    const live = this.open(true)
    const any = this.open(false, false)
    const opened = this.open(false)
    const snaps = opened.filter(s => s.kind === 'snapshot' && s.inflight === 0)
    const long = this.opt > this.cfg.maxLength
    const weights: Array<[string, number]> = [
      ['append', long ? 2 : this.cfg.appendHeavy ? 40 : 24],
      ['get', 18], ['has', 5], ['clear', 6], ['truncate', long ? 14 : 4], ['stream', 3], ['observe', 6], ['treeHash', 3],
      ['snapshot', 3], ['snapUpdate', snaps.length > 0 ? 1 : 0], ['session', this.sessions.length < 40 ? 3 : 0],
      ['closeSession', live.length > 1 || opened.length > live.length ? 2 : 0], ['join', 2], ['misuse', 2]
    ]
    const total = weights.reduce((a, [, w]) => a + w, 0)
    let r = this.rng.float() * total
    let kind = 'get'
    for (const [k, w] of weights) {
      if (r < w) { kind = k; break }
      r -= w
    }
    this.stats.ops++
    this.stats.byKind[kind] = (this.stats.byKind[kind] ?? 0) + 1
    const pickLive = (): Sess => this.rng.pick(live)
    switch (kind) {
      case 'append': return this.opAppend(pickLive())
      case 'truncate': return this.opTruncate(pickLive())
      case 'clear': return this.opClear(pickLive())
      case 'get': return this.opGet(this.rng.pick(any))
      case 'has': return this.opHas(this.rng.pick(any))
      case 'stream': return this.opStream(this.rng.pick(any))
      case 'treeHash': return this.opTreeHash(this.rng.pick(opened))
      case 'observe': this.opObserve(this.rng.pick(opened)); return null
      case 'snapshot': return this.opSnapshot(pickLive())
      case 'snapUpdate': return this.opSnapUpdate(this.rng.pick(snaps))
      case 'session': return this.opSession(this.rng.pick(opened))
      case 'closeSession': {
        // Never the last live session: the core must stay open until the phase ends.
        const candidates = opened.filter(s => s.kind === 'snapshot' || live.length > 1)
        return this.opCloseSession(this.rng.pick(candidates))
      }
      case 'join': return this.opJoin()
      default: return this.opMisuse()
    }
  }

  // --- phases --------------------------------------------------------------------------------------

  async run (): Promise<FuzzStats> {
    await cryptoReady()
    const onUnhandled = (err: unknown): void => { this.fail(`unhandled rejection: ${describeError(err)}`) }
    process.on('unhandledRejection', onUnhandled)
    try {
      this.note(`seed ${this.opts.seed} ${this.place.describe} ${JSON.stringify(this.cfg)}`)
      await this.openRoot(true)
      const phases = this.opts.phases ?? 6
      for (this.phase = 1; this.phase <= phases; this.phase++) {
        await this.runPhase()
        this.stats.phases++
      }
      await this.closeAll()
      this.countFaults()
      this.check()
      return this.stats
    } catch (err) {
      if (err instanceof FuzzFailure) throw err
      this.fail(err instanceof Hang ? err.message : `the harness threw: ${describeError(err)}${err instanceof Error && err.stack !== undefined ? '\n' + err.stack : ''}`)
      throw this.failure(this.failures[0])
    } finally {
      process.off('unhandledRejection', onUnhandled)
      await this.cleanup()
    }
  }

  async runPhase (): Promise<void> {
    this._phaseStart = this.log.length
    this.setFaults()
    const [min, max] = this.opts.opsPerPhase ?? [20, 100]
    const n = this.rng.int(min, max)
    for (let k = 0; k < n && !this.fatal; k++) {
      this.awaitStep = false
      const done = this.step()
      if (done !== null) {
        this.inflight.add(done)
        void done.finally(() => this.inflight.delete(done))
      }
      this.check()
      const r = this.rng.float()
      if (done !== null && this.awaitStep) await this.until(done, 'an operation that must be awaited')
      else if (done !== null && r < 0.2) await this.until(done, 'an awaited operation')
      else if (r < 0.3 && this.inflight.size > 0) await this.until(this.rng.pick([...this.inflight]), 'an operation in flight')
      else if (r < 0.45) await this.turns(this.rng.int(1, 4))
      else if (r < 0.55) await this.micro(this.rng.int(1, 30))
      while (this.inflight.size > this.cfg.maxInflight) await this.until(this.inflight.values().next().value!, 'the oldest operation in flight')
      this.check()
    }
    await this.endPhase()
  }

  setFaults (): void {
    const f = this.faults
    const level = this.opts.faults === false ? 'none' : this.rng.pick(['none', 'none', 'light', 'light', 'heavy'] as const)
    this.countFaults()
    f.write = level === 'heavy' ? 0.12 : level === 'light' ? 0.03 : 0
    f.read = level === 'heavy' ? 0.02 : level === 'light' ? 0.004 : 0
    f.lost = this.place.kind === 'idb' && level !== 'none' && this.rng.chance(0.4)
    f.injected.write = 0
    f.injected.read = 0
    f.injected.lost = 0
    f.injected.fatalLost = 0
    f.enabled = level !== 'none'
    this.note(`phase ${this.phase}: faults ${level}${f.lost ? ' (+ lost connections)' : ''}`)
  }

  /** Adds the phase's injected faults to the totals (the per-phase counts decide which rejections are allowed). */
  countFaults (): void {
    for (const k of ['write', 'read', 'lost', 'fatalLost'] as const) {
      this.stats.faults[k] += this.faults.injected[k]
      this.faults.injected[k] = 0
    }
  }

  async endPhase (): Promise<void> {
    const abrupt = this.fatal || this.rng.chance(0.3)
    this.note(abrupt ? (this.fatal ? 'end of phase: the storage was lost' : 'end of phase: close everything with operations in flight') : 'end of phase: quiesce, check, close')
    if (!abrupt) {
      await this.until(Promise.all([...this.inflight]), 'operations in flight at the end of the phase')
      await this.settleStreams()
      this.advance()
      this.check()
      // Checked without faults (a read failing here says nothing about the state); closing has them again.
      const enabled = this.faults.enabled
      this.faults.enabled = false
      if (!this.fatal) await this.verify(this.open(true)[0]!, 'live core at the end of the phase')
      this.faults.enabled = enabled
      this.check()
      if (!this.fatal && this.place.crash !== undefined && this.rng.chance(0.4)) {
        this.note('end of phase: crash (the next open reads the database as it is now, not closed)')
        await this.place.crash()
      }
    }
    await this.closeAll()
    this.advance()
    if (this.cursor !== this.muts.length || this.deferred.length > 0) this.fail(`after closing, ${this.muts.length - this.cursor} mutations are unsettled and ${this.deferred.length} checks pending`)
    this.check()
    await this.openRoot(false)
    this.check()
  }

  /** Lets read streams finish; one still waiting must wait for a block that is really absent. */
  async settleStreams (): Promise<void> {
    // Progress as in `until`: storage work counts, and turns with file I/O in flight are not idle.
    let idle = 0
    let seen = -1
    while (this.streams.some(r => !r.finished) && idle < 2000) {
      await turn()
      const now = this.activity + this.faults.activity
      if (now !== seen) { seen = now; idle = 0 } else if (this.faults.inflight === 0) idle++
    }
    this.advance()
    const m = this.model
    for (const r of this.streams) {
      if (r.finished) continue
      const n = r.next
      const absent = n >= m.length || !m.present[n]
      const snap = r.sess.snap
      const legit = absent || (snap !== null && this.truncatedBelow(snap, n, this.muts.length))
      if (!legit) {
        const versions = (m.versions[n] ?? []).map(v => `m${v.seq}:${v.block === null ? 'absent' : v.block.id}`).join(' ')
        this.fail(`hang: read stream #${r.op} (s${r.sess.id}${snap !== null ? ` snapshot ${snap.length}/${snap.fork}` : ''}, ${r.start}..${r.end}) still waits for block ${n}, which is stored (${showBytes(m.blockOf(m.fork, n)?.bytes)}; history of ${n}: ${versions}; session waiters ${String((r.sess.h.waits as unknown as { size: number }).size)})`)
      }
    }
  }

  /** The live (or reopened) core is exactly the fold. */
  async verify (s: Sess, where: string): Promise<void> {
    const m = this.model
    const h = s.h
    const op = this.note(`verify ${where} via s${s.id}: model length ${m.length} fork ${m.fork} byteLength ${m.byteLength}`)
    this.stats.checks++
    const bad = (msg: string): void => this.fail(`#${op} ${where}: ${msg}`)
    if (h.length !== m.length || h.fork !== m.fork || h.byteLength !== m.byteLength) {
      bad(`length/fork/byteLength ${h.length}/${h.fork}/${h.byteLength}, the fold says ${m.length}/${m.fork}/${m.byteLength}`)
      return
    }
    for (const o of this.open(true)) {
      if (o.h.length !== m.length || o.h.fork !== m.fork || o.h.byteLength !== m.byteLength) bad(`session s${o.id} shows ${o.h.length}/${o.h.fork}/${o.h.byteLength}`)
    }
    if (h.contiguousLength !== m.contiguous()) bad(`contiguousLength ${h.contiguousLength}, the fold says ${m.contiguous()}`)
    const attempt = async <T>(p: Promise<T>, what: string): Promise<T | null> => {
      try {
        return await this.until(p, `${where}: ${what}`)
      } catch (err) {
        if (err instanceof Hang) throw err
        bad(`${what} rejected: ${describeError(err)}`)
        return null
      }
    }
    const hash = await attempt(h.treeHash(), 'treeHash()')
    if (hash === null) return
    const want = m.treeHash(m.fork, m.length)
    if (hexOf(hash) !== hexOf(want)) bad(`treeHash ${hexOf(hash).slice(0, 16)}…, the model's blocks hash to ${hexOf(want).slice(0, 16)}…`)
    const core = h.core!
    if (m.length > 0 && !core.verifier.verify(hash, h.length, h.fork, core.tree.signature)) bad('the stored signature does not verify the tree')
    for (let i = 0; i <= m.length; i++) {
      let v: Uint8Array | null
      try {
        v = await this.until(h.get(i, { wait: false }), `${where}: get(${i})`) as Uint8Array | null
      } catch (err) {
        if (err instanceof Hang) throw err
        bad(`get(${i}) rejected: ${describeError(err)}`)
        continue
      }
      const expect = i < m.length && m.present[i] ? m.lineage[i].block : null
      if (expect === null ? v !== null : (v === null || keyOf(v) !== expect.key)) {
        bad(`block ${i} is ${showBytes(v)}, the fold says ${showBytes(expect?.bytes)}${i < m.length && !m.present[i] ? ' (cleared)' : ''}`)
        if (this.failures.length > 8) return
      }
    }
    for (const snap of this.open(false).filter(x => x.snap !== null)) {
      const info = snap.snap!
      const th = await attempt(snap.h.treeHash(), `snapshot s${snap.id} treeHash()`)
      if (th !== null && hexOf(th) !== hexOf(m.treeHash(info.fork, info.length))) bad(`snapshot s${snap.id} (${info.length}/${info.fork}) tree hash differs from the model's`)
    }
  }

  /** Closes every session (random order, some twice, some concurrently), with operations possibly in flight. */
  async closeAll (): Promise<void> {
    this.closingAll = true
    const order = this.sessions.filter(s => !s.h.closed)
    for (let i = order.length - 1; i > 0; i--) {
      const j = this.rng.int(0, i)
      const t = order[i]; order[i] = order[j]; order[j] = t
    }
    const op = this.note(`close all: ${order.map(s => 's' + s.id).join(' ')}`)
    const closes: Array<Promise<void>> = []
    for (const s of order) {
      s.closing = true
      const ctx = (): Ctx => this.ctx(s)
      const watch = (p: Promise<void>): Promise<void> => p.then(() => {}, (err: unknown) => {
        const bad = this.badRejection(err, ctx(), [], false)
        if (bad !== null) this.fail(`#${op} s${s.id}.close(): ${bad}`)
      })
      closes.push(watch(s.h.close()))
      if (this.rng.chance(0.2)) closes.push(watch(s.h.close()))
      if (this.rng.chance(0.3)) await this.micro(this.rng.int(1, 10))
    }
    await this.until(Promise.all([...closes, ...this.inflight]), 'closing every session')
    for (const r of this.streams) if (!r.closed) r.stream.destroy()
    await this.until(Promise.all(this.streams.filter(r => !r.closed).map(r => new Promise<void>(resolve => r.stream.once('close', () => resolve())))), 'read streams closing')
    for (const s of this.sessions) if (!s.h.closed) this.fail(`#${op} s${s.id} is not closed after close()`)
    if (this.core !== null && !this.core.closed) this.fail(`#${op} the core is not closed after its last session closed`)
    this.outcome(op, 'done')
  }

  /** Opens the root core (faults off) and checks it is exactly the fold; starts the phase's model. */
  async openRoot (first: boolean): Promise<void> {
    this.faults.enabled = false
    const old = this.core
    const input = this.place.open(this.rng)
    const withKeyPair = first || this.rng.chance(0.5)
    const h = new Hypercore(input, { keyPair: withKeyPair ? this.keyPair : undefined, encryptionKey: this.encryptionKey })
    const op = this.note(`${first ? 'open' : 'reopen'} new Hypercore(${withKeyPair ? '{ keyPair }' : ''})`)
    try {
      await this.until(h.ready(), 'opening the core')
    } catch (err) {
      if (err instanceof Hang) throw err
      this.fail(`#${op} opening the core rejected: ${describeError(err)}`)
      this.check()
    }
    if (old !== null && h.core === old) this.fail(`#${op} reopening returned the closed core`)
    this.core = h.core
    this.sessions = []
    this.streams = []
    this.muts = []
    this.cursor = 0
    this.resolvedMax = 0
    this.deferred = []
    this.closingAll = false
    this.fatal = false
    this.model.resetPhase()
    const s = this.addSession(h, 'root')
    s.opened = true
    this.outcome(op, `length ${h.length} fork ${h.fork}`)
    await this.verify(s, first ? 'new core' : 'reopened core')
    this.opt = this.model.length
    this.check()
  }

  async cleanup (): Promise<void> {
    for (const s of this.sessions) {
      if (s.h.closed) continue
      try { await this.until(s.h.close().catch(() => {}), 'cleanup') } catch {}
    }
    try { await this.place.cleanup() } catch {}
  }
}

function sameError (a: unknown, b: unknown): boolean {
  return HypercoreError.is(a) && HypercoreError.is(b) && a.code === b.code
}

function describeError (err: unknown): string {
  if (err instanceof HypercoreError) return err.message
  if (err instanceof Error) return `${err.name}: ${err.message}`
  return String(err)
}

function hexOf (b: unknown): string {
  if (!(b instanceof Uint8Array)) return String(b)
  let s = ''
  for (const x of b) s += x.toString(16).padStart(2, '0')
  return s
}

function fmtValue (v: unknown): string {
  if (v instanceof Uint8Array) return v.byteLength === 32 ? `hash ${hexOf(v).slice(0, 12)}…` : showBytes(v)
  if (v === undefined) return 'undefined'
  return JSON.stringify(v) ?? String(v)
}

// --- entry points ------------------------------------------------------------------------------

/** Runs one seed; resolves with its statistics, rejects with a FuzzFailure. */
export async function runFuzz (opts: FuzzOptions): Promise<FuzzStats> {
  await cryptoReady()
  return new Fuzz(opts).run()
}

export interface LongRunOptions {
  minutes: number
  storage: StorageKind
  seed: number
  phases?: number
  opsPerPhase?: [number, number]
  tolerate?: KnownBug[]
  keepGoing?: boolean
  log?: (line: string) => void
}

export interface LongRunResult {
  seeds: number
  ops: number
  mutations: number
  checks: number
  seconds: number
  failures: FuzzFailure[]
  tolerated: Record<string, number>
  faults: { write: number, read: number, lost: number, fatalLost: number }
  memory: { rssStartMiB: number, rssEndMiB: number, rssPeakMiB: number, heapEndMiB: number }
}

/** Runs seed after seed (from `seed` up) until `minutes` have passed. */
export async function runFor (opts: LongRunOptions): Promise<LongRunResult> {
  const log = opts.log ?? ((line: string) => console.log(line))
  const mib = (n: number): number => Math.round(n / 1048576 * 10) / 10
  const start = Date.now()
  const rssStart = process.memoryUsage().rss
  let rssPeak = rssStart
  const out: LongRunResult = {
    seeds: 0, ops: 0, mutations: 0, checks: 0, seconds: 0, failures: [], tolerated: {}, faults: { write: 0, read: 0, lost: 0, fatalLost: 0 },
    memory: { rssStartMiB: mib(rssStart), rssEndMiB: 0, rssPeakMiB: 0, heapEndMiB: 0 }
  }
  let lastReport = start
  for (let seed = opts.seed; Date.now() - start < opts.minutes * 60_000; seed++) {
    try {
      const st = await runFuzz({ seed, storage: opts.storage, phases: opts.phases, opsPerPhase: opts.opsPerPhase, tolerate: opts.tolerate })
      for (const [k, n] of Object.entries(st.tolerated)) out.tolerated[k] = (out.tolerated[k] ?? 0) + n
      out.ops += st.ops
      out.mutations += st.mutations
      out.checks += st.checks
      for (const k of ['write', 'read', 'lost', 'fatalLost'] as const) out.faults[k] += st.faults[k]
    } catch (err) {
      if (!(err instanceof FuzzFailure)) throw err
      out.failures.push(err)
      log(`\n${err.message}\n${err.report}\n`)
      if (opts.keepGoing !== true) break
    }
    out.seeds++
    rssPeak = Math.max(rssPeak, process.memoryUsage().rss)
    if (Date.now() - lastReport > 15_000) {
      lastReport = Date.now()
      const s = (Date.now() - start) / 1000
      log(`[${opts.storage}] ${Math.round(s)} s: ${out.seeds} seeds, ${out.ops} ops (${Math.round(out.ops / s)}/s), ${out.failures.length} failures, rss ${mib(process.memoryUsage().rss)} MiB`)
    }
  }
  out.seconds = (Date.now() - start) / 1000
  const mem = process.memoryUsage()
  out.memory.rssEndMiB = mib(mem.rss)
  out.memory.rssPeakMiB = mib(Math.max(rssPeak, mem.rss))
  out.memory.heapEndMiB = mib(mem.heapUsed)
  return out
}

async function main (argv: string[]): Promise<number> {
  const arg = (name: string): string | undefined => {
    const i = argv.indexOf(name)
    return i === -1 ? undefined : argv[i + 1]
  }
  const storage = (arg('--storage') ?? 'idb') as StorageKind
  if (!['idb', 'memory', 'file'].includes(storage)) throw new Error('--storage must be idb, memory or file')
  const minutes = arg('--minutes')
  const seedArg = arg('--seed')
  const phases = arg('--phases') === undefined ? undefined : Number(arg('--phases'))
  const ops = arg('--ops')?.split(',').map(Number) as [number, number] | undefined
  const verbose = argv.includes('--verbose')
  const tolerate = (arg('--tolerate') ?? '').split(',').filter(x => x !== '') as KnownBug[]
  if (minutes === undefined) {
    const seed = Number(seedArg ?? 1)
    try {
      const st = await runFuzz({ seed, storage, phases, opsPerPhase: ops, tolerate, trace: verbose ? line => console.log(line) : undefined })
      console.log(`seed ${seed} [${storage}]: ok, ${st.ops} ops, ${st.mutations} mutations (${st.mutationsOk} resolved), ${st.checks} checks, faults ${JSON.stringify(st.faults)}, tolerated ${JSON.stringify(st.tolerated)}`)
      return 0
    } catch (err) {
      if (!(err instanceof FuzzFailure)) throw err
      console.log(`${err.message}\n${err.report}`)
      return 1
    }
  }
  const seed = seedArg !== undefined ? Number(seedArg) : Date.now() % 1_000_000
  console.log(`concurrency fuzz: ${storage}, ${minutes} min, seeds from ${seed}`)
  const r = await runFor({ minutes: Number(minutes), storage, seed, phases, opsPerPhase: ops, tolerate, keepGoing: argv.includes('--keep-going') })
  console.log(`\n[${storage}] ${r.seconds.toFixed(0)} s: ${r.seeds} seeds (${seed}..${seed + r.seeds}), ${r.ops} ops (${(r.ops / r.seconds).toFixed(0)} ops/s), ` +
    `${r.mutations} mutations, ${r.checks} checks, faults injected ${JSON.stringify(r.faults)}, tolerated known bugs ${JSON.stringify(r.tolerated)}`)
  console.log(`memory: rss ${r.memory.rssStartMiB} → ${r.memory.rssEndMiB} MiB (peak ${r.memory.rssPeakMiB}), heap ${r.memory.heapEndMiB} MiB`)
  if (r.failures.length === 0) {
    console.log('no failures')
  } else {
    // Grouped by message with the numbers taken out: one line per distinct problem.
    const groups = new Map<string, number[]>()
    for (const f of r.failures) {
      const key = f.message.replace(/^.*?: phase \d+: /, '').replace(/\d+/g, '#').replace(/"[^"]*"/g, '"…"').slice(0, 160)
      groups.set(key, [...(groups.get(key) ?? []), f.seed])
    }
    console.log(`${r.failures.length} failing seed(s):`)
    for (const [key, seeds] of groups) console.log(`  ${seeds.length}× ${key}   seeds ${seeds.slice(0, 8).join(', ')}`)
  }
  return r.failures.length === 0 ? 0 : 1
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).then(code => { process.exitCode = code }, (err: unknown) => {
    console.error(err)
    process.exitCode = 2
  })
}
