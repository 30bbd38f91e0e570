/**
 * Attack 4: stalls. Requests used to have no timeout and a slot was never given to another
 * peer, so a peer that claims and does not deliver held `update()`, `get()` and `download()`
 * for ever, even with the honest writer connected. Now the oldest request of each peer has a
 * timeout (inflight.ts): its requests go to other peers, it gets a strike and a backoff, and
 * at the third strike it is dropped with a typed error (health.ts). An answer that proves
 * nothing is a strike too, and is never re-asked at once. The timer-starving variant runs in
 * a child process watched from here (hostile-stall-child.ts), since a victim whose timers
 * starve cannot time itself out.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { connect, once, ourReader, ourWriter, refWriter, text, until } from './replicator-helpers.js'
import { answer } from '../../src/replication/replicator/serve.js'
import { attack, blocks, demandUntilDropped, loopProbe, processed, victimOptions, within, type Attacker } from './hostile-helpers.js'

const TIMEOUT = 300

const writers: Array<[string, () => Promise<any>]> = [['our writer', ourWriter], ['a hypercore@10 writer', refWriter]]

async function writerAndVictim (n: number, makeWriter: () => Promise<any> = ourWriter) {
  const w = await makeWriter()
  await w.append(blocks(n))
  const v = await ourReader(w.key!)
  victimOptions(v, { requestTimeout: TIMEOUT })
  return { w, v }
}

/** Connects the writer to the victim and waits for the channel. */
async function honestly (w: any, v: any): Promise<ReturnType<typeof connect>> {
  const added = once(v, 'peer-add')
  const c = connect(w, v)
  await added
  return c
}

for (const [name, makeWriter] of writers) test(`attack 4a: a peer claiming a huge length with canUpgrade that never answers does not hold update() (${name}); it is dropped with REQUEST_TIMEOUT`, { timeout: 60000 }, async () => {
  const { w, v } = await writerAndVictim(20, makeWriter)
  const a = await attack(v, w.key!)
  a.echo = true
  a.send.sync({ length: 2 ** 40, canUpgrade: true, remoteLength: 0 })
  await processed(a)
  const honest = await honestly(w, v)
  const probe = loopProbe()
  assert.equal(await within(v.update({ wait: true }), 5000, 'update() with a liar connected'), true)
  assert.equal(v.length, 20)
  assert.equal(text(await within(v.get(7), 3000, 'get')), 'b7')
  // The liar keeps claiming more; the victim keeps following the writer until the liar is gone.
  const deadline = Date.now() + 20000
  for (let round = 0; !a.victimPeer.closed; round++) {
    assert.ok(Date.now() < deadline, 'the liar is dropped within 20 s')
    a.send.sync({ length: 2 ** 40 + round, canUpgrade: true, remoteLength: v.length })
    await w.append(Buffer.from('b' + w.length))
    await within(until(() => v.length === w.length, 5000), 5000, `following the writer, round ${round}`)
    await within(v.update({ wait: true }), 5000, `update() round ${round}`)
  }
  assert.equal((await a.closed)?.code, 'REQUEST_TIMEOUT')
  const stall = probe.stop()
  assert.ok(stall < 100, `the victim's event loop stalled ${stall.toFixed(0)} ms`)
  assert.equal(text(await v.get(w.length - 1)), 'b' + (w.length - 1))
  await honest.done()
})

test('attack 4e (found by the fuzzer): a peer re-sending a longer claim that never acknowledges our length does not hold update()', { timeout: 60000 }, async () => {
  // Such a peer is never asked for an upgrade (only peers that acknowledged our length are),
  // so it gets no timeout and no strike; update() waits for its acknowledgement one request
  // timeout. That wait used to restart at each of its syncs: one every 50 ms held update()
  // for ever, the writer connected and already followed.
  const { w, v } = await writerAndVictim(20)
  const a = await attack(v, w.key!)
  let claim = 2 ** 40
  const reclaim = (): void => a.send.sync({ length: claim++, canUpgrade: true, remoteLength: v.length + 7 })
  reclaim()
  await processed(a)
  const honest = await honestly(w, v)
  const timer = setInterval(reclaim, TIMEOUT / 6)
  try {
    assert.equal(await within(v.update({ wait: true }), 5000, 'update() with a re-claiming peer'), true)
    assert.equal(v.length, 20)
    // A new length of ours is owed an acknowledgement again, once, not once per claim.
    await w.append(Buffer.from('b20'))
    await within(until(() => v.length === 21, 5000), 5000, 'following the writer')
    assert.equal(await within(v.update({ wait: true }), 5000, 'update() after the writer appended'), false)
    assert.equal(text(await v.get(20)), 'b20')
    assert.equal(a.requests.filter(m => m.upgrade !== null).length, 0, 'a peer that never acknowledged was asked for an upgrade')
    assert.equal(a.victimPeer.closed, false, 'a claim alone is no strike')
  } finally {
    clearInterval(timer)
    a.destroy()
    await honest.done()
  }
})

