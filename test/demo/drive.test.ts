/**
 * @module test/demo/drive
 * The demo's datasets as Hyperdrives (demo/src/drive.ts), on our Corestore in memory with the
 * real hyperdrive@11: planning and writing files (paths kept, 64 KiB blocks, metadata, the
 * dataset's record beside hyperdrive's files), listing them back with their block ranges,
 * byte-for-byte reads, the checks that tell a drive from other cores; then the reference
 * stack (hyperdrive@11 on corestore@6 and hypercore@10) reads such a drive over a replication
 * stream, as `npm run demo:fetch` does. Also the "Save all" zip (read back by Python's zipfile)
 * and links.
 */
import test from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { execFileSync } from 'node:child_process'
import { createRequire } from 'node:module'
import { Corestore, Hypercore, MemoryDirectory } from '../../src/index.js'
import { MemoryStorage } from '../../src/storage/memory.js'
import { cryptoReady, equalBytes } from '../../src/crypto/index.js'
import { HypercoreError } from '../../src/errors.js'
import { BLOCK_SIZE, baseName, blobsLength, blockSizes, checkDriveHeader, cleanPath, driveKeyFor, fileRange, listFiles, loadHyperdrive, planFiles, readFileBlocks, readInfo, writeDrive, type FileSource, type Hyperdrive } from '../../demo/src/drive.js'
import { zipParts } from '../../demo/src/zip.js'
import { parseLink, shareLink } from '../../demo/src/link.js'
import { RAM, RefCorestore, connectStores } from '../store/helpers.js'

const require = createRequire(import.meta.url)
const RefHyperdrive = require('hyperdrive') as any

function source (path: string, bytes: Uint8Array, modified = 1): FileSource {
  return { path, size: bytes.byteLength, type: 'application/octet-stream', modified, read: async (s, e) => bytes.slice(s, e) }
}

function pattern (n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n)
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed * 7 + (i >> 8)) & 0xff
  return b
}

const concat = (parts: Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0))
  let o = 0
  for (const p of parts) { out.set(p, o); o += p.byteLength }
  return out
}

const code = (fn: () => unknown): string | undefined => { try { fn(); return undefined } catch (e) { return (e as HypercoreError).code } }

const FILES: Array<[string, Uint8Array]> = [
  ['field-notes/raw/samples.bin', pattern(3 * BLOCK_SIZE + 123, 1)],
  ['field-notes/empty.dat', new Uint8Array(0)],
  ['field-notes/readme.txt', new TextEncoder().encode('Notes from the field.\n')],
  ['field-notes/photo.bin', pattern(2 * BLOCK_SIZE, 2)]
]

/** A drive written by the demo's code on our Corestore in memory. */
async function sharedDrive (): Promise<{ drive: Hyperdrive, store: Corestore }> {
  const Hyperdrive = await loadHyperdrive()
  const store = new Corestore(new MemoryDirectory())
  const drive = new Hyperdrive(store)
  await drive.ready()
  await writeDrive(drive, { name: 'Field notes', created: 7 }, FILES.map(([p, b], i) => source(p, b, 1000 + i)))
  return { drive, store }
}

test('planFiles: drive paths, total bytes and blocks; refuses no files, duplicate names and bad sizes', () => {
  const plan = planFiles([source('a/b.bin', pattern(BLOCK_SIZE + 1, 1)), source('./c', new Uint8Array(0))])
  assert.deepEqual(plan, { paths: ['a/b.bin', 'c'], bytes: BLOCK_SIZE + 1, blocks: 2 })
  assert.equal(code(() => planFiles([])), 'BAD_ARGUMENT')
  assert.equal(code(() => planFiles([source('a', new Uint8Array(1)), source('./a', new Uint8Array(1))])), 'BAD_ARGUMENT')
  assert.equal(code(() => planFiles([{ ...source('a', new Uint8Array(1)), size: -1 }])), 'BAD_ARGUMENT')
})

