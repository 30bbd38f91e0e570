/**
 * @module test/store/corestore
 * `Corestore` against corestore@6 (a devDependency, used as a black box):
 * - the same primary key gives the same key pairs for the same names and namespaces;
 * - a directory written by corestore@6 opens in ours with the same cores, data and writers,
 *   and ours opens in corestore@6; the two exclude each other through the primary-key lock;
 * - one core per key, sessions shared, events, exclusive writers, close semantics;
 * - one replication stream for many cores, ours ↔ ours and ours ↔ corestore@6 both ways,
 *   stored cores opened on demand, unknown ones refused without touching storage;
 * - many cores within a bounded number of file descriptors;
 * - bad input: typed errors with a stable code.
 */
import { test } from 'node:test'
import { join } from 'node:path'
import { Corestore, Hypercore, MemoryDirectory, HypercoreError } from '../../src/index.js'
import { cryptoReady } from '../../src/crypto/sodium.js'
import { namespace } from '../../src/crypto/hash.js'
import { CORESTORE } from '../../src/crypto/caps.js'
import { muxOf } from '../../src/replication/replicator/index.js'
import { bytesEqual, deepEqual, equal, ok, rejectsWithCode, throwsWithCode } from '../helpers/assert.js'
import { tmpDir } from '../core/helpers.js'
import { RAM, RefCorestore, connectStores, hexOf, listFiles, openFds, readBytes, refCrypto } from './helpers.js'

const PK = Buffer.alloc(32, 0xab)
const NAMES = ['a', 'db', 'ünïcødé/blobs', '0'.repeat(300)]

test('caps: CORESTORE is namespace("corestore", 1)[0], as corestore@6 derives it', async () => {
  await cryptoReady()
  bytesEqual(namespace('corestore', 1)[0], CORESTORE)
  bytesEqual(refCrypto.namespace('corestore', 1)[0], CORESTORE)
})

test('keys: the same primary key gives the same key pairs for the same names and namespaces as corestore@6', async () => {
  const ours = new Corestore(new MemoryDirectory(), { primaryKey: PK })
  const theirs = new RefCorestore(RAM, { primaryKey: PK })
  await Promise.all([ours.ready(), theirs.ready()])
  bytesEqual(ours.primaryKey, PK)
  const views: Array<[any, any, string]> = [
    [ours, theirs, 'root'],
    [ours.namespace('app'), theirs.namespace('app'), 'app'],
    [ours.namespace('app').namespace('sub'), theirs.namespace('app').namespace('sub'), 'app/sub'],
    [ours.namespace(Buffer.from('bytes')), theirs.namespace(Buffer.from('bytes')), 'bytes'],
    [ours.session({ namespace: null }), theirs.session({ namespace: null }), 'reset'],
    [ours.session({ primaryKey: Buffer.alloc(32, 1) }), theirs.session({ primaryKey: Buffer.alloc(32, 1) }), 'other primary key']
  ]
  for (const [o, t, label] of views) {
    for (const name of NAMES) {
      const [ko, kt] = await Promise.all([o.createKeyPair(name), t.createKeyPair(name)])
      bytesEqual(ko.publicKey, kt.publicKey, `${label} ${name} publicKey`)
      bytesEqual(ko.secretKey, kt.secretKey, `${label} ${name} secretKey`)
      const co = o.get({ name })
      const ct = t.get({ name })
      await Promise.all([co.ready(), ct.ready()])
      bytesEqual(co.key, ct.key, `${label} ${name} core key`)
      bytesEqual(co.discoveryKey, ct.discoveryKey)
      equal(co.writable, true)
    }
  }
  // compat: false makes the key a (v0) manifest's hash, as corestore@6 does.
  const [mo, mt] = [ours.get({ name: 'm', compat: false }), theirs.get({ name: 'm', compat: false })]
  await Promise.all([mo.ready(), mt.ready()])
  bytesEqual(mo.key, mt.key, 'compat: false key')
  ok(hexOf(mo.key) !== hexOf((await ours.createKeyPair('m')).publicKey))
  await Promise.all([ours.close(), theirs.close()])
})

