/**
 * @module scripts/static-server
 * A minimal static file server for test, bench and demo pages (loopback only).
 * Pages are esbuild bundles of `*.page.ts` entries; `/x/name.html` is generated so a
 * page needs no HTML file of its own: it loads `/x/name.js` as a module.
 */
import http from 'node:http'
import fs from 'node:fs'
import path from 'node:path'

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.webmanifest': 'application/manifest+json',
  '.wasm': 'application/wasm',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.map': 'application/json'
}

/**
 * @param {{ roots: Record<string, string>, port?: number, host?: string }} opts
 *   roots: URL prefix (e.g. '/pages') → directory.
 */
export function createStaticServer ({ roots, port = 0, host = '127.0.0.1' }) {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x')
    let pathname = decodeURIComponent(url.pathname)
    if (pathname === '/health') { res.writeHead(200, { 'content-type': 'text/plain' }); res.end('ok'); return }
    if (pathname === '/') pathname = '/index.html'
    for (const [prefix, dir] of Object.entries(roots).sort((a, b) => b[0].length - a[0].length)) {
      if (!pathname.startsWith(prefix === '/' ? '/' : prefix + '/')) continue
      const rel = pathname.slice(prefix === '/' ? 1 : prefix.length + 1)
      const file = path.resolve(dir, rel)
      if (!file.startsWith(path.resolve(dir))) break
      if (fs.existsSync(file) && fs.statSync(file).isFile()) return send(res, file)
      // generated page shell for a bundled `name.js`
      if (file.endsWith('.html') && fs.existsSync(file.slice(0, -5) + '.js')) {
        const name = path.basename(file, '.html')
        res.writeHead(200, { 'content-type': TYPES['.html'], 'cache-control': 'no-store' })
        res.end(`<!doctype html><meta charset="utf-8"><title>${name}</title><body><script type="module" src="./${name}.js"></script></body>`)
        return
      }
    }
    res.writeHead(404, { 'content-type': 'text/plain' })
    res.end('not found')
  })
  return new Promise((resolve) => {
    server.listen(port, host, () => resolve(server))
  })
}

function send (res, file) {
  res.writeHead(200, { 'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store' })
  fs.createReadStream(file).pipe(res)
}