test('writeDrive: a Hyperdrive with the folder\'s paths, 64 KiB blocks per file, metadata and the dataset record; every file reads back', async () => {
  await cryptoReady()
  const { drive } = await sharedDrive()
  const files = await listFiles(drive)
  // hyperdrive lists in path order; the blobs core holds them in the order written
  assert.deepEqual(files.map(f => [f.path, f.size, f.block, f.blocks]), [
    ['field-notes/empty.dat', 0, 4, 0],
    ['field-notes/photo.bin', 2 * BLOCK_SIZE, 5, 2],
    ['field-notes/raw/samples.bin', 3 * BLOCK_SIZE + 123, 0, 4],
    ['field-notes/readme.txt', 22, 4, 1]
  ])
  assert.deepEqual(files.map(f => [f.type, f.modified]), [['application/octet-stream', 1001], ['application/octet-stream', 1003], ['application/octet-stream', 1000], ['application/octet-stream', 1002]])
  assert.equal(blobsLength(files), 7)
  assert.equal(drive.blobs!.core.length, 7)
  assert.deepEqual([...blockSizes(files)], [BLOCK_SIZE, BLOCK_SIZE, BLOCK_SIZE, 123, 22, BLOCK_SIZE, BLOCK_SIZE])
  assert.deepEqual(fileRange(files[1]!), { start: 5, end: 7 })
  assert.deepEqual(await readInfo(drive), { name: 'Field notes', created: 7 })
  const byPath = Object.fromEntries(FILES)
  for (const f of files) assert.deepEqual(concat(await readFileBlocks(drive.blobs!.core, f)), byPath[f.path])
  // hyperdrive's own API sees the same files, and nothing else (the record is in another sub)
  const keys: string[] = []
  for await (const e of (drive as any).readdir('/field-notes')) keys.push(e)
  assert.deepEqual(keys, ['empty.dat', 'photo.bin', 'raw', 'readme.txt'])
  assert.deepEqual(Buffer.from(await (drive as any).get('/field-notes/readme.txt')).toString(), 'Notes from the field.\n')
  assert.ok(equalBytes(await checkDriveHeader(drive.core), drive.blobs!.core.key!))
  await drive.close()
})

test('driveKeyFor: the key a store with that primary key gives its drive', async () => {
  const Hyperdrive = await loadHyperdrive()
  const primaryKey = new Uint8Array(32).fill(3)
  const key = await driveKeyFor(Hyperdrive, primaryKey)
  const drive = new Hyperdrive(new Corestore(new MemoryDirectory(), { primaryKey }))
  await drive.ready()
  assert.ok(equalBytes(drive.key, key))
  assert.equal(drive.writable, true)
  await drive.close()
})

test('writeDrive refuses a read-only drive and a source that shrank', async () => {
  const Hyperdrive = await loadHyperdrive()
  const drive = new Hyperdrive(new Corestore(new MemoryDirectory()))
  await drive.ready()
  await assert.rejects(writeDrive(drive, { name: 'x', created: 0 }, [{ ...source('a', pattern(10, 1)), read: async () => new Uint8Array(3) }]), (e: unknown) => HypercoreError.is(e, 'BAD_ARGUMENT'))
  const reader = new Hyperdrive(new Corestore(new MemoryDirectory()), drive.key)
  await reader.ready()
  await assert.rejects(writeDrive(reader, { name: 'x', created: 0 }, [source('a', pattern(10, 1))]), (e: unknown) => HypercoreError.is(e, 'BAD_ARGUMENT'))
  await reader.close()
  await drive.close()
})

test('checkDriveHeader: a core that is not a Hyperbee, and a Hyperbee without a blobs core, are not drives', async () => {
  await cryptoReady()
  // a plain core whose block 0 is JSON (the demo's earlier format, or an offline log)
  const plain = new Hypercore(() => new MemoryStorage())
  await plain.append(new TextEncoder().encode('{"format":"hypercore-web-dataset"}'))
  // a Hyperbee (hyperdrive's db format) with no contentFeed in its header
  const Hyperbee = require('hyperbee') as any
  const beeCore = new Hypercore(() => new MemoryStorage())
  const bee = new Hyperbee(beeCore.session(), { keyEncoding: 'utf-8', valueEncoding: 'json' })
  await bee.put('a', 1)
  await assert.rejects(checkDriveHeader(plain), (e: unknown) => HypercoreError.is(e, 'DECODING_ERROR') && /first block is not a Hyperbee header/.test((e as Error).message))
  await assert.rejects(checkDriveHeader(beeCore), (e: unknown) => HypercoreError.is(e, 'DECODING_ERROR') && /names no blobs core/.test((e as Error).message))
  const empty = new Hypercore(() => new MemoryStorage())
  await assert.rejects(checkDriveHeader(empty), (e: unknown) => HypercoreError.is(e, 'BLOCK_NOT_AVAILABLE'))
  await bee.close(); await plain.close(); await beeCore.close(); await empty.close()
})

