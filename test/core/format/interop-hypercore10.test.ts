/**
 * @module test/core/format/interop-hypercore10
 * Black-box interop with the real hypercore@10 on disk (spec §6): directories written by
 * hypercore@10 are decoded with our format modules (over our Node file storage), and a
 * directory written by our modules is opened by hypercore@10.
 */
import { test } from 'node:test'
import { createRequire } from 'node:module'
import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Oplog } from '../../../src/core/format/oplog.js'
import { TreeFile } from '../../../src/core/format/tree-file.js'
import { BitfieldFile } from '../../../src/core/format/bitfield-file.js'
import { DataFile } from '../../../src/core/format/data-file.js'
import type { OplogHeader } from '../../../src/core/format/oplog-encoding.js'
import { FileStorage } from '../../../src/storage/file.node.js'
import { MerkleTree } from '../../../src/tree/merkle-tree.js'
import { leafNode, parentNode, rootsHash } from '../../../src/tree/nodes.js'
import { fullRoots, rightSpan } from '../../../src/tree/flat.js'
import type { TreeNode } from '../../../src/tree/types.js'
import { cryptoReady } from '../../../src/crypto/sodium.js'
import { keyPair as makeKeyPair, sign } from '../../../src/crypto/sign.js'
import { compatSignable } from '../../../src/crypto/signable.js'
import { defaultManifest } from '../../../src/crypto/manifest.js'
import { bytesEqual, deepEqual, equal, hex, ok } from '../../helpers/assert.js'

const require = createRequire(import.meta.url)
const Hypercore = require('hypercore')
const SEED = new Uint8Array(32).fill(1)

