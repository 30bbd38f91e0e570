/**
 * @module web-test/peers/byte-peer
 * A plain `ws` server (Node, 127.0.0.1 port 0) for testing the browser side of our WebSocket
 * stream without any wrapper of ours on this end: it records every binary message, can echo
 * them back, stop reading (TCP backpressure), close cleanly or reset the connection.
 */
import type { AddressInfo } from 'node:net'
import { WebSocketServer, type WebSocket } from 'ws'

export interface ByteConn {
  readonly ws: WebSocket
  /** Binary messages received, in order. */
  readonly received: Buffer[]
  receivedBytes (): number
  /** Resolves once at least `n` bytes have arrived. */
  bytes (n: number): Promise<void>
  /** Resolves with the close code the peer sent (or 1006 for a reset). */
  readonly closed: Promise<{ code: number, reason: string }>
}

export interface BytePeer {
  url: string
  /** The next connection (its path decides the mode: `/echo` echoes every message back, `/paused` starts not reading). */
  accept (): Promise<ByteConn>
  close (): Promise<void>
}

export async function startBytePeer (): Promise<BytePeer> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 })
  await new Promise<void>((resolve, reject) => { wss.once('listening', resolve); wss.once('error', reject) })
  const ready: ByteConn[] = []
  const waiting: Array<(c: ByteConn) => void> = []
  wss.on('connection', (ws, req) => {
    const received: Buffer[] = []
    let total = 0
    const waiters: Array<{ n: number, resolve: () => void }> = []
    const closed = new Promise<{ code: number, reason: string }>(resolve => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })))
    ws.on('error', () => {})
    const echo = req.url === '/echo'
    // `/paused`: do not read from TCP until the test calls ws.resume() (backpressure tests).
    if (req.url === '/paused') ws.pause()
    ws.on('message', (data, isBinary) => {
      const buf = data as Buffer
      if (!isBinary) return
      received.push(buf)
      total += buf.byteLength
      if (echo) ws.send(buf)
      for (const w of waiters.splice(0)) { if (total >= w.n) w.resolve(); else waiters.push(w) }
    })
    const conn: ByteConn = {
      ws,
      received,
      receivedBytes: () => total,
      bytes: (n) => total >= n ? Promise.resolve() : new Promise(resolve => waiters.push({ n, resolve })),
      closed
    }
    const w = waiting.shift()
    if (w !== undefined) w(conn)
    else ready.push(conn)
  })
  return {
    url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`,
    accept: () => {
      const c = ready.shift()
      return c !== undefined ? Promise.resolve(c) : new Promise(resolve => waiting.push(resolve))
    },
    close: async () => {
      for (const c of wss.clients) c.terminate()
      await new Promise<void>(resolve => wss.close(() => resolve()))
    }
  }
}
