/**
 * @module test/tree/proof-properties
 * Property tests (fast-check, random block counts and sizes): every proof we generate —
 * any block, hash or seek, at any requester length, with or without an upgrade from any
 * earlier length — verifies in our verifier and lands the requester on the responder's
 * tree; and any change to any proof field (structured, or a bit flipped in the encoded
 * message) is rejected with INVALID_PROOF / INVALID_SIGNATURE / DECODING_ERROR, never
 * accepted and never a non-HypercoreError.
 */
import { test, before } from 'node:test'
import fc from 'fast-check'
import { HypercoreError } from '../../src/errors.js'
import { cryptoReady } from '../../src/crypto/sodium.js'
import { MemoryNodeStore } from '../../src/tree/memory-node-store.js'
import { MerkleTree } from '../../src/tree/merkle-tree.js'
import { generateProof } from '../../src/tree/proof-generate.js'
import { verifyProof } from '../../src/tree/proof-verify.js'
import * as flat from '../../src/tree/flat.js'
import type { Proof, ProofRequest, TreeNode } from '../../src/tree/types.js'
import { decodeData, encodeData } from '../../src/wire/proof-messages.js'
import { AssertionFailed, bytesEqual, deepEqual, equal, ok } from '../helpers/assert.js'
import { Writer, keyPairFromSeed, verifierFor } from './helpers.js'

let writerKey: ReturnType<typeof keyPairFromSeed>
let verify: ReturnType<typeof verifierFor>
before(async () => {
  await cryptoReady()
  writerKey = keyPairFromSeed(new Uint8Array(32).fill(7))
  verify = verifierFor(writerKey.publicKey)
})

/** Unique block contents (index prefix) so no two leaves share a hash. */
function makeWriter (sizes: number[]): Writer {
  const w = new Writer(writerKey)
  w.append(...sizes.map((n, i) => {
    const b = new Uint8Array(4 + n)
    new DataView(b.buffer).setUint32(0, i)
    for (let k = 4; k < b.length; k++) b[k] = (i * 31 + k) & 0xff
    return b
  }))
  return w
}

/** A requester that has verified `length` blocks: it stores only the roots of that length. */
async function requester (w: Writer, length: number): Promise<MerkleTree> {
  const t = await w.snapshot(length)
  const store = new MemoryNodeStore()
  store.put(t.roots)
  return new MerkleTree(store, { length, fork: t.fork, roots: t.roots, signature: t.signature })
}

interface Scenario { sizes: number[], s: number, upgradeTo: number | null, kind: 'block' | 'hash' | 'seek' | 'blockseek' | 'none', pick: number, depthPick: number }

const scenario = fc.record({
  sizes: fc.array(fc.integer({ min: 0, max: 40 }), { minLength: 1, maxLength: 300 }),
  sPick: fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }),
  upPick: fc.option(fc.double({ min: 0, max: 1, noNaN: true }), { nil: null }),
  kind: fc.constantFrom('block', 'hash', 'seek', 'blockseek', 'none') as fc.Arbitrary<Scenario['kind']>,
  pick: fc.nat(),
  depthPick: fc.nat()
}).map(({ sizes, sPick, upPick, kind, pick, depthPick }): Scenario => {
  const L = sizes.length
  if (upPick === null) {
    // Without an upgrade a seek proof climbs to the responder's own roots (§3.2), so only a
    // requester at the responder's length can check it.
    const s = kind === 'seek' ? L : 1 + Math.floor(sPick * L)
    return { sizes, s, upgradeTo: null, kind: kind === 'none' ? 'block' : kind, pick, depthPick }
  }
  const s = Math.floor(sPick * L) // 0..L-1
  const upgradeTo = s + 1 + Math.floor(upPick * (L - s - 1))
  return { sizes, s, upgradeTo: Math.min(upgradeTo, L), kind, pick, depthPick }
})

