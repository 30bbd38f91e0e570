/**
 * @module core/format/tree-file
 * The `tree` file (spec §6.2): Merkle node `i` at byte `40·i` as `u64le size ‖ hash(32)`, an
 * all-zero record meaning "absent". Implements the tree layer's `NodeReader`; writes are
 * buffered (`put`, `truncate`) and go out on `flush()`, which the core calls before it flushes
 * the oplog header (entries in the oplog replay anything not yet flushed). Reads go through an
 * LRU cache, since proofs and byte-offset lookups hit the same upper nodes again and again.
 */
import { HypercoreError } from '../../errors.js'
import { promisify, type StoragePromises } from '../../storage/promises.js'
import type { RandomAccessStorage } from '../../storage/types.js'
import { leftSpan, parent, rightSpan } from '../../tree/flat.js'
import type { NodeReader, TreeNode } from '../../tree/types.js'

export const NODE_BYTES = 40
const HASH_BYTES = 32
const DEFAULT_CACHE_SIZE = 65536
/**
 * A read that misses reads the aligned run of this many records around the node (1280 bytes),
 * kept undecoded in one of WINDOWS windows: serving blocks in order asks for each leaf and
 * its low parents once, and a run holds sixteen leaves with their parents up to the 16-leaf
 * subtree, so a sequential reader costs one storage read per run instead of one per node.
 */
const READ_AHEAD = 32
const WINDOWS = 4

/** Records read from the file in one go (see READ_AHEAD), valid while the epoch they were read in lasts. */
interface ReadWindow { start: number, end: number, epoch: number, bytes: Uint8Array }

/**
 * Hypercore 9 tree files start with a 32-byte SLEEP header: magic `05 02 57`, file type 2
 * (tree), version 0, entry size 40 (u16be). As a v10 node 0 those bytes would be a size near
 * 5·10^17, which no real core reaches, so the check cannot misfire on a v10 file.
 */
const SLEEP_TREE_HEADER = [0x05, 0x02, 0x57, 0x02, 0x00, 0x00, 0x28]

export interface TreeFileOptions {
  /** Nodes kept in the read cache (an approximate LRU in two generations of half this each). Default 65536 (about 5 MB). */
  cacheSize?: number
}

/** Encodes one node record (§6.2). */
export function encodeNode (node: TreeNode, out = new Uint8Array(NODE_BYTES), offset = 0): Uint8Array {
  const view = new DataView(out.buffer, out.byteOffset + offset, NODE_BYTES)
  view.setUint32(0, node.size % 0x100000000, true)
  view.setUint32(4, Math.floor(node.size / 0x100000000), true)
  out.set(node.hash, offset + 8)
  return out
}

/** Decodes the record of node `index`; null when it is all zero (absent). */
export function decodeNode (index: number, bytes: Uint8Array, offset = 0): TreeNode | null {
  const view = new DataView(bytes.buffer, bytes.byteOffset + offset, NODE_BYTES)
  const lo = view.getUint32(0, true)
  const hi = view.getUint32(4, true)
  const hash = bytes.subarray(offset + 8, offset + NODE_BYTES)
  if (lo === 0 && hi === 0 && _allZero(hash)) return null
  if (hi >= 0x200000) throw HypercoreError.DECODING_ERROR(`tree node ${index}: size does not fit in 53 bits (corrupt tree file?)`)
  return { index, size: hi * 0x100000000 + lo, hash: new Uint8Array(hash) }
}

function _allZero (bytes: Uint8Array): boolean {
  for (let i = 0; i < bytes.length; i++) if (bytes[i] !== 0) return false
  return true
}

function _checkNode (n: TreeNode): void {
  if (!Number.isSafeInteger(n.index) || n.index < 0) throw HypercoreError.BAD_ARGUMENT(`tree node index must be a non-negative integer, got ${String(n.index)}`)
  if (!Number.isSafeInteger(n.size) || n.size < 0) throw HypercoreError.BAD_ARGUMENT(`tree node ${n.index}: bad size ${String(n.size)}`)
  if (!(n.hash instanceof Uint8Array) || n.hash.byteLength !== HASH_BYTES) throw HypercoreError.BAD_ARGUMENT(`tree node ${n.index}: hash must be 32 bytes`)
}

