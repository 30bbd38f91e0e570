/**
 * Interop with the real hypercore@10 over piped streams: every scenario runs for
 * hypercore@10 writer → our reader, our writer → hypercore@10 reader, and ours → ours.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { connect, once, ourReader, ourWriter, refReader, refWriter, text } from './replicator-helpers.js'

type Make = (opts?: Record<string, unknown>) => Promise<any>
type MakeReader = (key: Uint8Array, opts?: Record<string, unknown>) => Promise<any>
const pairs: Array<[string, Make, MakeReader]> = [
  ['hypercore@10 → ours', refWriter, ourReader],
  ['ours → hypercore@10', ourWriter, refReader],
  ['ours → ours', ourWriter, ourReader]
]
const blocks = (n: number, p = 'block-'): Buffer[] => Array.from({ length: n }, (_, i) => Buffer.from(p + i))

for (const [name, makeWriter, makeReader] of pairs) {
  test(`${name}: update, then sparse gets with proofs`, async () => {
    const w = await makeWriter()
    await w.append(blocks(40))
    const r = await makeReader(w.key)
    const c = connect(w, r)
    await once(r, 'peer-add')
    assert.equal(await r.update({ wait: true }), true)
    assert.equal(r.length, 40)
    assert.equal(text(await r.get(30)), 'block-30')
    assert.equal(text(await r.get(3)), 'block-3')
    assert.equal(text(await r.get(17)), 'block-17')
    assert.equal(await r.has(3), true)
    assert.equal(await r.has(4), false)
    assert.deepEqual(Buffer.from(await r.treeHash()), Buffer.from(await w.treeHash()))
    await c.done()
  })

  test(`${name}: full download`, async () => {
    const w = await makeWriter()
    await w.append(blocks(300))
    const r = await makeReader(w.key)
    const c = connect(w, r)
    await once(r, 'peer-add')
    await r.update({ wait: true })
    await r.download({ start: 0, end: 300 }).done()
    for (let i = 0; i < 300; i++) assert.equal(text(await r.get(i, { wait: false })), 'block-' + i)
    assert.equal(r.contiguousLength, 300)
    await c.done()
  })

  test(`${name}: live appends reach the reader`, async () => {
    const w = await makeWriter()
    await w.append(blocks(2))
    const r = await makeReader(w.key)
    const c = connect(w, r)
    await once(r, 'peer-add')
    await r.update({ wait: true })
    for (let i = 2; i < 6; i++) {
      const appended = once(r, 'append')
      await w.append(Buffer.from('live-' + i))
      await appended
      if (r.length < i + 1) await once(r, 'append')
      assert.equal(r.length, i + 1)
      assert.equal(text(await r.get(i)), 'live-' + i)
    }
    await c.done()
  })

  test(`${name}: encrypted core`, async () => {
    const encryptionKey = Buffer.alloc(32, 7)
    const w = await makeWriter({ encryptionKey })
    await w.append(blocks(5, 'secret-'))
    const r = await makeReader(w.key, { encryptionKey })
    const c = connect(w, r)
    await once(r, 'peer-add')
    await r.update({ wait: true })
    assert.equal(text(await r.get(4)), 'secret-4')
    assert.equal(text(await r.get(0)), 'secret-0')
    await c.done()
  })

  test(`${name}: truncation reaches the reader (truncate event, new fork)`, async () => {
    const w = await makeWriter()
    await w.append(blocks(10))
    const r = await makeReader(w.key)
    const c = connect(w, r)
    await once(r, 'peer-add')
    await r.update({ wait: true })
    await r.download({ start: 0, end: 10 }).done()
    const truncated = once(r, 'truncate')
    await w.truncate(7)
    const [ancestors, fork] = await truncated
    assert.equal(ancestors, 7)
    assert.equal(fork, 1)
    assert.equal(r.fork, 1)
    assert.equal(r.length, 7)
    assert.equal(text(await r.get(6)), 'block-6')
    // New blocks on the new fork.
    const appended = once(r, 'append')
    await w.append([Buffer.from('x'), Buffer.from('y')])
    await appended
    if (r.length < 9) await once(r, 'append')
    assert.equal(text(await r.get(7)), 'x')
    assert.equal(text(await r.get(8)), 'y')
    assert.equal(text(await r.get(2)), 'block-2')
    await c.done()
  })
}

test('one reader downloads from a hypercore@10 peer and one of ours at once', async () => {
  const w = await refWriter()
  await w.append(blocks(400))
  const ours = await ourReader(w.key)
  const c0 = connect(w, ours)
  await once(ours, 'peer-add')
  await ours.update({ wait: true })
  await ours.download({ start: 0, end: 400 }).done()

  const r = await ourReader(w.key)
  const c1 = connect(w, r)
  const c2 = connect(ours, r)
  const from = new Map<unknown, number>()
  r.on('download', (_i: number, _b: number, peer: unknown) => from.set(peer, (from.get(peer) ?? 0) + 1))
  while (r.peers.length < 2) await once(r, 'peer-add')
  await r.update({ wait: true })
  await r.download({ start: 0, end: 400 }).done()
  for (let i = 0; i < 400; i += 37) assert.equal(text(await r.get(i)), 'block-' + i)
  assert.equal(from.size, 2, 'both peers served blocks')
  for (const n of from.values()) assert.ok(n > 0)
  await Promise.all([c0.done(), c1.done(), c2.done()])
})
