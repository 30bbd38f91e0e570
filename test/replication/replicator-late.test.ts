/** @module test/replication/replicator-late — a `get` that starts waiting before any replication. */
import { test } from 'node:test'
import assert from 'node:assert'
import { once, ourWriter, ourReader, connect, text, refWriter } from './replicator-helpers.js'

test('a get issued before replicate() is fetched from the peer that connects later (our writer)', async () => {
  const w = await ourWriter()
  await w.append(['a', 'b', 'c'].map(s => Buffer.from(s)))
  const r = await ourReader(w.key!)
  assert.equal(r.core!.replicator, null, 'no replicator yet: the get starts with no one to ask')
  let waiting!: () => void
  const isWaiting = new Promise<void>(resolve => { waiting = resolve })
  const pending = r.get(1, { onwait: () => waiting() })
  await isWaiting // the get is now waiting, with no replicator to ask
  assert.equal(r.core!.replicator, null)
  const c = connect(w, r)
  assert.equal(text(await pending), 'b')
  await c.done()
})

test('a get issued before replicate() is fetched from a hypercore@10 peer that connects later', async () => {
  const w = await refWriter()
  await w.append(['x', 'y'].map(s => Buffer.from(s)))
  const r = await ourReader(w.key)
  let waiting!: () => void
  const isWaiting = new Promise<void>(resolve => { waiting = resolve })
  const pending = r.get(0, { timeout: 20000, onwait: () => waiting() })
  await isWaiting
  const c = connect(w, r)
  await once(r, 'peer-add')
  assert.equal(text(await pending), 'x')
  await c.done()
})
