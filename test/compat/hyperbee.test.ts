/**
 * @module test/compat/hyperbee
 * Hyperbee (hyperbee@2, unchanged, its extension on) on our core, side by side with the same
 * workload on hypercore@10: every read gives the same answer, and the cores end with the same
 * tree hash (the same blocks in the same order). Then replication both ways with a
 * hypercore@10 peer, and Hyperbee's extension ("which blocks does this lookup need?")
 * answered across the two implementations.
 */
import { test } from 'node:test'
import { createRequire } from 'node:module'
import Hypercore, { MemoryDirectory } from '../../src/index.js'
import { cryptoReady } from '../../src/crypto/sodium.js'
import { deepEqual, equal } from '../helpers/assert.js'
import { RAM, RefHypercore, tmpDir } from '../core/helpers.js'
import { connect } from '../replication/replicator-helpers.js'
import { beeOpts, beeWorkload, keysOf } from './hyperbee-workload.js'

const require = createRequire(import.meta.url)
const Hyperbee = require('hyperbee') as any

const seedPair = (): { publicKey: Buffer, secretKey: Buffer } => require('hypercore-crypto').keyPair(Buffer.alloc(32, 7))

test('hyperbee: the same workload on ours (memory, directory) and on hypercore@10 sees the same things and writes the same blocks', async (t) => {
  await cryptoReady()
  const theirs = await beeWorkload(Hyperbee, new RefHypercore(RAM, { keyPair: seedPair() }))
  const onMemory = await beeWorkload(Hyperbee, new Hypercore(new MemoryDirectory(), { keyPair: seedPair() }))
  const dir = tmpDir(t, 'hcw-bee-')
  const onDisk = await beeWorkload(Hyperbee, new Hypercore(dir, { keyPair: seedPair() }))
  deepEqual(onMemory, theirs, 'memory vs hypercore@10')
  deepEqual(onDisk, theirs, 'directory vs hypercore@10')
  equal(onMemory.treeHash, theirs.treeHash)
  // The directory is a real Hyperbee: reopened, it has everything.
  const again = new Hyperbee(new Hypercore(dir), beeOpts)
  await again.ready()
  deepEqual((await again.sub('people').get('ada')).value, { born: 1815 })
  equal(again.version, theirs.version)
  await again.close()
  // Without encodings Hyperbee hands out the core's bytes: Buffers in Node, as on hypercore@10.
  const raw = new Hyperbee(new Hypercore(dir))
  const node = await raw.get(Buffer.from('charlie'))
  deepEqual([Buffer.isBuffer(node.key), Buffer.isBuffer(node.value), JSON.parse(node.value.toString())], [true, true, { k: 'charlie', n: 7 }])
  await raw.close()
})

/** A writer Hyperbee with a few hundred keys (so a lookup needs a path of several blocks). */
async function filledWriter (core: any): Promise<any> {
  const db = new Hyperbee(core, beeOpts)
  await db.ready()
  const b = db.batch()
  for (let i = 0; i < 300; i++) await b.put(`key-${String(i).padStart(4, '0')}`, { i })
  await b.flush()
  return db
}

