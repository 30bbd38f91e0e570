/**
 * @module demo/serve
 * `npm start` (after `npm run build`): bundles the demo pages with esbuild, starts the local
 * signaling server (`createSignalServer` from the BUILT dist/node/signal-server.js, when the
 * build has it) and serves the pages, then prints the URL. `PORT` (default 8080) and `HOST`
 * (default 127.0.0.1) choose where; the signaling server takes the next free port.
 * The Playwright spec imports `startDemo` to run its own copy on free ports.
 *
 *   /            demo/ (index.html, log.html, sw.js, manifest, css)
 *   /build/      the bundles of demo/src/*-page.ts
 *   /config.json where the pages find the signaling server and the interim relay
 *   /relay/*     the interim WebSocket relay (demo/relay.mjs) until the swarm lands
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import * as esbuild from 'esbuild'
import { createStaticServer } from '../scripts/static-server.mjs'
import { attachRelay } from './relay.mjs'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const out = path.join(root, '.build/demo')

/** Bundles every `demo/src/*-page.ts` into `.build/demo/<name>.js`. */
export async function bundleDemo ({ minify = false } = {}) {
  const src = path.join(root, 'demo/src')
  const entries = fs.readdirSync(src).filter(f => f.endsWith('-page.ts'))
  fs.mkdirSync(out, { recursive: true })
  const shims = await browserShims()
  await esbuild.build({
    entryPoints: Object.fromEntries(entries.map(f => [path.basename(f, '.ts'), path.join(src, f)])),
    outdir: out,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    sourcemap: 'linked',
    minify,
    logLevel: 'warning',
    ...shims
  })
}

/** simple-peer's browser shims, centralised in scripts/browser-shims.mjs once that exists. */
async function browserShims () {
  const file = path.join(root, 'scripts/browser-shims.mjs')
  if (!fs.existsSync(file)) return {}
  const mod = await import(pathToFileURL(file).href)
  const opts = mod.browserShims ?? mod.default
  return typeof opts === 'function' ? await opts() : (opts ?? {})
}

/** The local signaling server from the build, or null before the network issue built one. */
async function startSignaling (host) {
  const file = path.join(root, 'dist/node/signal-server.js')
  if (!fs.existsSync(file)) return null
  const { createSignalServer } = await import(pathToFileURL(file).href)
  return await createSignalServer({ port: 0, host })
}

export async function startDemo ({ port = 8080, host = '127.0.0.1', bundle = true } = {}) {
  if (bundle) await bundleDemo()
  const signal = await startSignaling(host)
  // One config per server (several demo servers may run at once: `npm start` and a test).
  const configDir = fs.mkdtempSync(path.join(os.tmpdir(), 'hypercore-web-demo-'))
  const server = await createStaticServer({
    roots: {
      '/': path.join(root, 'demo'),
      '/build': out,
      '/config': configDir
    },
    port,
    host
  })
  const actual = server.address().port
  const config = { signaling: signal?.url ?? null, relay: `ws://${host}:${actual}/relay` }
  fs.writeFileSync(path.join(configDir, 'config.json'), JSON.stringify(config))
  const relay = attachRelay(server)
  return {
    url: `http://${host}:${actual}/`,
    port: actual,
    signalUrl: signal?.url ?? null,
    async close () {
      relay.close()
      server.closeAllConnections?.()
      await new Promise(resolve => server.close(resolve))
      await signal?.close()
      fs.rmSync(configDir, { recursive: true, force: true })
    }
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const demo = await startDemo({ port: Number(process.env.PORT ?? 8080), host: process.env.HOST ?? '127.0.0.1' })
  console.log(`hypercore-web demo: ${demo.url}`)
  console.log(`  share a dataset: ${demo.url}   offline log: ${demo.url}log.html`)
  console.log(demo.signalUrl !== null ? `  signaling server: ${demo.signalUrl}` : '  signaling server: not in this build yet (pages use the demo relay)')
}
