/**
 * @module test/storage/file-lock.test
 * The Node file adapter's open and lock semantics: an open that never truncates (the
 * r+/w+ race), hypercore@10's `oplog` lock (exclusive for writers, shared for read-only
 * handles) between handles, between processes and against the real hypercore@10, and
 * read-only handles (missing files read as empty, mutations reject STORAGE_READ_ONLY).
 */
import { test, type TestContext } from 'node:test'
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import fsp, { type FileHandle } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import readline from 'node:readline'
import { fileURLToPath } from 'node:url'
import Hypercore from 'hypercore'
import RAF from 'random-access-file'
import { bytesEqual, deepEqual, equal, ok, rejectsWithCode } from '../helpers/assert.js'
import { FileStorage, fileStorage } from '../../src/storage/file.node.js'
import { defaultStorage } from '../../src/storage/default.node.js'
import { promisify } from '../../src/storage/promises.js'

const enc = (s: string): Uint8Array => new TextEncoder().encode(s)
const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const FILE_NODE_URL = new URL('../../src/storage/file.node.ts', import.meta.url).href
// No test here waits on a timer; this only turns a hung child into a failure.
const T = { timeout: 60_000 }

function tmpDir (t: TestContext): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hcw-lock-'))
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }))
  return dir
}

/** Resolves with the error code an operation rejects with ('' when it resolves). */
async function codeOf (p: Promise<unknown>): Promise<string> {
  return p.then(() => '', (err: unknown) => String((err as { code?: string }).code))
}

/** The raw error code of an npm storage's open (promisify would normalise ELOCKED away). */
function rawOpenCode (storage: { open: (cb: (err: Error | null) => void) => void }): Promise<string> {
  return new Promise(resolve => storage.open(err => resolve(err === null ? '' : String((err as { code?: string }).code))))
}

async function writeFile (file: string, data: Uint8Array): Promise<void> {
  const s = promisify(new FileStorage(file))
  await s.write(0, data)
  await s.close()
}

// --- child processes ---------------------------------------------------------------------

interface Child {
  /** The next line the child prints. */
  line: () => Promise<string>
  /** Ends the child's stdin (its signal to let go) and resolves with its last line. */
  release: () => Promise<string>
}

/**
 * Children print `locked` once they hold the lock (or `error <code>`), then wait for their
 * stdin to end, close, and print `released`. Lines, not timers, sequence both sides.
 */
function spawnNode (t: TestContext, args: string[], env: Record<string, string>): Child {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env }
  delete childEnv.NODE_TEST_CONTEXT // a plain script, not a node:test child
  const cp = spawn(process.execPath, args, { cwd: ROOT, env: childEnv, stdio: ['pipe', 'pipe', 'pipe'] })
  let stderr = ''
  cp.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
  const lines: string[] = []
  const waiting: Array<(line: string | null) => void> = []
  let ended = false
  readline.createInterface({ input: cp.stdout }).on('line', line => {
    const w = waiting.shift()
    if (w !== undefined) w(line)
    else lines.push(line)
  })
  // 'close' comes after stdout ended, so every line has been delivered by then.
  cp.on('close', () => {
    ended = true
    for (const w of waiting.splice(0)) w(null)
  })
  t.after(() => { if (!ended) cp.kill() })
  const line = async (): Promise<string> => {
    const next = lines.length > 0 ? lines.shift() as string : ended ? null : await new Promise<string | null>(resolve => waiting.push(resolve))
    if (next === null) throw new Error(`child ended without printing a line; stderr:\n${stderr}`)
    return next
  }
  return {
    line,
    release: () => { cp.stdin.end(); return line() }
  }
}

const OUR_HOLDER = `
const { FileStorage } = await import(process.env.HCW_MODULE)
const s = new FileStorage(process.env.HCW_FILE, { lock: true, readOnly: process.env.HCW_READ_ONLY === '1' })
s.open(err => {
  if (err) return console.log('error ' + err.code)
  console.log(s.locked ? 'locked' : 'not locked')
  process.stdin.on('end', () => s.close(() => console.log('released')))
  process.stdin.resume()
})
`

