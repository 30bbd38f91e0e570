/**
 * Remote reorgs (§3.5): after the writer truncates to a deep point and appends new blocks,
 * our reader finds the real fork point with hash requests, keeps every block before it and
 * downloads only the blocks after it. Writers: ours and hypercore@10.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { muxOf } from '../../src/replication/replicator/index.js'
import { Peer } from '../../src/replication/replicator/peer.js'
import { connect, once, ourReader, ourWriter, refWriter, text } from './replicator-helpers.js'

const list = (prefix: string, n: number): Buffer[] => Array.from({ length: n }, (_, i) => Buffer.from(prefix + i))

/** Counts the hash requests our peers send while `fn` runs. */
async function countingHashRequests<T> (fn: () => Promise<T>): Promise<{ result: T, hashRequests: number }> {
  const orig = Peer.prototype.sendRequest
  let hashRequests = 0
  Peer.prototype.sendRequest = function (this: Peer, m) {
    if (m.hash !== null) hashRequests++
    return orig.call(this, m)
  }
  try {
    return { result: await fn(), hashRequests }
  } finally {
    Peer.prototype.sendRequest = orig
  }
}

const writers: Array<[string, () => Promise<any>]> = [
  ['ours', async () => await ourWriter()],
  ['hypercore@10', async () => await refWriter()]
]

// [blocks before, truncated to, blocks after]: inside the one root; across roots; to 0.
const cases: Array<[number, number, number]> = [[64, 37, 64], [40, 35, 45], [20, 0, 5], [33, 32, 40]]

for (const [name, makeWriter] of writers) {
  for (const [before, cut, after] of cases) {
    test(`${name} writer ${before} → truncate ${cut} → ${after}: the reader re-downloads only blocks ${cut}..${after - 1}`, async () => {
      const w = await makeWriter()
      await w.append(list('a', before))
      const r = await ourReader(w.key)
      const c0 = connect(w, r)
      await once(r, 'peer-add')
      await r.update({ wait: true })
      await r.download({ start: 0, end: before }).done()
      await c0.done()

      // The writer forks while the reader is away.
      await w.truncate(cut)
      await w.append(list('n', after - cut))
      assert.equal(w.fork, 1)

      const downloaded: number[] = []
      r.on('download', (index: number) => downloaded.push(index))
      const { result: [ancestors, fork], hashRequests } = await countingHashRequests(async () => {
        const truncated = once(r, 'truncate')
        const c = connect(w, r)
        const args = await truncated
        await r.update({ wait: true })
        await r.download({ start: 0, end: after }).done()
        await c.done()
        return args
      })
      assert.equal(ancestors, cut)
      assert.equal(fork, 1)
      assert.equal(r.fork, 1)
      assert.equal(r.length, after)
      assert.deepEqual(downloaded.sort((a, b) => a - b), Array.from({ length: after - cut }, (_, i) => cut + i))
      // One hash request per level under the first differing root, at most.
      assert.ok(hashRequests <= Math.ceil(Math.log2(Math.max(before, after))) + 1, `${hashRequests} hash requests`)
      for (let i = 0; i < after; i++) assert.equal(text(await r.get(i, { wait: false })), text(await w.get(i)))
      assert.deepEqual(Buffer.from(await r.treeHash()), Buffer.from(await w.treeHash()))
    })
  }
}

/** A writer (ours) forked from 64 to 37 and back to 64, and a reader that held the old 64. */
async function forkedPair (): Promise<{ w: any, r: any }> {
  const w = await ourWriter()
  await w.append(list('a', 64))
  const r = await ourReader(w.key!)
  const c0 = connect(w, r)
  await once(r, 'peer-add')
  await r.update({ wait: true })
  await r.download({ start: 0, end: 64 }).done()
  await c0.done()
  await w.truncate(37)
  await w.append(list('n', 27))
  return { w, r }
}

/** Makes the writer's peers answer hash requests through `answer`, for the test's duration. */
function onHashAnswers (w: any, answer: (peer: Peer, m: any, send: (m: any) => boolean) => boolean): () => void {
  const orig = Peer.prototype.sendData
  Peer.prototype.sendData = function (this: Peer, m: any) {
    if ((this.host as any).core !== w.core || m.hash === null) return orig.call(this, m)
    return answer(this, m, (x) => orig.call(this, x))
  }
  return () => { Peer.prototype.sendData = orig }
}

test('a peer that will not answer hash requests (noData): the reorg keeps the lower bound and the content is still right', async () => {
  const { w, r } = await forkedPair()
  const restore = onHashAnswers(w, (peer, m) => peer.sendNoData(m.request))
  try {
    const truncated = once(r, 'truncate')
    const c = connect(w, r)
    const [ancestors] = await truncated
    assert.ok(ancestors <= 37, `ancestors ${ancestors}`)
    await r.update({ wait: true })
    await r.download({ start: 0, end: 64 }).done()
    for (let i = 0; i < 64; i++) assert.equal(text(await r.get(i, { wait: false })), text(await w.get(i)))
    await c.done()
  } finally {
    restore()
  }
})

test('a hash proof that does not hash up to the signed root ends that connection with INVALID_PROOF; nothing is truncated', async () => {
  const { w, r } = await forkedPair()
  const restore = onHashAnswers(w, (_peer, m, send) => send({ ...m, hash: { ...m.hash, nodes: m.hash.nodes.map((n: any, i: number) => i === 1 ? { ...n, hash: n.hash.map((b: number) => b ^ 1) } : n) } }))
  try {
    let truncates = 0
    r.on('truncate', () => { truncates++ })
    const c = connect(w, r)
    const err = await new Promise<any>(resolve => c.sb.once('close', () => resolve(muxOf(c.sb)?.error ?? null)))
    assert.equal(err?.code, 'INVALID_PROOF')
    assert.equal(truncates, 0)
    assert.equal(r.fork, 0)
    assert.equal(r.length, 64)
    assert.equal(text(await r.get(40, { wait: false })), 'a40')
    await c.done()
  } finally {
    restore()
  }
})
