/**
 * @module test/demo/dataset
 * The demo's dataset format: layout, index round trip and validation, writing into a real
 * Hypercore (memory storage), reading each file back byte for byte, and replication of a
 * dataset to a second core (what page B does, minus the network).
 */
import test from 'node:test'
import assert from 'node:assert/strict'
import { Hypercore } from '../../src/index.js'
import { MemoryStorage } from '../../src/storage/memory.js'
import { HypercoreError } from '../../src/errors.js'
import { decodeIndex, encodeIndex, planDataset, readFileBlocks, writeDataset, fileRange, cleanPath, baseName, type FileSource } from '../../demo/src/dataset.js'
import { parseLink, shareLink } from '../../demo/src/link.js'

function source (path: string, bytes: Uint8Array): FileSource {
  return { path, size: bytes.byteLength, type: 'application/octet-stream', modified: 1, read: async (s, e) => bytes.slice(s, e) }
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

test('planDataset: each file on its own blocks after the index, empty files take none', () => {
  const idx = planDataset('set', [source('a.bin', pattern(10, 1)), source('dir/empty', new Uint8Array()), source('b.bin', pattern(25, 2))], { blockSize: 8, created: 5 })
  assert.deepEqual(idx.files.map(f => [f.path, f.block, f.blocks]), [['a.bin', 1, 2], ['dir/empty', 3, 0], ['b.bin', 3, 4]])
  assert.equal(idx.length, 7)
  assert.equal(idx.bytes, 35)
  assert.deepEqual(fileRange(idx.files[2]!), { start: 3, end: 7 })
})

test('planDataset refuses no files, duplicate names and bad block sizes', () => {
  const code = (fn: () => unknown): string | undefined => { try { fn(); return undefined } catch (e) { return (e as HypercoreError).code } }
  assert.equal(code(() => planDataset('x', [])), 'BAD_ARGUMENT')
  assert.equal(code(() => planDataset('x', [source('a', new Uint8Array(1)), source('./a', new Uint8Array(1))])), 'BAD_ARGUMENT')
  assert.equal(code(() => planDataset('x', [source('a', new Uint8Array(1))], { blockSize: 0 })), 'BAD_ARGUMENT')
})

test('index round trip, and a lying or foreign block 0 is DECODING_ERROR', () => {
  const idx = planDataset('set', [source('a', pattern(100, 3)), source('b', pattern(1, 4))], { blockSize: 16, created: 9 })
  assert.deepEqual(decodeIndex(encodeIndex(idx)), idx)
  const tamper = (f: (o: any) => void): Uint8Array => { const o = JSON.parse(JSON.stringify(idx)); f(o); return new TextEncoder().encode(JSON.stringify(o)) }
  for (const bad of [
    new TextEncoder().encode('hello'),
    new Uint8Array([0xff, 0xfe]),
    tamper(o => { o.format = 'other' }),
    tamper(o => { o.files[1].block = 2 }), // overlaps file a
    tamper(o => { o.files[0].blocks = 99 }),
    tamper(o => { o.length = 3 }),
    tamper(o => { o.files[0].size = -1 })
  ]) {
    assert.throws(() => decodeIndex(bad), (e: unknown) => HypercoreError.is(e, 'DECODING_ERROR'))
  }
})

test('cleanPath and baseName keep names, never places', () => {
  assert.equal(cleanPath('../../etc//passwd'), 'etc/passwd')
  assert.equal(cleanPath('dir\\sub\\x.txt'), 'dir/sub/x.txt')
  assert.equal(baseName('dir/sub/x.txt'), 'x.txt')
  assert.throws(() => cleanPath('../'), (e: unknown) => HypercoreError.is(e, 'BAD_ARGUMENT'))
})

test('writeDataset into a Hypercore; every file reads back byte for byte; a replica gets the same', async () => {
  const files = [pattern(200_000, 1), new Uint8Array(0), pattern(65536, 2), pattern(3, 3)]
  const sources = files.map((b, i) => source(`folder/f${i}.bin`, b))
  const index = planDataset('my set', sources)
  const writer = new Hypercore(() => new MemoryStorage())
  const seen: number[] = []
  await writeDataset(writer, index, sources, { batchBlocks: 2, onProgress: b => seen.push(b) })
  assert.equal(writer.length, index.length)
  assert.equal(writer.length, 1 + 4 + 0 + 1 + 1)
  assert.equal(seen.at(-1), index.bytes)
  assert.deepEqual(decodeIndex(await writer.get(0) as Uint8Array), index)
  for (let i = 0; i < files.length; i++) assert.deepEqual(concat(await readFileBlocks(writer, index.files[i]!)), files[i])

  // a second core with the key only: block 0 then one file's range over a replication stream
  const reader = new Hypercore(() => new MemoryStorage(), writer.key!)
  await reader.ready()
  const a = writer.replicate(true) as any
  const b = reader.replicate(false) as any
  a.pipe(b).pipe(a)
  const got = decodeIndex(await reader.get(0) as Uint8Array)
  const first = got.files[0]!
  const range = reader.download(fileRange(first))
  await range.done()
  assert.equal(await reader.has(first.block, first.block + first.blocks), true)
  assert.equal(await reader.has(first.block + first.blocks), false)
  assert.deepEqual(concat(await readFileBlocks(reader, first)), files[0])
  a.destroy(); b.destroy()
  await reader.close(); await writer.close()
})

test('writeDataset refuses a non-empty core and a source that shrank', async () => {
  const core = new Hypercore(() => new MemoryStorage())
  const src = source('a', pattern(10, 1))
  const index = planDataset('x', [src])
  await writeDataset(core, index, [src])
  await assert.rejects(writeDataset(core, index, [src]), (e: unknown) => HypercoreError.is(e, 'BAD_ARGUMENT'))
  const fresh = new Hypercore(() => new MemoryStorage())
  await assert.rejects(writeDataset(fresh, index, [{ ...src, read: async () => new Uint8Array(3) }]), (e: unknown) => HypercoreError.is(e, 'BAD_ARGUMENT'))
  await core.close(); await fresh.close()
})

test('links: the core id in the hash; bad links say why', () => {
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
