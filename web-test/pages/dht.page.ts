/**
 * @module web-test/pages/dht.page
 * Chromium side of web-test/dht.spec.ts and web-test/redis.spec.ts (served at /pages/dht.html):
 * a Swarm that joins the HyperDHT through a DHT relay (`dht: { relay }`) and/or uses our
 * WebRTC signaling, and the cores it replicates with every connection. Blocks are
 * web-test/peers/blocks.ts's.
 * - `start({ relay, signalingUrl? })`: the swarm (no DHT when `relay` is empty); returns our public key.
 * - `signalingConnected()`: whether the signaling server has welcomed us.
 * - `dropConnections()`: destroys every connection (the swarm then looks for its peers again).
 * - `open({ key, server? })`: a reader core of `key` (joined as client, and server if asked).
 * - `write({ blocks, blockSize })`: a core of our own, announced (server + client).
 * - `downloadStart({ blocks })`, `downloaded()`, `downloadFinish({ blockSize })`: the reader's full
 *   download; the finish verifies every block and reads the tree hash.
 * - `stats()`: connections (with the client that brought each), stream errors, warnings.
 */
import { Hypercore } from '../../src/core/hypercore.js'
import { MemoryDirectory } from '../../src/storage/memory.js'
import { Swarm } from '../../src/swarm/index.js'
import { WebSocketSignaling } from '../../src/signaling/ws-client.js'
import { hex, fromHex } from '../../test/helpers/assert.js'
import { blockBytes, mismatches } from '../peers/blocks.js'

let swarm: Swarm | null = null
let signaling: ReturnType<typeof WebSocketSignaling> | null = null
let reader: Hypercore | null = null
const cores: Hypercore[] = []
const warnings: string[] = []
const connections: Array<{ remote: string, signaling: string, initiator: boolean, at: number, closedAt: number | null }> = []
const streamErrors: Array<{ code: string | null, message: string }> = []
let download: Promise<unknown> | null = null
let downloadError: string | null = null
let startedAt = 0

async function start ({ relay, signalingUrl }: { relay: string[], signalingUrl?: string }): Promise<string> {
  signaling = signalingUrl === undefined ? null : WebSocketSignaling({ url: signalingUrl, minBackoffMs: 200, maxBackoffMs: 1000 })
  swarm = new Swarm({
    ...(relay.length === 0 ? {} : { dht: { relay, minBackoffMs: 200, maxBackoffMs: 1000 } }),
    signaling: signaling === null ? [] : [signaling],
    iceServers: [],
    flushQuiet: 300,
    backoff: { initial: 200, max: 2000 }
  })
  swarm.on('warning', (e: Error) => warnings.push(e.message))
  swarm.on('connection', (stream, info) => {
    const entry = { remote: hex(info.publicKey), signaling: info.signaling, initiator: info.initiator, at: Date.now(), closedAt: null as number | null }
    connections.push(entry)
    stream.on('error', (e: Error & { code?: string }) => streamErrors.push({ code: e.code ?? null, message: e.message }))
    stream.on('close', () => { entry.closedAt = Date.now() })
    for (const c of cores) c.replicate(stream)
  })
  await swarm.ready()
  return swarm.self
}

function track (c: Hypercore): void {
  cores.push(c)
  for (const s of swarm!.connections) c.replicate(s)
}

async function open ({ key, server }: { key: string, server?: boolean }): Promise<void> {
  const c = new Hypercore(new MemoryDirectory(), fromHex(key))
  await c.ready()
  reader = c
  track(c)
  const done = c.findingPeers()
  swarm!.join(c.discoveryKey!, { server: server ?? false, client: true })
  swarm!.flush().then(done, done)
}

async function write ({ blocks, blockSize }: { blocks: number, blockSize: number }): Promise<{ key: string, discoveryKey: string }> {
  const c = new Hypercore(new MemoryDirectory())
  await c.ready()
  for (let i = 0; i < blocks; i += 64) {
    await c.append(Array.from({ length: Math.min(64, blocks - i) }, (_, j) => blockBytes(i + j, blockSize)))
  }
  track(c)
  swarm!.join(c.discoveryKey!)
  return { key: hex(c.key!), discoveryKey: hex(c.discoveryKey!) }
}

function downloadStart ({ blocks }: { blocks: number }): void {
  startedAt = performance.now()
  const done = reader!.download({ start: 0, end: blocks }).done()
  done.catch((e: Error) => { downloadError = e.message })
  download = done
}

function downloaded (): number {
  return reader?.contiguousLength ?? 0
}

async function downloadFinish ({ blockSize }: { blockSize: number }): Promise<Record<string, unknown>> {
  await download
  const ms = performance.now() - startedAt
  const c = reader!
  const got: Array<Uint8Array | null> = []
  for (let i = 0; i < c.length; i++) got.push(await c.get(i, { wait: false }) as Uint8Array | null)
  return { length: c.length, contiguousLength: c.contiguousLength, mismatches: mismatches(got, blockSize), treeHash: hex(await c.treeHash()), ms, downloadError }
}

function signalingConnected (): boolean {
  return signaling?.connected ?? false
}

function dropConnections (): number {
  const all = [...swarm!.connections]
  for (const s of all) s.destroy()
  return all.length
}

function stats (): Record<string, unknown> {
  return {
    open: swarm?.connections.size ?? 0,
    connections: connections.slice(),
    streamErrors: streamErrors.slice(),
    warnings: warnings.slice()
  }
}

async function close (): Promise<void> {
  await swarm?.destroy()
  for (const c of cores.splice(0)) await c.close()
  swarm = reader = null
}

export const testApi = { start, open, write, downloadStart, downloaded, downloadFinish, signalingConnected, dropConnections, stats, close };
(globalThis as unknown as { testApi: unknown }).testApi = testApi