/** Answers every upgrade request with `data` that proves nothing, then claims a little more. */
export function answerEmpty (a: Attacker, v: any, delay: boolean): void {
  let claim = 2 ** 30
  a.onrequest = (m) => {
    const reply = (): void => {
      a.send.data({ request: m.id, fork: m.fork, block: null, hash: null, seek: null, upgrade: null, manifest: null })
      a.send.sync({ length: ++claim, canUpgrade: true, remoteLength: v.length })
    }
    if (delay) setImmediate(reply)
    else reply()
  }
}

test('attack 4b: empty answers to upgrade requests are strikes, never re-asked at once; update() follows the writer; PROTOCOL_ERROR', { timeout: 60000 }, async () => {
  const { w, v } = await writerAndVictim(20)
  const a = await attack(v, w.key!)
  a.echo = true
  answerEmpty(a, v, true)
  a.send.sync({ length: 2 ** 30, canUpgrade: true, remoteLength: 0 })
  await processed(a)
  const honest = await honestly(w, v)
  const probe = loopProbe()
  assert.equal(await within(v.update({ wait: true }), 5000, 'update() with an empty-answering peer'), true)
  assert.equal(v.length, 20)
  assert.equal((await within(a.closed, 10000, 'the peer is dropped'))?.code, 'PROTOCOL_ERROR')
  assert.ok(a.requests.length <= 4, `the victim asked it ${a.requests.length} times`)
  const stall = probe.stop()
  assert.ok(stall < 100, `the victim's event loop stalled ${stall.toFixed(0)} ms`)
  await honest.done()
})

test('attack 4b, answered at once (child process): the victim\'s timers keep running and update() completes', { timeout: 60000 }, async () => {
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./hostile-stall-child.ts', import.meta.url))], {
    cwd: fileURLToPath(new URL('../..', import.meta.url)), // where tsx resolves from
    stdio: ['ignore', 'pipe', 'inherit']
  })
  let out = ''
  child.stdout.on('data', (d: Buffer) => { out += d.toString() })
  const exited = new Promise<number | null>(resolve => child.once('exit', code => resolve(code)))
  // The child's own deadlines cannot fire if its timers starve: this process watches it.
  const killer = setTimeout(() => child.kill('SIGKILL'), 30000)
  const code = await exited
  clearTimeout(killer)
  const result = out.trim().split('\n').filter(Boolean).map(l => { try { return JSON.parse(l) } catch { return null } }).filter(Boolean).at(-1)
  assert.ok(result !== undefined, `the victim froze (killed after 30 s), output: ${out.slice(-500)}`)
  assert.equal(result.error ?? null, null)
  assert.equal(code, 0)
  assert.equal(result.updated, true)
  assert.equal(result.length, 20)
  assert.ok(result.timerTicks > 10, `timer ticks while attacked: ${result.timerTicks}`)
  assert.ok(result.stall < 100, `the victim's event loop stalled ${result.stall} ms`)
  assert.equal(result.closedWith, 'PROTOCOL_ERROR')
})

