/**
 * @module bench/secret-stream.bench
 * Throughput of a pair of our secret streams (libsodium WASM) against a pair of
 * `@hyperswarm/secret-stream` (native sodium) in the same run: 64 KiB messages written with
 * backpressure from the initiator to the responder over the in-memory bridges, MB/s of
 * plaintext delivered. Also the raw cipher alone (push+pull), which bounds the pair.
 * Run: node --import tsx bench/secret-stream.bench.ts [MiB per round] [rounds]
 */
// @ts-expect-error the reference ships no types
import TheirSecretStream from '@hyperswarm/secret-stream'
import { cryptoReady } from '../src/crypto/index.js'
import { SecretStream, SecretstreamPull, SecretstreamPush } from '../src/replication/secret-stream/index.js'

const MSG = 64 * 1024

interface Pairable {
  rawStream: any
  on: (...a: any[]) => unknown
  once: (...a: any[]) => unknown
  write: (d: Uint8Array) => boolean
  destroy: () => unknown
}

async function pairMBps (make: (isInitiator: boolean) => Pairable, totalBytes: number): Promise<number> {
  const a = make(true)
  const b = make(false)
  a.rawStream.pipe(b.rawStream).pipe(a.rawStream)
  await new Promise((resolve) => a.once('connect', resolve))
  const msg = new Uint8Array(MSG).fill(7)
  const count = Math.ceil(totalBytes / MSG)
  let got = 0
  const t0 = performance.now()
  const done = new Promise<void>((resolve) => b.on('data', (d: Uint8Array) => { got += d.byteLength; if (got >= count * MSG) resolve() }))
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
  a.destroy()
  b.destroy()
  return count * MSG / 1e6 / s
}

function cipherMBps (totalBytes: number): number {
  const key = new Uint8Array(32).fill(1)
  const push = new SecretstreamPush(key)
  const pull = new SecretstreamPull(key, push.header)
  const msg = new Uint8Array(MSG)
  const count = Math.ceil(totalBytes / MSG)
  const t0 = performance.now()
  for (let i = 0; i < count; i++) pull.decrypt(push.encrypt(msg))
  const s = (performance.now() - t0) / 1000
  push.destroy(); pull.destroy()
  return count * MSG / 1e6 / s
}

async function main (): Promise<void> {
  const mib = Number(process.argv[2] ?? 64)
  const rounds = Number(process.argv[3] ?? 3)
  await cryptoReady()
  const total = mib * 1024 * 1024
  const ours: number[] = []
  const theirs: number[] = []
  // Warm up both (JIT, WASM tiers), then alternate so drift hits both equally.
  await pairMBps((i) => new SecretStream(i), 8 * MSG * 16)
  await pairMBps((i) => new TheirSecretStream(i), 8 * MSG * 16)
  for (let r = 0; r < rounds; r++) {
    ours.push(await pairMBps((i) => new SecretStream(i), total))
    theirs.push(await pairMBps((i) => new TheirSecretStream(i), total))
  }
  const best = (xs: number[]): number => Math.max(...xs)
  const round1 = (x: number): number => Math.round(x * 10) / 10
  console.log(JSON.stringify({
    runtime: `node ${process.version}`,
    messageBytes: MSG,
    MiBPerRound: mib,
    rounds,
    MBps: { ours: ours.map(round1), hyperswarmSecretStream: theirs.map(round1) },
    best: { ours: round1(best(ours)), hyperswarmSecretStream: round1(best(theirs)) },
    ratioOursToReference: Math.round(best(ours) / best(theirs) * 100) / 100,
    oursCipherOnlyPushPullMBps: round1(cipherMBps(total / 2))
  }, null, 2))
}

main().catch((err) => { console.error(err); process.exitCode = 1 })
