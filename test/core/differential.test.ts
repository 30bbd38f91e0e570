/**
 * @module test/core/differential
 * Our Hypercore against the real hypercore@10 (a black box), driven by the same key pair and
 * the same operations: identical key, discoveryKey, id, length, byteLength, fork, treeHash,
 * blocks, and identical bytes in all five files after every operation (spec §6).
 */
import { test } from 'node:test'
import Hypercore from '../../src/index.js'
import { cryptoReady } from '../../src/crypto/sodium.js'
import { keyPair } from '../../src/crypto/sign.js'
import { AssertionFailed, bytesEqual, deepEqual, equal, hex } from '../helpers/assert.js'
import { RefHypercore, ramSet, snapshotFiles, enc } from './helpers.js'

type Op = { op: 'append', blocks: string[] } | { op: 'truncate', length: number } | { op: 'clear', start: number, end: number }

async function compare (ours: Hypercore, ref: any, label: string): Promise<void> {
  equal(hex(ours.key!), hex(ref.key), `${label}: key`)
  equal(hex(ours.discoveryKey!), hex(ref.discoveryKey), `${label}: discoveryKey`)
  equal(ours.id, ref.id, `${label}: id`)
  equal(ours.length, ref.length, `${label}: length`)
  equal(ours.byteLength, ref.byteLength, `${label}: byteLength`)
  equal(ours.fork, ref.fork, `${label}: fork`)
  equal(ours.contiguousLength, ref.contiguousLength, `${label}: contiguousLength`)
  bytesEqual(await ours.treeHash(), hex(await ref.treeHash()), `${label}: treeHash`)
  for (let i = 0; i < ref.length; i++) {
    const want = await ref.get(i, { wait: false })
    const has = await ours.has(i)
    equal(has, await ref.has(i), `${label}: has(${i})`)
    const got = await ours.get(i, { wait: false }) as Uint8Array | null
    equal(got === null ? null : hex(got), want === null ? null : hex(want), `${label}: block ${i}`)
  }
}

/** Per file: equal hex, or a message naming the file, the sizes and the first differing byte. */
function sameFiles (ours: Record<string, string>, ref: Record<string, string>, label: string): void {
  for (const name of Object.keys(ref)) {
    const x = ours[name]!
    const y = ref[name]!
    if (x === y) continue
    let i = 0
    while (i < x.length && x[i] === y[i]) i++
    throw new AssertionFailed(`${label}: file ${name} differs (ours ${x.length / 2} bytes, hypercore@10 ${y.length / 2}) from byte ${Math.floor(i / 2)}: ours ${x.slice(i & ~1, (i & ~1) + 40)} ref ${y.slice(i & ~1, (i & ~1) + 40)}`)
  }
}

export async function runBoth (ops: Op[], opts: { encryptionKey?: Uint8Array, compareFiles?: boolean } = {}): Promise<void> {
  await cryptoReady()
  const kp = keyPair(new Uint8Array(32).fill(1))
  const a = ramSet()
  const b = ramSet()
  const ours = new Hypercore(a.factory, { keyPair: kp, encryptionKey: opts.encryptionKey })
  const ref = new RefHypercore(b.factory, { keyPair: { publicKey: Buffer.from(kp.publicKey), secretKey: Buffer.from(kp.secretKey) }, encryptionKey: opts.encryptionKey ? Buffer.from(opts.encryptionKey) : undefined })
  await ours.ready()
  await ref.ready()
  await compare(ours, ref, 'after ready')
  if (opts.compareFiles !== false) deepEqual(await snapshotFiles(a.files), await snapshotFiles(b.files), 'files after ready')
  for (const [k, o] of ops.entries()) {
    const label = `op ${k} ${JSON.stringify(o)}`
    if (o.op === 'append') {
      const r1 = await ours.append(o.blocks.map(enc))
      const r2 = await ref.append(o.blocks.map(s => Buffer.from(s)))
      deepEqual(r1, { length: r2.length, byteLength: r2.byteLength }, `${label}: append result`)
    } else if (o.op === 'truncate') {
      await ours.truncate(o.length)
      await ref.truncate(o.length)
    } else {
      await ours.clear(o.start, o.end)
      await ref.clear(o.start, o.end)
    }
    await compare(ours, ref, label)
    if (opts.compareFiles !== false) sameFiles(await snapshotFiles(a.files), await snapshotFiles(b.files), label)
  }
  await ours.close()
  await ref.close()
}

