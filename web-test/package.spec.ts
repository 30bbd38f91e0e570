/**
 * @module web-test/package.spec
 * The built package as users get it ("users must not need any bundler
 * configuration"): web-test/package-fixture/app.js imports `hypercore-web` BY NAME and is
 * bundled here with esbuild's plain JS API from the repo root (no plugins, polyfills,
 * define or inject), so the import resolves through package.json `exports` →
 * dist/browser/index.js (`npm test` builds it first). The page appends to an IndexedDB core,
 * reloads, and reads it back.
 */
import { test, expect, type Page } from '@playwright/test'
import * as esbuild from 'esbuild'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
let bundle = ''
let inputs: string[] = []
let warnings: string[] = []

test.beforeAll(async () => {
  const r = await esbuild.build({
    absWorkingDir: root,
    entryPoints: ['web-test/package-fixture/app.js'],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    write: false,
    metafile: true,
    logLevel: 'silent'
  })
  bundle = r.outputFiles[0]!.text
  inputs = Object.keys(r.metafile.inputs)
  warnings = r.warnings.map(w => w.text)
})

/** Serves the bundle at /package/app.html (same origin as the other pages; survives reloads). */
async function open (page: Page): Promise<void> {
  await page.route('**/package/app.js', route => route.fulfill({ contentType: 'text/javascript', body: bundle }))
  await page.route('**/package/app.html', route => route.fulfill({ contentType: 'text/html', body: '<!doctype html><meta charset="utf-8"><script type="module" src="./app.js"></script>' }))
  await page.goto('/package/app.html')
  await page.waitForFunction(() => (globalThis as any).testApi)
}

test('plain esbuild bundles `import Hypercore from "hypercore-web"` from the built package, with no warnings', () => {
  expect(warnings).toEqual([])
  expect(inputs).toContain('dist/browser/index.js')
  expect(inputs.filter(i => i.startsWith('src/'))).toEqual([]) // the package, not our sources
})

test('the bundled page appends to IndexedDB, reloads, and reads the core back', async ({ page }) => {
  const name = `package-${Date.now()}`
  await open(page)
  expect(await page.evaluate(() => (globalThis as any).testApi.sameExport)).toBe(true)
  const written = await page.evaluate((n) => (globalThis as any).testApi.write(n, ['hello', 'from', 'the', 'package']), name)
  expect(written.length).toBe(4)
  expect(written.byteLength).toBe(5 + 4 + 3 + 7)
  await page.reload()
  await page.waitForFunction(() => (globalThis as any).testApi)
  const read = await page.evaluate((n) => (globalThis as any).testApi.read(n), name)
  expect(read).toEqual({ ...written, blocks: ['hello', 'from', 'the', 'package'] })
  expect(await page.evaluate((n) => (globalThis as any).testApi.missing(n), `${name}-none`)).toEqual({ code: 'STORAGE_EMPTY', typed: true })
})