/** Our FileStorage (through tsx) in another process, opening `file` with a lock. */
function ourChild (t: TestContext, file: string, opts: { readOnly?: boolean } = {}): Child {
  return spawnNode(t, ['--import', 'tsx', '--input-type=module', '-e', OUR_HOLDER], {
    HCW_MODULE: FILE_NODE_URL,
    HCW_FILE: file,
    HCW_READ_ONLY: opts.readOnly === true ? '1' : '0'
  })
}

const V10_HOLDER = `
const Hypercore = require('hypercore')
const core = new Hypercore(process.env.HCW_DIR)
core.ready().then(() => {
  console.log('locked')
  process.stdin.on('end', () => core.close().then(() => console.log('released')))
  process.stdin.resume()
}, err => console.log('error ' + err.code))
`

/** hypercore@10 (its own default storage) in another process, opening `dir`. */
function v10Child (t: TestContext, dir: string): Child {
  return spawnNode(t, ['-e', V10_HOLDER], { HCW_DIR: dir })
}

// --- open never truncates ----------------------------------------------------------------

test('open never truncates: bytes another handle writes between our open calls survive (O_CREAT without O_TRUNC)', async (t) => {
  const file = path.join(tmpDir(t), 'oplog')
  const theirs = enc('written by the other handle')
  const realOpen = fsp.open
  const opens: Array<string | number | undefined> = []
  // Deterministic race: right after our first open(2) of the file returns (whatever it did:
  // created the file, or found it missing), another handle creates the file and writes to
  // it, before our open continues. An r+-then-w+ open re-opens with O_TRUNC here.
  let raced = false
  t.mock.method(fsp, 'open', async (p: fs.PathLike, flags?: string | number, mode?: fs.Mode): Promise<FileHandle> => {
    const result = realOpen(p, flags, mode)
    if (p !== file || raced) return result
    opens.push(flags)
    raced = true
    await result.catch(() => {})
    await writeFile(file, theirs)
    return result
  })

  const ours = promisify(new FileStorage(file))
  await ours.open()
  equal(raced, true, 'the race ran')
  deepEqual(await ours.stat(), { size: theirs.byteLength }, 'size after open')
  bytesEqual(await ours.read(0, theirs.byteLength), theirs, 'the other handle\'s bytes')
  await ours.write(theirs.byteLength, enc('+ours'))
  await ours.close()
  t.mock.restoreAll()
  bytesEqual(fs.readFileSync(file), enc('written by the other handle+ours'), 'on disk')
  equal(typeof opens[0], 'number', 'opened with numeric flags')
  equal(((opens[0] as number) & fs.constants.O_TRUNC), 0, 'no O_TRUNC')
  equal(((opens[0] as number) & fs.constants.O_CREAT), fs.constants.O_CREAT, 'O_CREAT')
})

// --- locks between handles in one process ------------------------------------------------

test('lock: a second locking handle on the same file fails STORAGE_LOCKED until the first closes', async (t) => {
  const file = path.join(tmpDir(t), 'oplog')
  const first = new FileStorage(file, { lock: true })
  await promisify(first).write(0, enc('first'))
  equal(first.locked, true, 'first holds the lock')

  const second = new FileStorage(file, { lock: true })
  const err = await rejectsWithCode(() => promisify(second).open(), 'STORAGE_LOCKED')
  ok(err.message.includes(file), 'the message names the file')
  equal(second.opened, false)
  equal(second.locked, false)
  equal(await codeOf(promisify(second).read(0, 5)), 'STORAGE_LOCKED', 'operations retry the open and fail the same way')

  // a handle that does not ask for a lock is not stopped by one (locks are advisory)
  const plain = promisify(new FileStorage(file))
  bytesEqual(await plain.read(0, 5), enc('first'))
  await plain.close()

  await promisify(first).close()
  equal(first.locked, false, 'closing the fd released it')
  // the same handle retries its open on the next operation, and now gets the lock
  bytesEqual(await promisify(second).read(0, 5), enc('first'))
  equal(second.locked, true)
  const third = new FileStorage(file, { lock: true })
  equal(await codeOf(promisify(third).open()), 'STORAGE_LOCKED', 'second now excludes others')
  await promisify(second).close()
  const fourth = promisify(new FileStorage(file, { lock: true }))
  await fourth.open()
  deepEqual(await fourth.stat(), { size: 5 }, 'a new handle opens once every holder closed')
  await fourth.close()
})

