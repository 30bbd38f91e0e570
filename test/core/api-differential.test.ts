/**
 * @module test/core/api-differential
 * The public API side by side with hypercore@10 (a black box): each scenario runs the same
 * calls on ours and on hypercore@10, each on its own npm random-access-memory files, and the
 * results must be equal, byte types included (a Buffer where hypercore@10 gives a Buffer),
 * and so must the five files where a scenario compares them.
 */
import { test } from 'node:test'
import Hypercore from '../../src/index.js'
import { cryptoReady } from '../../src/crypto/sodium.js'
import { keyPair } from '../../src/crypto/sign.js'
import { deepEqual } from '../helpers/assert.js'
import { RefHypercore, ramSet, snapshotFiles } from './helpers.js'

type AnyCore = any
type Impl = { name: string, H: AnyCore }

/** Results as comparable JSON: bytes keep their class (Buffer vs plain Uint8Array) and content. */
function describe (v: unknown): unknown {
  if (Buffer.isBuffer(v)) return { Buffer: v.toString('hex') }
  if (v instanceof Uint8Array) return { Uint8Array: Buffer.from(v).toString('hex') }
  if (Array.isArray(v)) return v.map(describe)
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, describe(x)]))
  return v
}

async function codeOf (p: Promise<unknown>): Promise<string> {
  try {
    await p
    return 'resolved'
  } catch (err) {
    return (err as { code?: string }).code ?? 'error'
  }
}

const seedPair = () => {
  const kp = keyPair(new Uint8Array(32).fill(11))
  return { publicKey: Buffer.from(kp.publicKey), secretKey: Buffer.from(kp.secretKey) }
}

/** Runs `scenario` on both implementations and compares what it returns (and, if asked, the files). */
function same (name: string, scenario: (impl: Impl, storage: ReturnType<typeof ramSet>) => Promise<unknown>, opts: { files?: boolean } = {}): void {
  test(`api vs hypercore@10: ${name}`, async () => {
    await cryptoReady()
    const results: unknown[] = []
    const files: unknown[] = []
    for (const impl of [{ name: 'ours', H: Hypercore }, { name: 'hypercore@10', H: RefHypercore }]) {
      const storage = ramSet()
      results.push(describe(await scenario(impl, storage)))
      if (opts.files === true) {
        // The cores closed their files: read fresh handles on the same bytes.
        for (const name of [...storage.files.keys()]) storage.reopen(name)
        files.push(await snapshotFiles(storage.files))
      }
    }
    deepEqual(results[0], results[1], `${name}: ours vs hypercore@10`)
    if (opts.files === true) deepEqual(files[0], files[1], `${name}: files`)
  })
}

same('constructor forms: (storage, key), (storage, { key }), ({ storage, key }), (null, { storage })', async ({ H }, s) => {
  const w = new H(s.factory, { keyPair: seedPair() })
  await w.ready()
  const key = w.key
  await w.close()
  const out: unknown[] = []
  for (const make of [
    () => new H(ramSet().factory, key),
    () => new H(ramSet().factory, { key }),
    () => new H({ storage: ramSet().factory, key }),
    () => new H(null, { storage: ramSet().factory, key })
  ]) {
    const c = make()
    const before = [c.key, c.opened, c.readable]
    await c.ready()
    out.push([...before, c.key, c.writable, c.length, c.opened])
    await c.close()
  }
  return out
})

same('bytes handed out are Buffers (key, discoveryKey, keyPair, get, treeHash, info, streams)', async ({ H }, s) => {
  const c = new H(s.factory, { keyPair: seedPair() })
  await c.append([Buffer.from('one'), Buffer.from('two')])
  const info = await c.info()
  const streamed: unknown[] = []
  for await (const b of c.createReadStream()) streamed.push(b)
  const bytes: unknown[] = []
  for await (const b of c.createByteStream({ byteOffset: 1, byteLength: 4 })) bytes.push(b)
  const out = [c.key, c.discoveryKey, c.keyPair.publicKey, c.keyPair.secretKey, await c.get(0), await c.treeHash(), info.key, info.discoveryKey, streamed, Buffer.concat(bytes as Buffer[])]
  await c.close()
  return out
}, { files: true })

same('user data: set, overwrite, delete, read back after reopen; the same oplog and header bytes', async ({ H }, s) => {
  const c = new H(s.factory, { keyPair: seedPair() })
  await c.setUserData('a', Buffer.from('1'))
  await c.setUserData('b', Buffer.from('2'))
  await c.setUserData('a', Buffer.from('3'))
  await c.setUserData('b', null)
  await c.setUserData('c', Buffer.from('4'), { flush: true })
  const before = [await c.getUserData('a'), await c.getUserData('b'), await c.getUserData('c'), await c.getUserData('none')]
  await c.close()
  const r = new H((name: string) => s.reopen(name))
  await r.ready()
  const after = [await r.getUserData('a'), await r.getUserData('b'), await r.getUserData('c')]
  await r.close()
  return { before, after }
}, { files: true })

