/**
 * A malicious peer only gets its own connection closed, with a typed error; the core and
 * other peers are unaffected. The bad peer is one of our writers with its outgoing
 * messages tampered with (a real protocol session, hostile content).
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { HypercoreError } from '../../src/errors.js'
import { muxOf } from '../../src/replication/replicator/index.js'
import { Peer } from '../../src/replication/replicator/peer.js'
import { connect, once, ourReader, ourWriter, text, until } from './replicator-helpers.js'

const blocks = (n: number): Buffer[] => Array.from({ length: n }, (_, i) => Buffer.from('b' + i))

/** Makes `core`'s peers send their data messages through `tamper`, for the test's duration. */
function tamperData (core: any, tamper: (m: any) => any): () => void {
  const orig = Peer.prototype.sendData
  Peer.prototype.sendData = function (this: Peer, m: any) {
    return orig.call(this, (this.host as any).core === core.core ? tamper(m) : m)
  }
  return () => { Peer.prototype.sendData = orig }
}

function closedWith (stream: any): Promise<HypercoreError | null> {
  return new Promise(resolve => {
    const done = (): void => resolve(muxOf(stream)?.error ?? null)
    if (stream.destroyed) done()
    else stream.once('close', done)
  })
}

/** A writer, a seed holding all its blocks (the honest peer), and a fresh reader. */
async function trio (n: number) {
  const w = await ourWriter()
  await w.append(blocks(n))
  const seed = await ourReader(w.key!)
  const c = connect(w, seed)
  await once(seed, 'peer-add')
  await seed.update({ wait: true })
  await seed.download({ start: 0, end: n }).done()
  await c.done()
  const r = await ourReader(w.key!)
  return { w, seed, r }
}

async function check (name: string, tamper: (m: any) => any, code: string, opts: { upgradeFirst?: boolean } = {}): Promise<void> {
  test(`${name}: ${code} closes only that connection`, async () => {
    const { w, seed, r } = await trio(20)
    if (opts.upgradeFirst === true) {
      const c0 = connect(seed, r)
      await once(r, 'peer-add')
      await r.update({ wait: true })
      await c0.done()
    }
    const restore = tamperData(w, tamper)
    try {
      const bad = connect(w, r)
      const badClosed = closedWith(bad.sb)
      // A get waits for the block across the bad peer's failure; an update asks the bad peer.
      const getting = opts.upgradeFirst === true ? r.get(5) : r.update({ wait: true })
      const err = await badClosed
      assert.equal(err?.code, code)
      assert.equal(r.closed, false)
      if (opts.upgradeFirst !== true) assert.equal(await getting, false)
      // An honest peer still serves the same core.
      const good = connect(seed, r)
      if (opts.upgradeFirst !== true) {
        await once(r, 'peer-add')
        assert.equal(await r.update({ wait: true }), true)
        assert.equal(r.length, 20)
      }
      await getting
      assert.equal(text(await r.get(5)), 'b5')
      assert.equal(text(await r.get(19)), 'b19')
      await good.done()
      await bad.done()
    } finally {
      restore()
    }
  })
}

check('bad signature on an upgrade', (m) => m.upgrade === null ? m : { ...m, upgrade: { ...m.upgrade, signature: m.upgrade.signature.map((b: number, i: number) => i === 0 ? b ^ 1 : b) } }, 'INVALID_SIGNATURE')
check('wrong upgrade proof (a node hash changed)', (m) => m.upgrade === null || m.upgrade.nodes.length === 0 ? m : { ...m, upgrade: { ...m.upgrade, nodes: m.upgrade.nodes.map((n: any, i: number) => i === 0 ? { ...n, hash: n.hash.map((b: number) => b ^ 0xff) } : n) } }, 'INVALID_SIGNATURE')
check('tampered block value', (m) => m.block === null ? m : { ...m, block: { ...m.block, value: Buffer.from('evil') } }, 'INVALID_PROOF', { upgradeFirst: true })
check('data for a request never made', (m) => ({ ...m, request: m.request + 1000 }), 'PROTOCOL_ERROR', { upgradeFirst: true })

test('malformed message (undecodable data) ends that connection with DECODING_ERROR', async () => {
  const { w, seed, r } = await trio(8)
  const orig = Peer.prototype.sendData
  Peer.prototype.sendData = function (this: Peer, m: any) {
    if ((this.host as any).core !== (w as any).core) return orig.call(this, m)
    // A data message body of garbage, on the channel's data type.
    return (this.channel.mux as any)._send(this.channel, 3, { preencode (s: any) { s.end += 3 }, encode (s: any) { s.buffer.set([0xff, 0xff, 0xff], s.start); s.start += 3 } }, null)
  }
  try {
    const bad = connect(w, r)
    const err = await closedWith(bad.sb)
    assert.equal(err?.code, 'DECODING_ERROR')
    const good = connect(seed, r)
    await once(r, 'peer-add')
    await r.update({ wait: true })
    assert.equal(text(await r.get(7)), 'b7')
    await good.done()
  } finally {
    Peer.prototype.sendData = orig
  }
})

test('endless requests: a peer flooding requests is read only as fast as it is answered (its queue stays under the soft limit); the core keeps serving others', async () => {
  const w = await ourWriter()
  await w.append(blocks(4))
  const flooder = await ourReader(w.key!)
  const wAdded = once(w, 'peer-add')
  const c = connect(w, flooder)
  await once(flooder, 'peer-add')
  const [wPeer] = await wAdded
  // The flooder counts answers to ids it never asked for instead of failing on them.
  let answers = 0
  const frep = (flooder as any).core.replicator
  frep.ondata = async () => { answers++ }
  frep.onnodata = () => { answers++ }
  const wrep = (w as any).core.replicator
  const onrequest = wrep.onrequest.bind(wrep)
  let maxQueued = 0
  let held = false
  wrep.onrequest = (p: any, m: any) => {
    onrequest(p, m)
    maxQueued = Math.max(maxQueued, wPeer.remoteWork.size)
    held ||= wPeer.mux.inputHeld
  }
  const peer = flooder.peers[0]
  peer.channel.cork()
  for (let i = 0; i < 5000; i++) peer.sendRequest({ id: 1e6 + i, fork: 0, block: { index: 0, nodes: 0 }, hash: null, seek: null, upgrade: null, manifest: false, priority: 0 })
  peer.channel.uncork()
  await until(() => answers >= 5000, 20000) // (and the flooder's own upgrade request)
  assert.ok(maxQueued <= 1024, `queued ${maxQueued} requests at most`)
  assert.equal(held, true, 'reading stopped while the queue was full')
  assert.equal(wPeer.mux.inputHeld, false)
  const r = await ourReader(w.key!)
  const good = connect(w, r)
  await once(r, 'peer-add')
  await r.update({ wait: true })
  assert.equal(text(await r.get(3)), 'b3')
  await good.done()
  await c.done()
})

test('invalid capability (a peer without the key) destroys the stream with INVALID_CAPABILITY', async () => {
  const w = await ourWriter()
  await w.append(blocks(2))
  const r = await ourReader(w.key!)
  const orig = Peer.prototype.open
  Peer.prototype.open = function (this: Peer) {
    if ((this.host as any).core !== (r as any).core) return orig.call(this)
    this.channel.open({ seeks: true, capability: new Uint8Array(32) })
  }
  try {
    const c = connect(w, r)
    const err = await closedWith(c.sa)
    assert.equal(err?.code, 'INVALID_CAPABILITY')
    assert.equal(w.peers.length, 0)
    await c.done()
  } finally {
    Peer.prototype.open = orig
  }
})
