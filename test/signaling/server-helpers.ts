/**
 * @module test/signaling/server-helpers
 * A raw protocol client for the server tests (the `ws` package, no validation of ours), so a
 * test can send exactly the bytes a broken or hostile client would, and await replies and
 * the close code as events. `helloClient` answers the server's challenge with the id's key
 * (ids from fakes.ts `newId()` / `sortedIds()`); `signedSignal` makes a signal its receiver
 * accepts.
 */
import { WebSocket } from 'ws'
import { sign, type KeyPair } from '../../src/crypto/index.js'
import { helloSignable, signalSignable, toHex } from '../../src/signaling/auth.js'
import type { ServerMessage } from '../../src/signaling/protocol.js'
import { keyOf } from './fakes.js'

export interface RawClient {
  ws: WebSocket
  messages: ServerMessage[]
  /** Resolves with the close code and reason, whoever closed. */
  closed: Promise<{ code: number, reason: string }>
  send: (msg: unknown) => void
  /** The next message of `type` not yet consumed by an earlier wait. */
  next: <T extends ServerMessage['type']>(type: T, ms?: number) => Promise<Extract<ServerMessage, { type: T }>>
}

export async function rawClient (url: string): Promise<RawClient> {
  const ws = new WebSocket(url)
  const messages: ServerMessage[] = []
  const consumed = new Set<ServerMessage>()
  const waiters = new Set<() => void>()
  ws.on('message', (d) => {
    messages.push(JSON.parse(d.toString()))
    for (const w of [...waiters]) w()
  })
  ws.on('error', () => {})
  const closed = new Promise<{ code: number, reason: string }>((resolve) => {
    ws.on('close', (code, reason) => {
      resolve({ code, reason: reason.toString() })
      for (const w of [...waiters]) w()
    })
  })
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve())
    ws.once('close', (code) => reject(new Error(`closed with ${code} before open`)))
  })
  const client: RawClient = {
    ws,
    messages,
    closed,
    send: (msg) => ws.send(typeof msg === 'string' || msg instanceof Uint8Array ? msg : JSON.stringify(msg)),
    next: (type, ms = 5000) => new Promise((resolve, reject) => {
      const check = (): void => {
        const m = messages.find(x => x.type === type && !consumed.has(x))
        if (m !== undefined) {
          consumed.add(m)
          done()
          resolve(m as never)
        } else if (ws.readyState === ws.CLOSED) {
          done()
          reject(new Error(`closed while waiting for ${type}`))
        }
      }
      const timer = setTimeout(() => { done(); reject(new Error(`no ${type} within ${ms} ms`)) }, ms)
      const done = (): void => { clearTimeout(timer); waiters.delete(check) }
      waiters.add(check)
      check()
    })
  }
  return client
}

/** `host[:port]` of a ws:// URL, as a client signs it. */
export function hostOf (url: string): string {
  return new URL(url).host
}

function fromHex (s: string): Uint8Array {
  return new Uint8Array(Buffer.from(s, 'hex'))
}

/**
 * A hello for `peerId` answering challenge `nonce` (hex), signed by `signer` (default: the
 * id's own key) for `host`.
 */
export function signedHello (nonce: string, peerId: string, host: string, signer: KeyPair = keyOf(peerId)): { type: 'hello', peerId: string, signature: string } {
  return { type: 'hello', peerId, signature: toHex(sign(helloSignable(fromHex(nonce), peerId, host), signer.secretKey)) }
}

/** A client that proved `peerId` (and got welcome). */
export async function helloClient (url: string, peerId: string, signer?: KeyPair): Promise<RawClient> {
  const c = await rawClient(url)
  const { nonce } = await c.next('challenge')
  c.send(signedHello(nonce, peerId, hostOf(url), signer))
  await c.next('welcome')
  return c
}

/** A client → server signal from `from` (its key from fakes.ts) that `to` will accept once per `seq`. */
export function signedSignal (from: string, to: string, topic: string, data: object, seq: number, signer: KeyPair = keyOf(from)): { type: 'signal', to: string, topic: string, data: string, seq: number, signature: string } {
  const text = JSON.stringify(data)
  return { type: 'signal', to, topic, data: text, seq, signature: toHex(sign(signalSignable(from, to, topic, seq, text), signer.secretKey)) }
}

/** Waits for a condition on server state that no client event reports (a socket fully gone). */
export async function eventually (cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 2))
  }
}
