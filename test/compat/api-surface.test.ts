/**
 * @module test/compat/api-surface
 * The rest of hypercore@10's public surface, side by side with hypercore@10 (a black box):
 * the members of the class and its instances; `Hypercore.createProtocolStream` and
 * `getProtocolMuxer`; `replicate()` on every connection form hypercore@10 code passes (its
 * own streams, a hyperswarm Noise stream, a protomux, hypercore@10's streams and protomux),
 * with many cores on one connection and `{ session: true }`, and hypercore@10 cores on our
 * connection (our Mux as their protomux); the replicator and peer fields
 * libraries read; `seek` on a sparse reader (nodes asked of peers, no blocks); `sparse: false`
 * downloading everything.
 */
import { test } from 'node:test'
import { createRequire } from 'node:module'
import Hypercore, { MemoryDirectory } from '../../src/index.js'
import { cryptoReady } from '../../src/crypto/sodium.js'
import { deepEqual, equal, ok } from '../helpers/assert.js'
import { RAM, RefHypercore, ramSet } from '../core/helpers.js'
import { connect, once, until } from '../replication/replicator-helpers.js'

const require = createRequire(import.meta.url)
const NoiseSecretStream = require('@hyperswarm/secret-stream') as any
const Hyperbee = require('hyperbee') as any

type Kind = 'ours' | 'hypercore@10'
const KINDS: Kind[] = ['ours', 'hypercore@10']
const H = (k: Kind): any => k === 'ours' ? Hypercore : RefHypercore
const make = (k: Kind, key?: Uint8Array, opts: Record<string, unknown> = {}): any =>
  k === 'ours' ? new Hypercore(new MemoryDirectory(), key ?? null, opts) : new RefHypercore(RAM, key ?? null, opts)

async function writer (k: Kind, blocks: string[] = []): Promise<any> {
  const w = make(k)
  await w.ready()
  if (blocks.length > 0) await w.append(blocks.map(b => Buffer.from(b)))
  return w
}

/** Pipes two replication streams together; `done()` destroys both and waits for their close. */
function pipe (a: any, b: any): { done: () => Promise<void> } {
  a.pipe(b).pipe(a)
  a.on('error', () => {})
  b.on('error', () => {})
  const closed = (s: any): Promise<void> => new Promise(resolve => { if (s.destroyed) resolve(); else s.once('close', () => resolve()) })
  return {
    done: async () => {
      a.destroy()
      b.destroy()
      await Promise.all([closed(a), closed(b)])
    }
  }
}

const codeOf = (fn: () => unknown): string => {
  try {
    fn()
    return 'ok'
  } catch (err) {
    return (err as { code?: string }).code ?? 'error'
  }
}

/** Own and inherited property names (up to Object/EventEmitter), public ones only. */
function publicMembers (o: object, stop: object): string[] {
  const names = new Set<string>()
  for (let p = o; p !== null && p !== stop && p !== Object.prototype; p = Object.getPrototypeOf(p)) {
    for (const k of Object.getOwnPropertyNames(p)) if (!k.startsWith('_') && k !== 'constructor') names.add(k)
  }
  return [...names].sort()
}

