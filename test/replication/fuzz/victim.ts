/**
 * @module test/replication/fuzz/victim
 * The honest side of a fuzz iteration: a writer with random blocks, a victim reader of it,
 * the work the victim must still get done while hostile peers are connected (`update()`,
 * `get()`, `download()`, after appends and clears), and the check that everything the victim
 * stored is the writer's (nothing unverified got in, §3.3).
 */
import { ourReader, ourWriter, until } from '../replicator-helpers.js'
import { victimOptions, within } from '../hostile-helpers.js'
import type { Rng } from './random.js'

/** The writer's block `i`: its index (readable in failures) and random bytes. */
function block (rng: Rng, i: number): Buffer {
  const size = rng.bool(0.1) ? rng.int(1024, 16 * 1024) : rng.int(0, 200)
  return Buffer.concat([Buffer.from(`b${i}:`), Buffer.from(rng.bytes(size))])
}

export async function appendBlocks (rng: Rng, w: any, n: number): Promise<void> {
  const list: Buffer[] = []
  for (let i = 0; i < n; i++) list.push(block(rng, w.length + i))
  await w.append(list)
}

/** A writer with a few to a few hundred blocks and a victim reader (not yet connected). */
export async function makeCores (rng: Rng, replicator: Record<string, unknown>): Promise<{ w: any, v: any }> {
  const w = await ourWriter()
  await appendBlocks(rng, w, rng.pick([1, 2, rng.int(3, 40), rng.int(40, 300)]))
  const v = await ourReader(w.key!)
  victimOptions(v, replicator)
  return { w, v }
}

/** How long one piece of the victim's work took. */
export interface Op { name: string, ms: number }

/** Work the victim starts before it knows the writer, while only hostile peers are connected. */
export interface EarlyWork { download: Promise<void> | null, get: { index: number, value: Promise<unknown> } | null }

/**
 * Sometimes a download of everything the writer has and a `get`, started before the victim
 * knows any length: what it then asks the hostile peers for (their claims are all it has) is
 * where tampered and out-of-order answers land. Both must still complete once the writer is there.
 */
export function startEarly (rng: Rng, w: any, v: any): EarlyWork {
  const download = rng.bool(0.5) ? v.download({ start: 0, end: w.length }).done() as Promise<void> : null
  const index = rng.int(0, w.length - 1)
  const get = rng.bool(0.3) ? { index, value: v.get(index) as Promise<unknown> } : null
  // Awaited by `workload`; until then a rejection is not unhandled.
  download?.catch(() => {})
  get?.value.catch(() => {})
  return { download, get }
}

/**
 * The victim's work: update first (it learns the writer's length), then a few random steps.
 * Each must finish within `deadline` ms; the first that does not is a failure and ends it.
 */
