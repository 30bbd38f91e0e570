/**
 * @module test/replication/secret-stream-interop.test
 * Wire interop with the real `@hyperswarm/secret-stream` (the reference, used as a black box):
 * ours as initiator against theirs as responder and the other way round, over the in-memory
 * bridges and over real TCP sockets, with a pre-done handshake, keep-alives, and a tampered frame.
 */
import { before, test } from 'node:test'
import assert from 'node:assert/strict'
import net from 'node:net'
// @ts-expect-error the reference ships no types
import TheirSecretStream from '@hyperswarm/secret-stream'
import { cryptoReady, keyPair } from '../../src/crypto/index.js'
import { SecretStream } from '../../src/replication/secret-stream/index.js'
import { type AnyStream, link, prng, sameMessages, tamper, watch, within } from './secret-stream-helpers.js'

before(async () => { await cryptoReady() })

type Side = 'ours' | 'theirs'
const make = (side: Side, isInitiator: boolean, raw: unknown = null, opts: Record<string, unknown> = {}): AnyStream =>
  side === 'ours' ? new SecretStream(isInitiator, raw as null, opts) : new TheirSecretStream(isInitiator, raw, opts)

/** Random messages, 0 .. 1 MiB, with the edge sizes included. */
function messages (seed: number, count: number): Uint8Array[] {
  const r = prng(seed)
  const out = [0, 1, 1 << 20].map((n) => r.bytes(n))
  while (out.length < count) {
    const big = r.int(4) === 0
    out.push(r.bytes(big ? r.int((1 << 20) + 1) : r.int(4096)))
  }
  return out
}

/** Writes all messages honouring backpressure. */
async function writeAll (s: AnyStream, msgs: Uint8Array[]): Promise<void> {
  for (const m of msgs) {
    if (!s.write(m)) await new Promise((resolve) => s.once('drain', resolve))
  }
}

/** Resolves once `w` has received `n` messages. */
function received (w: { stream: AnyStream, chunks: Uint8Array[] }, n: number): Promise<void> {
  return new Promise((resolve) => {
    const check = (): void => { if (w.chunks.length >= n) resolve(); else w.stream.once('data', () => queueMicrotask(check)) }
    check()
  })
}

/** What a receiver delivers: ours drops empty (keep-alive) messages; theirs passes them on unless it has keep-alive set. */
const delivered = (receiver: Side, msgs: Uint8Array[]): Uint8Array[] => receiver === 'ours' ? msgs.filter((m) => m.byteLength > 0) : msgs

async function exchange (initiator: Side, responder: Side, viaTcp: boolean): Promise<void> {
  const kpA = keyPair()
  const kpB = keyPair()
  let a: ReturnType<typeof watch<AnyStream>>
  let b: ReturnType<typeof watch<AnyStream>>
  let server: net.Server | null = null
  if (viaTcp) {
    server = net.createServer()
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve))
    const port = (server.address() as net.AddressInfo).port
    const accepted = new Promise<net.Socket>((resolve) => server!.once('connection', resolve))
    const client = net.connect(port, '127.0.0.1')
    const serverSide = await accepted
    a = watch(make(initiator, true, client, { keyPair: kpA }))
    b = watch(make(responder, false, serverSide, { keyPair: kpB }))
  } else {
    a = watch(make(initiator, true, null, { keyPair: kpA }))
    b = watch(make(responder, false, null, { keyPair: kpB }))
    link(a.stream, b.stream)
  }
  try {
    const fromA = messages(viaTcp ? 11 : 1, 40)
    const fromB = messages(viaTcp ? 12 : 2, 40)
    await within(Promise.all([
      writeAll(a.stream, fromA), writeAll(b.stream, fromB),
      received(b, delivered(responder, fromA).length), received(a, delivered(initiator, fromB).length)
    ]), 60000, 'all messages to arrive')
    // End only once everything arrived: the reference's bridge drops data still queued inside it
    // when both ends finish at the same moment (seen reference ↔ reference too), so a
    // simultaneous end would test its race, not the wire.
    a.stream.end()
    b.stream.end()
    await within(Promise.all([a.closed, b.closed]), 60000, 'both streams to close')
    assert.deepEqual(a.errors.map(String), [])
    assert.deepEqual(b.errors.map(String), [])
    sameMessages(b.chunks, delivered(responder, fromA), `${initiator} → ${responder}`)
    sameMessages(a.chunks, delivered(initiator, fromB), `${responder} → ${initiator}`)
    const sa = a.stream as unknown as SecretStream
    const sb = b.stream as unknown as SecretStream
    assert.equal(sa.handshakeHash!.byteLength, 64)
    assert.deepEqual(Buffer.from(sa.handshakeHash!), Buffer.from(sb.handshakeHash!), 'handshake hashes agree')
    assert.deepEqual(Buffer.from(sa.remotePublicKey!), Buffer.from(kpB.publicKey), 'initiator authenticated the responder key')
    assert.deepEqual(Buffer.from(sb.remotePublicKey!), Buffer.from(kpA.publicKey), 'responder authenticated the initiator key')
    assert.deepEqual(Buffer.from(sa.publicKey!), Buffer.from(kpA.publicKey))
  } finally {
    server?.close()
  }
}

