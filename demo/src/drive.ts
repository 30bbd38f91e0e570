/**
 * @module demo/drive
 * A shared dataset as a Hyperdrive (hyperdrive@11, unchanged) on hypercore-web's Corestore:
 * - each file under its path (a folder keeps its tree: `/field-notes/raw/samples.bin`), its
 *   bytes in 64 KiB blocks of the drive's blobs core, its MIME type and time in the entry's
 *   `metadata`;
 * - the dataset's name in a Hyperbee sub of the drive's db (`hypercore-web-demo` → `dataset`),
 *   next to hyperdrive's own `files` sub, so hyperdrive's API never lists it.
 * Any hyperdrive@11 reads such a drive (demo/fetch.ts does, on corestore@6 and hypercore@10).
 * Nothing here touches the DOM or the network: the page and the tests share it.
 */
import type { Hypercore } from '../../src/core/hypercore.js'
import { Corestore } from '../../src/store/index.js'
import { MemoryDirectory } from '../../src/storage/index.js'
import { cryptoReady } from '../../src/crypto/sodium.js'
import { HypercoreError } from '../../src/errors.js'

export const BLOCK_SIZE = 64 * 1024
/** The Hyperbee sub holding the dataset's own record. */
export const INFO_SUB = 'hypercore-web-demo'
/** Past this many blobs blocks (1 TiB of 64 KiB blocks) a drive is too large for the page's progress map. */
export const MAX_BLOCKS = 2 ** 24

/** The dataset's own record (name and creation time), kept beside the files. */
export interface DatasetInfo {
  name: string
  created: number
}

/** A hyperblobs id: where a file's bytes are in the blobs core. */
export interface BlobId {
  blockOffset: number
  blockLength: number
  byteOffset: number
  byteLength: number
}

/** A drive entry as hyperdrive@11 lists it. */
export interface DriveEntry {
  key: string
  value: { executable?: boolean, linkname?: string | null, blob?: BlobId | null, metadata?: unknown }
}

/** One file of a dataset, as the page shows it. */
export interface DriveFile {
  /** The drive path without its leading '/': 'field-notes/raw/samples.bin'. */
  path: string
  size: number
  /** MIME type as the sharing browser reported it ('' when unknown). */
  type: string
  /** Last modified time (ms since the epoch), 0 when unknown. */
  modified: number
  /** First block of the file in the blobs core, and how many. */
  block: number
  blocks: number
}

interface BeeLike {
  sub (prefix: string, opts: object): BeeLike
  put (key: string, value: unknown): Promise<void>
  get (key: string, opts?: object): Promise<{ value: unknown } | null>
  getHeader (opts?: object): Promise<{ protocol?: string, metadata?: { contentFeed?: Uint8Array | null } | null } | null>
}

interface WritableLike {
  write (data: Uint8Array): boolean
  end (): void
  once (event: string, fn: (...args: any[]) => void): unknown
  on (event: string, fn: (...args: any[]) => void): unknown
  destroy (err?: Error): void
}

/** The part of hyperdrive@11 the demo uses. */
export interface Hyperdrive {
  readonly key: Uint8Array
  readonly discoveryKey: Uint8Array
  readonly id: string
  readonly core: Hypercore
  readonly db: BeeLike
  readonly blobs: { core: Hypercore } | null
  readonly writable: boolean
  readonly version: number
  readonly corestore: Corestore
  ready (): Promise<void>
  close (): Promise<void>
  getBlobs (): Promise<{ core: Hypercore } | null>
  list (folder?: string, opts?: object): AsyncIterable<DriveEntry>
  createWriteStream (path: string, opts?: { metadata?: unknown }): WritableLike
}

export interface HyperdriveClass {
  new (store: Corestore, key?: Uint8Array | null): Hyperdrive
  getDriveKey (store: Corestore): Promise<Uint8Array>
}

/**
 * hyperdrive@11, loaded once hypercore-web's crypto is ready: in the page bundle its
 * `require('hypercore-crypto')` is hypercore-web's libsodium (demo/shims/), which hyperdrive
 * calls as its module loads.
 */
export async function loadHyperdrive (): Promise<HyperdriveClass> {
  await cryptoReady()
  // @ts-ignore hyperdrive ships no types (the interface above is what the demo uses of it)
  const mod = await import('hyperdrive') as { default?: unknown }
  return (mod.default ?? mod) as HyperdriveClass
}

/**
 * The key of the drive a store with `primaryKey` makes (`new Hyperdrive(store)` names its db
 * core 'db'), worked out on a scratch store in memory: the page names the drive's IndexedDB
 * database after its key before it writes anything there.
 */
