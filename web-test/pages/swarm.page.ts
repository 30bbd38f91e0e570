/**
 * @module web-test/pages/swarm.page
 * Chromium side of web-test/swarm.spec.ts (served at /pages/swarm.html): one Swarm and one
 * core per page, driven by the spec through `testApi`. Blocks are web-test/peers/blocks.ts's,
 * so every side agrees on every byte.
 * - `start({ signaling })`: a Swarm over the named clients (our server, BroadcastChannel,
 *   a WebTorrent tracker) with no ICE servers; returns our peer id.
 * - `write({ blocks, blockSize })`: a writer core of deterministic blocks, replicated with
 *   every swarm connection and announced on its discovery key.
 * - `open({ key })`: a reader core of `key`, replicated and announced the same way (it
 *   seeds what it has); `core.findingPeers()` is held until the swarm's first round.
 * - `waitPeers(n)`: until the core replicates with `n` peers (their Noise keys).
 * - `waitRemoved(key)`: until that peer has left the core's peers.
 * - `update()`, `downloadStart({ blocks })`, `waitDownloaded(n)`, `downloadFinish({ blockSize })`:
 *   a full download whose blocks are counted per serving peer; the finish verifies every block.
 * - `append({ text })`, `waitBlock({ index })`: live appends.
 * - `hangAfterUploads(n)`: the page's JavaScript stops for good at its n-th upload from now.
 * - `rtcStart({ initiator, role, key?, blocks?, blockSize? })` / `rtcSignal(data)`: no swarm,
 *   one `createWebRtcPeer` whose signals go through the spec's `sendSignal` binding (the Node
 *   hypercore@10 peer of the spec is on the other end).
 * - `stats()`, `close()`.
 */
import { Hypercore } from '../../src/core/hypercore.js'
import { MemoryDirectory } from '../../src/storage/memory.js'
import { Swarm } from '../../src/swarm/index.js'
import { WebSocketSignaling } from '../../src/signaling/ws-client.js'
import { BroadcastChannelSignaling } from '../../src/signaling/broadcast-channel.js'
import { TrackerSignaling } from '../../src/signaling/tracker.js'
import type { SignalingClient } from '../../src/signaling/types.js'
import { createWebRtcPeer } from '../../src/transport/webrtc.js'
import type { SignalData, WebRtcPeer } from '../../src/transport/types.js'
import type { RawStream } from '../../src/replication/secret-stream/index.js'
import { hex, fromHex } from '../../test/helpers/assert.js'
import { blockBytes, mismatches } from '../peers/blocks.js'

declare const sendSignal: (data: SignalData) => Promise<void>

export type SignalingSpec =
  | { kind: 'ws', url: string }
  | { kind: 'bc', channelName: string }
  | { kind: 'tracker', announce: string[] }

interface PeerLike { remotePublicKey: Uint8Array | null }

const te = new TextEncoder()
const td = new TextDecoder()

let swarm: Swarm | null = null
let core: Hypercore | null = null
let rtc: WebRtcPeer | null = null
const warnings: string[] = []
/** The signaling client that brought each connection ('ws-server', 'broadcast-channel', 'tracker'). */
const signaledBy: string[] = []
/** How connections failed (a peer that went away), with when. */
const streamErrors: Array<{ code: string | null, message: string, at: number }> = []
/** Blocks this page received, and served, per remote Noise key (hex). */
const downloadedFrom = new Map<string, number>()
const uploadedTo = new Map<string, number>()
let downloaded = 0
/** For each peer that left: how many blocks we had downloaded when it did. */
const removed: Array<{ peer: string, downloadedSoFar: number, at: number }> = []
let download: Promise<boolean> | null = null
let uploads = 0
let hangAfter = -1
const progress: Array<() => void> = []

const keyOf = (p: PeerLike): string => p.remotePublicKey === null ? '?' : hex(p.remotePublicKey)
const bump = (m: Map<string, number>, k: string): void => { m.set(k, (m.get(k) ?? 0) + 1) }

