/**
 * @module test/store/hyperdrive-workload
 * One Hyperdrive workload (hyperdrive@11, unchanged) that runs on any store: ours, or
 * corestore@6. Everything it returns is plain JSON, so two runs compare with deepEqual:
 * put/get/entry/exists/del, symlinks, write and read streams (byte ranges), list/readdir,
 * batches, checkouts, diffs, mirror into another drive, clear, and the cores' tree hashes
 * (the same blocks in the same order).
 * Platform-neutral (b4a, no Node built-ins): the Hyperdrive browser page
 * (web-test/pages/hyperdrive.page.ts) runs it too.
 */
import b4a from 'b4a'
import { blake2b256 } from '../../src/crypto/hash.js'
import { cryptoReady } from '../../src/crypto/sodium.js'

/**
 * A short fingerprint of some bytes (BLAKE2b-256, first 8 bytes, hex). Sodium must be loaded:
 * `driveWorkload` awaits it, and so does every async call of our cores and stores.
 */
export const sha = (b: Uint8Array): string => b4a.toString(blake2b256(b), 'hex').slice(0, 16)

const hex = (b: Uint8Array): string => b4a.toString(b, 'hex')
const str = (b: Uint8Array): string => b4a.toString(b)

/** Deterministic bytes: `n` bytes of a pattern seeded by `seed` (a Buffer in Node). */
export function pattern (n: number, seed: number): Uint8Array {
  const b = b4a.alloc(n)
  let x = seed
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0
    b[i] = x >>> 24
  }
  return b
}

/** The bytes of `pattern(n, seed)`, `chunk` bytes at a time (a 50 MiB file without holding it twice). */
export function * patternChunks (n: number, seed: number, chunk: number): Generator<Uint8Array> {
  let x = seed
  for (let at = 0; at < n; at += chunk) {
    const b = b4a.alloc(Math.min(chunk, n - at))
    for (let i = 0; i < b.byteLength; i++) {
      x = (x * 1103515245 + 12345) >>> 0
      b[i] = x >>> 24
    }
    yield b
  }
}

export async function collect (stream: AsyncIterable<unknown>): Promise<unknown[]> {
  const out: unknown[] = []
  for await (const x of stream) out.push(x)
  return out
}

export async function readAll (stream: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  return b4a.concat((await collect(stream)) as Uint8Array[])
}

/** An entry without the parts that are implementation details (hyperbee's seq). */
function entryJson (e: any): unknown {
  return e === null ? null : { key: e.key, value: e.value }
}

