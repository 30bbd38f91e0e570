/**
 * @module test/replication/hostile-stall-child
 * Run by hostile-stall.test.ts in a child process: a peer answers every upgrade request at
 * once (in the same tick) with `data` that proves nothing, the loop that used to starve every
 * timer of the victim. Prints one JSON line with what happened; the parent kills this
 * process if it never gets there.
 */
import { connect, once, ourReader, ourWriter } from './replicator-helpers.js'
import { attack, blocks, loopProbe, processed, victimOptions, within } from './hostile-helpers.js'

async function main (): Promise<Record<string, unknown>> {
  const w = await ourWriter()
  await w.append(blocks(20))
  const v = await ourReader(w.key!)
  victimOptions(v, { requestTimeout: 300 })
  const a = await attack(v, w.key!)
  a.echo = true
  let claim = 2 ** 30
  a.onrequest = (m) => {
    a.send.data({ request: m.id, fork: m.fork, block: null, hash: null, seek: null, upgrade: null, manifest: null })
    a.send.sync({ length: ++claim, canUpgrade: true, remoteLength: v.length })
  }
  let timerTicks = 0
  const ticker = setInterval(() => { timerTicks++ }, 10)
  const probe = loopProbe()
  a.send.sync({ length: claim, canUpgrade: true, remoteLength: 0 })
  await processed(a)
  const added = once(v, 'peer-add')
  const honest = connect(w, v)
  await added
  const updated = await within(v.update({ wait: true }), 5000, 'update()')
  const closed = await within(a.closed, 10000, 'the peer is dropped')
  const stall = probe.stop()
  clearInterval(ticker)
  await honest.done()
  return { updated, length: v.length, timerTicks, stall: Math.round(stall), closedWith: closed?.code ?? null, asked: a.requests.length }
}

main().then(r => {
  process.stdout.write(JSON.stringify(r) + '\n')
  process.exit(0)
}, (err: Error) => {
  process.stdout.write(JSON.stringify({ error: String(err?.stack ?? err) }) + '\n')
  process.exit(1)
})
