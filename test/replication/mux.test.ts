/**
 * @module test/replication/mux.test
 * Our Protomux against itself over in-memory message pairs: pairing in both orders, the
 * recorded bytes of the transcript (open, batches), many channels, close and id reuse,
 * reject and on-demand pairing, batching rules, destroy.
 */
import { test } from 'node:test'
import c from 'compact-encoding'
import { Mux, type Channel, type ChannelOptions } from '../../src/replication/mux/index.js'
import { channelCodecs, handshake, MessageType, HYPERCORE_PROTOCOL, type SyncMessage, type RangeMessage } from '../../src/wire/messages.js'
import { bytesEqual, deepEqual, equal, fromHex, hex, ok } from '../helpers/assert.js'
import { transcript } from '../vectors/fixtures.js'
import { recordedFrames } from '../wire/transcript-frames.js'
import { memoryPair, loneStream, settle, deferred } from './mux-helpers.js'

const dk = fromHex(transcript.setup.discoveryKey)
const capI = fromHex(transcript.capability.initiator)
const capR = fromHex(transcript.capability.responder)
const sync0: SyncMessage = { fork: 0, length: 0, remoteLength: 0, canUpgrade: true, uploading: true, downloading: true, hasManifest: false, allowPush: false }

/** A hypercore-shaped channel that records what it receives. */
function hypercoreChannel (mux: Mux, log: unknown[], extra: Partial<ChannelOptions<{ seeks: boolean, capability: Uint8Array }>> = {}): Channel<{ seeks: boolean, capability: Uint8Array }> {
  const ch = mux.createChannel({
    protocol: HYPERCORE_PROTOCOL,
    id: dk,
    handshake,
    messages: channelCodecs.map((encoding, type) => ({ encoding, onmessage: (m: unknown) => { log.push([type, m]) } })),
    onopen: (hs) => { log.push(['open', hex(hs!.capability)]) },
    onclose: (isRemote) => { log.push(['close', isRemote]) },
    ...extra
  })
  ok(ch !== null)
  return ch
}

/** A small test channel: protocol `p`, messages uint and string. */
function simple (mux: Mux, log: unknown[], name = 'p', extra: Partial<ChannelOptions> = {}): Channel {
  const ch = mux.createChannel({
    protocol: name,
    messages: [
      { encoding: c.uint, onmessage: (m: number) => { log.push(['uint', m]) } },
      { encoding: c.string, onmessage: (m: string) => { log.push(['string', m]) } }
    ],
    onopen: () => { log.push('open') },
    onclose: (isRemote) => { log.push(['close', isRemote]) },
    ...extra
  })
  ok(ch !== null)
  return ch
}

test('open bytes equal the transcript (seq 2, seq 6); pairing local-first and remote-first', async () => {
  const [sa, sb] = memoryPair()
  const a = new Mux(sa)
  const b = new Mux(sb)
  const la: unknown[] = []
  const lb: unknown[] = []
  const ca = hypercoreChannel(a, la)
  ca.open({ seeks: true, capability: capI })
  bytesEqual(sa.written[0], recordedFrames[0].bytes, 'writer open (seq 2)')
  await settle() // b has no channel and no pair handler: the open is rejected
  bytesEqual(sb.written[0], '000201')
  deepEqual(la, [['close', true]])
  equal(ca.closed, true)

  // Remote-first: a opens, b opens later from its pair handler; either order pairs.
  const opened = deferred()
  b.pair({ protocol: HYPERCORE_PROTOCOL, id: dk }, () => {
    const cb = hypercoreChannel(b, lb, { onopen: (hs) => { lb.push(['open', hex(hs!.capability)]); opened.resolve() } })
    cb.open({ seeks: true, capability: capR })
  })
  const la2: unknown[] = []
  const ca2 = hypercoreChannel(a, la2)
  ca2.open({ seeks: true, capability: capI })
  await opened.promise
  bytesEqual(sb.written[1], recordedFrames[1].bytes, 'reader open (seq 6)')
  deepEqual(lb, [['open', hex(capI)]])
  await settle()
  deepEqual(la2, [['open', hex(capR)]])
  equal(ca2.localId, 1, 'id 1 reused after the reject')
  equal(ca2.remoteId, 1)
  equal(a.opened({ protocol: HYPERCORE_PROTOCOL, id: dk }), true)
})

