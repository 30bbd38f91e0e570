/**
 * @module test/replication/secret-stream-suite
 * Browser-safe cases for the Noise handshake and the secret stream, run by node:test
 * (secret-stream-shared.test.ts) and inside Chromium (web-test/secret-stream.spec.ts):
 * the recorded transcript (spec §5.3–§5.4, wire-transcript.json) and round trips of a pair.
 */
import { HypercoreError } from '../../src/errors.js'
import { keyPair, streamId } from '../../src/crypto/index.js'
import { NoiseHandshake } from '../../src/replication/noise/index.js'
import { SecretStream, SecretstreamPull } from '../../src/replication/secret-stream/index.js'
import { bytesEqual, deepEqual, equal, fromHex, hex, ok, type SuiteCase } from '../helpers/assert.js'
import { transcript as t } from '../vectors/fixtures.js'
import { concat, ourPair, prng, sameMessages, splitFrames, tamper, watch, within } from './secret-stream-helpers.js'

const seedKeys = (s: string): ReturnType<typeof keyPair> => keyPair(fromHex(s))
const staticI = (): ReturnType<typeof keyPair> => seedKeys(t.setup.initiatorStatic.seed)
const staticR = (): ReturnType<typeof keyPair> => seedKeys(t.setup.responderStatic.seed)
const ephI = (): ReturnType<typeof keyPair> => seedKeys(t.setup.initiatorEphemeral.seed)
const ephR = (): ReturnType<typeof keyPair> => seedKeys(t.setup.responderEphemeral.seed)
const frames = (dir: 'writerToReader' | 'readerToWriter'): Uint8Array[] => t.rawFrames[dir].map((f: string) => fromHex(f))
const plaintexts = (from: 'writer' | 'reader'): string[] => t.messages.filter((m: { from: string }) => m.from === from).map((m: { plaintextHex: string }) => m.plaintextHex)

/** Feeds recorded frames into one of our streams (deterministic keys) and records what it sends and emits. */
async function replay (isInitiator: boolean, incoming: Uint8Array[]): Promise<{ sent: Uint8Array[], received: string[], stream: SecretStream }> {
  const s = watch(new SecretStream(isInitiator, null, {
    keyPair: isInitiator ? staticI() : staticR(),
    ephemeralKeyPair: isInitiator ? ephI() : ephR()
  }))
  const out: Uint8Array[] = []
  s.stream.rawStream.on('data', (d: Uint8Array) => out.push(new Uint8Array(d)))
  for (const f of incoming) s.stream.rawStream.write(f)
  s.stream.rawStream.end()
  await within(s.ended, 5000, 'the replayed stream to end')
  ok(s.errors.length === 0, `no error expected, got ${s.errors.map(String).join(', ')}`)
  s.stream.end()
  await within(s.closed, 5000, 'close')
  return { sent: splitFrames(concat(out)), received: s.chunks.map(hex), stream: s.stream }
}

