/**
 * @module test/core/api
 * Runs the shared Hypercore API suite (api-cases.ts) in Node on our memory storage, on files
 * (a directory path, the platform default) and on our IndexedDB adapter over fake-indexeddb.
 * Chromium runs the same cases on real IndexedDB (web-test/core.spec.ts).
 */
import 'fake-indexeddb/auto'
import { test } from 'node:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { MemoryDirectory } from '../../src/storage/memory.js'
import { IdbStorage } from '../../src/storage/indexeddb/database.js'
import { coreCases, type CoreCtx } from './api-cases.js'

let seq = 0
const targets: Array<{ name: string, ctx: CoreCtx }> = [
  {
    name: 'memory',
    ctx: { place: () => { const dir = new MemoryDirectory(); return { open: () => dir, cleanup: async () => {} } } }
  },
  {
    name: 'file',
    ctx: {
      place: () => {
        const dir = mkdtempSync(join(tmpdir(), 'hcw-api-'))
        return { open: () => dir, cleanup: async () => rmSync(dir, { recursive: true, force: true }) }
      }
    }
  },
  {
    name: 'indexeddb (fake)',
    ctx: {
      place: () => {
        const name = `api-${process.pid}-${seq++}`
        return { open: () => new IdbStorage(name), cleanup: async () => { await new IdbStorage(name).destroy() } }
      }
    }
  }
]

for (const t of targets) {
  for (const c of coreCases) {
    test(`core api [${t.name}]: ${c.name}`, () => c.run(t.ctx))
  }
}
