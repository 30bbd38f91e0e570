/**
 * @module test/transport/websocket.test
 * The WebSocket byte stream in Node: a `ws` server on 127.0.0.1 and our client, bytes both
 * ways in order (up to 1 MiB messages), writes held until open, outbound and inbound
 * backpressure, clean close from either side, abrupt ends as typed errors.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Duplex } from 'streamx'
import { HypercoreError } from '../../src/errors.js'
import { connectWebSocket, webSocketStream, whenBufferedBelow, type WebSocketLike, type WebSocketStream } from '../../src/transport/websocket.js'
import { concat, ended, openPair, pattern, readBytes, startServer, until } from './websocket-helpers.js'

/** Sizes with a 1 MiB message and odd ones around frame-length boundaries (125, 126, 65535, 65536). */
const SIZES = [1, 125, 126, 1000, 65535, 65536, 1024 * 1024, 7]

test('bytes flow both ways in order, 1 MiB messages included; writes made while connecting are held until open', async () => {
  const server = await startServer()
  const client = connectWebSocket(server.url)
  // Written at once, while the socket is still connecting.
  assert.equal((client as WebSocketStream).socket.readyState, 0)
  const up = SIZES.map((n, i) => pattern(i, n))
  for (const c of up) client.write(c)
  const serverSide = webSocketStream(await server.accept())
  const down = SIZES.map((n, i) => pattern(100 + i, n)).reverse()
  for (const c of down) serverSide.write(c)

  const total = (cs: Uint8Array[]): number => cs.reduce((n, c) => n + c.byteLength, 0)
  const [gotUp, gotDown] = await Promise.all([readBytes(serverSide, total(up)), readBytes(client, total(down))])
  assert.deepEqual(Buffer.from(gotUp), Buffer.from(concat(up)))
  assert.deepEqual(Buffer.from(gotDown), Buffer.from(concat(down)))
  client.destroy()
  serverSide.destroy()
  await server.close()
})

/** A WebSocket stand-in whose buffered amount the test sets by hand. */
class FakeSocket implements WebSocketLike {
  binaryType = 'blob'
  readyState = 1
  bufferedAmount = 0
  sent: Uint8Array[] = []
  onsend: (() => void) | null = null
  onopen: ((ev: any) => unknown) | null = null
  onmessage: ((ev: any) => unknown) | null = null
  onclose: ((ev: any) => unknown) | null = null
  onerror: ((ev: any) => unknown) | null = null
  closedWith: number | null = null
  send (data: Uint8Array): void { this.sent.push(data); this.bufferedAmount += data.byteLength; this.onsend?.() }
  close (code?: number): void { this.closedWith = code ?? 1005; this.readyState = 2 }
}

test('outbound backpressure: no message is sent while bufferedAmount is above the high-water mark', async () => {
  const sock = new FakeSocket()
  const s = webSocketStream(sock, { highWaterMark: 100 })
  assert.equal(sock.binaryType, 'arraybuffer')
  assert.equal(s.write(pattern(1, 150)), true)
  s.write(pattern(2, 10))
  s.write(pattern(3, 10))
  await until(() => sock.sent.length >= 1, 'first send')
  // 150 bytes buffered > 100: the second message waits, however long we look.
  await new Promise(resolve => setImmediate(resolve))
  assert.equal(sock.sent.length, 1)
  const more = new Promise<void>(resolve => { sock.onsend = () => { if (sock.sent.length === 3) resolve() } })
  sock.bufferedAmount = 0 // the socket sent it: writes go on
  await more
  assert.deepEqual(sock.sent.map(c => c[0]), [pattern(1, 150)[0], pattern(2, 10)[0], pattern(3, 10)[0]])
  s.destroy()
  await ended(s)
  assert.equal(sock.closedWith, 4000, 'a destroy mid-stream closes with our abort code')
})

test('whenBufferedBelow: synchronous when already below, cancellable while waiting', async () => {
  const sock = { bufferedAmount: 5 }
  let calls = 0
  whenBufferedBelow(sock, 5, () => calls++)
  assert.equal(calls, 1)
  sock.bufferedAmount = 6
  const cancel = whenBufferedBelow(sock, 5, () => calls++)
  cancel()
  sock.bufferedAmount = 0
  await new Promise(resolve => setTimeout(resolve, 20))
  assert.equal(calls, 1, 'a cancelled wait never calls back')
  const p = new Promise<void>(resolve => whenBufferedBelow({ get bufferedAmount () { return calls++ > 3 ? 0 : 1000 } }, 10, resolve))
  await p
})