export class TreeFile implements NodeReader {
  readonly storage: RandomAccessStorage
  private readonly _io: StoragePromises
  private readonly _cacheSize: number
  /**
   * The read cache, in two generations (an approximate LRU without a delete per hit): new
   * entries and hits go to `_young`; when it holds half the cache size it becomes `_old` and
   * the previous `_old` is dropped whole. A hit only in `_old` is copied to `_young`, so
   * `_young` is always at least as new. (A Map LRU — delete + re-insert per hit, bursts of
   * deletes to evict — cost ~3 µs per read on a 65536-node cache full of V8's deleted
   * slots: 40% of a 1 KiB-block download.) `null` = a record read as blank: a sparse replica
   * asks about its holes on every request (missingNodes), and without this each ask was a read.
   */
  private _young = new Map<number, TreeNode | null>()
  private _old = new Map<number, TreeNode | null>()
  /** Buffered writes; null = write a blank record. */
  private _pending = new Map<number, TreeNode | null>()
  /** Buffered truncation: the flat index at which the file will be cut, or null. */
  private _cutIndex: number | null = null
  /**
   * What a flush in progress is writing: reads must still see it until it is on disk (a get
   * racing the flush would otherwise read the file before the write lands and find nothing).
   */
  private _flushing: Map<number, TreeNode | null> | null = null
  private _flushingCut: number | null = null
  private _fileBytes: number
  /**
   * Records at this index and above held nothing when the file was opened (or were cut off
   * since); of those, the file holds only what a flush of ours wrote, marked in `_written`.
   * So a node there that is not marked is blank without a read: a fresh replica's file grows
   * past holes it fills later, and otherwise each hole is read once. `getCached` answers it
   * synchronously, so the tree's missing-node walks skip a promise per hole.
   */
  private _freshFrom: number
  /** Bitmap of the records at `_freshFrom` and above that a flush wrote (see `_freshFrom`). */
  private _written = new Uint8Array(0)
  /**
   * Bumped by whatever can make a record read from the file stale or drop a newer value from
   * memory: `truncate`, a flush that cuts, `clearCache` and a cache generation dropped whole
   * (see `get`). Puts and ordinary flushes do not: a put stays visible in memory (pending, then
   * the flush in progress, then the cache) until one of those happens.
   */
  private _epoch = 0
  /** The flush in progress (flushes run one at a time). */
  private _flushTail: Promise<void> = Promise.resolve()
  /** Reads in flight, by node index, with the epoch each started in (see `get`). */
  private readonly _reading = new Map<number, { epoch: number, node: Promise<TreeNode | null> }>()
  /**
   * The last few runs of records read (READ_AHEAD), as the file held them. A record there is
   * decoded when asked for, after everything newer in memory (buffered puts, the flush in
   * progress, the cache) missed; a window read in an earlier epoch is ignored, since what can
   * make the file's record stale (a cut) or drop a newer value from memory bumps the epoch.
   */
  private _windows: ReadWindow[] = []
  private _nextWindow = 0

  private constructor (storage: RandomAccessStorage, fileBytes: number, cacheSize: number) {
    this.storage = storage
    this._io = promisify(storage)
    this._fileBytes = fileBytes
    this._freshFrom = Math.ceil(fileBytes / NODE_BYTES)
    this._cacheSize = cacheSize
  }

  /**
   * Opens the tree file. Refuses a hypercore 9 (SLEEP) tree with STORAGE_NOT_SUPPORTED: its
   * layout is different and v10 cannot read it without a migration.
   */
  static async open (storage: RandomAccessStorage, opts: TreeFileOptions = {}): Promise<TreeFile> {
    const io = promisify(storage)
    const { size } = await io.stat()
    if (size >= SLEEP_TREE_HEADER.length) {
      const head = await io.read(0, SLEEP_TREE_HEADER.length)
      if (SLEEP_TREE_HEADER.every((b, i) => head[i] === b)) {
        throw HypercoreError.STORAGE_NOT_SUPPORTED('The tree file is in the hypercore 9 (SLEEP) format; hypercore 10 storage cannot open it')
      }
    }
    const cacheSize = opts.cacheSize ?? DEFAULT_CACHE_SIZE
    if (!Number.isSafeInteger(cacheSize) || cacheSize < 0) throw HypercoreError.BAD_ARGUMENT('cacheSize must be a non-negative integer')
    return new TreeFile(storage, size, cacheSize)
  }

