/**
 * @module dht/relay/hyperdht
 * Loads `hyperdht` (an optional dependency: only a relay needs it) and names the small part of
 * it the relay uses: a node's `connect`/`createServer` with the `createHandshake` and
 * `createSecretStream` hooks, `lookup`, `announce`, `unannounce`, and the payload codecs of its
 * peer handshake (`noisePayload`) and peer records (`peer`), which a handshake object must
 * encode itself. hyperdht ships no types; these interfaces are what we rely on, nothing more.
 */
import { createRequire } from 'node:module'
import { HypercoreError } from '../../errors.js'

/** A compact-encoding codec as hyperdht's messages module exports them. */
export interface HyperdhtCodec { preencode: unknown, encode: unknown, decode: unknown }

/** A UDX stream as hyperdht hands it to a secret stream (a streamx Duplex). */
export interface UdxStream {
  write (data: Uint8Array): boolean
  /** A UDX datagram on the stream (hyperdht uses empty ones to confirm a path). */
  trySend? (data: Uint8Array): void
  end (): void
  destroy (err?: Error): void
  pause (): void
  resume (): void
  on (event: string, fn: (...args: any[]) => void): this
  once (event: string, fn: (...args: any[]) => void): this
  off (event: string, fn: (...args: any[]) => void): this
  readonly destroyed: boolean
}

export interface IPv4 { host: string, port: number }

export interface PeerHandshake {
  remotePublicKey: Uint8Array | null
  send (payload: unknown): Promise<Uint8Array>
  recv (message: Uint8Array): Promise<unknown>
  final (): unknown
}

export interface SecretStreamLike {
  rawStream: UdxStream | null
  destroying: boolean
  start (rawStream: UdxStream, opts: unknown): void
  destroy (err?: Error): void
  on (event: string, fn: (...args: any[]) => void): unknown
}

export interface HookOptions {
  createHandshake: (keyPair: { publicKey: Uint8Array }, remotePublicKey: Uint8Array | null) => PeerHandshake
  createSecretStream: (isInitiator: boolean, rawStream: UdxStream | null, opts: any) => SecretStreamLike
}

export type Signer = (target: Uint8Array, token: Uint8Array, nodeId: Uint8Array, ann: { peer: unknown, refresh?: Uint8Array | null }) => Promise<Uint8Array>

export interface SignOptions { signAnnounce: Signer, signUnannounce: Signer }

export interface DhtQuery extends AsyncIterable<{ peers: Array<{ publicKey: Uint8Array, relayAddresses: IPv4[] }> }> {
  destroy (): void
  finished (): Promise<void>
}

export interface HyperdhtServer {
  readonly relayAddresses: IPv4[]
  listen (keyPair: { publicKey: Uint8Array }, opts: SignOptions): Promise<unknown>
  close (): Promise<void>
  on (event: 'connection', fn: (socket: SecretStreamLike) => void): unknown
}

export interface HyperdhtNode {
  readonly destroyed: boolean
  ready (): Promise<void>
  connect (publicKey: Uint8Array, opts: HookOptions & { keyPair: { publicKey: Uint8Array }, relayAddresses?: IPv4[] }): SecretStreamLike
  createServer (opts: HookOptions & { firewall?: (remotePublicKey: Uint8Array) => boolean, shareLocalAddress?: boolean }): HyperdhtServer
  lookup (topic: Uint8Array): DhtQuery
  announce (topic: Uint8Array, keyPair: { publicKey: Uint8Array }, relayAddresses: IPv4[], opts: SignOptions & { clear?: boolean }): DhtQuery
  unannounce (topic: Uint8Array, keyPair: { publicKey: Uint8Array }, opts: SignOptions): Promise<void>
  destroy (): Promise<void>
}

export interface HyperdhtModule {
  new (opts: { bootstrap?: Array<string | IPv4>, host?: string, port?: number, ephemeral?: boolean }): HyperdhtNode
}

export interface Hyperdht {
  DHT: HyperdhtModule
  noisePayload: HyperdhtCodec
  peer: HyperdhtCodec
}

let loaded: Hyperdht | null = null

/** hyperdht, or BAD_ARGUMENT saying how to install it. */
export function loadHyperdht (): Hyperdht {
  if (loaded !== null) return loaded
  const require = createRequire(import.meta.url)
  try {
    const DHT = require('hyperdht') as HyperdhtModule
    // The handshake payload codec is part of the hooks' contract (a handshake object encodes
    // what it sends); hyperdht has no exports map, so its messages module is reachable.
    const messages = require('hyperdht/lib/messages') as { noisePayload: HyperdhtCodec, peer: HyperdhtCodec }
    loaded = { DHT, noisePayload: messages.noisePayload, peer: messages.peer }
    return loaded
  } catch (err) {
    throw HypercoreError.BAD_ARGUMENT(`the DHT relay needs hyperdht, an optional dependency of hypercore-web that is not installed: npm install hyperdht (${(err as Error)?.message ?? String(err)})`)
  }
}
