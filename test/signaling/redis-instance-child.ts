/**
 * @module test/signaling/redis-instance-child
 * One signaling server process with rooms in Redis, for the tests that kill one:
 *   node --import tsx redis-instance-child.ts <redis url> [port]
 * Prints `listening on ws://127.0.0.1:<port>` once ready; closes cleanly on SIGTERM.
 */
import { createSignalServer } from '../../src/signaling/server/index.js'

const [redis, port] = process.argv.slice(2)
const server = await createSignalServer({ port: Number(port ?? 0), redis })
process.stdout.write(`listening on ${server.url}\n`)
process.on('SIGTERM', () => { server.close().then(() => process.exit(0), () => process.exit(1)) })
