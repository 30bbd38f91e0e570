/**
 * @module bench/core-append
 * Append throughput of 1 KiB blocks on memory storage, ours against hypercore@10 in the same
 * process: batches of 100, and one block per `append` call (one signature each). Rounds of the
 * two implementations alternate, and the best round of each is kept, so a noisy neighbour on
 * the shared machine penalises both alike. Node only.
 */
import { createRequire } from 'node:module'
import { Hypercore } from '../src/core/hypercore.js'
import { MemoryStorage } from '../src/storage/memory.js'

const require = createRequire(import.meta.url)
const Reference = require('hypercore') as new (storage: unknown) => AppendTarget
const RAM = require('random-access-memory') as unknown

interface AppendTarget {
  ready (): Promise<void>
  append (blocks: Uint8Array | Uint8Array[]): Promise<unknown>
  close (): Promise<void>
}

export interface AppendResult {
  /** blocks per second, best round */
  ours: number
  reference: number
  ratio: number
}

async function rate (make: () => AppendTarget, blocks: number, batch: number): Promise<number> {
  const core = make()
  await core.ready()
  const block = new Uint8Array(1024).fill(0x61)
  const group = Array.from({ length: batch }, () => block)
  const start = performance.now()
  for (let i = 0; i < blocks; i += batch) await core.append(batch === 1 ? block : group)
  const seconds = (performance.now() - start) / 1000
  await core.close()
  return blocks / seconds
}

async function compare (blocks: number, batch: number, rounds: number): Promise<AppendResult> {
  let ours = 0
  let reference = 0
  // Warm both up so neither pays for JIT or WASM tier-up inside a measured round.
  await rate(() => new Hypercore(MemoryStorage) as unknown as AppendTarget, Math.min(blocks, 2000), batch)
  await rate(() => new Reference(RAM), Math.min(blocks, 2000), batch)
  for (let r = 0; r < rounds; r++) {
    ours = Math.max(ours, await rate(() => new Hypercore(MemoryStorage) as unknown as AppendTarget, blocks, batch))
    reference = Math.max(reference, await rate(() => new Reference(RAM), blocks, batch))
  }
  return { ours: Math.round(ours), reference: Math.round(reference), ratio: Math.round((ours / reference) * 100) / 100 }
}

export async function appendBench (quick = false): Promise<{ batched: AppendResult, unbatched: AppendResult }> {
  return {
    batched: await compare(quick ? 20_000 : 100_000, 100, quick ? 2 : 3),
    unbatched: await compare(quick ? 3_000 : 15_000, 1, quick ? 2 : 3)
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  appendBench(process.argv.includes('--quick')).then(r => console.log(JSON.stringify(r, null, 2)), err => { console.error(err); process.exitCode = 1 })
}
