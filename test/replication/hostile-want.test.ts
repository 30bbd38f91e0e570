/**
 * Attack 3: a peer stops reading and keeps asking. Every `want` used to be answered with a
 * bitfield of at least 4 KiB, never de-duplicated and whatever the backpressure, so 20,000
 * wants (about 160 KB sent) made the victim hold over 80 MB. Now each segment is answered
 * once per peer, answers wait for the stream to drain, syncs and announcements for a stalled
 * peer are held as one state, and a peer that floods stops being read: what the victim holds
 * for it stays bounded. Repeating wants is a flood (PROTOCOL_ERROR); the honest writer keeps
 * serving.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { connect, once, ourReader, ourWriter, text, until } from './replicator-helpers.js'
import { attack, blocks, loopProbe, processed, victimOptions, within } from './hostile-helpers.js'

/** A victim holding blocks 0-99 and 150-299 of a 400-block core (so wants are answered with bitfields), with the writer connected. */
async function sparseVictim () {
  const w = await ourWriter()
  await w.append(blocks(400))
  const v = await ourReader(w.key!)
  victimOptions(v, { requestTimeout: 1000 })
  const honest = connect(w, v)
  await once(v, 'peer-add')
  await v.update({ wait: true })
  await v.download({ start: 0, end: 100 }).done()
  await v.download({ start: 150, end: 300 }).done()
  return { w, v, honest }
}

test('attack 3: 20,000 wants from a peer that does not read: answered once, the victim holds almost nothing, the peer is dropped', { timeout: 60000 }, async () => {
  const { v, honest } = await sparseVictim()
  const a = await attack(v, v.key!)
  a.send.sync({ length: 400, remoteLength: 400 })
  await processed(a)
  a.stopReading()
  const stream = a.victimPeer.stream as any
  const probe = loopProbe()
  let peak = 0
  for (let batch = 0; batch < 20 && !a.victimPeer.closed; batch++) {
    a.cork()
    for (let i = 0; i < 1000; i++) a.send.want(0, 2 ** 21)
    // Syncs it never reads the answers to, each saying something new.
    for (let i = 0; i < 50; i++) a.send.sync({ length: 400 + batch * 50 + i, remoteLength: 400 })
    a.uncork()
    await processed(a)
    peak = Math.max(peak, stream.pendingBytes ?? stream._writableState.buffered)
  }
  const stall = probe.stop()
  assert.ok(peak < 512 * 1024, `the victim held ${(peak / 1024).toFixed(0)} KiB for a peer that does not read`)
  assert.ok(stall < 100, `the victim's event loop stalled ${stall.toFixed(0)} ms`)
  assert.equal((await within(a.closed, 5000, 'the flooding peer is dropped'))?.code, 'PROTOCOL_ERROR')
  // The honest writer still serves the victim.
  await within(v.download({ start: 100, end: 150 }).done(), 5000, 'download from the writer')
  assert.equal(text(await v.get(120)), 'b120')
  await honest.done()
})

test('a want is answered with our bitfield once per segment; later blocks reach the peer as ranges', { timeout: 30000 }, async () => {
  const { v, honest } = await sparseVictim()
  const a = await attack(v, v.key!)
  const bitfields: any[] = []
  const ranges: any[] = []
  const rep = (a.core as any).core.replicator
  rep.onbitfield = (_p: unknown, m: any) => bitfields.push(m)
  rep.onrange = (_p: unknown, m: any) => ranges.push(m)
  a.send.sync({ length: 400, remoteLength: 400 })
  a.send.want(0, 2 ** 21)
  a.send.want(0, 2 ** 21)
  a.send.want(1000, 10)
  await processed(a)
  await until(() => bitfields.length > 0, 5000)
  assert.equal(bitfields.length, 1)
  const words: Uint32Array = bitfields[0].bitfield
  assert.equal(words.length, 1024) // at least 1024 words (§5.7), up to our last block
  assert.equal(words[0], 0xffffffff)
  assert.equal(words[3], 0xf) // blocks 96-99 of 96-127
  assert.equal(words[4], 0xffc00000) // blocks 150-159 of 128-159
  assert.equal(words[9], 0xfff) // blocks 288-299 of 288-319
  assert.equal(words[10], 0)
  await within(v.download({ start: 100, end: 110 }).done(), 5000, 'download')
  await until(() => ranges.some(r => r.start >= 100 && r.start < 110), 5000)
  assert.equal(bitfields.length, 1, 'no second bitfield for the same segment')
  await honest.done()
  a.destroy()
})

test('a peer that sends requests but does not read its answers stops being read: the victim holds one batch, not every answer', { timeout: 30000 }, async () => {
  const w = await ourWriter()
  await w.append(Array.from({ length: 64 }, (_, i) => Buffer.alloc(16 * 1024, i)))
  const v = await ourReader(w.key!)
  victimOptions(v, { requestTimeout: 1000 })
  const honest = connect(w, v)
  await once(v, 'peer-add')
  await v.update({ wait: true })
  await v.download({ start: 0, end: 64 }).done()
  const a = await attack(v, v.key!)
  a.send.sync({ length: 64, remoteLength: 64 })
  await processed(a)
  a.stopReading()
  const stream = a.victimPeer.stream as any
  // 1500 requests for 16 KiB blocks: 24 MiB of answers if all were made.
  a.cork()
  for (let i = 0; i < 1500; i++) a.peer.sendRequest({ id: 1 + i, fork: 0, block: { index: i % 64, nodes: 0 }, hash: null, seek: null, upgrade: null, manifest: false, priority: 0 })
  a.uncork()
  let peak = 0
  await until(() => {
    peak = Math.max(peak, stream.pendingBytes ?? stream._writableState.buffered)
    return a.victimPeer.mux.inputHeld === true
  }, 5000)
  for (let i = 0; i < 20; i++) {
    await new Promise(resolve => setImmediate(resolve))
    peak = Math.max(peak, stream.pendingBytes ?? stream._writableState.buffered)
  }
  assert.ok(peak < 2 * 1024 * 1024, `the victim held ${(peak / 1024).toFixed(0)} KiB of answers`)
  assert.ok(a.victimPeer.remoteWork.size > 0 && a.victimPeer.remoteWork.size <= 1500)
  // Reading again lets every answer through, and the victim reads again.
  let answers = 0
  const rep = (a.core as any).core.replicator
  rep.ondata = async () => { answers++ }
  rep.onnodata = () => { answers++ }
  a.resumeReading()
  await until(() => answers >= 1500, 10000)
  assert.equal(a.victimPeer.mux.inputHeld, false)
  await honest.done()
  a.destroy()
})
