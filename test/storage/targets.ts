/**
 * @module test/storage/targets
 * Conformance targets that run anywhere (Node with fake-indexeddb, or a browser page):
 * our memory and IndexedDB adapters, each also with a small page size so page-boundary
 * logic is exercised by ordinary offsets.
 */
import { MemoryDirectory } from '../../src/storage/memory.js'
import { IdbStorage } from '../../src/storage/indexeddb/database.js'
import type { ConformanceTarget } from './conformance.js'

let seq = 0

export function memoryTarget (pageSize?: number): ConformanceTarget {
  return {
    name: pageSize === undefined ? 'memory' : `memory (pageSize ${pageSize})`,
    setup: () => {
      const dir = new MemoryDirectory(pageSize === undefined ? {} : { pageSize })
      return { file: name => dir.file(name), cleanup: async () => {} }
    }
  }
}

export function idbTarget (pageSize?: number): ConformanceTarget {
  return {
    name: pageSize === undefined ? 'indexeddb' : `indexeddb (pageSize ${pageSize})`,
    setup: () => {
      const db = new IdbStorage(`conformance-${Date.now()}-${seq++}`, pageSize === undefined ? {} : { pageSize })
      return { file: name => db.file(name), cleanup: () => db.destroy() }
    }
  }
}
