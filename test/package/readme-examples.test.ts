/**
 * @module test/package/readme-examples
 * The README's browser and Node examples, run as written (with Node storage and `@roamhq/wrtc`
 * standing in for the browser's IndexedDB and WebRTC), so the README stays true.
 */
import { test } from 'node:test'
import assert from 'node:assert'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { createRequire } from 'node:module'
import { WebSocketServer } from 'ws'
import Hypercore, { Swarm, WebSocketSignaling, BroadcastChannelSignaling, webSocketStream, connectWebSocket } from '../../src/index.js'
import { createSignalServer } from '../../src/signaling/server/index.js'

const require = createRequire(import.meta.url)
const wrtc = require('@roamhq/wrtc')

test('README: a Node writer on the swarm, a reader joining by discovery key gets verified blocks', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hcw-readme-'))
  const server = await createSignalServer({ port: 0, host: '127.0.0.1' })
  const url = server.url
  try {
    // "In Node"
    const core = new Hypercore(path.join(dir, 'my-log'))
    await core.append(['hello', 'world'])
    const swarm = new Swarm({ signaling: [new WebSocketSignaling({ url })], wrtc })
    swarm.on('connection', stream => core.replicate(stream))
    swarm.join(core.discoveryKey!)

    // "In a browser" (same code; a directory instead of IndexedDB, wrtc instead of the browser's WebRTC)
    const key = core.key
    const reader = new Hypercore(path.join(dir, 'my-dataset'), key)
    const readerSwarm = new Swarm({ signaling: [new WebSocketSignaling({ url }), new BroadcastChannelSignaling()], wrtc })
    readerSwarm.on('connection', stream => reader.replicate(stream))
    await reader.ready(); readerSwarm.join(reader.discoveryKey!)
    assert.equal(Buffer.from(await reader.get(0) as Uint8Array).toString(), 'hello')
    assert.equal(Buffer.from(await reader.get(1) as Uint8Array).toString(), 'world')

    await readerSwarm.destroy()
    await swarm.destroy()
    await reader.close()
    await core.close()
  } finally {
    await server.close()
    fs.rmSync(dir, { recursive: true, force: true })
  }
})

test('README: a page-style client replicates with a Node core over a WebSocket', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hcw-readme-ws-'))
  const core = new Hypercore(path.join(dir, 'my-log'))
  await core.append(['hello', 'world'])
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' })
  await new Promise(resolve => wss.once('listening', resolve))
  wss.on('connection', ws => core.replicate(false, { stream: webSocketStream(ws) }))
  try {
    const port = (wss.address() as { port: number }).port
    const reader = new Hypercore(path.join(dir, 'copy'), core.key)
    // replicate() before the reader's storage opened: the writer's channel open arrives first and must wait for ours
    const stream = reader.replicate(true, { stream: connectWebSocket(`ws://127.0.0.1:${port}`) })
    assert.equal(Buffer.from(await reader.get(1) as Uint8Array).toString(), 'world')
    stream.destroy()
    await reader.close()
    await core.close()
  } finally {
    for (const ws of wss.clients) ws.terminate()
    await new Promise(resolve => wss.close(resolve))
    fs.rmSync(dir, { recursive: true, force: true })
  }
})

test('README: Hyperbee in the browser (a directory for IndexedDB), and a reader replicating it', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hcw-readme-bee-'))
  const Hyperbee = require('hyperbee')
  const logged: unknown[][] = []
  const console = { log: (...args: unknown[]) => { logged.push(args) } }
  try {
    // "Hyperbee in the browser"
    const db = new Hyperbee(new Hypercore(path.join(dir, 'my-bee')), { keyEncoding: 'utf-8', valueEncoding: 'json' })
    await db.put('ada', { born: 1815 })
    await db.put('grace', { born: 1906 })
    console.log((await db.get('ada')).value)
    for await (const { key, value } of db.createReadStream({ gte: 'a', lt: 'h' })) console.log(key, value)

    const key = db.core.key
    const copy = new Hyperbee(new Hypercore(path.join(dir, 'bee-copy'), key), { keyEncoding: 'utf-8', valueEncoding: 'json' })
    const found = copy.core.findingPeers()
    // (the swarm: one connection, a pipe, then discovery is done)
    const a = db.core.replicate(true)
    const b = copy.core.replicate(false)
    a.pipe(b).pipe(a)
    copy.core.once('peer-add', found)
    console.log((await copy.get('grace')).value)

    assert.deepEqual(logged, [[{ born: 1815 }], ['ada', { born: 1815 }], ['grace', { born: 1906 }], [{ born: 1906 }]])
    assert.equal(copy.core.length, db.core.length)
    a.destroy()
    await copy.close()
    await db.close()
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
})

