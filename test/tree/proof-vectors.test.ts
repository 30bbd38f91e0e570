/**
 * @module test/tree/proof-vectors
 * The four compat proof cases of vectors.json (§3.3 worked examples): the exact node lists we
 * generate, the exact request/data bytes, and that our verifier accepts them.
 */
import { test, before } from 'node:test'
import { cryptoReady } from '../../src/crypto/sodium.js'
import { MemoryNodeStore } from '../../src/tree/memory-node-store.js'
import { MerkleTree } from '../../src/tree/merkle-tree.js'
import { generateProof } from '../../src/tree/proof-generate.js'
import { verifyProof } from '../../src/tree/proof-verify.js'
import { decodeData, decodeRequest, encodeData, encodeRequest, type DataMessage } from '../../src/wire/proof-messages.js'
import { bytesEqual, deepEqual, equal, fromHex, hex, rejectsWithCode } from '../helpers/assert.js'
import { Writer, nodeJson, textBlocks, vectorKeyPair, vectors, verifierFor } from './helpers.js'

before(async () => { await cryptoReady() })

const P = vectors.compat
function writer (): Writer {
  const w = new Writer(vectorKeyPair())
  w.append(...textBlocks('a', 'b', 'c'))
  return w
}
const verify = verifierFor(vectorKeyPair().publicKey)

/** A reader that has verified `length` blocks (and the given extra nodes) of the writer's tree. */
async function reader (w: Writer, length: number, extra: number[] = []): Promise<MerkleTree> {
  const store = new MemoryNodeStore()
  const t = await w.snapshot(length)
  store.put(t.roots)
  for (const i of extra) store.put([w.store.getSync(i)!])
  return new MerkleTree(store, { length, fork: t.fork, roots: t.roots, signature: t.signature })
}

async function apply (tree: MerkleTree, batch: Awaited<ReturnType<typeof verifyProof>>): Promise<void> {
  ;(tree.nodes as MemoryNodeStore).put(batch.nodes)
  batch.commit()
}

test('proofBlock0Upgrade0to3: nodes, request bytes, data bytes, verification', async () => {
  const v = P.proofBlock0Upgrade0to3
  const w = writer()
  const req = { id: 1, fork: 0, block: { index: 0, nodes: 0 }, hash: null, seek: null, upgrade: { start: 0, length: 3 }, manifest: false, priority: 0 }
  equal(hex(encodeRequest(req)), v.requestEncoded)
  deepEqual(decodeRequest(fromHex(v.requestEncoded)), req)

  const proof = await generateProof(w.tree, req, (i) => w.readBlock(i))
  deepEqual(proof.block!.nodes.map(nodeJson), v.blockNodes)
  deepEqual(proof.upgrade!.nodes.map(nodeJson), v.upgradeNodes)
  deepEqual(proof.upgrade!.additionalNodes.map(nodeJson), v.additionalNodes)
  bytesEqual(proof.upgrade!.signature, v.signature)
  bytesEqual(proof.block!.value, '61')

  const msg: DataMessage = { request: 1, ...proof, manifest: null }
  equal(hex(encodeData(msg)), v.dataEncoded)
  const decoded = decodeData(fromHex(v.dataEncoded))
  deepEqual(decoded, msg)

  const r = new MerkleTree(new MemoryNodeStore())
  const batch = await verifyProof(r, decoded, verify)
  equal(batch.length, 3)
  deepEqual(batch.roots.map(nodeJson), P.perLength[2].roots)
  bytesEqual(batch.signature, v.signature)
  // leaf 0, node 2, parent 1 and root 4 are all new to the reader
  deepEqual(batch.nodes.map((n) => n.index).sort((a, b) => a - b), [0, 1, 2, 4])
  await apply(r, batch)
  equal(r.length, 3)
  bytesEqual(r.hash(), P.perLength[2].treeHash)
})

test('proofBlock2Upgrade1to3: old root 0 merges with node 2, leaf 4 is the second root', async () => {
  const v = P.proofBlock2Upgrade1to3
  const w = writer()
  const proof = await generateProof(w.tree, { fork: 0, block: { index: 2, nodes: 0 }, upgrade: { start: 1, length: 2 } }, (i) => w.readBlock(i))
  deepEqual(proof.block!.nodes.map(nodeJson), v.blockNodes)
  deepEqual(proof.upgrade!.nodes.map(nodeJson), v.upgradeNodes)
  deepEqual(proof.upgrade!.additionalNodes.map(nodeJson), v.additionalNodes)
  const r = await reader(w, 1)
  const batch = await verifyProof(r, proof, verify)
  deepEqual(batch.roots.map(nodeJson), P.perLength[2].roots)
  equal(batch.ancestors, 1)
})

