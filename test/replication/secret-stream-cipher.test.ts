/**
 * @module test/replication/secret-stream-cipher.test
 * The Node secretstream cipher (cipher.node.ts: node:crypto for large messages) against
 * libsodium's own push/pull (cipher-wasm.ts, the browser's cipher) and the recorded transcript
 * (spec §5.4): identical bytes for every length residue and for random lengths up to 1 MiB,
 * libsodium's state update across both paths (counter wrap, REKEY tag), typed errors on
 * tampering with the state left usable, and the MAC arithmetic (cipher-mac.ts) against Poly1305.
 */
import { test } from 'node:test'
import { createCipheriv } from 'node:crypto'
import sodium from 'libsodium-wrappers-sumo'
import { cryptoReady, raw } from '../../src/crypto/index.js'
import { SecretstreamPush as PlatformPush } from '../../src/replication/secret-stream/index.js'
import { SecretstreamPull, SecretstreamPush, NODE_MIN_BYTES, nodeCipherWorks } from '../../src/replication/secret-stream/cipher.node.js'
import { ABYTES, TAG_REKEY, WasmSecretstreamPull, WasmSecretstreamPush, type RawSecretstream } from '../../src/replication/secret-stream/cipher-wasm.js'
import { PrefixTags, aeadSuffix, secretstreamSuffix } from '../../src/replication/secret-stream/cipher-mac.js'
import { bytesEqual, deepEqual, equal, fromHex, hex, ok, throwsWithCode } from '../helpers/assert.js'
import { transcript as t } from '../vectors/fixtures.js'
import { prng } from './secret-stream-helpers.js'

const FORCE = { nodeMinBytes: 0 }

/** A Node push and a libsodium push with one state, and a pull of each kind on the same stream. */
function twins (key: Uint8Array, nodeMinBytes = 0): { ours: SecretstreamPush, ref: WasmSecretstreamPush, pull: SecretstreamPull, refPull: WasmSecretstreamPull, done: () => void } {
  const ours = new SecretstreamPush(key, { nodeMinBytes })
  const ref = new WasmSecretstreamPush(key)
  ref._importState(ours._exportState())
  const pull = new SecretstreamPull(key, ours.header, { nodeMinBytes })
  const refPull = new WasmSecretstreamPull(key, ours.header)
  return { ours, ref, pull, refPull, done: () => { ours.destroy(); ref.destroy(); pull.destroy(); refPull.destroy() } }
}

/** Pushes `m` both ways and checks bytes, then pulls each with the other kind of pull. */
function roundTrip (s: ReturnType<typeof twins>, m: Uint8Array, what: string): void {
  const a = s.ours.encrypt(m)
  const b = s.ref.encrypt(m)
  equal(a.byteLength, m.byteLength + ABYTES, `${what}: length`)
  equal(hex(a), hex(b), `${what}: node push = libsodium push`)
  const back = s.pull.decrypt(b)
  ok(back instanceof Uint8Array && back.byteLength === m.byteLength, `${what}: node pull length`)
  equal(hex(back), hex(m), `${what}: node pull of libsodium's frame`)
  equal(hex(s.refPull.decrypt(a)), hex(m), `${what}: libsodium pull of ours`)
}

test('self-check passes here and the platform import gives Node the node:crypto cipher', async () => {
  await cryptoReady()
  equal(nodeCipherWorks(), true)
  const p = new PlatformPush(new Uint8Array(32))
  ok(p instanceof SecretstreamPush, 'index.js SecretstreamPush is the Node class under the node condition')
  p.destroy()
})

test('every length 0 .. 320, 428 .. 468 and 900 .. 916 (all 16 residues, every tail split), forced through node:crypto: same bytes as libsodium both ways', async () => {
  await cryptoReady()
  const rnd = prng(11)
  const s = twins(rnd.bytes(32))
  const lengths: number[] = []
  for (let n = 0; n <= 320; n++) lengths.push(n)
  for (let n = 428; n <= 468; n++) lengths.push(n)
  for (let n = 900; n <= 916; n++) lengths.push(n)
  for (const n of lengths) {
    const m = rnd.bytes(n)
    // The node:crypto path itself (no silent fallback to libsodium), then the public methods.
    const a = new Uint8Array(n + ABYTES)
    equal(s.ours._encryptNode(m, a, 0), true, `mlen ${n}: node push took the message`)
    bytesEqual(a, s.ref.encrypt(m), `mlen ${n}: node push = libsodium push`)
    const back = s.pull._decryptNode(a)
    ok(back !== null, `mlen ${n}: node pull took the frame`)
    bytesEqual(back, m, `mlen ${n}: node pull`)
    equal(hex(s.refPull.decrypt(a)), hex(m), `mlen ${n}: libsodium pull`)
    roundTrip(s, rnd.bytes(n), `mlen ${n}, public methods`)
  }
  deepEqual(hex(s.ours._exportState()), hex(s.ref._exportState()), `states agree after ${lengths.length} messages`)
  deepEqual(hex(s.pull._exportState()), hex(s.refPull._exportState()), 'pull states agree')
  s.done()
})