export async function workload (rng: Rng, w: any, v: any, early: EarlyWork, deadline: number, ops: Op[], failures: string[]): Promise<void> {
  const timed = async (name: string, fn: () => Promise<void>): Promise<boolean> => {
    const t0 = performance.now()
    try {
      await within(fn(), deadline, name)
    } catch (err) {
      failures.push(`${name}: ${err instanceof Error ? err.message : String(err)} [${describeVictim(w, v)}]`)
      return false
    }
    ops.push({ name, ms: performance.now() - t0 })
    return true
  }
  // update() answers with what the peers said so far: a writer's sync may still be on its way,
  // and a victim that is not eager (`eagerUpgrade: false`) fetches a longer length only for an
  // update() or a get. So: update() until it has the writer's length.
  const caughtUp = async (): Promise<void> => {
    await until(async () => {
      await v.update({ wait: true })
      return v.length === w.length
    }, deadline)
  }
  const get = async (i: number): Promise<void> => {
    const got = await v.get(i)
    const want = await w.get(i)
    if (!Buffer.from(got).equals(want)) failures.push(`get(${i}) returned a block that is not the writer's`)
  }
  const download = async (start: number, end: number): Promise<void> => {
    await v.download({ start, end }).done()
    if (!(await v.has(start, end))) failures.push(`download ${start}-${end} done, but not every block is stored`)
  }
  const span = (): [number, number] => {
    const start = rng.int(0, w.length - 1)
    return [start, rng.bool(0.3) ? w.length : rng.int(start + 1, w.length)]
  }

  if (!(await timed('update', caughtUp))) return
  if (early.download !== null && !(await timed('early download', () => early.download!))) return
  if (early.get !== null) {
    const { index, value } = early.get
    const ok = await timed('early get', async () => {
      if (!Buffer.from(await value as Uint8Array).equals(await w.get(index))) failures.push(`early get(${index}) returned a block that is not the writer's`)
    })
    if (!ok) return
  }
  const steps = rng.int(2, 5)
  for (let s = 0; s < steps; s++) {
    const kind = rng.weighted({ get: 3, download: 3, both: 1, append: 2, clear: 1 })
    let ok = true
    if (kind === 'get') {
      const i = rng.int(0, w.length - 1)
      ok = await timed('get', () => get(i))
    } else if (kind === 'download') {
      const [start, end] = span()
      ok = await timed('download', () => download(start, end))
    } else if (kind === 'both') {
      const i = rng.int(0, w.length - 1)
      const [start, end] = span()
      ok = await timed('get+download', async () => { await Promise.all([get(i), download(start, end)]) })
    } else if (kind === 'append') {
      await appendBlocks(rng, w, rng.int(1, 4))
      ok = await timed('update after append', caughtUp) && await timed('get the new block', () => get(w.length - 1))
    } else {
      const [start, end] = span()
      await v.clear(start, end)
      ok = await timed('download after clear', () => download(start, end))
    }
    if (!ok) return
  }
}

/** What the victim's replicator is waiting for (to tell why some work did not finish). */
export function describeVictim (w: any, v: any): string {
  const rep = v.core?.replicator
  if (rep === null || rep === undefined) return 'no replicator'
  const now = Date.now()
  const peers = rep.peers.map((p: any) => {
    const inflight = [...p.inflight.values()].map((r: any) => `${r.kind}#${r.message.id as number}`).join(' ')
    return `{len ${p.remoteLength as number} fork ${p.remoteFork as number} acked ${p.lengthAcked as number} canUp ${String(p.remoteCanUpgrade)} refused ${String(p.upgradeRefused)}` +
      ` strikes ${p.health.strikes as number} backoff ${Math.max(0, p.health.backoffUntil - now)}ms firstSync -${now - p.firstSyncAt}ms syncSent -${now - p.syncSentAt}ms` +
      ` conflictCheck ${String(p.conflictCheck !== null)} inflight [${inflight}]}`
  })
  return `writer ${w.length as number}, victim ${v.length as number} fork ${v.fork as number}, upgrading ${String(rep.scheduler.upgrading)}, updating ${String(rep.updating)}, peers ${peers.join(' ')}`
}

/** Everything the victim holds is the writer's: its fork, length, tree and every stored block. */
export async function checkStored (w: any, v: any): Promise<string[]> {
  const failures: string[] = []
  if (v.fork !== w.fork) failures.push(`victim is on fork ${v.fork}, the writer on ${w.fork}`)
  if (v.length > w.length) failures.push(`victim length ${v.length} is past the writer's ${w.length}`)
  if (failures.length > 0) return failures
  for (let i = 0; i < v.length; i++) {
    if (!(await v.has(i))) continue
    const got = await v.get(i, { wait: false })
    if (got === null || !Buffer.from(got).equals(await w.get(i))) failures.push(`stored block ${i} is not the writer's`)
  }
  if (v.length > 0 && !Buffer.from(await v.treeHash(v.length)).equals(Buffer.from(await w.treeHash(v.length)))) {
    failures.push(`tree hash at length ${v.length} differs from the writer's`)
  }
  return failures
}