test('fileStorage(dir) locks only the oplog by default; { lock: false } and { unlocked: true } take none', async (t) => {
  const dir = tmpDir(t)
  const files = fileStorage(dir)
  const oplog = files('oplog') as FileStorage
  const tree = files('tree') as FileStorage
  await promisify(oplog).open()
  await promisify(tree).open()
  deepEqual([oplog.lock, oplog.locked, tree.lock, tree.locked], [true, true, false, false])
  equal(await codeOf(promisify(fileStorage(dir)('oplog')).open()), 'STORAGE_LOCKED', 'a second directory handle')
  equal(await codeOf(promisify(defaultStorage(dir)('oplog')).open()), 'STORAGE_LOCKED', 'defaultStorage is fileStorage')
  const tree2 = promisify(fileStorage(dir)('tree'))
  await tree2.write(0, enc('t'))
  await tree2.close()

  const noLock = fileStorage(dir, { lock: false })('oplog') as FileStorage
  await promisify(noLock).write(0, enc('unlocked writer'))
  deepEqual([noLock.readOnly, noLock.locked], [false, false])
  await promisify(noLock).close()

  const reader = fileStorage(dir, { unlocked: true })('oplog') as FileStorage
  bytesEqual(await promisify(reader).read(0, 8), enc('unlocked'), 'unlocked reads while the writer holds the lock')
  deepEqual([reader.readOnly, reader.locked], [true, false])
  equal(await codeOf(promisify(reader).write(0, enc('x'))), 'STORAGE_READ_ONLY', 'unlocked is read-only, as in hypercore@10')
  await promisify(reader).close()

  const custom = fileStorage(dir, { lock: 'data' })
  deepEqual([(custom('data') as FileStorage).lock, (custom('oplog') as FileStorage).lock, (custom('a/b/data') as FileStorage).lock], [true, false, true])

  await promisify(oplog).close()
  await promisify(tree).close()
})

// --- locks across processes --------------------------------------------------------------

test('lock across processes: a child holding the lock makes ours fail STORAGE_LOCKED, until it lets go', T, async (t) => {
  const file = path.join(tmpDir(t), 'oplog')
  await writeFile(file, enc('shared bytes'))
  const child = ourChild(t, file)
  equal(await child.line(), 'locked')

  const ours = new FileStorage(file, { lock: true })
  equal(await codeOf(promisify(ours).open()), 'STORAGE_LOCKED', 'exclusive vs the child')
  const shared = new FileStorage(file, { lock: true, readOnly: true })
  equal(await codeOf(promisify(shared).open()), 'STORAGE_LOCKED', 'shared vs the child\'s exclusive lock')

  equal(await child.release(), 'released')
  bytesEqual(await promisify(ours).read(0, 12), enc('shared bytes'), 'the same handle opens after the child closed')
  equal(ours.locked, true)
  await promisify(ours).close()
  await promisify(shared).close()
})

test('lock across processes: while we hold the lock a child fails STORAGE_LOCKED; after we close it gets it', T, async (t) => {
  const file = path.join(tmpDir(t), 'oplog')
  const ours = promisify(new FileStorage(file, { lock: true }))
  await ours.write(0, enc('ours'))
  equal(await ourChild(t, file).line(), 'error STORAGE_LOCKED')
  equal(await ourChild(t, file, { readOnly: true }).line(), 'error STORAGE_LOCKED', 'a shared lock in the child')
  await ours.close()
  const child = ourChild(t, file)
  equal(await child.line(), 'locked')
  equal(await child.release(), 'released')
})