test('get options: encryptionKey and valueEncoding as corestore@6 (the same tree and the same encrypted bytes stored)', async () => {
  const encryptionKey = Buffer.alloc(32, 0x11)
  const ours = new Corestore(new MemoryDirectory(), { primaryKey: PK })
  const theirs = new RefCorestore(RAM.reusable(), { primaryKey: PK })
  const hashes: string[] = []
  for (const store of [ours, theirs]) {
    const core = store.get({ name: 'secret', encryptionKey, valueEncoding: 'json' })
    await core.ready()
    await core.append([{ a: 1 }, { b: 2 }])
    deepEqual(await core.get(1), { b: 2 })
    const raw = store.get({ name: 'secret' })
    await raw.ready()
    hashes.push(hexOf(await core.treeHash()))
    hashes.push(hexOf(await raw.get(0, { raw: true })))
  }
  equal(hashes[0], hashes[2], 'same tree hash')
  equal(hashes[1], hashes[3], 'same stored (encrypted) block')
  ok(!Buffer.from(hashes[1]!, 'hex').toString().includes('"a"'), 'stored encrypted')
  await Promise.all([ours.close(), theirs.close()])
})

/** Named cores in two namespaces with a few blocks each (the same calls work on both stores). */
async function fill (store: any): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {}
  for (const [view, label] of [[store, ''], [store.namespace('ns'), 'ns/']] as const) {
    for (const name of ['one', 'two']) {
      const core = view.get({ name, valueEncoding: 'utf-8' })
      await core.ready()
      const blocks = [`${label}${name}-0`, `${label}${name}-1`, `${label}${name}-2`]
      await core.append(blocks)
      out[hexOf(core.key)] = blocks
    }
  }
  return out
}

/** Opens every core of `expected` by key, then by name: same data, writable again. */
async function check (store: any, expected: Record<string, string[]>, label: string): Promise<void> {
  for (const [key, blocks] of Object.entries(expected)) {
    const core = store.get({ key: Buffer.from(key, 'hex'), valueEncoding: 'utf-8' })
    await core.ready()
    equal(core.length, blocks.length, `${label}: length of ${key.slice(0, 8)}`)
    for (let i = 0; i < blocks.length; i++) equal(await core.get(i), blocks[i], `${label}: block ${i}`)
    // Opened by key, it finds its key pair again from the name stored in its header.
    equal(core.writable, true, `${label}: writable by key`)
    await core.close()
  }
  const byName = store.namespace('ns').get({ name: 'two', valueEncoding: 'utf-8' })
  await byName.ready()
  equal(await byName.get(2), 'ns/two-2', `${label}: by name`)
  await byName.append('more')
  await byName.close()
}

