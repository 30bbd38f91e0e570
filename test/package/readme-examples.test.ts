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
