/**
 * @module demo/fetch
 * `npm run demo:fetch -- <link> [dir]`: downloads a dataset shared from a demo page into a
 * local folder with the reference packages — hyperdrive@11 on corestore@6 and hypercore@10,
 * not hypercore-web's code — the proof that what a browser shares is a standard Hyperdrive.
 *
 * It reaches the browsers the way the page does: the demo's signaling server (its address
 * comes from the link's server, /config/config.json) and WebRTC (@roamhq/wrtc), through
 * hypercore-web's Swarm, which hands over each connection as a Noise secret stream;
 * corestore@6 replicates the drive's cores on it (`store.replicate(stream)`) with its own
 * protomux, as it would on a hyperswarm connection. Only the transport is hypercore-web's.
 *
 * Options: --timeout <s> (give up after that long without progress, default 120),
 * --signal <ws url> (another signaling server than the link's, also SIGNAL_URL).
 */
import fs from 'node:fs'
import path from 'node:path'
import { createRequire } from 'node:module'
import { pipeline } from 'node:stream/promises'
import { Swarm } from '../src/swarm/index.js'
import { WebSocketSignalingClient } from '../src/signaling/ws-client.js'
import { parseLink } from './src/link.js'

const require = createRequire(import.meta.url)

/** Thrown for what a person can fix (a bad link, no server, no peer): printed without a stack. */
class FetchError extends Error {}

interface Args { link: string, dir: string | null, timeout: number, signal: string | null }

function parseArgs (argv: string[]): Args {
  const rest: string[] = []
  let timeout = 120
  let signal = process.env.SIGNAL_URL ?? null
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!
    if (a === '--timeout') timeout = Number(argv[++i])
    else if (a === '--signal') signal = argv[++i] ?? null
    else if (a === '-h' || a === '--help') usage(0)
    else rest.push(a)
  }
  if (rest.length < 1 || rest.length > 2 || !(timeout > 0)) usage(2)
  return { link: rest[0]!, dir: rest[1] ?? null, timeout, signal }
}

function usage (code: number): never {
  console.log('usage: npm run demo:fetch -- <share link> [dir] [--timeout seconds] [--signal ws://host:port]')
  process.exit(code)
}

/** The drive key and the signaling server's URL, from a share link (`http://host:port/index.html#<id>`). */
async function resolveLink (link: string, signalOverride: string | null): Promise<{ key: Buffer, signal: string }> {
  let url: URL
  try { url = new URL(link) } catch { throw new FetchError(`not a share link: ${link} (copy the whole link from the page, http://… #…)`) }
  const parsed = parseLink(url.hash)
  if (parsed.kind !== 'key') throw new FetchError(parsed.kind === 'bad' ? parsed.reason : 'the link has no key after its #: copy the whole link from the page')
  if (url.searchParams.has('relay')) throw new FetchError('this link was made with ?relay (the demo server relays its page): this script connects over WebRTC; share from a page without ?relay')
  if (signalOverride !== null) return { key: Buffer.from(parsed.key), signal: signalOverride }
  let cfg: { signaling: string | null, signalingPort: number | null }
  try {
    const res = await fetch(new URL('/config/config.json', url))
    if (!res.ok) throw new Error(`HTTP ${res.status}`)
    cfg = await res.json() as typeof cfg
  } catch (err) {
    throw new FetchError(`cannot reach the demo server at ${url.origin} (${(err as Error).message}): is \`npm start\` running there? (or pass --signal ws://host:port)`)
  }
  const signal = cfg.signaling ?? (cfg.signalingPort !== null ? `ws://${url.hostname}:${cfg.signalingPort}` : null)
  if (signal === null) throw new FetchError(`the demo server at ${url.origin} runs no signaling server: pass --signal ws://host:port`)
  return { key: Buffer.from(parsed.key), signal }
}

const versions = (): string => ['hyperdrive', 'corestore', 'hypercore'].map(p => `${p}@${(require(`${p}/package.json`) as { version: string }).version}`).join(', ')

function formatBytes (n: number): string {
  if (n < 1024) return `${n} B`
  const units = ['KiB', 'MiB', 'GiB', 'TiB']
  let v = n / 1024
  let u = 0
  while (v >= 1024 && u < units.length - 1) { v /= 1024; u++ }
  return `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[u]}`
}