test('surface: every public member of hypercore@10 (class, statics, instance after ready) is on ours', async () => {
  await cryptoReady()
  const EventEmitter = Object.getPrototypeOf(RefHypercore.prototype)
  const statics = (C: any): string[] => Object.getOwnPropertyNames(C).filter(k => !['length', 'name', 'prototype'].includes(k)).sort()
  deepEqual(statics(Hypercore), statics(RefHypercore), 'statics')
  const ours: any = make('ours')
  const theirs: any = make('hypercore@10')
  await ours.ready()
  await theirs.ready()
  // Methods and getters (ours may have a getter where theirs has a field, or the reverse).
  deepEqual(publicMembers(RefHypercore.prototype, EventEmitter).filter(k => !(k in ours)), [], 'prototype members missing')
  // hypercore@10's `crypto` (an injected hypercore-crypto) and `storage` (its storage function) are
  // the two instance fields we do not have (README, API table).
  const fields = Object.keys(theirs).filter(k => !k.startsWith('_') && !['crypto', 'storage'].includes(k))
  deepEqual(fields.filter(k => !(k in ours)), [], 'instance fields missing')
  // And they are of the same kind.
  const kind = (v: unknown): string => v === null ? 'null' : Array.isArray(v) ? 'array' : Buffer.isBuffer(v) ? 'Buffer' : typeof v
  deepEqual(fields.filter(k => !['cache', 'keyPair', 'replicator', 'globalCache'].includes(k)).map(k => [k, kind(ours[k])]), fields.filter(k => !['cache', 'keyPair', 'replicator', 'globalCache'].includes(k)).map(k => [k, kind(theirs[k])]))
  const promises = Symbol.for('hypercore.promises')
  deepEqual(ours[promises], theirs[promises], 'the promise-API marker')
  await ours.close()
  await theirs.close()
})

test('createTreeBatch() and cancel(), as hypercore@10', async () => {
  await cryptoReady()
  const results: unknown[] = []
  for (const k of KINDS) {
    const c = await writer(k, ['a', 'b', 'c'])
    const batch = c.createTreeBatch()
    const before = batch.hash()
    batch.append(Buffer.from('d'))
    const withD = batch.hash()
    await c.append(Buffer.from('d'))
    results.push({ before, same: Buffer.from(before).equals(await c.treeHash(3)), withD, grown: Buffer.from(withD).equals(await c.treeHash()), cancel: c.cancel(null) ?? null })
    await c.close()
  }
  deepEqual(results[0], results[1])
})

for (const k of KINDS) {
  test(`createProtocolStream/getProtocolMuxer on ${k}: the same stream, muxer and forms as hypercore@10`, async () => {
    await cryptoReady()
    const results: unknown[] = []
    for (const kind of [k, 'hypercore@10'] as Kind[]) {
      const C = H(kind)
      const s = C.createProtocolStream(true, { keepAlive: false })
      const mux = C.getProtocolMuxer(s)
      const w = await writer(kind, ['a'])
      results.push({
        hasNoiseStream: typeof s.noiseStream === 'object',
        muxIsUserData: mux === s.noiseStream.userData,
        isProtomux: mux.isProtomux,
        sameStreamBack: C.createProtocolStream(s) === s,
        muxGivesNoiseStream: C.createProtocolStream(mux) === s.noiseStream,
        replicateMuxReturnsMux: w.replicate(mux) === mux,
        replicateStreamReturnsIt: w.replicate(s) === s,
        replicateRawSocket: codeOf(() => w.replicate({ pipe () {} }))
      })
      s.destroy()
      await w.close()
    }
    deepEqual(results[0], results[1])
  })
}

for (const [a, b] of [['ours', 'ours'], ['ours', 'hypercore@10'], ['hypercore@10', 'ours']] as Array<[Kind, Kind]>) {
  test(`many cores on one connection (createProtocolStream, replicate(stream) per core): ${a} ↔ ${b}`, async () => {
    await cryptoReady()
    const writers = [await writer(a, ['a0', 'a1']), await writer(a, ['b0']), await writer(a, ['c0', 'c1', 'c2'])]
    const readers = writers.map(w => make(b, w.key))
    const sa = H(a).createProtocolStream(true, { keepAlive: false })
    const sb = H(b).createProtocolStream(false, { keepAlive: false })
    for (const w of writers) w.replicate(sa)
    for (const r of readers) r.replicate(sb)
    const link = pipe(sa, sb)
    const got: string[] = []
    for (const r of readers) {
      await r.ready()
      await r.update({ wait: true })
      got.push(Buffer.from(await r.get(r.length - 1)).toString())
    }
    deepEqual(got, ['a1', 'b0', 'c2'])
    // One connection: every peer of every core is on the same stream and muxer.
    const muxA = H(a).getProtocolMuxer(sa)
    for (const w of writers) {
      equal(w.peers.length, 1)
      ok(w.peers[0].stream === sa.noiseStream, 'peer.stream is the connection\'s Noise stream')
      ok(w.peers[0].protomux === muxA, 'peer.protomux is the connection\'s muxer')
    }
    await link.done()
    for (const c of [...readers, ...writers]) await c.close()
  })
}

