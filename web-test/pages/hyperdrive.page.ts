/**
 * @module web-test/pages/hyperdrive.page
 * Browser side (Chromium and Firefox) of the Hyperdrive tests (served at /pages/hyperdrive.html):
 * hyperdrive@11, unchanged, bundled with our Corestore as an app would bundle it (plain esbuild;
 * hyperdrive's own `require('hypercore')` and `require('hypercore-crypto')` resolve to their npm
 * packages, the latter to sodium-javascript through sodium-universal's "browser" field).
 * - `workload({ name, primaryKey })` runs the shared drive workload (test/store/hyperdrive-workload.ts)
 *   on a store in IndexedDB, so the spec can compare it with corestore@6 in Node;
 * - `reopen({ name, bigSeed })` (after a page reload): the drive reads back from IndexedDB;
 * - `open({ name })` a store for the interop tests, then `write({ big })` (a drive of the
 *   interop files: returns its key), `read({ key, big })` (`readDriveFiles` of a remote drive),
 *   over `dialWebSocket({ url })` or WebRTC (`rtcStart({ initiator })` + `rtcSignal(data)`;
 *   our signals go out through the `sendSignal` binding the spec exposes);
 * - `probe({ key, timeout })`: what the reads of a bad drive end with (typed codes);
 * - `close()`: everything closed, the database deleted.
 * Everything returned is plain JSON.
 */
import { Corestore, connectWebSocket, createWebRtcPeer, deleteDatabase, type SignalData, type WebRtcPeer } from '../../src/index.js'
import { hex, fromHex } from '../../test/helpers/assert.js'
import { driveWorkload, readDriveFiles, writeDriveFiles, collect, sha, storedIn, type BigFile } from '../../test/store/hyperdrive-workload.js'
// @ts-expect-error hyperdrive ships no types
import Hyperdrive from 'hyperdrive'

declare const sendSignal: (data: SignalData) => Promise<void>

let store: Corestore | null = null
let storeName = ''
const cleanups: Array<() => Promise<unknown>> = []

async function workload ({ name, primaryKey }: { name: string, primaryKey: string }): Promise<Record<string, unknown>> {
  // The drive closes the store it was given when it closes (hyperdrive's way).
  return await driveWorkload(Hyperdrive, new Corestore(name, { primaryKey: fromHex(primaryKey) }))
}

async function reopen ({ name }: { name: string }): Promise<Record<string, unknown>> {
  const drive = new Hyperdrive(new Corestore(name))
  await drive.ready()
  const b = await drive.get('/dir/b.bin', { wait: false })
  const out = {
    key: hex(drive.key),
    version: drive.version,
    writable: drive.writable,
    list: ((await collect(drive.list('/'))) as any[]).map(e => e.key),
    bBin: sha(b),
    batch2: new TextDecoder().decode(await drive.get('/batch/2', { wait: false })),
    // Cleared before the reload: the clear was stored too.
    cleared: await drive.get('/stream.bin', { wait: false }).catch((e: any) => e.code ?? String(e))
  }
  await drive.close()
  await deleteDatabase(name)
  return out
}

/** A store on IndexedDB for the interop tests. */
async function open ({ name }: { name: string }): Promise<void> {
  storeName = name
  store = new Corestore(name)
  await store.ready()
}

function current (): Corestore {
  if (store === null) throw new Error('open() first')
  return store
}

/** A drive of the interop files in this page's store; returns its key. */
async function write ({ big }: { big: BigFile }): Promise<string> {
  const drive = new Hyperdrive(current().namespace('writer'))
  await writeDriveFiles(drive, big)
  cleanups.push(async () => { await drive.close() })
  return hex(drive.key)
}

/** `readDriveFiles` of the drive `key`, replicated from whichever peer the store is connected to. */
async function read ({ key, big }: { key: string, big: BigFile }): Promise<Record<string, unknown>> {
  const drive = new Hyperdrive(current().session(), fromHex(key))
  cleanups.push(async () => { await drive.close() })
  const t0 = performance.now()
  const out = await readDriveFiles(drive, big, { timeout: 60_000 })
  return { ...out, ms: Math.round(performance.now() - t0) }
}

/** The error code a promise rejects with ('ok' if it resolves). */
const outcome = (p: Promise<unknown>): Promise<string> => p.then(() => 'ok', (err: any) => err?.code ?? `untyped: ${String(err?.message ?? err)}`)

/**
 * Reads of the drive `key` that is not a good drive (a plain core, or a drive whose blobs no
 * peer serves): what each read ends with, and how much of the blobs core was stored.
 */
async function probe ({ key, timeout }: { key: string, timeout: number }): Promise<Record<string, unknown>> {
  const drive = new Hyperdrive(current().session(), fromHex(key))
  cleanups.push(async () => { await drive.close() })
  await drive.ready()
  if (drive.core.peers.length === 0) await new Promise(resolve => drive.core.once('peer-add', resolve))
  await drive.update({ wait: true })
  const out: Record<string, unknown> = {
    entry: await outcome(drive.entry('/a.txt')),
    list: await outcome(collect(drive.list('/'))),
    get: await outcome(drive.get('/a.txt', { timeout })),
    getNoWait: await outcome(drive.get('/a.txt', { wait: false })),
    readStream: await outcome(collect(drive.createReadStream('/a.txt', { timeout })))
  }
  const blobs = await drive.getBlobs().catch(() => null)
  out.blobsStored = blobs === null ? null : await storedIn(blobs.core, 0, Math.max(blobs.core.length, 1))
  return out
}

/** The store replicates over a WebSocket to `url` (the page dials: the Noise initiator). */
function dialWebSocket ({ url }: { url: string }): void {
  const protocol = current().replicate(true, { stream: connectWebSocket(url) as any, keepAlive: false }) as any
  protocol.on('error', () => {})
  cleanups.unshift(async () => { protocol.destroy() })
}

let peer: WebRtcPeer | null = null

/** A WebRTC peer (signals through the spec) carrying the store's replication. */
function rtcStart ({ initiator }: { initiator: boolean }): void {
  const p = createWebRtcPeer({ initiator })
  peer = p
  p.stream.on('error', () => {}) // the other side going away at the end is expected
  p.onSignal(data => { void sendSignal(data) })
  const protocol = current().replicate(initiator, { stream: p.stream as any, keepAlive: false }) as any
  protocol.on('error', () => {})
  cleanups.unshift(async () => { protocol.destroy(); p.destroy() })
}

function rtcSignal (data: SignalData): void {
  if (peer === null) throw new Error('rtcStart() first')
  peer.signal(data)
}

async function close (): Promise<void> {
  for (const c of cleanups.splice(0)) await c().catch(() => {})
  if (store !== null) {
    await store.close()
    store = null
    await deleteDatabase(storeName)
  }
  peer = null
}

;(globalThis as any).testApi = { workload, reopen, open, write, read, probe, dialWebSocket, rtcStart, rtcSignal, close }