test('README: Hyperdrive in the browser (directories for IndexedDB), and a reader replicating it', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hcw-readme-drive-'))
  const Hyperdrive = require('hyperdrive')
  const { Corestore } = await import('../../src/index.js')
  const logged: unknown[][] = []
  const console = { log: (...args: unknown[]) => { logged.push(args) } }
  const chunks = [new Uint8Array(3_000_000).fill(1), new Uint8Array(100).fill(2)]
  try {
    // "Hyperdrive in the browser"
    const drive = new Hyperdrive(new Corestore(path.join(dir, 'my-drive')))
    await drive.put('/notes/hello.txt', new TextEncoder().encode('hello'))
    console.log(new TextDecoder().decode(await drive.get('/notes/hello.txt')))
    for await (const { key } of drive.list('/notes')) console.log(key)
    const ws = drive.createWriteStream('/big.bin')
    for (const chunk of chunks) ws.write(chunk)
    ws.end()
    await new Promise((resolve, reject) => { ws.once('close', resolve); ws.once('error', reject) })

    const key = drive.key
    const store = new Corestore(path.join(dir, 'drive-copy'))
    const copy = new Hyperdrive(store, key)
    const found = copy.findingPeers()
    // (the swarm: one connection, a pipe, then discovery is done)
    const a = drive.corestore.replicate(true)
    const b = store.replicate(false)
    a.pipe(b).pipe(a)
    copy.core.once('peer-add', found)
    await copy.update({ wait: true })
    for await (const name of copy.readdir('/')) console.log(name)
    for await (const part of copy.createReadStream('/big.bin', { start: 1e6, end: 2e6 - 1 })) console.log(part.byteLength)

    assert.deepEqual(logged.slice(0, 4), [['hello'], ['/notes/hello.txt'], ['big.bin'], ['notes']])
    assert.equal(logged.slice(4).reduce((n, [len]) => n + (len as number), 0), 1e6)
    // The range alone was fetched: the blocks it covers, not the file's 3 MB.
    const blobs = await copy.getBlobs()
    let stored = 0
    for (let i = 0; i < blobs.core.length; i++) if (await blobs.core.has(i)) stored++
    assert.ok(stored < blobs.core.length, `stored ${stored} of ${blobs.core.length} blobs blocks`)
    a.destroy()
    await copy.close()
    await drive.close()
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
})

test('README: join the Hyperswarm network from a page (a directory for IndexedDB), a hyperswarm + hypercore@10 peer serving the core', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hcw-readme-dht-'))
  // A local HyperDHT and the README's relay on it (its DHT node on loopback: this machine has no other network).
  const testnet = await require('hyperdht/testnet')(3, { host: '127.0.0.1' })
  const server = await createSignalServer({ port: 0, dhtRelay: { bootstrap: testnet.bootstrap.map((n: { host: string, port: number }) => `${n.host}:${n.port}`), dhtHost: '127.0.0.1' } })
  const RefHypercore = require('hypercore')
  const Hyperswarm = require('hyperswarm')
  const DHT = require('hyperdht')
  const seeder = new RefHypercore(path.join(dir, 'seeder'))
  await seeder.append(['from', 'hyperswarm'])
  const hs = new Hyperswarm({ dht: new DHT({ bootstrap: testnet.bootstrap, host: '127.0.0.1' }) })
  hs.on('connection', (c: any) => seeder.replicate(c))
  await hs.join(seeder.discoveryKey, { server: true, client: false }).flushed()
  const logged: unknown[] = []
  const console = { log: (x: unknown) => { logged.push(x) } }
  try {
    const key = seeder.key
    // "Join the Hyperswarm network from a page"
    const core = new Hypercore(path.join(dir, 'my-dataset'), key)
    const swarm = new Swarm({ dht: { relay: server.dhtRelayUrl! } })
    swarm.on('connection', stream => core.replicate(stream))
    await core.ready(); swarm.join(core.discoveryKey!)
    console.log(await core.get(0))
    assert.equal(Buffer.from(logged[0] as Uint8Array).toString(), 'from')
    await swarm.destroy()
    await core.close()
  } finally {
    await hs.destroy()
    await seeder.close()
    await server.close()
    await testnet.destroy()
    fs.rmSync(dir, { recursive: true, force: true })
  }
})
