/**
 * @module demo/dataset
 * A dataset as a Hypercore: block 0 is a small JSON index (names, sizes, types and the block
 * range of each file), then each file's bytes in blocks of `blockSize` (64 KiB by default).
 * Each file starts on its own block, so one file can be fetched, shown and saved on its own
 * (`core.download({ start, end })` of its range) and per-file progress is a block count.
 * Nothing here touches the DOM or the network: the page and the tests share it.
 */
import { HypercoreError } from '../../src/errors.js'

export const FORMAT = 'hypercore-web-dataset'
export const DEFAULT_BLOCK_SIZE = 64 * 1024
/** The index is one block; past this a dataset has too many files for the demo's format. */
export const MAX_INDEX_BYTES = 4 * 1024 * 1024

export interface DatasetFile {
  /** Relative path ('folder/sub/name.txt'), '/' separated. */
  path: string
  size: number
  /** MIME type as the browser reported it ('' when unknown). */
  type: string
  /** Last modified time (ms since the epoch), 0 when unknown. */
  modified: number
  /** First block of the file in the core. */
  block: number
  /** Number of blocks (0 for an empty file). */
  blocks: number
}

export interface DatasetIndex {
  format: typeof FORMAT
  version: 1
  name: string
  blockSize: number
  created: number
  files: DatasetFile[]
  /** Blocks of the whole core, the index included. */
  length: number
  /** File bytes (the index excluded). */
  bytes: number
}

/** Where file bytes come from: a browser `File`, or bytes in a test. */
export interface FileSource {
  path: string
  size: number
  type?: string
  modified?: number
  read (start: number, end: number): Promise<Uint8Array>
}

/** What writing needs of a core (a `Hypercore` session). */
export interface AppendTarget {
  readonly length: number
  append (blocks: Uint8Array[]): Promise<unknown>
}

/** What reading needs of a core. */
export interface BlockSource {
  get (index: number, opts?: { wait?: boolean }): Promise<unknown>
}

/** Lays the files out: block 0 is the index, then each file on its own blocks, in order. */
export function planDataset (name: string, sources: readonly FileSource[], { blockSize = DEFAULT_BLOCK_SIZE, created = Date.now() } = {}): DatasetIndex {
  if (!Number.isSafeInteger(blockSize) || blockSize <= 0) throw HypercoreError.BAD_ARGUMENT('blockSize must be a positive integer')
  if (sources.length === 0) throw HypercoreError.BAD_ARGUMENT('a dataset needs at least one file')
  let block = 1
  let bytes = 0
  const seen = new Set<string>()
  const files = sources.map(s => {
    const path = cleanPath(s.path)
    if (seen.has(path)) throw HypercoreError.BAD_ARGUMENT(`two files are named ${path}`)
    seen.add(path)
    if (!Number.isSafeInteger(s.size) || s.size < 0) throw HypercoreError.BAD_ARGUMENT(`bad size for ${path}`)
    const blocks = Math.ceil(s.size / blockSize)
    const f: DatasetFile = { path, size: s.size, type: s.type ?? '', modified: s.modified ?? 0, block, blocks }
    block += blocks
    bytes += s.size
    return f
  })
  return { format: FORMAT, version: 1, name, blockSize, created, files, length: block, bytes }
}

export function encodeIndex (index: DatasetIndex): Uint8Array {
  const bytes = new TextEncoder().encode(JSON.stringify(index))
  if (bytes.byteLength > MAX_INDEX_BYTES) throw HypercoreError.BAD_ARGUMENT(`the file list is too large (${bytes.byteLength} bytes): share fewer files`)
  return bytes
}

