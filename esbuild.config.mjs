/**
 * Builds the two distributions of hypercore-web:
 *   dist/browser/index.js  self-contained browser ESM (every dependency inlined, so a page
 *                          bundled with plain esbuild, Vite or no bundler at all needs no
 *                          configuration, shims or polyfills). Code split: what only some
 *                          apps load on demand (the DHT relay client, `new Swarm({ dht })`)
 *                          is a chunk of its own in dist/browser/chunks/, fetched by the
 *                          first `import()` of it, so the base does not carry it. A minified
 *                          build (not written) reports both sizes in dist/browser/size.json;
 *   dist/node/index.js     Node ESM with dependencies left as imports (require()-able from
 *                          CommonJS on Node >= 20.19: the package has no top-level await).
 * Platform files are chosen through package.json "imports" conditions (#platform/*), never
 * by runtime checks. Type declarations come from `tsc -p tsconfig.build.json`.
 */
import * as esbuild from 'esbuild'
import fs from 'node:fs'
import path from 'node:path'
import zlib from 'node:zlib'
import { builtinModules, createRequire } from 'node:module'
import { browserShims } from './scripts/browser-shims.mjs'

const entry = 'src/index.ts'
const SODIUM_WASM = 'src/crypto/sodium-wasm.ts'
const signalServerEntry = 'src/signaling/server/index.ts'
/** Loaded by `new Swarm({ dht })` only: its size is reported apart from the base's. */
const DHT_CLIENT = 'src/dht/client.ts'
const nodeBuiltins = [...builtinModules, ...builtinModules.map(m => 'node:' + m)]

// A browser build must never reach a Node built-in: fail the build if one sneaks in.
const noNodeBuiltins = {
  name: 'no-node-builtins',
  setup (build) {
    const filter = new RegExp('^(' + nodeBuiltins.map(m => m.replace(/[/]/g, '\\/')).join('|') + ')$')
    build.onResolve({ filter }, args => {
      // A package may require a built-in in a Node-only branch and map it away for browsers in
      // its package.json "browser" field (libsodium's emscripten glue: crypto; readable-stream,
      // under simple-peer: util): esbuild's default resolution then drops it.
      if (mappedAwayForBrowsers(args.importer, args.path)) return undefined
      // A browser implementation installed under the built-in's name (the `events` package
      // that streamx and simple-peer need) is what esbuild bundles: allow it.
      if (hasBrowserPackage(args.path)) return undefined
      return { errors: [{ text: `Node built-in "${args.path}" imported from ${args.importer}: browser code must not use Node built-ins` }] }
    })
  }
}

const require = createRequire(import.meta.url)

/** True when the importer's own package.json "browser" field maps `name` to false. */
function mappedAwayForBrowsers (importer, name) {
  if (!/node_modules/.test(importer)) return false
  for (let dir = path.dirname(importer); dir !== path.dirname(dir); dir = path.dirname(dir)) {
    const pkgFile = path.join(dir, 'package.json')
    if (!fs.existsSync(pkgFile)) continue
    const browser = JSON.parse(fs.readFileSync(pkgFile, 'utf8')).browser
    return typeof browser === 'object' && browser !== null && browser[name] === false
  }
  return false
}
function hasBrowserPackage (name) {
  try {
    require.resolve(`${name}/package.json`)
    return true
  } catch {
    return false
  }
}

