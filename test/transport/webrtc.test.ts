/**
 * @module test/transport/webrtc
 * The WebRTC byte stream in Node (`@roamhq/wrtc`), two peers signaling in-process (signals
 * go through JSON as a signaling server would carry them): bytes both ways before the channel
 * opens, 8 MiB in order under backpressure with messages ≤ 16 KiB, half close then clean
 * close on both sides, destroy mid-transfer → typed error on the other side, a bad signal →
 * WEBRTC_FAILED, and two of our cores replicating over it.
 */
import { test } from 'node:test'
import assert from 'node:assert'
import { createRequire } from 'node:module'
import { createWebRtcPeer, toMessages, HIGH_WATER, MAX_MESSAGE } from '../../src/transport/webrtc.js'
import type { WebRtcPeer, WebRtcPeerOptions } from '../../src/transport/types.js'
import { HypercoreError } from '../../src/errors.js'
import { Hypercore } from '../../src/core/hypercore.js'
import { MemoryStorage } from '../../src/storage/memory.js'

const require = createRequire(import.meta.url)
const wrtc = require('@roamhq/wrtc') as unknown

function pair (opts: Partial<WebRtcPeerOptions> = {}): { a: WebRtcPeer, b: WebRtcPeer, signals: { a: number, b: number } } {
  const a = createWebRtcPeer({ initiator: true, wrtc, ...opts })
  const b = createWebRtcPeer({ initiator: false, wrtc, ...opts })
  const signals = { a: 0, b: 0 }
  a.onSignal(d => { signals.a++; b.signal(JSON.parse(JSON.stringify(d))) })
  b.onSignal(d => { signals.b++; a.signal(JSON.parse(JSON.stringify(d))) })
  return { a, b, signals }
}

