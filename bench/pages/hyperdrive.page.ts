/**
 * @module bench/pages/hyperdrive.page
 * One side of the Hyperdrive benchmark (bench/hyperdrive.bench.ts drives two of these pages and
 * relays their signals through `sendSignal`): hyperdrive@11, unchanged, on our Corestore,
 * replicating over `createWebRtcPeer`'s stream.
 * - `start({ initiator, name })`: a store (in IndexedDB database `name`, or memory when `name`
 *   is empty) replicating over a new WebRTC peer;
 * - `write({ files, bigMiB })` (the writer): fills a drive (bench/lib/hyperdrive-load.ts), returns its key
 *   and the big file's fingerprint;
 * - `connected()`: the WebRTC connection and its Noise handshake are done;
 * - `list({ key })` then `read()` (the reader): the two timed measurements;
 * - `close()`: closes everything and deletes the database.
 */
import { Corestore, MemoryDirectory, createWebRtcPeer, deleteDatabase, type SignalData, type WebRtcPeer } from '../../src/index.js'
import { fillDrive, timeList, timeRead } from '../lib/hyperdrive-load.js'
// @ts-expect-error hyperdrive ships no types
import Hyperdrive from 'hyperdrive'

declare const sendSignal: (data: SignalData) => Promise<void>

const hex = (b: Uint8Array): string => Array.from(b, x => x.toString(16).padStart(2, '0')).join('')
const unhex = (s: string): Uint8Array => new Uint8Array(s.match(/../g)!.map(x => parseInt(x, 16)))

let store: Corestore | null = null
let dbName = ''
let peer: WebRtcPeer | null = null
let drive: any = null
let protocol: any = null

async function start ({ initiator, name }: { initiator: boolean, name: string }): Promise<void> {
  dbName = name
  store = new Corestore(name === '' ? new MemoryDirectory() : name)
  await store.ready()
  peer = createWebRtcPeer({ initiator })
  peer.stream.on('error', () => {})
  peer.onSignal(d => { void sendSignal(d) })
  protocol = store.replicate(initiator, { stream: peer.stream as any, keepAlive: false }) as any
  protocol.on('error', () => {})
}

/** Resolves once the connection is up (its Noise handshake done): the timings leave out connecting. */
async function connected (): Promise<boolean> {
  // Over a raw transport, replicate() returns the secret stream itself; otherwise its outer stream.
  return await (protocol.noiseStream ?? protocol).opened
}

async function write ({ files, bigMiB }: { files: number, bigMiB: number }): Promise<{ key: string, fingerprint: string }> {
  drive = new Hyperdrive(store!.session())
  const fingerprint = await fillDrive(drive, { files, bigMiB })
  return { key: hex(drive.key), fingerprint }
}

async function list ({ key }: { key: string }): Promise<{ ms: number, count: number }> {
  const r = await timeList(() => new Hyperdrive(store!.session(), unhex(key)))
  drive = r.drive
  return { ms: r.ms, count: r.count }
}

async function read (): Promise<{ ms: number, bytes: number, fingerprint: string }> {
  return await timeRead(drive)
}

async function close (): Promise<void> {
  await drive?.close()
  await store?.close()
  peer?.destroy()
  if (dbName !== '') await deleteDatabase(dbName)
}

;(globalThis as any).testApi = { start, connected, write, list, read, close, signal: (d: SignalData) => { peer!.signal(d) } }