test('the reference stack (hyperdrive@11 on corestore@6 / hypercore@10) reads a drive the demo wrote, file by file, byte for byte', async () => {
  const { drive, store } = await sharedDrive()
  const theirs = new RefCorestore(RAM.reusable())
  const copy = new RefHyperdrive(theirs, Buffer.from(drive.key))
  await copy.ready()
  const link = connectStores(store, theirs)
  await copy.update({ wait: true })
  const listed: string[] = []
  for await (const e of copy.list('/')) {
    listed.push(e.key)
    const bytes = await copy.get(e.key)
    assert.deepEqual(new Uint8Array(bytes), Object.fromEntries(FILES)[e.key.slice(1)], e.key)
  }
  assert.deepEqual(listed, FILES.map(([p]) => '/' + p).sort())
  const info = await copy.db.sub('hypercore-web-demo', { keyEncoding: 'utf-8', valueEncoding: 'json' }).get('dataset')
  assert.deepEqual(info.value, { name: 'Field notes', created: 7 })
  await link.done()
  await copy.close()
  await drive.close()
})

test('zipParts: a stored zip with the paths, sizes, times and bytes (read back by Python\'s zipfile, CRCs checked)', (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'demo-zip-'))
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }))
  const entries = [
    { path: 'set/a.bin', modified: Date.UTC(2024, 4, 6, 12, 30, 10), parts: [pattern(70_000, 1), pattern(5, 2)] },
    { path: 'set/empty', modified: 0, parts: [] },
    { path: 'set/sub/ünïcode.txt', modified: 0, parts: [new TextEncoder().encode('hello')] }
  ]
  const file = path.join(dir, 'x.zip')
  fs.writeFileSync(file, concat(zipParts(entries)))
  // Python's zipfile as the independent reader: it checks every CRC and reads UTF-8 names.
  const script = 'import json, sys, zipfile\nz = zipfile.ZipFile(sys.argv[1])\nassert z.testzip() is None\nprint(json.dumps({i.filename: [i.file_size, list(z.read(i)[:8]), i.date_time[0]] for i in z.infolist()}))'
  let listed: Record<string, [number, number[], number]>
  try {
    listed = JSON.parse(execFileSync('python3', ['-c', script, file], { encoding: 'utf8' }))
  } catch (err) {
    if ((err as { code?: string }).code === 'ENOENT') { t.skip('python3 is not installed'); return }
    throw err
  }
  assert.deepEqual(Object.keys(listed), entries.map(e => e.path))
  for (const e of entries) {
    const bytes = concat(e.parts as Uint8Array[])
    assert.deepEqual(listed[e.path], [bytes.byteLength, [...bytes.subarray(0, 8)], e.modified === 0 ? 1980 : 2024], e.path)
  }
  assert.equal(code(() => zipParts(Array.from({ length: 0x10000 }, (_, i) => ({ path: String(i), modified: 0, parts: [] })))), 'BAD_ARGUMENT')
})

test('cleanPath and baseName keep names, never places', () => {
  assert.equal(cleanPath('../../etc//passwd'), 'etc/passwd')
  assert.equal(cleanPath('dir\\sub\\x.txt'), 'dir/sub/x.txt')
  assert.equal(baseName('dir/sub/x.txt'), 'x.txt')
  assert.throws(() => cleanPath('../'), (e: unknown) => HypercoreError.is(e, 'BAD_ARGUMENT'))
})

test('links: the drive id in the hash; bad links say why', () => {
  const key = new Uint8Array(32).fill(7)
  const link = shareLink('http://x/index.html#old', key)
  const parsed = parseLink(new URL(link).hash)
  assert.equal(parsed.kind, 'key')
  assert.deepEqual(parsed.kind === 'key' ? parsed.key : null, key)
  assert.equal(parseLink('').kind, 'none')
  assert.equal(shareLink('http://x/i.html?paused&relay#k', key), 'http://x/i.html?relay#' + new URL(link).hash.slice(1))
  assert.equal(shareLink('http://x/i.html?paused', key), 'http://x/i.html' + new URL(link).hash)
  assert.equal(parseLink('#' + '07'.repeat(32)).kind, 'key')
  const bad = parseLink('#not-a-key')
  assert.equal(bad.kind, 'bad')
  assert.match(bad.kind === 'bad' ? bad.reason : '', /not a dataset key/)
})
