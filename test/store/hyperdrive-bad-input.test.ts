/**
 * @module test/store/hyperdrive-bad-input
 * hyperdrive@11, unchanged, on our Corestore when what it is given is not a good drive, side
 * by side with hyperdrive@11 on corestore@6 (the reference): the same typed errors, the same
 * waits, and nothing stored that was not verified.
 * - a key that names a plain core: every read is DECODING_ERROR;
 * - a drive whose blobs core never arrives (the peer serves the db core only): the files list,
 *   a read waits as hypercore@10's does, `{ timeout }` ends it with REQUEST_TIMEOUT, `{ wait:
 *   false }` with BLOCK_NOT_AVAILABLE, and the blobs core stays empty;
 * - a peer that changes a Hyperbee node's bytes: INVALID_PROOF ends that connection, the block
 *   is not stored, and an honest peer serves the drive afterwards;
 * - a writer that signed a block that is not a Hyperbee node: the block verifies (it is the
 *   writer's), reads at that version are DECODING_ERROR, earlier versions still read.
 */
import { test } from 'node:test'
import { createRequire } from 'node:module'
import { Corestore, MemoryDirectory } from '../../src/index.js'
import { Peer } from '../../src/replication/replicator/peer.js'
import { muxOf } from '../../src/replication/replicator/index.js'
import { cryptoReady } from '../../src/crypto/sodium.js'
import { deepEqual, equal, ok } from '../helpers/assert.js'
import { RAM, RefCorestore, connectStores } from './helpers.js'
import { collect, pattern, sha } from './hyperdrive-workload.js'

const require = createRequire(import.meta.url)
const Hyperdrive = require('hyperdrive') as any

type Kind = 'ours' | 'corestore@6'
const KINDS: Kind[] = ['ours', 'corestore@6']
const makeStore = (kind: Kind): any => kind === 'ours' ? new Corestore(new MemoryDirectory()) : new RefCorestore(RAM.reusable())

/** The error code `p` rejects with ('ok' if it resolves, 'waiting' if it is still pending after `ms`). */
async function outcome (p: Promise<unknown>, ms = 5000): Promise<string> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const waiting = new Promise<string>(resolve => { timer = setTimeout(() => resolve('waiting'), ms) })
  try {
    return await Promise.race([p.then(() => 'ok', (err: any) => err?.code ?? `untyped: ${String(err?.message ?? err)}`), waiting])
  } finally {
    clearTimeout(timer)
  }
}

const text = (b: Uint8Array): string => Buffer.from(b).toString()

/** Blocks of `core` stored locally, of its first `length`. */
async function storedBlocks (core: any, length = core.length): Promise<number> {
  let n = 0
  for (let i = 0; i < length; i++) if (await core.has(i)) n++
  return n
}

async function writerDrive (kind: Kind): Promise<{ store: any, drive: any }> {
  const store = makeStore(kind)
  const drive = new Hyperdrive(store)
  await drive.ready()
  await drive.put('/a.txt', Buffer.from('hello'))
  await drive.put('/big.bin', pattern(300_000, 4))
  return { store, drive }
}

test('hyperdrive, bad input: a key that names a plain core reads as DECODING_ERROR everywhere, on our store as on corestore@6', async () => {
  await cryptoReady()
  const seen: Record<string, string[]> = {}
  for (const w of KINDS) {
    for (const r of KINDS) {
      const wstore = makeStore(w)
      const plain = wstore.get({ name: 'plain' })
      await plain.ready()
      await plain.append([Buffer.from('hello'), Buffer.from('world')])
      const rstore = makeStore(r)
      const link = connectStores(wstore, rstore)
      const drive = new Hyperdrive(rstore, plain.key)
      await drive.ready()
      await drive.update({ wait: true })
      seen[`${w} → ${r}`] = [
        await outcome(drive.entry('/a.txt')),
        await outcome(drive.get('/a.txt', { timeout: 2000 })),
        await outcome(collect(drive.list('/'))),
        await outcome(collect(drive.readdir('/'))),
        await outcome(drive.getBlobs())
      ]
      // The plain core's two blocks are the writer's, verified: stored as they are.
      equal(await storedBlocks(drive.core), 2)
      await link.done()
      await drive.close()
      await wstore.close()
    }
  }
  for (const [pair, codes] of Object.entries(seen)) deepEqual(codes, Array(5).fill('DECODING_ERROR'), pair)
})

