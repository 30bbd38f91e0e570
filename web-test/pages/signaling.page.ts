/**
 * @module web-test/pages/signaling.page
 * Chromium side of web-test/signaling.spec.ts (served at /pages/signaling.html):
 *   testApi.conformance(kind, url?)   runs test/signaling/conformance.ts in the page against
 *                                     BroadcastChannelSignaling or WebSocketSignaling(url);
 *   testApi.start(kind, id, opts)     one client with a fake swarm, driven step by step by the
 *   testApi.join / waitConnects /     spec so two pages can meet each other;
 *     emit / waitReceived / close
 * Every call returns plain JSON.
 */
import { BroadcastChannelSignaling } from '../../src/signaling/broadcast-channel.js'
import type { SignalingClient } from '../../src/signaling/types.js'
import { WebSocketSignaling } from '../../src/signaling/ws-client.js'
import type { SignalData } from '../../src/transport/types.js'
import { runSuiteInPage } from '../../test/helpers/assert.js'
import { signalingConformance } from '../../test/signaling/conformance.js'
import { FakeSwarm } from '../../test/signaling/fakes.js'

type Kind = 'broadcast-channel' | 'ws'
interface Opts { url?: string, channelName?: string }

function create (kind: Kind, opts: Opts): SignalingClient {
  return kind === 'ws' ? WebSocketSignaling({ url: opts.url ?? '' }) : BroadcastChannelSignaling({ channelName: opts.channelName })
}

async function conformance (kind: Kind, opts: Opts): Promise<{ passed: string[], failed: Array<{ name: string, error: string }> }> {
  return await runSuiteInPage(signalingConformance({ create: () => create(kind, opts) }), () => undefined)
}

let client: SignalingClient | null = null
let swarm: FakeSwarm | null = null
const errors: string[] = []

function start (kind: Kind, id: string, opts: Opts): void {
  client = create(kind, opts)
  swarm = new FakeSwarm(id)
  client.on('error', (e) => errors.push(String(e)))
  client.start(swarm)
}

async function waitConnects (n: number): Promise<Array<{ peerId: string | null, topic: string, initiator: boolean }>> {
  const cs = await swarm!.waitConnects(n, 10_000)
  return cs.map(p => ({ peerId: p.req.peerId, topic: p.req.topic, initiator: p.req.initiator }))
}

(globalThis as unknown as { testApi: unknown }).testApi = {
  conformance,
  start,
  join: (topic: string) => client!.join(topic),
  leave: (topic: string) => client!.leave(topic),
  waitConnects,
  emit: (i: number, data: SignalData) => swarm!.connects[i].emit(data),
  waitReceived: (i: number, n: number) => swarm!.connects[i].waitReceived(n, 10_000),
  errors: () => errors.slice(),
  close: () => client!.close()
}
