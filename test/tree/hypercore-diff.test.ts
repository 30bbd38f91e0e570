/**
 * @module test/tree/hypercore-diff
 * Differential test against the real hypercore@10 as a black box (memory storage, same key
 * pair): after every append, our tree hash, roots, byte length and signature must equal its;
 * at the end, byteOffset and seek for every block, and the proofs its tree makes
 * (`core.core.tree.proof(request)`) must equal ours byte for byte, for random requests
 * (block, hash, seek, upgrade, and combinations) — including which requests it refuses.
 */
import { test, before } from 'node:test'
import { createRequire } from 'node:module'
import fc from 'fast-check'
import { HypercoreError } from '../../src/errors.js'
import { cryptoReady } from '../../src/crypto/sodium.js'
import { generateProof } from '../../src/tree/proof-generate.js'
import type { Proof, ProofRequest, TreeNode } from '../../src/tree/types.js'
import { encodeData } from '../../src/wire/proof-messages.js'
import { AssertionFailed, bytesEqual, deepEqual, equal, hex } from '../helpers/assert.js'
import { Writer, keyPairFromSeed, nodeJson } from './helpers.js'

const require = createRequire(import.meta.url)
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const Hypercore = require('hypercore') as any
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const RAM = require('random-access-memory') as any

before(async () => { await cryptoReady() })

function toU8 (b: Uint8Array): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength)
}

interface JsNode { index: number, size: number, hash: Uint8Array }
// eslint-disable-next-line @typescript-eslint/no-explicit-any
function fromJsProof (p: any, value: Uint8Array | null): Proof {
  const nodes = (l: JsNode[]): TreeNode[] => l.map((n) => ({ index: n.index, size: n.size, hash: toU8(n.hash) }))
  return {
    fork: p.fork,
    block: p.block ? { index: p.block.index, value: value!, nodes: nodes(p.block.nodes) } : null,
    hash: p.hash ? { index: p.hash.index, nodes: nodes(p.hash.nodes) } : null,
    seek: p.seek ? { bytes: p.seek.bytes, nodes: nodes(p.seek.nodes) } : null,
    upgrade: p.upgrade
      ? { start: p.upgrade.start, length: p.upgrade.length, nodes: nodes(p.upgrade.nodes), additionalNodes: nodes(p.upgrade.additionalNodes), signature: toU8(p.upgrade.signature) }
      : null
  }
}

const requestArb = fc.record({
  block: fc.option(fc.record({ pick: fc.nat(), nodes: fc.nat({ max: 4 }) }), { nil: null }),
  hash: fc.option(fc.record({ pick: fc.nat(), nodes: fc.nat({ max: 3 }) }), { nil: null }),
  seek: fc.option(fc.nat(), { nil: null }),
  upgrade: fc.option(fc.record({ start: fc.nat(), length: fc.nat() }), { nil: null })
})

test('differential: tree state, byteOffset, seek and proofs equal hypercore@10', async () => {
  const keyPair = keyPairFromSeed(new Uint8Array(32).fill(3))
  await fc.assert(fc.asyncProperty(
    fc.array(fc.integer({ min: 0, max: 24 }), { minLength: 1, maxLength: 120 }),
    fc.array(requestArb, { minLength: 30, maxLength: 30 }),
    async (sizes, requests) => {
      const core = new Hypercore(() => new RAM(), { keyPair: { publicKey: Buffer.from(keyPair.publicKey), secretKey: Buffer.from(keyPair.secretKey) } })
      await core.ready()
      try {
        const w = new Writer(keyPair)
        for (const [i, n] of sizes.entries()) {
          const block = new Uint8Array(n).fill(i & 0xff)
          await core.append(Buffer.from(block))
          w.append(block)
          const t = core.core.tree
          equal(w.tree.length, t.length)
          equal(w.tree.byteLength, t.byteLength)
          bytesEqual(w.tree.hash(), toU8(t.hash()), `tree hash at ${t.length}`)
          deepEqual(w.tree.roots.map(nodeJson), t.roots.map((r: JsNode) => nodeJson({ ...r, hash: toU8(r.hash) })))
          bytesEqual(w.tree.signature, toU8(t.signature), `signature at ${t.length}`)
        }
        const t = core.core.tree
        const L = w.tree.length
        for (let i = 0; i <= L; i++) equal(await w.tree.byteOffset(i), await t.byteOffset(2 * i), `byteOffset ${i}`)
        for (let b = 0; b <= w.tree.byteLength; b++) deepEqual(await w.tree.seek(b), await core.seek(b), `seek ${b}`)

        for (const rq of requests) {
          const req: ProofRequest = { fork: 0 }
          if (rq.upgrade) {
            const start = rq.upgrade.start % L
            req.upgrade = { start, length: 1 + (rq.upgrade.length % (L - start)) }
          }
          const provable = req.upgrade ? req.upgrade.start + req.upgrade.length : L
          if (rq.block) req.block = { index: rq.block.pick % provable, nodes: rq.block.nodes }
          else if (rq.hash) {
            const leaf = 2 * (rq.hash.pick % provable)
            req.hash = { index: leaf + (rq.hash.pick % 3 === 0 ? 0 : 1), nodes: rq.hash.nodes }
          }
          // A seek next to a block/hash is left out: where a zero-byte block sits on the seeked
          // byte, hypercore 10 places the seek on it and we do not (seek-proof-diff.test.ts
          // lists those cases); seeks alone and beside an upgrade are compared.
          if (rq.seek !== null && w.tree.byteLength > 0 && !req.block && !req.hash) req.seek = { bytes: rq.seek % w.tree.byteLength, padding: 0 }

          let ours: Proof | null = null
          let ourErr: unknown = null
          try { ours = await generateProof(w.tree, req, (i) => w.readBlock(i)) } catch (e) { ourErr = e }
          let theirs: Proof | null = null
          let theirErr: unknown = null
          try {
            const p = await t.proof(req)
            theirs = fromJsProof(p, req.block ? w.blocks[req.block.index] : null)
          } catch (e) { theirErr = e }
          const what = JSON.stringify(req)
          if (ourErr !== null && !(ourErr instanceof HypercoreError)) throw ourErr
          if ((ourErr === null) !== (theirErr === null)) {
            throw new AssertionFailed(`${what}: ours ${ourErr ? (ourErr as Error).message : 'ok'}, hypercore ${theirErr ? (theirErr as Error).message : 'ok'}`)
          }
          if (ours && theirs) {
            equal(hex(encodeData({ request: 1, ...ours, manifest: null })), hex(encodeData({ request: 1, ...theirs, manifest: null })), what)
          }
        }
      } catch (err) {
        if (process.env.DIFF_DEBUG) console.error('DIFF', (err as Error).message)
        throw err
      } finally {
        await core.close()
      }
    }), { numRuns: 12, endOnFailure: true, errorWithCause: true } as fc.Parameters<unknown>)
})
