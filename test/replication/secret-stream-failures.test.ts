/**
 * @module test/replication/secret-stream-failures.test
 * What a broken or malicious peer gets: a flipped bit anywhere in either direction (every
 * handshake byte, both headers, data frames), a wrong stream id, an oversize frame, a
 * truncated stream, a peer that vanishes. Each must end *both* sides with typed errors, never
 * deliver a tampered message, and never hang. Also the lifecycle: opened/connect, clean
 * end and destroy propagation, keep-alive and timeout, backpressure, bad arguments.
 */
import { before, test } from 'node:test'
import assert from 'node:assert/strict'
import { Duplex } from 'streamx'
import { HypercoreError } from '../../src/errors.js'
import { cryptoReady, keyPair } from '../../src/crypto/index.js'
import { SecretStream } from '../../src/replication/secret-stream/index.js'
import { ourPair, tamper, watch, within } from './secret-stream-helpers.js'

before(async () => { await cryptoReady() })

const code = (e: Error | undefined): string | undefined => (e as HypercoreError | undefined)?.code
const MSG_A = new Uint8Array(8).fill(0xaa)
const MSG_B = new Uint8Array(8).fill(0xbb)
// Byte layout of each direction with one 8-byte message each way (fixed sizes, spec §5.3/§5.4).
const A_TO_B = [['msg1', 35], ['msg3', 67], ['header', 59], ['data', 3 + 17 + 8]] as const
const B_TO_A = [['msg2', 99], ['header', 59], ['data', 3 + 17 + 8]] as const
const DETECTORS = new Set(['INVALID_HANDSHAKE', 'DECRYPTION_FAILED', 'DECODING_ERROR'])

function regionOf (layout: ReadonlyArray<readonly [string, number]>, at: number): string {
  let off = 0
  for (const [name, len] of layout) {
    if (at < off + len) return `${name}[${at - off}]`
    off += len
  }
  return 'past the end'
}

async function tamperRun (dir: 'aToB' | 'bToA', at: number): Promise<void> {
  const { a, b } = ourPair(dir === 'aToB' ? { aToB: tamper(at) } : { bToA: tamper(at) })
  a.stream.write(MSG_A)
  b.stream.write(MSG_B)
  a.stream.end()
  b.stream.end()
  const where = `${dir} byte ${at} (${regionOf(dir === 'aToB' ? A_TO_B : B_TO_A, at)})`
  await within(Promise.all([a.closed, b.closed]), 5000, `both sides to close after tampering ${where}`)
  const errors = [...a.errors, ...b.errors]
  assert.ok(errors.length >= 1 && errors.length <= 2, `${where}: one or two errors, got ${errors.map(String).join('; ')}`)
  for (const e of errors) assert.ok(HypercoreError.is(e), `${where}: typed error, got ${String(e)}`)
  assert.ok(errors.some((e) => DETECTORS.has(code(e)!)), `${where}: a side detected it, got ${errors.map(code).join(', ')}`)
  // The receiver of the tampered direction delivered nothing that was not sent.
  const receiver = dir === 'aToB' ? b : a
  const sent = dir === 'aToB' ? MSG_A : MSG_B
  for (const c of receiver.chunks) assert.deepEqual([...c], [...sent], `${where}: only the genuine message may arrive`)
  assert.equal(receiver.chunks.length, 0, `${where}: a tampered stream delivers nothing`)
}

test('a flipped bit at every byte of either direction (handshake, headers, data) ends both sides with typed errors', async () => {
  let runs = 0
  for (const [dir, layout] of [['aToB', A_TO_B], ['bToA', B_TO_A]] as const) {
    const total = layout.reduce((n, [, len]) => n + len, 0)
    for (let at = 0; at < total; at++) { await tamperRun(dir, at); runs++ }
  }
  console.log(`tamper: ${runs} runs, every one detected and closed on both sides`)
})

test('the same pair untampered delivers both messages and closes cleanly (control for the tamper runs)', async () => {
  const { a, b } = ourPair({ aToB: tamper(-1), bToA: tamper(-1) })
  a.stream.write(MSG_A)
  b.stream.write(MSG_B)
  a.stream.end()
  b.stream.end()
  await within(Promise.all([a.closed, b.closed]), 5000, 'close')
  assert.deepEqual([a.errors.length, b.errors.length], [0, 0])
  assert.deepEqual(b.chunks.map((c) => [...c]), [[...MSG_A]])
  assert.deepEqual(a.chunks.map((c) => [...c]), [[...MSG_B]])
  assert.equal(a.stream.rawBytesWritten, A_TO_B.reduce((n, [, len]) => n + len, 0), 'a → b byte layout as assumed')
  assert.equal(b.stream.rawBytesWritten, B_TO_A.reduce((n, [, len]) => n + len, 0), 'b → a byte layout as assumed')
})

