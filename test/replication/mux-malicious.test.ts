/**
 * @module test/replication/mux-malicious.test
 * A hostile peer against our Mux: what is ignored (unknown types, empty frames, stale ids),
 * what destroys the stream and with which typed error (malformed control frames, duplicate
 * ids, floods past the caps, handler failures), and that memory held for the peer stays
 * bounded while it tries.
 */
import { test } from 'node:test'
import c from 'compact-encoding'
import { Mux, type Channel } from '../../src/replication/mux/index.js'
import { HypercoreError, type ErrorCode } from '../../src/errors.js'
import { channelCodecs, handshake, HYPERCORE_PROTOCOL } from '../../src/wire/messages.js'
import { encodeBatch, encodeItem, encodeFrame, encodeOpen } from '../../src/wire/mux-frames.js'
import { deepEqual, equal, fromHex, ok } from '../helpers/assert.js'
import { loneStream, settle, deferred, type MemoryStream } from './mux-helpers.js'

/** A mux with channel `p` (uint, string) paired with remote id 1. */
function pairedMux (opts = {}): { s: MemoryStream, mux: Mux, ch: Channel, log: unknown[] } {
  const s = loneStream()
  const mux = new Mux(s, opts)
  const log: unknown[] = []
  const ch = mux.createChannel({
    protocol: 'p',
    messages: [
      { encoding: c.uint, onmessage: (m: number) => { log.push(m) } },
      { encoding: c.string, onmessage: (m: string) => { log.push(m) } }
    ]
  })!
  ch.open()
  s.inject(fromHex('000101017000'))
  ok(ch.opened)
  return { s, mux, ch, log }
}

/** The remote opens protocol `x` (no id, no handshake) with channel id `id`. */
function openFrame (id: number): Uint8Array {
  return encodeOpen({ localId: id, protocol: 'x', id: null, handshake: new Uint8Array(0) })
}

function assertDestroyed (s: MemoryStream, mux: Mux, code: ErrorCode, what: string): void {
  equal(mux.destroyed, true, `${what}: destroyed`)
  ok(HypercoreError.is(mux.error, code), `${what}: expected ${code}, got ${String(mux.error)}`)
  equal(s.destroyError, mux.error, `${what}: the stream got the same error`)
}

test('ignored: unknown message types, unknown control types, empty frames, stale or unknown channel ids', () => {
  const { s, mux, log } = pairedMux()
  s.inject(fromHex('0102ffff'))        // type 2: this channel has only 0 and 1
  s.inject(fromHex('01fd0001aa'))      // type 256
  s.inject(fromHex('0004'))            // control type 4
  s.inject(fromHex('00fdffff0102'))    // control type 65535 with a body
  s.inject(new Uint8Array(0))          // keep-alive
  s.inject(fromHex('070005'))          // channel 7 was never opened
  s.inject(fromHex('fe0000010000'))    // channel 65536
  s.inject(fromHex('00030909'))        // close of an id never opened
  s.inject(fromHex('000209'))          // reject of an id we never used
  s.inject(fromHex('010005'))
  equal(mux.destroyed, false)
  deepEqual(log, [5])
  // A batch mixing all of them: only the known message is delivered.
  s.inject(encodeBatch([
    { channel: 1, body: fromHex('09') }, { channel: 0, body: fromHex('07') }, { channel: 1, body: encodeItem(1, fromHex('026869')) }, { channel: 5, body: fromHex('0001') }
  ]))
  equal(mux.destroyed, false)
  deepEqual(log, [5, 'hi'])
})

test('malformed control frames and messages destroy the stream with DECODING_ERROR', () => {
  const cases: Array<[string, string]> = [
    ['00', 'control frame without a type'],
    ['0001', 'open without a body'],
    ['000100017000', 'open with channel id 0'],
    ['0001010a70', 'open whose protocol runs past the end'],
    ['00010101700a00', 'open whose id runs past the end'],
    ['0002', 'reject without an id'],
    ['0003fd01', 'close with a cut varint'],
    ['000001', 'batch: ok so far'], // valid: a batch with no items
    ['00000105000700', 'batch item past the end'],
    ['0000010300000101', 'batch inside a batch'],
    ['000001fe ffffffff 00'.replace(/ /g, ''), 'batch item of 4 GiB'],
    ['ff0000000000002001', 'channel id above 2^53'],
    ['01', 'message without a type'],
    ['0100', 'uint message without a body'],
    ['0100fe0100', 'uint message with a cut varint'],
    ['01010a6869', 'string longer than the frame']
  ]
  for (const [h, what] of cases) {
    const { s, mux } = pairedMux()
    s.inject(fromHex(h))
    if (what === 'batch: ok so far') {
      equal(mux.destroyed, false, what)
      continue
    }
    assertDestroyed(s, mux, 'DECODING_ERROR', what)
  }
})

