/**
 * @module test/core/one-writer.test
 * One writer per core, in Node:
 * - in one process, two `new Hypercore(…)` on one place (the same MemoryDirectory object, two
 *   IdbStorage objects on one database name, or one directory path) are one core: the second
 *   is a session of the first (test/storage/core-safety-cases.ts `oneWriterCases`);
 * - two IdbStorage objects on one name at the storage level: the second is refused
 *   STORAGE_LOCKED (Node has no Web Locks: the adapter's lock table of this realm decides;
 *   test/storage/idb-safety-cases.ts `idbLockCases`, which Chromium runs with Web Locks);
 * - two processes on one directory: the second's open rejects STORAGE_LOCKED while the first
 *   holds it, an `unlocked` open there reads what was stored and cannot write, and once the
 *   first closes the second opens (the oplog lock, as hypercore@10's).
 * Two tabs of one browser are in web-test/storage-safety.spec.ts.
 */
import 'fake-indexeddb/auto'
import { test, type TestContext } from 'node:test'
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import readline from 'node:readline'
import { fileURLToPath } from 'node:url'
import Hypercore from '../../src/index.js'
import { fileStorage } from '../../src/storage/file.node.js'
import { deepEqual, equal, ok, rejectsWithCode } from '../helpers/assert.js'
import { idbPlace, memoryPlace, oneWriterCases, type Place } from '../storage/core-safety-cases.js'
import { idbLockCases } from '../storage/idb-safety-cases.js'

// Nothing here waits on a timer; this only turns a hang (a child that never answers) into a failure.
const T = { timeout: 60_000 }

function tmpDir (t: TestContext): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hcw-one-writer-'))
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }))
  return dir
}

// --- one process -------------------------------------------------------------------------

/** A directory of files: every open is the path string (Node's default storage). */
function dirPlace (): Place {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hcw-one-writer-'))
  return { open: () => dir, raw: () => fileStorage(dir), cleanup: async () => fs.rmSync(dir, { recursive: true, force: true }) }
}

const places: Array<[string, () => Place]> = [
  ['memory (one MemoryDirectory)', memoryPlace],
  ['indexeddb (a new IdbStorage per open)', () => idbPlace('node-one-writer')],
  ['directory path', dirPlace]
]
for (const [label, place] of places) {
  for (const c of oneWriterCases) test(`${label}: ${c.name}`, T, () => c.run({ place }))
}

for (const c of idbLockCases) test(`indexeddb storage level: ${c.name}`, T, () => c.run({ prefix: 'node-one-writer-lock' }))

// --- two processes -----------------------------------------------------------------------

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const INDEX_URL = new URL('../../src/index.ts', import.meta.url).href

/**
 * The other process: opens the directory as a Hypercore (utf-8), prints one JSON line (its
 * error code, or its length, writability, blocks and what an append did), then holds the
 * core until its stdin ends, closes and prints `released`. Lines, not timers, sequence both
 * sides (as in test/storage/file-lock.test.ts).
 */
const CHILD = `
const { default: Hypercore } = await import(process.env.HCW_INDEX)
const core = new Hypercore(process.env.HCW_DIR, { valueEncoding: 'utf-8', unlocked: process.env.HCW_UNLOCKED === '1' })
try {
  await core.ready()
} catch (err) {
  console.log(JSON.stringify({ error: err.code ?? String(err) }))
  process.exit(0)
}
const blocks = []
for (let i = 0; i < core.length; i++) blocks.push(await core.get(i))
const writable = core.writable
let append = 'ok'
try { await core.append('from the child') } catch (err) { append = err.code ?? String(err) }
console.log(JSON.stringify({ length: core.length, writable, blocks, append }))
process.stdin.on('end', () => core.close().then(() => console.log('released')))
process.stdin.resume()
`

interface Child {
  line: () => Promise<string>
  release: () => Promise<string>
}