export async function build ({ quiet = false } = {}) {
  fs.rmSync('dist/browser', { recursive: true, force: true })
  fs.rmSync('dist/node', { recursive: true, force: true })
  const common = { entryPoints: [entry], bundle: true, format: 'esm', target: 'es2022', logLevel: quiet ? 'error' : 'warning' }
  // The browser shims (`global`, a tiny `process`, readable-stream's unused parts left out) are
  // for simple-peer: see scripts/browser-shims.mjs.
  const browser = {
    ...common,
    ...browserShims,
    platform: 'browser',
    plugins: [...browserShims.plugins, noNodeBuiltins],
    outdir: 'dist/browser',
    splitting: true,
    chunkNames: 'chunks/[name]-[hash]'
  }
  await esbuild.build({ ...browser, sourcemap: true })
  const min = await esbuild.build({ ...browser, minify: true, metafile: true, write: false })
  await esbuild.build({ ...common, outfile: 'dist/node/index.js', platform: 'node', packages: 'external', sourcemap: true })
  // The signaling server is Node-only and has its own entry (`hypercore-web/signal-server`).
  if (fs.existsSync(signalServerEntry)) {
    await esbuild.build({ ...common, entryPoints: [signalServerEntry], outfile: 'dist/node/signal-server.js', platform: 'node', packages: 'external', sourcemap: true })
  }
  // The base: everything the entry loads, now or on demand (libsodium's WASM is imported
  // lazily too), except what only the DHT relay client's import() reaches.
  const outputs = min.metafile.outputs
  const dhtRoots = Object.keys(outputs).filter(f => outputs[f].entryPoint === DHT_CLIENT)
  const base = reachable(outputs, ['dist/browser/index.js'], ['import-statement', 'dynamic-import'], dhtRoots)
  const dht = reachable(outputs, dhtRoots, ['import-statement', 'dynamic-import']).filter(f => !base.includes(f))
  const bytes = (files) => Buffer.concat(files.map(f => Buffer.from(min.outputFiles.find(o => path.relative('.', o.path) === f).contents)))
  const sizeOf = (files) => { const code = bytes(files); return { minified: code.length, gzipped: zlib.gzipSync(code, { level: 9 }).length } }
  const size = sizeOf(base)
  const dhtSize = sizeOf(dht)
  fs.writeFileSync('dist/browser/size.json', JSON.stringify({ ...size, inputs: topInputs(outputs, base), dht: { ...dhtSize, inputs: topInputs(outputs, dht) } }, null, 2))
  if (!quiet) console.log(`browser bundle: ${(size.minified / 1024).toFixed(1)} KiB minified, ${(size.gzipped / 1024).toFixed(1)} KiB gzipped; the DHT relay client loaded on demand: ${(dhtSize.minified / 1024).toFixed(1)} KiB minified, ${(dhtSize.gzipped / 1024).toFixed(1)} KiB gzipped`)
  return { ...size, dht: dhtSize }
}

/** Output files reachable from `from` through imports of the given kinds, not entering `avoid`. */
function reachable (outputs, from, kinds, avoid = []) {
  const seen = new Set([...from, ...avoid])
  const todo = [...from]
  while (todo.length > 0) {
    for (const imp of outputs[todo.pop()].imports) {
      if (kinds.includes(imp.kind) && imp.path in outputs && !seen.has(imp.path)) {
        seen.add(imp.path)
        todo.push(imp.path)
      }
    }
  }
  return [...seen].filter(f => !avoid.includes(f))
}

/** Minified bytes per dependency, libsodium's WASM (generated into src/crypto) and our own code, over `files`. */
function topInputs (outputs, files) {
  const byPackage = {}
  for (const [file, { bytesInOutput }] of files.flatMap(f => Object.entries(outputs[f].inputs))) {
    const m = file.match(/node_modules\/((?:@[^/]+\/)?[^/]+)/)
    const key = m
      ? m[1]
      : file === SODIUM_WASM
        ? 'libsodium WASM (src/crypto/sodium-wasm.ts)'
        : /^(scripts\/|never-called:)/.test(file) ? 'browser shims (scripts/)' : 'hypercore-web (src)'
    byPackage[key] = (byPackage[key] ?? 0) + bytesInOutput
  }
  return Object.fromEntries(Object.entries(byPackage).sort((a, b) => b[1] - a[1]))
}

if (import.meta.url === `file://${process.argv[1]}`) await build()
