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
import { bytesEqual, deepEqual, equal, hex } from '../helpers/assert.js'
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
    if (opts.compareFiles !== false) deepEqual(await snapshotFiles(a.files), await snapshotFiles(b.files), `${label}: files`)
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