test('proofBlock1Nodes1NoUpgrade: node 0 proves block 1 against the stored node 1', async () => {
  const v = P.proofBlock1Nodes1NoUpgrade
  const w = writer()
  const proof = await generateProof(w.tree, { fork: 0, block: { index: 1, nodes: 1 } }, (i) => w.readBlock(i))
  deepEqual(proof.block!.nodes.map(nodeJson), v.blockNodes)
  equal(proof.upgrade, null)
  const r = await reader(w, 3)
  equal(await r.missingNodes(2), 1)
  const batch = await verifyProof(r, proof)
  equal(batch.upgraded, false)
  deepEqual(batch.nodes.map((n) => n.index), [2, 0, 1])
  // a wrong value does not match the stored node 1
  proof.block!.value = new Uint8Array([0x63])
  await rejectsWithCode(() => verifyProof(r, proof), 'INVALID_PROOF')
})

test('proofUpgrade0to2With3Available: additional nodes lift the reader to length 3', async () => {
  const v = P.proofUpgrade0to2With3Available
  const w = writer()
  const proof = await generateProof(w.tree, { fork: 0, upgrade: { start: 0, length: 2 } })
  deepEqual(proof.upgrade!.nodes.map(nodeJson), v.upgradeNodes)
  deepEqual(proof.upgrade!.additionalNodes.map(nodeJson), v.additionalNodes)
  const r = new MerkleTree(new MemoryNodeStore())
  const batch = await verifyProof(r, proof, verify)
  equal(batch.length, 3)
  bytesEqual(batch.hash(), P.perLength[2].treeHash)
})

test('transcript cases (§3.3): block 1 nodes 1 → [0]; upgrade 3→4 → [6]; block 3 nodes 0 → []', async () => {
  const w = writer()
  const p1 = await generateProof(w.tree, { fork: 0, block: { index: 1, nodes: 1 } }, (i) => w.readBlock(i))
  deepEqual(p1.block!.nodes.map((n) => n.index), [0])
  w.append(...textBlocks('d'))
  const p2 = await generateProof(w.tree, { fork: 0, upgrade: { start: 3, length: 1 } })
  deepEqual(p2.upgrade!.nodes.map((n) => n.index), [6])
  const r = await reader(w, 3)
  await apply(r, await verifyProof(r, p2, verify))
  equal(r.length, 4)
  equal(await r.missingNodes(6), 0)
  const p3 = await generateProof(w.tree, { fork: 0, block: { index: 3, nodes: 0 } }, (i) => w.readBlock(i))
  deepEqual(p3.block!.nodes, [])
  const b3 = await verifyProof(r, p3)
  deepEqual(b3.nodes.map((n) => n.index), [6])
})

test('generation refuses what it cannot prove, with typed errors', async () => {
  const w = writer()
  const read = (i: number): Promise<Uint8Array | null> => w.readBlock(i)
  await rejectsWithCode(() => generateProof(w.tree, { fork: 1, block: { index: 0, nodes: 0 } }, read), 'INVALID_OPERATION')
  await rejectsWithCode(() => generateProof(w.tree, { fork: 0, upgrade: { start: 3, length: 0 } }), 'INVALID_OPERATION')
  await rejectsWithCode(() => generateProof(w.tree, { fork: 0, upgrade: { start: 2, length: 2 } }), 'INVALID_OPERATION')
  await rejectsWithCode(() => generateProof(w.tree, { fork: 0, block: { index: 3, nodes: 0 } }, read), 'BAD_ARGUMENT')
  await rejectsWithCode(() => generateProof(w.tree, { fork: 0, block: { index: 0, nodes: 2 } }, read), 'BAD_ARGUMENT')
  await rejectsWithCode(() => generateProof(w.tree, { fork: 0, block: { index: 0, nodes: 0 } }), 'BLOCK_NOT_AVAILABLE')
  await rejectsWithCode(() => generateProof(w.tree, { fork: 0, block: { index: 0, nodes: 0 }, hash: { index: 0, nodes: 0 } }, read), 'BAD_ARGUMENT')
  // a sparse responder lacking node 2
  w.store.delete(2)
  await rejectsWithCode(() => generateProof(w.tree, { fork: 0, block: { index: 0, nodes: 1 } }, read), 'BLOCK_NOT_AVAILABLE')
})
