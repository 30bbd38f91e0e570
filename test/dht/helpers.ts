/**
 * @module test/dht/helpers
 * What the DHT relay tests share: a local HyperDHT (`hyperdht/testnet`, 3 nodes on loopback),
 * our signaling server with its DHT relay on it, a hyperswarm peer running hypercore@10 (the
 * reference, as a black box), and a WebSocket proxy in front of a relay that records every
 * byte both ways and may alter what the relay says (a relay that lies).
 *
 * Every DHT node binds 127.0.0.1: on a machine whose only working network is loopback, a node
 * bound to every interface advertises its other addresses and its peers never reach it (the
 * handshake completes over the DHT, then the UDX packets go nowhere).
 */
import { createRequire } from 'node:module'
import type { AddressInfo } from 'node:net'
import { WebSocketServer, WebSocket } from 'ws'
import { createSignalServer, type SignalServer } from '../../src/signaling/server/index.js'

const require = createRequire(import.meta.url)
const createTestnet = require('hyperdht/testnet')
export const DHT = require('hyperdht')
export const Hyperswarm = require('hyperswarm')
export const RefHypercore = require('hypercore')
export const RAM = require('random-access-memory')

export interface Testnet { bootstrap: Array<{ host: string, port: number }>, destroy (): Promise<void> }

export async function testnet (): Promise<Testnet> {
  return await createTestnet(3, { host: '127.0.0.1' })
}

/** Bootstrap nodes as the relay's option takes them. */
export function bootstrapOf (t: Testnet): string[] {
  return t.bootstrap.map(n => `${n.host}:${n.port}`)
}

/** Our signaling server with a DHT relay on the testnet. */
export async function relayServer (t: Testnet, opts: Record<string, unknown> = {}): Promise<SignalServer & { dhtRelayUrl: string }> {
  const server = await createSignalServer({ port: 0, dhtRelay: { bootstrap: bootstrapOf(t), dhtHost: '127.0.0.1', ...opts } })
  return server as SignalServer & { dhtRelayUrl: string }
}

/** A hyperswarm peer on the testnet (its own DHT node on loopback). */
export function hyperswarm (t: Testnet): any {
  return new Hyperswarm({ dht: new DHT({ bootstrap: t.bootstrap, host: '127.0.0.1' }) })
}

export interface Proxy {
  url: string
  /** Every binary message relay → page and page → relay, in order. */
  readonly down: Uint8Array[]
  readonly up: Uint8Array[]
  close (): Promise<void>
}

/** `alter(message)` may return the message, another, several or none (relay → page only). */
export type Alter = (msg: Uint8Array) => Uint8Array[]

/** A WebSocket proxy in front of `target` that records all bytes and may alter the relay's messages. */
export async function recordingProxy (target: string, alter?: Alter): Promise<Proxy> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 })
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()))
  const down: Uint8Array[] = []
  const up: Uint8Array[] = []
  const sockets = new Set<WebSocket>()
  wss.on('connection', (page, req) => {
    // Forwards the Host the page dialled, as a reverse proxy does: the page signs it in its hello.
    const relay = new WebSocket(target, { headers: { host: req.headers.host ?? '' } })
    sockets.add(page)
    sockets.add(relay)
    const queued: Buffer[] = []
    relay.on('open', () => { for (const m of queued.splice(0)) relay.send(m) })
    page.on('message', (data: Buffer) => {
      up.push(new Uint8Array(data))
      if (relay.readyState === WebSocket.OPEN) relay.send(data)
      else queued.push(data)
    })
    relay.on('message', (data: Buffer) => {
      down.push(new Uint8Array(data))
      for (const m of alter === undefined ? [data] : alter(new Uint8Array(data))) {
        if (page.readyState === WebSocket.OPEN) page.send(m)
      }
    })
    const closeBoth = (code?: number): void => {
      for (const s of [page, relay]) if (s.readyState === WebSocket.OPEN) s.close(code !== undefined && (code === 1000 || (code >= 3000 && code < 5000)) ? code : 1000)
    }
    page.on('close', (code) => closeBoth(code))
    relay.on('close', (code) => closeBoth(code))
    page.on('error', () => {})
    relay.on('error', () => {})
  })
  return {
    url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`,
    down,
    up,
    close: async () => {
      for (const s of sockets) s.terminate()
      await new Promise<void>((resolve) => wss.close(() => resolve()))
    }
  }
}

/** True if `needle` occurs in any of `haystack`'s messages (or across two consecutive ones). */
export function contains (haystack: Uint8Array[], needle: Uint8Array): boolean {
  const b = Buffer.from(needle)
  for (let i = 0; i < haystack.length; i++) {
    const here = Buffer.from(haystack[i]!)
    if (here.indexOf(b) !== -1) return true
    if (i + 1 < haystack.length) {
      const seam = Buffer.concat([here.subarray(Math.max(0, here.length - b.length)), Buffer.from(haystack[i + 1]!).subarray(0, b.length)])
      if (seam.indexOf(b) !== -1) return true
    }
  }
  return false
}

/** Resolves when `cond()` holds (polled), or rejects after `ms`. */
export async function until (cond: () => boolean, ms = 30_000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 20))
  }
}
