/**
 * @module web-test/suites/hyperdrive
 * Hyperdrive (hyperdrive@11, unchanged) on our Corestore in a real browser, on real IndexedDB
 * (page: web-test/pages/hyperdrive.page.ts), against hyperdrive@11 on corestore@6 (hypercore@10)
 * in this Node process:
 * (a) the shared drive workload (test/store/hyperdrive-workload.ts: put, get, entry, del, list,
 *     readdir, read streams with ranges, write streams, symlinks, batches, checkouts, diffs,
 *     mirror, clear) sees the same things and writes the same blocks as corestore@6 running it
 *     here; the drive reads back from IndexedDB after a reload;
 * (b) interop both ways over one connection, a WebSocket, then WebRTC (@roamhq/wrtc here):
 *     Node writes a drive, the page another, each reads the other's (listings, files, a
 *     symlink, a download of a folder) and reads a byte range of a 50 MiB file through
 *     `createReadStream({ start, end })`, storing only the range's blobs blocks;
 * (c) bad input from Node: a plain core's key, and a drive whose blobs core Node does not
 *     serve: typed errors in the page, nothing stored (test/store/hyperdrive-bad-input.test.ts
 *     has the rest, in Node).
 */
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { createWebRtcPeer } from '../../src/transport/webrtc.js'
import type { SignalData } from '../../src/transport/types.js'
import { RAM, RefCorestore, serveRefStore } from '../peers/ref-store-peer.js'
import { serveRefCore } from '../peers/ref-peer.js'
import { bigFile, driveWorkload, expectedDriveFiles, pattern, readDriveFiles, sha, writeDriveFiles } from '../../test/store/hyperdrive-workload.js'
import { unique, type BrowserCase, type TestPage } from './page.js'

const require = createRequire(import.meta.url)
const Hyperdrive = require('hyperdrive')

const PRIMARY_KEY = Buffer.alloc(32, 0x5a)
/** The big file's size in the interop tests. */
const BIG_MIB = 50

/** Node's side of an interop test: a corestore@6 store with a drive of the interop files. */
async function nodeWriter (seed: number): Promise<{ store: any, key: string, big: ReturnType<typeof bigFile> }> {
  const store = new RefCorestore(RAM.reusable())
  const big = bigFile(BIG_MIB, seed)
  const drive = new Hyperdrive(store.namespace('node'))
  await writeDriveFiles(drive, big)
  return { store, key: drive.key.toString('hex'), big }
}

const withoutMs = ({ ms, ...rest }: Record<string, unknown>): Record<string, unknown> => rest

/**
 * Node and the page each write a drive, connect (`connect` sets up the transport), and each
 * reads the other's drive at once over the one connection; both see exactly what was written.
 */
async function interop (page: TestPage, transport: string, connect: (store: any) => Promise<() => Promise<void>>): Promise<void> {
  await page.open('/pages/hyperdrive.html')
  const node = await nodeWriter(31)
  const pageBig = bigFile(BIG_MIB, 32)
  const [fromNode, fromPage] = [await expectedDriveFiles(node.big), await expectedDriveFiles(pageBig)]
  let disconnect = async (): Promise<void> => {}
  try {
    await page.call('open', { name: unique('drive-interop') })
    const t0 = Date.now()
    const pageKey = await page.call<string>('write', { big: pageBig })
    const writeMs = Date.now() - t0
    disconnect = await connect(node.store)
    const reader = new Hyperdrive(node.store.session(), Buffer.from(pageKey, 'hex'))
    const [pageRead, nodeRead] = await Promise.all([
      page.call<Record<string, unknown>>('read', { key: node.key, big: node.big }),
      readDriveFiles(reader, pageBig, { timeout: 60_000 })
    ])
    console.log(`${transport}: the page wrote its drive (${BIG_MIB} MiB file) to IndexedDB in ${writeMs} ms; read Node's drive in ${String(pageRead.ms)} ms`)
    assert.deepEqual(withoutMs(pageRead), fromNode, 'the page reading the Node drive')
    assert.deepEqual(nodeRead, fromPage, 'Node reading the page\'s drive')
    await reader.close()
  } finally {
    // Node's side first: what it saw on the connection is checked before the page goes away.
    await disconnect()
    await page.call('close')
    await node.store.close()
  }
  assert.deepEqual(page.errors, [])
}

