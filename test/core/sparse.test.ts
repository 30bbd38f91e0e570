/**
 * @module test/core/sparse
 * `sparse: false`: `length` is the contiguous length and `byteLength` the bytes of
 * those blocks. Checked against hypercore@10 on a real sparse replica (hypercore@10 replicates
 * some blocks out of order into a directory; ours opens that directory) and on a core whose
 * blocks were cleared. hypercore@10.38's own non-sparse `byteLength` is a stub that returns 0,
 * so the reference byte length is the sum of the sizes of the blocks it returns.
 */
import { test } from 'node:test'
import Hypercore from '../../src/index.js'
import { cryptoReady } from '../../src/crypto/sodium.js'
import { keyPair } from '../../src/crypto/sign.js'
import { MemoryDirectory } from '../../src/storage/memory.js'
import { deepEqual, equal } from '../helpers/assert.js'
import { RAM, RefHypercore, tmpDir } from './helpers.js'

const SIZES = [5, 300, 17, 1000, 1, 64, 2048, 9, 130, 4]
const block = (i: number): Uint8Array => new Uint8Array(SIZES[i]!).fill(i + 1)
const sum = (n: number): number => SIZES.slice(0, n).reduce((a, b) => a + b, 0)

test('sparse: false on a hypercore@10 sparse replica: length = contiguous length, byteLength = its bytes', async (t) => {
  await cryptoReady()
  const dir = tmpDir(t, 'hcw-sparse-')
  const writer = new RefHypercore(RAM)
  await writer.append(SIZES.map((_, i) => block(i)))
  const replica = new RefHypercore(dir, writer.key)
  await replica.ready()
  const a = writer.replicate(true)
  const b = replica.replicate(false)
  a.pipe(b).pipe(a)
  await replica.update({ wait: true })
  for (const i of [0, 1, 2, 5, 7]) await replica.get(i)
  // hypercore@10's view of its own replica
  const refDense = replica.session({ sparse: false })
  await refDense.ready()
  const ref = { length: replica.length, contiguous: replica.contiguousLength, denseLength: refDense.length, denseByteLength: refDense.byteLength }
  deepEqual(ref, { length: 10, contiguous: 3, denseLength: 3, denseByteLength: 0 }, 'hypercore@10 (its non-sparse byteLength is a 0 stub)')
  await refDense.close()
  a.destroy()
  b.destroy()
  await replica.close()
  await writer.close()

  const dense = new Hypercore(dir, { sparse: false })
  await dense.ready()
  equal(dense.length, ref.denseLength, 'length = hypercore@10 non-sparse length')
  equal(dense.contiguousLength, 3)
  equal(dense.byteLength, sum(3), 'byteLength = bytes of blocks 0..2')
  const info = await dense.info()
  deepEqual([info.length, info.byteLength], [3, sum(3)], 'info() agrees')
  // A session keeps `sparse: false` (hypercore@10: `sparse` is only turned off by a session's
  // options), so a sparse view of the same core is a second open, joining the first.
  equal(dense.session({ sparse: true }).sparse, false, 'a session of a non-sparse session stays non-sparse')
  const sparse = new Hypercore(dir)
  await sparse.ready()
  deepEqual([sparse.length, sparse.contiguousLength, sparse.byteLength], [10, 3, sum(10)], 'a sparse session on the same core')
  deepEqual(await Promise.all([0, 1, 2, 3, 5, 7].map(i => sparse.has(i))), [true, true, true, false, true, true])
  deepEqual(await sparse.get(5), block(5))
  await sparse.close()
  await dense.close()
})

test('sparse: false after clears and truncates matches hypercore@10; events only when the contiguous length moves', async () => {
  await cryptoReady()
  const kp = keyPair(new Uint8Array(32).fill(6))
  const theirs = new RefHypercore(RAM, { keyPair: kp })
  const ours = new Hypercore(new MemoryDirectory(), { keyPair: kp })
  const oursDense = ours.session({ sparse: false })
  await ours.ready()
  await oursDense.ready()
  const events: string[] = []
  oursDense.on('append', () => events.push(`append ${oursDense.length}`))
  oursDense.on('truncate', (len: number) => events.push(`truncate ${len}`))

  const steps: Array<[string, (c: any) => Promise<unknown>]> = [
    ['append 0..5', c => c.append(SIZES.slice(0, 6).map((_, i) => block(i)))],
    ['clear 3', c => c.clear(3)],
    ['append 6..7', c => c.append([block(6), block(7)])],
    ['clear 1..2', c => c.clear(1, 2)],
    ['truncate 1', c => c.truncate(1)],
    ['append 1..2', c => c.append([block(1), block(2)])]
  ]
  const want = [[6, 'append 6'], [3, 'truncate 3'], [3, null], [1, 'truncate 1'], [1, null], [3, 'append 3']] as const
  for (const [k, [label, op]] of steps.entries()) {
    await op(theirs)
    await op(ours)
    const theirsDense = theirs.session({ sparse: false })
    await theirsDense.ready()
    const length = theirsDense.length
    await theirsDense.close()
    equal(oursDense.length, length, `${label}: length = hypercore@10 non-sparse length`)
    equal(oursDense.length, want[k]![0], label)
    let bytes = 0
    for (let i = 0; i < length; i++) bytes += (await theirs.get(i)).byteLength
    equal(oursDense.byteLength, bytes, `${label}: byteLength = bytes of hypercore@10's first ${length} blocks`)
    if (want[k]![1] !== null) equal(events.at(-1), want[k]![1], `${label}: event`)
  }
  deepEqual(events, ['append 6', 'truncate 3', 'truncate 1', 'append 3'], 'non-sparse events')
  await theirs.close()
  await ours.close()
})