test('backpressure over a real socket: a reader that stops reading stalls the writer with the socket buffer bounded; resuming delivers every byte in order', async () => {
  const server = await startServer()
  const hwm = 64 * 1024
  const chunk = 64 * 1024
  const client = connectWebSocket(server.url, { highWaterMark: hwm }) as WebSocketStream
  const raw = await server.accept()
  const serverSide = webSocketStream(raw) // nobody reads it yet
  let maxBuffered = 0
  const send = client.socket.send.bind(client.socket)
  client.socket.send = (d: Uint8Array) => { send(d); maxBuffered = Math.max(maxBuffered, client.socket.bufferedAmount) }

  let written = 0
  let waiting = false
  let stalled = false
  const writer = (async () => {
    for (let i = 0; i < 1024 && !stalled; i++) { // at most 64 MiB; the stall comes long before
      const more = client.write(pattern(i, chunk))
      written += chunk
      if (!more) {
        waiting = true
        await new Promise<void>(resolve => client.once('drain', () => resolve()))
        waiting = false
      }
    }
  })()
  // Stalled for good: the server stream is full so its `ws` socket stopped reading from TCP
  // (inbound backpressure), and our writer waits for 'drain' while the client socket holds
  // more than the mark (so our stream is holding the write callback back).
  await until(() => (stalled = raw.isPaused && waiting && client.socket.bufferedAmount > hwm), 'the writer to stall', 20000)
  assert.ok(maxBuffered <= hwm + chunk, `socket buffer bounded: ${maxBuffered} > ${hwm + chunk}`)
  const stallAt = written

  const got: Uint8Array[] = []
  let received = 0
  serverSide.on('data', (c: unknown) => { got.push(c as Uint8Array); received += (c as Uint8Array).byteLength })
  await writer
  await until(() => received >= written, 'every byte to arrive', 30000)
  console.log(`# stalled after ${(stallAt / 1048576).toFixed(1)} MiB written, max bufferedAmount ${maxBuffered}`)
  const all = concat(got)
  assert.equal(all.byteLength, written)
  for (let i = 0; i < written / chunk; i++) {
    assert.deepEqual(Buffer.from(all.subarray(i * chunk, (i + 1) * chunk)), Buffer.from(pattern(i, chunk)), `chunk ${i}`)
  }
  client.destroy()
  serverSide.destroy()
  await server.close()
})

for (const who of ['client', 'server'] as const) {
  test(`${who} end() closes cleanly: both sides end, finish and close with no error, and the last bytes arrive`, async () => {
    const server = await startServer()
    const client = connectWebSocket(server.url)
    const serverSide = webSocketStream(await server.accept())
    const [closer, other] = who === 'client' ? [client, serverSide] : [serverSide, client]
    const got: Uint8Array[] = []
    other.on('data', (c: unknown) => { got.push(c as Uint8Array) })
    closer.resume()
    const endings = Promise.all([ended(closer), ended(other)])
    closer.write(pattern(1, 300_000))
    closer.end(pattern(2, 10))
    const [a, b] = await endings
    assert.equal(a.error, null)
    assert.equal(b.error, null)
    assert.deepEqual(a.events.sort(), ['close', 'end', 'finish'])
    assert.deepEqual(b.events.sort(), ['close', 'end', 'finish'])
    assert.deepEqual(Buffer.from(concat(got)), Buffer.from(concat([pattern(1, 300_000), pattern(2, 10)])))
    await server.close()
  })

  test(`${who} destroy() reaches the peer as CONNECTION_CLOSED`, async () => {
    const server = await startServer()
    const { client, serverSide } = await openPair(server)
    const [closer, other] = who === 'client' ? [client, serverSide] : [serverSide, client]
    other.resume()
    const e = ended(other)
    closer.destroy()
    const { error } = await e
    assert.ok(HypercoreError.is(error, 'CONNECTION_CLOSED'), String(error))
    assert.match(error.message, /4000/)
    await server.close()
  })
}

test('the server dies (TCP reset): the client stream fails with CONNECTION_CLOSED (code 1006)', async () => {
  const server = await startServer()
  const client = connectWebSocket(server.url)
  const serverSide = webSocketStream(await server.accept())
  client.resume()
  serverSide.on('error', () => {})
  const e = ended(client)
  await server.kill()
  const { error } = await e
  assert.ok(HypercoreError.is(error, 'CONNECTION_CLOSED'), String(error))
  assert.match(error.message, /1006/)
})

test('connecting to a port nobody listens on fails with CONNECTION_CLOSED; held writes are not lost silently', async () => {
  const server = await startServer()
  const url = server.url
  await server.close()
  const client = connectWebSocket(url)
  client.write(pattern(1, 10))
  const { error } = await ended(client)
  assert.ok(HypercoreError.is(error, 'CONNECTION_CLOSED'), String(error))
  assert.match(error.message, /could not connect/)
})

test('a text message from the peer is a PROTOCOL_ERROR', async () => {
  const server = await startServer()
  const client = connectWebSocket(server.url)
  const raw = await server.accept()
  client.resume()
  const e = ended(client)
  raw.send('hello')
  const { error } = await e
  assert.ok(HypercoreError.is(error, 'PROTOCOL_ERROR'), String(error))
  await server.close()
})

test('an abort signal destroys a connecting stream with REQUEST_CANCELLED; bad URLs are BAD_ARGUMENT', async () => {
  const server = await startServer()
  const ac = new AbortController()
  const client = connectWebSocket(server.url, { signal: ac.signal })
  const e = ended(client)
  ac.abort()
  const { error } = await e
  assert.ok(HypercoreError.is(error, 'REQUEST_CANCELLED'), String(error))
  assert.throws(() => connectWebSocket('not a url'), (err: unknown) => HypercoreError.is(err, 'BAD_ARGUMENT'))
  await server.close()
})

test('a WebSocket stream is a streamx Duplex (what core.replicate({ stream }) takes)', () => {
  const s = webSocketStream(new FakeSocket())
  assert.ok(s instanceof Duplex)
  s.destroy()
})

test('webSocketStream refuses what is not a WebSocket with BAD_ARGUMENT', () => {
  for (const bad of [null, undefined, 42, {}, { send () {}, close () {} }]) {
    assert.throws(() => webSocketStream(bad as unknown as WebSocketLike), (err: unknown) => HypercoreError.is(err, 'BAD_ARGUMENT'), String(bad))
  }
})
