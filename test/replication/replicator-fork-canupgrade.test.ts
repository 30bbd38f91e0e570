/**
 * Our sync claims `canUpgrade` only when we can prove our tree from the peer's length (§5.7:
 * same fork, and we hold the full roots at that length). A sparse replica that learned a
 * long tree from one signed root does not claim it towards a shorter peer; a full one does.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Peer } from '../../src/replication/replicator/peer.js'
import { Replicator } from '../../src/replication/replicator/replicator.js'
import { connect, once, ourReader, ourWriter, refReader } from './replicator-helpers.js'

const list = (n: number, from = 0): Buffer[] => Array.from({ length: n }, (_, i) => Buffer.from('b' + (from + i)))

/** Counts upgrade requests our peers send while `fn` runs. */
async function countingUpgradeRequests (fn: () => Promise<void>): Promise<number> {
  const orig = Peer.prototype.sendRequest
  let n = 0
  Peer.prototype.sendRequest = function (this: Peer, m) {
    if (m.upgrade !== null) n++
    return orig.call(this, m)
  }
  try {
    await fn()
  } finally {
    Peer.prototype.sendRequest = orig
  }
  return n
}

/** A writer at 64 blocks, a reader `short` that stopped at 10, a reader `sparse` that only upgraded to 64, one `full` holding all 64. */
async function setup (makeShort: (key: Uint8Array) => Promise<any>) {
  const w = await ourWriter()
  await w.append(list(10))
  const short = await makeShort(w.key!)
  const c0 = connect(w, short)
  await short.update({ wait: true })
  assert.equal(short.length, 10)
  await c0.done()
  await w.append(list(54, 10))
  const sparse = await ourReader(w.key!)
  const c1 = connect(w, sparse)
  await once(sparse, 'peer-add')
  await sparse.update({ wait: true })
  assert.equal(sparse.length, 64)
  await c1.done()
  const full = await ourReader(w.key!)
  const c2 = connect(w, full)
  await once(full, 'peer-add')
  await full.update({ wait: true })
  await full.download({ start: 0, end: 64 }).done()
  await c2.done()
  return { w, short, sparse, full }
}

test('a sparse replica without the roots at the peer\'s length does not claim canUpgrade; a full one does and the peer upgrades', { timeout: 20000 }, async () => {
  const { short, sparse, full } = await setup(async key => await ourReader(key))
  const requests = await countingUpgradeRequests(async () => {
    const c = connect(sparse, short)
    await once(short, 'peer-add')
    assert.equal(await short.update({ wait: true }), false)
    const p = short.peers[0]!
    assert.equal(p.remoteLength, 64)
    assert.equal(p.remoteCanUpgrade, false)
    assert.equal(short.length, 10)
    await c.done()
  })
  assert.equal(requests, 0) // nothing asked that could only be refused

  const c = connect(full, short)
  await once(short, 'peer-add')
  assert.equal(await short.update({ wait: true }), true)
  assert.equal(short.length, 64)
  await c.done()
})

test('towards a hypercore@10 reader at length 10: the sparse replica does not offer an upgrade, the full one does', { timeout: 20000 }, async () => {
  const { short, sparse, full } = await setup(async key => await refReader(key))
  // The upgrade requests hypercore@10 sends us (it asks only a peer that claims canUpgrade).
  const orig = Replicator.prototype.onrequest
  let upgradeRequests = 0
  Replicator.prototype.onrequest = function (this: Replicator, peer, m) {
    if (m.upgrade !== null) upgradeRequests++
    return orig.call(this, peer, m)
  }
  try {
    const c = connect(sparse, short)
    await once(sparse, 'peer-add')
    assert.equal(await short.update({ wait: true }), false)
    assert.equal(short.length, 10)
    await c.done()
    assert.equal(upgradeRequests, 0)
  } finally {
    Replicator.prototype.onrequest = orig
  }
  const c2 = connect(full, short)
  await once(full, 'peer-add')
  await short.update({ wait: true })
  assert.equal(short.length, 64)
  await c2.done()
})
