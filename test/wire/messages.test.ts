/**
 * @module test/wire/messages.test
 * Channel message codecs and Protomux frame layouts against the vectors made by
 * hypercore@10 (vectors.json → compactEncoding) and every frame of the recorded wire
 * transcript: decode, compare with the recorded decoding, re-encode, compare bytes.
 */
import { test } from 'node:test'
import { vectors, utf8 } from '../vectors/fixtures.js'
import { bytesEqual, deepEqual, equal, fromHex, hex, throwsWithCode, ok } from '../helpers/assert.js'
import {
  MessageType, ControlType, HYPERCORE_PROTOCOL, MESSAGE_NAMES, MAX_BITFIELD_WORDS, channelCodecs,
  sync, range, want, unwant, bitfield, extension, cancel, noData, handshake,
  encodeMessage, decodeMessage, encodeHandshake, decodeHandshake, type AnyChannelMessage
} from '../../src/wire/messages.js'
import { encode, decode, readUint, type Codec } from '../../src/wire/codec.js'
import {
  decodeFrame, deferItem, encodeFrame, encodeItem, encodeBatch, walkBatch, countBatchItems, decodeOpenBody, encodeOpen,
  encodeReject, encodeClose, decodeChannelIdBody, type BatchItem
} from '../../src/wire/mux-frames.js'
import { recordedFrames, toJson, fromJson, withV11Defaults } from './transcript-frames.js'

const ce = vectors.compactEncoding

