/**
 * @module test/core/api-cases
 * The Hypercore API suite, browser-safe: the same cases run in Node (memory and file storage,
 * test/core/api.test.ts) and in Chromium on IndexedDB (web-test/core.spec.ts). Values come
 * from the spec's vectors (§2.5, §4) where one exists.
 */
import c from 'compact-encoding'
import Hypercore from '../../src/index.js'
import { keyPair } from '../../src/crypto/sign.js'
import { cryptoReady } from '../../src/crypto/sodium.js'
import type { StorageInput } from '../../src/storage/types.js'
import { bytesEqual, deepEqual, equal, hex, ok, rejectsWithCode, throwsWithCode, type SuiteCase } from '../helpers/assert.js'

/** A storage location; each `open()` is a storage input over the same bytes. */
export interface Place {
  open: () => StorageInput
  cleanup: () => Promise<void>
}

export interface CoreCtx {
  place: () => Place
}

const te = new TextEncoder()
const enc = (s: string): Uint8Array => te.encode(s)
const dec = (b: unknown): string => new TextDecoder().decode(b as Uint8Array)

const V = {
  key: '8a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f6f5c',
  discoveryKey: 'c1feb82a2b3ba065ffed9f6addcf19ac250793bcab748986a1b4272c62da20e6',
  id: 'tkrq8zmwb8a3m9k15csu3q17qmfgqnp9dskbrg9uq1rydpyxp7qy',
  treeHash1: 'b06219c834e8e4da41e42b3c8239f4d1805a388c5dd03eff3777e6532ec72f27',
  treeHash2: '3424a063fb40dfef317c8ca38fb8c37dfdbccac669582f6f9cddd22bbdf9c044',
  treeHash3: '7ea73eb86179fb7328e73663f90f4c91256574af1112efe97fdf9309e03b67a7',
  stored0: '01afac15f6635d6da9',
  stored1: '774f7b405bd597e188'
}

async function seedKeyPair (): Promise<{ publicKey: Uint8Array, secretKey: Uint8Array }> {
  await cryptoReady()
  return keyPair(new Uint8Array(32).fill(1))
}

/** Runs `fn` on a fresh place and always cleans it up. */
async function withPlace (ctx: CoreCtx, fn: (p: Place) => Promise<void>): Promise<void> {
  const p = ctx.place()
  try {
    await fn(p)
  } finally {
    await p.cleanup()
  }
}