  /** Size of the file as of the last flush (or open). */
  get byteLength (): number {
    return this._fileBytes
  }

  /** True while there are buffered writes or a buffered truncation. */
  get dirty (): boolean {
    return this._pending.size > 0 || this._cutIndex !== null
  }

  /** Node `index`, or null if it is not stored (`NodeReader`). Sees buffered writes. */
  async get (index: number): Promise<TreeNode | null> {
    const known = this.getCached(index)
    if (known !== undefined) return known
    // Concurrent gets of one node share its read (a reader's requests in flight all ask about
    // the same upper nodes at once), unless the epoch moved since it started: a put evicted
    // meanwhile may have changed the record.
    const reading = this._reading.get(index)
    if (reading !== undefined && reading.epoch === this._epoch) return await reading.node
    const epoch = this._epoch
    const node = this._read(index, epoch)
    this._reading.set(index, { epoch, node })
    try {
      return await node
    } finally {
      if (this._reading.get(index)?.node === node) this._reading.delete(index)
    }
  }

  private async _read (index: number, epoch: number): Promise<TreeNode | null> {
    const node = decodeNode(index, await this._readAround(index, epoch))
    // A put to this index while we read wins, and is still in memory (getCached) unless the
    // epoch moved. What we read is cached only if neither happened: a stale blank would hide a
    // stored node, a stale node would outlive a truncate. (Caching blanks matters: a sparse
    // reader asks about its holes on every request while puts land all the time.)
    const now = this.getCached(index)
    if (now !== undefined) return now
    if (epoch === this._epoch) this._remember(index, node)
    return node
  }

  /**
   * The record of node `index`: read with the run around it (READ_AHEAD, kept as a window),
   * or alone when the run cannot be read whole (the file may be cut meanwhile, past `index`).
   */
  private async _readAround (index: number, epoch: number): Promise<Uint8Array> {
    const start = index - (index % READ_AHEAD)
    const end = Math.min(start + READ_AHEAD, Math.floor(this._fileBytes / NODE_BYTES))
    if (end - start > 1 && this._cacheSize > 0) { // no cache, no windows: every get reads
      try {
        const bytes = await this._io.read(start * NODE_BYTES, (end - start) * NODE_BYTES)
        if (epoch === this._epoch) {
          this._windows[this._nextWindow] = { start, end, epoch, bytes }
          this._nextWindow = (this._nextWindow + 1) % WINDOWS
        }
        const at = (index - start) * NODE_BYTES
        return bytes.subarray(at, at + NODE_BYTES)
      } catch {
        // the single record below decides
      }
    }
    return await this._io.read(index * NODE_BYTES, NODE_BYTES)
  }

  /** Node `index` decoded from a window of this epoch; undefined when none holds it (or it does not decode: `get` reports that). */
  private _fromWindow (index: number): TreeNode | null | undefined {
    for (const w of this._windows) {
      if (w.epoch !== this._epoch || index < w.start || index >= w.end) continue
      try {
        return decodeNode(index, w.bytes, (index - w.start) * NODE_BYTES)
      } catch {
        return undefined
      }
    }
    return undefined
  }

