/**
 * @module demo/relay-client
 * The fallback network of the demo (`?relay` in a page's URL): peers meet through the demo
 * server's WebSocket relay (demo/relay.mjs), which copies each pair's encrypted replication
 * stream (Noise + secret-stream: ciphertext only) between two pipes. For networks where
 * WebRTC cannot connect; the default is the WebRTC swarm (network.ts).
 */
/**
 * What the network replicates: a Hypercore (the log) or a Corestore seen through
 * `storeTarget` (network.ts). Both take a swarm connection (`replicate(stream)`) or make
 * their own stream (`replicate(isInitiator, opts)`).
 */
export interface Replicable {
  readonly discoveryKey: Uint8Array | null
  replicate (isInitiator: boolean | object, opts?: object): unknown
  findingPeers (): () => void
  readonly closed: boolean
  readonly closing: unknown
}

export type RelayState = 'connecting' | 'online' | 'offline'

const HIGH_WATER = 1024 * 1024

interface DuplexLike {
  on (event: string, fn: (arg: any) => void): unknown
  write (data: Uint8Array): boolean
  pause (): unknown
  resume (): unknown
  destroy (err?: Error): void
}

/** One topic on the relay: a control socket (reconnected with backoff) and a pipe per peer. */
export class RelayTopic {
  private _ws: WebSocket | null = null
  private _closed = false
  private _backoff = 500
  private _timer: ReturnType<typeof setTimeout> | null = null
  private readonly _pipes = new Set<WebSocket>()

  constructor (private readonly base: string, private readonly topic: string, private readonly core: Replicable,
    private readonly setState: (s: RelayState) => void, private foundFirstRound: (() => void) | null) {
    this._connect()
  }

  retryNow (): void {
    if (this._closed || this._ws !== null) return
    if (this._timer !== null) clearTimeout(this._timer)
    this._connect()
  }

  close (): void {
    this._closed = true
    if (this._timer !== null) clearTimeout(this._timer)
    this._ws?.close()
    for (const p of this._pipes) p.close()
  }

  private _connect (): void {
    this._timer = null
    this.setState('connecting')
    const ws = new WebSocket(`${this.base}/topic?t=${this.topic}`)
    this._ws = ws
    ws.onopen = () => {
      this._backoff = 500
      this.setState('online')
      // The relay pairs us with everyone already there at once; give the pairs a moment
      // before telling the core the first discovery round is over.
      setTimeout(() => { this.foundFirstRound?.(); this.foundFirstRound = null }, 1500)
    }
    ws.onmessage = (e) => {
      const msg = JSON.parse(String(e.data)) as { type: string, id: string, initiator: boolean }
      if (msg.type === 'pair') this._pipe(msg.id, msg.initiator)
    }
    ws.onclose = () => {
      this._ws = null
      if (this._closed) return
      this.setState('offline')
      this.foundFirstRound?.(); this.foundFirstRound = null
      this._timer = setTimeout(() => this._connect(), this._backoff)
      this._backoff = Math.min(this._backoff * 2, 8000)
    }
  }

  /** One peer: the core's replication stream over a relay pipe, with backpressure. */
  private _pipe (id: string, initiator: boolean): void {
    if (this.core.closed) return
    const ws = new WebSocket(`${this.base}/pipe?p=${id}`)
    ws.binaryType = 'arraybuffer'
    this._pipes.add(ws)
    const raw = this.core.replicate(initiator, { keepAlive: 5000 }) as unknown as DuplexLike
    const queue: Uint8Array[] = []
    const flushWhenLow = (): void => {
      if (ws.bufferedAmount > HIGH_WATER) { setTimeout(flushWhenLow, 10); return }
      raw.resume()
    }
    raw.on('data', (chunk: Uint8Array) => {
      if (ws.readyState !== WebSocket.OPEN) { queue.push(chunk); return }
      ws.send(chunk)
      if (ws.bufferedAmount > HIGH_WATER) { raw.pause(); setTimeout(flushWhenLow, 10) }
    })
    ws.onopen = () => { for (const c of queue.splice(0)) ws.send(c) }
    ws.onmessage = (e) => { raw.write(new Uint8Array(e.data as ArrayBuffer)) }
    ws.onclose = () => { this._pipes.delete(ws); raw.destroy() }
    raw.on('close', () => ws.close())
    raw.on('error', () => ws.close())
  }
}