export async function driveWorkload (Hyperdrive: any, store: any): Promise<Record<string, unknown>> {
  await cryptoReady()
  const out: Record<string, unknown> = {}
  const drive = new Hyperdrive(store)
  await drive.ready()
  out.key = hex(drive.key)
  out.writable = drive.writable

  await drive.put('/a.txt', b4a.from('hello'))
  await drive.put('/dir/b.bin', pattern(200_000, 1))
  await drive.put('/dir/sub/c.txt', b4a.from('deep'))
  await drive.put('/exec.sh', b4a.from('#!/bin/sh'), { executable: true, metadata: { mode: 'x' } })
  out.contentKey = hex(drive.contentKey)
  out.get = str(await drive.get('/a.txt'))
  out.getMissing = await drive.get('/nope')
  out.entry = entryJson(await drive.entry('/dir/b.bin'))
  out.exec = entryJson(await drive.entry('/exec.sh'))
  out.exists = [await drive.exists('/a.txt'), await drive.exists('/dir'), await drive.exists('/nope')]

  await drive.symlink('/link', '/a.txt')
  out.link = entryJson(await drive.entry('/link'))

  const ws = drive.createWriteStream('/stream.bin')
  for (let i = 0; i < 5; i++) ws.write(pattern(30_000, 10 + i))
  ws.end()
  await new Promise((resolve, reject) => { ws.once('close', resolve); ws.once('error', reject) })
  const streamed = await drive.get('/stream.bin')
  out.streamed = [streamed.byteLength, sha(streamed)]

  const b = pattern(200_000, 1)
  const ranges: Array<Record<string, number>> = [{}, { start: 1000, end: 70_000 }, { start: 5, length: 10 }, { start: 199_990 }, { start: 65_536, end: 65_536 }]
  out.ranges = []
  for (const r of ranges) {
    const got = await readAll(drive.createReadStream('/dir/b.bin', r))
    const end = r.end !== undefined ? r.end + 1 : r.length !== undefined ? (r.start ?? 0) + r.length : b.byteLength
    ;(out.ranges as unknown[]).push([got.byteLength, sha(got), sha(b.subarray(r.start ?? 0, end))])
  }

  out.list = ((await collect(drive.list('/'))) as any[]).map(e => e.key)
  out.listShallow = ((await collect(drive.list('/', { recursive: false }))) as any[]).map(e => e.key)
  out.readdir = await collect(drive.readdir('/'))
  out.readdirDir = await collect(drive.readdir('/dir'))
  out.entries = ((await collect(drive.entries())) as any[]).map(e => e.key)

  const before = drive.version
  const batch = drive.batch()
  await batch.put('/batch/1', b4a.from('one'))
  await batch.put('/batch/2', b4a.from('two'))
  await batch.del('/a.txt')
  await batch.flush()
  out.afterBatch = [await drive.get('/a.txt'), str(await drive.get('/batch/2')), drive.version - before]

  const checkout = drive.checkout(before)
  await checkout.ready()
  out.checkout = [str(await checkout.get('/a.txt')), await checkout.get('/batch/1'), checkout.version]
  await checkout.close()

  out.diff = ((await collect(drive.diff(before, '/'))) as any[]).map(d => [d.left?.key ?? null, d.right?.key ?? null])

  await drive.del('/dir/sub/c.txt')
  out.afterDel = [await drive.exists('/dir/sub/c.txt'), ((await collect(drive.list('/dir'))) as any[]).map(e => e.key)]

  const mirror = new Hyperdrive(store.namespace('mirror'))
  await mirror.ready()
  // preload: false because mirror-drive@1.14's preload calls hypercore@11's
  // `replicator.setInflightRange`, which hypercore@10 (under corestore@6) does not have.
  const m = drive.mirror(mirror, { preload: false })
  await m.done()
  out.mirror = [m.count, ((await collect(mirror.list('/'))) as any[]).map(e => e.key), sha(await mirror.get('/dir/b.bin'))]
  out.mirrorKey = hex(mirror.key)
  await mirror.close()

  // What clear() reports freeing depends on the storage (hypercore@10 measures the file's
  // allocated blocks, 0 on random-access-memory): only its shape is compared.
  const cleared = await drive.clear('/stream.bin', { diff: true })
  out.cleared = typeof cleared?.blocks === 'number'
  out.streamedAfterClear = await drive.get('/stream.bin', { wait: false }).catch((e: any) => e.code ?? String(e))

  out.version = drive.version
  out.lengths = [drive.core.length, drive.blobs.core.length]
  out.treeHashes = [hex(await drive.core.treeHash()), hex(await drive.blobs.core.treeHash())]
  await drive.close()
  return out
}

// --- Two implementations, one drive each: what the writer puts and what the reader sees ------

/** hyperblobs' default block size: `put` cuts files into blocks of this size (so does `writeDriveFiles`'s stream). */
export const BLOB_BLOCK = 64 * 1024

/** The small files of an interop drive (a folder, a nested one, an empty file). */
export const DRIVE_FILES = [
  { path: '/docs/readme.txt', size: 5_000, seed: 21 },
  { path: '/docs/notes/a.bin', size: 300_000, seed: 22 },
  { path: '/docs/empty', size: 0, seed: 23 },
  { path: '/top.txt', size: 17, seed: 24 }
]

export interface BigFile { path: string, size: number, seed: number, start: number, end: number }

/** The big file of an interop drive and the byte range (inclusive `end`, as hyperdrive's) read of it. */
export function bigFile (mib: number, seed: number): BigFile {
  const size = mib * 2 ** 20
  const start = Math.floor(size * 0.4) + 12_345
  return { path: '/big/file.bin', size, seed, start, end: Math.min(size - 1, start + 2 ** 20 + 777) }
}

/**
 * Writes the interop files into `drive` (hyperdrive@11 on any store): the small ones with
 * `put`, a symlink, and `big` through `createWriteStream` in hyperblobs-sized blocks.
 */
export async function writeDriveFiles (drive: any, big: BigFile): Promise<void> {
  await drive.ready()
  for (const f of DRIVE_FILES) await drive.put(f.path, pattern(f.size, f.seed))
  await drive.symlink('/docs/link', '/top.txt')
  const ws = drive.createWriteStream(big.path, { metadata: { note: 'big' } })
  const done = new Promise((resolve, reject) => { ws.once('close', resolve); ws.once('error', reject) })
  for (const chunk of patternChunks(big.size, big.seed, BLOB_BLOCK)) {
    if (!ws.write(chunk)) await new Promise(resolve => ws.once('drain', resolve))
  }
  ws.end()
  await done
}

/** Stored blocks of `core` in `[start, end)`. */
export async function storedIn (core: any, start: number, end: number): Promise<number> {
  let n = 0
  for (let i = start; i < end; i++) if (await core.has(i)) n++
  return n
}

/**
 * What a reader of an interop drive sees (plain JSON): the listings, every small file's
 * length and fingerprint, the symlink, the big file's entry and the range `[start, end]` read
 * through `createReadStream`, then how many blobs blocks it stored: in the big file's blocks
 * (the range's only) and in all (the range's plus the small files read), then `download('/docs')`.
 */
