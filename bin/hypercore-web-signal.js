#!/usr/bin/env node
/**
 * @module bin/hypercore-web-signal
 * Runs the hypercore-web signaling server (src/signaling/server, built to
 * dist/node/signal-server.js):
 *   hypercore-web-signal [--port 8787] [--host 127.0.0.1] [--hosts signal.example.com,…]
 *                        [--redis redis://host:port] [--dht-relay [--bootstrap host:port,…] [--dht-host 0.0.0.0]]
 * Prints `listening on ws://host:port` on stdout once it listens (`--port 0` picks a free port,
 * so the line is how a script learns it), and closes every client cleanly on SIGINT/SIGTERM.
 */
import { parseArgs } from 'node:util'
import { createSignalServer } from '../dist/node/signal-server.js'

const usage = 'usage: hypercore-web-signal [--port 8787] [--host 127.0.0.1] [--hosts name,…]\n' +
  '  --port   TCP port (0: any free port), default 8787\n' +
  '  --host   interface to listen on, default 127.0.0.1 (0.0.0.0: every interface)\n' +
  '  --hosts  the host names clients dial (comma separated), when a proxy in front rewrites\n' +
  '           the Host header; clients sign the name they dialled. Default: the Host header\n' +
  '  --redis  share rooms with every other server given the same Redis (redis://host:port),\n' +
  '           so several processes behind one address act as one server\n' +
  '  --dht-relay   also relay the HyperDHT to pages at ws://host:port/dht (needs hyperdht)\n' +
  '  --bootstrap   DHT bootstrap nodes host:port,… (default: the public HyperDHT ones)\n' +
  '  --dht-host    address the DHT node binds (default every interface; 127.0.0.1 for a\n' +
  '                loopback-only testnet)\n'

let values
try {
  ({ values } = parseArgs({
    options: {
      port: { type: 'string', default: '8787' },
      host: { type: 'string', default: '127.0.0.1' },
      hosts: { type: 'string' },
      redis: { type: 'string' },
      'dht-relay': { type: 'boolean', default: false },
      bootstrap: { type: 'string' },
      'dht-host': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false }
    }
  }))
} catch (err) {
  process.stderr.write(`${err.message}\n${usage}`)
  process.exit(2)
}
if (values.help) {
  process.stdout.write(usage)
  process.exit(0)
}
const port = Number(values.port)
if (!/^\d+$/.test(values.port) || port > 65535) {
  process.stderr.write(`bad --port ${values.port}\n${usage}`)
  process.exit(2)
}

let server
try {
  const hosts = values.hosts === undefined ? undefined : values.hosts.split(',').map(h => h.trim().toLowerCase()).filter(h => h !== '')
  const list = (v) => v === undefined ? undefined : v.split(',').map(x => x.trim()).filter(x => x !== '')
  if (!values['dht-relay'] && (values.bootstrap !== undefined || values['dht-host'] !== undefined)) throw new Error('--bootstrap and --dht-host go with --dht-relay')
  const dhtRelay = values['dht-relay']
    ? { ...(values.bootstrap === undefined ? {} : { bootstrap: list(values.bootstrap) }), ...(values['dht-host'] === undefined ? {} : { dhtHost: values['dht-host'] }) }
    : undefined
  server = await createSignalServer({ port, host: values.host, ...(hosts === undefined ? {} : { hosts }), ...(values.redis === undefined ? {} : { redis: values.redis }), ...(dhtRelay === undefined ? {} : { dhtRelay }) })
} catch (err) {
  process.stderr.write(`${err.message}\n`)
  process.exit(1)
}
process.stdout.write(`listening on ${server.url}\n`)
if (server.dhtRelayUrl !== null) process.stdout.write(`dht relay on ${server.dhtRelayUrl}\n`)

let stopping = false
async function stop () {
  if (stopping) return
  stopping = true
  await server.close()
  process.exit(0)
}
process.on('SIGINT', stop)
process.on('SIGTERM', stop)