export const secretStreamSuite: Array<SuiteCase<void>> = [
  {
    name: 'noise: transcript msg1/msg2/msg3, handshake hash and split keys',
    async run () {
      const i = new NoiseHandshake(true, staticI(), { ephemeral: ephI() })
      const r = new NoiseHandshake(false, staticR(), { ephemeral: ephR() })
      const m1 = i.send()
      bytesEqual(m1, t.noise.msg1_initiator_framed.slice(6), 'msg1')
      r.recv(m1)
      const m2 = r.send()
      bytesEqual(m2, t.noise.msg2_responder_framed.slice(6), 'msg2')
      i.recv(m2)
      const m3 = i.send()
      bytesEqual(m3, t.noise.msg3_initiator_framed.slice(6), 'msg3')
      r.recv(m3)
      ok(i.complete && r.complete, 'both complete')
      for (const res of [i.result!, r.result!]) bytesEqual(res.handshakeHash, t.noise.handshakeHash, 'handshakeHash')
      bytesEqual(i.result!.tx, t.noise.initiatorTx_responderRx, 'initiator tx')
      bytesEqual(i.result!.rx, t.noise.initiatorRx_responderTx, 'initiator rx')
      bytesEqual(r.result!.tx, t.noise.initiatorRx_responderTx, 'responder tx')
      bytesEqual(r.result!.rx, t.noise.initiatorTx_responderRx, 'responder rx')
      bytesEqual(i.result!.remotePublicKey, t.setup.responderStatic.publicKey, 'initiator sees responder key')
      bytesEqual(r.result!.remotePublicKey, t.setup.initiatorStatic.publicKey, 'responder sees initiator key')
    }
  },
  {
    name: 'secret-stream: transcript stream ids and header frames',
    async run () {
      const hh = fromHex(t.noise.handshakeHash)
      bytesEqual(streamId(hh, true), t.secretstream.initiatorStreamId, 'initiator id')
      bytesEqual(streamId(hh, false), t.secretstream.responderStreamId, 'responder id')
      equal(t.secretstream.initiatorHeaderFrame.slice(0, 6), '380000', 'header frame is 56 bytes')
      equal(t.secretstream.initiatorHeaderFrame.slice(6, 6 + 64), t.secretstream.initiatorStreamId)
      equal(t.secretstream.responderHeaderFrame.slice(6, 6 + 64), t.secretstream.responderStreamId)
    }
  },
  {
    name: 'secret-stream: recorded raw frames decrypt with the recorded keys and headers to the recorded plaintexts',
    async run () {
      const cases = [
        { dir: 'writerToReader' as const, headerAt: 2, key: t.noise.initiatorTx_responderRx, from: 'writer' as const },
        { dir: 'readerToWriter' as const, headerAt: 1, key: t.noise.initiatorRx_responderTx, from: 'reader' as const }
      ]
      for (const c of cases) {
        const fs = frames(c.dir)
        const pull = new SecretstreamPull(fromHex(c.key), fs[c.headerAt]!.subarray(3 + 32))
        const got = fs.slice(c.headerAt + 1).map((f) => hex(pull.decrypt(f.subarray(3))))
        deepEqual(got, plaintexts(c.from), c.dir)
        pull.destroy()
      }
    }
  },
  {
    name: 'secret-stream: our responder fed the recorded writer bytes sends the recorded msg2 and emits every writer message',
    async run () {
      const r = await replay(false, frames('writerToReader'))
      bytesEqual(r.sent[0]!, t.noise.msg2_responder_framed.slice(6), 'msg2 on the wire')
      bytesEqual(r.sent[1]!.subarray(0, 32), t.secretstream.responderStreamId, 'our header carries the responder id')
      deepEqual(r.received, plaintexts('writer'))
      bytesEqual(r.stream.handshakeHash, t.noise.handshakeHash)
      bytesEqual(r.stream.remotePublicKey, t.setup.initiatorStatic.publicKey)
    }
  },
  {
    name: 'secret-stream: our initiator fed the recorded reader bytes sends the recorded msg1/msg3 and emits every reader message',
    async run () {
      const r = await replay(true, frames('readerToWriter'))
      bytesEqual(r.sent[0]!, t.noise.msg1_initiator_framed.slice(6), 'msg1 on the wire')
      bytesEqual(r.sent[1]!, t.noise.msg3_initiator_framed.slice(6), 'msg3 on the wire')
      bytesEqual(r.sent[2]!.subarray(0, 32), t.secretstream.initiatorStreamId, 'our header carries the initiator id')
      deepEqual(r.received, plaintexts('reader'))
      bytesEqual(r.stream.remotePublicKey, t.setup.responderStatic.publicKey)
    }
  },
  {
    name: 'secret-stream: a pair round-trips messages of many sizes (0 .. 1 MiB) both ways; keys and hashes agree',
    async run () {
      const { a, b } = ourPair()
      const rnd = prng(7)
      const sizes = [1, 0, 16, 17, 1000, 65536, 65536 * 3 + 5, 1 << 20]
      for (let i = 0; i < 24; i++) sizes.push(rnd.int(1 << 18))
      const sentA = sizes.map((n) => rnd.bytes(n))
      const sentB = sizes.slice().reverse().map((n) => rnd.bytes(n))
      for (const m of sentA) a.stream.write(m)
      for (const m of sentB) b.stream.write(m)
      a.stream.end()
      b.stream.end()
      await within(Promise.all([a.closed, b.closed]), 20000, 'both streams to close')
      deepEqual(a.errors.map(String), [])
      deepEqual(b.errors.map(String), [])
      // Empty messages are keep-alives on the wire, so they are not delivered.
      sameMessages(b.chunks, sentA.filter((m) => m.byteLength > 0), 'a → b')
      sameMessages(a.chunks, sentB.filter((m) => m.byteLength > 0), 'b → a')
      bytesEqual(a.stream.handshakeHash, b.stream.handshakeHash!, 'handshake hash')
      bytesEqual(a.stream.remotePublicKey, b.stream.publicKey!, 'a knows b')
      bytesEqual(b.stream.remotePublicKey, a.stream.publicKey!, 'b knows a')
      equal(await a.stream.opened, true)
    }
  },
  {
    name: 'secret-stream: a flipped bit in a data frame ends both sides with typed errors',
    async run () {
      // a → b bytes: msg1 (35) msg3 (67) header (59), then the first data frame: flip its 10th byte.
      const { a, b } = ourPair({ aToB: tamper(35 + 67 + 59 + 10) })
      a.stream.write(new Uint8Array(64).fill(1))
      await within(Promise.all([a.closed, b.closed]), 5000, 'both streams to close')
      equal(b.chunks.length, 0, 'nothing delivered')
      equal((b.errors[0] as HypercoreError | undefined)?.code, 'DECRYPTION_FAILED')
      equal((a.errors[0] as HypercoreError | undefined)?.code, 'CONNECTION_CLOSED')
    }
  }
]
