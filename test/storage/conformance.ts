/**
 * @module test/storage/conformance
 * ONE conformance suite for every random-access storage: ours (memory, Node file, IndexedDB)
 * and npm's random-access-memory / random-access-file, so the expectations are checked against
 * the reference semantics. Browser-safe (runs in a Playwright page too).
 *
 * The references differ from each other (and from us) on a few edge cases; each difference is
 * a named quirk, and every case asserts the exact behaviour the target declares, so a quirk is
 * a documented deviation rather than a loosened test. Our adapters declare none.
 */
import { bytesEqual, deepEqual, equal, ok, rejectsWithCode, type SuiteCase } from '../helpers/assert.js'
import { promisify, type StoragePromises } from '../../src/storage/promises.js'
import type { RandomAccessStorage } from '../../src/storage/types.js'
import { seededBytes as bytes } from '../helpers/bytes.js'

export interface Quirks {
  /** random-access-memory: `del` only drops whole (1 MiB) pages; bytes in partial pages stay. */
  delKeepsPartialPages: boolean
  /** random-access-file: `del` reaching the end zero-fills instead of truncating (only `Infinity` truncates). */
  delAtEndKeepsSize: boolean
  /** random-access-memory: `del` starting past the end extends the file to its offset. */
  delPastEndExtends: boolean
  /** random-access-memory: `truncate(0)` keeps the bytes, so extending the file again shows them. */
  truncateToZeroKeepsBytes: boolean
  /** random-access-memory: a zero-length write extends the file to its offset. */
  emptyWriteExtends: boolean
  /** random-access-file: `stat` of a file never written fails (ENOENT). */
  freshStatFails: boolean
  /** random-access-file: a zero-length read past the end succeeds. */
  zeroReadPastEndOk: boolean
  /** npm's: `open()` after `close()` reports success (the storage stays closed). */
  openAfterCloseOk: boolean
  /**
   * random-access-file: operations issued together run concurrently on the file descriptor,
   * so a read issued after a write may or may not see it (seen once in about 20 CI runs).
   */
  unorderedOps: boolean
}

export interface StorageHarness {
  /** Opens (or reopens) a file: the same name after close sees the same bytes. */
  file (name: string): RandomAccessStorage
  cleanup (): Promise<void>
}

export interface ConformanceTarget {
  name: string
  quirks?: Partial<Quirks>
  setup (): StorageHarness | Promise<StorageHarness>
}

type Case = SuiteCase<ConformanceTarget>
type Body = (h: StorageHarness, q: Quirks) => Promise<void>

const NO_QUIRKS: Quirks = {
  delKeepsPartialPages: false,
  delAtEndKeepsSize: false,
  delPastEndExtends: false,
  truncateToZeroKeepsBytes: false,
  emptyWriteExtends: false,
  freshStatFails: false,
  zeroReadPastEndOk: false,
  openAfterCloseOk: false,
  unorderedOps: false
}

function c (name: string, body: Body): Case {
  return {
    name,
    run: async (target) => {
      const h = await target.setup()
      try {
        await body(h, { ...NO_QUIRKS, ...target.quirks })
      } finally {
        await h.cleanup()
      }
    }
  }
}

function text (s: string): Uint8Array {
  return new TextEncoder().encode(s)
}

function open (h: StorageHarness, name = 'f'): StoragePromises {
  return promisify(h.file(name))
}

/** Writes a first byte so that file-backed references exist before non-write operations. */
async function opened (h: StorageHarness, name = 'f'): Promise<StoragePromises> {
  const s = open(h, name)
  await s.write(0, new Uint8Array(0))
  return s
}

/** A plain model of a file, to compare long random operation sequences against. */
class Model {
  data = new Uint8Array(0)
  write (offset: number, d: Uint8Array): void {
    if (d.byteLength === 0) return
    this.grow(offset + d.byteLength)
    this.data.set(d, offset)
  }

  truncate (n: number): void {
    if (n <= this.data.byteLength) this.data = this.data.slice(0, n)
    else this.grow(n)
  }

