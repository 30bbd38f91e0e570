/**
 * @module bench/secret-stream.bench
 * Throughput of a pair of our secret streams against a pair of `@hyperswarm/secret-stream`
 * (native sodium) in the same run: messages written with backpressure from the initiator to
 * the responder over the in-memory bridges, MB/s of plaintext delivered, and ours/reference.
 * Two message sizes: 64 KiB (mlen mod 16 = 0, where libsodium's MAC equals the RFC 8439 tag)
 * and 64 KiB + 5 (the general case, as hypercore's framed blocks are).
 * Then the cipher alone, push and pull separately, MB/s: our Node cipher (node:crypto for large
 * messages), our WASM cipher (the browser's), and libsodium native (sodium-native), plus the
 * Node-vs-WASM crossover by size that sets NODE_MIN_BYTES.
 * Every figure is also given per CPU-second of this process (`cpu`): all the work here is
 * synchronous on one thread, so on a shared, loaded machine that figure moves far less than
 * wall-clock MB/s. Ratios use the best round of each.
 * Run: node --import tsx bench/secret-stream.bench.ts [MiB per round] [rounds]
 */
// @ts-expect-error the reference ships no types
import TheirSecretStream from '@hyperswarm/secret-stream'
// @ts-expect-error no types; the native libsodium binding the reference uses
import sodiumNative from 'sodium-native'
import { cryptoReady } from '../src/crypto/index.js'
import { SecretStream, SecretstreamPull, SecretstreamPush } from '../src/replication/secret-stream/index.js'
import { WasmSecretstreamPull, WasmSecretstreamPush } from '../src/replication/secret-stream/cipher-wasm.js'

interface Pairable {
  rawStream: any
  on: (...a: any[]) => unknown
  once: (...a: any[]) => unknown
  write: (d: Uint8Array) => boolean
  destroy: () => unknown
}

interface Rate { wall: number, cpu: number }

/** Seconds of CPU (user + system) used by this process since `from`. */
function cpuSeconds (from: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(from)
  return (d.user + d.system) / 1e6
}

async function pairMBps (make: (isInitiator: boolean) => Pairable, size: number, totalBytes: number): Promise<Rate> {
  const a = make(true)
  const b = make(false)
  a.rawStream.pipe(b.rawStream).pipe(a.rawStream)
  await new Promise((resolve) => a.once('connect', resolve))
  const msg = new Uint8Array(size).fill(7)
  const count = Math.ceil(totalBytes / size)
  let got = 0
  const t0 = performance.now()
  const c0 = process.cpuUsage()
  const done = new Promise<void>((resolve) => b.on('data', (d: Uint8Array) => { got += d.byteLength; if (got >= count * size) resolve() }))
  let sent = 0
  const pump = (): void => {
    while (sent < count) {
      sent++
      if (!a.write(msg)) { a.once('drain', pump); return }
    }
  }
  pump()
  await done
  const s = (performance.now() - t0) / 1000
  const cpu = cpuSeconds(c0)
  a.destroy()
  b.destroy()
  return { wall: count * size / 1e6 / s, cpu: count * size / 1e6 / cpu }
}

interface Cipher { push: (m: Uint8Array) => Uint8Array, pull: (c: Uint8Array) => Uint8Array, done: () => void }

function ours (Push: typeof WasmSecretstreamPush, Pull: typeof WasmSecretstreamPull): () => Cipher {
  return () => {
    const key = new Uint8Array(32).fill(1)
    const push = new Push(key)
    const pull = new Pull(key, push.header)
    return { push: (m) => push.encrypt(m), pull: (c) => pull.decrypt(c), done: () => { push.destroy(); pull.destroy() } }
  }
}

function native (): Cipher {
  const s = sodiumNative
  const key = Buffer.alloc(32, 1)
  const header = Buffer.alloc(s.crypto_secretstream_xchacha20poly1305_HEADERBYTES)
  const tx = Buffer.alloc(s.crypto_secretstream_xchacha20poly1305_STATEBYTES)
  const rx = Buffer.alloc(s.crypto_secretstream_xchacha20poly1305_STATEBYTES)
  s.crypto_secretstream_xchacha20poly1305_init_push(tx, header, key)
  s.crypto_secretstream_xchacha20poly1305_init_pull(rx, header, key)
  const TAG = Buffer.alloc(1)
  return {
    push: (m) => {
      const out = Buffer.allocUnsafe(m.byteLength + 17)
      s.crypto_secretstream_xchacha20poly1305_push(tx, out, m, null, 0)
      return out
    },
    pull: (c) => {
      const out = Buffer.allocUnsafe(c.byteLength - 17)
      s.crypto_secretstream_xchacha20poly1305_pull(rx, out, TAG, c, null)
      return out
    },
    done: () => {}
  }
}