for (const viaTcp of [false, true]) {
  const how = viaTcp ? 'over TCP sockets' : 'over piped bridges'
  test(`interop ${how}: ours initiator ↔ @hyperswarm/secret-stream responder, 40+40 messages of 0 .. 1 MiB`, () => exchange('ours', 'theirs', viaTcp))
  test(`interop ${how}: @hyperswarm/secret-stream initiator ↔ ours responder, 40+40 messages of 0 .. 1 MiB`, () => exchange('theirs', 'ours', viaTcp))
}

test('interop: a pre-done handshake (no Noise on the wire) works with the reference both ways', async () => {
  const hash = new Uint8Array(64).fill(0x42)
  const k1 = new Uint8Array(32).fill(1)
  const k2 = new Uint8Array(32).fill(2)
  const kpA = keyPair()
  const kpB = keyPair()
  for (const [ia, ib] of [['ours', 'theirs'], ['theirs', 'ours']] as Array<[Side, Side]>) {
    const a = watch(make(ia, true, null, { handshake: { tx: k1, rx: k2, hash, publicKey: kpA.publicKey, remotePublicKey: kpB.publicKey } }))
    const b = watch(make(ib, false, null, { handshake: { tx: k2, rx: k1, hash, publicKey: kpB.publicKey, remotePublicKey: kpA.publicKey } }))
    link(a.stream, b.stream)
    a.stream.write(new Uint8Array([1, 2, 3]))
    b.stream.write(new Uint8Array([4, 5]))
    await within(Promise.all([received(a, 1), received(b, 1)]), 5000, 'both messages')
    a.stream.end()
    b.stream.end()
    await within(Promise.all([a.closed, b.closed]), 5000, 'close')
    assert.deepEqual([a.errors, b.errors].map((e) => e.map(String)), [[], []])
    assert.deepEqual(b.chunks.map((c) => [...c]), [[1, 2, 3]], `${ia} → ${ib}`)
    assert.deepEqual(a.chunks.map((c) => [...c]), [[4, 5]], `${ib} → ${ia}`)
  }
})

test('interop: keep-alives from the reference are dropped by ours; ours are dropped by a reference with keep-alive set', async () => {
  const ours = watch(make('ours', true, null, { keepAlive: 15 }))
  const theirs = watch(make('theirs', false))
  ;(theirs.stream as unknown as { setKeepAlive: (ms: number) => void }).setKeepAlive(15)
  link(ours.stream, theirs.stream)
  await within(ours.connected, 5000, 'connect')
  const s = ours.stream as unknown as SecretStream
  const before = s.rawBytesRead
  // Wait until at least three 20-byte keep-alive frames (3 + 17) have arrived, by events.
  await within(new Promise<void>((resolve) => {
    const check = (): void => { if (s.rawBytesRead - before >= 60) resolve(); else ours.stream.rawStream.once('data', check) }
    check()
  }), 5000, 'keep-alives from the reference')
  assert.equal((s.rawBytesRead - before) % 20, 0, 'only empty messages arrived')
  assert.ok(s.rawBytesWritten > 0)
  ours.stream.write(new Uint8Array([9]))
  await within(received(theirs, 1), 5000, 'the message')
  ours.stream.end()
  theirs.stream.end()
  await within(Promise.all([ours.closed, theirs.closed]), 5000, 'close')
  assert.deepEqual(ours.chunks, [], 'ours delivered no keep-alive')
  assert.deepEqual(theirs.chunks.map((c) => [...c]), [[9]], 'the reference delivered only the real message')
})

test('interop: a tampered frame from the reference ends ours with DECRYPTION_FAILED and closes the reference too', async () => {
  const theirs = watch(make('theirs', true))
  const ours = watch(make('ours', false))
  // theirs → ours bytes: msg1 (35), msg3 (67), header (59), then data: flip a ciphertext byte.
  link(theirs.stream, ours.stream, tamper(35 + 67 + 59 + 5))
  theirs.stream.write(new Uint8Array(100).fill(7))
  await within(Promise.all([ours.closed, theirs.closed]), 5000, 'both to close')
  assert.equal((ours.errors[0] as { code?: string } | undefined)?.code, 'DECRYPTION_FAILED')
  assert.deepEqual(ours.chunks, [])
})
