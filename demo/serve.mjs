/**
 * @module demo/serve
 * `npm start`: serves the demo page and the browser bundle on loopback and prints the URL.
 * (The signaling server joins this process when the network issue lands.)
 */
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { createStaticServer } from '../scripts/static-server.mjs'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const port = Number(process.env.PORT ?? 8080)
const host = process.env.HOST ?? '127.0.0.1'

const server = await createStaticServer({
  roots: { '/': path.join(root, 'demo'), '/dist': path.join(root, 'dist/browser') },
  port,
  host
})
const { port: actual } = server.address()
console.log(`hypercore-web demo: http://${host}:${actual}/`)
