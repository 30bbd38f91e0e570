/**
 * @module test/transport/websocket-helpers
 * Helpers for the WebSocket transport tests: a `ws` server on 127.0.0.1 port 0 whose
 * connections arrive as a queue, patterned chunks whose bytes say where they belong, and
 * collectors that wait for a stream's bytes or its close.
 */
import { WebSocketServer, type WebSocket as WsSocket } from 'ws'
import type { AddressInfo } from 'node:net'
import type { Duplex } from 'streamx'
import { connectWebSocket, webSocketStream } from '../../src/transport/websocket.js'

export interface TestServer {
  url: string
  wss: WebSocketServer
  /** The next accepted server-side socket. */
  accept (): Promise<WsSocket>
  /** Kills every connection (TCP reset, no close frame) and stops listening. */
  kill (): Promise<void>
  close (): Promise<void>
}

export async function startServer (): Promise<TestServer> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 })
  await new Promise<void>((resolve, reject) => { wss.once('listening', resolve); wss.once('error', reject) })
  const waiting: Array<(ws: WsSocket) => void> = []
  const ready: WsSocket[] = []
  wss.on('connection', (ws) => {
    const w = waiting.shift()
    if (w !== undefined) w(ws)
    else ready.push(ws)
  })
  const stop = (): Promise<void> => new Promise(resolve => wss.close(() => resolve()))
  return {
    url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`,
    wss,
    accept: () => {
      const ws = ready.shift()
      return ws !== undefined ? Promise.resolve(ws) : new Promise(resolve => waiting.push(resolve))
    },
    kill: async () => {
      for (const c of wss.clients) c.terminate()
      await stop()
    },
    close: async () => {
      for (const c of wss.clients) c.close()
      await stop()
    }
  }
}

/** A chunk of `size` bytes whose content is determined by `seed` (so order and integrity show). */
export function pattern (seed: number, size: number): Uint8Array {
  const out = new Uint8Array(size)
  let x = (seed * 2654435761 + 1) >>> 0
  for (let i = 0; i < size; i++) {
    x = (x * 1103515245 + 12345) >>> 0
    out[i] = x >>> 24
  }
  return out
}

export function concat (chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0))
  let at = 0
  for (const c of chunks) { out.set(c, at); at += c.byteLength }
  return out
}

/** Resolves with every byte read once `total` bytes have arrived (rejects on error or early close). */
export function readBytes (stream: Duplex, total: number, ms = 20000): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const chunks: Uint8Array[] = []
    let n = 0
    const t = setTimeout(() => finish(new Error(`timed out after ${n} of ${total} bytes`)), ms)
    const finish = (err: Error | null): void => {
      clearTimeout(t)
      stream.removeListener('data', ondata)
      stream.removeListener('error', onerror)
      stream.removeListener('close', onclose)
      if (err !== null) reject(err)
      else resolve(concat(chunks))
    }
    const ondata = (c: unknown): void => {
      chunks.push(c as Uint8Array)
      n += (c as Uint8Array).byteLength
      if (n >= total) finish(null)
    }
    const onerror = (err: Error): void => finish(err)
    const onclose = (): void => finish(new Error(`closed after ${n} of ${total} bytes`))
    stream.on('data', ondata)
    stream.on('error', onerror)
    stream.on('close', onclose)
  })
}

export interface Ending { events: string[], error: Error | null }

/** Resolves when the stream closes, with the order of its end/finish/close events and its error. */
export function ended (stream: Duplex, ms = 10000): Promise<Ending> {
  return new Promise((resolve, reject) => {
    const events: string[] = []
    let error: Error | null = null
    const t = setTimeout(() => reject(new Error(`no close (saw ${events.join(',')})`)), ms)
    stream.on('end', () => events.push('end'))
    stream.on('finish', () => events.push('finish'))
    stream.on('error', (err: Error) => { error = err })
    stream.once('close', () => { clearTimeout(t); events.push('close'); resolve({ events, error }) })
  })
}

/** Polls `fn` every 10 ms until it is true (for states no event announces). */
export async function until (fn: () => boolean, what: string, ms = 10000): Promise<void> {
  const deadline = Date.now() + ms
  while (!fn()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 10))
  }
}

/**
 * A client stream and its server-side stream, both open: the server has read a byte the
 * client wrote (so the client's handshake is complete too, not only the server's).
 */
export async function openPair (server: TestServer): Promise<{ client: Duplex, serverSide: Duplex }> {
  const client = connectWebSocket(server.url)
  client.write(new Uint8Array([1]))
  const serverSide = webSocketStream(await server.accept())
  const first = await readBytes(serverSide, 1)
  if (first[0] !== 1) throw new Error('unexpected first byte')
  return { client, serverSide }
}
