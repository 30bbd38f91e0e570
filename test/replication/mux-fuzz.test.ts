/**
 * @module test/replication/mux-fuzz.test
 * Fuzzing the wire decoders and the mux frame decoder with over a million random and
 * mutated inputs (mutations of real transcript frames and of frames our mux writes), in
 * bounded time. The only thing asserted: nothing but a HypercoreError ever escapes, and a
 * destroyed mux always holds a HypercoreError. Deterministic (seeded), so a failure replays.
 */
import { test } from 'node:test'
import c from 'compact-encoding'
import { Mux } from '../../src/replication/mux/index.js'
import { HypercoreError } from '../../src/errors.js'
import { channelCodecs, decodeMessage, decodeHandshake, handshake, HYPERCORE_PROTOCOL } from '../../src/wire/messages.js'
import { countBatchItems, decodeFrame, decodeOpenBody, decodeChannelIdBody, encodeBatch, encodeItem, encodeOpen } from '../../src/wire/mux-frames.js'
import { equal, fromHex, ok } from '../helpers/assert.js'
import { vectors } from '../vectors/fixtures.js'
import { recordedFrames } from '../wire/transcript-frames.js'
import { loneStream, type MemoryStream } from './mux-helpers.js'

/** xorshift32: small, fast, seeded. */
function rng (seed: number): () => number {
  let x = seed >>> 0 || 1
  return () => {
    x ^= x << 13
    x >>>= 0
    x ^= x >>> 17
    x ^= x << 5
    x >>>= 0
    return x
  }
}

const seeds: Uint8Array[] = [
  ...recordedFrames.map((f) => f.bytes),
  ...Object.entries(vectors.compactEncoding).filter(([, v]) => typeof v === 'string').map(([, v]) => fromHex(v as string)),
  encodeOpen({ localId: 1, protocol: 'p', id: new Uint8Array([1, 2]), handshake: fromHex('05') }),
  encodeBatch([{ channel: 0, body: encodeItem(1, fromHex('027800')) }, { channel: 2, body: encodeItem(0, fromHex('05')) }, { channel: 1, body: fromHex('0700') }]),
  fromHex('000201'), fromHex('000301'), fromHex('0107000103000000'), fromHex('01090366 6f6f 626172'.replace(/ /g, ''))
]
const VARINT_PREFIXES = [0xfc, 0xfd, 0xfe, 0xff, 0x00, 0x01]

/** One fuzz input: random bytes, or a seed frame with 1–4 mutations. Kept small (≤ ~300 bytes). */
function makeInput (next: () => number): Uint8Array {
  const r = next()
  if (r % 8 === 0) {
    const out = new Uint8Array(next() % 24)
    for (let i = 0; i < out.length; i++) out[i] = next() & 255
    return out
  }
  let buf = Array.from(seeds[next() % seeds.length])
  const mutations = 1 + (next() % 4)
  for (let m = 0; m < mutations; m++) {
    const pos = buf.length === 0 ? 0 : next() % buf.length
    switch (next() % 8) {
      case 0: if (buf.length) buf[pos] ^= 1 << (next() % 8); break
      case 1: if (buf.length) buf[pos] = next() & 255; break
      case 2: buf.splice(pos, 0, next() & 255); break
      case 3: buf.splice(pos, 1 + (next() % 4)); break
      case 4: buf = buf.slice(0, pos); break
      case 5: if (buf.length) buf[pos] = VARINT_PREFIXES[next() % VARINT_PREFIXES.length]; break
      case 6: { const other = seeds[next() % seeds.length]; buf = buf.slice(0, pos).concat(Array.from(other.subarray(next() % (other.length || 1)))); break }
      default: { const a = next() % (buf.length + 1); buf.splice(pos, 0, ...buf.slice(a, a + 8)) }
    }
  }
  return Uint8Array.from(buf)
}

