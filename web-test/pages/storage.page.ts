/**
 * @module web-test/pages/storage.page
 * Browser side (Chromium and Firefox) of the storage suites (served at /pages/storage.html): `await testApi.run()`
 * runs the shared conformance suite on the memory and IndexedDB adapters (each also with a
 * small page size), then the IndexedDB cases, journal cases and fault cases on the real IndexedDB, and
 * returns plain JSON: passed names and failures per group.
 */
import { runSuiteInPage } from '../../test/helpers/assert.js'
import { conformanceCases, strictCases } from '../../test/storage/conformance.js'
import { idbTarget, memoryTarget } from '../../test/storage/targets.js'
import { idbCases, idbFaultCases } from '../../test/storage/idb-cases.js'
import { idbJournalCases } from '../../test/storage/idb-journal-cases.js'

interface Group { name: string, passed: string[], failed: Array<{ name: string, error: string }> }

async function run (): Promise<{ groups: Group[], userAgent: string, ms: number }> {
  const t0 = performance.now()
  const groups: Group[] = []
  for (const target of [memoryTarget(), memoryTarget(4096), idbTarget(), idbTarget(4096)]) {
    const r = await runSuiteInPage([...conformanceCases, ...strictCases], () => target)
    groups.push({ name: `conformance: ${target.name}`, ...r })
  }
  groups.push({ name: 'indexeddb', ...await runSuiteInPage(idbCases, () => ({ prefix: 'chromium-idb' })) })
  groups.push({ name: 'indexeddb journal', ...await runSuiteInPage(idbJournalCases, () => ({ prefix: 'browser-journal' })) })
  groups.push({ name: 'indexeddb faults', ...await runSuiteInPage(idbFaultCases, () => ({ prefix: 'chromium-fault' })) })
  return { groups, userAgent: navigator.userAgent, ms: Math.round(performance.now() - t0) }
}

;(globalThis as unknown as { testApi: unknown }).testApi = { run }