test('disk: a directory written by corestore@6 opens in ours (same cores, data, writers), and ours in corestore@6', async (t) => {
  await cryptoReady()
  const dir = tmpDir(t, 'hcw-store-')
  const theirsDir = join(dir, 'theirs')
  const oursDir = join(dir, 'ours')

  const theirs = new RefCorestore(theirsDir, { primaryKey: PK })
  const written = await fill(theirs)
  await theirs.close()
  const ours = new Corestore(oursDir, { primaryKey: PK })
  deepEqual(await fill(ours), written, 'the same keys and blocks')
  await ours.close()
  // The same layout: primary key file and one folder per core under cores/ab/cd/<dk>.
  deepEqual(readBytes(join(oursDir, 'primary-key')), readBytes(join(theirsDir, 'primary-key')))
  const folders = (d: string): string[] => Object.keys(listFiles(d)).filter(f => f.endsWith('/oplog')).map(f => f.slice(0, -'/oplog'.length)).sort()
  deepEqual(folders(oursDir), folders(theirsDir))
  for (const f of folders(oursDir)) {
    const [, a, b, dk] = f.split('/')
    equal(a, dk!.slice(0, 2))
    equal(b, dk!.slice(2, 4))
  }

  // Swap: each opens the other's directory without being told the primary key.
  const oursOnTheirs = new Corestore(theirsDir)
  await oursOnTheirs.ready()
  bytesEqual(oursOnTheirs.primaryKey, PK)
  await check(oursOnTheirs, written, 'ours on corestore@6 dir')
  await oursOnTheirs.close()
  const theirsOnOurs = new RefCorestore(oursDir)
  await check(theirsOnOurs, written, 'corestore@6 on our dir')
  await theirsOnOurs.close()
  // And back: what each appended is seen by the other.
  for (const d of [oursDir, theirsDir]) {
    for (const Store of [Corestore, RefCorestore]) {
      const s = new Store(d)
      const c = s.namespace('ns').get({ name: 'two', valueEncoding: 'utf-8' })
      await c.ready()
      equal(c.length, 4)
      equal(await c.get(3), 'more')
      await s.close()
    }
  }
})

test('disk: the primary-key lock keeps a second store (ours or corestore@6) out while one is open', async (t) => {
  const dir = tmpDir(t, 'hcw-store-')
  const ours = new Corestore(dir)
  await ours.ready()
  await rejectsWithCode(() => new Corestore(dir).ready(), 'STORAGE_LOCKED')
  const theirs = new RefCorestore(dir)
  let failed = false
  await theirs.ready().catch(() => { failed = true })
  equal(failed, true, 'corestore@6 refused while ours holds the store')
  await ours.close()
  const again = new RefCorestore(dir)
  await again.ready()
  await rejectsWithCode(() => new Corestore(dir).ready(), 'STORAGE_LOCKED')
  await again.close()
  const last = new Corestore(dir)
  await last.ready()
  await last.close()
})

test('sessions: one core per key, shared by every get; it closes with its last session', async () => {
  const store = new Corestore(new MemoryDirectory())
  const opened: Hypercore[] = []
  const closed: Hypercore[] = []
  store.on('core-open', c => opened.push(c))
  store.on('core-close', c => closed.push(c))
  const a = store.get({ name: 'x' })
  const b = store.get({ name: 'x', valueEncoding: 'json' })
  await Promise.all([a.ready(), b.ready()])
  equal(a.core, b.core, 'one core')
  const byKey = store.get(a.key!)
  const byHex = store.get(hexOf(a.key))
  await Promise.all([byKey.ready(), byHex.ready()])
  equal(byKey.core, a.core)
  equal(byHex.core, a.core)
  equal(byKey.writable, true)
  equal(store.cores.size, 1)
  equal(opened.length, 1)
  await b.append({ hello: 'json' })
  deepEqual(JSON.parse(Buffer.from((await a.get(0)) as Uint8Array).toString()), { hello: 'json' })
  // A namespace is a view of the same cores.
  const ns = store.namespace('other')
  const viaNs = ns.get(a.key!)
  await viaNs.ready()
  equal(viaNs.core, a.core)
  for (const s of [a, b, byKey, byHex]) await s.close()
  equal(store.cores.size, 1, 'still open in the namespace')
  await viaNs.close()
  equal(store.cores.size, 0, 'closed with its last session')
  equal(closed.length, 1)
  // Reopened: the same data.
  const again = store.get({ name: 'x' })
  await again.ready()
  equal(again.length, 1)
  equal(opened.length, 2)
  await store.close()
  equal(again.closed, true)
})

