/**
 * @module web-test/package-fixture/app
 * What a user writes: plain browser JavaScript importing the PUBLISHED package by name. The
 * spec (web-test/package.spec.ts) bundles this file with plain esbuild — no plugins,
 * polyfills, define or inject — so `hypercore-web` resolves through package.json `exports`
 * (the `browser` condition → dist/browser/index.js), exactly as in a user's project.
 */
import Hypercore, { Hypercore as Named, HypercoreError } from 'hypercore-web'

async function write (name, blocks) {
  const core = new Hypercore(name, { valueEncoding: 'utf-8' })
  await core.append(blocks)
  const out = { id: core.id, length: core.length, byteLength: core.byteLength, treeHash: hex(await core.treeHash()) }
  await core.close()
  return out
}

async function read (name) {
  const core = new Hypercore(name, { valueEncoding: 'utf-8', createIfMissing: false })
  await core.ready()
  const blocks = []
  for await (const b of core.createReadStream()) blocks.push(b)
  const out = { id: core.id, length: core.length, byteLength: core.byteLength, treeHash: hex(await core.treeHash()), blocks }
  await core.close()
  return out
}

/** Typed errors survive the bundle: a missing core refuses to open with STORAGE_EMPTY. */
async function missing (name) {
  const core = new Hypercore(name, { createIfMissing: false })
  try {
    await core.ready()
    return null
  } catch (err) {
    return { code: err.code, typed: err instanceof HypercoreError }
  }
}

function hex (b) {
  return Array.from(b, x => x.toString(16).padStart(2, '0')).join('')
}

globalThis.testApi = { write, read, missing, sameExport: Hypercore === Named }
