/**
 * @module test/compat/corestore6
 * corestore@6, unchanged, running on OUR Hypercore class (its `require('hypercore')` answered
 * with ours), side by side with corestore@6 on hypercore@10: what corestore needs of the
 * hypercore@10 API — `Hypercore.createProtocolStream` with `ondiscoverykey`,
 * `noiseStream.userData` as the muxer, `core.replicate(stream, { session: true })`,
 * `core.replicator.downloading` / `ondownloading`, `active: false`, `autoClose`, `preload`
 * and `from`, `_preready` — gives the same results, and the two replicate with each other.
 */
import { test } from 'node:test'
import { createRequire } from 'node:module'
import { dirname } from 'node:path'
import Hypercore from '../../src/index.js'
import { cryptoReady } from '../../src/crypto/sodium.js'
import { deepEqual, equal } from '../helpers/assert.js'
import { RAM, tmpDir } from '../core/helpers.js'

const require = createRequire(import.meta.url)
const Module = require('node:module') as any

/** corestore@6 whose `require('hypercore')` gives `H` (a fresh copy of the module). */
function corestoreWith (H: unknown): any {
  const main = require.resolve('corestore')
  const hpath = require.resolve('hypercore', { paths: [dirname(main)] })
  const saved = require.cache[hpath]
  const fake = new Module(hpath)
  fake.filename = hpath
  fake.exports = H
  fake.loaded = true
  require.cache[hpath] = fake
  delete require.cache[main]
  try {
    return require('corestore')
  } finally {
    delete require.cache[main]
    if (saved !== undefined) require.cache[hpath] = saved
    else delete require.cache[hpath]
  }
}

const OnOurs = corestoreWith(Hypercore)
const OnTheirs = corestoreWith(require('hypercore'))
const STORES = [['ours', OnOurs], ['hypercore@10', OnTheirs]] as const

const PK = Buffer.alloc(32, 0x11)
const text = (b: unknown): string => Buffer.from(b as Uint8Array).toString()

function link (a: any, b: any): () => Promise<void> {
  a.pipe(b).pipe(a)
  a.on('error', () => {})
  b.on('error', () => {})
  const closed = (s: any): Promise<void> => new Promise(resolve => { if (s.destroyed) resolve(); else s.once('close', () => resolve()) })
  return async () => {
    a.destroy()
    b.destroy()
    await Promise.all([closed(a), closed(b)])
  }
}

test('corestore@6 on our Hypercore: named cores, the same keys and blocks as on hypercore@10', async () => {
  await cryptoReady()
  const results: unknown[] = []
  for (const [kind, Corestore] of STORES) {
    const store = new Corestore(RAM, { primaryKey: PK })
    const a = store.get({ name: 'a', valueEncoding: 'utf-8' })
    equal(a instanceof Hypercore, kind === 'ours', 'the store makes our cores')
    await a.append(['x', 'y'])
    const again = store.get({ name: 'a' })
    await again.ready()
    const ns = store.namespace('n').get({ name: 'a' })
    await ns.ready()
    results.push({ key: a.key.toString('hex'), writable: [a.writable, again.writable, ns.writable], same: again.core === a.core, nsKey: ns.key.toString('hex'), got: await a.get(1), hash: (await a.treeHash()).toString('hex') })
    await store.close()
  }
  deepEqual(results[0], results[1])
})

for (const [w, r] of [['ours', 'hypercore@10'], ['hypercore@10', 'ours'], ['ours', 'ours']] as const) {
  test(`corestore@6 replication: a ${r} store reads a core of a ${w} store (one stream for all cores)`, async () => {
    await cryptoReady()
    const W = w === 'ours' ? OnOurs : OnTheirs
    const R = r === 'ours' ? OnOurs : OnTheirs
    const ws = new W(RAM, { primaryKey: PK })
    const cores = [ws.get({ name: 'one' }), ws.get({ name: 'two' })]
    await cores[0].append([Buffer.from('1a'), Buffer.from('1b')])
    await cores[1].append([Buffer.from('2a')])
    const rs = new R(RAM)
    const readers = cores.map((c: any) => rs.get({ key: c.key }))
    const done = link(ws.replicate(true), rs.replicate(false))
    const got: string[] = []
    for (const rc of readers) {
      await rc.update({ wait: true })
      got.push(text(await rc.get(rc.length - 1)))
    }
    deepEqual(got, ['1b', '2a'])
    await done()
    await rs.close()
    await ws.close()
  })
}

test('corestore@6 on a directory opens a closed core when a peer asks for it (ondiscoverykey, session: true), then closes it with the peer, as on hypercore@10', async (t) => {
  await cryptoReady()
  const results: unknown[] = []
  for (const [, Corestore] of STORES) {
    const store = new Corestore(tmpDir(t, 'hcw-cs6-'), { primaryKey: PK })
    const core = store.get({ name: 'stored' })
    await core.append([Buffer.from('a'), Buffer.from('b')])
    const key = core.key
    await core.close()
    const afterClose = store.cores.size
    const remote = new OnTheirs(RAM)
    const rc = remote.get({ key })
    await rc.ready()
    const done = link(remote.replicate(true), store.replicate(false))
    await rc.update({ wait: true })
    const got = text(await rc.get(1))
    const whileServing = store.cores.size
    await remote.close()
    await done()
    await new Promise(resolve => setTimeout(resolve, 50))
    results.push({ afterClose, got, whileServing, afterPeer: store.cores.size })
    await store.close()
  }
  deepEqual(results[0], results[1])
  deepEqual(results[0], { afterClose: 0, got: 'b', whileServing: 1, afterPeer: 0 })
})