function event (emitter: any, name: string, ms = 10_000): Promise<any[]> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no '${name}' within ${ms} ms`)), ms)
    emitter.once(name, (...args: any[]) => { clearTimeout(t); resolve(args) })
  })
}

function readAll (stream: any): { chunks: Uint8Array[], ended: Promise<void> } {
  const chunks: Uint8Array[] = []
  stream.on('data', (c: Uint8Array) => chunks.push(c))
  return { chunks, ended: event(stream, 'end', 60_000).then(() => {}) }
}

const concat = (chunks: Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0))
  let at = 0
  for (const c of chunks) { out.set(c, at); at += c.byteLength }
  return out
}

/** Deterministic bytes (xorshift) so order and content are checked, not just the length. */
function pattern (n: number, seed = 1): Uint8Array {
  const out = new Uint8Array(n)
  let x = seed
  for (let i = 0; i < n; i++) { x ^= x << 13; x ^= x >>> 17; x ^= x << 5; out[i] = x & 0xff }
  return out
}

test('toMessages slices big writes and coalesces small ones, never above max', () => {
  const input = [new Uint8Array(40), new Uint8Array(3).fill(1), new Uint8Array(5).fill(2), new Uint8Array(0), new Uint8Array(25).fill(3)]
  const msgs = toMessages(input, 16)
  assert.deepEqual(msgs.map(m => m.byteLength), [16, 16, 16, 16, 9])
  assert.deepEqual(concat(msgs), concat(input))
})

test('bytes both ways, written before the channel opens; trickle: false sends one signal per side', async () => {
  const { a, b, signals } = pair({ trickle: false })
  a.stream.write(new TextEncoder().encode('hello from a'))
  b.stream.write(new TextEncoder().encode('hello from b'))
  const [fromA] = await event(b.stream, 'data')
  const [fromB] = await event(a.stream, 'data')
  assert.equal(new TextDecoder().decode(fromA), 'hello from a')
  assert.equal(new TextDecoder().decode(fromB), 'hello from b')
  assert.ok(fromA instanceof Uint8Array)
  assert.deepEqual(signals, { a: 1, b: 1 })
  a.destroy(); b.destroy()
})

test('8 MiB in order with backpressure, messages ≤ 16 KiB, then a clean close on both sides', async () => {
  const { a, b } = pair()
  const total = 8 * 2 ** 20
  const data = pattern(total)
  const received = readAll(b.stream)
  const errors: unknown[] = []
  a.stream.on('error', e => errors.push(e))
  b.stream.on('error', e => errors.push(e))

  await event((a.stream as any)._peer, 'connect')
  // Watch the data channel's buffer at every send: it must stay near the high-water mark.
  const channel = (a.stream as any)._channel
  let maxBuffered = 0
  const send = channel.send.bind(channel)
  channel.send = (m: Uint8Array) => { maxBuffered = Math.max(maxBuffered, channel.bufferedAmount); send(m) }

  let backpressured = 0
  let off = 0
  let size = 1
  while (off < total) {
    size = (size * 7919 + 13) % 100_000 + 1 // 1 B .. ~100 KiB, varied
    const n = Math.min(size, total - off)
    if (!a.stream.write(data.subarray(off, off + n))) {
      backpressured++
      await event(a.stream, 'drain')
    }
    off += n
  }
  a.stream.end(null)
  await received.ended
  const got = concat(received.chunks)
  assert.equal(got.byteLength, total)
  assert.ok(Buffer.from(got).equals(Buffer.from(data)), 'bytes arrive in order')
  const biggest = Math.max(...received.chunks.map(c => c.byteLength))
  assert.equal(biggest, MAX_MESSAGE, 'messages are 16 KiB at most (and small writes are coalesced up to it)')
  assert.ok(backpressured > 0, 'writes saw backpressure')
  assert.ok(maxBuffered <= HIGH_WATER, `channel buffered ${maxBuffered} bytes before a send`)

  // Half close: b can still write after a ended; a reads it, then both close without error.
  const back = readAll(a.stream)
  b.stream.end(new TextEncoder().encode('bye'))
  await back.ended
  assert.equal(new TextDecoder().decode(concat(back.chunks)), 'bye')
  await Promise.all([a.stream.destroyed ? null : event(a.stream, 'close'), b.stream.destroyed ? null : event(b.stream, 'close')])
  assert.deepEqual(errors, [])
  // The connection itself goes away too (simple-peer destroyed on both sides).
  const peers = [(a.stream as any)._peer, (b.stream as any)._peer]
  await Promise.all(peers.map(p => p.destroyed ? null : event(p, 'close')))
})

for (const side of ['writer', 'reader'] as const) {
  test(`destroy mid-transfer (${side}) → the other side fails with CONNECTION_CLOSED within 5 s`, async () => {
    const { a, b } = pair()
    const chunk = pattern(64 * 1024)
    let stop = false
    let received = 0
    const pump = async (): Promise<void> => {
      while (!stop && !a.stream.destroying) {
        if (!a.stream.write(chunk)) await new Promise<void>(resolve => a.stream.once('drain', resolve))
      }
    }
    a.stream.on('error', () => {})
    b.stream.on('error', () => {})
    a.stream.on('close', () => (a.stream as any).emit('drain')) // ends a pump waiting on a dead stream
    void pump()
    await new Promise<void>(resolve => {
      b.stream.on('data', (c: unknown) => { received += (c as Uint8Array).byteLength; if (received >= 2 ** 20) resolve() })
    })
    const [victim, other] = side === 'writer' ? [a, b] : [b, a]
    const t0 = Date.now()
    const failed = event(other.stream, 'error', 5000)
    const closed = event(other.stream, 'close', 5000)
    victim.destroy()
    const [err] = await failed
    stop = true
    assert.ok(HypercoreError.is(err, 'CONNECTION_CLOSED'), `got ${String(err)}`)
    assert.ok(Date.now() - t0 < 5000)
    await closed
  })
}

test('a bad signal destroys the stream with WEBRTC_FAILED; signals after destroy are ignored', async () => {
  const a = createWebRtcPeer({ initiator: true, wrtc })
  a.onSignal(() => {})
  const failed = event(a.stream, 'error')
  a.signal({ type: 'answer', sdp: 'v=0 not an sdp' })
  const [err] = await failed
  assert.ok(HypercoreError.is(err, 'WEBRTC_FAILED'), `got ${String(err)}`)
  a.signal({ type: 'answer', sdp: 'late' }) // no throw
})

test('ICE servers: none by default (never simple-peer\'s public STUN), configurable; a failing RTCPeerConnection → WEBRTC_FAILED', async () => {
  const configs: unknown[] = []
  // A WebRTC implementation that records the configuration and refuses to start.
  const recording = { RTCPeerConnection: class { constructor (config: unknown) { configs.push(config); throw new Error('no WebRTC here') } } }
  const turn = [{ urls: 'turn:turn.example.org:3478', username: 'u', credential: 'c' }]
  for (const opts of [{}, { iceServers: turn }]) {
    const p = createWebRtcPeer({ initiator: true, wrtc: recording, ...opts })
    const [err] = await event(p.stream, 'error')
    assert.ok(HypercoreError.is(err, 'WEBRTC_FAILED'), `got ${String(err)}`)
  }
  assert.deepEqual(configs.map(c => (c as { iceServers: unknown }).iceServers), [[], turn])
})

test('destroying before the connection opens fails pending writes with a typed error', async () => {
  const a = createWebRtcPeer({ initiator: true, wrtc })
  a.stream.write(new Uint8Array([1, 2, 3]))
  const closed = event(a.stream, 'close')
  const failed = event(a.stream, 'error')
  a.destroy(HypercoreError.CONNECTION_CLOSED('test'))
  const [err] = await failed
  assert.ok(HypercoreError.is(err, 'CONNECTION_CLOSED'))
  await closed
})

test('two of our cores replicate over it (core.replicate(isInitiator, { stream }))', async () => {
  const w = new Hypercore(() => new MemoryStorage())
  await w.ready()
  const blocks = Array.from({ length: 200 }, (_, i) => pattern(4096 + i, i + 1))
  await w.append(blocks)
  const r = new Hypercore(() => new MemoryStorage(), w.key!)
  await r.ready()
  const { a, b } = pair()
  w.replicate(true, { stream: a.stream as any, keepAlive: false })
  r.replicate(false, { stream: b.stream as any, keepAlive: false })
  await r.update({ wait: true })
  assert.equal(r.length, 200)
  await r.download({ start: 0, end: 200 }).done()
  for (let i = 0; i < 200; i++) {
    const got = await r.get(i) as Uint8Array
    assert.ok(Buffer.from(got).equals(Buffer.from(blocks[i])), `block ${i}`)
  }
  // Closing a core does not end the connection (as in hypercore@10): the owner destroys it.
  await r.close()
  await w.close()
  const closed = [event(a.stream, 'close'), event(b.stream, 'close')]
  a.destroy()
  await Promise.all(closed)
})