export async function driveKeyFor (Hyperdrive: HyperdriveClass, primaryKey: Uint8Array): Promise<Uint8Array> {
  const scratch = new Corestore(new MemoryDirectory(), { primaryKey })
  try {
    return await Hyperdrive.getDriveKey(scratch)
  } finally {
    await scratch.close()
  }
}

/** Where a picked file's bytes come from: a browser `File`, or bytes in a test. */
export interface FileSource {
  path: string
  size: number
  type?: string
  modified?: number
  read (start: number, end: number): Promise<Uint8Array>
}

/** Checks the picked files (names, duplicates, sizes); returns their drive paths and total bytes. */
export function planFiles (sources: readonly FileSource[]): { paths: string[], bytes: number, blocks: number } {
  if (sources.length === 0) throw HypercoreError.BAD_ARGUMENT('a dataset needs at least one file')
  const seen = new Set<string>()
  let bytes = 0
  let blocks = 0
  const paths = sources.map(s => {
    const path = cleanPath(s.path)
    if (seen.has(path)) throw HypercoreError.BAD_ARGUMENT(`two files are named ${path}`)
    seen.add(path)
    if (!Number.isSafeInteger(s.size) || s.size < 0) throw HypercoreError.BAD_ARGUMENT(`bad size for ${path}`)
    bytes += s.size
    blocks += Math.ceil(s.size / BLOCK_SIZE)
    return path
  })
  if (blocks > MAX_BLOCKS) throw HypercoreError.BAD_ARGUMENT('too much data for one dataset of this demo (1 TiB at most)')
  return { paths, bytes, blocks }
}

/**
 * Writes the dataset into a new, writable drive: its record, then each file through
 * `createWriteStream` in 64 KiB blocks (hyperblobs appends 16 blocks at a time: one
 * IndexedDB transaction each). `onProgress(bytes)` after every block written.
 */
export async function writeDrive (drive: Hyperdrive, info: DatasetInfo, sources: readonly FileSource[], { onProgress }: { onProgress?: (bytes: number) => void } = {}): Promise<void> {
  if (!drive.writable) throw HypercoreError.BAD_ARGUMENT('a dataset is written into a writable drive')
  const { paths } = planFiles(sources)
  await infoBee(drive).put('dataset', info)
  let done = 0
  for (let i = 0; i < sources.length; i++) {
    const src = sources[i]!
    const ws = drive.createWriteStream('/' + paths[i]!, { metadata: { type: src.type ?? '', modified: src.modified ?? 0 } })
    const finished = new Promise<void>((resolve, reject) => {
      ws.once('finish', () => resolve())
      ws.once('error', (err: unknown) => reject(err))
      ws.once('close', () => reject(HypercoreError.SESSION_CLOSED(`${paths[i]} was not written whole`)))
    })
    finished.catch(() => {}) // awaited below; a write error may come first
    try {
      for (let start = 0; start < src.size; start += BLOCK_SIZE) {
        const end = Math.min(src.size, start + BLOCK_SIZE)
        const chunk = await src.read(start, end)
        if (chunk.byteLength !== end - start) throw HypercoreError.BAD_ARGUMENT(`${paths[i]} could not be read whole (did it change while sharing?)`)
        done += chunk.byteLength
        if (!ws.write(chunk)) await Promise.race([new Promise(resolve => ws.once('drain', resolve)), finished])
        onProgress?.(done)
      }
      ws.end()
      await finished
    } catch (err) {
      ws.destroy()
      throw err
    }
  }
}

function infoBee (drive: Hyperdrive): BeeLike {
  return drive.db.sub(INFO_SUB, { keyEncoding: 'utf-8', valueEncoding: 'json' })
}

/** The dataset's record, or null for a drive made by something else than this demo. */
export async function readInfo (drive: Hyperdrive, opts: { wait?: boolean } = {}): Promise<DatasetInfo | null> {
  const node = await infoBee(drive).get('dataset', opts).catch(() => null)
  const v = node?.value as Record<string, unknown> | undefined
  if (typeof v !== 'object' || v === null || typeof v.name !== 'string') return null
  return { name: v.name.slice(0, 200), created: isCount(v.created) ? v.created as number : 0 }
}

/**
 * Checks that block 0 of a drive's db core (stored already) is a Hyperdrive's header: a
 * Hyperbee header naming the blobs core; returns the blobs core's key. Anything else throws
 * DECODING_ERROR saying what it is (the page words it for a person). Done before a Hyperdrive
 * is made on the key: hyperdrive@11, given a Hyperbee that names no blobs core, fails in a
 * background promise that nobody can catch.
 */