/**
 * Generates the proof; null when hypercore 10 would refuse it too: a seek next to a block
 * that lands outside the block's proven subtree ("Invalid seek", INVALID_OPERATION).
 */
async function generate (w: Writer, req: ProofRequest): Promise<Proof | null> {
  try {
    return await generateProof(w.tree, req, (i) => w.readBlock(i))
  } catch (err) {
    if (req.seek && req.block && HypercoreError.is(err, 'INVALID_OPERATION')) return null
    throw err
  }
}

/** Builds the request a requester in this scenario would send. */
async function buildRequest (w: Writer, r: MerkleTree, sc: Scenario): Promise<ProofRequest> {
  const req: ProofRequest = { fork: 0 }
  const provable = sc.upgradeTo ?? sc.s // blocks [0, provable) can be proven
  if (sc.upgradeTo !== null) req.upgrade = { start: sc.s, length: sc.upgradeTo - sc.s }
  if (sc.kind === 'block') {
    const index = sc.pick % provable
    req.block = { index, nodes: index < sc.s ? await r.missingNodes(2 * index) : 0 }
  } else if (sc.kind === 'hash') {
    const leaf = 2 * (sc.pick % provable)
    // a node on the leaf's path that stays under a root of the relevant region
    const path = flat.pathToRoot(leaf, leaf < 2 * sc.s ? sc.s : provable)
    let index = path[sc.depthPick % path.length]
    if (sc.upgradeTo !== null && flat.leftSpan(index) < 2 * sc.s && flat.rightSpan(index) >= 2 * sc.s) index = leaf
    req.hash = { index, nodes: flat.rightSpan(index) < 2 * sc.s ? await r.missingNodes(index) : 0 }
  } else if (sc.kind === 'seek') {
    const t = await w.snapshot(provable)
    if (t.byteLength > 0) req.seek = { bytes: sc.pick % t.byteLength, padding: 0 }
  } else if (sc.kind === 'blockseek' && sc.s > 0) {
    // hypercore 10 only combines a seek with a block below the requester's length
    const index = sc.pick % sc.s
    req.block = { index, nodes: await r.missingNodes(2 * index) }
    const t = await w.snapshot(provable)
    req.seek = { bytes: sc.depthPick % t.byteLength, padding: 0 }
  }
  return req
}

test('property: every generated proof verifies and lands on the responder tree', async () => {
  await fc.assert(fc.asyncProperty(scenario, async (sc) => {
    const w = makeWriter(sc.sizes)
    const r = await requester(w, sc.s)
    const req = await buildRequest(w, r, sc)
    if (!req.block && !req.hash && !req.seek && !req.upgrade) return
    const proof = await generate(w, req)
    if (proof === null) return
    // round trip through the wire encoding
    const wire = decodeData(encodeData({ request: 1, ...proof, manifest: null }))
    const batch = await verifyProof(r, wire, verify)
    if (req.upgrade) {
      equal(batch.length, w.tree.length)
      bytesEqual(batch.hash(), w.tree.hash())
      equal(batch.byteLength, w.tree.byteLength)
    } else {
      equal(batch.upgraded, false)
    }
    const store = r.nodes as MemoryNodeStore
    store.put(batch.nodes)
    batch.commit()
    for (const n of batch.nodes) bytesEqual(n.hash, w.store.getSync(n.index)!.hash, `node ${n.index}`)
    if (req.block) {
      ok(store.has(2 * req.block.index), 'the leaf is stored')
      equal(await r.byteOffset(req.block.index), await w.tree.byteOffset(req.block.index))
    }
    if (req.seek && proof.seek) {
      // The proven seek node holds the byte, or ends right at it (hypercore 10's proof-side
      // seek, matched in hypercore-diff); which proofs carry a seek is compared there too.
      const n = proof.seek.nodes[0]
      const start = await w.tree.byteOffset(flat.leftSpan(n.index) / 2)
      const end = await w.tree.byteOffset(flat.rightSpan(n.index) / 2 + 1)
      ok(start <= req.seek.bytes && req.seek.bytes <= end, `seek node ${n.index} spans ${start}..${end}, not ${req.seek.bytes}`)
      ok(store.has(n.index), 'seek node stored')
    }
  }), { numRuns: 200 })
})