export const hyperdriveCases: BrowserCase[] = [
  {
    title: b => `Hyperdrive on a Corestore on IndexedDB in ${b}: the same workload sees the same things and writes the same blocks as hyperdrive@11 on corestore@6; it reads back after a reload`,
    async run ({ page }) {
      await page.open('/pages/hyperdrive.html')
      const theirs = await driveWorkload(Hyperdrive, new RefCorestore(RAM.reusable(), { primaryKey: PRIMARY_KEY }))
      const name = unique('drive')
      const ours = await page.call<Record<string, unknown>>('workload', { name, primaryKey: PRIMARY_KEY.toString('hex') })
      for (const k of Object.keys(theirs)) assert.deepEqual(ours[k], theirs[k], `IndexedDB vs corestore@6: ${k}`)
      assert.deepEqual(Object.keys(ours), Object.keys(theirs))
      await page.reload()
      const back = await page.call('reopen', { name })
      assert.deepEqual(back, {
        key: theirs.key,
        version: theirs.version,
        writable: true,
        list: ['/batch/1', '/batch/2', '/dir/b.bin', '/exec.sh', '/link', '/stream.bin'],
        bBin: sha(pattern(200_000, 1)),
        batch2: 'two',
        cleared: theirs.streamedAfterClear
      })
      assert.deepEqual(page.errors, [])
    }
  },
  {
    title: b => `Hyperdrive both ways between ${b} (our Corestore, IndexedDB) and Node (hyperdrive@11 on corestore@6) over a WebSocket: files, listings, a ${BIG_MIB} MiB file read through a byte range`,
    async run ({ page }) {
      await interop(page, 'WebSocket', async (store) => {
        const server = await serveRefStore(store)
        await page.call('dialWebSocket', { url: server.url })
        return async () => {
          assert.deepEqual(server.errors, [])
          await server.close()
        }
      })
    }
  },
  {
    title: b => `Hyperdrive both ways between ${b} (our Corestore, IndexedDB) and Node (hyperdrive@11 on corestore@6, @roamhq/wrtc) over WebRTC: files, listings, a ${BIG_MIB} MiB file read through a byte range`,
    async run ({ newProfile }) {
      // A profile of its own: Chromium offers WebRTC host candidates to a page with media permission.
      const page = await newProfile()
      try {
        await interop(page, 'WebRTC', async (store) => {
          const wrtc = require('@roamhq/wrtc') as unknown
          const rtc = createWebRtcPeer({ initiator: true, wrtc })
          const errors: Error[] = []
          let closing = false
          rtc.stream.on('error', (err: Error) => { if (!closing) errors.push(err) })
          await page.expose('sendSignal', (d: SignalData) => { rtc.signal(d) })
          await page.call('rtcStart', { initiator: false })
          rtc.onSignal(d => { void page.call('rtcSignal', d) })
          const raw = store.replicate(true, { keepAlive: false })
          raw.on('error', (err: Error) => { if (!closing) errors.push(err) })
          raw.pipe(rtc.stream).pipe(raw)
          return async () => {
            closing = true
            assert.deepEqual(errors, [])
            raw.destroy()
            rtc.destroy()
          }
        })
      } finally {
        await page.close()
      }
    }
  },
  {
    title: b => `Hyperdrive in ${b}, bad input from a Node peer: a plain core's key reads as DECODING_ERROR; a drive whose blobs core is not served times out (REQUEST_TIMEOUT) and stores no blob`,
    async run ({ page }) {
      await page.open('/pages/hyperdrive.html')
      const store = new RefCorestore(RAM.reusable())
      const plain = store.get({ name: 'plain' })
      await plain.ready()
      await plain.append([Buffer.from('hello'), Buffer.from('world')])
      const drive = new Hyperdrive(store.namespace('drive'))
      await drive.put('/a.txt', Buffer.from('hello'))
      // Each served alone, one core per connection: the drive's blobs core is never offered.
      const servers = [await serveRefCore(plain), await serveRefCore(drive.core)]
      try {
        await page.call('open', { name: unique('drive-bad') })
        for (const s of servers) await page.call('dialWebSocket', { url: s.url })
        const notADrive = await page.call('probe', { key: plain.key.toString('hex'), timeout: 500 })
        assert.deepEqual(notADrive, { entry: 'DECODING_ERROR', list: 'DECODING_ERROR', get: 'DECODING_ERROR', getNoWait: 'DECODING_ERROR', readStream: 'DECODING_ERROR', blobsStored: null })
        const noBlobs = await page.call('probe', { key: drive.key.toString('hex'), timeout: 500 })
        assert.deepEqual(noBlobs, { entry: 'ok', list: 'ok', get: 'REQUEST_TIMEOUT', getNoWait: 'BLOCK_NOT_AVAILABLE', readStream: 'REQUEST_TIMEOUT', blobsStored: 0 })
        for (const s of servers) assert.deepEqual(s.errors, [])
      } finally {
        await page.call('close')
        for (const s of servers) await s.close()
        await store.close()
      }
      assert.deepEqual(page.errors, [])
    }
  }
]