test('batch bytes equal the transcript: 00 00 01 05 00 07 00 00 00 and sync+range (seq 11)', async () => {
  const [sa, sb] = memoryPair()
  const a = new Mux(sa)
  const b = new Mux(sb)
  const la: unknown[] = []
  const lb: unknown[] = []
  const ca = hypercoreChannel(a, la)
  const cb = hypercoreChannel(b, lb)
  ca.open({ seeks: true, capability: capI })
  cb.open({ seeks: true, capability: capR })
  await settle()
  ok(ca.opened && cb.opened)

  cb.cork()
  cb.messages[MessageType.SYNC].send(sync0)
  equal(sb.written.length, 1, 'nothing written while corked')
  cb.uncork()
  bytesEqual(sb.written[1], '000001050007000000', 'reader first batch (seq 8)')

  ca.cork()
  ca.messages[MessageType.SYNC].send({ ...sync0, length: 3 })
  ca.messages[MessageType.RANGE].send({ drop: false, start: 0, length: 3 } satisfies RangeMessage)
  ca.uncork()
  bytesEqual(sa.written[1], recordedFrames[3].bytes, 'writer batch (seq 11)')
  ca.messages[MessageType.SYNC].send({ ...sync0, length: 3 })
  bytesEqual(sa.written[2], recordedFrames[4].bytes, 'writer sync unbatched (seq 12)')
  await settle()
  deepEqual(la.slice(1), [[0, sync0]])
  deepEqual(lb.slice(1), [[0, { ...sync0, length: 3 }], [8, { drop: false, start: 0, length: 3 }], [0, { ...sync0, length: 3 }]])
})

test('every transcript frame replayed into our mux is delivered as recorded', async () => {
  const s = loneStream()
  const mux = new Mux(s)
  const got: unknown[] = []
  const ch = hypercoreChannel(mux, got)
  ch.open({ seeks: true, capability: capR })
  for (const f of recordedFrames) if (f.from === 'writer') s.inject(f.bytes)
  equal(mux.destroyed, false)
  const types = got.map((x) => (x as unknown[])[0])
  deepEqual(types, ['open', 0, 8, 0, 3, 0, 3, 8, 0, 3, 3])
})

test('a multi-item batch is answered with a batch; a one-item batch is not', async () => {
  const s = loneStream()
  const mux = new Mux(s)
  let reply: Channel | null = null
  const ch = simple(mux, [], 'p', {
    messages: [{ encoding: c.uint, onmessage: (m: number) => { reply!.messages[1].send('r' + m) } }, { encoding: c.string }]
  })
  reply = ch
  ch.open()
  s.inject(fromHex('000101017000')) // remote opens p with id 1
  ok(ch.opened)
  s.inject(fromHex('000001' + '020001' + '020002')) // batch: uint 1, uint 2 on channel 1
  bytesEqual(s.written[1], '000001' + '0401027231' + '0401027232')
  s.inject(fromHex('000001020003'))
  bytesEqual(s.written[2], '0101027233')
  equal(s.written.length, 3)
})

test('corked opens go out as one batch of channel-0 items; a full batch is flushed at the cap', async () => {
  const s = loneStream()
  const mux = new Mux(s, { maxBatchBytes: 16 })
  mux.cork()
  mux.createChannel({ protocol: 'x' })!.open()
  mux.createChannel({ protocol: 'y', id: new Uint8Array(2) })!.open()
  equal(mux.stats.batchedBytes, 14)
  mux.createChannel({ protocol: 'z' })!.open() // would pass 16 bytes: the first batch goes out
  equal(s.written.length, 1)
  bytesEqual(s.written[0], '000000' + '0501010178' + '00' + '070102017902' + '0000')
  mux.uncork()
  bytesEqual(s.written[1], '000000' + '050103017a00')
  mux.uncork() // extra uncork: nothing
  equal(s.written.length, 2)
})