export async function checkDriveHeader (db: Hypercore): Promise<Uint8Array> {
  // @ts-ignore hyperbee ships no types
  const { default: Hyperbee } = await import('hyperbee') as { default: new (core: Hypercore) => BeeLike & { close (): Promise<void> } }
  const bee = new Hyperbee(db.session())
  let header: Awaited<ReturnType<BeeLike['getHeader']>>
  try {
    header = await bee.getHeader({ wait: false })
  } catch (err) {
    throw HypercoreError.DECODING_ERROR('not a Hyperdrive: its first block is not a Hyperbee header', err)
  } finally {
    await bee.close()
  }
  if (header === null) throw HypercoreError.BLOCK_NOT_AVAILABLE('the drive\'s first block is not here yet')
  if (header.protocol !== 'hyperbee') throw HypercoreError.DECODING_ERROR('not a Hyperdrive: its first block is not a Hyperbee header')
  const feed = header.metadata?.contentFeed
  if (!(feed instanceof Uint8Array) || feed.byteLength < 32) throw HypercoreError.DECODING_ERROR('not a Hyperdrive: a Hyperbee that names no blobs core')
  return feed.subarray(0, 32)
}

/**
 * Every file of the drive, in path order (symlinks and entries without contents left out),
 * each checked: a block range that is not whole numbers, or too large, is DECODING_ERROR.
 */
export async function listFiles (drive: Hyperdrive): Promise<DriveFile[]> {
  const files: DriveFile[] = []
  for await (const entry of drive.list('/')) {
    const blob = entry.value?.blob
    if (blob == null) continue
    if (!isCount(blob.blockOffset) || !isCount(blob.blockLength) || !isCount(blob.byteLength) || blob.blockOffset + blob.blockLength > MAX_BLOCKS) {
      throw HypercoreError.DECODING_ERROR(`not a usable drive: ${entry.key} has a bad block range`)
    }
    const meta = (entry.value.metadata ?? {}) as Record<string, unknown>
    files.push({
      path: entry.key.replace(/^\/+/, ''),
      size: blob.byteLength,
      type: typeof meta.type === 'string' ? meta.type.slice(0, 100) : '',
      modified: isCount(meta.modified) ? meta.modified as number : 0,
      block: blob.blockOffset,
      blocks: blob.blockLength
    })
  }
  return files
}

/** The blobs blocks `[start, end)` holding one file. */
export function fileRange (file: DriveFile): { start: number, end: number } {
  return { start: file.block, end: file.block + file.blocks }
}

/** Blocks of the blobs core the files use (the end of the last range). */
export function blobsLength (files: readonly DriveFile[]): number {
  let n = 0
  for (const f of files) n = Math.max(n, f.block + f.blocks)
  return n
}

/**
 * Bytes of each block of the blobs core, as far as the file list tells: exact when a file is
 * in 64 KiB blocks with a short last one (what this demo writes), otherwise the file's
 * average block size.
 */
export function blockSizes (files: readonly DriveFile[]): Float64Array {
  const sizes = new Float64Array(blobsLength(files))
  for (const f of files) {
    const even = Math.ceil(f.size / BLOCK_SIZE) === f.blocks
    for (let b = 0; b < f.blocks; b++) {
      sizes[f.block + b] = even ? Math.min(BLOCK_SIZE, f.size - b * BLOCK_SIZE) : f.size / f.blocks
    }
  }
  return sizes
}

/** A file's blocks, in order, from the blobs core (they wait for peers when not stored yet). */
export async function readFileBlocks (blobs: Pick<Hypercore, 'get'>, file: DriveFile): Promise<Uint8Array[]> {
  const out: Uint8Array[] = []
  let total = 0
  for (let i = file.block; i < file.block + file.blocks; i++) {
    const b = await blobs.get(i)
    if (!(b instanceof Uint8Array)) throw HypercoreError.BLOCK_NOT_AVAILABLE(`block ${i} of ${file.path} is not available`)
    out.push(b)
    total += b.byteLength
  }
  if (total !== file.size) throw HypercoreError.DECODING_ERROR(`${file.path}: ${total} bytes in its blocks, the drive says ${file.size}`)
  return out
}

/** A '/'-separated relative path without empty, '.' or '..' parts (names only, never a place on disk). */
export function cleanPath (path: string): string {
  const parts = path.replace(/\\/g, '/').split('/').filter(p => p !== '' && p !== '.' && p !== '..')
  if (parts.length === 0) throw HypercoreError.BAD_ARGUMENT(`bad file name: ${JSON.stringify(path)}`)
  return parts.join('/')
}

/** The last part of a path: the name a browser saves the file under. */
export function baseName (path: string): string {
  return path.slice(path.lastIndexOf('/') + 1)
}

function isCount (v: unknown): boolean {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0
}