for (const k of KINDS) {
  test(`ondiscoverykey: a ${k} connection opens a stored core when the remote asks for it (corestore's way), as hypercore@10`, async () => {
    await cryptoReady()
    const files = ramSet()
    const stored = new (H(k))(files.factory)
    await stored.append([Buffer.from('x'), Buffer.from('y')])
    const { key, discoveryKey } = stored
    await stored.close()
    const asked: unknown[] = []
    const s = H(k).createProtocolStream(false, {
      keepAlive: false,
      ondiscoverykey: async (dk: Uint8Array) => {
        asked.push([Buffer.isBuffer(dk), Buffer.from(dk).equals(discoveryKey)])
        const served = new (H(k))((name: string) => files.reopen(name), key)
        await served.ready()
        served.replicate(s, { session: true })
        await served.close() // the connection holds it now
      }
    })
    const r = make('hypercore@10', key)
    const link = pipe(r.replicate(true, { keepAlive: false }), s)
    await r.update({ wait: true })
    equal(Buffer.from(await r.get(1)).toString(), 'y')
    deepEqual(asked, [[true, true]])
    await link.done()
    await r.close()
  })
}

for (const k of KINDS) {
  test(`replicate(noiseStream): a hyperswarm (@hyperswarm/secret-stream) connection, ${k} against hypercore@10`, async () => {
    await cryptoReady()
    const w = await writer(k, ['p', 'q'])
    const r = make('hypercore@10', w.key)
    const a = new NoiseSecretStream(true)
    const b = new NoiseSecretStream(false)
    a.rawStream.pipe(b.rawStream).pipe(a.rawStream)
    equal(w.replicate(a), a)
    r.replicate(b)
    await r.update({ wait: true })
    equal(Buffer.from(await r.get(1)).toString(), 'q')
    equal(a.userData.isProtomux, true)
    ok(w.peers[0].stream === a, 'the peer is on the given Noise stream')
    a.destroy()
    b.destroy()
    await r.close()
    await w.close()
  })
}

test('replicate(stream) on a hypercore@10 stream (its npm protomux): ours and a hypercore@10 core share it', async () => {
  await cryptoReady()
  const ours = await writer('ours', ['ours-0'])
  const theirs = await writer('hypercore@10', ['theirs-0'])
  const s = RefHypercore.createProtocolStream(true, { keepAlive: false })
  const mux = RefHypercore.getProtocolMuxer(s)
  ok(ours.replicate(s) === s, 'returns the stream given')
  ok(ours.replicate(mux) === mux, 'returns the protomux given')
  theirs.replicate(s)
  const r1 = make('ours', theirs.key)
  const r2 = make('hypercore@10', ours.key)
  const s2 = Hypercore.createProtocolStream(false, { keepAlive: false })
  r1.replicate(s2)
  r2.replicate(s2)
  const link = pipe(s, s2)
  await r1.update({ wait: true })
  await r2.update({ wait: true })
  deepEqual([Buffer.from(await r1.get(0)).toString(), Buffer.from(await r2.get(0)).toString()], ['theirs-0', 'ours-0'])
  ok(ours.peers[0].protomux !== undefined && ours.peers[0].stream === s.noiseStream, 'our peer is on their Noise stream')
  await link.done()
  for (const c of [ours, theirs, r1, r2]) await c.close()
})

