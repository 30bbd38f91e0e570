/**
 * @module web-test/pages/signaling.page
 * Chromium side of web-test/signaling.spec.ts (served at /pages/signaling.html):
 *   testApi.conformance(kind, opts)   runs test/signaling/conformance.ts in the page against
 *                                     BroadcastChannelSignaling or WebSocketSignaling(url);
 *   testApi.start(kind, secretKey, opts)  one client with a fake swarm holding that key pair,
 *   testApi.join / waitConnects /     driven step by step by the spec so two pages can meet;
 *     emit / waitReceived / close
 *   testApi.raw* / signSignal / post  a hostile script in the page: a raw WebSocket to our server
 *                                     (answering its challenge with any key, for any id), signals
 *                                     signed by any key, raw posts on a BroadcastChannel.
 * Every call returns plain JSON; keys and signatures travel as hex.
 */
import { cryptoReady, keyPair, sign } from '../../src/crypto/index.js'
import type { HypercoreError } from '../../src/errors.js'
import { helloSignable, signalSignable, toHex } from '../../src/signaling/auth.js'
import { BroadcastChannelSignaling } from '../../src/signaling/broadcast-channel.js'
import type { SignalingClient } from '../../src/signaling/types.js'
import { WebSocketSignaling, type WebSocketSignalingClient } from '../../src/signaling/ws-client.js'
import type { SignalData } from '../../src/transport/types.js'
import { runSuiteInPage } from '../../test/helpers/assert.js'
import { signalingConformance } from '../../test/signaling/conformance.js'
import { changes, FakeSwarm } from '../../test/signaling/fakes.js'

type Kind = 'broadcast-channel' | 'ws'
interface Opts { url?: string, channelName?: string }

function create (kind: Kind, opts: Opts): SignalingClient {
  return kind === 'ws' ? WebSocketSignaling({ url: opts.url ?? '' }) : BroadcastChannelSignaling({ channelName: opts.channelName })
}

function fromHex (s: string): Uint8Array {
  const out = new Uint8Array(s.length >>> 1)
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.slice(2 * i, 2 * i + 2), 16)
  return out
}

/** The key pair of a 64-byte libsodium secret key (seed ‖ public key). */
function pairOf (secretKeyHex: string): { publicKey: Uint8Array, secretKey: Uint8Array } {
  const secretKey = fromHex(secretKeyHex)
  return { secretKey, publicKey: secretKey.slice(32) }
}

async function conformance (kind: Kind, opts: Opts): Promise<{ passed: string[], failed: Array<{ name: string, error: string }> }> {
  await cryptoReady()
  return await runSuiteInPage(signalingConformance({ create: () => create(kind, opts) }), () => undefined)
}

let client: SignalingClient | null = null
let swarm: FakeSwarm | null = null
const errors: Error[] = []
const connectedHistory: boolean[] = []

async function start (kind: Kind, secretKeyHex: string, opts: Opts): Promise<string> {
  await cryptoReady()
  const kp = pairOf(secretKeyHex)
  client = create(kind, opts)
  swarm = new FakeSwarm(toHex(kp.publicKey), kp)
  client.on('error', (e) => { errors.push(e); changes.notify() })
  if (kind === 'ws') (client as WebSocketSignalingClient).onConnectedChange(v => connectedHistory.push(v))
  client.start(swarm)
  return swarm.self
}

async function waitConnects (n: number): Promise<Array<{ peerId: string | null, topic: string, initiator: boolean }>> {
  const cs = await swarm!.waitConnects(n, 10_000)
  return cs.map(p => ({ peerId: p.req.peerId, topic: p.req.topic, initiator: p.req.initiator }))
}

async function waitErrors (n: number): Promise<string[]> {
  await changes.until(() => errors.length >= n, 10_000, `${n} error events`)
  return errorCodes()
}

function errorCodes (): string[] {
  return errors.map(e => (e as HypercoreError).code ?? e.message)
}

// --- a hostile script in the page ------------------------------------------------------------

let raw: WebSocket | null = null
let rawMessages: any[] = []
/** The type of every message the raw socket received, consumed or not. */
let rawSeen: string[] = []
let rawClosed: Promise<{ code: number, reason: string }> | null = null

