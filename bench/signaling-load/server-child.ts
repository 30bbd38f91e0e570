/**
 * @module bench/signaling-load/server-child
 * The server side of the signaling load benchmark, alone in its own process (its own core,
 * its own file descriptors, its own heap to measure): our signaling server or the reference
 * relay, driven over IPC by bench/signaling-load.bench.ts. Run with --expose-gc.
 *   { cmd: 'start', kind: 'ours' | 'reference', maxConnections, redis? } → { url } (`redis`: rooms shared there)
 *   { cmd: 'memory' } → heap and RSS after a full GC, and the server's stats
 *   { cmd: 'cpu' } → process.cpuUsage() (µs)
 *   { cmd: 'stop' } → { stopped: true }, then the process exits
 */
import { createSignalServer, type SignalServer } from '../../src/signaling/server/index.js'
import { createReferenceRelay, type ReferenceRelay } from './reference-relay.js'

let server: SignalServer | ReferenceRelay | null = null
const gc = (globalThis as { gc?: () => void }).gc

function reply (msg: unknown): void {
  process.send!(msg)
}

process.on('message', (m: { cmd: string, kind?: 'ours' | 'reference', maxConnections?: number, redis?: string }) => {
  void (async () => {
    switch (m.cmd) {
      case 'start':
        server = m.kind === 'ours'
          ? await createSignalServer({ port: 0, maxConnections: m.maxConnections, helloTimeoutMs: 60_000, ...(m.redis === undefined ? {} : { redis: m.redis }) })
          : await createReferenceRelay()
        return reply({ url: server.url })
      case 'memory':
        for (let i = 0; i < 3; i++) gc?.()
        return reply({ ...process.memoryUsage(), stats: server?.stats() ?? null, gc: gc !== undefined })
      case 'cpu':
        return reply(process.cpuUsage())
      case 'stop':
        await server?.close()
        reply({ stopped: true })
        process.disconnect()
    }
  })().catch((err) => reply({ error: String(err?.stack ?? err) }))
})
reply({ ready: true })