test('hyperdrive, bad input: the blobs core never arrives (the peer serves the db core only): files list, reads wait or time out as on corestore@6, nothing stored', async () => {
  await cryptoReady()
  const seen: Record<string, unknown[]> = {}
  for (const w of KINDS) {
    for (const r of KINDS) {
      const { store: wstore, drive: wdrive } = await writerDrive(w)
      const rstore = makeStore(r)
      // The writer's db core alone on the connection: its blobs core is never offered.
      const sa = wdrive.core.replicate(true, { keepAlive: false })
      const sb = rstore.replicate(false, { keepAlive: false })
      sa.pipe(sb).pipe(sa)
      sa.on('error', () => {})
      sb.on('error', () => {})
      const drive = new Hyperdrive(rstore, wdrive.key)
      await drive.ready()
      await drive.update({ wait: true })
      const blobs = await drive.getBlobs()
      const t0 = Date.now()
      const timedOut = await outcome(drive.get('/a.txt', { timeout: 500 }))
      const waited = Date.now() - t0
      ok(waited >= 400 && waited < 4000, `REQUEST_TIMEOUT after ${waited} ms`)
      const downloading = drive.download('/')
      seen[`${w} → ${r}`] = [
        ((await collect(drive.list('/'))) as any[]).map(e => e.key),
        timedOut,
        await outcome(drive.get('/a.txt', { wait: false })),
        await outcome(collect(drive.createReadStream('/big.bin', { start: 1000, end: 2000, timeout: 500 }))),
        await outcome(drive.get('/a.txt'), 700), // no timeout: waits for a peer with the block, as hypercore@10
        await outcome(downloading, 100),
        blobs.core.length,
        await storedBlocks(blobs.core, wdrive.blobs.core.length)
      ]
      // A peer with the blobs arrives: the waiting download finishes, the reads verify.
      const link = connectStores(wstore, rstore)
      await downloading
      equal(sha(await drive.get('/big.bin', { wait: false })), sha(pattern(300_000, 4)))
      equal(blobs.core.length, wdrive.blobs.core.length)
      await link.done()
      sa.destroy()
      sb.destroy()
      await drive.close()
      await wdrive.close()
    }
  }
  for (const [pair, s] of Object.entries(seen)) {
    deepEqual(s, [['/a.txt', '/big.bin'], 'REQUEST_TIMEOUT', 'BLOCK_NOT_AVAILABLE', 'REQUEST_TIMEOUT', 'waiting', 'waiting', 0, 0], pair)
  }
})

/** Makes our peers of `core` send every data message that carries a block with that block's bytes changed. */
function tamperBlocks (core: any): () => void {
  const orig = Peer.prototype.sendData
  Peer.prototype.sendData = function (this: Peer, m: any) {
    if ((this.host as any).core !== core.core || m.block === null) return orig.call(this, m)
    return orig.call(this, { ...m, block: { ...m.block, value: Buffer.from('not the writer\'s node') } })
  }
  return () => { Peer.prototype.sendData = orig }
}

// The tampering peer is ours (its messages are changed on their way out); so is the reader, whose
// verdict the test reads.
test('hyperdrive, bad input: a peer that changes a Hyperbee node\'s bytes is dropped with INVALID_PROOF, the block is not stored, an honest peer serves the drive after', async () => {
  await cryptoReady()
  const { store: wstore, drive: wdrive } = await writerDrive('ours')
  const rstore = makeStore('ours')
  const drive = new Hyperdrive(rstore, wdrive.key)
  await drive.ready()
  const restore = tamperBlocks(wdrive.core)
  let bad: ReturnType<typeof connectStores>
  try {
    bad = connectStores(wstore, rstore)
    const closed = new Promise(resolve => { if (bad.sa.destroyed) resolve(null); else bad.sa.once('close', resolve) })
    await drive.update({ wait: true })
    const read = outcome(drive.entry('/a.txt', { timeout: 1000 }))
    await closed
    equal(muxOf(bad.sb)?.error?.code, 'INVALID_PROOF')
    equal(await read, 'REQUEST_TIMEOUT')
    equal(await storedBlocks(drive.core), 0, 'nothing of the db core stored')
  } finally {
    restore()
  }
  const good = connectStores(wstore, rstore)
  equal(text(await drive.get('/a.txt')), 'hello')
  deepEqual(((await collect(drive.list('/'))) as any[]).map(e => e.key), ['/a.txt', '/big.bin'])
  await good.done()
  await bad.done()
  await drive.close()
  await wdrive.close()
})

test('hyperdrive, bad input: a block the writer signed that is not a Hyperbee node verifies and is stored; reads at that version are DECODING_ERROR, earlier versions read (as on corestore@6)', async () => {
  await cryptoReady()
  const seen: Record<string, unknown[]> = {}
  for (const w of KINDS) {
    for (const r of KINDS) {
      const { store: wstore, drive: wdrive } = await writerDrive(w)
      const good = wdrive.version
      await wdrive.core.append(Buffer.from('not a hyperbee node'))
      const rstore = makeStore(r)
      const link = connectStores(wstore, rstore)
      const drive = new Hyperdrive(rstore, wdrive.key)
      await drive.ready()
      await drive.update({ wait: true })
      const checkout = drive.checkout(good)
      seen[`${w} → ${r}`] = [
        drive.version,
        await outcome(drive.entry('/a.txt')),
        await outcome(collect(drive.list('/'))),
        text(await checkout.get('/a.txt')),
        await drive.core.has(good)
      ]
      await checkout.close()
      await link.done()
      await drive.close()
      await wdrive.close()
    }
  }
  for (const [pair, s] of Object.entries(seen)) deepEqual(s, [4, 'DECODING_ERROR', 'DECODING_ERROR', 'hello', true], pair)
})
