#!/usr/bin/env node
/**
 * @module bin/hypercore-web-signal
 * Runs the hypercore-web signaling server (src/signaling/server, built to
 * dist/node/signal-server.js):
 *   hypercore-web-signal [--port 8787] [--host 127.0.0.1] [--hosts signal.example.com,…]
 * Prints `listening on ws://host:port` on stdout once it listens (`--port 0` picks a free port,
 * so the line is how a script learns it), and closes every client cleanly on SIGINT/SIGTERM.
 */
import { parseArgs } from 'node:util'
import { createSignalServer } from '../dist/node/signal-server.js'

const usage = 'usage: hypercore-web-signal [--port 8787] [--host 127.0.0.1] [--hosts name,…]\n' +
  '  --port   TCP port (0: any free port), default 8787\n' +
  '  --host   interface to listen on, default 127.0.0.1 (0.0.0.0: every interface)\n' +
  '  --hosts  the host names clients dial (comma separated), when a proxy in front rewrites\n' +
  '           the Host header; clients sign the name they dialled. Default: the Host header\n'

let values
try {
  ({ values } = parseArgs({
    options: {
      port: { type: 'string', default: '8787' },
      host: { type: 'string', default: '127.0.0.1' },
      hosts: { type: 'string' },
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
  server = await createSignalServer({ port, host: values.host, ...(hosts === undefined ? {} : { hosts }) })
} catch (err) {
  process.stderr.write(`${err.message}\n`)
  process.exit(1)
}
process.stdout.write(`listening on ${server.url}\n`)

let stopping = false
async function stop () {
  if (stopping) return
  stopping = true
  await server.close()
  process.exit(0)
}
process.on('SIGINT', stop)
process.on('SIGTERM', stop)
