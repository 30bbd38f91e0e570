/**
 * @module test/tree/proof-errors
 * What proof generation refuses, and with which typed error. The proof vectors themselves
 * (the four compat cases of vectors.json and the §3.3 transcript cases) are in the shared
 * suite test/vectors/proof-vectors.ts, run in Node and in Chromium.
 */
import { test, before } from 'node:test'
import { cryptoReady } from '../../src/crypto/sodium.js'
import { generateProof } from '../../src/tree/proof-generate.js'
import { rejectsWithCode } from '../helpers/assert.js'
import { Writer, textBlocks, vectorKeyPair } from './helpers.js'

before(async () => { await cryptoReady() })

function writer (): Writer {
  const w = new Writer(vectorKeyPair())
  w.append(...textBlocks('a', 'b', 'c'))
  return w
}

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
