/**
 * @module web-test/serve
 * The test pages' server: bundles the test and bench pages, then serves them.
 *   /pages/<name>.html  → web-test/pages/<name>.page.ts
 *   /bench/<name>.html  → bench/pages/<name>.page.ts
 *   /dist/              → the built browser bundle (run `npm run build` first)
 * Run as a script, it is Playwright's web server (port PW_PORT); the Firefox runner
 * (web-test/firefox/run.ts) calls `serveTestPages` for a copy of its own, bundled into its
 * own folder so a Playwright run at the same time never reads a half-written bundle.
 * The demo has its own server (demo/serve.mjs), which web-test/demo.spec.ts starts itself.
 */
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { bundlePages } from '../scripts/bundle-pages.mjs'
import { createStaticServer } from '../scripts/static-server.mjs'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')

/** Bundles the pages into `out` and serves them on `port` (0: a free one). */
export async function serveTestPages ({ port = 0, out = path.join(root, '.build') } = {}) {
  await bundlePages(path.join(root, 'web-test/pages'), path.join(out, 'pages'))
  await bundlePages(path.join(root, 'bench/pages'), path.join(out, 'bench'))
  const server = await createStaticServer({
    roots: { '/pages': path.join(out, 'pages'), '/bench': path.join(out, 'bench'), '/dist': path.join(root, 'dist/browser') },
    port
  })
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    close: () => new Promise(resolve => { server.closeAllConnections?.(); server.close(() => resolve()) })
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { url } = await serveTestPages({ port: Number(process.env.PW_PORT ?? 4173) })
  console.log(`test pages on ${url}/pages/`)
}
