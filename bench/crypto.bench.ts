/**
 * @module bench/crypto.bench
 * Node benchmark of the crypto layer: ours (libsodium WASM, raw heap path), the naive
 * wrappers path, and the reference hypercore-crypto (native sodium), in one run.
 * Run: node --import tsx bench/crypto.bench.ts [budgetMs]
 */
import { cryptoReady } from '../src/crypto/index.js'
import { measure, ours, ratios, viaWrappers } from './crypto-ops.js'
import { reference } from '../test/crypto/reference.js'

async function main (): Promise<void> {
  const budget = Number(process.argv[2] ?? 1000)
  await cryptoReady()
  const oursOps = measure(ours, budget)
  const wrappersOps = measure(await viaWrappers(), budget)
  const refOps = measure({
    sign: reference.sign,
    verify: reference.verify,
    leafHash: reference.data,
    parentHash: reference.parent
  }, budget, b => Buffer.from(b))
  console.log(JSON.stringify({
    runtime: `node ${process.version}`,
    budgetMsPerOp: budget,
    opsPerSecond: { ours: oursOps, oursViaWrappers: wrappersOps, hypercoreCrypto: refOps },
    ratioOursToReference: ratios(oursOps, refOps),
    ratioOursToWrappers: ratios(oursOps, wrappersOps)
  }, null, 2))
}

main().catch(err => { console.error(err); process.exitCode = 1 })