const ACCEPTED = new Set(['INVALID_PROOF', 'INVALID_SIGNATURE', 'DECODING_ERROR'])

async function expectRejected (r: MerkleTree, fn: () => Promise<unknown>, what: string): Promise<void> {
  try {
    await fn()
  } catch (err) {
    if (err instanceof HypercoreError && ACCEPTED.has(err.code)) return
    throw new AssertionFailed(`${what}: expected a typed proof error, got ${err instanceof Error ? err.stack : String(err)}`)
  }
  throw new AssertionFailed(`${what}: mutated proof was accepted`)
  void r
}

type Mutation = (p: Proof) => string | null

function nodeLists (p: Proof): Array<[string, TreeNode[]]> {
  const out: Array<[string, TreeNode[]]> = []
  if (p.block) out.push(['block', p.block.nodes])
  if (p.hash) out.push(['hash', p.hash.nodes])
  if (p.seek) out.push(['seek', p.seek.nodes])
  if (p.upgrade) out.push(['upgrade', p.upgrade.nodes], ['additional', p.upgrade.additionalNodes])
  return out
}

/** Every field-level mutation site of a proof, as functions selected by `k`. */
function mutations (p: Proof, bit: number): Mutation[] {
  const ms: Mutation[] = []
  const flip = (b: Uint8Array, at: number): void => { b[at % b.length] ^= 1 << (bit % 8) }
  if (p.upgrade) ms.push((q) => { q.fork += 1; return 'fork' })
  if (p.block) {
    ms.push((q) => { q.block!.index ^= 1 << (bit % 4); return 'block.index' })
    if (p.block.value.length > 0) ms.push((q) => { flip(q.block!.value, bit); return 'block.value' })
    ms.push((q) => { const v = new Uint8Array(q.block!.value.length + 1); v.set(q.block!.value); q.block!.value = v; return 'block.value+1' })
  }
  for (const [name, list] of nodeLists(p)) {
    for (let i = 0; i < list.length; i++) {
      ms.push((q) => { nodeLists(q).find(([n]) => n === name)![1][i].index ^= 1 << (bit % 6); return `${name}[${i}].index` })
      ms.push((q) => { nodeLists(q).find(([n]) => n === name)![1][i].size += 1 + (bit % 3); return `${name}[${i}].size` })
      ms.push((q) => { flip(nodeLists(q).find(([n]) => n === name)![1][i].hash, bit); return `${name}[${i}].hash` })
      ms.push((q) => { nodeLists(q).find(([n]) => n === name)![1].splice(i, 1); return `${name}[${i}] removed` })
      ms.push((q) => { const l = nodeLists(q).find(([n]) => n === name)![1]; l.splice(i, 0, l[i]); return `${name}[${i}] duplicated` })
      // seek[0] and seek[1] are siblings, and which of them the seek landed on is not
      // authenticated by the tree (the requester re-seeks in its verified tree): a swap there
      // is an equally valid proof of the same parent.
      if (i + 1 < list.length && !(name === 'seek' && i === 0)) ms.push((q) => { const l = nodeLists(q).find(([n]) => n === name)![1]; [l[i], l[i + 1]] = [l[i + 1], l[i]]; return `${name}[${i}] swapped` })
    }
  }
  if (p.upgrade) {
    ms.push((q) => { flip(q.upgrade!.signature, bit); return 'signature' })
    ms.push((q) => { q.upgrade!.start += 1; return 'upgrade.start+1' })
    if (p.upgrade.start > 0) ms.push((q) => { q.upgrade!.start -= 1; return 'upgrade.start-1' })
    ms.push((q) => { q.upgrade!.length += 1; return 'upgrade.length+1' })
    if (p.upgrade.length > 1) ms.push((q) => { q.upgrade!.length -= 1; return 'upgrade.length-1' })
  }
  return ms
}