  del (offset: number, n: number): void {
    if (offset >= this.data.byteLength) return
    if (offset + n >= this.data.byteLength) return this.truncate(offset)
    this.data.fill(0, offset, offset + n)
  }

  private grow (n: number): void {
    if (n <= this.data.byteLength) return
    const next = new Uint8Array(n)
    next.set(this.data)
    this.data = next
  }
}

export const conformanceCases: Case[] = [
  c('capability flags are all true', async (h) => {
    const s = h.file('f')
    deepEqual([s.readable, s.writable, s.deletable, s.truncatable, s.statable], [true, true, true, true, true])
    await promisify(s).close()
  }),

  c('a fresh file is empty: stat size 0, read(0, 0) is empty, read(0, 1) is out of bounds', async (h, q) => {
    const s = open(h)
    if (q.freshStatFails) {
      const err = await s.stat().then(() => null, (e: unknown) => e)
      ok(err !== null, 'stat of a fresh file fails for this target')
    } else {
      deepEqual(await s.stat(), { size: 0 })
      equal((await s.read(0, 0)).byteLength, 0)
      await rejectsWithCode(() => s.read(0, 1), 'STORAGE_OUT_OF_BOUNDS')
    }
    await s.close()
  }),

  c('write then read back the same bytes; stat is the end of the last byte', async (h) => {
    const s = open(h)
    await s.write(0, text('hello world'))
    bytesEqual(await s.read(0, 11), text('hello world'))
    bytesEqual(await s.read(6, 5), text('world'))
    deepEqual(await s.stat(), { size: 11 })
    ok((await s.read(0, 1)) instanceof Uint8Array, 'reads return a Uint8Array')
    await s.close()
  }),

  c('writing at an offset leaves a hole of zeros', async (h) => {
    const s = open(h)
    await s.write(10, text('hello'))
    deepEqual(await s.stat(), { size: 15 })
    bytesEqual(await s.read(0, 15), '00000000000000000000' + '68656c6c6f')
    await s.write(200000, text('x'))
    deepEqual(await s.stat(), { size: 200001 })
    bytesEqual(await s.read(199998, 3), '000078')
    bytesEqual(await s.read(70000, 4), '00000000')
    await s.close()
  }),

  c('reads past the end are out of bounds; a read ending at the end is fine', async (h, q) => {
    const s = open(h)
    await s.write(0, text('abcdef'))
    await rejectsWithCode(() => s.read(0, 7), 'STORAGE_OUT_OF_BOUNDS')
    await rejectsWithCode(() => s.read(5, 2), 'STORAGE_OUT_OF_BOUNDS')
    await rejectsWithCode(() => s.read(100, 1), 'STORAGE_OUT_OF_BOUNDS')
    bytesEqual(await s.read(3, 3), text('def'))
    equal((await s.read(6, 0)).byteLength, 0)
    if (q.zeroReadPastEndOk) equal((await s.read(7, 0)).byteLength, 0)
    else await rejectsWithCode(() => s.read(7, 0), 'STORAGE_OUT_OF_BOUNDS')
    await s.close()
  }),

  c('overwrites across page boundaries (4 KiB, 64 KiB) keep neighbouring bytes', async (h) => {
    const s = open(h)
    const base = bytes(140000, 1)
    await s.write(0, base)
    const patches: Array<[number, number]> = [[4090, 20], [65530, 12], [65536, 1], [131071, 2], [0, 1], [139999, 1]]
    const model = base.slice()
    for (const [off, n] of patches) {
      const p = bytes(n, off)
      await s.write(off, p)
      model.set(p, off)
    }
    bytesEqual(await s.read(0, 140000), model)
    bytesEqual(await s.read(65520, 40), model.subarray(65520, 65560))
    await s.close()
  }),

  c('a large write spanning many pages reads back in slices', async (h) => {
    const s = open(h)
    const big = bytes(1024 * 1024 + 4097, 2)
    await s.write(3, big)
    deepEqual(await s.stat(), { size: big.byteLength + 3 })
    for (let off = 0; off < big.byteLength; off += 262144 + 7) {
      const n = Math.min(262144 + 7, big.byteLength - off)
      bytesEqual(await s.read(3 + off, n), big.subarray(off, off + n), `slice at ${off}`)
    }
    await s.close()
  }),

  c('many small sequential appends, issued without waiting, read back whole', async (h) => {
    const s = open(h)
    const chunks: Uint8Array[] = []
    const writes: Array<Promise<void>> = []
    let off = 0
    for (let i = 0; i < 700; i++) {
      const chunk = bytes(97 + (i % 13), i + 10)
      chunks.push(chunk)
      writes.push(s.write(off, chunk))
      off += chunk.byteLength
    }
    await Promise.all(writes)
    const all = new Uint8Array(off)
    let at = 0
    for (const ch of chunks) { all.set(ch, at); at += ch.byteLength }
    deepEqual(await s.stat(), { size: off })
    bytesEqual(await s.read(0, off), all)
    await s.close()
  }),

  c('operations issued before open run in order: reads see earlier writes', async (h, q) => {
    const s = open(h)
    if (q.unorderedOps) {
      // Only the end state is defined for such a target.
      await Promise.all([s.write(0, text('abc')), s.write(3, text('def'))])
      await s.write(1, text('Z'))
      bytesEqual(await s.read(0, 6), text('aZcdef'))
      await s.close()
      return
    }
    const w1 = s.write(0, text('abc'))
    const r1 = s.read(0, 3)
    const w2 = s.write(3, text('def'))
    const st = s.stat()
    const r2 = s.read(0, 6)
    const w3 = s.write(1, text('Z'))
    const r3 = s.read(0, 6)
    await Promise.all([w1, w2, w3])
    bytesEqual(await r1, text('abc'))
    deepEqual(await st, { size: 6 })
    bytesEqual(await r2, text('abcdef'))
    bytesEqual(await r3, text('aZcdef'))
    await s.close()
  }),

  c('truncate shrinks (bytes past it are gone) and extends with zeros', async (h, q) => {
    const s = open(h)
    await s.write(0, bytes(100000, 3))
    await s.truncate(70000)
    deepEqual(await s.stat(), { size: 70000 })
    await rejectsWithCode(() => s.read(69999, 2), 'STORAGE_OUT_OF_BOUNDS')
    bytesEqual(await s.read(0, 70000), bytes(100000, 3).subarray(0, 70000))
    await s.truncate(100000)
    deepEqual(await s.stat(), { size: 100000 })
    bytesEqual(await s.read(70000, 30000), new Uint8Array(30000), 'old bytes must not come back')
    await s.truncate(100000)
    deepEqual(await s.stat(), { size: 100000 })
    await s.truncate(0)
    deepEqual(await s.stat(), { size: 0 })
    await s.truncate(5)
    bytesEqual(await s.read(0, 5), q.truncateToZeroKeepsBytes ? bytes(5, 3) : new Uint8Array(5))
    await s.close()
  }),

  c('truncate inside a page, then write past it: the gap reads as zeros', async (h) => {
    const s = open(h)
    await s.write(0, new Uint8Array(5000).fill(0xaa))
    await s.truncate(10)
    await s.write(20, text('z'))
    bytesEqual(await s.read(0, 21), 'aaaaaaaaaaaaaaaaaaaa' + '00000000000000000000' + '7a')
    await s.close()
  }),

  c('del in the middle zeroes the range and keeps the size', async (h, q) => {
    const s = open(h)
    const data = bytes(200000, 4)
    await s.write(0, data)
    await s.del(2, 20)
    await s.del(60000, 80000)
    deepEqual(await s.stat(), { size: 200000 })
    const want = data.slice()
    if (!q.delKeepsPartialPages) {
      want.fill(0, 2, 22)
      want.fill(0, 60000, 140000)
    }
    bytesEqual(await s.read(0, 200000), want)
    await s.close()
  }),

  c('del reaching the end truncates at its offset', async (h, q) => {
    const s = open(h)
    await s.write(0, new Uint8Array(40).fill(0xff))
    await s.del(30, 10)
    deepEqual(await s.stat(), { size: q.delAtEndKeepsSize ? 40 : 30 })
    await s.del(25, 1000)
    deepEqual(await s.stat(), { size: q.delAtEndKeepsSize ? 40 : 25 })
    await s.del(10, Infinity)
    deepEqual(await s.stat(), { size: 10 })
    bytesEqual(await s.read(0, 10), new Uint8Array(10).fill(0xff))
    await s.close()
  }),

  c('del starting past the end does not change the file', async (h, q) => {
    const s = open(h)
    await s.write(0, text('abc'))
    await s.del(10, 5)
    deepEqual(await s.stat(), { size: q.delPastEndExtends ? 10 : 3 })
    bytesEqual(await s.read(0, 3), text('abc'))
    await s.close()
  }),

  c('a zero-length write does not extend the file', async (h, q) => {
    const s = open(h)
    await s.write(0, text('ab'))
    await s.write(100, new Uint8Array(0))
    deepEqual(await s.stat(), { size: q.emptyWriteExtends ? 100 : 2 })
    await s.close()
  }),

  c('written and read buffers are copies: mutating them changes nothing stored', async (h) => {
    const s = open(h)
    const src = text('abcd')
    await s.write(0, src)
    src[0] = 0x7a
    const got = await s.read(0, 4)
    bytesEqual(got, text('abcd'))
    got[1] = 0x7a
    bytesEqual(await s.read(0, 4), text('abcd'))
    await s.close()
  }),

  c('random operations match a model byte for byte', async (h, q) => {
    const s = open(h)
    const m = new Model()
    const withDel = !q.delKeepsPartialPages && !q.delAtEndKeepsSize && !q.delPastEndExtends
    let x = 12345
    const rnd = (n: number): number => { x = (x * 1103515245 + 12345) & 0x7fffffff; return x % n }
    for (let i = 0; i < 120; i++) {
      const op = rnd(10)
      const len = m.data.byteLength
      if (op < 6) {
        const off = rnd(len + 70000)
        const d = bytes(1 + rnd(op < 3 ? 300 : 70000), i)
        await s.write(off, d); m.write(off, d)
      } else if (op < 8 || !withDel) {
        const n = rnd(len + 5000)
        await s.truncate(n); m.truncate(n)
      } else {
        const off = rnd(len + 10)
        const n = rnd(80000)
        await s.del(off, n); m.del(off, n)
      }
      if (i % 10 === 9 || i === 119) {
        deepEqual(await s.stat(), { size: m.data.byteLength }, `size after op ${i}`)
        bytesEqual(await s.read(0, m.data.byteLength), m.data, `bytes after op ${i}`)
      }
    }
    await s.close()
  }),

  c('open is idempotent and sets opened; open and close emit events once', async (h) => {
    const file = h.file('f')
    const events: string[] = []
    if (typeof file.on === 'function') {
      file.on('open', () => events.push('open'))
      file.on('close', () => events.push('close'))
    }
    const s = promisify(file)
    await s.write(0, text('x'))
    await s.open()
    await s.open()
    equal(file.opened, true, 'opened')
    equal(file.closed, false, 'closed before close')
    await s.close()
    await s.close()
    equal(file.closed, true, 'closed after close')
    if (typeof file.on === 'function') deepEqual(events, ['open', 'close'])
  }),

  c('operations after close fail with STORAGE_CLOSED', async (h, q) => {
    const s = await opened(h)
    await s.write(0, text('abc'))
    await s.close()
    await rejectsWithCode(() => s.read(0, 1), 'STORAGE_CLOSED')
    await rejectsWithCode(() => s.write(0, text('x')), 'STORAGE_CLOSED')
    await rejectsWithCode(() => s.stat(), 'STORAGE_CLOSED')
    await rejectsWithCode(() => s.truncate(0), 'STORAGE_CLOSED')
    await rejectsWithCode(() => s.del(0, 1), 'STORAGE_CLOSED')
    if (q.openAfterCloseOk) await s.open()
    else await rejectsWithCode(() => s.open(), 'STORAGE_CLOSED')
    await rejectsWithCode(() => s.read(0, 1), 'STORAGE_CLOSED', 'still closed after open()')
  }),

  c('close waits for operations issued before it', async (h, q) => {
    const s = open(h)
    const data = bytes(300000, 5)
    const w = s.write(0, data)
    // With unordered operations the read may run before the write (and fail, the file being
    // shorter then): only that it settles, which close waits for, is defined.
    const r = q.unorderedOps ? s.read(0, 3).catch(() => null) : s.read(0, 3)
    const closing = s.close()
    await w
    const first = await r
    if (!q.unorderedOps) bytesEqual(first!, data.subarray(0, 3))
    await closing
    const again = open(h)
    deepEqual(await again.stat(), { size: 300000 })
    bytesEqual(await again.read(0, 300000), data)
    await again.close()
  }),

  c('closing a file that was never used works and marks it closed', async (h) => {
    const file = h.file('never')
    await promisify(file).close()
    equal(file.closed, true)
  }),

  c('reopening a name after close sees the same bytes and size', async (h) => {
    const s = open(h, 'persist')
    const data = bytes(150000, 6)
    await s.write(100, data)
    await s.truncate(120000)
    await s.close()
    const t = open(h, 'persist')
    deepEqual(await t.stat(), { size: 120000 })
    bytesEqual(await t.read(100, 119900), data.subarray(0, 119900))
    bytesEqual(await t.read(0, 100), new Uint8Array(100))
    await t.close()
  }),

  c('files of one storage are independent', async (h) => {
    const a = open(h, 'a')
    const b = open(h, 'b')
    await Promise.all([a.write(0, text('aaaa')), b.write(2, text('bb'))])
    bytesEqual(await a.read(0, 4), text('aaaa'))
    bytesEqual(await b.read(0, 4), '00006262')
    await a.truncate(1)
    deepEqual(await b.stat(), { size: 4 })
    await Promise.all([a.close(), b.close()])
  }),

  c('unlink removes the data: the name reopens empty, the handle stays closed', async (h, q) => {
    const file = h.file('gone')
    const s = promisify(file)
    await s.write(0, bytes(70000, 7))
    await s.unlink()
    equal(file.closed, true, 'closed after unlink')
    equal(file.unlinked, true, 'unlinked flag')
    await rejectsWithCode(() => s.read(0, 1), 'STORAGE_CLOSED')
    await s.unlink() // idempotent
    const again = open(h, 'gone')
    if (!q.freshStatFails) deepEqual(await again.stat(), { size: 0 })
    await again.write(5, text('x'))
    bytesEqual(await again.read(0, 6), '000000000078')
    await again.close()
  })
]

/** Cases only our adapters pass (npm's accept negative offsets and non-byte data). */
export const strictCases: Case[] = [
  c('bad arguments are rejected with BAD_ARGUMENT', async (h) => {
    const s = open(h)
    await rejectsWithCode(() => s.read(-1, 2), 'BAD_ARGUMENT')
    await rejectsWithCode(() => s.read(0, 1.5), 'BAD_ARGUMENT')
    await rejectsWithCode(() => s.write(-5, text('x')), 'BAD_ARGUMENT')
    await rejectsWithCode(() => s.write(0, 'x' as unknown as Uint8Array), 'BAD_ARGUMENT')
    await rejectsWithCode(() => s.truncate(-1), 'BAD_ARGUMENT')
    await rejectsWithCode(() => s.del(0, -1), 'BAD_ARGUMENT')
    deepEqual(await s.stat(), { size: 0 }, 'nothing happened')
    await s.close()
  })
]