test('exclusive: a second exclusive writable get waits until the first closes', async () => {
  const store = new Corestore(new MemoryDirectory())
  const first = store.get({ name: 'x', exclusive: true })
  await first.ready()
  const second = store.get({ name: 'x', exclusive: true })
  const reader = store.get({ name: 'x', exclusive: true, writable: false })
  await reader.ready() // read-only sessions are not exclusive
  let ready = false
  void second.ready().then(() => { ready = true })
  await new Promise(resolve => setTimeout(resolve, 50))
  equal(ready, false)
  await first.close()
  await second.ready()
  equal(ready, true)
  await store.close()
})

test('close: closing the store closes every core it opened and its streams; later gets throw SESSION_CLOSED', async () => {
  const store = new Corestore(new MemoryDirectory())
  const ns = store.namespace('a')
  const cores = [store.get({ name: '1' }), store.get({ name: '2' }), ns.get({ name: '3' })]
  await Promise.all(cores.map(c => c.ready()))
  const extra = cores[0]!.session()
  await extra.ready()
  const stream = store.replicate(true)
  // A namespace closes what it handed out, not the store.
  await ns.close()
  equal(cores[2]!.closed, true)
  equal(cores[0]!.closed, false)
  throwsWithCode(() => ns.get({ name: '3' }), 'SESSION_CLOSED')
  const closing = store.close()
  equal(store.close(), closing, 'idempotent')
  await closing
  for (const c of [...cores, extra]) equal(c.closed, true)
  equal((stream as any).destroyed, true, 'its own stream destroyed')
  throwsWithCode(() => store.get({ name: '1' }), 'SESSION_CLOSED')
  throwsWithCode(() => store.replicate(true), 'SESSION_CLOSED')
  // A session with detach: false closes the store that made it.
  const root = new Corestore(new MemoryDirectory())
  const attached = root.session({ detach: false })
  await attached.close()
  equal(root.closed, true)
})

test('bad input: typed errors with a stable code, nothing opened', async () => {
  throwsWithCode(() => new Corestore(null), 'BAD_ARGUMENT')
  throwsWithCode(() => new Corestore(new MemoryDirectory(), { primaryKey: Buffer.alloc(3) }), 'BAD_ARGUMENT')
  throwsWithCode(() => new Corestore(new MemoryDirectory(), { namespace: Buffer.alloc(5) }), 'BAD_ARGUMENT')
  throwsWithCode(() => new Corestore(42 as any), 'BAD_ARGUMENT')
  const store = new Corestore(new MemoryDirectory())
  throwsWithCode(() => store.get({}), 'BAD_ARGUMENT')
  throwsWithCode(() => store.get(42 as any), 'BAD_ARGUMENT')
  throwsWithCode(() => store.get('not a key'), 'BAD_ARGUMENT')
  throwsWithCode(() => store.get(Buffer.alloc(31)), 'BAD_ARGUMENT')
  throwsWithCode(() => store.get({ name: 5 as any }), 'BAD_ARGUMENT')
  throwsWithCode(() => store.get({ name: 'x', secretKey: Buffer.alloc(64) }), 'BAD_ARGUMENT')
  throwsWithCode(() => store.get({ publicKey: Buffer.alloc(3) }), 'BAD_ARGUMENT')
  throwsWithCode(() => store.get({ keyPair: { publicKey: Buffer.alloc(32), secretKey: Buffer.alloc(3) } }), 'BAD_ARGUMENT')
  await rejectsWithCode(() => store.createKeyPair('x', Buffer.alloc(3)), 'BAD_ARGUMENT')
  // A core that is not stored, with createIfMissing: false.
  const missing = store.get({ key: Buffer.alloc(32, 9), createIfMissing: false })
  await rejectsWithCode(() => missing.ready(), 'STORAGE_EMPTY')
  equal(store.cores.size, 0)
  ok(HypercoreError.is(await store.get({ key: Buffer.alloc(32, 9), createIfMissing: false }).ready().catch(e => e), 'STORAGE_EMPTY'))
  await store.close()
})