for (const [writerName, readerName] of [['hypercore@10', 'ours'], ['ours', 'hypercore@10']] as const) {
  test(`hyperbee: a ${readerName} reader replicates a Hyperbee from a ${writerName} writer (sparse gets, ranges, live updates)`, async () => {
    await cryptoReady()
    const Writer = writerName === 'ours' ? Hypercore : RefHypercore
    const Reader = readerName === 'ours' ? Hypercore : RefHypercore
    const wdb = await filledWriter(new Writer(writerName === 'ours' ? new MemoryDirectory() : RAM))
    const rcore = new Reader(readerName === 'ours' ? new MemoryDirectory() : RAM, wdb.core.key)
    const rdb = new Hyperbee(rcore, { ...beeOpts, extension: false })
    const link = connect(wdb.core, rcore)
    await rdb.ready()
    await rcore.update({ wait: true })
    equal((await rdb.get('key-0150')).value.i, 150)
    // Sparse: one lookup fetched a path, not the whole core.
    const stored = (await rcore.info()).contiguousLength
    equal(stored < wdb.core.length, true, `a lookup fetched ${stored} of ${wdb.core.length} blocks`)
    deepEqual(await keysOf(rdb.createReadStream({ gte: 'key-0297' })), ['key-0297', 'key-0298', 'key-0299'])
    // Live: the writer's announcement grows the reader (its 'append' event).
    const grown = new Promise(resolve => rcore.once('append', resolve))
    await wdb.put('key-9999', { i: 9999 })
    await grown
    equal((await rdb.get('key-9999')).value.i, 9999)
    equal(rdb.version, wdb.version)
    await link.done()
    await rdb.close()
    await wdb.close()
  })

  test(`hyperbee: the extension answers between a ${readerName} reader and a ${writerName} writer (the reader's lookup is served from the writer's cache message)`, async () => {
    await cryptoReady()
    const Writer = writerName === 'ours' ? Hypercore : RefHypercore
    const Reader = readerName === 'ours' ? Hypercore : RefHypercore
    const wdb = await filledWriter(new Writer(writerName === 'ours' ? new MemoryDirectory() : RAM))
    const rcore = new Reader(readerName === 'ours' ? new MemoryDirectory() : RAM, wdb.core.key)
    const rdb = new Hyperbee(rcore, beeOpts)
    // Watch both ends of the extension: the writer gets the reader's `get`, the reader gets the
    // writer's `cache` (the blocks its lookup needs) and downloads them.
    const gets: unknown[] = []
    const caches: number[][] = []
    const onget = wdb.extension.onget.bind(wdb.extension)
    wdb.extension.onget = (m: any, from: any) => { gets.push(Buffer.from(m.key).toString()); onget(m, from) }
    const oncache = rdb.extension.oncache.bind(rdb.extension)
    let cached: () => void
    const cacheArrived = new Promise<void>(resolve => { cached = resolve })
    rdb.extension.oncache = (m: any, from: any) => { caches.push([...m.blocks]); oncache(m, from); cached() }
    const link = connect(wdb.core, rcore)
    await rdb.ready()
    await rcore.update({ wait: true })
    equal((await rdb.get('key-0042')).value.i, 42)
    deepEqual(gets, ['key-0042'])
    // The lookup may finish from its own requests before the answer to its extension request
    // arrives (a loaded machine); the answer still comes, and its blocks are downloaded.
    await cacheArrived
    equal(caches.length, 1)
    const blocks = caches[0]!
    equal(blocks.length > 1, true, `the cache message names ${blocks.length} blocks`)
    const missing = async (): Promise<number[]> => { const out = []; for (const seq of blocks) if (!(await rcore.has(seq))) out.push(seq); return out }
    for (;;) {
      const next = new Promise(resolve => rcore.once('download', resolve)) // before looking: none is missed
      if ((await missing()).length === 0) break
      await next
    }
    await link.done()
    await rdb.close()
    await wdb.close()
  })
}

test('extensions: registered in ours and in hypercore@10 under one name, messages go both ways, with send and broadcast, encodings on each side', async () => {
  await cryptoReady()
  const ours = new Hypercore(new MemoryDirectory())
  await ours.ready()
  const theirs = new RefHypercore(RAM, ours.key)
  await theirs.ready()
  const gotByOurs: unknown[] = []
  const gotByTheirs: unknown[] = []
  const rawOurs: unknown[] = []
  let allArrived = (): void => {}
  const arrived = new Promise<void>(resolve => { allArrived = resolve })
  const check = (): void => { if (gotByOurs.length === 3 && rawOurs.length === 1) allArrived() }
  const extOurs = ours.registerExtension('chat', { encoding: 'json', onmessage: (m: unknown) => { gotByOurs.push(m); check() } })
  const extTheirs = theirs.registerExtension('chat', { encoding: 'json', onmessage: (m: unknown, peer: any) => { gotByTheirs.push(m); extTheirs.send({ reply: m }, peer) } })
  // Another name on the same channel: the name compression ("" = as the last) must not mix them.
  const rawTheirs = theirs.registerExtension('raw', { onmessage: (m: Buffer, peer: any) => extTheirs.send({ raw: m.toString('hex') }, peer) })
  ours.registerExtension('raw', { onmessage: (m: Uint8Array) => { rawOurs.push(m); check() } })
  const link = connect(ours, theirs)
  if (ours.peers.length === 0) await new Promise(resolve => ours.once('peer-add', resolve))
  if (theirs.peers.length === 0) await new Promise(resolve => theirs.once('peer-add', resolve))
  extOurs.broadcast({ hello: 1 })
  extOurs.send({ hello: 2 }, ours.peers[0])
  ours.extensions.get('raw')!.send(Buffer.from('beef', 'hex'), ours.peers[0])
  rawTheirs.broadcast(Buffer.from('cafe', 'hex'))
  await arrived
  deepEqual(gotByTheirs, [{ hello: 1 }, { hello: 2 }])
  deepEqual(gotByOurs, [{ reply: { hello: 1 } }, { reply: { hello: 2 } }, { raw: 'beef' }])
  equal(Buffer.isBuffer(rawOurs[0]), true)
  equal((rawOurs[0] as Buffer).toString('hex'), 'cafe')
  // destroy(): later messages under that name are dropped on our side.
  extOurs.destroy()
  equal(ours.extensions.has('chat'), false)
  await link.done()
  await ours.close()
  await theirs.close()
})
