/**
 * @module web-test/serve
 * Playwright's web server: bundles the test and bench pages, then serves them.
 *   /pages/<name>.html  → web-test/pages/<name>.page.ts
 *   /bench/<name>.html  → bench/pages/<name>.page.ts
 *   /dist/              → the built browser bundle (run `npm run build` first)
 * The demo has its own server (demo/serve.mjs), which web-test/demo.spec.ts starts itself.
 */
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { bundlePages } from '../scripts/bundle-pages.mjs'
import { createStaticServer } from '../scripts/static-server.mjs'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const out = path.join(root, '.build')
await bundlePages(path.join(root, 'web-test/pages'), path.join(out, 'pages'))
await bundlePages(path.join(root, 'bench/pages'), path.join(out, 'bench'))
const port = Number(process.env.PW_PORT ?? 4173)
await createStaticServer({
  roots: { '/pages': path.join(out, 'pages'), '/bench': path.join(out, 'bench'), '/dist': path.join(root, 'dist/browser') },
  port
})
console.log(`test pages on http://127.0.0.1:${port}/pages/`)