function child (t: TestContext, dir: string, opts: { unlocked?: boolean } = {}): Child {
  const env: NodeJS.ProcessEnv = { ...process.env, HCW_INDEX: INDEX_URL, HCW_DIR: dir, HCW_UNLOCKED: opts.unlocked === true ? '1' : '0' }
  delete env.NODE_TEST_CONTEXT // a plain script, not a node:test child
  const cp = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', CHILD], { cwd: ROOT, env, stdio: ['pipe', 'pipe', 'pipe'] })
  let stderr = ''
  cp.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
  const lines: string[] = []
  const waiting: Array<(line: string | null) => void> = []
  let ended = false
  readline.createInterface({ input: cp.stdout }).on('line', (l) => {
    const w = waiting.shift()
    if (w !== undefined) w(l)
    else lines.push(l)
  })
  cp.on('close', () => {
    ended = true
    for (const w of waiting.splice(0)) w(null)
  })
  t.after(() => { if (!ended) cp.kill() })
  const line = async (): Promise<string> => {
    const next = lines.length > 0 ? lines.shift() as string : ended ? null : await new Promise<string | null>(resolve => waiting.push(resolve))
    if (next === null) throw new Error(`the child ended without printing a line; stderr:\n${stderr}`)
    return next
  }
  return { line, release: () => { cp.stdin.end(); return line() } }
}

async function signed (core: Hypercore): Promise<boolean> {
  const c = core.core!
  return c.verifier.verify(await core.treeHash(), core.length, core.fork, c.tree.signature)
}

// Old code: nothing locked the directory; the other process opened it writable and appended
// to the files under our open core.
test('two processes on one directory: while we hold the core the other\'s open rejects STORAGE_LOCKED and an unlocked open there is read-only; once we close it opens and writes', T, async (t) => {
  const dir = tmpDir(t)
  const ours = new Hypercore(dir, { valueEncoding: 'utf-8' })
  await ours.append(['a', 'b', 'c'])

  deepEqual(JSON.parse(await child(t, dir).line()), { error: 'STORAGE_LOCKED' }, 'a writer in the other process')

  const viewer = child(t, dir, { unlocked: true })
  deepEqual(JSON.parse(await viewer.line()), { length: 3, writable: false, blocks: ['a', 'b', 'c'], append: 'SESSION_NOT_WRITABLE' }, 'an unlocked open in the other process')
  equal(await viewer.release(), 'released')

  equal(ours.length, 3, 'our core is untouched')
  await ours.close()

  const next = child(t, dir)
  deepEqual(JSON.parse(await next.line()), { length: 4, writable: true, blocks: ['a', 'b', 'c'], append: 'ok' }, 'the other process once we closed')
  equal(await next.release(), 'released')

  const again = new Hypercore(dir, { valueEncoding: 'utf-8', createIfMissing: false })
  await again.ready()
  deepEqual([again.length, await again.get(3)], [4, 'from the child'])
  ok(await signed(again), 'the signature verifies')
  await again.close()
})

test('two processes on one directory: while the other holds the core, our open rejects STORAGE_LOCKED until it closes', T, async (t) => {
  const dir = tmpDir(t)
  const holder = child(t, dir)
  deepEqual(JSON.parse(await holder.line()), { length: 1, writable: true, blocks: [], append: 'ok' }, 'the other process created the core')

  const blocked = new Hypercore(dir)
  await rejectsWithCode(() => blocked.ready(), 'STORAGE_LOCKED', 'our open while the other holds it')
  await blocked.close().catch(() => {})

  equal(await holder.release(), 'released')
  const ours = new Hypercore(dir, { valueEncoding: 'utf-8', createIfMissing: false })
  await ours.ready()
  deepEqual([ours.length, await ours.get(0)], [1, 'from the child'], 'we open once it closed')
  await ours.append('from us')
  ok(await signed(ours))
  await ours.close()
})
