/**
 * @module test/replication/framing.test
 * The uint24-LE frame parser (spec §5.2): lengths split across chunks at every position,
 * zero-copy views, the size cap applied before buffering, the per-frame length hook,
 * truncation at end, and a bounded fuzz (random and mutated chunkings) where nothing but a
 * HypercoreError may escape and well-formed input always round-trips.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { HypercoreError } from '../../src/errors.js'
import { FrameParser, MAX_FRAME_SIZE, encodeFrame, writeFrameHeader } from '../../src/replication/framing/index.js'
import { concat, prng } from './secret-stream-helpers.js'

function parseAll (p: FrameParser, chunks: Uint8Array[]): Uint8Array[] {
  const out: Uint8Array[] = []
  for (const c of chunks) p.push(c, (f) => out.push(f.slice()))
  return out
}

const isCode = (code: string) => (e: unknown): boolean => HypercoreError.is(e) && e.code === code

test('encodes uint24-LE lengths (0, 1, 256, 2^24-1) and refuses bigger', () => {
  assert.deepEqual([...encodeFrame(new Uint8Array(0))], [0, 0, 0])
  assert.deepEqual([...encodeFrame(new Uint8Array([7]))], [1, 0, 0, 7])
  assert.deepEqual([...encodeFrame(new Uint8Array(256)).subarray(0, 3)], [0, 1, 0])
  const b = new Uint8Array(3)
  writeFrameHeader(b, 0, MAX_FRAME_SIZE)
  assert.deepEqual([...b], [0xff, 0xff, 0xff])
  assert.throws(() => writeFrameHeader(b, 0, MAX_FRAME_SIZE + 1), isCode('FRAME_TOO_LARGE'))
})

test('every split point of a three-frame stream (including inside each length) yields the same frames', () => {
  const frames = [new Uint8Array([1, 2, 3]), new Uint8Array(0), new Uint8Array(300).fill(9)]
  const wire = concat(frames.map(encodeFrame))
  let splits = 0
  for (let i = 0; i <= wire.length; i++) {
    for (let j = i; j <= wire.length; j += 7) {
      const got = parseAll(new FrameParser(), [wire.subarray(0, i), wire.subarray(i, j), wire.subarray(j)])
      assert.deepEqual(got.map((f) => [...f]), frames.map((f) => [...f]), `split at ${i}/${j}`)
      splits++
    }
  }
  // One byte at a time.
  const p = new FrameParser()
  const got = parseAll(p, [...wire].map((x) => new Uint8Array([x])))
  assert.equal(got.length, 3)
  assert.equal(p.idle, true)
  assert.ok(splits > 1000)
})

test('a frame wholly inside a chunk is a zero-copy view of it; a straddling one is copied once', () => {
  const wire = concat([encodeFrame(new Uint8Array([5, 6])), encodeFrame(new Uint8Array([7, 8, 9]))])
  const views: Uint8Array[] = []
  new FrameParser().push(wire, (f) => views.push(f))
  assert.equal(views[0]!.buffer, wire.buffer, 'same backing memory')
  assert.equal(views[0]!.byteOffset, 3)
  const p = new FrameParser()
  const parts: Uint8Array[] = []
  p.push(wire.subarray(0, 9), (f) => parts.push(f))
  assert.equal(p.buffered, 3 + 1, 'the second frame has its header and one byte held')
  p.push(wire.subarray(9), (f) => parts.push(f))
  assert.notEqual(parts[1]!.buffer, wire.buffer)
  assert.deepEqual([...parts[1]!], [7, 8, 9])
})

test('an oversize length is refused as soon as its 3 bytes are in, before any payload is buffered', () => {
  const p = new FrameParser({ maxFrameSize: 1000 })
  p.push(new Uint8Array([0xe9, 0x03]), () => assert.fail('no frame'))
  assert.throws(() => p.push(new Uint8Array([0x00]), () => {}), (e: unknown) => isCode('FRAME_TOO_LARGE')(e) || false)
  // 1000 itself is fine; 1001 is not. Nothing got allocated for the refused one.
  const q = new FrameParser({ maxFrameSize: 1000 })
  assert.throws(() => q.push(new Uint8Array([0xe9, 0x03, 0x00, 1, 2]), () => {}), isCode('FRAME_TOO_LARGE'))
  assert.equal(q.buffered, 0)
  // A failed parser stays failed.
  assert.throws(() => q.push(encodeFrame(new Uint8Array(1)), () => {}), isCode('FRAME_TOO_LARGE'))
  let n = 0
  new FrameParser({ maxFrameSize: 1000 }).push(encodeFrame(new Uint8Array(1000)), () => { n++ })
  assert.equal(n, 1)
  assert.throws(() => new FrameParser({ maxFrameSize: MAX_FRAME_SIZE + 1 }), isCode('BAD_ARGUMENT'))
})

test('lengthCheck sees each length before its payload and can refuse it', () => {
  const p = new FrameParser()
  const seen: number[] = []
  p.lengthCheck = (len) => { seen.push(len); if (len === 4) throw HypercoreError.INVALID_HANDSHAKE('no 4s') }
  p.push(encodeFrame(new Uint8Array(2)), () => {})
  assert.throws(() => p.push(new Uint8Array([4, 0, 0]), () => {}), isCode('INVALID_HANDSHAKE'))
  assert.deepEqual(seen, [2, 4])
})

test('end(): quiet on a frame boundary, DECODING_ERROR inside a length or a payload', () => {
  const a = new FrameParser()
  a.push(encodeFrame(new Uint8Array(2)), () => {})
  a.end()
  const b = new FrameParser()
  b.push(new Uint8Array([5]), () => {})
  assert.throws(() => b.end(), isCode('DECODING_ERROR'))
  const c = new FrameParser()
  c.push(new Uint8Array([5, 0, 0, 1]), () => {})
  assert.throws(() => c.end(), isCode('DECODING_ERROR'))
})

test('an error thrown by the frame handler propagates and fails the parser; a foreign error becomes DECODING_ERROR', () => {
  const p = new FrameParser()
  assert.throws(() => p.push(encodeFrame(new Uint8Array(1)), () => { throw new TypeError('boom') }), isCode('DECODING_ERROR'))
  assert.throws(() => p.push(encodeFrame(new Uint8Array(1)), () => {}), isCode('DECODING_ERROR'))
})

test('fuzz (bounded): random bytes, random re-chunkings and mutations of valid streams; only HypercoreError escapes', () => {
  const r = prng(0x5eed)
  const deadline = Date.now() + 3000
  let inputs = 0
  let chunks = 0
  let frames = 0
  let refused = 0
  let roundTrips = 0
  while (Date.now() < deadline) {
    for (let k = 0; k < 200; k++) {
      const mode = r.int(3)
      const max = [8, 300, 4000][r.int(3)]!
      const p = new FrameParser({ maxFrameSize: max })
      const sent: Uint8Array[] = []
      let wire: Uint8Array
      if (mode === 0) {
        wire = r.bytes(r.int(200))
      } else {
        for (let i = r.int(6); i >= 0; i--) sent.push(r.bytes(r.int(max + 1)))
        wire = concat(sent.map(encodeFrame))
        if (mode === 2 && wire.length > 0) { // mutate: flip, drop or insert bytes
          for (let m = 1 + r.int(3); m > 0; m--) {
            const at = r.int(wire.length + 1)
            const op = r.int(3)
            if (op === 0 && at < wire.length) wire[at] = wire[at]! ^ (1 + r.int(255))
            else if (op === 1) wire = concat([wire.subarray(0, at), wire.subarray(at + 1)])
            else wire = concat([wire.subarray(0, at), new Uint8Array([r.int(256)]), wire.subarray(at)])
          }
        }
      }
      const got: Uint8Array[] = []
      inputs++
      try {
        let i = 0
        while (i < wire.length) {
          const n = 1 + r.int(Math.min(256, wire.length - i))
          p.push(wire.subarray(i, i + n), (f) => { got.push(f); frames++ })
          i += n
          chunks++
        }
        p.end()
        if (mode === 1) {
          assert.deepEqual(got.map((f) => f.length), sent.map((f) => f.length))
          roundTrips++
        }
      } catch (e) {
        if (!HypercoreError.is(e)) throw e
        assert.ok(mode !== 1, `valid input refused: ${String(e)}`)
        refused++
      }
    }
  }
  console.log(`framing fuzz: ${inputs} inputs in ${chunks} chunks, ${frames} frames, ${roundTrips} exact round trips, ${refused} inputs refused with HypercoreError`)
  assert.ok(inputs > 10000 && chunks > 100000)
})