function tmp (t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'hcw-format-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

/** What our format layer reads from a v10 directory, entries replayed the way the core will. */
interface Opened {
  header: OplogHeader
  entries: number
  fork: number
  length: number
  signature: Uint8Array | null
  tree: TreeFile
  bitfield: BitfieldFile
  data: DataFile
  merkle: MerkleTree
  close: () => Promise<void>
}

async function openDir (dir: string): Promise<Opened> {
  await cryptoReady() // for the tree hash and leaf checks
  const file = (name: string): FileStorage => new FileStorage(name, { directory: dir })
  const oplog = new Oplog(file('oplog'), { headerFile: file('header') })
  const { header, entries } = await oplog.open()
  ok(header !== null, 'a header')
  const tree = await TreeFile.open(file('tree'))
  const bitfield = await BitfieldFile.open(file('bitfield'))
  const data = new DataFile(file('data'))
  let { fork, length, signature } = header.tree
  for (const e of entries) {
    // a truncation is an upgrade whose common prefix is shorter than what we have (§3.5)
    if (e.treeUpgrade !== null && e.treeUpgrade.ancestors < length) tree.truncate(e.treeUpgrade.ancestors)
    if (e.treeNodes !== null) tree.put(e.treeNodes)
    if (e.treeUpgrade !== null) ({ fork, length, signature } = e.treeUpgrade)
    if (e.bitfield !== null) await bitfield.setRange(e.bitfield.start, e.bitfield.length, !e.bitfield.drop)
  }
  const merkle = await MerkleTree.open(tree, { length, fork, signature })
  return {
    header, entries: entries.length, fork, length, signature, tree, bitfield, data, merkle,
    close: async () => { await oplog.close(); await tree.close(); await bitfield.close(); await data.close() }
  }
}

function blocksOf (n: number, tag: string): Uint8Array[] {
  return Array.from({ length: n }, (_, i) => new TextEncoder().encode(`${tag}${i}`.repeat((i % 5) + 1)))
}

test('interop: a hypercore@10 writer directory decodes to the same key, length, fork, tree hash, signature, nodes, bits and blocks', async (t) => {
  const dir = tmp(t)
  const crypto = require('hypercore-crypto')
  const core = new Hypercore(dir, { keyPair: crypto.keyPair(Buffer.from(SEED)) })
  await core.ready()
  const blocks: Uint8Array[] = []
  const add = async (bs: Uint8Array[]): Promise<void> => { await core.append(bs.map(b => Buffer.from(b))); blocks.push(...bs) }
  await add(blocksOf(3, 'a'))
  for (const b of blocksOf(6, 'single')) await add([b]) // some of these stay in the oplog as entries
  await add(blocksOf(40, 'batch'))
  await core.truncate(45) // fork 1, a reorg hint, a bitfield drop
  blocks.length = 45
  await add(blocksOf(2, 'after'))
  await add(blocksOf(1, 'last'))
  const want = {
    key: hex(core.key),
    length: core.length,
    fork: core.fork,
    treeHash: hex(await core.treeHash()),
    signature: hex(core.core.tree.signature),
    contiguousLength: core.contiguousLength
  }
  await core.close()
  equal(want.length, 48)
  equal(want.fork, 1)
  deepEqual(readdirSync(dir).sort(), ['bitfield', 'data', 'oplog', 'tree'])

  const ours = await openDir(dir)
  try {
    ok(ours.entries > 0, `entries replayed: ${ours.entries}`)
    equal(hex(ours.header.key), want.key, 'key')
    equal(hex(ours.header.keyPair!.publicKey), want.key)
    equal(ours.header.manifest!.signers.length, 1, 'compat: default manifest stored')
    bytesEqual(ours.header.manifest!.signers[0]!.publicKey, want.key)
    equal(ours.length, want.length, 'length')
    equal(ours.fork, want.fork, 'fork')
    equal(hex(ours.signature!), want.signature, 'signature')
    equal(hex(ours.merkle.hash()), want.treeHash, 'tree hash from our tree-file nodes')
    // every leaf in the tree file is the hash of the block hypercore stored in the data file
    for (let i = 0; i < want.length; i++) {
      const leaf = await ours.tree.get(2 * i)
      ok(leaf !== null, `leaf ${i}`)
      deepEqual(leaf, leafNode(i, blocks[i]!), `leaf ${i}`)
      const offset = await ours.merkle.byteOffset(i)
      bytesEqual(await ours.data.read(offset, leaf.size), blocks[i]!, `block ${i} at ${offset}`)
      equal(await ours.bitfield.get(i), true, `bit ${i}`)
    }
    equal(await ours.bitfield.firstUnset(0), want.contiguousLength)
    equal(await ours.bitfield.count(), want.length, 'no bits past the end (truncation dropped them)')
  } finally {
    await ours.close()
  }
})

test('interop: a sparse hypercore@10 replica: our bitfield bits equal core.has(i), and the blocks sit at their byte offsets', async (t) => {
  const crypto = require('hypercore-crypto')
  const a = new Hypercore(tmp(t), { keyPair: crypto.keyPair(Buffer.from(SEED)) })
  await a.ready()
  const blocks = blocksOf(70, 'r')
  await a.append(blocks.map(b => Buffer.from(b)))
  const dirB = tmp(t)
  const b = new Hypercore(dirB, a.key)
  await b.ready()
  const s1 = a.replicate(true)
  const s2 = b.replicate(false)
  s1.pipe(s2).pipe(s1)
  await b.update({ wait: true })
  const wanted = [1, 4, 5, 33, 64, 69]
  for (const i of wanted) bytesEqual(await b.get(i), blocks[i]!)
  const has: boolean[] = []
  for (let i = 0; i < b.length; i++) has.push(await b.has(i))
  const length = b.length
  const treeHash = hex(await b.treeHash())
  await b.close()
  await a.close()
  deepEqual(has.map((x, i) => x ? i : -1).filter(i => i >= 0), wanted)

  const ours = await openDir(dirB)
  try {
    equal(ours.length, length)
    equal(hex(ours.merkle.hash()), treeHash)
    for (let i = 0; i < length; i++) equal(await ours.bitfield.get(i), has[i], `bit ${i}`)
    equal(await ours.bitfield.firstSet(0), 1)
    equal(await ours.bitfield.firstUnset(4), 6)
    for (const i of wanted) {
      const offset = await ours.merkle.byteOffset(i)
      bytesEqual(await ours.data.read(offset, blocks[i]!.byteLength), blocks[i]!, `block ${i}`)
    }
  } finally {
    await ours.close()
  }
})

/** Every node of a tree of `blocks` (leaves and complete parents), bottom-up. */
function allNodes (blocks: Uint8Array[]): Map<number, TreeNode> {
  const nodes = new Map<number, TreeNode>()
  blocks.forEach((b, i) => nodes.set(2 * i, leafNode(i, b)))
  for (let d = 1; 2 ** d <= blocks.length; d++) {
    for (let i = 2 ** d - 1; rightSpan(i) <= 2 * (blocks.length - 1); i += 2 ** (d + 1)) {
      const l = nodes.get(i - 2 ** (d - 1))!
      const r = nodes.get(i + 2 ** (d - 1))!
      nodes.set(i, parentNode(l, r))
    }
  }
  return nodes
}

test('interop (reverse): a directory written by our modules opens in hypercore@10 with the same length, tree hash and blocks', async (t) => {
  await cryptoReady()
  const dir = tmp(t)
  const kp = makeKeyPair(SEED)
  const blocks = blocksOf(20, 'w')
  const nodes = allNodes(blocks)
  const treeHashOf = (len: number): Uint8Array => rootsHash(fullRoots(len).map(i => nodes.get(i)!))
  const signed = (len: number): Uint8Array => sign(compatSignable(treeHashOf(len), len, 0), kp.secretKey)
  const header = (len: number): OplogHeader => ({
    external: null,
    key: kp.publicKey,
    manifest: defaultManifest(kp.publicKey),
    keyPair: { publicKey: kp.publicKey, secretKey: kp.secretKey },
    userData: [{ key: 'hello', value: new TextEncoder().encode('world') }],
    tree: { fork: 0, length: len, rootHash: treeHashOf(len), signature: signed(len) },
    hints: { reorgs: [], contiguousLength: len }
  })

  const file = (name: string): FileStorage => new FileStorage(name, { directory: dir })
  const oplog = new Oplog(file('oplog'))
  await oplog.open()
  const tree = await TreeFile.open(file('tree'))
  const bitfield = await BitfieldFile.open(file('bitfield'))
  const data = new DataFile(file('data'))
  // flushed state: the first 12 blocks
  const FLUSHED = 12
  let offset = 0
  offset += await data.writeBlocks(0, blocks.slice(0, FLUSHED))
  tree.put([...nodes.values()].filter(n => rightSpan(n.index) <= 2 * (FLUSHED - 1)))
  await bitfield.setRange(0, FLUSHED, true)
  await bitfield.flush()
  await tree.flush()
  await oplog.flush(header(FLUSHED))
  // then 8 more blocks only in the oplog: two appends, as hypercore would log them
  for (const [from, to] of [[FLUSHED, 15], [15, 20]] as const) {
    offset += await data.writeBlocks(offset, blocks.slice(from, to))
    const newNodes = [...nodes.values()].filter(n => rightSpan(n.index) <= 2 * (to - 1) && rightSpan(n.index) > 2 * (from - 1))
    await oplog.append([{
      userData: null,
      treeNodes: newNodes,
      treeUpgrade: { fork: 0, ancestors: from, length: to, signature: signed(to) },
      bitfield: { drop: false, start: from, length: to - from }
    }])
  }
  await oplog.close(); await tree.close(); await bitfield.close(); await data.close()

  const core = new Hypercore(dir, { keyPair: { publicKey: Buffer.from(kp.publicKey), secretKey: Buffer.from(kp.secretKey) } })
  await core.ready()
  try {
    equal(core.length, 20, 'length after replaying our oplog entries')
    equal(core.fork, 0)
    equal(hex(core.key), hex(kp.publicKey))
    equal(hex(await core.treeHash()), hex(treeHashOf(20)))
    equal(core.contiguousLength, 20)
    for (let i = 0; i < 20; i++) bytesEqual(await core.get(i), blocks[i]!, `block ${i}`)
    equal((await core.getUserData('hello')).toString(), 'world')
    // it can go on writing, and we can read what it wrote
    await core.append(Buffer.from('more'))
    equal(core.length, 21)
  } finally {
    await core.close()
  }
  const ours = await openDir(dir)
  try {
    equal(ours.length, 21)
    bytesEqual(await ours.data.read(await ours.merkle.byteOffset(20), 4), new TextEncoder().encode('more'))
  } finally {
    await ours.close()
  }
})

test('interop: big headers (§6.5) — hypercore@10\'s header file reads in ours, ours reads in hypercore@10', async (t) => {
  const crypto = require('hypercore-crypto')
  const dir = tmp(t)
  const big = new Uint8Array(6000).fill(7)
  const core = new Hypercore(dir, { keyPair: crypto.keyPair(Buffer.from(SEED)) })
  await core.ready()
  await core.append(Buffer.from('x'))
  await core.setUserData('big', Buffer.from(big))
  await core.append(Buffer.from('y')) // more mutations so the header is flushed again
  await core.append(Buffer.from('z'))
  await core.append(Buffer.from('w'))
  await core.append(Buffer.from('v'))
  await core.close()
  ok(readdirSync(dir).includes('header'), 'hypercore wrote a header file')

  // ours reads it (the slot points into the header file)
  const file = (name: string): FileStorage => new FileStorage(name, { directory: dir })
  const oplog = new Oplog(file('oplog'), { headerFile: file('header') })
  const { header } = await oplog.open()
  const ud = header!.userData.find(u => u.key === 'big')
  ok(ud !== undefined, 'userData from the external header')
  bytesEqual(ud.value, big)
  // ours writes a new big header (changing the user data), hypercore reads it
  const bigger = new Uint8Array(9000).fill(9)
  await oplog.flush({ ...header!, userData: [{ key: 'big', value: bigger }] })
  await oplog.close()
  const again = new Hypercore(dir)
  await again.ready()
  try {
    equal(again.length, header!.tree.length)
    bytesEqual(await again.getUserData('big'), bigger)
  } finally {
    await again.close()
  }
})