test('wrong stream id: two initiators sharing a pre-done handshake both refuse the other header', async () => {
  const hash = new Uint8Array(64).fill(3)
  const k = new Uint8Array(32).fill(4)
  const kp = keyPair()
  const hs = { tx: k, rx: k, hash, publicKey: kp.publicKey, remotePublicKey: kp.publicKey }
  const a = watch(new SecretStream(true, null, { handshake: hs }))
  const b = watch(new SecretStream(true, null, { handshake: hs }))
  a.stream.rawStream.pipe(b.stream.rawStream).pipe(a.stream.rawStream)
  await within(Promise.all([a.closed, b.closed]), 5000, 'close')
  assert.ok([a, b].some((s) => code(s.errors[0]) === 'INVALID_HANDSHAKE'), 'stream id mismatch detected')
  for (const s of [a, b]) assert.ok(HypercoreError.is(s.errors[0]), 'typed')
  assert.equal(await a.stream.opened, false)
  assert.equal(await b.stream.opened, false)
})

test('wrong stream id: pre-done handshakes with different hashes fail the header check', async () => {
  const kp = keyPair()
  const k = new Uint8Array(32).fill(4)
  const mk = (isInit: boolean, fill: number): SecretStream =>
    new SecretStream(isInit, null, { handshake: { tx: k, rx: k, hash: new Uint8Array(64).fill(fill), publicKey: kp.publicKey, remotePublicKey: kp.publicKey } })
  const a = watch(mk(true, 1))
  const b = watch(mk(false, 2))
  a.stream.rawStream.pipe(b.stream.rawStream).pipe(a.stream.rawStream)
  await within(Promise.all([a.closed, b.closed]), 5000, 'close')
  assert.equal(code(a.errors[0] ?? b.errors[0]), 'INVALID_HANDSHAKE')
})

/** A raw peer we drive by hand: our stream's bridge on one side, `inject`/`end` on the other. */
function manual (opts: ConstructorParameters<typeof SecretStream>[2] = {}): { s: ReturnType<typeof watch<SecretStream>>, inject: (b: Uint8Array) => void, end: () => void, out: Uint8Array[] } {
  const s = watch(new SecretStream(false, null, opts))
  const out: Uint8Array[] = []
  s.stream.rawStream.on('data', (d: Uint8Array) => out.push(d))
  return { s, out, inject: (b) => { s.stream.rawStream.write(b) }, end: () => { s.stream.rawStream.end() } }
}

test('an oversize frame is refused from its length alone (FRAME_TOO_LARGE), during the handshake and after', async () => {
  // During the handshake: the first frame must be 32 bytes.
  const m = manual()
  m.inject(new Uint8Array([0xff, 0xff, 0xff]))
  await within(m.s.closed, 5000, 'close')
  assert.equal(code(m.s.errors[0]), 'INVALID_HANDSHAKE')
  // After connecting: a peer announcing more than maxFrameSize.
  const { a, b } = ourPair({ b: { maxFrameSize: 1024 } })
  await within(Promise.all([a.connected, b.connected]), 5000, 'connect')
  a.stream.write(new Uint8Array(1024 - 17)) // exactly at the limit: fine
  await within(new Promise((resolve) => b.stream.once('data', resolve)), 5000, 'the message at the limit')
  a.stream.write(new Uint8Array(1024 - 16)) // one byte over
  await within(Promise.all([a.closed, b.closed]), 5000, 'close')
  assert.equal(b.chunks.length, 1)
  assert.equal(b.chunks[0]!.byteLength, 1024 - 17)
  assert.equal(code(b.errors[0]), 'FRAME_TOO_LARGE')
  assert.equal(code(a.errors[0]), 'CONNECTION_CLOSED')
})

test('writing a message bigger than a uint24 frame fails the write with FRAME_TOO_LARGE', async () => {
  const { a, b } = ourPair()
  await within(a.connected, 5000, 'connect')
  a.stream.write(new Uint8Array(0xffffff - 16))
  await within(Promise.all([a.closed, b.closed]), 5000, 'close')
  assert.equal(code(a.errors[0]), 'FRAME_TOO_LARGE')
})

