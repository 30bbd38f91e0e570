/**
 * @module test/replication/fuzz/tamper
 * Turns a genuine `data` answer (made by the honest writer) into a subtly wrong one: a bit
 * flipped in the block, a proof node changed, dropped, duplicated or added, a signature
 * broken, an upgrade stretched, a field the request did not ask for. The victim must refuse
 * every one of them before storing anything (§3.3): the fuzzer later checks that each block
 * the victim holds is the writer's.
 *
 * The answer is deep-copied first: `answer()` may hand out the writer's own buffers (memory
 * storage, cached tree nodes), and tampering with those would corrupt the honest writer.
 */
import type { DataMessage } from '../../../src/wire/messages.js'
import type { TreeNode } from '../../../src/crypto/index.js'
import { type Rng } from './random.js'

type Nodes = TreeNode[]

/** A copy of `d` that shares no buffer with it. */
export function copyData (d: DataMessage): DataMessage {
  const nodes = (list: Nodes): Nodes => list.map(n => ({ index: n.index, size: n.size, hash: n.hash.slice() }))
  return {
    request: d.request,
    fork: d.fork,
    block: d.block === null ? null : { index: d.block.index, value: d.block.value.slice(), nodes: nodes(d.block.nodes) },
    hash: d.hash === null ? null : { index: d.hash.index, nodes: nodes(d.hash.nodes) },
    seek: d.seek === null ? null : { bytes: d.seek.bytes, nodes: nodes(d.seek.nodes) },
    upgrade: d.upgrade === null
      ? null
      : { start: d.upgrade.start, length: d.upgrade.length, nodes: nodes(d.upgrade.nodes), additionalNodes: nodes(d.upgrade.additionalNodes), signature: d.upgrade.signature.slice() },
    manifest: d.manifest === null ? null : d.manifest.slice()
  }
}

/** A random node: plausible index and size, random hash. */
export function randomNode (rng: Rng, near: number): TreeNode {
  return { index: rng.index(2 * near), size: rng.index(64 * near), hash: rng.bytes(32) }
}

/** The node lists of `d` that exist (to pick one to tamper with). */
function nodeLists (d: DataMessage): Nodes[] {
  const out: Nodes[] = []
  if (d.block !== null) out.push(d.block.nodes)
  if (d.hash !== null) out.push(d.hash.nodes)
  if (d.seek !== null) out.push(d.seek.nodes)
  if (d.upgrade !== null) out.push(d.upgrade.nodes, d.upgrade.additionalNodes)
  return out
}

/** n ± 1, staying a `uint` the encoder takes (≤ 2^53 - 1). */
function nudge (n: number, by = 1): number {
  return n + by <= Number.MAX_SAFE_INTEGER ? n + by : n - by
}

function flipByte (rng: Rng, b: Uint8Array): void {
  if (b.byteLength > 0) b[rng.int(0, b.byteLength - 1)]! ^= 1 << rng.int(0, 7)
}

/** Tampers with a copy of `genuine` in one way (sometimes two); returns the copy and what was done. */
export function tamper (rng: Rng, genuine: DataMessage, near: number): { data: DataMessage, how: string } {
  const d = copyData(genuine)
  const hows: string[] = []
  const rounds = rng.bool(0.2) ? 2 : 1
  for (let r = 0; r < rounds; r++) hows.push(tamperOnce(rng, d, near))
  return { data: d, how: hows.join('+') }
}

function tamperOnce (rng: Rng, d: DataMessage, near: number): string {
  const lists = nodeLists(d).filter(l => l.length > 0)
  const options: string[] = ['fork', 'extraSeek', 'manifest']
  if (d.block !== null) options.push('blockValue', 'blockValue', 'blockValue', 'blockIndex', 'blockLength')
  if (lists.length > 0) options.push('nodeHash', 'nodeHash', 'nodeSize', 'nodeIndex', 'dropNode', 'dupNode', 'swapNodes')
  options.push('addNode')
  if (d.upgrade !== null) options.push('signature', 'signature', 'upgradeLength', 'upgradeStart', 'dropUpgrade')
  else options.push('addUpgrade')
  const how = rng.pick(options)
  const list = lists.length > 0 ? rng.pick(lists) : null
  const at = list === null ? 0 : rng.int(0, list.length - 1)
  switch (how) {
    case 'fork': d.fork = rng.bool() ? nudge(d.fork) : rng.index(near); break
    case 'extraSeek': d.seek = { bytes: rng.index(64 * near), nodes: Array.from({ length: rng.int(0, 4) }, () => randomNode(rng, near)) }; break
    case 'manifest': d.manifest = rng.bytes(rng.int(1, 200)); break
    case 'blockValue': flipByte(rng, d.block!.value); break
    case 'blockIndex': d.block!.index = rng.bool() ? nudge(d.block!.index) : rng.index(near); break
    case 'blockLength': {
      const v = d.block!.value
      d.block!.value = rng.bool() ? v.subarray(0, Math.max(0, v.byteLength - 1)) : Uint8Array.from([...v, rng.int(0, 255)])
      break
    }
    case 'nodeHash': flipByte(rng, list![at]!.hash); break
    case 'nodeSize': list![at]!.size = rng.bool() ? nudge(list![at]!.size) : rng.index(near); break
    case 'nodeIndex': list![at]!.index = rng.bool() ? nudge(list![at]!.index, 2) : rng.index(2 * near); break
    case 'dropNode': list!.splice(at, 1); break
    case 'dupNode': list!.splice(at, 0, { ...list![at]!, hash: list![at]!.hash.slice() }); break
    case 'swapNodes': if (list!.length > 1) { const j = (at + 1) % list!.length; [list![at], list![j]] = [list![j]!, list![at]!] } break
    case 'addNode': (list ?? (d.block?.nodes ?? d.upgrade?.nodes ?? [])).push(randomNode(rng, near)); break
    case 'signature': {
      const u = d.upgrade!
      if (rng.bool(0.7)) flipByte(rng, u.signature)
      else u.signature = rng.bool() ? new Uint8Array(0) : rng.bytes(rng.pick([1, 63, 64, 65]))
      break
    }
    case 'upgradeLength': d.upgrade!.length = rng.bool() ? nudge(d.upgrade!.length) : rng.index(near); break
    case 'upgradeStart': d.upgrade!.start = rng.bool() ? Math.max(0, d.upgrade!.start - 1) : rng.index(near); break
    case 'dropUpgrade': d.upgrade = null; break
    case 'addUpgrade':
      d.upgrade = { start: rng.index(near), length: rng.length(near), nodes: [randomNode(rng, near)], additionalNodes: [], signature: rng.bytes(64) }
      break
  }
  return how
}