same('append options and the result: keyPair given, { length, byteLength }, a block bypasses the value encoding', async ({ H }, s) => {
  const kp = seedPair()
  const c = new H(s.factory, { keyPair: kp, valueEncoding: 'json' })
  const r1 = await c.append({ a: 1 })
  const r2 = await c.append(Buffer.from('raw bytes'))
  const read = [await c.get(0), await c.get(1, { valueEncoding: 'binary' })]
  await c.close()
  // A core opened with only the key cannot sign by itself; a key pair given for the call can.
  const reader = new H(ramSet().factory, kp.publicKey)
  await reader.ready()
  const writableBefore = reader.writable
  const r3 = await reader.append(Buffer.from('signed with the given pair'), { keyPair: kp })
  const r4 = await codeOf(reader.append(Buffer.from('no pair')))
  const len = reader.length
  await reader.close()
  const ro = new H((name: string) => s.reopen(name), { writable: false })
  const r5 = await codeOf(ro.append(Buffer.from('read-only session'), { keyPair: kp }))
  await ro.close()
  return { r1, r2, read, writableBefore, r3, r4, len, r5 }
})

same('truncate forms: (length), (length, fork), (length, { fork }) and the truncate event', async ({ H }, s) => {
  const c = new H(s.factory, { keyPair: seedPair() })
  const events: unknown[] = []
  c.on('truncate', (ancestors: number, fork: number) => events.push([ancestors, fork]))
  await c.append(['a', 'b', 'c', 'd', 'e'].map(x => Buffer.from(x)))
  await c.truncate(4)
  await c.truncate(3, 7)
  await c.truncate(2, { fork: 9 })
  const out = { length: c.length, fork: c.fork, events, hash: await c.treeHash() }
  await c.close()
  return out
}, { files: true })

same('clear: (i), (start, end), (start, { diff }), (start, end, { diff }) shapes; has() after', async ({ H }, s) => {
  const c = new H(s.factory, { keyPair: seedPair() })
  await c.append(Array.from({ length: 8 }, (_, i) => Buffer.alloc(100, i)))
  const shapes = [
    await c.clear(0),
    await c.clear(1, 3),
    typeof (await c.clear(3, { diff: true }))?.blocks,
    typeof (await c.clear(4, 6, { diff: true }))?.blocks,
    await c.clear(100)
  ]
  const has = await Promise.all(Array.from({ length: 8 }, (_, i) => c.has(i)))
  await c.close()
  return { shapes, has }
})

same('download(): done() and downloaded() true when stored, { start, length }, false when destroyed', async ({ H }, s) => {
  const c = new H(s.factory, { keyPair: seedPair() })
  await c.append(['a', 'b', 'c'].map(x => Buffer.from(x)))
  const local = await c.download({ start: 0, end: 3 }).done()
  const byLength = await c.download({ start: 1, length: 2 }).downloaded()
  const blocks = await c.download({ blocks: [0, 2] }).done()
  const pending = c.download({ start: 0, end: 10 })
  pending.destroy()
  const destroyed = await pending.done()
  await c.close()
  return { local, byLength, blocks, destroyed }
})

same('sessions: an array, inheritance (value encoding not inherited; read-only is), close(isLast)', async ({ H }, s) => {
  const c = new H(s.factory, { keyPair: seedPair(), valueEncoding: 'utf-8' })
  await c.append('x')
  const plain = c.session()
  const typed = c.session({ valueEncoding: 'utf-8' })
  await Promise.all([plain.ready(), typed.ready()])
  const values = [await plain.get(0), await typed.get(0)]
  const count = c.sessions.length
  const ro = c.session({ writable: false })
  await ro.ready()
  const ro2 = ro.session({ writable: true })
  await ro2.ready()
  const closes: unknown[] = []
  for (const x of [plain, typed, ro, ro2, c]) x.once('close', (isLast: boolean) => closes.push(isLast))
  const writable = [ro.writable, ro2.writable]
  for (const x of [plain, typed, ro, ro2]) await x.close()
  await c.close()
  return { values, count, writable, closes, after: [c.opened, c.closed, c.readable] }
})

same('a session of an open core has its key and length at once', async ({ H }, s) => {
  const c = new H(s.factory, { keyPair: seedPair() })
  await c.append(Buffer.from('a'))
  const x = c.session()
  const now = [x.key, x.id, x.length, x.writable]
  await x.ready()
  const later = [x.key, x.length, x.writable]
  await x.close()
  await c.close()
  return { now: now.slice(0, 3), later }
})

same('get(raw), seek past the end with wait: false, update() after close', async ({ H }, s) => {
  const c = new H(s.factory, { keyPair: seedPair(), encryptionKey: Buffer.alloc(32, 3), valueEncoding: 'utf-8' })
  await c.append(['hello', 'world'])
  const raw = await c.get(0, { raw: true })
  const out = { rawLength: raw.byteLength, decoded: await c.get(1), seek: await c.seek(7, { wait: false }), past: await c.seek(100, { wait: false }) }
  await c.close()
  return { ...out, updateAfterClose: await c.update() }
})