/** `/a/../b/c` → `<dir>/b/c`, never outside `dir` whatever the drive says. */
function target (dir: string, key: string): string {
  const parts = key.split('/').filter(p => p !== '' && p !== '.' && p !== '..')
  if (parts.length === 0) throw new FetchError(`bad path in the drive: ${JSON.stringify(key)}`)
  const out = path.resolve(dir, ...parts)
  if (!out.startsWith(path.resolve(dir) + path.sep)) throw new FetchError(`bad path in the drive: ${JSON.stringify(key)}`)
  return out
}

/** `promise`, or a FetchError with `message` after `ms`. */
async function within<T> (promise: Promise<T>, ms: number, message: () => string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | null = null
  const late = new Promise<never>((_resolve, reject) => { timer = setTimeout(() => reject(new FetchError(message())), ms) })
  try {
    return await Promise.race([promise, late])
  } finally {
    if (timer !== null) clearTimeout(timer)
  }
}

/** Rejects after `ms` with `message` unless `progressed()` moved meanwhile (checked every second). */
function stallGuard (ms: number, progressed: () => number, message: () => string): { promise: Promise<never>, stop: () => void } {
  let last = progressed()
  let since = Date.now()
  let timer: ReturnType<typeof setInterval> | null = null
  const promise = new Promise<never>((_resolve, reject) => {
    timer = setInterval(() => {
      const now = progressed()
      if (now !== last) { last = now; since = Date.now(); return }
      if (Date.now() - since >= ms) reject(new FetchError(message()))
    }, 1000)
  })
  promise.catch(() => {})
  return { promise, stop: () => { if (timer !== null) clearInterval(timer) } }
}

