/**
 * @module demo/serve
 * `npm start` (after `npm run build`): bundles the demo pages with esbuild, starts the local
 * signaling server (`createSignalServer` from the BUILT dist/node/signal-server.js, when the
 * build has it) and serves the pages, then prints the URL. `PORT` (default 8080) and `HOST`
 * (default 127.0.0.1) choose where; the signaling server takes a free port.
 * The Playwright spec imports `startDemo` to run its own copy on free ports.
 *
 *   /            demo/ (index.html, log.html, sw.js, manifest, css)
 *   /build/      the bundles of demo/src/*-page.ts
 *   /config/config.json  where the pages find the signaling server
 *   /relay/*     the fallback WebSocket relay (demo/relay.mjs; pages use it with ?relay)
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import * as esbuild from 'esbuild'
import { browserShims } from '../scripts/browser-shims.mjs'
import { createStaticServer } from '../scripts/static-server.mjs'
import { attachRelay } from './relay.mjs'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const out = path.join(root, '.build/demo')

/**
 * hyperdrive@11 (the datasets' format) runs unchanged in the page, on hypercore-web: its few
 * requires that would pull Node-only or duplicate code are mapped, as an app bundling it
 * would map them (demo/shims/): 'hypercore' to hypercore-web's class, 'hypercore-crypto' to
 * hypercore-web's libsodium, and mirror-drive's 'rabin-stream' (a native addon, only for
 * dedup) to a stub.
 */
const hyperdriveAliases = {
  hypercore: path.join(root, 'demo/shims/hypercore.cjs'),
  'hypercore-crypto': path.join(root, 'demo/shims/hypercore-crypto.ts'),
  'rabin-stream': path.join(root, 'demo/shims/rabin-stream.cjs')
}

/** Bundles every `demo/src/*-page.ts` into `.build/demo/<name>.js`. */
export async function bundleDemo ({ minify = false } = {}) {
  const src = path.join(root, 'demo/src')
  const entries = fs.readdirSync(src).filter(f => f.endsWith('-page.ts'))
  fs.mkdirSync(out, { recursive: true })
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
    // simple-peer (the swarm's WebRTC transport) wants `global` and `process`: the repo's shims.
    ...browserShims,
    alias: hyperdriveAliases
  })
}

/** The local signaling server: the built one (dist/node/signal-server.js), or `create` if given. */
async function startSignaling (host, create) {
  if (create === undefined) {
    const file = path.join(root, 'dist/node/signal-server.js')
    if (!fs.existsSync(file)) return null
    create = (await import(pathToFileURL(file).href)).createSignalServer
  }
  return await create({ port: 0, host })
}

/**
 * Starts the signaling server and the page server. `createSignalServer` (the spec passes the
 * one from src/) overrides the built one; `signaling: false` runs none (tabs of one browser
 * still meet over BroadcastChannel); `SIGNAL_URL` points the pages at another server.
 */
export async function startDemo ({ port = 8080, host = '127.0.0.1', bundle = true, createSignalServer, signaling = true } = {}) {
  if (bundle) await bundleDemo()
  const signal = process.env.SIGNAL_URL || !signaling ? null : await startSignaling(host, createSignalServer)
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
  // The pages build the URL from their own host name and this port, so a LAN address works.
  const config = { signaling: process.env.SIGNAL_URL ?? null, signalingPort: signal?.port ?? null }
  fs.writeFileSync(path.join(configDir, 'config.json'), JSON.stringify(config))
  const relay = attachRelay(server)
  return {
    url: `http://${host}:${actual}/`,
    port: actual,
    signalUrl: process.env.SIGNAL_URL ?? signal?.url ?? null,
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
  console.log(demo.signalUrl !== null ? `  signaling server: ${demo.signalUrl}` : '  no signaling server in dist/ (run `npm run build`): tabs of one browser still meet over BroadcastChannel; add ?relay to a page URL to use the demo relay')
}
