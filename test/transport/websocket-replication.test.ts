/**
 * @module test/transport/websocket-replication.test
 * Replication over a real WebSocket in Node: `core.replicate(isInitiator, { stream })` with
 * our WebSocket stream on both ends (ours ↔ ours), and against the real hypercore@10 whose
 * `replicate(isInitiator)` raw stream is piped into our stream on the server side.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { connectWebSocket, webSocketStream } from '../../src/transport/websocket.js'
import { once, ourReader, ourWriter, refReader, refWriter, text } from '../replication/replicator-helpers.js'
import { pattern, startServer, type TestServer } from './websocket-helpers.js'

const blocks = (n: number, size = 1024): Buffer[] => Array.from({ length: n }, (_, i) => Buffer.from(pattern(i, size)))

/** The server side replicates `core`: ours takes the stream as `{ stream }`, hypercore@10's raw stream is piped to it. */
function serve (server: TestServer, core: any, kind: 'ours' | 'ref'): void {
  void server.accept().then((ws) => {
    const s = webSocketStream(ws)
    s.on('error', () => {})
    if (kind === 'ours') {
      core.replicate(false, { stream: s, keepAlive: false }).on('error', () => {})
    } else {
      const raw = core.replicate(false, { keepAlive: false })
      raw.on('error', () => {})
      raw.pipe(s).pipe(raw)
    }
  })
}

/** The client (one of ours) replicates over a WebSocket to the server. */
function dial (server: TestServer, core: any): { stream: ReturnType<typeof connectWebSocket>, protocol: any } {
  const stream = connectWebSocket(server.url)
  const protocol = core.replicate(true, { stream, keepAlive: false })
  protocol.on('error', () => {})
  return { stream, protocol }
}

test('two of our cores replicate over a WebSocket: sparse get, full download, live append, bytes verified', async () => {
  const server = await startServer()
  const w: any = await ourWriter()
  await w.append(blocks(200))
  serve(server, w, 'ours')
  const r: any = await ourReader(w.key)
  const { stream } = dial(server, r)
  await once(r, 'peer-add')
  assert.equal(await r.update({ wait: true }), true)
  assert.equal(r.length, 200)
  assert.deepEqual(Buffer.from(await r.get(150)), Buffer.from(pattern(150, 1024)))
  assert.equal(await r.has(149), false, 'sparse: only what was asked for')
  await r.download({ start: 0, end: 200 }).done()
  for (let i = 0; i < 200; i++) assert.deepEqual(Buffer.from(await r.get(i, { wait: false })), Buffer.from(pattern(i, 1024)), `block ${i}`)
  const appended = once(r, 'append')
  await w.append(Buffer.from('live'))
  await appended
  assert.equal(r.length, 201)
  assert.equal(text(await r.get(200)), 'live')
  assert.deepEqual(Buffer.from(await r.treeHash()), Buffer.from(await w.treeHash()))
  stream.destroy()
  await r.close()
  await w.close()
  await server.close()
})

test('hypercore@10 writer (server) → our reader (client) over a WebSocket', async () => {
  const server = await startServer()
  const w = await refWriter()
  await w.append(blocks(100))
  serve(server, w, 'ref')
  const r: any = await ourReader(w.key)
  const { stream } = dial(server, r)
  await once(r, 'peer-add')
  await r.update({ wait: true })
  assert.deepEqual(Buffer.from(await r.get(77)), Buffer.from(pattern(77, 1024)))
  await r.download({ start: 0, end: 100 }).done()
  for (let i = 0; i < 100; i++) assert.deepEqual(Buffer.from(await r.get(i, { wait: false })), Buffer.from(pattern(i, 1024)), `block ${i}`)
  const appended = once(r, 'append')
  await w.append(Buffer.from('live'))
  await appended
  assert.equal(text(await r.get(100)), 'live')
  stream.destroy()
  await r.close()
  await w.close()
  await server.close()
})

test('our writer (client) → hypercore@10 reader (server) over a WebSocket', async () => {
  const server = await startServer()
  const w: any = await ourWriter()
  await w.append(blocks(100))
  const r = await refReader(w.key)
  serve(server, r, 'ref')
  const { stream } = dial(server, w)
  await once(r, 'peer-add')
  await r.update({ wait: true })
  assert.equal(r.length, 100)
  assert.deepEqual(Buffer.from(await r.get(42)), Buffer.from(pattern(42, 1024)))
  await r.download({ start: 0, end: 100 }).done()
  for (let i = 0; i < 100; i++) assert.deepEqual(Buffer.from(await r.get(i, { wait: false })), Buffer.from(pattern(i, 1024)), `block ${i}`)
  const appended = once(r, 'append')
  await w.append(Buffer.from('live'))
  await appended
  assert.equal(text(await r.get(100)), 'live')
  stream.destroy()
  await r.close()
  await w.close()
  await server.close()
})