test('the other way: a hypercore@10 core replicates on our stream (our Mux as its protomux), beside our core, and closes cleanly', async () => {
  await cryptoReady()
  const theirs = await writer('hypercore@10', ['theirs-0', 'theirs-1'])
  const ours = await writer('ours', ['ours-0'])
  const s = Hypercore.createProtocolStream(false, { keepAlive: false })
  theirs.replicate(s)
  ours.replicate(s)
  const r1 = make('hypercore@10', theirs.key)
  const r2 = make('ours', ours.key)
  const s2 = RefHypercore.createProtocolStream(true, { keepAlive: false })
  r1.replicate(s2)
  r2.replicate(s2)
  const link = pipe(s2, s)
  await r1.update({ wait: true })
  await r2.update({ wait: true })
  deepEqual([Buffer.from(await r1.get(1)).toString(), Buffer.from(await r2.get(0)).toString()], ['theirs-1', 'ours-0'])
  // hypercore@10 waits for its channels to be fully closed (protomux's fullyClosed) as it closes.
  await theirs.close()
  equal(ours.peers.length, 1)
  await link.done()
  for (const c of [ours, r1, r2]) await c.close()
})

for (const k of KINDS) {
  test(`replicate(stream, { session: true }) keeps a ${k} core serving after its last session closed, then closes with the connection`, async () => {
    await cryptoReady()
    const w = await writer(k, ['one', 'two', 'three'])
    const r = make('hypercore@10', w.key)
    const sw = H(k).createProtocolStream(true, { keepAlive: false })
    w.replicate(sw, { session: true })
    const sr = r.replicate(false, { keepAlive: false })
    const link = pipe(sw, sr)
    await r.update({ wait: true })
    const closed = once(w, 'close')
    await w.close()
    const [isLast] = await closed
    // Still answering: the connection holds the core.
    equal(Buffer.from(await r.get(2)).toString(), 'three')
    await link.done()
    await r.close()
    equal(isLast, false)
  })
}

for (const k of KINDS) {
  test(`replicator fields (${k}): downloading follows active sessions and calls ondownloading; findingPeers; peers; inflightRange`, async () => {
    await cryptoReady()
    const root = make(k, undefined, { active: false })
    await root.ready()
    const rep = root.replicator
    const calls: string[] = []
    rep.ondownloading = () => calls.push('ondownloading')
    const out: unknown[] = [rep.downloading, Array.isArray(rep.peers), typeof rep.findingPeers, Array.isArray(rep.inflightRange) && rep.inflightRange.length]
    const s = root.session()
    await s.ready()
    out.push(rep.downloading, calls.length)
    const done = s.findingPeers()
    out.push(rep.findingPeers)
    done()
    out.push(rep.findingPeers)
    await s.close()
    await root.close()
    deepEqual(out, [false, true, 'number', 2, true, 1, 1, 0])
  })
}

test('Hyperbee (a live one) calls core.replicator.setInflightRange when there is one (hypercore@11\'s): ours has it and it takes effect', async () => {
  await cryptoReady()
  const core = new Hypercore(new MemoryDirectory())
  const db = new Hyperbee(core, { keyEncoding: 'utf-8', valueEncoding: 'json' })
  await db.ready()
  deepEqual(core.replicator!.inflightRange, [256, 512])
  equal(core.replicator!.scheduler.maxInflight, 512)
  await db.put('a', 1)
  equal((await db.get('a')).value, 1)
  await db.close()
})