test('shared locks (read-only handles) coexist across processes and keep writers out', T, async (t) => {
  const file = path.join(tmpDir(t), 'oplog')
  await writeFile(file, enc('data'))
  const child = ourChild(t, file, { readOnly: true })
  equal(await child.line(), 'locked')
  const reader = new FileStorage(file, { lock: true, readOnly: true })
  bytesEqual(await promisify(reader).read(0, 4), enc('data'), 'a second shared holder')
  equal(reader.locked, true)
  equal(await codeOf(promisify(new FileStorage(file, { lock: true })).open()), 'STORAGE_LOCKED', 'a writer while readers hold it')
  await promisify(reader).close()
  equal(await codeOf(promisify(new FileStorage(file, { lock: true })).open()), 'STORAGE_LOCKED', 'one reader (the child) is enough')
  equal(await child.release(), 'released')
  const writer = promisify(new FileStorage(file, { lock: true }))
  await writer.write(4, enc('!'))
  await writer.close()
  bytesEqual(fs.readFileSync(file), enc('data!'))
})

// --- interop with hypercore@10 -----------------------------------------------------------

test('hypercore@10 holding a directory: fileStorage(dir) cannot open its oplog (STORAGE_LOCKED), other files open', async (t) => {
  const dir = tmpDir(t)
  const core = new Hypercore(dir)
  await core.append(enc('v10'))

  const files = fileStorage(dir)
  equal(await codeOf(promisify(files('oplog')).open()), 'STORAGE_LOCKED', 'exclusive')
  equal(await codeOf(promisify(fileStorage(dir, { readOnly: true })('oplog')).open()), 'STORAGE_LOCKED', 'shared')
  // what hypercore@10's own read-only storage (random-access-file, lock + writable: false) gets
  equal(await rawOpenCode(new RAF('oplog', { directory: dir, lock: true, writable: false })), 'ELOCKED', 'hypercore@10\'s shared lock fails the same way')
  const tree = promisify(files('tree'))
  deepEqual(await tree.stat(), { size: fs.statSync(path.join(dir, 'tree')).size }, 'tree is not locked')
  await tree.close()
  // hypercore@10's `unlocked` counterpart reads the live oplog
  const reader = promisify(fileStorage(dir, { unlocked: true })('oplog'))
  const { size } = await reader.stat()
  ok(size > 0, 'the oplog has bytes')
  bytesEqual(await reader.read(0, size), fs.readFileSync(path.join(dir, 'oplog')))
  await reader.close()

  await core.close()
  const oplog = promisify(files('oplog'))
  await oplog.open()
  await oplog.close()
})

test('our oplog lock makes hypercore@10 ready() reject ELOCKED; hypercore@10 { unlocked: true } still reads', async (t) => {
  const dir = tmpDir(t)
  const writer = new Hypercore(dir)
  await writer.append([enc('a'), enc('b')])
  await writer.close()

  const oplog = promisify(fileStorage(dir)('oplog'))
  await oplog.open()
  const blocked = new Hypercore(dir)
  equal(await codeOf(blocked.ready()), 'ELOCKED')
  await blocked.close().catch(() => {})
  const unlocked = new Hypercore(dir, { unlocked: true })
  await unlocked.ready()
  equal(unlocked.length, 2, 'hypercore@10 read-only, no lock')
  bytesEqual(await unlocked.get(1), enc('b'))
  await unlocked.close()

  await oplog.close()
  const again = new Hypercore(dir)
  await again.ready()
  equal(again.length, 2, 'hypercore@10 opens once we closed')
  await again.close()
})

test('hypercore@10 on our file storage takes our lock: its own default storage then gets ELOCKED, and the reverse', async (t) => {
  const dir = tmpDir(t)
  const onOurs = new Hypercore(fileStorage(dir))
  await onOurs.append(enc('x'))
  const v10 = new Hypercore(dir)
  equal(await codeOf(v10.ready()), 'ELOCKED', 'v10 default storage vs ours')
  await v10.close().catch(() => {})
  await onOurs.close()

  const holder = new Hypercore(dir)
  await holder.ready()
  const second = new Hypercore(fileStorage(dir))
  equal(await codeOf(second.ready()), 'STORAGE_LOCKED', 'ours vs v10 default storage')
  await second.close().catch(() => {})
  await holder.close()
})