function client (s: SignalingSpec): SignalingClient {
  if (s.kind === 'ws') return WebSocketSignaling({ url: s.url })
  if (s.kind === 'bc') return BroadcastChannelSignaling({ channelName: s.channelName })
  return new TrackerSignaling({ announce: s.announce })
}

async function start ({ signaling, idleTimeout }: { signaling: SignalingSpec[], idleTimeout?: number }): Promise<string> {
  const timeouts = idleTimeout === undefined ? {} : { idleTimeout, keepAlive: Math.floor(idleTimeout / 4) }
  swarm = new Swarm({ signaling: signaling.map(client), iceServers: [], flushQuiet: 300, backoff: { initial: 200, max: 2000 }, ...timeouts })
  // Warnings are recorded for the spec (a peer closing is one), never thrown.
  swarm.on('warning', (e: Error) => warnings.push(e.message))
  await swarm.ready()
  return swarm.self
}

/** Counts what flows through `c` per peer, and replicates it with every swarm connection. */
function wire (c: Hypercore): void {
  core = c
  c.on('download', (_i: number, _bytes: number, peer: PeerLike) => {
    downloaded++
    bump(downloadedFrom, keyOf(peer))
    for (const w of progress.splice(0)) w()
  })
  c.on('upload', (_i: number, _bytes: number, peer: PeerLike) => {
    bump(uploadedTo, keyOf(peer))
    if (++uploads === hangAfter) hang()
  })
  c.on('peer-add', () => { for (const w of progress.splice(0)) w() })
  c.on('peer-remove', (peer: PeerLike) => {
    removed.push({ peer: keyOf(peer), downloadedSoFar: downloaded, at: Date.now() })
    for (const w of progress.splice(0)) w()
  })
  swarm!.on('connection', (stream, info) => {
    signaledBy.push(info.signaling)
    stream.on('error', (e: Error & { code?: string }) => streamErrors.push({ code: e.code ?? null, message: e.message, at: Date.now() }))
    c.replicate(stream)
  })
}

function announce (c: Hypercore): void {
  const done = c.findingPeers()
  swarm!.join(c.discoveryKey!)
  swarm!.flush().then(done, done)
}

async function write ({ blocks, blockSize }: { blocks: number, blockSize: number }): Promise<{ key: string, discoveryKey: string, treeHash: string }> {
  const c = new Hypercore(new MemoryDirectory())
  await c.ready()
  // Batches of 64: one signature per batch, as an app appending a file would.
  for (let i = 0; i < blocks; i += 64) {
    await c.append(Array.from({ length: Math.min(64, blocks - i) }, (_, j) => blockBytes(i + j, blockSize)))
  }
  wire(c)
  announce(c)
  return { key: hex(c.key!), discoveryKey: hex(c.discoveryKey!), treeHash: hex(await c.treeHash()) }
}

async function open ({ key }: { key: string }): Promise<void> {
  const c = new Hypercore(new MemoryDirectory(), fromHex(key))
  await c.ready()
  wire(c)
  announce(c)
}

/** Resolves when `ok()` holds, re-checked on every download / new peer (no polling). */
async function until (ok: () => boolean): Promise<void> {
  while (!ok()) await new Promise<void>(resolve => progress.push(resolve))
}

async function waitPeers (n: number): Promise<string[]> {
  await until(() => core!.peers.length >= n)
  return core!.peers.map(keyOf).sort()
}

async function update (): Promise<{ updated: boolean, length: number }> {
  const updated = await core!.update({ wait: true })
  return { updated, length: core!.length }
}

function downloadStart ({ blocks }: { blocks: number }): void {
  download = core!.download({ start: 0, end: blocks }).done()
  download.catch(() => {})
}

async function waitDownloaded (n: number): Promise<Record<string, number>> {
  await until(() => downloaded >= n)
  return Object.fromEntries(downloadedFrom)
}

/** Until `peer` (its Noise key) has left the core's peers; when it left. */
async function waitRemoved (peer: string): Promise<{ peer: string, downloadedSoFar: number, at: number }> {
  await until(() => removed.some(x => x.peer === peer))
  return removed.find(x => x.peer === peer)!
}