export const coreCases: Array<SuiteCase<CoreCtx>> = [
  {
    name: 'append/get/has and the §2.5 vectors (key, discoveryKey, id, tree hashes)',
    run: (ctx) => withPlace(ctx, async (p) => {
      const core = new Hypercore(p.open(), { keyPair: await seedKeyPair() })
      await core.ready()
      bytesEqual(core.key, V.key, 'key')
      bytesEqual(core.discoveryKey, V.discoveryKey, 'discoveryKey')
      equal(core.id, V.id, 'id')
      equal(core.writable, true)
      equal(core.readable, true)
      deepEqual(await core.append(enc('a')), { length: 1, byteLength: 1 })
      deepEqual(await core.append([enc('b'), enc('c')]), { length: 3, byteLength: 3 })
      equal(core.length, 3)
      equal(core.byteLength, 3)
      equal(core.contiguousLength, 3)
      equal(core.fork, 0)
      equal(core.padding, 0)
      bytesEqual(await core.treeHash(), V.treeHash3)
      bytesEqual(await core.treeHash(1), V.treeHash1)
      bytesEqual(await core.treeHash(2), V.treeHash2)
      equal(dec(await core.get(1)), 'b')
      equal(await core.has(0), true)
      equal(await core.has(0, 3), true)
      equal(await core.has(2, 4), false)
      equal(await core.has(3), false)
      await core.close()
    })
  },
  {
    name: 'reopen from storage: same key, length, fork, blocks, tree hash; still writable',
    run: (ctx) => withPlace(ctx, async (p) => {
      const a = new Hypercore(p.open(), { keyPair: await seedKeyPair() })
      for (let i = 0; i < 10; i++) await a.append(enc(`block ${i}`))
      await a.truncate(8)
      await a.append(enc('new'))
      await a.clear(3)
      await a.close()
      equal(a.closed, true)
      const b = new Hypercore(p.open())
      await b.ready()
      bytesEqual(b.key, V.key)
      equal(b.length, 9)
      equal(b.fork, 1)
      equal(b.writable, true)
      equal(dec(await b.get(8)), 'new')
      equal(await b.has(3), false)
      equal(b.contiguousLength, 3)
      const again = new Hypercore(p.open())
      await again.ready() // a second handle on the same storage is fine after the first closed
      await again.close()
      await b.append(enc('more'))
      const hash = await b.treeHash()
      await b.close()
      const c2 = new Hypercore(p.open(), { valueEncoding: 'utf-8' })
      await c2.ready()
      equal(c2.length, 10)
      bytesEqual(await c2.treeHash(), hash)
      equal(await c2.get(9), 'more')
      await c2.close()
    })
  },
  {
    name: 'truncate: new fork, event (ancestors, fork), tree hash of the shorter tree, chosen fork id',
    run: (ctx) => withPlace(ctx, async (p) => {
      const core = new Hypercore(p.open(), { keyPair: await seedKeyPair() })
      await core.append(['a', 'b', 'c'].map(enc))
      const events: unknown[] = []
      core.on('truncate', (ancestors: number, fork: number) => events.push([ancestors, fork]))
      await core.truncate(2)
      equal(core.length, 2)
      equal(core.fork, 1)
      bytesEqual(await core.treeHash(), V.treeHash2)
      deepEqual(events, [[2, 1]])
      await core.append(enc('d'))
      equal(dec(await core.get(2)), 'd')
      await core.truncate(1, 10)
      equal(core.fork, 10)
      deepEqual(events, [[2, 1], [1, 10]])
      bytesEqual(await core.treeHash(), V.treeHash1)
      await core.truncate(0)
      equal(core.length, 0)
      equal(core.byteLength, 0)
      await core.close()
    })
  },
  {
    name: 'clear: blocks go, has/contiguousLength follow, get without wait is null, with a timeout REQUEST_TIMEOUT',
    run: (ctx) => withPlace(ctx, async (p) => {
      const core = new Hypercore(p.open())
      await core.append(['a', 'b', 'c', 'd'].map(enc))
      await core.clear(1, 3)
      equal(await core.has(1), false)
      equal(await core.has(0), true)
      equal(await core.has(3), true)
      equal(core.contiguousLength, 1)
      equal(core.length, 4)
      equal(await core.get(2, { wait: false }), null)
      await rejectsWithCode(() => core.get(2, { timeout: 20 }), 'REQUEST_TIMEOUT')
      equal(dec(await core.get(3)), 'd')
      await core.clear(10, 20) // past the end: nothing to do
      equal(core.length, 4)
      await core.close()
    })
  },
  {
    name: 'seek: the seed example, and offsets excluding the encryption padding',
    run: (ctx) => withPlace(ctx, async (p) => {
      const core = new Hypercore(p.open())
      await core.append(['abc', 'd', 'efg'].map(enc))
      deepEqual(await core.seek(1), [0, 1])
      deepEqual(await core.seek(3), [1, 0])
      deepEqual(await core.seek(5), [2, 1])
      // Past the end: null without waiting, else it waits for the core to grow (hypercore@10).
      equal(await core.seek(100, { wait: false }), null)
      await rejectsWithCode(() => core.seek(100, { timeout: 20 }), 'REQUEST_TIMEOUT')
      const later = core.seek(8)
      await core.append(enc('hijkl'))
      deepEqual(await later, [3, 1])
      await core.close()
      const q = ctx.place()
      const e = new Hypercore(q.open(), { encryptionKey: new Uint8Array(32).fill(2) })
      await e.append(['abc', 'd', 'efg'].map(enc))
      equal(e.byteLength, 7)
      deepEqual(await e.seek(5), [2, 1])
      deepEqual(await e.seek(3), [1, 0])
      await e.close()
      await q.cleanup()
    })
  },
  {
    name: 'valueEncoding: json, utf-8, binary, a compact-encoding codec, per-get override, encodeBatch',
    run: (ctx) => withPlace(ctx, async (p) => {
      const core = new Hypercore(p.open(), { valueEncoding: 'json' })
      await core.append([{ a: 1 }, [2, 3]])
      deepEqual(await core.get(0), { a: 1 })
      equal(await core.get(1, { valueEncoding: 'utf-8' }), '[2,3]')
      bytesEqual(await core.get(1, { valueEncoding: 'binary' }) as Uint8Array, hex(enc('[2,3]')))
      const u = core.session({ valueEncoding: c.uint })
      await u.append(300)
      equal(await u.get(2), 300)
      const s = core.session({ valueEncoding: 'utf-8' })
      await s.append('héllo')
      equal(await s.get(3), 'héllo')
      const b = core.session({ encodeBatch: (batch: unknown[]) => [enc(batch.join('+'))] })
      await b.append(['x', 'y', 'z'])
      equal(core.length, 5)
      equal(await s.get(4), 'x+y+z')
      throwsWithCode(() => new Hypercore(p.open(), { valueEncoding: 'nope' as never }), 'BAD_ARGUMENT')
      // What an encoding cannot encode is a typed error, and nothing of that append is stored.
      const cycle: Record<string, unknown> = {}
      cycle.self = cycle
      await rejectsWithCode(() => core.append([{ ok: 1 }, cycle]), 'BAD_ARGUMENT')
      await rejectsWithCode(() => core.append(10n), 'BAD_ARGUMENT')
      await rejectsWithCode(() => core.append(undefined), 'BAD_ARGUMENT')
      await rejectsWithCode(() => u.append(-1), 'BAD_ARGUMENT') // compact-encoding's uint refuses it
      equal(core.length, 5)
      await core.close()
      await u.close()
      await s.close()
      await b.close()
    })
  },
  {
    name: 'sessions share the core; close is reference counted; closed sessions refuse work',
    run: (ctx) => withPlace(ctx, async (p) => {
      const core = new Hypercore(p.open())
      const s = core.session()
      await s.ready()
      equal(core.sessions.length, 2)
      ok(core.sessions.includes(s) && core.sessions.includes(core), 'sessions lists both (hypercore@10: an array of sessions)')
      let appends = 0
      s.on('append', () => appends++)
      await core.append(enc('a'))
      equal(s.length, 1)
      equal(appends, 1)
      bytesEqual(s.key, hex(core.key!))
      let closed = 0
      core.on('close', () => closed++)
      await core.close()
      await core.close() // idempotent
      equal(closed, 1)
      equal(core.readable, false)
      await rejectsWithCode(() => core.get(0), 'SESSION_CLOSED')
      equal(dec(await s.get(0)), 'a') // the other session still works
      await s.append(enc('b'))
      equal(s.length, 2)
      await s.close()
      equal(s.core!.closed, true, 'the last session closes the storage')
    })
  },
  {
    name: 'snapshot: frozen, SNAPSHOT_NOT_AVAILABLE after a truncation below it, update() moves it',
    run: (ctx) => withPlace(ctx, async (p) => {
      const core = new Hypercore(p.open(), { keyPair: await seedKeyPair() })
      await core.append(['a', 'b', 'c'].map(enc))
      const snap = core.snapshot()
      await snap.ready()
      equal(snap.writable, false)
      await core.append(enc('d'))
      equal(snap.length, 3)
      equal(core.length, 4)
      bytesEqual(await snap.treeHash(), V.treeHash3)
      await rejectsWithCode(() => snap.get(3), 'SNAPSHOT_NOT_AVAILABLE')
      await core.truncate(1)
      await core.append(enc('B'))
      equal(dec(await snap.get(0)), 'a')
      await rejectsWithCode(() => snap.get(1), 'SNAPSHOT_NOT_AVAILABLE')
      equal(await snap.update(), true)
      equal(snap.length, 2)
      equal(dec(await snap.get(1)), 'B')
      await rejectsWithCode(() => snap.append(enc('x')), 'SESSION_NOT_WRITABLE')
      await snap.close()
      await core.close()
    })
  },
  {
    name: 'checkout: snapshot({ length }) at an earlier length has that length, blocks and tree hash',
    run: (ctx) => withPlace(ctx, async (p) => {
      const core = new Hypercore(p.open(), { keyPair: await seedKeyPair(), valueEncoding: 'utf-8' })
      await core.append(['a', 'b', 'c', 'd', 'e'])
      for (const [len, hash] of [[1, V.treeHash1], [2, V.treeHash2], [3, V.treeHash3]] as const) {
        const co = core.snapshot({ length: len, valueEncoding: 'utf-8' }) // not inherited (hypercore@10)
        await co.ready()
        equal(co.length, len)
        equal(co.byteLength, len)
        bytesEqual(await co.treeHash(), hash)
        equal(await co.get(len - 1), 'abcde'[len - 1])
        await rejectsWithCode(() => co.get(len), 'SNAPSHOT_NOT_AVAILABLE')
        await co.close()
      }
      const bad = core.snapshot({ length: 6 })
      await rejectsWithCode(() => bad.ready(), 'BAD_ARGUMENT')
      await bad.close()
      await core.close()
    })
  },
  {
    name: 'createReadStream: whole core, a range, non-snapshot end, live',
    run: (ctx) => withPlace(ctx, async (p) => {
      const core = new Hypercore(p.open(), { valueEncoding: 'utf-8' })
      await core.append(['a', 'b', 'c', 'd'])
      const all: unknown[] = []
      for await (const v of core.createReadStream()) all.push(v)
      deepEqual(all, ['a', 'b', 'c', 'd'])
      const part: unknown[] = []
      for await (const v of core.createReadStream({ start: 1, end: 3 })) part.push(v)
      deepEqual(part, ['b', 'c'])
      const live: unknown[] = []
      const stream = core.createReadStream({ start: 2, live: true })
      const got = (async () => {
        for await (const v of stream) {
          live.push(v)
          if (live.length === 4) break
        }
      })()
      await core.append('e')
      await core.append('f')
      await got
      deepEqual(live, ['c', 'd', 'e', 'f'])
      await core.close()
    })
  },
  {
    name: 'info: numbers and storage sizes',
    run: (ctx) => withPlace(ctx, async (p) => {
      const core = new Hypercore(p.open(), { keyPair: await seedKeyPair() })
      await core.append(['a', 'b', 'c'].map(enc))
      await core.clear(1)
      // File sizes are what was flushed: IndexedDB flushes by oplog size, not every 4th
      // mutation, so flush first to compare the same thing everywhere.
      await core.core!.flush()
      const info = await core.info({ storage: true })
      bytesEqual(info.key, V.key)
      bytesEqual(info.discoveryKey, V.discoveryKey)
      deepEqual([info.length, info.contiguousLength, info.byteLength, info.fork, info.padding], [3, 1, 3, 0, 0])
      ok(info.storage !== null && info.storage.oplog >= 4096 && info.storage.tree === 200 && info.storage.bitfield === 4096, JSON.stringify(info.storage))
      equal((await core.info()).storage, null)
      await core.close()
    })
  },
  {
    name: 'block encryption: the §4 vector ciphertext, padding 8, user byteLength',
    run: (ctx) => withPlace(ctx, async (p) => {
      const core = new Hypercore(p.open(), { keyPair: await seedKeyPair(), encryptionKey: new Uint8Array(32).fill(2) })
      await core.append(['a', 'b', 'c'].map(enc))
      equal(core.padding, 8)
      equal(core.byteLength, 3)
      bytesEqual(core.encryptionKey, new Uint8Array(32).fill(2))
      bytesEqual(await core.get(0, { decrypt: false }) as Uint8Array, V.stored0)
      bytesEqual(await core.get(1, { decrypt: false }) as Uint8Array, V.stored1)
      equal(dec(await core.get(2)), 'c')
      await core.close()
      const r = new Hypercore(p.open(), { encryptionKey: new Uint8Array(32).fill(2), valueEncoding: 'utf-8' })
      equal(await r.get(0), 'a')
      await r.close()
    })
  },
  {
    name: 'misuse: typed errors with stable codes, and nothing changes',
    run: (ctx) => withPlace(ctx, async (p) => {
      const kp = await seedKeyPair()
      throwsWithCode(() => new Hypercore(p.open(), 42 as never), 'BAD_ARGUMENT')
      throwsWithCode(() => new Hypercore(p.open(), new Uint8Array(31)), 'BAD_ARGUMENT')
      throwsWithCode(() => new Hypercore(p.open(), { keyPair: { publicKey: new Uint8Array(3) } }), 'BAD_ARGUMENT')
      const core = new Hypercore(p.open(), { keyPair: kp })
      await core.append(['a', 'b'].map(enc))
      const before = hex(await core.treeHash())
      await rejectsWithCode(() => core.get(-1), 'BAD_ARGUMENT')
      await rejectsWithCode(() => core.get(1.5), 'BAD_ARGUMENT')
      await rejectsWithCode(() => core.get('0' as never), 'BAD_ARGUMENT')
      await rejectsWithCode(() => core.truncate(-1), 'BAD_ARGUMENT')
      await rejectsWithCode(() => core.truncate(3), 'BAD_ARGUMENT')
      await rejectsWithCode(() => core.treeHash(3), 'BAD_ARGUMENT')
      await rejectsWithCode(() => core.append(42), 'BAD_ARGUMENT')
      await rejectsWithCode(() => core.has(-1), 'BAD_ARGUMENT')
      await rejectsWithCode(() => core.clear(-2), 'BAD_ARGUMENT')
      const ro = core.session({ writable: false })
      await rejectsWithCode(() => ro.append(enc('x')), 'SESSION_NOT_WRITABLE')
      await rejectsWithCode(() => ro.truncate(0), 'SESSION_NOT_WRITABLE')
      await ro.close()
      equal(core.length, 2)
      equal(core.fork, 0)
      equal(hex(await core.treeHash()), before)
      await core.close()

      const other = new Hypercore(p.open(), new Uint8Array(32).fill(9))
      await rejectsWithCode(() => other.ready(), 'STORAGE_CONFLICT')
      const wrongPair = new Hypercore(p.open(), { keyPair: keyPair(new Uint8Array(32).fill(3)) })
      await rejectsWithCode(() => wrongPair.ready(), 'STORAGE_CONFLICT')
      const still = new Hypercore(p.open())
      await still.ready()
      equal(still.length, 2)
      equal(hex(await still.treeHash()), before)
      await still.close()

      const empty = ctx.place()
      const missing = new Hypercore(empty.open(), { createIfMissing: false })
      await rejectsWithCode(() => missing.ready(), 'STORAGE_EMPTY')
      await empty.cleanup()

      const reader = ctx.place()
      const r = new Hypercore(reader.open(), kp.publicKey)
      await r.ready()
      equal(r.writable, false)
      await rejectsWithCode(() => r.append(enc('x')), 'SESSION_NOT_WRITABLE')
      equal(r.length, 0)
      await r.close()
      await reader.cleanup()
    })
  },
  {
    name: 'concurrency: appends serialise in call order; gets pending on a closing session reject SESSION_CLOSED',
    run: (ctx) => withPlace(ctx, async (p) => {
      const core = new Hypercore(p.open(), { valueEncoding: 'utf-8' })
      await core.ready()
      const results = await Promise.all(Array.from({ length: 12 }, (_, i) => core.append(i % 3 === 0 ? [`${i}`, `${i}'`] : `${i}`)))
      const lengths = results.map(r => r.length)
      deepEqual(lengths, [2, 3, 4, 6, 7, 8, 10, 11, 12, 14, 15, 16])
      equal(await core.get(5), `3'`)
      const s = core.session()
      const pending = s.get(100)
      const closing = s.close()
      await rejectsWithCode(() => pending, 'SESSION_CLOSED')
      await closing
      const reads = Promise.all([core.get(0), core.append('x'), core.get(1)])
      deepEqual((await reads).map(v => typeof v === 'object' ? (v as { length: number }).length : v), ['0', 17, `0'`])
      await core.close()
    })
  },
  {
    name: 'events and waits: ready, append, close; a waiting get resolves when the block is appended',
    run: (ctx) => withPlace(ctx, async (p) => {
      const core = new Hypercore(p.open(), { valueEncoding: 'utf-8' })
      const seen: string[] = []
      core.on('ready', () => seen.push('ready'))
      core.on('append', () => seen.push('append'))
      core.on('close', () => seen.push('close'))
      await core.ready()
      let waited = -1
      const later = core.get(1, { onwait: (i) => { waited = i } })
      await core.append(['a', 'b'])
      equal(await later, 'b')
      equal(waited, 1)
      const dl = core.download({ start: 0, end: 2 })
      equal(await dl.done(), true, 'done() is true once the range is stored (hypercore@10)')
      equal(await core.download({ start: 0, length: 2 }).downloaded(), true, '{ start, length } and downloaded()')
      const pendingDl = core.download({ blocks: [5] })
      pendingDl.destroy()
      equal(await pendingDl.done(), false, 'a destroyed range is not done: false (hypercore@10)')
      const done = core.findingPeers()
      done()
      done()
      equal(core.core!.findingPeers, 0)
      equal(await core.update(), false)
      await core.close()
      deepEqual(seen, ['ready', 'append', 'close'])
    })
  },
  {
    name: 'purge: closes every session and deletes the files; the place is empty afterwards',
    run: (ctx) => withPlace(ctx, async (p) => {
      const core = new Hypercore(p.open())
      const s = core.session()
      await core.append(enc('a'))
      await core.purge()
      equal(core.closed, true)
      equal(s.closed, true)
      const again = new Hypercore(p.open(), { createIfMissing: false })
      await rejectsWithCode(() => again.ready(), 'STORAGE_EMPTY')
    })
  }
]