test('random lengths up to 1 MiB with the default threshold (small in WASM, large via node:crypto, interleaved)', async () => {
  await cryptoReady()
  const rnd = prng(12)
  const s = twins(rnd.bytes(32), NODE_MIN_BYTES)
  const sizes = [0, 1, NODE_MIN_BYTES - 1, NODE_MIN_BYTES, NODE_MIN_BYTES + 1, 65536, 65536 + 5, 65536 + 8, 65536 + 13, 1 << 20, (1 << 20) - 3]
  for (let i = 0; i < 60; i++) sizes.push(rnd.int(1 << 20) >> (rnd.int(3) * 4))
  for (const n of sizes) roundTrip(s, rnd.bytes(n), `mlen ${n}`)
  bytesEqual(s.ours._exportState(), s.ref._exportState(), 'push states agree')
  s.done()
})

test('recorded transcript (spec §5.4): node path re-creates every recorded frame from the recorded plaintexts and decrypts them back', async () => {
  await cryptoReady()
  const frames = (dir: string): Uint8Array[] => t.rawFrames[dir].map((f: string) => fromHex(f))
  const cases = [
    { dir: 'writerToReader', headerAt: 2, key: t.noise.initiatorTx_responderRx, from: 'writer' },
    { dir: 'readerToWriter', headerAt: 1, key: t.noise.initiatorRx_responderTx, from: 'reader' }
  ]
  let checked = 0
  for (const c of cases) {
    const fs = frames(c.dir)
    const key = fromHex(c.key)
    const header = fs[c.headerAt]!.subarray(3 + 32)
    // A pull initialised from (key, header) holds exactly the sender's initial push state.
    const pull = new SecretstreamPull(key, header, FORCE)
    const push = new SecretstreamPush(key, FORCE)
    push._importState(pull._exportState())
    const plain = t.messages.filter((m: { from: string }) => m.from === c.from).map((m: { plaintextHex: string }) => fromHex(m.plaintextHex))
    const wire = fs.slice(c.headerAt + 1).map((f) => f.subarray(3))
    equal(wire.length, plain.length, `${c.dir}: one frame per message`)
    for (let i = 0; i < wire.length; i++) {
      bytesEqual(push.encrypt(plain[i]!), wire[i]!, `${c.dir} frame ${i}`)
      bytesEqual(pull.decrypt(wire[i]!), plain[i]!, `${c.dir} message ${i}`)
      checked++
    }
    push.destroy(); pull.destroy()
  }
  equal(checked, t.messages.length)
})

test('counter wrap: node path applies libsodium\'s rekey exactly (state and following frames identical)', async () => {
  await cryptoReady()
  const rnd = prng(13)
  const s = twins(rnd.bytes(32))
  const st = s.ours._exportState()
  st.set([0xfd, 0xff, 0xff, 0xff], 32) // counter = 2^32 − 3: wraps on the third message
  for (const x of [s.ours, s.ref, s.pull, s.refPull]) x._importState(st)
  const before = hex(st.subarray(0, 32))
  for (let i = 0; i < 6; i++) roundTrip(s, rnd.bytes(i % 2 === 0 ? 5000 + i : 40), `message ${i} around the wrap`)
  const after = s.ours._exportState()
  ok(hex(after.subarray(0, 32)) !== before, 'the key changed (rekeyed)')
  bytesEqual(after, s.ref._exportState(), 'push states agree')
  bytesEqual(s.pull._exportState(), s.refPull._exportState(), 'pull states agree')
  s.done()
})

