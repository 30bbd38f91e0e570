/**
 * @module test/storage/pool.test
 * `FilePool`: many Node files through a few handles. Interleaved and concurrent operations on
 * more files than the pool holds keep their bytes and their issue order, idle handles are
 * closed beyond the bound, busy ones are not, and an evicted file unlinks and closes cleanly.
 * (The conformance suite also runs on pooled files: conformance.test.ts.)
 */
import { test } from 'node:test'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { FileStorage } from '../../src/storage/file.node.js'
import { FilePool } from '../../src/storage/pool.js'
import { promisify } from '../../src/storage/promises.js'
import { equal, ok, throwsWithCode } from '../helpers/assert.js'

function setup (t: { after: (fn: () => void) => void }, size: number): { pool: FilePool, file: (name: string) => ReturnType<typeof promisify>, dir: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hcw-pool-'))
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }))
  const pool = new FilePool(size)
  return { pool, dir, file: name => promisify(pool.file(() => new FileStorage(name, { directory: dir }))) }
}

test('pool: 12 files through 3 handles, written and read in turns, keep their bytes', async (t) => {
  const { pool, file } = setup(t, 3)
  const files = Array.from({ length: 12 }, (_, i) => file(`f${i}`))
  for (let round = 0; round < 4; round++) {
    for (const [i, f] of files.entries()) {
      await f.write(round * 4, Buffer.from(`${i}:${round}`.padEnd(4, '.')))
      ok(pool.active <= 3, `${pool.active} handles`)
    }
  }
  for (const [i, f] of files.entries()) {
    equal(Buffer.from(await f.read(0, 16)).toString(), [0, 1, 2, 3].map(r => `${i}:${r}`.padEnd(4, '.')).join(''))
    equal((await f.stat()).size, 16)
  }
  ok(pool.active <= 3)
  for (const f of files) await f.close()
  equal(pool.active, 0)
})

test('pool: concurrent operations on more files than handles keep issue order per file; busy handles are not closed', async (t) => {
  const { pool, file } = setup(t, 2)
  const files = Array.from({ length: 8 }, (_, i) => file(`c${i}`))
  // Issued all at once: per file, a write then a read that must see it, then an overwrite.
  const results = await Promise.all(files.map(async (f, i) => {
    const w1 = f.write(0, Buffer.from(`first-${i}`))
    const r1 = f.read(0, 7)
    const w2 = f.write(0, Buffer.from('SECOND'))
    const r2 = f.read(0, 6)
    await Promise.all([w1, w2])
    return [Buffer.from(await r1).toString(), Buffer.from(await r2).toString()]
  }))
  for (const [i, [a, b]] of results.entries()) {
    equal(a, `first-${i}`.slice(0, 7))
    equal(b, 'SECOND')
  }
  ok(pool.active <= 2, `${pool.active} handles once idle`)
})

test('pool: an evicted file unlinks; truncate and del work across reopen; bad sizes are refused', async (t) => {
  const { pool, file, dir } = setup(t, 1)
  const a = file('a')
  const b = file('b')
  await a.write(0, Buffer.from('hello world'))
  await b.write(0, Buffer.from('x')) // evicts a's handle
  await a.truncate(5)
  await b.write(1, Buffer.from('y'))
  await a.del(0, 2)
  equal(Buffer.from(await a.read(0, 5)).toString('hex'), Buffer.from('\0\0llo').toString('hex'))
  await a.unlink()
  equal(fs.existsSync(path.join(dir, 'a')), false)
  equal(fs.existsSync(path.join(dir, 'b')), true)
  await b.close()
  equal(pool.active, 0)
  throwsWithCode(() => new FilePool(0), 'BAD_ARGUMENT')
})