function cloneProof (p: Proof): Proof {
  return decodeData(encodeData({ request: 1, ...p, manifest: null }))
}

test('property: any mutated proof field is rejected with a typed error', async () => {
  await fc.assert(fc.asyncProperty(scenario, fc.nat(), fc.nat(), async (sc, k, bit) => {
    const w = makeWriter(sc.sizes)
    const r = await requester(w, sc.s)
    const req = await buildRequest(w, r, sc)
    if (!req.block && !req.hash && !req.seek && !req.upgrade) return
    const proof = await generate(w, req)
    if (proof === null) return
    const ms = mutations(proof, bit)
    if (ms.length === 0) return
    const q = cloneProof(proof)
    const what = ms[k % ms.length](q)!
    await expectRejected(r, () => verifyProof(r, q, verify), what)
  }), { numRuns: 400 })
})

test('property: a bit flipped in the encoded data message (after flags and id) never verifies', async () => {
  await fc.assert(fc.asyncProperty(scenario, fc.nat(), fc.nat({ max: 7 }), async (sc, pos, bit) => {
    const w = makeWriter(sc.sizes)
    const r = await requester(w, sc.s)
    const req = await buildRequest(w, r, sc)
    if (!req.block && !req.hash && !req.seek && !req.upgrade) return
    const proof = await generate(w, req)
    if (proof === null) return
    const bytes = encodeData({ request: 1, ...proof, manifest: null })
    // byte 0 is the flags, byte 1 the request id (1): neither is a proof field (see report)
    const at = 2 + (pos % (bytes.length - 2))
    bytes[at] ^= 1 << bit
    let decoded: Proof | null = null
    await expectRejected(r, async () => {
      decoded = decodeData(bytes)
      await verifyProof(r, decoded, verify)
      // seek.bytes echoes the request and is checked by request matching (§3.3.4), not by
      // the tree: a flip there alone is the one change the verifier may accept.
      const d = decoded as Proof
      if (d.seek && proof.seek && d.seek.bytes !== proof.seek.bytes) {
        d.seek.bytes = proof.seek.bytes
        deepEqual(d, decodeData(encodeData({ request: 1, ...proof, manifest: null })))
        throw HypercoreError.INVALID_PROOF('seek.bytes echo changed')
      }
    }, `byte ${at} bit ${bit}`)
  }), { numRuns: 400 })
})

test('decoding: truncated or oversized messages throw DECODING_ERROR only', () => {
  const n: TreeNode = { index: 2, size: 1, hash: new Uint8Array(32).fill(9) }
  const full = encodeData({ request: 3, fork: 0, block: { index: 1, value: new Uint8Array([1, 2]), nodes: [n] }, hash: null, seek: null, upgrade: { start: 0, length: 2, nodes: [n], additionalNodes: [], signature: new Uint8Array(64) }, manifest: null })
  for (let cut = 0; cut < full.length; cut++) {
    let code = ''
    try { decodeData(full.subarray(0, cut)) } catch (e) { code = (e as HypercoreError).code }
    equal(code, 'DECODING_ERROR', `cut at ${cut}`)
  }
  // 129 nodes: over the cap
  const many = new Uint8Array([0x02, 0x01, 0x00, 0x00, 0x81, 0x01])
  let code = ''
  try { decodeData(many) } catch (e) { code = (e as HypercoreError).code }
  equal(code, 'DECODING_ERROR')
  // a uint beyond 2^53
  try { decodeData(new Uint8Array([0x00, 0xff, 255, 255, 255, 255, 255, 255, 255, 255, 0x00])); code = '' } catch (e) { code = (e as HypercoreError).code }
  equal(code, 'DECODING_ERROR')
  deepEqual(decodeData(full).block!.value, new Uint8Array([1, 2]))
})
