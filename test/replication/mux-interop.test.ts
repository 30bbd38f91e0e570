/**
 * @module test/replication/mux-interop.test
 * Our Mux against the real `protomux` (a black box from node_modules) over a streamx
 * message pair, both directions. One scripted session is run four ways (theirs↔theirs,
 * ours↔theirs, theirs↔ours, ours↔ours) and every frame each side writes, and every callback
 * each side sees, must be identical across the four runs. Then the transcript's hypercore
 * messages cross the boundary both ways.
 */
import { test } from 'node:test'
import { createRequire } from 'node:module'
import c from 'compact-encoding'
import { Mux } from '../../src/replication/mux/index.js'
import { channelCodecs, handshake, HYPERCORE_PROTOCOL } from '../../src/wire/messages.js'
import { decodeFrame } from '../../src/wire/mux-frames.js'
import { deepEqual, equal, hex, ok } from '../helpers/assert.js'
import { transcript } from '../vectors/fixtures.js'
import { recordedFrames, toJson } from '../wire/transcript-frames.js'
import { streamxPair, settle, deferred } from './mux-helpers.js'
import type { Duplex } from 'streamx'

const require = createRequire(import.meta.url)
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const Protomux: any = require('protomux')

type Impl = 'ours' | 'theirs'
// Both muxes are driven through the same duck-typed API (createChannel/pair/cork/…).
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyMux = any

function makeMux (impl: Impl, stream: Duplex): AnyMux {
  return impl === 'ours' ? new Mux(stream) : new Protomux(stream)
}

async function ticks (n = 3): Promise<void> {
  for (let i = 0; i < n; i++) await settle()
}

/** The scripted session; returns every frame and callback, per side. */
async function session (implA: Impl, implB: Impl): Promise<{ frames: string[], log: string[] }> {
  const frames: string[] = []
  const log: string[] = []
  const [sa, sb] = streamxPair((from, f) => frames.push(from + ' ' + hex(f)))
  const a = makeMux(implA, sa)
  const b = makeMux(implB, sb)

  const channel = (mux: AnyMux, side: string, protocol: string, id: Uint8Array | null, replies: boolean): AnyMux => {
    const ch = mux.createChannel({
      protocol,
      id,
      handshake: c.uint,
      messages: [
        { encoding: c.uint, onmessage: (m: number) => { log.push(`${side} uint ${m}`); if (replies) ch.messages[1].send('r' + m) } },
        { encoding: c.string, onmessage: (m: string) => { log.push(`${side} string ${m}`) } }
      ],
      onopen: (hs: number) => { log.push(`${side} open ${protocol} ${hs}`) },
      onclose: (isRemote: boolean) => { log.push(`${side} close ${protocol} ${isRemote}`) }
    })
    return ch
  }

  b.pair({ protocol: 'p', id: new Uint8Array([1]) }, () => { channel(b, 'B', 'p', new Uint8Array([1]), true).open(8) })
  b.pair({ protocol: 'm', id: undefined }, (id: Uint8Array) => { channel(b, 'B', 'm', id, false).open(id[0]) })

  const pa = channel(a, 'A', 'p', new Uint8Array([1]), false)
  pa.open(7)
  await ticks()
  pa.messages[0].send(1)
  pa.cork()
  pa.messages[0].send(2)
  pa.messages[0].send(3)
  pa.messages[1].send('x')
  pa.uncork()
  await ticks()
  const pb = [...b][0]
  pb.cork()
  pb.messages[1].send('hello')
  pb.messages[0].send(300)
  pb.uncork()
  await ticks()
  pa.close()
  await ticks()
  const pa2 = channel(a, 'A', 'p', new Uint8Array([1]), false)
  pa2.open(70000)
  await ticks()
  pa2.messages[0].send(4)
  await ticks()
  for (const ch of b) ch.close()
  await ticks()
  channel(a, 'A', 'q', null, false).open(0) // nobody on B handles q: rejected
  await ticks()
  a.cork()
  for (let i = 0; i < 3; i++) channel(a, 'A', 'm', new Uint8Array([i]), false).open(i)
  a.uncork()
  await ticks()
  for (const ch of a) ch.messages[0].send(ch.id[0] + 10)
  await ticks()
  sa.destroy()
  await ticks()
  return { frames, log }
}