test('100 channels over one pair: ids 1..100, messages on each, close from both sides, ids reused', async () => {
  const [sa, sb] = memoryPair()
  const a = new Mux(sa)
  const b = new Mux(sb)
  const la: unknown[] = []
  const lb: unknown[] = []
  const opened = deferred()
  let count = 0
  b.pair({ protocol: 'many' }, (id) => {
    const ch = b.createChannel({
      protocol: 'many',
      id,
      messages: [{ encoding: c.uint, onmessage: (m: number, ch: Channel) => { lb.push([ch.id![0], m]); ch.messages[0].send(m * 2) } }],
      onopen: () => { if (++count === 100) opened.resolve() }
    })!
    ch.open()
  })
  const chans: Channel[] = []
  for (let i = 0; i < 100; i++) {
    const ch = a.createChannel({ protocol: 'many', id: new Uint8Array([i]), messages: [{ encoding: c.uint, onmessage: (m: number) => { la.push([i, m]) } }] })!
    ch.open()
    chans.push(ch)
  }
  deepEqual(chans.map((ch) => ch.localId), Array.from({ length: 100 }, (_, i) => i + 1))
  await opened.promise
  for (const [i, ch] of chans.entries()) ch.messages[0].send(i)
  await settle()
  await settle()
  equal(lb.length, 100)
  deepEqual(la.sort((x, y) => (x as number[])[0] - (y as number[])[0]), chans.map((_, i) => [i, i * 2]))

  // a closes 0..49 and b closes 25..99 at the same time (25..49 from both sides at once);
  // both sides end up with nothing.
  for (const ch of chans.slice(0, 50)) ch.close()
  for (const ch of [...b].slice(25)) ch.close()
  await settle()
  equal(a.stats.channels, 0)
  equal(b.stats.channels, 0)
  equal(a.stats.remoteChannels, 0)
  equal(b.stats.remoteChannels, 0)
  ok(a.isIdle() && b.isIdle())
  const again = a.createChannel({ protocol: 'again' })!
  again.open()
  ok(again.localId >= 1 && again.localId <= 100, `reused id ${again.localId}`)
})

test('close: remote onclose(true), local onclose(false), ondestroy after async handlers settle', async () => {
  const [sa, sb] = memoryPair()
  const a = new Mux(sa)
  const b = new Mux(sb)
  const la: unknown[] = []
  const lb: unknown[] = []
  const release = deferred()
  const destroyed = deferred()
  const ca = simple(a, la, 'p', { ondestroy: () => { la.push('destroy'); destroyed.resolve() } })
  ca.messages[0].onmessage = async (m: unknown) => { la.push(['slow', m]); await release.promise }
  const cb = simple(b, lb)
  ca.open()
  cb.open()
  await settle()
  cb.messages[0].send(5)
  await settle()
  cb.close()
  bytesEqual(sb.written.at(-1)!, '000301')
  await settle()
  deepEqual(la, ['open', ['slow', 5], ['close', true]])
  deepEqual(lb, ['open', ['close', false]])
  equal(ca.destroyed, false, 'a handler is still pending')
  release.resolve()
  await destroyed.promise
  deepEqual(la.at(-1), 'destroy')
  ca.close() // idempotent
  cb.close()
  equal(sa.written.length, 1)
  equal(sb.written.length, 3)
  // A stale message for the closed id is ignored.
  sa.inject(fromHex('010005'))
  equal(a.destroyed, false)
})