const appendsOnly: Op[] = [
  { op: 'append', blocks: ['a'] }, { op: 'append', blocks: ['b', 'c'] }, { op: 'append', blocks: ['d'] },
  { op: 'append', blocks: ['e'] }, { op: 'append', blocks: ['f', 'ggg', '', 'hhhh'] }, { op: 'append', blocks: ['i'] },
  { op: 'append', blocks: Array.from({ length: 40 }, (_, i) => 'x'.repeat(i)) }
]

test('differential: appends give the same key, ids, lengths, tree hash, blocks and identical files as hypercore@10', async () => {
  await runBoth(appendsOnly)
})

test('differential: appends with block encryption (same ciphertext and files as hypercore@10)', async () => {
  await runBoth(appendsOnly, { encryptionKey: new Uint8Array(32).fill(2) })
})

const mixed: Op[] = [
  { op: 'append', blocks: ['a'] }, { op: 'append', blocks: ['b', 'c'] }, { op: 'append', blocks: ['d'] },
  { op: 'append', blocks: ['e'] }, { op: 'append', blocks: ['f'] }, { op: 'append', blocks: ['g'] },
  { op: 'truncate', length: 3 }, { op: 'clear', start: 1, end: 2 }, { op: 'clear', start: 0, end: 2 },
  { op: 'append', blocks: ['h'] }, { op: 'append', blocks: ['i', 'j', 'k', 'l'] }, { op: 'truncate', length: 4 },
  { op: 'append', blocks: ['m'] }, { op: 'append', blocks: ['n'] }, { op: 'truncate', length: 2 },
  { op: 'clear', start: 5, end: 9 }, { op: 'truncate', length: 0 }, { op: 'append', blocks: ['o'] }
]

test('differential: truncates and clears (fork, reorg hints, tree blanking, holes) match hypercore@10 byte for byte', async () => {
  await runBoth(mixed)
})

test('differential: truncates and clears with encryption', async () => {
  await runBoth(mixed, { encryptionKey: new Uint8Array(32).fill(2) })
})

/** A small deterministic PRNG (mulberry32), so a failing seed can be replayed. */
function prng (seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

function randomOps (seed: number, count: number): Op[] {
  const rnd = prng(seed)
  const int = (n: number): number => Math.floor(rnd() * n)
  const ops: Op[] = []
  let length = 0
  for (let k = 0; k < count; k++) {
    const r = rnd()
    if (r < 0.6 || length === 0) {
      const n = 1 + (rnd() < 0.3 ? int(20) : 0)
      ops.push({ op: 'append', blocks: Array.from({ length: n }, () => String.fromCharCode(97 + int(26)).repeat(int(rnd() < 0.1 ? 3000 : 40))) })
      length += n
    } else if (r < 0.8) {
      const to = int(length + 1)
      ops.push({ op: 'truncate', length: to })
      length = to
    } else {
      const start = int(length + 2)
      ops.push({ op: 'clear', start, end: start + 1 + int(5) })
    }
  }
  return ops
}

for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
  test(`differential: random appends/truncates/clears, seed ${seed} (plain and encrypted)`, async () => {
    await runBoth(randomOps(seed, 40))
    await runBoth(randomOps(seed + 1000, 40), { encryptionKey: new Uint8Array(32).fill(seed) })
  })
}