test('a malformed batch dispatches nothing, even its valid first items', () => {
  const { s, mux, log } = pairedMux()
  s.inject(fromHex('000001' + '020005' + '020006' + '09ff'))
  assertDestroyed(s, mux, 'DECODING_ERROR', 'bad tail')
  deepEqual(log, [])
})

test('a bad handshake and a bad hypercore message are DECODING_ERROR', async () => {
  const s = loneStream()
  const mux = new Mux(s)
  const ch = mux.createChannel({ protocol: HYPERCORE_PROTOCOL, handshake, messages: channelCodecs.map((encoding) => ({ encoding })) })!
  ch.open({ seeks: true, capability: new Uint8Array(32) })
  s.inject(fromHex('0001010f6879706572636f72652f616c70686100' + '01' + 'ab'.repeat(31)))
  assertDestroyed(s, mux, 'DECODING_ERROR', 'handshake with a 31-byte capability')

  const s2 = loneStream()
  const mux2 = new Mux(s2)
  const ch2 = mux2.createChannel({ protocol: HYPERCORE_PROTOCOL, handshake, messages: channelCodecs.map((encoding) => ({ encoding })) })!
  ch2.open({ seeks: true, capability: new Uint8Array(32) })
  s2.inject(fromHex('0001010f6879706572636f72652f616c70686100' + '01' + 'ab'.repeat(32)))
  ok(ch2.opened)
  s2.inject(fromHex('0107000300000000')) // bitfield start 0, 3 words, only 1 present
  assertDestroyed(s2, mux2, 'DECODING_ERROR', 'truncated bitfield')

  // A remote-first open whose handshake is bad: found when we open, destroys, does not throw.
  const s3 = loneStream()
  const mux3 = new Mux(s3)
  mux3.pair({ protocol: HYPERCORE_PROTOCOL }, () => {
    mux3.createChannel({ protocol: HYPERCORE_PROTOCOL, handshake })!.open({ seeks: true, capability: new Uint8Array(32) })
  })
  s3.inject(fromHex('0001010f6879706572636f72652f616c70686100' + '01ab'))
  await settle()
  assertDestroyed(s3, mux3, 'DECODING_ERROR', 'remote-first bad handshake')
})

test('an id opened twice is PROTOCOL_ERROR', () => {
  const { s, mux } = pairedMux()
  s.inject(fromHex('000101017100'))
  assertDestroyed(s, mux, 'PROTOCOL_ERROR', 'second open on remote id 1')
})

test('thousands of opens: rejected at once without a handler (nothing kept); with a slow handler, PROTOCOL_ERROR at the cap', async () => {
  const { s, mux } = pairedMux()
  for (let i = 2; i < 20002; i++) s.inject(openFrame(i))
  equal(mux.destroyed, false)
  equal(s.written.length, 1 + 20000, 'one reject per open')
  deepEqual(mux.stats, { channels: 1, remoteChannels: 1, unpairedChannels: 0, unpairedBytes: 0, batchedBytes: 0 })

  const s2 = loneStream()
  const mux2 = new Mux(s2, { maxUnpairedChannels: 1000 })
  const never = deferred()
  mux2.pair({ protocol: 'x' }, () => never.promise)
  let i = 1
  let peak = 0
  for (; i <= 5000 && !mux2.destroyed; i++) {
    s2.inject(openFrame(i))
    peak = Math.max(peak, mux2.stats.unpairedChannels)
  }
  assertDestroyed(s2, mux2, 'PROTOCOL_ERROR', 'unpaired channel flood')
  equal(i - 1, 1001, 'destroyed on the first open past the cap')
  equal(peak, 1000)
  deepEqual(mux2.stats, { channels: 0, remoteChannels: 0, unpairedChannels: 0, unpairedBytes: 0, batchedBytes: 0 })
})