  /**
   * Node `index` from memory (buffered writes, the flush in progress, the read cache), `null`
   * when it is known to be absent (cut off, or past the end of the file), `undefined` when
   * only a read of the file can tell (`NodeReader.getCached`).
   */
  getCached (index: number): TreeNode | null | undefined {
    if (!Number.isSafeInteger(index) || index < 0) throw HypercoreError.BAD_ARGUMENT(`tree node index must be a non-negative integer, got ${String(index)}`)
    if (this._pending.size > 0) {
      const pending = this._pending.get(index)
      if (pending !== undefined) return pending
    }
    if (this._cutIndex !== null && index >= this._cutIndex) return null
    if (this._flushing !== null) {
      const flushing = this._flushing.get(index)
      if (flushing !== undefined) return flushing
    }
    if (this._flushingCut !== null && index >= this._flushingCut) return null
    // Known blank from what the file holds, before the cache: the cache never holds a node
    // there (a cut drops its entries, a flush extends the file first), and a reader asks about
    // its holes above all (missingNodes, for every block it requests).
    if ((index + 1) * NODE_BYTES > this._fileBytes) return null
    if (index >= this._freshFrom && !this._wasWritten(index)) return null
    const young = this._young.get(index)
    if (young !== undefined) return young
    const old = this._old.get(index)
    if (old !== undefined) {
      this._remember(index, old)
      return old
    }
    if (this._windows.length > 0) {
      const read = this._fromWindow(index)
      if (read !== undefined) {
        this._remember(index, read)
        return read
      }
    }
    return undefined
  }

  /** Buffers nodes for the next flush. Visible to `get` at once. */
  put (nodes: Iterable<TreeNode>): void {
    for (const n of nodes) {
      _checkNode(n)
      this._pending.set(n.index, n)
    }
  }

  /**
   * Truncates to `length` blocks (§6.2), exactly as hypercore@10 does it, so the file bytes
   * match (test/core/differential.test.ts):
   * - the file is cut at flat index `2·length − 1` (all of it when length is 0);
   * - walking up from the last kept leaf until the left edge of the tree, every node that
   *   contains the first cut leaf `2·length` and has an index below it is blanked (the
   *   surviving nodes crossing the end, plus node `2·length − 1` itself when the walk
   *   reaches it: that one is written as a blank record just past the cut);
   * - buffered nodes at `2·length` and above are dropped; one at `2·length − 1` that the
   *   walk did not blank is kept and written (hypercore@10 keeps it as well).
   * Buffered until `flush()`, visible to `get` at once.
   */
  truncate (length: number): void {
    if (!Number.isSafeInteger(length) || length < 0) throw HypercoreError.BAD_ARGUMENT(`length must be a non-negative integer, got ${String(length)}`)
    this._epoch++
    const cut = length === 0 ? 0 : 2 * length - 1
    const head = 2 * length
    for (const i of [...this._pending.keys()]) if (i >= head) this._pending.delete(i)
    for (const cache of [this._young, this._old]) for (const i of [...cache.keys()]) if (i >= cut) cache.delete(i)
    this._cutIndex = this._cutIndex === null ? cut : Math.min(this._cutIndex, cut)
    if (length === 0) return
    let i = head - 2
    while (true) {
      if (i < head && leftSpan(i) <= head && head <= rightSpan(i)) {
        this._pending.set(i, null)
        this._young.delete(i)
        this._old.delete(i)
      }
      if (leftSpan(i) === 0) break
      i = parent(i)
    }
  }

  /**
   * Applies the buffered truncation (cuts the file at `40·cut`), then writes the buffered
   * nodes, adjacent ones as one write. On failure the buffers are kept for a retry.
   */
  flush (): Promise<void> {
    // One at a time: a flush that overlapped another would hide the other's nodes from `get`
    // (there is one `_flushing`), and could finish first and let the header cover them.
    const run = this._flushTail.then(() => this._flushNow())
    this._flushTail = run.catch(() => {})
    return run
  }