test('a truncated stream: ending inside a frame is DECODING_ERROR, ending during the handshake is CONNECTION_CLOSED', async () => {
  const m1 = manual()
  m1.inject(new Uint8Array([0x20, 0x00, 0x00, 1, 2, 3])) // msg1 announced, 3 of its 32 bytes sent
  m1.end()
  await within(m1.s.closed, 5000, 'close')
  assert.equal(code(m1.s.errors[0]), 'DECODING_ERROR')
  assert.equal(await m1.s.stream.opened, false)

  const m2 = manual()
  m2.end()
  await within(m2.s.closed, 5000, 'close')
  assert.equal(code(m2.s.errors[0]), 'CONNECTION_CLOSED')

  // After connecting: the peer's raw side ends mid-frame.
  const { a, b } = ourPair({ aToB: null })
  await within(Promise.all([a.connected, b.connected]), 5000, 'connect')
  b.stream.rawStream.write(new Uint8Array([0x30, 0, 0, 9, 9]))
  b.stream.rawStream.end()
  await within(b.closed, 5000, 'close')
  assert.equal(code(b.errors[0]), 'DECODING_ERROR')
})

test('a raw side destroyed mid-stream closes the secret stream with CONNECTION_CLOSED, and the peer too', async () => {
  const { a, b } = ourPair()
  await within(Promise.all([a.connected, b.connected]), 5000, 'connect')
  a.stream.rawStream.destroy()
  await within(Promise.all([a.closed, b.closed]), 5000, 'close')
  assert.equal(code(a.errors[0]), 'CONNECTION_CLOSED')
  assert.equal(code(b.errors[0]), 'CONNECTION_CLOSED')
})

test('destroy() before the handshake: opened resolves false, the peer closes, no connect', async () => {
  const { a, b } = ourPair()
  let connected = false
  a.stream.on('connect', () => { connected = true })
  a.stream.destroy()
  await within(Promise.all([a.closed, b.closed]), 5000, 'close')
  assert.equal(await a.stream.opened, false)
  assert.equal(await b.stream.opened, false)
  assert.equal(connected, false)
  assert.equal(a.errors.length, 0, 'a plain destroy emits no error')
  assert.equal(code(b.errors[0]), 'CONNECTION_CLOSED')
})

test('clean end propagates both ways (half-close: b keeps writing after a ended)', async () => {
  const { a, b } = ourPair()
  a.stream.write(new Uint8Array([1]))
  a.stream.end()
  await within(b.ended, 5000, 'b to see the end')
  b.stream.write(new Uint8Array([2]))
  b.stream.end()
  await within(Promise.all([a.closed, b.closed]), 5000, 'close')
  assert.deepEqual([a.errors.length, b.errors.length], [0, 0])
  assert.deepEqual(b.chunks.map((c) => [...c]), [[1]])
  assert.deepEqual(a.chunks.map((c) => [...c]), [[2]])
  assert.equal(await a.stream.opened, true)
})

test('connect event and properties: isInitiator, publicKey from the given key pair, remotePublicKey, handshakeHash', async () => {
  const ka = keyPair()
  const kb = keyPair()
  const { a, b } = ourPair({ a: { keyPair: ka }, b: { keyPair: kb } })
  assert.deepEqual(a.stream.publicKey, ka.publicKey, 'publicKey known before connecting')
  assert.equal(a.stream.remotePublicKey, null)
  await within(Promise.all([a.connected, b.connected]), 5000, 'connect')
  assert.equal(a.stream.isInitiator, true)
  assert.equal(b.stream.isInitiator, false)
  assert.deepEqual(a.stream.remotePublicKey, kb.publicKey)
  assert.deepEqual(b.stream.remotePublicKey, ka.publicKey)
  assert.deepEqual(a.stream.handshakeHash, b.stream.handshakeHash)
  a.stream.destroy()
  await within(Promise.all([a.closed, b.closed]), 5000, 'close')
})

test('keep-alive: an idle stream sends 20-byte empty messages that the peer drops; timeout destroys a silent stream', async () => {
  const { a, b } = ourPair({ a: { keepAlive: 10 } })
  await within(Promise.all([a.connected, b.connected]), 5000, 'connect')
  const before = b.stream.rawBytesRead
  await within(new Promise<void>((resolve) => {
    const check = (): void => { if (b.stream.rawBytesRead - before >= 60) resolve(); else a.stream.rawStream.once('data', () => queueMicrotask(check)) }
    check()
  }), 5000, 'three keep-alives')
  assert.equal((b.stream.rawBytesRead - before) % 20, 0)
  assert.equal(b.chunks.length, 0, 'keep-alives are not delivered')
  assert.equal(a.stream.keepAlive, 10)
  a.stream.destroy()
  await within(Promise.all([a.closed, b.closed]), 5000, 'close')

  // b times out because a (no keep-alive) stays silent.
  const p = ourPair({ b: { timeout: 30 } })
  await within(p.b.closed, 5000, 'timeout')
  assert.equal(code(p.b.errors[0]), 'REQUEST_TIMEOUT')
  await within(p.a.closed, 5000, 'peer close')
})