test('a REKEY tag from libsodium: the node pull rekeys as libsodium\'s pull does', async () => {
  await cryptoReady()
  const rnd = prng(14)
  const key = rnd.bytes(32)
  const sender = new WasmSecretstreamPush(key)
  const pull = new SecretstreamPull(key, sender.header, FORCE)
  const refPull = new WasmSecretstreamPull(key, sender.header)
  const r = raw() as RawSecretstream
  const state = (sender as unknown as { _state: number })._state
  const frames: Uint8Array[] = []
  for (const [n, tag] of [[3000, 0], [4001, TAG_REKEY], [3003, 0], [10, 0]] as const) {
    const m = rnd.bytes(n)
    const p = r._malloc(2 * n + ABYTES)
    r.HEAPU8.set(m, p + n + ABYTES)
    equal(r._crypto_secretstream_xchacha20poly1305_push(state, p, 0, p + n + ABYTES, n, 0, 0, 0, 0, tag), 0)
    frames.push(r.HEAPU8.slice(p, p + n + ABYTES))
    r._free(p)
  }
  for (const f of frames) bytesEqual(pull.decrypt(f), refPull.decrypt(f), `frame of ${f.byteLength} bytes`)
  bytesEqual(pull._exportState(), refPull._exportState(), 'pull states agree after the rekey')
  sender.destroy(); pull.destroy(); refPull.destroy()
})

test('tampering: any flipped bit in a large frame (aligned and not) → DECRYPTION_FAILED, state untouched so the genuine frame still opens', async () => {
  await cryptoReady()
  const rnd = prng(15)
  const key = rnd.bytes(32)
  const push = new WasmSecretstreamPush(key)
  const pull = new SecretstreamPull(key, push.header, FORCE)
  let rejected = 0
  for (const n of [65536, 65536 + 5, 4096 + 13, 100, 448, 451]) {
    const m = rnd.bytes(n)
    const frame = push.encrypt(m)
    for (const at of [0, 1, 64, n >> 1, n, n + 1, n + 8, n + ABYTES - 1]) {
      const bad = frame.slice()
      bad[at]! ^= 1 << (at % 8)
      throwsWithCode(() => pull.decrypt(bad), 'DECRYPTION_FAILED', `mlen ${n}, byte ${at}`)
      rejected++
    }
    throwsWithCode(() => pull.decrypt(frame.subarray(0, frame.byteLength - 1)), 'DECRYPTION_FAILED', `mlen ${n} truncated by one`)
    bytesEqual(pull.decrypt(frame), m, `mlen ${n}: the genuine frame after the forgeries`)
  }
  throwsWithCode(() => pull.decrypt(new Uint8Array(ABYTES - 1)), 'DECRYPTION_FAILED', 'shorter than the overhead')
  equal(rejected, 48)
  push.destroy(); pull.destroy()
})

test('cipher-mac: from an AAD-only base pass and one known tag, the tag of another continuation equals Poly1305 (libsodium crypto_onetimeauth)', async () => {
  // libsodium's Poly1305 through its wrappers (the library's trimmed WASM does not export it).
  await sodium.ready
  const poly = (key: Uint8Array, msg: Uint8Array): Uint8Array => sodium.crypto_onetimeauth(msg, key)
  const rnd = prng(16)
  for (let i = 0; i < 200; i++) {
    const key = rnd.bytes(32)
    const nonce = rnd.bytes(12)
    const prefix = rnd.bytes(16 * (1 + rnd.int(40)))
    const known = rnd.bytes(17 + rnd.int(32)) // two or three chunks (see PrefixTags.matches)
    const wanted = rnd.bytes(1 + rnd.int(48))
    // The AEAD's Poly1305 key is ChaCha20 block 0 of (key, nonce).
    const polyKey = createCipheriv('chacha20', key, new Uint8Array([0, 0, 0, 0, ...nonce])).update(new Uint8Array(32))
    const aead = createCipheriv('chacha20-poly1305', key, nonce, { authTagLength: 16 })
    aead.setAAD(prefix, { plaintextLength: 0 })
    aead.final()
    const tags = new PrefixTags(polyKey, prefix.byteLength, aead.getAuthTag())
    const hits = tags.matches(known, poly(polyKey, new Uint8Array([...prefix, ...known])))
    equal(hits.length, 1, `case ${i}: exactly one candidate predicts the known tag`)
    bytesEqual(tags.tagAt(hits[0]!, wanted), poly(polyKey, new Uint8Array([...prefix, ...wanted])), `case ${i}: predicted tag`)
  }
  throwsWithCode(() => new PrefixTags(new Uint8Array(32), 16, new Uint8Array(16)).matches(new Uint8Array(16), new Uint8Array(16)), 'ASSERTION', 'one-chunk continuation')
  // The suffix builders: libsodium pads by mlen mod 16, RFC 8439 up to 16.
  deepEqual([...secretstreamSuffix(new Uint8Array([9, 9, 9]), 0x0143)], [9, 9, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x43, 1, 0, 0, 0, 0, 0, 0])
  deepEqual([...aeadSuffix(new Uint8Array([9, 9, 9]), 0x0143)], [9, 9, 9, ...new Array(13).fill(0), 0, 0, 0, 0, 0, 0, 0, 0, 0x43, 1, 0, 0, 0, 0, 0, 0])
})
