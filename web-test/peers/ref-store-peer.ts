/**
 * @module web-test/peers/ref-store-peer
 * The Node side of the Chromium ↔ corestore@6 spec: a `ws` server on 127.0.0.1 (port 0) that
 * replicates a whole corestore@6 store (every core it has, one stream per page) with every
 * page that connects, through our `webSocketStream` wrapper, as ref-peer.ts does for one core.
 */
import { createRequire } from 'node:module'
import type { AddressInfo } from 'node:net'
import { WebSocketServer } from 'ws'
import type { Duplex } from 'streamx'
import { webSocketStream } from '../../src/transport/websocket.js'

const require = createRequire(import.meta.url)
export const RefCorestore = require('corestore') as any
export const RAM = require('random-access-memory') as any

export interface RefStoreServer {
  url: string
  readonly connections: number
  readonly errors: Error[]
  close (): Promise<void>
}

export async function serveRefStore (store: any): Promise<RefStoreServer> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 })
  await new Promise<void>((resolve, reject) => { wss.once('listening', resolve); wss.once('error', reject) })
  const streams: Duplex[] = []
  const errors: Error[] = []
  let connections = 0
  let closing = false
  wss.on('connection', (ws) => {
    connections++
    const socket = webSocketStream(ws)
    const raw = store.replicate(false, { keepAlive: false })
    socket.on('error', (err: Error) => { if (!closing) errors.push(err) })
    raw.on('error', (err: Error) => { if (!closing) errors.push(err) })
    raw.pipe(socket).pipe(raw)
    streams.push(socket)
  })
  return {
    url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`,
    get connections () { return connections },
    errors,
    close: async () => {
      closing = true
      for (const s of streams) s.destroy()
      for (const c of wss.clients) c.terminate()
      await new Promise<void>(resolve => wss.close(() => resolve()))
    }
  }
}