test('findingPeers: the store tells its cores, and cores got while it runs', async () => {
  const store = new Corestore(new MemoryDirectory())
  const a = store.get({ name: 'a' })
  await a.ready()
  const done = store.findingPeers()
  const b = store.get({ name: 'b' })
  await b.ready()
  equal(a.core!.findingPeers, 1)
  equal(b.core!.findingPeers, 1)
  done()
  done()
  equal(a.core!.findingPeers, 0)
  equal(b.core!.findingPeers, 0)
  await store.close()
})

/** A writer store (ours or corestore@6) with `n` named cores of 3 blocks; the last `closed` ones closed again. */
async function writerStore (kind: 'ours' | 'ref', n: number, closed = 0): Promise<{ store: any, keys: Buffer[] }> {
  const store = kind === 'ours' ? new Corestore(new MemoryDirectory()) : new RefCorestore(RAM.reusable())
  const keys: Buffer[] = []
  for (let i = 0; i < n; i++) {
    const core = store.get({ name: `core-${i}` })
    await core.ready()
    await core.append([`${i}-a`, `${i}-b`, `${i}-c`].map(s => Buffer.from(s)))
    keys.push(Buffer.from(core.key))
    if (i >= n - closed) await core.close()
  }
  return { store, keys }
}

for (const [w, r] of [['ours', 'ours'], ['ours', 'ref'], ['ref', 'ours']] as const) {
  test(`replicate: one stream carries many cores, ${w} store → ${r} store, closed cores opened on demand`, async () => {
    await cryptoReady()
    const { store: writer, keys } = await writerStore(w, 6, 3)
    if (w === 'ours') equal(writer.cores.size, 3, 'three cores left open')
    const reader = r === 'ours' ? new Corestore(new MemoryDirectory()) : new RefCorestore(RAM.reusable())
    // Opened before the stream: joined at replicate(); the rest after: joined as they open.
    const early = reader.get({ key: keys[0] })
    await early.ready()
    const link = connectStores(writer, reader)
    const got: string[] = []
    for (const key of keys) {
      const core = key.equals(keys[0]!) ? early : reader.get({ key })
      await core.ready()
      got.push(Buffer.from(await core.get(2, { timeout: 10000 })).toString())
    }
    deepEqual(got, keys.map((_, i) => `${i}-c`))
    // Live: an append on the writer reaches the reader over the same stream.
    const wcore = writer.get({ name: 'core-1' })
    await wcore.ready()
    const rcore = reader.get({ key: keys[1] })
    await rcore.ready()
    const grown = new Promise(resolve => rcore.once('append', resolve))
    await wcore.append(Buffer.from('live'))
    await grown
    equal(Buffer.from(await rcore.get(3)).toString(), 'live')
    await link.done()
    await Promise.all([writer.close(), reader.close()])
  })
}

test('replicate: wanted cores are offered on every connection; inactive cores and passive stores only answer peers that ask', async () => {
  for (const passive of [false, true]) {
    const writer = new Corestore(new MemoryDirectory(), { passive })
    const wanted = writer.get({ name: 'wanted' })
    const inactive = writer.get({ name: 'inactive', active: false })
    await Promise.all([wanted.ready(), inactive.ready()])
    await wanted.append(Buffer.from('w'))
    await inactive.append(Buffer.from('i'))
    const reader = new RefCorestore(RAM.reusable())
    const link = connectStores(writer, reader)
    const mux = muxOf(link.sa)!
    equal(wanted.replicator!.attached(mux), !passive, `passive ${passive}: the wanted core offered`)
    equal(inactive.replicator!.attached(mux), false, `passive ${passive}: the inactive core not offered`)
    // A core that becomes wanted later joins the connection then.
    const later = writer.get({ name: 'later', active: false })
    await later.ready()
    await later.append(Buffer.from('l'))
    equal(later.replicator!.attached(mux), false)
    later.setActive(true)
    equal(later.replicator!.attached(mux), !passive, `passive ${passive}: offered once wanted`)
    // Every one of them answers a peer that asks.
    for (const c of [wanted, inactive, later]) {
      const r = reader.get({ key: c.key })
      await r.ready()
      equal((await r.get(0, { timeout: 10000 })).length, 1)
    }
    await link.done()
    await Promise.all([writer.close(), reader.close()])
  }
})