/** Parses and checks block 0; anything else than a well-formed index is DECODING_ERROR. */
export function decodeIndex (bytes: Uint8Array): DatasetIndex {
  let v: unknown
  try {
    v = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes))
  } catch (err) {
    throw HypercoreError.DECODING_ERROR('block 0 is not a dataset index (not JSON)', err)
  }
  const bad = (why: string): never => { throw HypercoreError.DECODING_ERROR(`block 0 is not a dataset index: ${why}`) }
  if (typeof v !== 'object' || v === null) return bad('not an object')
  const o = v as Record<string, unknown>
  if (o.format !== FORMAT || o.version !== 1) return bad('unknown format')
  if (typeof o.name !== 'string' || !isCount(o.blockSize) || (o.blockSize as number) === 0 || !Array.isArray(o.files)) return bad('missing fields')
  let block = 1
  let total = 0
  const files: DatasetFile[] = []
  for (const f of o.files as unknown[]) {
    const r = (f ?? {}) as Record<string, unknown>
    if (typeof r.path !== 'string' || !isCount(r.size) || !isCount(r.block) || !isCount(r.blocks)) return bad('bad file entry')
    const size = r.size as number
    // The layout is implied by the sizes: a lying index cannot point files at other blocks.
    if (r.block !== block || r.blocks !== Math.ceil(size / (o.blockSize as number))) return bad(`bad block range for ${r.path}`)
    files.push({ path: cleanPath(r.path), size, type: typeof r.type === 'string' ? r.type : '', modified: isCount(r.modified) ? r.modified as number : 0, block, blocks: r.blocks as number })
    block += r.blocks as number
    total += size
  }
  if (o.length !== block || o.bytes !== total) return bad('length does not match the files')
  return { format: FORMAT, version: 1, name: o.name, blockSize: o.blockSize as number, created: isCount(o.created) ? o.created as number : 0, files, length: block, bytes: total }
}

/**
 * Appends the index and every file's blocks to an empty core, `batchBlocks` blocks per
 * append (one IndexedDB transaction each: batching is what makes IndexedDB fast).
 */
export async function writeDataset (core: AppendTarget, index: DatasetIndex, sources: readonly FileSource[], { batchBlocks = 16, onProgress }: { batchBlocks?: number, onProgress?: (bytes: number) => void } = {}): Promise<void> {
  if (core.length !== 0) throw HypercoreError.BAD_ARGUMENT('a dataset is written into an empty core')
  if (sources.length !== index.files.length) throw HypercoreError.BAD_ARGUMENT('sources do not match the index')
  await core.append([encodeIndex(index)])
  let batch: Uint8Array[] = []
  let done = 0
  const flush = async (): Promise<void> => {
    if (batch.length === 0) return
    await core.append(batch)
    for (const b of batch) done += b.byteLength
    batch = []
    onProgress?.(done)
  }
  for (let i = 0; i < sources.length; i++) {
    const src = sources[i]!
    const file = index.files[i]!
    if (src.size !== file.size) throw HypercoreError.BAD_ARGUMENT(`${file.path} changed size while sharing`)
    for (let b = 0; b < file.blocks; b++) {
      const start = b * index.blockSize
      const chunk = await src.read(start, Math.min(file.size, start + index.blockSize))
      if (chunk.byteLength !== Math.min(index.blockSize, file.size - start)) throw HypercoreError.BAD_ARGUMENT(`${file.path} could not be read whole`)
      batch.push(chunk)
      if (batch.length >= batchBlocks) await flush()
    }
  }
  await flush()
}

/** The core's blocks `[start, end)` holding one file. */
export function fileRange (file: DatasetFile): { start: number, end: number } {
  return { start: file.block, end: file.block + file.blocks }
}

/** A file's blocks, in order (they wait for peers when not stored yet). */
export async function readFileBlocks (core: BlockSource, file: DatasetFile): Promise<Uint8Array[]> {
  const out: Uint8Array[] = []
  for (let i = file.block; i < file.block + file.blocks; i++) {
    const b = await core.get(i)
    if (!(b instanceof Uint8Array)) throw HypercoreError.BLOCK_NOT_AVAILABLE(`block ${i} of ${file.path} is not available`)
    out.push(b)
  }
  const total = out.reduce((n, b) => n + b.byteLength, 0)
  if (total !== file.size) throw HypercoreError.DECODING_ERROR(`${file.path}: ${total} bytes in its blocks, the index says ${file.size}`)
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