async function downloadFinish ({ blockSize }: { blockSize: number }): Promise<Record<string, unknown>> {
  await download
  const c = core!
  const got: Array<Uint8Array | null> = []
  for (let i = 0; i < c.length; i++) got.push(await c.get(i, { wait: false }) as Uint8Array | null)
  return {
    length: c.length,
    contiguousLength: c.contiguousLength,
    mismatches: mismatches(got, blockSize),
    treeHash: hex(await c.treeHash()),
    downloaded,
    downloadedFrom: Object.fromEntries(downloadedFrom),
    removed: removed.slice()
  }
}

async function append ({ text }: { text: string }): Promise<number> {
  await core!.append(te.encode(text))
  return core!.length
}

async function waitBlock ({ index }: { index: number }): Promise<string> {
  return td.decode(await core!.get(index) as Uint8Array)
}

/**
 * After `n` uploads this page's JavaScript stops for good, in the middle of serving: what the
 * network sees of a tab that dies, at a moment the spec can count on (closing the page from
 * the spec races a fast download). The spec then closes the page.
 */
function hangAfterUploads (n: number): void { hangAfter = uploads + n }

function hang (): never {
  // eslint-disable-next-line no-empty
  while (true) {}
}

// --- one WebRTC connection without a swarm (the Node hypercore@10 peer) ----------------------

async function rtcStart ({ initiator, role, key, blocks, blockSize }: { initiator: boolean, role: 'writer' | 'reader', key?: string, blocks?: number, blockSize?: number }): Promise<{ key: string, treeHash: string }> {
  const c = role === 'writer' ? new Hypercore(new MemoryDirectory()) : new Hypercore(new MemoryDirectory(), fromHex(key!))
  await c.ready()
  if (role === 'writer') await c.append(Array.from({ length: blocks! }, (_, i) => blockBytes(i, blockSize!)))
  core = c
  c.on('download', () => { downloaded++; for (const w of progress.splice(0)) w() })
  rtc = createWebRtcPeer({ initiator, iceServers: [] })
  rtc.onSignal(d => { void sendSignal(d) })
  rtc.stream.on('error', (e: Error) => warnings.push(e.message))
  c.replicate(initiator, { stream: rtc.stream as unknown as RawStream, keepAlive: false })
  return { key: hex(c.key!), treeHash: hex(await c.treeHash()) }
}

function rtcSignal (data: SignalData): void { rtc!.signal(data) }

/** Reads blocks 0..blocks-1 over the connection (get of one, then a range), verifies them. */
async function rtcRead ({ blocks, blockSize, sparse }: { blocks: number, blockSize: number, sparse: number }): Promise<Record<string, unknown>> {
  const c = core!
  const updated = await c.update({ wait: true })
  const one = await c.get(sparse) as Uint8Array
  const hasNeighbour = await c.has(sparse - 1)
  await c.download({ start: 0, end: blocks }).done()
  const got: Array<Uint8Array | null> = []
  for (let i = 0; i < blocks; i++) got.push(await c.get(i, { wait: false }) as Uint8Array | null)
  return { updated, length: c.length, sparseOk: hex(one) === hex(blockBytes(sparse, blockSize)), hasNeighbour, mismatches: mismatches(got, blockSize), treeHash: hex(await c.treeHash()) }
}

function stats (): Record<string, unknown> {
  return {
    connections: swarm?.connections.size ?? 0,
    peers: core?.peers.map(keyOf).sort() ?? [],
    downloadedFrom: Object.fromEntries(downloadedFrom),
    uploadedTo: Object.fromEntries(uploadedTo),
    signaledBy: signaledBy.slice(),
    streamErrors: streamErrors.slice(),
    warnings: warnings.slice()
  }
}

async function close (): Promise<void> {
  rtc?.destroy()
  await swarm?.destroy()
  await core?.close()
  rtc = swarm = core = null
}

(globalThis as unknown as { testApi: unknown }).testApi = {
  start, write, open, hangAfterUploads, waitPeers, update, downloadStart, waitDownloaded, downloadFinish, waitRemoved, append, waitBlock,
  rtcStart, rtcSignal, rtcRead, stats, close
}
