/**
 * @module bench/pages/core-append/throughput
 * Append throughput of a core in IndexedDB, each figure against a reference in the same page
 * (rounds alternate; the best round of each counts; every measurement has a time limit):
 * - batched: `await core.append(100 blocks)` in turn, IndexedDB vs memory storage (and vs
 *   raw IndexedDB putting the same 1 KiB records in ONE transaction, the older figure);
 * - single: `await core.append(block)` in turn vs raw IndexedDB doing one readwrite
 *   transaction per block (put one 1 KiB record, await `complete`), in turn;
 * - burst: `await Promise.all(n × core.append(block))` issued at once, IndexedDB vs memory.
 */
import type { Hypercore } from '../../../src/index.js'
import {
  KiB, alternate, blocksOf, dnf, dropDatabase, idbCounts, idbCountsSince, openIdb, openMemory, openRawDb, perSec,
  ratioOf, round2, timedOnCore, uniq, within, type Best, type DidNotFinish, type Progress, type Round
} from './shared.js'

export interface BatchedOpts { blocks: number, batch: number, rounds: number, limitMs: number }
export interface SingleOpts { appends: number, rounds: number, limitMs: number }
export interface BurstOpts { appends: number, rounds: number, limitMs: number }

/** Figure 1: IndexedDB blocks/s ÷ memory blocks/s, batches awaited in turn. */
export interface BatchedResult {
  blocks: number
  batch: number
  idbBlocksPerSec: number | null
  memoryBlocksPerSec: number | null
  ratio: number | null
  /** Raw IndexedDB storing each batch's bytes in one transaction per batch, in turn (rawPerBatch). */
  rawPerBatchBlocksPerSec: number | null
  ratioToRawPerBatch: number | null
  /**
   * The most the figure can be: a library doing the memory run's work and then, at no cost of
   * its own, the raw per-batch write, in turn (time per block = memory's + raw's), ÷ memory.
   */
  ceiling: number | null
  /** IndexedDB readwrite transactions per batch in our best round. */
  idbTxPerAppend: number | null
  ms: { idb: number[], memory: number[], rawPerBatch: number[] }
  dnf: Dnfs
}

/** Figure 2: our appends/s ÷ raw IndexedDB transactions/s, one block each, awaited in turn. */
export interface SingleResult {
  appends: number
  oursPerSec: number | null
  rawTxPerSec: number | null
  /** The same appends on memory storage: the append's own work, with no transaction at all. */
  memoryPerSec: number | null
  ratio: number | null
  /** The most `ratio` can be: the append's own work (memory), then the raw transaction, at no cost of ours. */
  ceiling: number | null
  /** Raw IndexedDB, one transaction per put without `tx.commit()` (the browser commits when the task ends). */
  rawPlainTxPerSec: number | null
  ratioToPlain: number | null
  /** IndexedDB readwrite transactions per append in our best round (the raw reference makes 1). */
  idbTxPerAppend: number | null
  ms: { ours: number[], raw: number[], rawPlain: number[] }
  dnf: Dnfs
}

/** Figure 3: IndexedDB appends/s ÷ memory appends/s, all issued at once. */
export interface BurstResult {
  appends: number
  idbPerSec: number | null
  memoryPerSec: number | null
  ratio: number | null
  idbTx: number | null
  ms: { idb: number[], memory: number[] }
  dnf: Dnfs
}

/** Appends `blocks` in turn, `batch` per call (1: one block per call, not an array). */
async function inTurn (core: Hypercore, blocks: Uint8Array[], batch: number, p: Progress): Promise<void> {
  for (let i = 0; i < blocks.length && !p.stop; i += batch) {
    await core.append(batch === 1 ? blocks[i] : blocks.slice(i, i + batch))
    p.done += Math.min(batch, blocks.length - i)
  }
}

