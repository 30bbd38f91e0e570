/**
 * @module scripts/bundle-pages
 * Bundles every `*.page.ts` under a folder into browser ESM files (one per page) with
 * plain esbuild: no plugins, no polyfills. If the library ever needs one to run in a
 * browser, these bundles break first.
 */
import * as esbuild from 'esbuild'
import fs from 'node:fs'
import path from 'node:path'

export async function bundlePages (srcDir, outDir, { minify = false } = {}) {
  const entries = fs.readdirSync(srcDir).filter(f => f.endsWith('.page.ts')).map(f => path.join(srcDir, f))
  fs.mkdirSync(outDir, { recursive: true })
  if (entries.length === 0) return []
  await esbuild.build({
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