/** Building stack traces is most of the cost of a refused input, and they are not under test. */
function withoutStacks (fn: () => void): void {
  const limit = Error.stackTraceLimit
  Error.stackTraceLimit = 0
  try {
    fn()
  } finally {
    Error.stackTraceLimit = limit
  }
}

function mustBeTyped (err: unknown, input: Uint8Array, where: string): void {
  if (!(err instanceof HypercoreError)) {
    throw new Error(`${where}: a non-HypercoreError escaped for input ${Buffer.from(input).toString('hex')}: ${String(err)}`)
  }
}

test('fuzz: 1,000,000 inputs to the frame and message decoders, only HypercoreError escapes', () => {
  const next = rng(0x5eed)
  const N = 1_000_000
  let decodedOk = 0
  let rejected = 0
  const t = performance.now()
  withoutStacks(() => { for (let i = 0; i < N; i++) {
    const input = makeInput(next)
    try {
      if (i % 4 === 3) {
        // Every fourth input goes straight into one message decoder (no frame header).
        decodeMessage(i % 10, input)
      } else {
        const { channel, type, payload } = decodeFrame(input)
        if (channel === 0 && type === 0) countBatchItems(payload)
        else if (channel === 0 && type === 1) decodeHandshake(decodeOpenBody(payload).handshake)
        else if (channel === 0) decodeChannelIdBody(payload)
        else decodeMessage(type % 11, payload)
      }
      decodedOk++
    } catch (err) {
      mustBeTyped(err, input, 'decoders')
      rejected++
    }
  } })
  const ms = performance.now() - t
  console.log(`# fuzz decoders: ${N} inputs in ${ms.toFixed(0)} ms: ${decodedOk} decoded, ${rejected} DECODING_ERROR`)
  equal(decodedOk + rejected, N)
  ok(decodedOk > N / 20 && rejected > N / 20, 'the mutations reach both the accepting and the refusing paths')
  ok(ms < 30000, `bounded time (${ms} ms)`)
})

test('fuzz: 200,000 mutated frames into a live mux with an open hypercore channel, only HypercoreError escapes', () => {
  const next = rng(0xc0ffee)
  const N = 200_000
  let muxes = 0
  let destroyed = 0
  let s: MemoryStream = loneStream()
  let mux: Mux = fresh()

  function fresh (): Mux {
    s = loneStream()
    const m = new Mux(s, { maxUnpairedBytes: 64 * 1024, maxUnpairedChannels: 64 })
    m.pair({ protocol: 'p' }, () => {}) // never opens: remote opens of p get rejected after the call
    const ch = m.createChannel({
      protocol: HYPERCORE_PROTOCOL,
      handshake,
      messages: [...channelCodecs.map((encoding) => ({ encoding, onmessage: () => {} })), { encoding: c.uint }]
    })!
    ch.open({ seeks: true, capability: new Uint8Array(32) })
    s.inject(encodeOpen({ localId: 1, protocol: HYPERCORE_PROTOCOL, id: null, handshake: fromHex('01' + '00'.repeat(32)) }))
    muxes++
    return m
  }

  const t = performance.now()
  withoutStacks(() => { for (let i = 0; i < N; i++) {
    const input = makeInput(next)
    try {
      s.inject(input)
    } catch (err) {
      throw new Error(`mux: an exception escaped for input ${Buffer.from(input).toString('hex')}: ${String(err)}`)
    }
    if (mux.destroyed) {
      if (mux.error !== null) mustBeTyped(mux.error, input, 'mux.error')
      destroyed++
      mux = fresh()
    } else if (s.written.length > 1000) {
      s.written.length = 0 // rejects we sent: not what is under test
    }
  } })
  const ms = performance.now() - t
  console.log(`# fuzz mux: ${N} frames in ${ms.toFixed(0)} ms, ${muxes} muxes, ${destroyed} destroyed with a typed error`)
  ok(destroyed > 1000 && destroyed < N, 'both surviving and destroying inputs were seen')
  ok(ms < 30000, `bounded time (${ms} ms)`)
})