export async function readDriveFiles (drive: any, big: BigFile, opts: { timeout?: number } = {}): Promise<Record<string, unknown>> {
  await cryptoReady()
  await drive.ready()
  // hypercore@10's update() answers at once, with the length it has, while the core has no
  // peer: wait for the writer's channel first (the connection may still be opening).
  if (drive.core.peers.length === 0) await new Promise(resolve => drive.core.once('peer-add', resolve))
  await drive.update({ wait: true })
  const out: Record<string, unknown> = { version: drive.version }
  out.list = ((await collect(drive.list('/'))) as any[]).map(e => e.key)
  out.readdir = await collect(drive.readdir('/'))
  out.readdirDocs = await collect(drive.readdir('/docs'))
  out.link = entryJson(await drive.entry('/docs/link'))
  out.followed = (await drive.entry('/docs/link', { follow: true }))?.key
  const files: Record<string, unknown> = {}
  for (const f of DRIVE_FILES.filter(f => !f.path.startsWith('/docs/'))) {
    const b = await drive.get(f.path, { timeout: opts.timeout })
    files[f.path] = [b.byteLength, sha(b)]
  }
  out.files = files
  const entry = await drive.entry(big.path)
  out.bigMetadata = entry.value.metadata
  out.bigBytes = entry.value.blob.byteLength
  const range = await readAll(drive.createReadStream(big.path, { start: big.start, end: big.end, timeout: opts.timeout }))
  out.range = [range.byteLength, sha(range)]
  const blobs = await drive.getBlobs()
  const { blockOffset, blockLength } = entry.value.blob
  out.bigBlocks = blockLength
  out.rangeBlocksStored = await storedIn(blobs.core, blockOffset, blockOffset + blockLength)
  out.blobsStored = await storedIn(blobs.core, 0, blobs.core.length)
  await drive.download('/docs')
  const docs: Record<string, unknown> = {}
  for (const f of DRIVE_FILES.filter(f => f.path.startsWith('/docs/'))) {
    const b = await drive.get(f.path, { wait: false })
    docs[f.path] = [b.byteLength, sha(b)]
  }
  out.docs = docs
  out.blobsStoredAfterDownload = await storedIn(blobs.core, 0, blobs.core.length)
  return out
}

/** What `readDriveFiles` must see of a drive `writeDriveFiles` wrote (every figure derived from the inputs). */
export async function expectedDriveFiles (big: BigFile): Promise<Record<string, unknown>> {
  await cryptoReady()
  const whole = (f: { size: number, seed: number }): [number, string] => { const b = pattern(f.size, f.seed); return [b.byteLength, sha(b)] }
  let range: Uint8Array | null = null
  let at = 0
  for (const chunk of patternChunks(big.size, big.seed, BLOB_BLOCK)) {
    if (at + chunk.byteLength > big.start && at <= big.end) {
      const part = chunk.subarray(Math.max(0, big.start - at), Math.min(chunk.byteLength, big.end + 1 - at))
      range = range === null ? b4a.from(part) : b4a.concat([range, part])
    }
    at += chunk.byteLength
  }
  const blocksOf = (size: number): number => Math.ceil(size / BLOB_BLOCK)
  const rangeBlocks = Math.floor(big.end / BLOB_BLOCK) - Math.floor(big.start / BLOB_BLOCK) + 1
  const small = DRIVE_FILES.filter(f => !f.path.startsWith('/docs/'))
  const docs = DRIVE_FILES.filter(f => f.path.startsWith('/docs/'))
  const smallBlocks = small.reduce((n, f) => n + blocksOf(f.size), 0)
  return {
    // One db block per put, the symlink, the big file, plus Hyperbee's header block.
    version: DRIVE_FILES.length + 3,
    list: ['/big/file.bin', '/docs/empty', '/docs/link', '/docs/notes/a.bin', '/docs/readme.txt', '/top.txt'],
    readdir: ['big', 'docs', 'top.txt'],
    readdirDocs: ['empty', 'link', 'notes', 'readme.txt'],
    link: { key: '/docs/link', value: { executable: false, linkname: '/top.txt', blob: null, metadata: null } },
    followed: '/top.txt',
    files: Object.fromEntries(small.map(f => [f.path, whole(f)])),
    bigMetadata: { note: 'big' },
    bigBytes: big.size,
    range: [range!.byteLength, sha(range!)],
    bigBlocks: blocksOf(big.size),
    rangeBlocksStored: rangeBlocks,
    blobsStored: smallBlocks + rangeBlocks,
    docs: Object.fromEntries(docs.map(f => [f.path, whole(f)])),
    blobsStoredAfterDownload: smallBlocks + rangeBlocks + docs.reduce((n, f) => n + blocksOf(f.size), 0)
  }
}