test('replicate: a peer asking for a core we do not store gets no core and leaves nothing behind', async (t) => {
  const dir = tmpDir(t, 'hcw-store-')
  const ours = new Corestore(dir)
  const c = ours.get({ name: 'mine' })
  await c.ready()
  await c.append(Buffer.from('x'))
  const before = listFiles(dir)
  const theirs = new RefCorestore(RAM.reusable())
  const link = connectStores(theirs, ours)
  const unknown = theirs.get({ key: Buffer.alloc(32, 7) })
  await unknown.ready()
  equal(await unknown.get(0, { timeout: 300 }).catch((e: any) => e.code), 'REQUEST_TIMEOUT')
  deepEqual(listFiles(dir), before, 'no folder made for the unknown key')
  equal(ours.cores.size, 1)
  await link.done()
  await Promise.all([theirs.close(), ours.close()])
})

test('replicate: our store replicates with two corestore@6 peers at once, each stream serving several cores', async () => {
  const { store: writer, keys } = await writerStore('ours', 4, 2)
  const readers = [new RefCorestore(RAM.reusable()), new RefCorestore(RAM.reusable())]
  const links = readers.map(r => connectStores(r, writer))
  for (const r of readers) {
    for (const [i, key] of keys.entries()) {
      const core = r.get({ key })
      await core.ready()
      equal(Buffer.from(await core.get(0, { timeout: 10000 })).toString(), `${i}-a`)
    }
  }
  for (const l of links) await l.done()
  await Promise.all([...readers.map(r => r.close()), writer.close()])
})

test('pool: 120 cores open at once stay within the descriptor pool (poolSize 16), reads and writes intact', async (t) => {
  const dir = tmpDir(t, 'hcw-store-')
  const store = new Corestore(dir, { poolSize: 16 })
  await store.ready()
  const base = openFds()
  const cores: Hypercore[] = []
  for (let i = 0; i < 120; i++) {
    const core = store.get({ name: `c${i}` })
    await core.ready()
    await core.append(Buffer.from(`block ${i}`))
    cores.push(core)
  }
  const during = openFds() - base
  ok(during <= 16 + 4, `${during} descriptors for 120 cores (pool of 16)`)
  for (const [i, core] of cores.entries()) equal(Buffer.from((await core.get(0)) as Uint8Array).toString(), `block ${i}`)
  ok(openFds() - base <= 16 + 4)
  await store.close()
  // Everything was written where corestore@6 finds it.
  const theirs = new RefCorestore(dir)
  const c = theirs.get({ name: 'c77' })
  await c.ready()
  equal(Buffer.from(await c.get(0)).toString(), 'block 77')
  await theirs.close()
})

test('storage forms: a name → storage function and a random-access class, as corestore@6 takes them', async () => {
  const files = new Map<string, any>()
  const fn = (name: string): any => {
    if (!files.has(name)) files.set(name, new RAM())
    return files.get(name)
  }
  const a = new Corestore(fn, { primaryKey: PK })
  const core = a.get({ name: 'f' })
  await core.ready()
  await core.append(Buffer.from('via function'))
  ok(files.has('primary-key'))
  ok([...files.keys()].some(n => /^cores\/[0-9a-f]{2}\/[0-9a-f]{2}\/[0-9a-f]{64}\/oplog$/.test(n)))
  await a.close()
  const b = new Corestore(RAM)
  const c2 = b.get({ name: 'g' })
  await c2.ready()
  await c2.append(Buffer.from('x'))
  equal(c2.length, 1)
  await b.close()
})