/** Opens a raw WebSocket to our server and resolves with its challenge nonce. */
async function rawOpen (url: string): Promise<string> {
  await cryptoReady()
  const ws = new WebSocket(url)
  raw = ws
  rawMessages = []
  rawSeen = []
  rawClosed = new Promise(resolve => ws.addEventListener('close', (ev) => resolve({ code: ev.code, reason: ev.reason })))
  ws.addEventListener('message', (ev) => {
    const m = JSON.parse(ev.data)
    rawMessages.push(m)
    rawSeen.push(m.type)
    changes.notify()
  })
  ws.addEventListener('close', () => changes.notify())
  await changes.until(() => rawMessages.some(m => m.type === 'challenge') || ws.readyState === ws.CLOSED, 10_000, 'a challenge')
  return rawMessages.find(m => m.type === 'challenge').nonce
}

/** A hello claiming `peerId`, signed by `signerSecretKey` (null: no signature at all) for the page's view of the server's host. */
function rawHello (url: string, nonce: string, peerId: string, signerSecretKey: string | null): void {
  const msg: Record<string, unknown> = { type: 'hello', peerId }
  if (signerSecretKey !== null) msg.signature = toHex(sign(helloSignable(fromHex(nonce), peerId, new URL(url).host), pairOf(signerSecretKey).secretKey))
  raw!.send(JSON.stringify(msg))
}

async function rawNext (type: string): Promise<any> {
  await changes.until(() => rawMessages.some(m => m.type === type) || raw!.readyState === raw!.CLOSED, 10_000, `a ${type}`)
  const m = rawMessages.find(x => x.type === type)
  if (m === undefined) throw new Error(`closed before a ${type}`)
  rawMessages.splice(rawMessages.indexOf(m), 1)
  return m
}

/** A signature by `signerSecretKey` over the signal signable of these fields. */
function signSignal (from: string, to: string, topic: string, seq: number, data: string, signerSecretKey: string): string {
  return toHex(sign(signalSignable(from, to, topic, seq, data), pairOf(signerSecretKey).secretKey))
}

/** A fresh key pair made in the page (the attacker's own). */
function newKey (): { id: string, secretKey: string } {
  const kp = keyPair()
  return { id: toHex(kp.publicKey), secretKey: toHex(kp.secretKey) }
}

const channels = new Map<string, BroadcastChannel>()
const heard: any[] = []
/** Our own handle on `channelName`: it hears every client of the origin on it. */
function channel (channelName: string): BroadcastChannel {
  let ch = channels.get(channelName)
  if (ch === undefined) {
    channels.set(channelName, ch = new BroadcastChannel(channelName))
    ch.onmessage = (ev) => { heard.push(ev.data); changes.notify() }
  }
  return ch
}

/** Resolves with the first message heard on the channel that has these field values. */
async function waitHeard (channelName: string, match: Record<string, unknown>): Promise<any> {
  channel(channelName)
  const find = (): any => heard.find(m => Object.entries(match).every(([k, v]) => m?.[k] === v))
  await changes.until(() => find() !== undefined, 10_000, `a message like ${JSON.stringify(match)} on the channel`)
  return find()
}

// Published once sodium is loaded: the spec waits for testApi, then every call may sign.
await cryptoReady()
;(globalThis as unknown as { testApi: unknown }).testApi = {
  conformance,
  start,
  join: (topic: string) => client!.join(topic),
  leave: (topic: string) => client!.leave(topic),
  /** Joins and resolves once the server listed the topic (flushed() must follow join() at once). */
  joinFlushed: (topic: string) => { client!.join(topic); return client!.flushed!(topic) },
  waitConnects,
  responders: () => swarm!.responders.map(p => ({ peerId: p.req.peerId, topic: p.req.topic, received: p.received })),
  emit: (i: number, data: SignalData) => swarm!.connects[i].emit(data),
  waitReceived: (i: number, n: number) => swarm!.connects[i].waitReceived(n, 10_000),
  errors: () => errors.map(String),
  errorCodes,
  waitErrors,
  connectedHistory: () => connectedHistory.slice(),
  close: () => client!.close(),
  rawOpen,
  rawHello,
  rawNext,
  rawSend: (msg: unknown) => raw!.send(JSON.stringify(msg)),
  rawClosed: () => rawClosed,
  rawTypes: () => rawSeen.slice(),
  rawClose: () => { raw?.close(); return rawClosed },
  signSignal,
  newKey,
  listen: (channelName: string) => { channel(channelName) },
  waitHeard,
  post: (channelName: string, msg: unknown) => channel(channelName).postMessage(msg)
}
