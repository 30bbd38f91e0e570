/**
 * @module scripts/browser-shims
 * The esbuild options every browser bundle of this repository uses (the library build in
 * esbuild.config.mjs, the test pages in web-test/serve.mjs and the bench pages, both through
 * scripts/bundle-pages.mjs): one place, so a page runs exactly what the published bundle runs.
 * They exist for simple-peer (the WebRTC transport), which is CommonJS written for browserify:
 * it and its dependencies (readable-stream, randombytes, debug) use the Node globals `global`
 * and `process`. `global` becomes `globalThis`; `process` is a tiny object (process-shim.mjs)
 * injected only into the modules that mention it. The library's own code uses neither.
 */
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const here = path.dirname(fileURLToPath(import.meta.url))

/** Spread into an esbuild browser build: `esbuild.build({ ...browserShims, ... })`. */
export const browserShims = {
  define: { global: 'globalThis' },
  inject: [path.join(here, 'process-shim.mjs')]
}
