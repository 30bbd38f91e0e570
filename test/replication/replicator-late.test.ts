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

test('a download whose blocks cannot be stored (full disk) rejects done() with the storage error instead of retrying for ever', async () => {
  const { FaultDisk } = await import('../core/fault-storage.js')
  const { default: Hypercore } = await import('../../src/index.js')
  const w = await ourWriter()
  await w.append(Array.from({ length: 20 }, (_, i) => Buffer.from(`block ${i}`)))
  const disk = new FaultDisk()
  const r = new Hypercore(disk.factory, w.key!)
  await r.ready()
  const c = connect(w, r)
  await once(r, 'peer-add')
  assert.equal(await r.update({ wait: true }), true)
  disk.arm(0, 'stuck') // every write from now on fails, as on a full disk
  const range = r.download({ start: 0, end: 20 })
  const failure = await range.done().then(() => null, (err: any) => err)
  assert.equal(failure?.name, 'HypercoreError')
  assert.ok(['WRITE_FAILED', 'STORAGE_IO'].includes(failure.code), `code ${failure.code}`)
  assert.equal(await r.has(0, 20), false, 'nothing half-stored is reported as present')
  disk.reset()
  await r.download({ start: 0, end: 20 }).done() // space freed: a new range completes
  assert.equal(text(await r.get(19)), 'block 19')
  await c.done()
})

test('update() called during findingPeers before any replicate() waits for the peer found later', async () => {
  const w = await ourWriter()
  await w.append(['a', 'b', 'c'].map(s => Buffer.from(s)))
  const r = await ourReader(w.key!)
  const done = r.findingPeers()
  const updated = r.update()
  // Let update() run to its decision while the core still has no connection (a macrotask turn
  // runs every pending microtask of the ready core's update path).
  await new Promise(resolve => setImmediate(resolve))
  assert.equal(r.core!.replicator !== null, true, 'discovery running: update made a replicator to wait on')
  const c = connect(w, r)
  await once(r, 'peer-add')
  done()
  assert.equal(await updated, true)
  assert.equal(r.length, 3)
  await c.done()
})

test('update() with no peers and no discovery running returns false at once', async () => {
  const w = await ourWriter()
  const r = await ourReader(w.key!)
  assert.equal(await r.update(), false)
  assert.equal(r.length, 0)
})

test('update() on a writable core returns false at once even while peers are being found, as hypercore@10 does', async () => {
  const w = await ourWriter()
  await w.append(Buffer.from('a'))
  const done = w.findingPeers()
  // A reader would wait here until discovery ends; the writer has the newest length already.
  let settled = false
  const result = w.update().then(v => { settled = true; return v })
  await new Promise(resolve => setImmediate(resolve))
  await new Promise(resolve => setImmediate(resolve))
  assert.equal(settled, true, 'the writer did not wait for discovery')
  assert.equal(await result, false)
  done()
  assert.equal(w.length, 1)
})
