/**
 * Attack 5 (needs two writers with one key, §3.5): an upgrade that does not extend our tree.
 * `verifyProof` used to accept an upgrade starting inside our tree, checking it against our
 * roots at its start only, and the store kept the blocks we had past that start under the
 * new tree: a writer that appended while its request to the other writer was in flight took
 * the other tree silently, its own blocks 5-9 now "proven" by roots that never covered them.
 * Now an upgrade must start at our length (or be a reorg/conflict check from 0); a stale one
 * is dropped, asked again from our length, fails its signature and the conflict check finds
 * the conflict, as hypercore@10 does.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Hypercore, MemoryDirectory } from '../../src/index.js'
import { generateProof } from '../../src/tree/proof-generate.js'
import { verifyProof } from '../../src/tree/proof-verify.js'
import { HypercoreError } from '../../src/errors.js'
import { connect, once, ourWriter, text } from './replicator-helpers.js'
import { closedWith, within } from './hostile-helpers.js'

const list = (prefix: string, n: number, from = 0): Buffer[] => Array.from({ length: n }, (_, i) => Buffer.from(prefix + (from + i)))

test('attack 5 (unit): verifyProof refuses an upgrade that starts inside our tree, even one validly signed', async () => {
  const a = await ourWriter()
  await a.append(list('a', 10))
  const b = await ourWriter({ keyPair: a.keyPair })
  await b.append([...list('a', 5), ...list('b', 7, 5)])
  const bTree = (b as any).core.tree
  const aCore = (a as any).core
  // A proof B makes for a requester at length 5, checked by A at length 10.
  const proof = await generateProof(bTree, { fork: 0, upgrade: { start: 5, length: 7 } })
  const verify = (hash: Uint8Array, length: number, fork: number, sig: Uint8Array): boolean => aCore.verifier.verify(hash, length, fork, sig)
  await assert.rejects(verifyProof(aCore.tree, proof, verify), (err: unknown) => HypercoreError.is(err, 'INVALID_PROOF'))
  // From A's own length it is checked against A's roots: B's signature does not cover them.
  const fromTen = await generateProof(bTree, { fork: 0, upgrade: { start: 10, length: 2 } })
  await assert.rejects(verifyProof(aCore.tree, fromTen, verify), (err: unknown) => HypercoreError.is(err, 'INVALID_SIGNATURE'))
  // A reorg or a conflict check verifies from scratch, and only from 0.
  const fromZero = await generateProof(bTree, { fork: 0, upgrade: { start: 0, length: 12 } })
  assert.equal((await verifyProof(aCore.tree, fromZero, verify, { fromScratch: true })).length, 12)
  await assert.rejects(verifyProof(aCore.tree, proof, verify, { fromScratch: true }), (err: unknown) => HypercoreError.is(err, 'INVALID_PROOF'))
})

test('attack 5: a writer whose upgrade request to a second writer is answered after it appended raises CONFLICT and keeps its own tree', { timeout: 60000 }, async () => {
  const dir = new MemoryDirectory()
  const a = new Hypercore(dir)
  await a.ready()
  await a.append(list('a', 5))
  const b = await ourWriter({ keyPair: a.keyPair })
  await b.append([...list('a', 5), ...list('b', 7, 5)]) // shares blocks 0-4, then differs
  assert.equal(b.fork, 0)
  // B holds A's first upgrade request until A has appended five blocks of its own.
  const c = connect(a, b)
  const rep = (b as any).core.replicator
  const onrequest = rep.onrequest.bind(rep)
  let held: [unknown, any] | null = null
  let release: () => void = () => {}
  const heldOne = new Promise<void>(resolve => {
    rep.onrequest = (peer: unknown, m: any) => {
      if (held === null && m.upgrade !== null && m.upgrade.start === 5) {
        held = [peer, m]
        release = () => onrequest(peer, m)
        resolve()
        return
      }
      onrequest(peer, m)
    }
  })
  const closed = closedWith(c.sa)
  const conflicted = once(a, 'conflict', 20000)
  await within(heldOne, 5000, 'A asks B for its longer tree')
  await a.append(list('a', 5, 5))
  assert.equal(a.length, 10)
  const before = Buffer.from(await a.treeHash()).toString('hex')
  const adopted = new Promise<'adopted'>(resolve => a.on('append', () => { if (a.length > 10) resolve('adopted') }))
  release()
  const first = await Promise.race([conflicted, adopted])
  assert.notEqual(first, 'adopted', `A took B's tree (length ${a.length}) with its own blocks 5-9 under it (block 5: ${first === 'adopted' ? text(await a.get(5, { wait: false })) : ''})`)
  const [length, fork] = await conflicted
  assert.equal(fork, 0)
  assert.ok(length === 10 || length === 5, `conflict at length ${length}`)
  assert.equal((await closed)?.code, 'CONFLICT')
  // Nothing of B's was stored: reopened, A is its own ten blocks under its own signed tree.
  if (!a.closed) await once(a, 'close')
  const again = new Hypercore(dir)
  await again.ready()
  assert.equal(again.length, 10)
  assert.equal(Buffer.from(await again.treeHash()).toString('hex'), before)
  for (let i = 0; i < 10; i++) assert.equal(text(await again.get(i, { wait: false })), 'a' + i)
  await again.close()
  await c.done()
})