/** Every block appended at once (one call each), awaited together. */
async function burst (core: Hypercore, blocks: Uint8Array[], p: Progress): Promise<void> {
  await Promise.all(blocks.map(b => core.append(b).then(() => { p.done++ })))
}

/** Chromium stores a value over 64 KiB as a Blob beside the database, at about twice the cost: records stay under it. */
const RAW_RECORD_MAX = 60 * KiB

/**
 * Raw IndexedDB storing each batch's bytes and nothing else: one readwrite transaction per
 * batch (committed at once), the batch's blocks copied into records of at most 60 KiB,
 * awaited in turn. What storing a batch costs at the least; no signature, tree or oplog.
 */
async function rawPerBatch (records: Uint8Array[], batch: number, limitMs: number): Promise<Round> {
  const name = uniq('raw-batch')
  const db = await openRawDb(name)
  const p: Progress = { done: 0, stop: false }
  const before = idbCounts()
  const t0 = performance.now()
  let key = 0
  const run = async (): Promise<void> => {
    for (let i = 0; i < records.length && !p.stop; i += batch) {
      const group = records.slice(i, i + batch)
      const bytes = group.reduce((n, r) => n + r.byteLength, 0)
      await new Promise<void>((resolve, reject) => {
        const tx = db.transaction('blocks', 'readwrite')
        const store = tx.objectStore('blocks')
        let at = 0
        for (let chunk = 0; chunk < bytes; chunk += RAW_RECORD_MAX) {
          const out = new Uint8Array(Math.min(RAW_RECORD_MAX, bytes - chunk))
          for (let filled = 0; filled < out.byteLength;) {
            const r = group[Math.floor(at / KiB)]!
            const from = at % KiB
            const n = Math.min(r.byteLength - from, out.byteLength - filled)
            out.set(r.subarray(from, from + n), filled)
            filled += n
            at += n
          }
          store.put(out, key++)
        }
        tx.commit?.()
        tx.oncomplete = () => resolve()
        tx.onabort = () => reject(tx.error)
      })
      p.done += group.length
    }
  }
  const r = await within(run(), limitMs)
  const ms = performance.now() - t0
  const idb = idbCountsSince(before)
  p.stop = true
  db.close()
  await dropDatabase(name)
  return r.ok ? { ms, idb } : dnf(limitMs, p, records.length)
}

/**
 * Raw IndexedDB: one readwrite transaction per record (put, await `complete`), in turn;
 * `commit`: calling `tx.commit()` after the put, as ours does (faster: the transaction need
 * not wait for the task to end). The figure uses the committed variant, the faster one.
 */
async function rawTxEach (records: Uint8Array[], limitMs: number, commit = true): Promise<Round> {
  const name = uniq('raw-each')
  const db = await openRawDb(name)
  const p: Progress = { done: 0, stop: false }
  const before = idbCounts()
  const t0 = performance.now()
  const run = async (): Promise<void> => {
    for (let i = 0; i < records.length && !p.stop; i++) {
      await new Promise<void>((resolve, reject) => {
        const tx = db.transaction('blocks', 'readwrite')
        tx.objectStore('blocks').put(records[i], i)
        if (commit) tx.commit?.()
        tx.oncomplete = () => resolve()
        tx.onabort = () => reject(tx.error)
      })
      p.done++
    }
  }
  const r = await within(run(), limitMs)
  const ms = performance.now() - t0
  const idb = idbCountsSince(before)
  p.stop = true
  db.close()
  await dropDatabase(name)
  return r.ok ? { ms, idb } : dnf(limitMs, p, records.length)
}

/** The variants that hit their time limit, by name (empty when all finished). */
export type Dnfs = Record<string, DidNotFinish>

const dnfs = (bs: Record<string, Best>): Dnfs => Object.fromEntries(Object.entries(bs).flatMap(([k, b]) => b.dnf === null ? [] : [[k, b.dnf]]))
const txPer = (b: Best, appends: number): number | null => b.idb === null ? null : round2(b.idb.readwriteTx / appends)