async function main (): Promise<void> {
  const args = parseArgs(process.argv.slice(2))
  const { key, signal } = await resolveLink(args.link, args.signal)
  let wrtc: unknown
  try { wrtc = require('@roamhq/wrtc') } catch { throw new FetchError('WebRTC for Node (@roamhq/wrtc, an optional dependency) is not installed: npm install @roamhq/wrtc') }
  const Corestore = require('corestore')
  const Hyperdrive = require('hyperdrive')
  const Hyperbee = require('hyperbee')
  const RAM = require('random-access-memory')
  console.log(`${versions()}; signaling ${signal}`)

  // The drive's cores in memory: what is kept is the folder written at the end.
  const store = new Corestore(RAM.reusable())
  const db = store.get({ key })
  await db.ready()
  const swarm = new Swarm({ signaling: [new WebSocketSignalingClient({ url: signal })], wrtc })
  swarm.on('connection', stream => store.replicate(stream))
  swarm.on('warning', () => {})
  const found = store.findingPeers()
  swarm.join(db.discoveryKey)
  swarm.flush().then(found, found)
  const timeoutMs = args.timeout * 1000
  const peers = (): number => swarm.connections.size
  let drive: any = null
  try {
    console.log(`drive ${db.id}: looking for peers…`)
    // Block 0 of the db core is the drive's header: it tells a Hyperdrive (a Hyperbee naming
    // its blobs core) from other cores. Checked before hyperdrive opens the key: given a
    // Hyperbee without blobs, hyperdrive fails in a promise nobody can catch.
    const bee = new Hyperbee(db.session())
    let header: { protocol?: string, metadata?: { contentFeed?: Buffer | null } } | null
    try {
      header = await bee.getHeader({ timeout: timeoutMs })
    } catch (err) {
      if ((err as { code?: string }).code === 'REQUEST_TIMEOUT') throw new FetchError(peers() === 0 ? `nobody sharing this drive was found in ${args.timeout} s: keep the page that shares it open, and check the link` : `the ${peers()} peer(s) found did not send the drive's first block in ${args.timeout} s`)
      throw new FetchError(`not a Hyperdrive: its first block is not a Hyperbee header (${(err as Error).message})`)
    } finally {
      await bee.close()
    }
    if (header?.protocol !== 'hyperbee') throw new FetchError('not a Hyperdrive: its first block is not a Hyperbee header')
    if (header.metadata?.contentFeed == null) throw new FetchError('not a Hyperdrive: a Hyperbee that names no blobs core')
    drive = new Hyperdrive(store, key)
    await drive.ready()
    // The file list (the db core): its latest version, then every entry, from the peers.
    const entries: Array<{ key: string, value: any }> = []
    const info = await within((async () => {
      await drive.update({ wait: true })
      for await (const e of drive.list('/')) entries.push(e)
      return await drive.db.sub('hypercore-web-demo', { keyEncoding: 'utf-8', valueEncoding: 'json' }).get('dataset').catch(() => null)
    })(), timeoutMs, () => `the file list did not arrive in ${args.timeout} s (${peers()} peer${peers() === 1 ? '' : 's'} connected)`)
    // The dataset's name, when a demo page made the drive (a record beside hyperdrive's files).
    const name: string = typeof info?.value?.name === 'string' ? info.value.name : drive.id.slice(0, 12)
    const dir = args.dir ?? (name.replace(/[^\w.-]+/g, '-').replace(/^[-.]+|-+$/g, '') || 'dataset')

    const files = entries.filter(e => e.value.blob != null)
    const totalBlocks = files.reduce((n, e) => Math.max(n, e.value.blob.blockOffset + e.value.blob.blockLength), 0)
    const totalBytes = files.reduce((n, e) => n + e.value.blob.byteLength, 0)
    console.log(`"${name}": ${files.length} files, ${formatBytes(totalBytes)} in ${totalBlocks} blocks of the blobs core (drive version ${drive.version})`)

    const blobs = await drive.getBlobs()
    let have = 0
    for (let i = 0; i < totalBlocks; i++) if (await blobs.core.has(i)) have++
    let bytes = 0
    const started = Date.now()
    blobs.core.on('download', (_i: number, n: number) => { have++; bytes += n })
    const tty = process.stdout.isTTY === true
    const line = (): string => `  ${have} / ${totalBlocks} blocks · ${formatBytes(bytes)} · ${formatBytes(Math.round(bytes / Math.max(1, (Date.now() - started) / 1000)))}/s · ${peers()} peer${peers() === 1 ? '' : 's'}`
    const progress = setInterval(() => { if (tty) process.stdout.write('\r' + line() + '   '); else console.log(line()) }, tty ? 250 : 2000)
    // Peers with a blobs core of length 0 (readers who have not got it either) cannot send it.
    const guard = stallGuard(timeoutMs, () => have, () => blobs.core.peers.every((p: { remoteLength: number }) => p.remoteLength === 0)
      ? `the file list arrived, but no peer sent the files themselves (the drive's blobs core) in ${args.timeout} s: the peers found have the list only`
      : `the download stalled for ${args.timeout} s at ${have} of ${totalBlocks} blocks`)
    try {
      // hyperdrive's own download of every file (every blob range).
      await Promise.race([drive.download('/'), guard.promise])
      // download() settles ranges without failing; make sure every block is here.
      if (totalBlocks > 0 && !(await blobs.core.has(0, totalBlocks))) throw new FetchError(`the download ended with ${have} of ${totalBlocks} blocks`)
    } finally {
      guard.stop()
      clearInterval(progress)
      if (tty) process.stdout.write('\r' + line() + '\n'); else console.log(line())
    }

    fs.mkdirSync(dir, { recursive: true })
    let written = 0
    for (const e of entries) {
      if (e.value.blob == null) { console.log(`  skipped ${e.key} (${e.value.linkname != null ? 'a symlink' : 'no contents'})`); continue }
      const out = target(dir, e.key)
      fs.mkdirSync(path.dirname(out), { recursive: true })
      await pipeline(drive.createReadStream(e.key, { wait: false }), fs.createWriteStream(out))
      const size = fs.statSync(out).size
      if (size !== e.value.blob.byteLength) throw new FetchError(`${e.key}: wrote ${size} bytes, the drive says ${e.value.blob.byteLength}`)
      const modified = e.value.metadata?.modified
      if (typeof modified === 'number' && modified > 0) fs.utimesSync(out, new Date(), new Date(modified))
      written += size
    }
    console.log(`saved ${files.length} files (${formatBytes(written)}) into ${path.resolve(dir)}`)
  } finally {
    await swarm.destroy()
    await db.close()
    if (drive !== null) await drive.close() // and its store
    else await store.close()
  }
}

main().then(() => process.exit(0), (err: unknown) => {
  console.error(err instanceof FetchError ? `demo:fetch: ${err.message}` : err)
  process.exit(1)
})
