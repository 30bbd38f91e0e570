/**
 * Conflicts (§3.5): two writers share one key pair and sign different trees at the same fork.
 * A reader holding one version meets the other: its upgrade proof fails, the id-0 check
 * shows a validly signed different tree, the reader emits `conflict(length, fork, proof)`,
 * stores nothing from that peer, that connection ends with CONFLICT and every session of the
 * core closes with it (as the spec and hypercore@10 do); reopened, the core holds exactly
 * what it held before.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { HypercoreError } from '../../src/errors.js'
import { muxOf } from '../../src/replication/replicator/index.js'
import { Hypercore, MemoryDirectory } from '../../src/index.js'
import { connect, once, ourWriter, refReader, refWriter, text } from './replicator-helpers.js'

function closedWith (stream: any): Promise<HypercoreError | null> {
  return new Promise(resolve => {
    const done = (): void => resolve(muxOf(stream)?.error ?? null)
    if (stream.destroyed) done()
    else stream.once('close', done)
  })
}

const list = (prefix: string, n: number): Buffer[] => Array.from({ length: n }, (_, i) => Buffer.from(prefix + i))

/** Each reader's storage, so it can be reopened after the conflict closed it. */
const dirs = new WeakMap<object, MemoryDirectory>()

/** A reader (ours) holding every block of writer A's version. */
async function readerOf (a: any): Promise<any> {
  const dir = new MemoryDirectory()
  const r = new Hypercore(dir, a.key)
  await r.ready()
  dirs.set(r, dir)
  const c = connect(a, r)
  await once(r, 'peer-add')
  await r.update({ wait: true })
  await r.download({ start: 0, end: a.length }).done()
  await c.done()
  return r
}

/** Waits for the conflict to close `r` (pending gets rejected with CONFLICT), then reopens its storage. */
async function reopenedAfterConflict (r: any): Promise<any> {
  if (!r.closed) await once(r, 'close')
  const again = new Hypercore(dirs.get(r)!, r.key)
  await again.ready()
  return again
}

async function snapshot (r: any): Promise<{ length: number, fork: number, hash: string, blocks: string[] }> {
  const blocks: string[] = []
  for (let i = 0; i < r.length; i++) blocks.push(text(await r.get(i, { wait: false })))
  return { length: r.length, fork: r.fork, hash: Buffer.from(await r.treeHash()).toString('hex'), blocks }
}

const writers: Array<[string, (keyPair: any) => Promise<any>]> = [
  ['ours', async (keyPair) => await ourWriter({ keyPair })],
  ['hypercore@10', async (keyPair) => await refWriter({ keyPair: { publicKey: Buffer.from(keyPair.publicKey), secretKey: Buffer.from(keyPair.secretKey) } })]
]

for (const [name, makeConflicting] of writers) {
  test(`conflict with a ${name} writer sharing the key pair: event, nothing stored, CONFLICT closes that connection`, async () => {
    const a = await ourWriter()
    await a.append(list('a', 3))
    const r = await readerOf(a)
    const before = await snapshot(r)
    assert.deepEqual(before.blocks, ['a0', 'a1', 'a2'])

    // Same key, same fork 0, a longer tree that differs from block 0 on.
    const b = await makeConflicting(a.keyPair)
    await b.append(list('b', 5))
    assert.equal(b.fork, 0)

    const conflicted = once(r, 'conflict')
    const writerSaw = once(b, 'conflict')
    const verificationErrors: unknown[] = []
    r.on('verification-error', (err: unknown) => verificationErrors.push(err))
    const c = connect(b, r)
    const closed = closedWith(c.sb)
    const [length, fork, proof] = await conflicted
    assert.equal(length, 3) // min(ours, theirs): the length both trees are compared at
    assert.equal(fork, 0)
    assert.equal(proof.request, 0)
    assert.equal(proof.upgrade.start, 0)
    assert.equal(proof.upgrade.length, 3)
    const err = await closed
    assert.equal(err?.code, 'CONFLICT')
    // The failed upgrade proof that started the check.
    assert.equal((verificationErrors[0] as HypercoreError).code, 'INVALID_SIGNATURE')

    const reopened = await reopenedAfterConflict(r)
    assert.equal(r.closed, true, 'every session closed on the conflict (§3.5)')
    assert.deepEqual(await snapshot(reopened), before)
    await reopened.close()
    // The reader showed the writer its own tree before closing (§3.5): the writer sees it too.
    const [wLength, wFork] = await writerSaw
    assert.equal(wLength, 3)
    assert.equal(wFork, 0)
    await c.done()
  })
}

test('a reader holding a hypercore@10 writer\'s version meets our writer with that key pair (shares blocks 0-1): conflict at length 4', async () => {
  const a = await refWriter()
  await a.append(list('a', 4))
  const r = await readerOf(a)
  const before = await snapshot(r)
  const b = await ourWriter({ keyPair: { publicKey: new Uint8Array(a.keyPair.publicKey), secretKey: new Uint8Array(a.keyPair.secretKey) } })
  await b.append([...list('a', 2), ...list('b', 6)]) // shares blocks 0-1, differs from 2 on
  const conflicted = once(r, 'conflict')
  const c = connect(r, b)
  const closed = closedWith(c.sa)
  const [length, fork] = await conflicted
  assert.equal(length, 4)
  assert.equal(fork, 0)
  assert.equal((await closed)?.code, 'CONFLICT')
  const reopened = await reopenedAfterConflict(r)
  assert.deepEqual(await snapshot(reopened), before)
  await reopened.close()
  await c.done()
})

test('a hypercore@10 reader meets our conflicting writer: our answer to its id-0 check lets it see the conflict', async () => {
  const a = await refWriter()
  await a.append(list('a', 3))
  const r = await refReader(a.key)
  const c0 = connect(a, r)
  await r.update({ wait: true })
  await r.download({ start: 0, end: 3 }).done()
  await c0.done()
  const b = await ourWriter({ keyPair: { publicKey: new Uint8Array(a.keyPair.publicKey), secretKey: new Uint8Array(a.keyPair.secretKey) } })
  await b.append(list('b', 5))
  const conflicted = once(r, 'conflict')
  const c = connect(b, r)
  const [length, fork, proof] = await conflicted
  assert.equal(length, 3)
  assert.equal(fork, 0)
  assert.equal(proof.upgrade.start, 0)
  await c.done()
})