export async function batched (o: BatchedOpts): Promise<BatchedResult> {
  const blocks = blocksOf(o.blocks, KiB)
  const [idb, mem, raw] = await alternate(o.rounds, [
    () => timedOnCore(openIdb, (c, p) => inTurn(c, blocks, o.batch, p), blocks.length, o.limitMs),
    () => timedOnCore(openMemory, (c, p) => inTurn(c, blocks, o.batch, p), blocks.length, o.limitMs),
    () => rawPerBatch(blocks, o.batch, o.limitMs)
  ]) as [Best, Best, Best]
  const idbRate = perSec(o.blocks, idb)
  const memRate = perSec(o.blocks, mem)
  const rawRate = perSec(o.blocks, raw)
  return {
    blocks: o.blocks,
    batch: o.batch,
    idbBlocksPerSec: idbRate,
    memoryBlocksPerSec: memRate,
    ratio: ratioOf(idbRate, memRate),
    rawPerBatchBlocksPerSec: rawRate,
    ratioToRawPerBatch: ratioOf(idbRate, rawRate),
    ceiling: memRate === null || rawRate === null ? null : round2(1 / (1 + memRate / rawRate)),
    idbTxPerAppend: txPer(idb, Math.ceil(o.blocks / o.batch)),
    ms: { idb: idb.allMs, memory: mem.allMs, rawPerBatch: raw.allMs },
    dnf: dnfs({ idb, memory: mem, rawPerBatch: raw })
  }
}

export async function single (o: SingleOpts): Promise<SingleResult> {
  const blocks = blocksOf(o.appends, KiB)
  const [ours, raw, mem, plain] = await alternate(o.rounds, [
    () => timedOnCore(openIdb, (c, p) => inTurn(c, blocks, 1, p), blocks.length, o.limitMs),
    () => rawTxEach(blocks, o.limitMs),
    () => timedOnCore(openMemory, (c, p) => inTurn(c, blocks, 1, p), blocks.length, o.limitMs),
    () => rawTxEach(blocks, o.limitMs, false)
  ]) as [Best, Best, Best, Best]
  const oursRate = perSec(o.appends, ours)
  const rawRate = perSec(o.appends, raw)
  const memRate = perSec(o.appends, mem)
  const plainRate = perSec(o.appends, plain)
  return {
    appends: o.appends,
    oursPerSec: oursRate,
    rawTxPerSec: rawRate,
    memoryPerSec: memRate,
    ratio: ratioOf(oursRate, rawRate),
    ceiling: memRate === null || rawRate === null ? null : round2(1 / (1 + rawRate / memRate)),
    rawPlainTxPerSec: plainRate,
    ratioToPlain: ratioOf(oursRate, plainRate),
    idbTxPerAppend: txPer(ours, o.appends),
    ms: { ours: ours.allMs, raw: raw.allMs, rawPlain: plain.allMs },
    dnf: dnfs({ ours, raw, memory: mem, rawPlain: plain })
  }
}

export async function burstAppends (o: BurstOpts): Promise<BurstResult> {
  const blocks = blocksOf(o.appends, KiB)
  const [idb, mem] = await alternate(o.rounds, [
    () => timedOnCore(openIdb, (c, p) => burst(c, blocks, p), blocks.length, o.limitMs),
    () => timedOnCore(openMemory, (c, p) => burst(c, blocks, p), blocks.length, o.limitMs)
  ]) as [Best, Best]
  const idbRate = perSec(o.appends, idb)
  const memRate = perSec(o.appends, mem)
  return {
    appends: o.appends,
    idbPerSec: idbRate,
    memoryPerSec: memRate,
    ratio: ratioOf(idbRate, memRate),
    idbTx: idb.idb?.readwriteTx ?? null,
    ms: { idb: idb.allMs, memory: mem.allMs },
    dnf: dnfs({ idb, memory: mem })
  }
}
