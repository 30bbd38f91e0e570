/**
 * @module test/vectors/proof-vectors
 * The proof vectors as a shared suite (Node and Chromium): the four compat proof cases of
 * vectors.json (§3.3 worked examples: exact node lists, exact request/data bytes, accepted
 * by our verifier), the §3.3 transcript cases, the compact-encoding `uint` vectors as they
 * appear inside proof nodes, and every request/data message hypercore@10 sent in the
 * recorded wire transcript, decoded and re-encoded byte for byte.
 */
import c from 'compact-encoding'
import { MemoryNodeStore } from '../../src/tree/memory-node-store.js'
import { MerkleTree } from '../../src/tree/merkle-tree.js'
import type { TreeNode } from '../../src/tree/types.js'
import { generateProof } from '../../src/tree/proof-generate.js'
import { verifyProof } from '../../src/tree/proof-verify.js'
import {
  decodeData, decodeNode, decodeRequest, encodeData, encodeNode, encodeRequest, type DataMessage, type RequestMessage
} from '../../src/wire/proof-messages.js'
import { bytesEqual, deepEqual, equal, fromHex, hex, rejectsWithCode, type SuiteCase } from '../helpers/assert.js'
import { Writer, nodeJson, textBlocks, vectorKeyPair, verifierFor } from '../tree/helpers.js'
import { node, transcript, vectors } from './fixtures.js'

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

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any

/** The transcript's JSON of a `data` message → our DataMessage (hex strings → bytes). */
function dataFromJson (m: Json): DataMessage {
  const nodes = (list: Json[]): TreeNode[] => list.map(node)
  return {
    request: m.request,
    fork: m.fork,
    block: m.block ? { index: m.block.index, value: fromHex(m.block.value), nodes: nodes(m.block.nodes) } : null,
    hash: m.hash ? { index: m.hash.index, nodes: nodes(m.hash.nodes) } : null,
    seek: m.seek ? { bytes: m.seek.bytes, nodes: nodes(m.seek.nodes) } : null,
    upgrade: m.upgrade
      ? { start: m.upgrade.start, length: m.upgrade.length, nodes: nodes(m.upgrade.nodes), additionalNodes: nodes(m.upgrade.additionalNodes), signature: fromHex(m.upgrade.signature) }
      : null,
    manifest: m.manifest === null ? null : fromHex(m.manifest)
  }
}

/**
 * The message body of a protomux frame holding one message (§5.5): `channel ‖ type ‖ body`,
 * or, batched, `0 ‖ 0 ‖ channel ‖ (length ‖ type ‖ body)` — the transcript's decoded entries
 * say which. Only the one-message frames the transcript has for requests and data are handled.
 */
function messageBody (frame: Uint8Array, batched: boolean, expectType: number): Uint8Array {
  const state = c.state(0, frame.byteLength, frame)
  let end = frame.byteLength
  if (batched) {
    equal(c.uint.decode(state), 0, 'batch marker')
    equal(c.uint.decode(state), 0, 'batch marker')
    equal(c.uint.decode(state), 1, 'channel')
    const len = c.uint.decode(state)
    end = state.start + len
    equal(end, frame.byteLength, 'one message in the batch')
  } else {
    equal(c.uint.decode(state), 1, 'channel')
  }
  equal(c.uint.decode(state), expectType, 'message type')
  return frame.subarray(state.start, end)
}

export const proofVectorCases: Array<SuiteCase<void>> = [
  {
    name: 'proofBlock0Upgrade0to3: nodes, request bytes, data bytes, verification',
    async run () {
      const v = P.proofBlock0Upgrade0to3
      const w = writer()
      const req = { id: 1, fork: 0, block: { index: 0, nodes: 0 }, hash: null, seek: null, upgrade: { start: 0, length: 3 }, manifest: false, priority: 0 }
      deepEqual({ id: req.id, fork: req.fork, block: req.block, upgrade: req.upgrade }, v.request, 'the vector request')
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
    }
  },
  {
    name: 'proofBlock2Upgrade1to3: old root 0 merges with node 2, leaf 4 is the second root',
    async run () {
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
    }
  },
  {
    name: 'proofBlock1Nodes1NoUpgrade: node 0 proves block 1 against the stored node 1',
    async run () {
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
    }
  },
  {
    name: 'proofUpgrade0to2With3Available: additional nodes lift the reader to length 3',
    async run () {
      const v = P.proofUpgrade0to2With3Available
      const w = writer()
      const proof = await generateProof(w.tree, { fork: 0, upgrade: { start: 0, length: 2 } })
      deepEqual(proof.upgrade!.nodes.map(nodeJson), v.upgradeNodes)
      deepEqual(proof.upgrade!.additionalNodes.map(nodeJson), v.additionalNodes)
      // the signature is still the one for length 3 (the sender's length)
      bytesEqual(proof.upgrade!.signature, P.perLength[2].signature)
      const r = new MerkleTree(new MemoryNodeStore())
      const batch = await verifyProof(r, proof, verify)
      equal(batch.length, 3)
      bytesEqual(batch.hash(), P.perLength[2].treeHash)
    }
  },
  {
    name: 'transcript cases (§3.3): block 1 nodes 1 → [0]; upgrade 3→4 → [6]; block 3 nodes 0 → []',
    async run () {
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
    }
  },
  {
    name: 'compactEncoding uint vectors, as the index and size of a proof node (§1.1)',
    async run () {
      const hash = new Uint8Array(32).fill(0xab)
      const entries = Object.entries(vectors.compactEncoding.uint) as Array<[string, string]>
      equal(entries.length, 8)
      for (const [n, want] of entries) {
        const value = Number(n)
        const bytes = encodeNode({ index: value, size: value, hash })
        equal(hex(bytes), want + want + hex(hash), `uint ${n}`)
        deepEqual(decodeNode(bytes), { index: value, size: value, hash }, `uint ${n} decodes`)
      }
    }
  },
  {
    name: 'wire transcript: every request/data message hypercore@10 sent decodes and re-encodes byte for byte',
    async run () {
      let requests = 0
      let datas = 0
      for (const m of transcript.messages) {
        for (const d of m.decoded) {
          if (d.type !== 1 && d.type !== 3) continue
          equal(m.decoded.length, 1, `seq ${m.seq}: one message per frame`)
          const body = messageBody(fromHex(m.plaintextHex), d.batched === true, d.type)
          if (d.type === 1) {
            const want: RequestMessage = d.msg
            deepEqual(decodeRequest(body), want, `seq ${m.seq} request`)
            equal(hex(encodeRequest(want)), hex(body), `seq ${m.seq} request bytes`)
            requests++
          } else {
            const want = dataFromJson(d.msg)
            deepEqual(decodeData(body), want, `seq ${m.seq} data`)
            equal(hex(encodeData(want)), hex(body), `seq ${m.seq} data bytes`)
            datas++
          }
        }
      }
      equal(requests, 4, 'request messages in the transcript')
      equal(datas, 4, 'data messages in the transcript')
    }
  }
]