test('protomux interop: one scripted session, identical frames and callbacks in all four pairings', async () => {
  const reference = await session('theirs', 'theirs')
  ok(reference.frames.length >= 20, `the session wrote ${reference.frames.length} frames`)
  // Sanity: the reference session exercised batches, rejects and closes both ways.
  ok(reference.frames.some((f) => f.startsWith('a 0000')), 'A sent a batch')
  ok(reference.frames.some((f) => f.startsWith('b 0000')), 'B sent a batch')
  ok(reference.frames.some((f) => f.startsWith('b 0002')), 'B rejected')
  ok(reference.frames.some((f) => f.startsWith('a 0003')) && reference.frames.some((f) => f.startsWith('b 0003')), 'both closed')
  for (const [implA, implB] of [['ours', 'theirs'], ['theirs', 'ours'], ['ours', 'ours']] as Array<[Impl, Impl]>) {
    const run = await session(implA, implB)
    deepEqual(run.frames, reference.frames, `frames, A=${implA} B=${implB}`)
    // Each side sees the same callbacks in the same order. (How the two sides' callbacks
    // interleave depends on microtask scheduling: protomux runs a remote-first onopen a few
    // microtasks later than we do.)
    for (const side of ['A', 'B']) {
      deepEqual(run.log.filter((l) => l[0] === side), reference.log.filter((l) => l[0] === side), `${side} callbacks, A=${implA} B=${implB}`)
    }
  }
})

/** The hypercore channel on either side; theirs reads and writes raw message bodies. */
async function hypercorePair (ours: 'A' | 'B'): Promise<{ send: (type: number, body: Uint8Array) => void, got: unknown[], oursCh: AnyMux, theirsGot: Array<[number, string]> }> {
  const [sa, sb] = streamxPair()
  const oursMux = new Mux(ours === 'A' ? sa : sb)
  const theirsMux = new Protomux(ours === 'A' ? sb : sa)
  const dk = Buffer.from(transcript.setup.discoveryKey, 'hex')
  const got: unknown[] = []
  const theirsGot: Array<[number, string]> = []
  const opened = deferred()
  const oursCh = oursMux.createChannel({
    protocol: HYPERCORE_PROTOCOL,
    id: dk,
    handshake,
    messages: channelCodecs.map((encoding, type) => ({ encoding, onmessage: (m: unknown) => { got.push([type, toJson(m)]) } })),
    onopen: (hs) => { got.push(['open', toJson(hs)]); opened.resolve() }
  })!
  const theirsCh = theirsMux.createChannel({
    protocol: HYPERCORE_PROTOCOL,
    id: dk,
    handshake: c.raw,
    messages: channelCodecs.map((_, type) => ({ encoding: c.raw, onmessage: (m: Uint8Array) => { theirsGot.push([type, hex(m)]) } }))
  })
  theirsCh.open(Buffer.from('01' + transcript.capability.initiator, 'hex'))
  oursCh.open({ seeks: true, capability: Buffer.from(transcript.capability.responder, 'hex') })
  await opened.promise
  return { send: (type, body) => theirsCh.messages[type].send(body), got, oursCh, theirsGot }
}

test('protomux interop: every transcript message sent by protomux decodes in our channel as recorded, and back', async () => {
  const { send, got, oursCh, theirsGot } = await hypercorePair('B')
  deepEqual(got[0], ['open', { seeks: true, capability: transcript.capability.initiator }])
  const expected: unknown[] = []
  const bodies: Array<[number, string]> = []
  for (const f of recordedFrames) {
    const top = decodeFrame(f.bytes)
    if (top.channel === 0) continue // opens and batches: covered by the session test
    send(top.type, top.payload)
    bodies.push([top.type, hex(top.payload)])
    expected.push([top.type, f.decoded[0].msg])
  }
  await ticks()
  equal(got.length - 1, expected.length)
  for (const [i, e] of expected.entries()) {
    const [type, msg] = got[i + 1] as [number, Record<string, unknown>]
    const { allowPush: _a, reason: _r, any: _y, ...rest } = msg
    deepEqual([type, rest], e, `message ${i}`)
  }
  // Back: our channel re-sends what it decoded; protomux receives the recorded bodies.
  for (const [i, [type]] of bodies.entries()) {
    const m = got[i + 1] as [number, unknown]
    equal(oursCh.messages[type].send(fromJsonValue(m[1])), true)
  }
  await ticks()
  deepEqual(theirsGot, bodies)
})

/** The transcript-shaped JSON our toJson produced → values again (hex → bytes where bytes belong). */
function fromJsonValue (v: unknown, key = ''): unknown {
  if (typeof v === 'string' && ['hash', 'value', 'signature', 'capability', 'message'].includes(key)) return Buffer.from(v, 'hex')
  if (key === 'bitfield' && Array.isArray(v)) return Uint32Array.from(v as number[])
  if (Array.isArray(v)) return v.map((x) => fromJsonValue(x))
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, fromJsonValue(x, k)]))
  return v
}
