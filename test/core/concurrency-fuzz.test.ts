/**
 * @module test/core/concurrency-fuzz.test
 * A short run of the concurrency fuzzer (concurrency-fuzz.ts): fixed seeds on memory,
 * IndexedDB (fake-indexeddb) and file storage, four close-and-reopen phases each, with faults
 * (about two seconds in all). Memory and IndexedDB runs are deterministic; on files the I/O
 * timing can change the interleaving. A failure prints the seed, the op log and the command
 * that replays it. Long runs: node --import tsx test/core/concurrency-fuzz.ts --minutes 5 --storage idb
 */
import { test } from 'node:test'
import { FuzzFailure, runFuzz, type KnownBug, type StorageKind } from './concurrency-fuzz.js'

const SEEDS: Record<StorageKind, number[]> = {
  memory: [1, 2, 3, 4, 5, 6, 7, 8],
  idb: [1, 2, 3, 4, 5, 6, 7, 8],
  file: [1, 2, 3]
}

// FUZZ_TOLERATE=truncate-race,snapshot-race accepts known bugs (see FuzzOptions.tolerate).
const tolerate = (process.env.FUZZ_TOLERATE ?? '').split(',').filter(x => x !== '') as KnownBug[]

for (const [storage, seeds] of Object.entries(SEEDS) as Array<[StorageKind, number[]]>) {
  for (const seed of seeds) {
    test(`concurrency fuzz [${storage}] seed ${seed}`, async () => {
      try {
        await runFuzz({ seed, storage, phases: 4, opsPerPhase: [20, 80], tolerate })
      } catch (err) {
        if (err instanceof FuzzFailure) err.message += '\n' + err.report
        throw err
      }
    })
  }
}