test('hypercore@10 in a child process holds the oplog: ours fails STORAGE_LOCKED until it closes', T, async (t) => {
  const dir = tmpDir(t)
  const child = v10Child(t, dir)
  equal(await child.line(), 'locked')
  equal(await codeOf(promisify(fileStorage(dir)('oplog')).open()), 'STORAGE_LOCKED')
  equal(await child.release(), 'released')
  const oplog = fileStorage(dir)('oplog') as FileStorage
  await promisify(oplog).open()
  equal(oplog.locked, true)
  // and now the child's hypercore@10 is the one kept out
  equal(await v10Child(t, dir).line(), 'error ELOCKED')
  await promisify(oplog).close()
})

// --- read-only ---------------------------------------------------------------------------

test('read-only: reads an existing file; writes, dels, truncates and unlink reject STORAGE_READ_ONLY', async (t) => {
  const file = path.join(tmpDir(t), 'data')
  await writeFile(file, enc('hello world'))
  const s = promisify(new FileStorage(file, { readOnly: true }))
  bytesEqual(await s.read(6, 5), enc('world'))
  deepEqual(await s.stat(), { size: 11 })
  equal(await codeOf(s.read(6, 6)), 'STORAGE_OUT_OF_BOUNDS', 'short read')
  equal(await codeOf(s.write(0, enc('J'))), 'STORAGE_READ_ONLY', 'write')
  equal(await codeOf(s.del(0, 5)), 'STORAGE_READ_ONLY', 'del')
  equal(await codeOf(s.del(0, Infinity)), 'STORAGE_READ_ONLY', 'del to the end')
  equal(await codeOf(s.truncate(0)), 'STORAGE_READ_ONLY', 'truncate')
  bytesEqual(fs.readFileSync(file), enc('hello world'), 'unchanged on disk')
  equal(await codeOf(s.unlink()), 'STORAGE_READ_ONLY', 'unlink')
  equal(fs.existsSync(file), true, 'still there')
})

test('read-only: a missing file reads as empty and is not created, nor its directory', async (t) => {
  const dir = tmpDir(t)
  const file = path.join(dir, 'not', 'there', 'oplog')
  const handle = new FileStorage(file, { readOnly: true, lock: true })
  const s = promisify(handle)
  await s.open()
  deepEqual(await s.stat(), { size: 0 })
  equal((await s.read(0, 0)).byteLength, 0, 'a zero-length read at 0')
  equal(await codeOf(s.read(0, 1)), 'STORAGE_OUT_OF_BOUNDS')
  equal(await codeOf(s.read(1, 0)), 'STORAGE_OUT_OF_BOUNDS', 'zero-length past the end')
  equal(await codeOf(s.write(0, enc('x'))), 'STORAGE_READ_ONLY')
  equal(await codeOf(s.truncate(0)), 'STORAGE_READ_ONLY')
  equal(handle.locked, false, 'nothing to lock')
  await s.close()
  deepEqual(fs.readdirSync(dir), [], 'nothing created')
  // a directory of read-only files does not create the directory either
  const ro = promisify(fileStorage(path.join(dir, 'core'), { readOnly: true })('oplog'))
  deepEqual(await ro.stat(), { size: 0 })
  await ro.close()
  equal(fs.existsSync(path.join(dir, 'core')), false)
})

test('read-only: a shared lock fails against a writer (as hypercore@10\'s) but an unlocked reader does not', async (t) => {
  const file = path.join(tmpDir(t), 'oplog')
  const writer = promisify(new FileStorage(file, { lock: true }))
  await writer.write(0, enc('live'))
  const sharedReader = new FileStorage(file, { readOnly: true, lock: true })
  equal(await codeOf(promisify(sharedReader).open()), 'STORAGE_LOCKED')
  const npmShared = new RAF(file, { lock: true, writable: false })
  equal(await rawOpenCode(npmShared), 'ELOCKED', 'random-access-file (hypercore@10) agrees')
  const unlocked = promisify(new FileStorage(file, { readOnly: true }))
  bytesEqual(await unlocked.read(0, 4), enc('live'))
  await writer.write(4, enc('!'))
  bytesEqual(await unlocked.read(0, 5), enc('live!'), 'sees the writer\'s later bytes')
  await unlocked.close()
  await writer.close()
  bytesEqual(await promisify(sharedReader).read(0, 5), enc('live!'), 'takes the shared lock once the writer closed')
  equal(sharedReader.locked, true)
  await promisify(sharedReader).close()
})