test('message type numbers and names match the §5.6 table', () => {
  deepEqual(Object.values(MessageType), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
  deepEqual(MESSAGE_NAMES.map((n, i) => [n, i]), [['sync', 0], ['request', 1], ['cancel', 2], ['data', 3], ['noData', 4], ['want', 5], ['unwant', 6], ['bitfield', 7], ['range', 8], ['extension', 9]])
  deepEqual(ControlType, { BATCH: 0, OPEN: 1, REJECT: 2, CLOSE: 3 })
  equal(channelCodecs.length, 10)
  equal(channelCodecs[MessageType.SYNC], sync)
})

test('uint vectors decode to their values', () => {
  for (const [value, h] of Object.entries(ce.uint as Record<string, string>)) {
    equal(readUint({ start: 0, end: h.length / 2, buffer: fromHex(h) }), Number(value), h)
  }
  bytesEqual(utf8(HYPERCORE_PROTOCOL), ce.string_hypercore_alpha.slice(2))
  // 2^53 + 1 is not a safe integer: refused rather than rounded.
  throwsWithCode(() => decode(cancel, fromHex('ff0100000000002000')), 'DECODING_ERROR')
})

test('compactEncoding vectors: byte-exact both ways', () => {
  const cases: Array<[string, AnyChannelMessage]> = [
    ['sync', { type: 0, message: { fork: 0, length: 3, remoteLength: 0, canUpgrade: true, uploading: true, downloading: true, hasManifest: false, allowPush: false } }],
    ['range_single', { type: 8, message: { drop: false, start: 5, length: 1 } }],
    ['range_multi', { type: 8, message: { drop: false, start: 0, length: 3 } }],
    ['want', { type: 5, message: { start: 0, length: 2097152, any: false } }],
    ['bitfield', { type: 7, message: { start: 0, bitfield: new Uint32Array([7, 0]) } }],
    ['extension', { type: 9, message: { name: 'foo', message: utf8('bar') } }],
    ['cancel', { type: 2, message: { request: 7 } }],
    ['noData', { type: 4, message: { request: 7, reason: null } }]
  ]
  for (const [name, m] of cases) {
    bytesEqual(encodeMessage(m.type, m.message as never), ce[name], name)
    deepEqual(toJson(decodeMessage(m.type, fromHex(ce[name]))), toJson(m), name)
  }
  // §5.6: request{id 1, fork 0, block{0,0}, upgrade{0,3}} = 09 01 00 00 00 00 03
  const req = { id: 1, fork: 0, block: { index: 0, nodes: 0 }, hash: null, seek: null, upgrade: { start: 0, length: 3 }, manifest: false, priority: 0 }
  bytesEqual(encodeMessage(MessageType.REQUEST, req), '09010000000003')
  deepEqual(decodeMessage(1, fromHex('09010000000003'))?.message, req)
})

test('v11 trailing fields: tolerated by decoders, emitted only when set', () => {
  deepEqual(decode(noData, fromHex('0700')), { request: 7, reason: null })
  deepEqual(decode(noData, fromHex('070103')), { request: 7, reason: 3 })
  bytesEqual(encode(noData, { request: 7, reason: 3 }), '070103')
  deepEqual(decode(want, fromHex('000401')), { start: 0, length: 4, any: true })
  deepEqual(decode(unwant, fromHex('000400')), { start: 0, length: 4, any: false })
  bytesEqual(encode(unwant, { start: 0, length: 4, any: true }), '000401')
  // sync bit4 allowPush, and bytes after a known layout are ignored (forward compatibility).
  deepEqual(decode(sync, fromHex('17000300ffff')).allowPush, true)
  bytesEqual(encode(sync, decode(sync, fromHex('17000300'))), '17000300')
  deepEqual(decode(cancel, fromHex('0509')), { request: 5 })
})

test('range: length 1 sets flag bit1 and drops the length; drop flag', () => {
  bytesEqual(encode(range, { drop: true, start: 9, length: 1 }), '0309')
  bytesEqual(encode(range, { drop: true, start: 9, length: 0 }), '010900')
  deepEqual(decode(range, fromHex('0309')), { drop: true, start: 9, length: 1 })
})

test('bitfield: little-endian words at any alignment, start multiple of 32, capped at one segment', () => {
  const words = new Uint32Array([0x4000001c, 0, 0xffffffff])
  const enc = encode(bitfield, { start: 64, bitfield: words })
  bytesEqual(enc, '40031c000040' + '00000000' + 'ffffffff')
  // Unaligned: decode from a view at an odd offset.
  const shifted = new Uint8Array(enc.length + 1)
  shifted.set(enc, 1)
  deepEqual(Array.from(decode(bitfield, shifted.subarray(1)).bitfield), Array.from(words))
  throwsWithCode(() => decode(bitfield, fromHex('0101' + '00000000')), 'DECODING_ERROR', 'start not a multiple of 32')
  throwsWithCode(() => decode(bitfield, fromHex('0002' + '00000000')), 'DECODING_ERROR', 'truncated')
  throwsWithCode(() => decode(bitfield, fromHex('00fe01000100')), 'DECODING_ERROR', `more than ${MAX_BITFIELD_WORDS} words`)
  // The full segment (what JS sends at most) is fine.
  const seg = new Uint32Array(MAX_BITFIELD_WORDS)
  seg[MAX_BITFIELD_WORDS - 1] = 5
  equal(decode(bitfield, encode(bitfield, { start: 2097152, bitfield: seg })).bitfield[MAX_BITFIELD_WORDS - 1], 5)
})

test('extension and handshake', () => {
  deepEqual(decode(extension, fromHex('00')), { name: '', message: new Uint8Array(0) })
  const cap = new Uint8Array(32).fill(0xab)
  bytesEqual(encodeHandshake({ seeks: true, capability: cap }), '01' + 'ab'.repeat(32))
  deepEqual(decodeHandshake(fromHex('00' + 'ab'.repeat(32))), { seeks: false, capability: cap })
  throwsWithCode(() => decode(handshake, fromHex('01' + 'ab'.repeat(31))), 'DECODING_ERROR')
})

test('unknown message types decode to null; malformed bodies are DECODING_ERROR', () => {
  equal(decodeMessage(10, fromHex('00')), null)
  equal(decodeMessage(1000, new Uint8Array(0)), null)
  for (let type = 0; type < 10; type++) {
    throwsWithCode(() => decodeMessage(type, new Uint8Array(0)), 'DECODING_ERROR', `type ${type} empty`)
    throwsWithCode(() => decodeMessage(type, fromHex('fd')), 'DECODING_ERROR', `type ${type} cut varint`)
  }
  throwsWithCode(() => encodeMessage(12 as never, {} as never), 'BAD_ARGUMENT')
})

/** Decodes one recorded frame into the transcript's JSON shape, and rebuilds its bytes from that. */
function roundTrip (frame: Uint8Array): { decoded: unknown[], reencoded: Uint8Array } {
  const top = decodeFrame(frame)
  if (top.channel === 0 && top.type === ControlType.OPEN) {
    const open = decodeOpenBody(top.payload)
    const hs = decodeHandshake(open.handshake)
    const decoded = [{ control: 'open', localId: open.localId, protocol: open.protocol, id: hex(open.id as Uint8Array), handshake: toJson(hs) }]
    const reencoded = encodeOpen({ localId: open.localId, protocol: open.protocol, id: open.id, handshake: encodeHandshake(hs) })
    return { decoded, reencoded }
  }
  if (top.channel === 0 && top.type === ControlType.BATCH) {
    const decoded: unknown[] = []
    const items: BatchItem[] = []
    const deferred: BatchItem[] = []
    walkBatch(top.payload, (channel, body) => {
      const { type, payload } = decodeFrame(body, channel)
      const m = decodeMessage(type, payload)
      ok(m !== null)
      decoded.push({ batched: true, channel, type, name: MESSAGE_NAMES[type], msg: toJson(m.message) })
      items.push({ channel, body: encodeItem(type, encodeMessage(m.type, m.message as never)) })
      deferred.push(deferItem(channel, type, channelCodecs[type] as Codec<unknown>, m.message))
    })
    const reencoded = encodeBatch(items)
    // The same batch with its messages encoded in place (mux `deferred`): the same bytes.
    bytesEqual(encodeBatch(deferred), hex(reencoded), 'deferred items')
    bytesEqual(encodeBatch(items.map((item, i) => i % 2 === 0 ? item : deferred[i]!)), hex(reencoded), 'encoded and deferred items mixed')
    return { decoded, reencoded }
  }
  const m = decodeMessage(top.type, top.payload)
  ok(m !== null)
  return {
    decoded: [{ channel: top.channel, type: top.type, name: MESSAGE_NAMES[top.type], msg: toJson(m.message) }],
    reencoded: encodeFrame(top.channel, top.type, encodeMessage(m.type, m.message as never))
  }
}

test('wire transcript: every recorded frame decodes as recorded and re-encodes to the same bytes', () => {
  equal(recordedFrames.length, 19)
  let messages = 0
  for (const f of recordedFrames) {
    const { decoded, reencoded } = roundTrip(f.bytes)
    const expected = f.decoded.map((d) => d.msg === undefined ? d : { ...d, msg: withV11Defaults(d.name, d.msg) })
    deepEqual(decoded, expected, `seq ${f.seq}`)
    bytesEqual(reencoded, f.bytes, `seq ${f.seq}`)
    messages += decoded.length
  }
  equal(messages, 20)
})

test('wire transcript: values built from the recorded JSON encode to the recorded bytes', () => {
  for (const f of recordedFrames) {
    for (const d of f.decoded) {
      if (d.control !== undefined || d.batched) continue
      const value = fromJson(withV11Defaults(d.name, d.msg))
      bytesEqual(encodeFrame(d.channel, d.type, encodeMessage(d.type, value as never)), f.bytes, `seq ${f.seq}`)
    }
  }
})

test('§5.5 worked bytes: batch 00 00 01 05 00 07 00 00 00, and the control frames', () => {
  const body = encodeItem(MessageType.SYNC, encode(sync, { fork: 0, length: 0, remoteLength: 0, canUpgrade: true, uploading: true, downloading: true, hasManifest: false, allowPush: false }))
  bytesEqual(encodeBatch([{ channel: 1, body }]), '000001050007000000')
  // A channel switch is `00 ‖ uint channel`; channel 0 items are control messages without their 0.
  const open = encodeItem(ControlType.OPEN, fromHex('0101780000'))
  const batch = encodeBatch([{ channel: 0, body: open }, { channel: 1, body }, { channel: 300, body }])
  bytesEqual(batch, '000000' + '06' + '010101780000' + '0001' + '050007000000' + '00fd2c01' + '050007000000')
  const seen: Array<[number, string]> = []
  walkBatch(decodeFrame(batch).payload, (ch, b) => { seen.push([ch, hex(b)]) })
  deepEqual(seen, [[0, '010101780000'], [1, '0007000000'], [300, '0007000000']])
  equal(countBatchItems(decodeFrame(batch).payload), 3)
  bytesEqual(encodeReject(1), '000201')
  bytesEqual(encodeClose(300), '0003fd2c01')
  equal(decodeChannelIdBody(fromHex('fd2c01')), 300)
  deepEqual(decodeOpenBody(fromHex('01017800')), { localId: 1, protocol: 'x', id: null, handshake: new Uint8Array(0) })
  throwsWithCode(() => decodeOpenBody(fromHex('00017800')), 'DECODING_ERROR', 'open with id 0')
  throwsWithCode(() => countBatchItems(fromHex('0105000700')), 'DECODING_ERROR', 'item past the end')
  throwsWithCode(() => encodeBatch([]), 'BAD_ARGUMENT')
})