same('write stream: every write appended, in order', async ({ H }, s) => {
  const c = new H(s.factory, { keyPair: seedPair() })
  const ws = c.createWriteStream()
  for (const x of ['a', 'b', 'c']) ws.write(Buffer.from(x))
  await new Promise<void>((resolve, reject) => ws.end((err: Error | null) => err ? reject(err) : resolve()))
  const out = [c.length, await c.get(0), await c.get(2)]
  await c.close()
  return out
}, { files: true })

same('compat: false and manifest: the key is the manifest hash; files the same', async ({ H }, s) => {
  const kp = seedPair()
  const c = new H(s.factory, { keyPair: kp, compat: false })
  await c.append(Buffer.from('signed under a manifest'))
  const out = { key: c.key, keyIsPublicKey: Buffer.from(c.key).equals(kp.publicKey), manifest: c.manifest?.signers.length, hash: await c.treeHash(), staticKey: H.key(kp.publicKey), staticCompat: H.key(kp.publicKey, { compat: true }) }
  await c.close()
  return out
}, { files: true })

same('statics: discoveryKey, MAX_SUGGESTED_BLOCK_SIZE, a block over it is refused', async ({ H }, s) => {
  const c = new H(s.factory, { keyPair: seedPair() })
  await c.ready()
  const out = { dk: H.discoveryKey(c.key), same: Buffer.from(H.discoveryKey(c.key)).equals(c.discoveryKey), max: H.MAX_SUGGESTED_BLOCK_SIZE, big: await codeOf(c.append(Buffer.alloc(H.MAX_SUGGESTED_BLOCK_SIZE + 1))) }
  await c.close()
  return out
})

same('batch(): appends held until flush, read and hashed as if appended; truncate of pending blocks; the same files', async ({ H }, s) => {
  const c = new H(s.factory, { keyPair: seedPair() })
  await c.append(Buffer.from('base'))
  const b = c.batch()
  await b.ready()
  const events: string[] = []
  for (const e of ['append', 'truncate', 'flush', 'close']) b.on(e, () => events.push(e))
  const r1 = await b.append([Buffer.from('one'), Buffer.from('two'), Buffer.from('three')])
  const pending = { length: b.length, byteLength: b.byteLength, coreLength: c.length, got: [await b.get(0), await b.get(2)], has: [await b.has(3), await b.has(4)] }
  const hashBefore = b.treeHash()
  const withPending = b.createTreeBatch().hash()
  await b.truncate(3)
  const afterTruncate = [b.length, b.byteLength]
  const hashTruncated = b.treeHash()
  const flushed = await b.flush()
  const out = { r1, pending, hashBefore, withPending, afterTruncate, hashTruncated, flushed, coreLength: c.length, coreHash: await c.treeHash(), closed: b.closed, events }
  await c.close()
  return out
}, { files: true })

// (files not compared: hypercore@10 writes the nodes of a batch's flush in another order in its
// oplog entry; both orders replay to the same tree)
same('batch({ autoClose: false }): flush({ length }) flushes a prefix, the rest stays pending', async ({ H }, s) => {
  const c = new H(s.factory, { keyPair: seedPair() })
  const b = c.batch({ autoClose: false })
  await b.append(['a', 'b', 'c', 'd'].map(x => Buffer.from(x)))
  const first = await b.flush({ length: 2 })
  const mid = [c.length, b.length, b.flushedLength, await b.get(3)]
  const second = await b.flush()
  const end = [c.length, b.length, b.closed]
  await b.close()
  await c.close()
  return { first, mid, second, end }
})

same('semantics: snapshots taken at call time and moved by update(); the timeout chain (constructor, session, get); a local download; info(); update({ force })', async ({ H }, s) => {
  const c = new H(s.factory, { valueEncoding: 'json', timeout: 40, keyPair: seedPair() })
  await c.append([{ a: 1 }, { a: 2 }])
  const snap = c.snapshot()
  await c.append({ a: 3 })
  const snapAt = [snap.length, c.length]
  const moved = [await snap.update(), snap.length, await snap.get(2)]
  const sess = c.session()
  const short = c.session({ timeout: 5 })
  const timeouts = [c.timeout, sess.timeout, short.timeout, await codeOf(sess.get(10)), await codeOf(c.get(10, { timeout: 5 })), await codeOf(short.get(10))]
  const d = c.download({ start: 0, end: 3 })
  const local = [await d.done(), await d.downloaded()]
  const info = await c.info()
  const forced = await c.update({ force: true })
  for (const x of [snap, sess, short]) await x.close()
  await c.close()
  return { snapAt, moved, timeouts, local, info: { ...info }, forced }
})