test('reject: no handler → 00 02 id; pair handler that opens later (async) accepts; one that does not → reject', async () => {
  const s = loneStream()
  const mux = new Mux(s)
  s.inject(fromHex('000107017000'))
  bytesEqual(s.written[0], '000207')
  const gate = deferred()
  const log: unknown[] = []
  mux.pair({ protocol: 'p' }, async () => {
    await gate.promise
    simple(mux, log).open()
  })
  s.inject(fromHex('000108017000'))
  s.inject(fromHex('0800fd0001')) // a message on it before our open: held
  equal(mux.stats.unpairedChannels, 1)
  equal(mux.stats.unpairedBytes, 1 + 0 + 0 + 64 + 3 + 64)
  gate.resolve()
  await settle()
  deepEqual(log, ['open', ['uint', 256]])
  bytesEqual(s.written[1], '000101017000')
  equal(mux.stats.unpairedBytes, 0)
  mux.unpair({ protocol: 'p' })
  mux.pair({ protocol: 'q', id: new Uint8Array([9]) }, () => {}) // never opens
  s.inject(fromHex('0001090171010900'))
  bytesEqual(s.written[2], '000209', 'a sync handler that opened nothing: rejected as it returns')
  equal(mux.stats.unpairedChannels, 0)
})

test('remote close of a channel still waiting for us drops it; reject of our open closes it', async () => {
  const s = loneStream()
  const mux = new Mux(s)
  const gate = deferred()
  mux.pair({ protocol: 'p' }, () => gate.promise)
  s.inject(fromHex('000103017000'))
  s.inject(fromHex('010300'))
  s.inject(fromHex('000303'))
  equal(mux.stats.unpairedChannels, 0)
  equal(mux.stats.unpairedBytes, 0)
  gate.resolve()
  await settle()
  equal(s.written.length, 0, 'no reject for an open the remote already closed')

  const log: unknown[] = []
  const ch = simple(mux, log, 'r')
  ch.open()
  s.inject(fromHex('000201'))
  deepEqual(log, [['close', true]])
  equal(mux.stats.channels, 0)
})

test('unique channels: a second live channel with the same key is refused until the first closes', () => {
  const mux = new Mux(loneStream())
  const a = mux.createChannel({ protocol: 'p', id: new Uint8Array([1]) })!
  equal(mux.createChannel({ protocol: 'p', id: new Uint8Array([1]) }), null)
  ok(mux.createChannel({ protocol: 'p', id: new Uint8Array([2]) }) !== null)
  ok(mux.createChannel({ protocol: 'p', id: new Uint8Array([1]), unique: false }) !== null)
  a.close()
  equal(mux.createChannel({ protocol: 'p', id: new Uint8Array([1]) }), null, 'the non-unique one is still live')
  // An empty id is the same key as no id.
  mux.createChannel({ protocol: 'e' })
  equal(mux.createChannel({ protocol: 'e', id: new Uint8Array(0) }), null)
})

test('destroy: every channel gets onclose and ondestroy; the stream is destroyed; later calls are no-ops', async () => {
  const [sa, sb] = memoryPair()
  const a = new Mux(sa)
  const b = new Mux(sb)
  const la: unknown[] = []
  const lb: unknown[] = []
  const chans = [simple(a, la, 'p1', { ondestroy: () => { la.push('d1') } }), simple(a, la, 'p2'), simple(a, la, 'never-opened')]
  chans[0].open()
  chans[1].open()
  simple(b, lb, 'p1').open()
  await settle()
  a.destroy()
  equal(a.destroyed, true)
  equal(a.error, null)
  equal(sa.destroyed, true)
  // p2 was rejected by b (no pair handler) before the destroy; then p1, its ondestroy, never-opened.
  deepEqual(la, ['open', ['close', true], ['close', true], 'd1', ['close', true]])
  equal(b.destroyed, true, 'the peer sees its stream close')
  deepEqual(lb, ['open', ['close', true]])
  equal(a.createChannel({ protocol: 'late' }), null)
  equal(chans[0].messages[0].send(1), false)
  a.destroy(new Error('again'))
  equal(a.error, null)
})