for (const [wk, rk] of [['ours', 'hypercore@10'], ['hypercore@10', 'ours']] as Array<[Kind, Kind]>) {
  test(`peer fields: ${rk}'s peer for a ${wk} writer reads as hypercore@10's`, async () => {
    await cryptoReady()
    const w = await writer(wk, ['a', 'b', 'c'])
    const results: unknown[] = []
    for (const kind of [rk, 'hypercore@10'] as Kind[]) {
      const r = make(kind, w.key)
      await r.ready()
      const link = connect(w, r)
      await r.update({ wait: true })
      await until(() => r.peers.length === 1 && r.peers[0].remoteContiguousLength === 3)
      const p = r.peers[0]
      const wp = w.peers.find((x: any) => x.stream.noiseStream === p.stream.noiseStream || x.remotePublicKey.equals(p.stream.publicKey))
      results.push({
        remotePublicKey: Buffer.isBuffer(p.remotePublicKey) && p.remotePublicKey.equals(wp.stream.publicKey),
        stream: p.stream === p.stream.noiseStream && p.stream.isInitiator === false,
        protomux: p.protomux.isProtomux === true && p.protomux.stream === p.stream,
        channel: typeof p.channel.open === 'function',
        remoteLength: p.remoteLength,
        remoteFork: p.remoteFork,
        remoteContiguousLength: p.remoteContiguousLength,
        remoteCanUpgrade: p.remoteCanUpgrade,
        remoteUploading: p.remoteUploading,
        remoteDownloading: p.remoteDownloading,
        remoteSynced: p.remoteSynced,
        remoteOpened: p.remoteOpened,
        remoteSupportsSeeks: p.remoteSupportsSeeks,
        paused: p.paused,
        lengthAcked: p.lengthAcked,
        extensions: p.extensions instanceof Map
      })
      await link.done()
      await r.close()
    }
    await w.close()
    deepEqual(results[0], results[1])
  })
}

/** A writer whose blocks have different sizes, so a byte offset names one block. */
async function sizedWriter (k: Kind): Promise<any> {
  const blocks: string[] = []
  for (let i = 0; i < 37; i++) blocks.push('x'.repeat(1 + (i * 7) % 13))
  return writer(k, blocks)
}

for (const [wk, rk] of [['ours', 'ours'], ['hypercore@10', 'ours'], ['ours', 'hypercore@10']] as Array<[Kind, Kind]>) {
  test(`seek on a sparse ${rk} reader of a ${wk} writer asks peers for the tree nodes (no blocks downloaded), as hypercore@10`, async () => {
    await cryptoReady()
    const w = await sizedWriter(wk)
    const r = make(rk, w.key)
    await r.ready()
    const link = connect(w, r)
    await r.update({ wait: true })
    const offsets = [0, 1, 5, 57, 100, 180, w.byteLength - 1, w.byteLength]
    const expected: unknown[] = []
    for (const b of offsets) expected.push(await w.seek(b))
    const noWait = await r.seek(100, { wait: false })
    const got: unknown[] = []
    for (const b of offsets) got.push(await r.seek(b))
    deepEqual(got, expected)
    // Only tree nodes came: not one block.
    deepEqual([noWait, (await r.info()).contiguousLength, await r.has(0), await r.has(20)], [null, 0, false, false])
    await link.done()
    await r.close()
    await w.close()
  })
}

test('seek on a sparse reader with no peer: waits, then REQUEST_TIMEOUT after `timeout` (hypercore@10 too)', async () => {
  await cryptoReady()
  const results: unknown[] = []
  for (const k of KINDS) {
    const w = await sizedWriter(k)
    const r = make(k, w.key)
    const link = connect(w, r)
    await r.update({ wait: true })
    await link.done()
    let code = 'resolved'
    try {
      await r.seek(100, { timeout: 50 })
    } catch (err) {
      code = (err as { code: string }).code
    }
    results.push(code)
    await r.close()
    await w.close()
  }
  deepEqual(results[0], results[1])
})

for (const [wk, rk] of [['ours', 'ours'], ['hypercore@10', 'ours'], ['ours', 'hypercore@10']] as Array<[Kind, Kind]>) {
  test(`sparse: false — a ${rk} reader of a ${wk} writer downloads everything by itself, and follows appends`, async () => {
    await cryptoReady()
    const w = await writer(wk, ['a', 'b', 'c', 'd'])
    const r = make(rk, w.key, { sparse: false })
    await r.ready()
    const link = connect(w, r)
    await until(async () => r.length === 4 && await r.has(0, 4))
    await w.append([Buffer.from('e')])
    await until(async () => r.length === 5 && await r.has(4))
    equal(Buffer.from(await r.get(4, { wait: false })).toString(), 'e')
    await link.done()
    await r.close()
    await w.close()
  })
}
