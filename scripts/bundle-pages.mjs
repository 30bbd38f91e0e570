/**
 * @module scripts/bundle-pages
 * Bundles every `*.page.ts` under a folder into browser ESM files (one per page) with
 * plain esbuild plus exactly the shims the library's own browser build applies
 * (browser-shims.mjs: `global` and a tiny `process` for simple-peer), nothing else: if the
 * library ever needs another polyfill to run in a browser, these bundles break first.
 * One alias is for a page's own dependencies, not the library's: hyperdrive@11's mirror-drive
 * loads a native addon, rabin-native, which an app bundling hyperdrive maps to a stub
 * (rabin-native-stub.cjs, as README's "Hyperdrive in the browser" says).
 */
import * as esbuild from 'esbuild'
import { browserShims } from './browser-shims.mjs'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const rabinNativeStub = path.join(path.dirname(fileURLToPath(import.meta.url)), 'rabin-native-stub.cjs')

export async function bundlePages (srcDir, outDir, { minify = false } = {}) {
  const entries = fs.readdirSync(srcDir).filter(f => f.endsWith('.page.ts')).map(f => path.join(srcDir, f))
  fs.mkdirSync(outDir, { recursive: true })
  if (entries.length === 0) return []
  await esbuild.build({
    ...browserShims,
    alias: { 'rabin-native': rabinNativeStub },
    entryPoints: Object.fromEntries(entries.map(e => [path.basename(e, '.page.ts'), e])),
    outdir: outDir,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    sourcemap: 'inline',
    minify,
    logLevel: 'warning'
  })
  return entries
}
