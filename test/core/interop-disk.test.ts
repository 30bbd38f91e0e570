/**
 * @module test/core/interop-disk
 * Reopening on disk both ways with the real hypercore@10 (spec §6): a directory it wrote opens
 * in ours with the same length, fork, blocks and tree hash (including entries still in the
 * oplog, which we must replay), and a directory we wrote opens in hypercore@10.
 */
import { test } from 'node:test'
import Hypercore from '../../src/index.js'
import { cryptoReady } from '../../src/crypto/sodium.js'
import { keyPair } from '../../src/crypto/sign.js'
import { deepEqual, equal, hex } from '../helpers/assert.js'
import { RefHypercore, tmpDir, enc } from './helpers.js'

const E = new Uint8Array(32).fill(7)

async function drive (core: any, toBytes: (s: string) => Uint8Array): Promise<void> {
  for (let i = 0; i < 9; i++) await core.append(toBytes(`block-${i}`))
  await core.append(['x', 'yy', 'zzz'].map(toBytes))
  await core.truncate(7)
  await core.append(toBytes('after-fork'))
  await core.clear(2, 4)
  await core.append(toBytes('last')) // leaves entries in the oplog (not a flush point)
}

/**
 * What a core says about itself, block by block. Taken from one implementation at a time:
 * both lock the directory (hypercore@10 its oplog file, ours the same), so they cannot have it
 * open together.
 */
async function stateOf (core: any): Promise<unknown> {
  const blocks: Array<string | null> = []
  const has: boolean[] = []
  for (let i = 0; i < core.length; i++) {
    has.push(await core.has(i))
    const b = await core.get(i, { wait: false })
    blocks.push(b === null ? null : hex(b))
  }
  return { length: core.length, fork: core.fork, byteLength: core.byteLength, key: hex(core.key), treeHash: hex(await core.treeHash()), has, blocks }
}

for (const encrypted of [false, true]) {
  const tag = encrypted ? ' (encrypted)' : ''
  test(`interop on disk: a directory written by hypercore@10 opens in ours${tag}`, async (t) => {
    await cryptoReady()
    const dir = tmpDir(t)
    const kp = keyPair(new Uint8Array(32).fill(5))
    const w = new RefHypercore(dir, { keyPair: { publicKey: Buffer.from(kp.publicKey), secretKey: Buffer.from(kp.secretKey) }, encryptionKey: encrypted ? Buffer.from(E) : undefined })
    await drive(w, s => Buffer.from(s))
    await w.close()
    const ref = new RefHypercore(dir, { encryptionKey: encrypted ? Buffer.from(E) : undefined })
    await ref.ready()
    const want = await stateOf(ref)
    await ref.close()
    const ours = new Hypercore(dir, { encryptionKey: encrypted ? E : undefined })
    await ours.ready()
    equal(ours.writable, true, 'the stored key pair makes it writable')
    deepEqual(await stateOf(ours), want, 'v10 dir')
    // ours keeps writing to it, and hypercore@10 reads the result back
    await ours.append(enc('ours'))
    await ours.truncate(ours.length - 2)
    await ours.append([enc('p'), enc('q')])
    const hash = await ours.treeHash()
    const len = ours.length
    await ours.close()
    const back = new RefHypercore(dir, { encryptionKey: encrypted ? Buffer.from(E) : undefined })
    await back.ready()
    equal(back.length, len)
    equal(hex(await back.treeHash()), hex(hash))
    equal(Buffer.from(await back.get(len - 1)).toString(), 'q')
    await back.close()
  })

  test(`interop on disk: a directory written by ours opens in hypercore@10${tag}`, async (t) => {
    await cryptoReady()
    const dir = tmpDir(t)
    const kp = keyPair(new Uint8Array(32).fill(6))
    const w = new Hypercore(dir, { keyPair: kp, encryptionKey: encrypted ? E : undefined })
    await drive(w, enc)
    await w.close()
    const ours = new Hypercore(dir, { encryptionKey: encrypted ? E : undefined })
    await ours.ready()
    const want = await stateOf(ours)
    await ours.close()
    const ref = new RefHypercore(dir, { encryptionKey: encrypted ? Buffer.from(E) : undefined })
    await ref.ready()
    equal(ref.writable, true)
    deepEqual(await stateOf(ref), want, 'our dir')
    await ref.append(Buffer.from('from v10'))
    const len = ref.length
    await ref.close()
    const again = new Hypercore(dir, { encryptionKey: encrypted ? E : undefined, valueEncoding: 'utf-8' })
    await again.ready()
    equal(again.length, len)
    equal(await again.get(len - 1), 'from v10')
    await again.close()
  })
}
