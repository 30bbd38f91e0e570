/**
 * Replicator behaviour between our own cores: download ranges and their
 * progress, get options (wait, timeout, onwait, signal), findingPeers, peer events, several
 * peers with bounded in-flight requests, cancellation.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { HypercoreError } from '../../src/errors.js'
import { connect, once, ourReader, ourWriter, text, until } from './replicator-helpers.js'
import { Replicator } from '../../src/replication/replicator/replicator.js'

const blocks = (n: number): Buffer[] => Array.from({ length: n }, (_, i) => Buffer.from('b' + i))

async function setup (n: number) {
  const w = await ourWriter()
  await w.append(blocks(n))
  const r = await ourReader(w.key!)
  const c = connect(w, r)
  await once(r, 'peer-add')
  await r.update({ wait: true })
  return { w, r, c }
}

test('download {start, end} reports progress (blocks and bytes of total) and resolves done()', async () => {
  const { r, c } = await setup(100)
  const events: any[] = []
  const range: any = r.download({ start: 10, end: 60 })
  range.on('progress', (p: any) => events.push(p))
  await range.done()
  assert.equal(events.length, 50)
  assert.deepEqual(events.at(-1), { blocks: 50, totalBlocks: 50, bytes: events.at(-1).bytes })
  let bytes = 0
  for (let i = 10; i < 60; i++) bytes += ('b' + i).length
  assert.equal(events.at(-1).bytes, bytes)
  assert.equal(await r.has(10, 60), true)
  assert.equal(await r.has(9), false)
  assert.equal(await r.has(60), false)
  await c.done()
})

test('download {start, end} over blocks partly stored counts what is there from the start (runs, a lone block, the edges)', async () => {
  const { r, c } = await setup(40)
  await r.download({ blocks: [3, 4, 5, 6, 9, 20, 30, 31] }).done()
  const range: any = r.download({ start: 4, end: 31 })
  const events: any[] = []
  range.on('progress', (p: any) => events.push(p))
  await range.done()
  // 4..6, 9, 20 and 30 were stored (3 and 31 lie outside): 6 of 27 counted before any download.
  assert.equal(events.length, 27 - 6)
  assert.deepEqual(events.at(-1), { blocks: 27, totalBlocks: 27, bytes: events.at(-1).bytes })
  let bytes = 0
  for (let i = 4; i < 31; i++) if (![4, 5, 6, 9, 20, 30].includes(i)) bytes += ('b' + i).length
  assert.equal(events.at(-1).bytes, bytes, 'only the blocks downloaded by this range count as its bytes')
  assert.equal(await r.has(4, 31), true)
  await c.done()
})

test('download {blocks} fetches exactly those; linear works; a range already present is done at once', async () => {
  const { r, c } = await setup(50)
  await r.download({ blocks: [4, 9, 7] }).done()
  assert.equal(await r.has(4), true)
  assert.equal(await r.has(7), true)
  assert.equal(await r.has(9), true)
  assert.equal(await r.has(5), false)
  await r.download({ start: 20, end: 30, linear: true }).done()
  assert.equal(await r.has(20, 30), true)
  await r.download({ blocks: [4, 9] }).done()
  await c.done()
})

test('download end -1 follows the core as it grows; after destroy() done() resolves false (hypercore@10)', async () => {
  const { w, r, c } = await setup(5)
  const range: any = r.download({ start: 0, end: -1 })
  await w.append(blocks(5))
  while (!(await r.has(0, 10))) await once(r, 'download')
  range.destroy()
  assert.equal(await range.done(), false)
  await c.done()
})

test('get: wait:false returns null, timeout rejects REQUEST_TIMEOUT, onwait is called, signal cancels', async () => {
  const w = await ourWriter()
  await w.append(blocks(3))
  const r = await ourReader(w.key!)
  assert.equal(await r.get(0, { wait: false }), null)
  await assert.rejects(r.get(0, { timeout: 50 }), (err: unknown) => HypercoreError.is(err, 'REQUEST_TIMEOUT'))
  const ac = new AbortController()
  const p = r.get(1, { signal: ac.signal })
  ac.abort()
  await assert.rejects(p, (err: unknown) => HypercoreError.is(err, 'REQUEST_CANCELLED'))
  const waited: number[] = []
  const got = r.get(2, { onwait: (i: number) => waited.push(i) })
  const c = connect(w, r)
  assert.equal(text(await got), 'b2')
  assert.deepEqual(waited, [2])
  await c.done()
})

test('update without peers returns false at once; findingPeers makes it wait for the first peer', async () => {
  const w = await ourWriter()
  await w.append(blocks(4))
  const r = await ourReader(w.key!)
  assert.equal(await r.update(), false)
  const done = r.findingPeers()
  const updated = r.update()
  const c = connect(w, r)
  assert.equal(await updated, true)
  assert.equal(r.length, 4)
  done()
  await c.done()
})

test('update resolves false when findingPeers finishes with no peer found', async () => {
  const w = await ourWriter()
  const r = await ourReader(w.key!)
  const done = r.findingPeers()
  const updated = r.update()
  done()
  assert.equal(await updated, false)
})

test('peer-add / peer-remove and core.peers', async () => {
  const w = await ourWriter()
  await w.append(blocks(2))
  const r = await ourReader(w.key!)
  assert.deepEqual(r.peers, [])
  const c = connect(w, r)
  const [peer] = await once(r, 'peer-add')
  assert.equal(r.peers.length, 1)
  assert.equal(r.peers[0], peer)
  assert.equal(w.peers.length === 1 || (await once(w, 'peer-add')).length === 1, true)
  // The peer is named by the remote's static Noise key.
  assert.deepEqual(Buffer.from(peer.remotePublicKey), Buffer.from(w.peers[0].stream.publicKey!))
  const removed = once(r, 'peer-remove')
  await c.done()
  const [gone] = await removed
  assert.equal(gone, peer)
  assert.deepEqual(r.peers, [])
})

test('several peers: requests spread across them, never more than 48 in flight per peer', async () => {
  const w = await ourWriter()
  await w.append(blocks(600))
  const seeds = [await ourReader(w.key!), await ourReader(w.key!)]
  const conns = []
  for (const s of seeds) {
    const c = connect(w, s)
    conns.push(c)
    await once(s, 'peer-add')
    await s.update({ wait: true })
    await s.download({ start: 0, end: 600 }).done()
    await c.done()
  }
  const r = await ourReader(w.key!)
  for (const s of seeds) conns.push(connect(s, r))
  while (r.peers.length < 2) await once(r, 'peer-add')
  await r.update({ wait: true })
  const per = new Map<unknown, number>()
  let maxInflight = 0
  r.on('download', (_i: number, _b: number, peer: any) => {
    per.set(peer, (per.get(peer) ?? 0) + 1)
    for (const p of r.peers) maxInflight = Math.max(maxInflight, p.inflight.size)
  })
  await r.download({ start: 0, end: 600 }).done()
  assert.equal(per.size, 2)
  for (const n of per.values()) assert.ok(n >= 100, `each peer served a share (${[...per.values()].join(', ')})`)
  assert.ok(maxInflight <= 48 && maxInflight > 1, `in flight per peer: ${maxInflight}`)
  for (const c of conns) await c.done()
})

test('a get the caller gives up on is cancelled on the wire', async () => {
  const { w, r, c } = await setup(10)
  // The writer sits on requests (records them instead of answering), so ours stays in flight.
  const seen: any[] = []
  const cancels: number[] = []
  const rep = (w as any).core.replicator
  rep.onrequest = (_peer: unknown, m: any) => seen.push(m)
  rep.oncancel = (_peer: unknown, m: any) => cancels.push(m.request)
  const peer = r.peers[0]
  const ac = new AbortController()
  const p = r.get(5, { signal: ac.signal })
  while (seen.length === 0) await once(w.peers[0].channel.mux.stream, 'data')
  assert.equal(seen[0].block.index, 5)
  assert.equal(peer.inflight.size, 1)
  ac.abort()
  await assert.rejects(p, (err: unknown) => HypercoreError.is(err, 'REQUEST_CANCELLED'))
  assert.equal(peer.inflight.size, 0)
  while (cancels.length === 0) await once(w.peers[0].channel.mux.stream, 'data')
  assert.deepEqual(cancels, [seen[0].id])
  await c.done()
})

test('eagerUpgrade: false asks for a longer length only when something wants it, and then at once: update() (found by the hostile-peer fuzzer: it never asked, update() waited for ever)', { timeout: 20000 }, async () => {
  const w = await ourWriter()
  await w.append(blocks(4))
  const r = await ourReader(w.key!)
  // The replicator with its options, before the connection makes one with the defaults.
  Replicator.for((r as any).core, { eagerUpgrade: false, requestTimeout: 10000 })
  const asked: any[] = []
  const rep = (w as any).core.replicator ?? Replicator.for((w as any).core)
  const onrequest = rep.onrequest.bind(rep)
  rep.onrequest = (peer: unknown, m: any) => { asked.push(m); onrequest(peer, m) }
  const c = connect(w, r)
  await once(r, 'peer-add')
  // The writer announced 4 blocks; nothing wants them yet: nothing is asked.
  await until(() => r.peers[0]?.remoteLength === 4)
  assert.equal(r.length, 0)
  assert.equal(asked.length, 0)
  // update() wants them: the upgrade request goes out at once, not at a watchdog tick (2.5 s here).
  const started = Date.now()
  assert.equal(await r.update({ wait: true }), true)
  assert.equal(r.length, 4)
  assert.ok(Date.now() - started < 1000, `update() took ${Date.now() - started} ms`)
  assert.deepEqual(asked.map(m => m.upgrade), [{ start: 0, length: 4 }])
  // A later append is not fetched until wanted either; then update() gets it.
  await w.append(blocks(2))
  await until(() => r.peers[0]?.remoteLength === 6)
  assert.equal(r.length, 4)
  assert.equal(asked.length, 1)
  assert.equal(await r.update({ wait: true }), true)
  assert.equal(r.length, 6)
  assert.equal(text(await r.get(5)), 'b1')
  await c.done()
})
