/**
 * @module scripts/browser-shims
 * The esbuild options every browser bundle of this repository uses (the library build in
 * esbuild.config.mjs, the test pages in web-test/serve.mjs and the bench pages, both through
 * scripts/bundle-pages.mjs): one place, so a page runs exactly what the published bundle runs.
 * They exist for simple-peer (the WebRTC transport), which is CommonJS written for browserify:
 * it and its dependencies (readable-stream, randombytes, debug) use the Node globals `global`
 * and `process`. `global` becomes `globalThis`; `process` is a tiny object (process-shim.mjs)
 * injected only into the modules that mention it. The library's own code uses neither.
 *
 * The `simple-peer-streams` plugin leaves out the parts of readable-stream that nothing calls.
 * simple-peer needs only `Duplex` from it (its `Peer` extends it), and our transport never
 * reads through that stream (transport/webrtc.ts takes messages off the data channel), yet a
 * CommonJS bundle keeps every `require`, lazy ones included. Left out (~11 KB minified):
 * Transform, PassThrough, pipeline and finished (simple-peer uses only Duplex), and behind
 * Readable's lazy requires the string decoder (only for `setEncoding` or an `encoding` option,
 * which simple-peer is never given), async iteration and `Readable.from`. Each is replaced by a
 * stub that throws if it is ever reached, so a future use fails loudly instead of misbehaving.
 * Node builds are untouched (they do not bundle dependencies).
 */
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const here = path.dirname(fileURLToPath(import.meta.url))

const NAMESPACE = 'never-called'
/** A function that throws: what a left-out export becomes. */
const thrower = what => `function () { throw new Error('${what} is left out of the hypercore-web browser bundle') }`
const STUBS = {
  'string_decoder/': `exports.StringDecoder = ${thrower('readable-stream setEncoding()')}`,
  './internal/streams/async_iterator': `module.exports = ${thrower('readable-stream async iteration')}`,
  './internal/streams/from': `module.exports = ${thrower('readable-stream Readable.from()')}`
}

const simplePeerStreams = {
  name: 'simple-peer-streams',
  setup (build) {
    // simple-peer's `require('readable-stream')`: only Duplex (which pulls Readable and Writable).
    build.onResolve({ filter: /^readable-stream$/ }, args => {
      if (!/[\\/]node_modules[\\/]simple-peer[\\/]/.test(args.importer)) return undefined
      return { path: 'readable-stream-duplex', namespace: NAMESPACE, pluginData: { resolveDir: path.dirname(args.importer) } }
    })
    // Readable's lazy requires.
    build.onResolve({ filter: /^(string_decoder\/|\.\/internal\/streams\/(async_iterator|from))$/ }, args => {
      if (!/[\\/]node_modules[\\/]readable-stream[\\/]lib[\\/]_stream_readable\.js$/.test(args.importer)) return undefined
      return { path: args.path, namespace: NAMESPACE }
    })
    build.onLoad({ filter: /.*/, namespace: NAMESPACE }, args => {
      if (args.path === 'readable-stream-duplex') {
        return { contents: "exports.Duplex = require('readable-stream/lib/_stream_duplex.js')", resolveDir: args.pluginData.resolveDir, loader: 'js' }
      }
      return { contents: STUBS[args.path], loader: 'js' }
    })
  }
}

/** Spread into an esbuild browser build: `esbuild.build({ ...browserShims, ... })` (merge `plugins` if you add some). */
export const browserShims = {
  define: { global: 'globalThis' },
  inject: [path.join(here, 'process-shim.mjs')],
  plugins: [simplePeerStreams]
}