test('backpressure: a reader that does not read stops the writer (write() returns false) instead of buffering everything', async () => {
  const a = watch(new SecretStream(true))
  const b = new SecretStream(false)
  b.on('error', () => {})
  a.stream.rawStream.pipe(b.rawStream).pipe(a.stream.rawStream)
  await within(a.connected, 5000, 'connect')
  const chunk = new Uint8Array(64 * 1024)
  let written = 0
  let stalled = false
  // Write until a drain does not come: the absence of an event is the point, so this one
  // bounded wait (200 ms per write) is the test, not a sleep standing in for an event.
  while (written < 64 * 1024 * 1024) {
    const more = a.stream.write(chunk)
    written += chunk.byteLength
    if (more) continue
    const drained = await new Promise<boolean>((resolve) => {
      const t = setTimeout(() => { a.stream.removeListener('drain', ondrain); resolve(false) }, 200)
      const ondrain = (): void => { clearTimeout(t); resolve(true) }
      a.stream.once('drain', ondrain)
    })
    if (!drained) { stalled = true; break }
  }
  assert.ok(stalled, 'the writer was stopped')
  assert.ok(written < 8 * 1024 * 1024, `the writer was stopped early (after ${written} bytes)`)
  // Now read: everything written arrives.
  let got = 0
  b.on('data', (d: unknown) => { got += (d as Uint8Array).byteLength })
  await within(new Promise<void>((resolve) => a.stream.once('drain', () => resolve())), 5000, 'drain once the reader reads')
  a.stream.end()
  await within(new Promise<void>((resolve) => b.once('end', () => resolve())), 5000, 'end')
  assert.equal(got, written)
  b.end()
  await within(a.closed, 5000, 'close')
})

test('bad arguments are BAD_ARGUMENT', () => {
  assert.throws(() => new SecretStream('yes' as unknown as boolean), (e: unknown) => HypercoreError.is(e, 'BAD_ARGUMENT'))
  assert.throws(() => new SecretStream(true, {} as never), (e: unknown) => HypercoreError.is(e, 'BAD_ARGUMENT'))
  assert.throws(() => new SecretStream(true, null, { maxFrameSize: 1 << 24 }), (e: unknown) => HypercoreError.is(e, 'BAD_ARGUMENT'))
  assert.throws(() => new SecretStream(true, null, { keepAlive: -1 }), (e: unknown) => HypercoreError.is(e, 'BAD_ARGUMENT'))
})

test('a bad pre-done handshake or a non-bytes write destroys the stream with BAD_ARGUMENT', async () => {
  const s = watch(new SecretStream(true, null, { handshake: { tx: new Uint8Array(3) } as never }))
  await within(s.closed, 5000, 'close')
  assert.equal(code(s.errors[0]), 'BAD_ARGUMENT')
  const { a, b } = ourPair()
  await within(a.connected, 5000, 'connect')
  a.stream.write('a string' as unknown as Uint8Array)
  await within(Promise.all([a.closed, b.closed]), 5000, 'close')
  assert.equal(code(a.errors[0]), 'BAD_ARGUMENT')
})

test('a given raw streamx duplex works like the bridge (ours over a hand-made in-memory pipe)', async () => {
  // Two cross-wired streamx duplexes: what one writes, the other reads.
  const ends: Duplex[] = []
  const mk = (i: number): Duplex => new Duplex({
    write (data: unknown, cb: (err: Error | null) => void) { ends[1 - i]!.push(data); cb(null) },
    final (cb: (err: Error | null) => void) { ends[1 - i]!.push(null); cb(null) }
  })
  ends.push(mk(0), mk(1))
  const a = watch(new SecretStream(true, ends[0] as never))
  const b = watch(new SecretStream(false, ends[1] as never))
  a.stream.write(new Uint8Array([5, 6]))
  a.stream.end()
  await within(b.ended, 5000, 'end')
  b.stream.end()
  await within(Promise.all([a.closed, b.closed]), 5000, 'close')
  assert.deepEqual(b.chunks.map((c) => [...c]), [[5, 6]])
  assert.equal(a.stream.rawStream, ends[0])
})