  private async _flushNow (): Promise<void> {
    const pending = this._pending
    const cut = this._cutIndex
    const overlapping = this._flushing !== null
    this._pending = new Map()
    this._cutIndex = null
    this._flushing = pending
    this._flushingCut = cut
    if (cut !== null) this._epoch++
    try {
      // Every write issued at once, in order (a storage that commits in issue order puts them
      // in one transaction; each file applies its operations in issue order anyway).
      const writes: Array<Promise<void>> = []
      if (cut !== null && this._fileBytes > cut * NODE_BYTES) {
        writes.push(this._io.truncate(cut * NODE_BYTES).then(() => { this._fileBytes = Math.min(this._fileBytes, cut * NODE_BYTES) }))
      }
      if (cut !== null) this._forgetWrittenFrom(cut)
      // A verified proof re-puts every node on its path to the root, mostly ones already in
      // the file: those are skipped. The cache holds what the file holds, unless this flush
      // cuts the file (a node at the cut index must be written again, as hypercore@10 does)
      // or another flush is still writing.
      const skipKnown = cut === null && !overlapping
      const indexes: number[] = []
      for (const [i, n] of pending) if (!skipKnown || !this._onDisk(n)) indexes.push(i)
      indexes.sort((a, b) => a - b)
      let k = 0
      while (k < indexes.length) {
        let run = 1
        while (k + run < indexes.length && indexes[k + run] === indexes[k]! + run) run++
        const first = indexes[k]!
        const buf = new Uint8Array(run * NODE_BYTES) // blanks stay zero
        for (let j = 0; j < run; j++) {
          const n = pending.get(first + j)!
          if (n !== null) encodeNode(n, buf, j * NODE_BYTES)
        }
        const count = run
        writes.push(this._io.write(first * NODE_BYTES, buf).then(() => {
          this._fileBytes = Math.max(this._fileBytes, (first + count) * NODE_BYTES)
          this._markWritten(first, count)
        }))
        k += run
      }
      const results = await Promise.allSettled(writes)
      for (const r of results) if (r.status === 'rejected') throw r.reason
    } catch (err) {
      // Put back what was not (known to be) written; newer puts/truncates win over ours.
      for (const [i, n] of pending) if (!this._pending.has(i) && (this._cutIndex === null || i < this._cutIndex)) this._pending.set(i, n)
      if (cut !== null) this._cutIndex = this._cutIndex === null ? cut : Math.min(this._cutIndex, cut)
      throw err
    } finally {
      this._flushing = null
      this._flushingCut = null
    }
    if (cut !== null) this._epoch++
    for (const [i, n] of pending) this._remember(i, n)
  }

  /** Drops the read cache (buffered writes stay). */
  clearCache (): void {
    this._epoch++
    this._young.clear()
    this._old.clear()
  }

  async close (): Promise<void> {
    await this._io.close()
  }

  private _wasWritten (index: number): boolean {
    const i = index - this._freshFrom
    return (i >>> 3) < this._written.length && (this._written[i >>> 3]! & (1 << (i & 7))) !== 0
  }

  private _markWritten (first: number, run: number): void {
    const from = Math.max(first, this._freshFrom) - this._freshFrom
    const to = first + run - this._freshFrom
    if (to <= from) return
    const need = ((to - 1) >>> 3) + 1
    if (need > this._written.length) {
      const grown = new Uint8Array(Math.max(need, this._written.length * 2, 64))
      grown.set(this._written)
      this._written = grown
    }
    for (let i = from; i < to; i++) this._written[i >>> 3]! |= 1 << (i & 7)
  }

  /** The file was cut at record `cut`: nothing at or above it holds a record any more. */
  private _forgetWrittenFrom (cut: number): void {
    if (cut <= this._freshFrom) {
      this._freshFrom = cut
      this._written = new Uint8Array(0)
      return
    }
    const i = cut - this._freshFrom
    const byte = i >>> 3
    if (byte >= this._written.length) return
    this._written[byte]! &= (1 << (i & 7)) - 1
    this._written.fill(0, byte + 1)
  }

  /** Whether `n` is a node the read cache holds as is (so the file holds it too). */
  private _onDisk (n: TreeNode | null): boolean {
    if (n === null) return false
    let known = this._young.get(n.index)
    if (known === undefined) known = this._old.get(n.index)
    if (known === undefined || known === null) return false
    if (known === n) return true
    if (known.size !== n.size) return false
    const a = known.hash
    const b = n.hash
    for (let i = 0; i < HASH_BYTES; i++) if (a[i] !== b[i]) return false
    return true
  }

  /** Caches a node or a blank in the young generation (see `_young`); at most `cacheSize` entries in all. */
  private _remember (index: number, node: TreeNode | null): void {
    if (this._cacheSize === 0) return
    if (this._young.size >= Math.max(1, this._cacheSize >>> 1) && !this._young.has(index)) {
      this._old = this._young
      this._young = new Map()
      this._epoch++
    }
    this._young.set(index, node)
  }
}
