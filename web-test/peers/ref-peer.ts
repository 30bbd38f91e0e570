/**
 * @module web-test/peers/ref-peer
 * The Node side of the Chromium ↔ hypercore@10 replication spec: a `ws` server on
 * 127.0.0.1 (port 0) that replicates one real hypercore@10 core with every page that
 * connects. hypercore@10's `replicate(false)` returns its raw (encrypted) duplex; it is piped
 * both ways into the accepted socket wrapped by our `webSocketStream`, the same wrapper a
 * Node server of ours would use.
 */
import { createRequire } from 'node:module'
import type { AddressInfo } from 'node:net'
import { WebSocketServer } from 'ws'
import type { Duplex } from 'streamx'
import { webSocketStream } from '../../src/transport/websocket.js'

const require = createRequire(import.meta.url)
export const RefHypercore = require('hypercore') as any
export const RAM = require('random-access-memory') as any

export interface RefPeerServer {
  url: string
  /** Connections accepted so far. */
  readonly connections: number
  /** Errors seen on the replication streams (a clean run has none until close). */
  readonly errors: Error[]
  close (): Promise<void>
}

export async function serveRefCore (core: any): Promise<RefPeerServer> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 })
  await new Promise<void>((resolve, reject) => { wss.once('listening', resolve); wss.once('error', reject) })
  const streams: Duplex[] = []
  const errors: Error[] = []
  let connections = 0
  let closing = false
  wss.on('connection', (ws) => {
    connections++
    const socket = webSocketStream(ws)
    const raw = core.replicate(false, { keepAlive: false })
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