test('attack 4c: a peer that answers a reorg but not its hash requests does not keep the upgrade slot', { timeout: 60000 }, async () => {
  for (const makeWriter of [ourWriter, refWriter]) {
    const w = await makeWriter()
    await w.append(blocks(64))
    const v = await ourReader(w.key)
    victimOptions(v, { requestTimeout: TIMEOUT })
    const c0 = connect(w, v)
    await once(v, 'peer-add')
    await v.update({ wait: true })
    await v.download({ start: 0, end: 64 }).done()
    await c0.done()
    // The writer forks: truncate to 37, then 40 new blocks (fork 1).
    await w.truncate(37)
    await w.append(blocks(40, 'n'))
    assert.equal(w.fork, 1)
    // The attacker holds the new fork's proof (a real replica of it) and answers only the
    // reorg request: its hash requests and block requests go unanswered.
    const holder = await ourReader(w.key)
    const c1 = connect(w, holder)
    await once(holder, 'peer-add')
    await holder.update({ wait: true })
    await c1.done()
    const a = await attack(v, w.key)
    const answered: number[] = []
    a.onrequest = (m) => {
      if (m.upgrade === null || m.upgrade.start !== 0) return
      answered.push(m.id)
      void answer((holder as any).core, m).then(d => { if (d !== null) a.send.data(d) })
    }
    a.send.sync({ fork: 1, length: 77, remoteLength: 0 })
    a.send.range(false, 0, 77)
    const hashAsked = new Promise<void>(resolve => {
      const prev = a.onrequest!
      a.onrequest = (m) => { prev(m); if (m.hash !== null) resolve() }
    })
    await within(hashAsked, 5000, 'the victim narrows the reorg with hash requests')
    const honest = await honestly(w, v)
    const probe = loopProbe()
    assert.equal(await within(v.update({ wait: true }), 5000, 'update() after the reorg'), true)
    assert.equal(v.fork, 1)
    assert.equal(v.length, 77)
    await within(v.download({ start: 0, end: 77 }).done(), 8000, 'download of the new fork')
    for (let i = 0; i < 37; i++) assert.equal(text(await v.get(i, { wait: false })), 'b' + i)
    for (let i = 0; i < 40; i++) assert.equal(text(await v.get(37 + i, { wait: false })), 'n' + i)
    assert.deepEqual(await demandUntilDropped(v, a, 77, TIMEOUT), ['REQUEST_TIMEOUT'])
    const stall = probe.stop()
    assert.ok(stall < 100, `the victim's event loop stalled ${stall.toFixed(0)} ms`)
    assert.equal(answered.length >= 1, true)
    await honest.done()
  }
})

for (const [name, makeWriter] of writers) test(`attack 4d: a peer claiming every block that never answers does not hold get() or download() (${name})`, { timeout: 60000 }, async () => {
  const { w, v } = await writerAndVictim(300, makeWriter)
  const a = await attack(v, w.key!)
  a.send.sync({ length: 300, remoteLength: 0 })
  a.send.range(false, 0, 300)
  await processed(a)
  const honest = await honestly(w, v)
  await v.update({ wait: true })
  const probe = loopProbe()
  // The attacker is asked first (the writer is busy with the download), then timed out.
  const range = v.download({ start: 0, end: 300 })
  assert.equal(text(await within(v.get(299), 3000, 'get')), 'b299')
  await within(range.done(), 3000, 'download')
  // Later downloads go to the attacker again once its backoff ends, until it is dropped.
  assert.deepEqual(await demandUntilDropped(v, a, 300, TIMEOUT), ['REQUEST_TIMEOUT'])
  const stall = probe.stop()
  assert.ok(stall < 100, `the victim's event loop stalled ${stall.toFixed(0)} ms`)
  for (let i = 0; i < 300; i += 13) assert.equal(text(await v.get(i, { wait: false })), 'b' + i)
  await honest.done()
})

test('attack 4d with a 2 s request timeout: blocks a silent peer holds are hedged to the writer after requestTimeout / 8, long before the timeout; the silent peer\'s clock runs on across hedges and it is still dropped', { timeout: 60000 }, async () => {
  const requestTimeout = 2000
  const w = await ourWriter()
  await w.append(blocks(300))
  const v = await ourReader(w.key!)
  victimOptions(v, { requestTimeout })
  const a = await attack(v, w.key!)
  a.send.sync({ length: 300, remoteLength: 0 })
  a.send.range(false, 0, 300)
  await processed(a)
  let uploads = 0
  let downloads = 0
  w.on('upload', () => uploads++)
  v.on('download', () => downloads++)
  const honest = await honestly(w, v)
  await v.update({ wait: true })
  const started = Date.now()
  await within(v.download({ start: 0, end: 300 }).done(), requestTimeout * 0.75, 'download before the first timeout')
  const took = Date.now() - started
  assert.ok(a.requests.some(m => m.block !== null), 'the silent peer was asked for blocks (so the download did wait for hedges)')
  assert.ok(took >= requestTimeout / 8, `the download took ${took} ms: the hedges waited for the silence`)
  assert.equal(a.victimPeer.closed, false, 'hedging is no strike')
  assert.deepEqual(await demandUntilDropped(v, a, 300, requestTimeout), ['REQUEST_TIMEOUT'])
  for (let i = 0; i < 300; i += 7) assert.equal(text(await v.get(i, { wait: false })), 'b' + i)
  // A hedge that won ends the silent peer's request too: nothing is hedged twice, so the
  // writer sent each block exactly as often as the victim stored one.
  assert.equal(uploads, downloads)
  await honest.done()
})
