import { test } from 'node:test'
import assert from 'node:assert'
import { once, ourWriter, ourReader, connect, text, refWriter, refReader } from './replicator-helpers.js'

test('ours to ours', async () => {
  const w = await ourWriter()
  await w.append(['a', 'b', 'c'].map(s => Buffer.from(s)))
  const r = await ourReader(w.key!)
  const c = connect(w, r)
  await once(r, 'peer-add')
  assert.equal(await r.update({ wait: true }), true)
  assert.equal(r.length, 3)
  assert.equal(text(await r.get(1)), 'b')
  await w.append(Buffer.from('d'))
  assert.equal(text(await r.get(3)), 'd')
  await c.done()
})

test('ref writer to ours', async () => {
  const w = await refWriter()
  await w.append(['a', 'b', 'c'].map(s => Buffer.from(s)))
  const r = await ourReader(w.key)
  const c = connect(w, r)
  await once(r, 'peer-add')
  assert.equal(await r.update({ wait: true }), true)
  assert.equal(r.length, 3)
  assert.equal(text(await r.get(1)), 'b')
  await w.append(Buffer.from('d'))
  assert.equal(text(await r.get(3)), 'd')
  await c.done()
})

test('ours to ref', async () => {
  const w = await ourWriter()
  await w.append(['a', 'b', 'c'].map(s => Buffer.from(s)))
  const r = await refReader(w.key!)
  const c = connect(w, r)
  await once(r, 'peer-add')
  assert.equal(await r.update({ wait: true }), true)
  assert.equal(r.length, 3)
  assert.equal(text(await r.get(1)), 'b')
  await w.append(Buffer.from('d'))
  assert.equal(text(await r.get(3)), 'd')
  await c.done()
})