test('flooding messages on an unpaired channel: PROTOCOL_ERROR once the held bytes pass the cap, never more held', () => {
  const s = loneStream()
  const cap = 256 * 1024
  const mux = new Mux(s, { maxUnpairedBytes: cap })
  mux.pair({ protocol: 'x' }, () => new Promise(() => {}))
  s.inject(fromHex('000101017800'))
  const msg = encodeFrame(1, 0, new Uint8Array(1024))
  let sent = 0
  let peak = 0
  while (!mux.destroyed && sent < 10000) {
    s.inject(msg)
    sent++
    peak = Math.max(peak, mux.stats.unpairedBytes)
  }
  assertDestroyed(s, mux, 'PROTOCOL_ERROR', 'unpaired message flood')
  ok(peak <= cap, `held ${peak} bytes`)
  ok(sent > 200 && sent < 260, `destroyed after ${sent} messages`)
  equal(mux.stats.unpairedBytes, 0, 'released on destroy')
})

test('huge counts: a batch of 500,000 one-byte items costs time, not memory, is not an error, and is dispatched in slices that let the event loop run', async () => {
  const { s, mux, log } = pairedMux()
  const n = 500000
  const payload = new Uint8Array(3 + 2 * n + 3)
  payload.set([0, 0, 1])
  for (let i = 0; i < n; i++) payload.set([1, 9], 3 + 2 * i) // type 9: unknown on this channel
  payload.set([2, 0, 7], 3 + 2 * n) // then uint 7
  const before = process.memoryUsage().heapUsed
  const t = performance.now()
  let ticks = 0
  let last = performance.now()
  let worst = 0
  const probe = setInterval(() => { const now = performance.now(); worst = Math.max(worst, now - last); last = now; ticks++ }, 1)
  s.inject(payload)
  while (log.length === 0 && !mux.destroyed) await new Promise(resolve => setTimeout(resolve, 1))
  clearInterval(probe)
  const ms = performance.now() - t
  const grew = process.memoryUsage().heapUsed - before
  equal(mux.destroyed, false)
  deepEqual(log, [7])
  ok(grew < 32 * 1024 * 1024, `heap grew ${grew} bytes`)
  ok(ms < 4000, `took ${ms} ms`)
  ok(worst < 100, `the event loop waited ${worst.toFixed(0)} ms at most`)
})

test('handler failures: a HypercoreError passes through, anything else becomes ASSERTION; a throwing pair handler destroys', async () => {
  const { s, mux, ch } = pairedMux()
  ch.messages[0].onmessage = () => { throw HypercoreError.INVALID_CAPABILITY('bad cap') }
  s.inject(fromHex('010001'))
  assertDestroyed(s, mux, 'INVALID_CAPABILITY', 'typed handler error')

  const p = pairedMux()
  p.ch.messages[1].onmessage = async () => { throw new TypeError('bug') }
  p.s.inject(fromHex('01010161'))
  await settle()
  assertDestroyed(p.s, p.mux, 'ASSERTION', 'plain async handler error')
  ok(p.mux.error?.cause instanceof TypeError)

  const s3 = loneStream()
  const mux3 = new Mux(s3)
  mux3.pair({ protocol: 'x' }, () => { throw new Error('notify failed') })
  s3.inject(fromHex('000101017800'))
  assertDestroyed(s3, mux3, 'ASSERTION', 'throwing pair handler')

  // After the channel closed, its late errors are dropped.
  const q = pairedMux()
  const gate = deferred()
  q.ch.messages[0].onmessage = async () => { await gate.promise; throw new Error('late') }
  q.s.inject(fromHex('010001'))
  q.ch.close()
  gate.resolve()
  await settle()
  equal(q.mux.destroyed, false)
})

test('not a Uint8Array from the stream: BAD_ARGUMENT; frames after destroy are ignored', () => {
  const s = loneStream()
  const mux = new Mux(s)
  s.emit('data', 'hello')
  assertDestroyed(s, mux, 'BAD_ARGUMENT', 'string frame')
  s.inject(fromHex('00'))
  equal(mux.error?.code, 'BAD_ARGUMENT')
})