/** Push MB/s and pull MB/s of one cipher on messages of `size`, `totalBytes` each way. */
/** CPU-time MB/s: a synchronous loop, so CPU seconds are the honest denominator on a shared machine. */
function cipherMBps (make: () => Cipher, size: number, totalBytes: number): { push: number, pull: number } {
  const c = make()
  const msg = new Uint8Array(size).map((_, i) => i)
  const count = Math.max(1, Math.ceil(totalBytes / size))
  const boxes: Uint8Array[] = []
  let c0 = process.cpuUsage()
  for (let i = 0; i < count; i++) boxes.push(c.push(msg))
  const push = cpuSeconds(c0)
  c0 = process.cpuUsage()
  for (let i = 0; i < count; i++) c.pull(boxes[i]!)
  const pull = cpuSeconds(c0)
  c.done()
  return { push: count * size / 1e6 / push, pull: count * size / 1e6 / pull }
}

const round1 = (x: number): number => Math.round(x * 10) / 10
const best = (xs: number[]): number => Math.max(...xs)

async function main (): Promise<void> {
  const mib = Number(process.argv[2] ?? 64)
  const rounds = Number(process.argv[3] ?? 3)
  await cryptoReady()
  const total = mib * 1024 * 1024
  const pairs: Record<string, unknown> = {}
  for (const size of [65536, 65536 + 5]) {
    const o: Rate[] = []
    const t: Rate[] = []
    // Warm up both (JIT, WASM tiers), then alternate so drift hits both equally.
    await pairMBps((i) => new SecretStream(i), size, 8 * size * 16)
    await pairMBps((i) => new TheirSecretStream(i), size, 8 * size * 16)
    for (let r = 0; r < rounds; r++) {
      o.push(await pairMBps((i) => new SecretStream(i), size, total))
      t.push(await pairMBps((i) => new TheirSecretStream(i), size, total))
    }
    const summary = (k: keyof Rate): unknown => ({
      ours: o.map((x) => round1(x[k])),
      hyperswarmSecretStream: t.map((x) => round1(x[k])),
      ratioOursToReference: Math.round(best(o.map((x) => x[k])) / best(t.map((x) => x[k])) * 100) / 100
    })
    pairs[`${size}B`] = { wallMBps: summary('wall'), cpuMBps: summary('cpu') }
  }

  const ciphers: Record<string, () => Cipher> = {
    node: ours(SecretstreamPush, SecretstreamPull),
    wasm: ours(WasmSecretstreamPush, WasmSecretstreamPull),
    sodiumNative: native
  }
  const cipherOnly: Record<string, Record<string, { push: number, pull: number }>> = {}
  for (const size of [65536, 65536 + 5]) {
    const row: Record<string, { push: number, pull: number }> = {}
    for (const [name, make] of Object.entries(ciphers)) {
      cipherMBps(make, size, 4 * size * 16) // warm-up
      const runs = Array.from({ length: rounds }, () => cipherMBps(make, size, total / 2))
      row[name] = { push: round1(best(runs.map((x) => x.push))), pull: round1(best(runs.map((x) => x.pull))) }
    }
    cipherOnly[`${size}B`] = row
  }
  // Where node:crypto starts to beat WASM (sets NODE_MIN_BYTES in cipher.node.ts).
  const crossover: Record<string, { node: { push: number, pull: number }, wasm: { push: number, pull: number } }> = {}
  const forced = (): Cipher => {
    const key = new Uint8Array(32).fill(1)
    const push = new SecretstreamPush(key, { nodeMinBytes: 0 })
    const pull = new SecretstreamPull(key, push.header, { nodeMinBytes: 0 })
    return { push: (m) => push.encrypt(m), pull: (c) => pull.decrypt(c), done: () => { push.destroy(); pull.destroy() } }
  }
  for (const size of [1024, 4096, 4096 + 5, 8192 + 5, 16384 + 5, 32768 + 5]) {
    cipherMBps(forced, size, 2 << 20); cipherMBps(ciphers.wasm!, size, 2 << 20)
    crossover[`${size}B`] = { node: cipherMBps(forced, size, 8 << 20), wasm: cipherMBps(ciphers.wasm!, size, 8 << 20) }
    for (const v of Object.values(crossover[`${size}B`]!)) { v.push = round1(v.push); v.pull = round1(v.pull) }
  }
  console.log(JSON.stringify({
    runtime: `node ${process.version}`,
    MiBPerRound: mib,
    rounds,
    pair: pairs,
    cipherOnlyCpuMBps: cipherOnly,
    crossoverCpuMBps: crossover
  }, null, 2))
}

main().catch((err) => { console.error(err); process.exitCode = 1 })
