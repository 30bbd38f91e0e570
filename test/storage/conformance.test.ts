/**
 * @module test/storage/conformance.test
 * Runs the shared conformance suite in Node against every adapter: ours (memory, Node file,
 * Node file through a descriptor pool, IndexedDB on fake-indexeddb) and npm's random-access-memory / random-access-file, whose
 * observed behaviour is the reference (their differences are declared as quirks).
 */
import 'fake-indexeddb/auto'
import { test } from 'node:test'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import RAM from 'random-access-memory'
import RAF from 'random-access-file'
import { FileStorage } from '../../src/storage/file.node.js'
import { FilePool } from '../../src/storage/pool.js'
import { conformanceCases, strictCases, type ConformanceTarget } from './conformance.js'
import { idbTarget, memoryTarget } from './targets.js'

function tmpdir (): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'hcw-storage-'))
}

const fileTarget: ConformanceTarget = {
  name: 'file (node)',
  setup: () => {
    const dir = tmpdir()
    return { file: name => new FileStorage(path.join('nested', name), { directory: dir }), cleanup: async () => fs.rmSync(dir, { recursive: true, force: true }) }
  }
}

// Files through a descriptor pool of 2 (what a Corestore directory uses): handles are closed
// and reopened between operations all the time, which must not show.
const pooledFileTarget: ConformanceTarget = {
  name: 'file (node) in a pool of 2',
  setup: () => {
    const dir = tmpdir()
    const pool = new FilePool(2)
    return { file: name => pool.file(() => new FileStorage(path.join('nested', name), { directory: dir })), cleanup: async () => fs.rmSync(dir, { recursive: true, force: true }) }
  }
}

const npmRam: ConformanceTarget = {
  name: 'npm random-access-memory',
  quirks: { delKeepsPartialPages: true, delPastEndExtends: true, truncateToZeroKeepsBytes: true, emptyWriteExtends: true, openAfterCloseOk: true },
  setup: () => {
    const create = RAM.reusable()
    return { file: name => create(name), cleanup: async () => {} }
  }
}

const npmRaf: ConformanceTarget = {
  name: 'npm random-access-file',
  quirks: { delAtEndKeepsSize: true, freshStatFails: true, zeroReadPastEndOk: true, openAfterCloseOk: true, unorderedOps: true },
  setup: () => {
    const dir = tmpdir()
    return { file: name => new RAF(name, { directory: dir }), cleanup: async () => fs.rmSync(dir, { recursive: true, force: true }) }
  }
}

const ours = [memoryTarget(), memoryTarget(4096), fileTarget, pooledFileTarget, idbTarget(), idbTarget(4096)]
const references = [npmRam, npmRaf]

for (const target of ours) {
  for (const c of [...conformanceCases, ...strictCases]) test(`${target.name}: ${c.name}`, () => c.run(target))
}
for (const target of references) {
  for (const c of conformanceCases) test(`${target.name}: ${c.name}`, () => c.run(target))
}
