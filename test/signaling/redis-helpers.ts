/**
 * @module test/signaling/redis-helpers
 * Several signaling server processes sharing rooms through one Redis, as deployed: Debian's
 * `redis-server` on a free loopback port (no persistence), server instances as child processes
 * (./redis-instance-child.ts) that a test can kill outright, and a TCP load balancer in front of
 * them that hands each new connection to the next instance in turn, skipping those that refuse
 * it (what a client whose instance died meets when it reconnects to the one address it knows).
 */
import { spawn, type ChildProcess } from 'node:child_process'
import net from 'node:net'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const here = path.dirname(fileURLToPath(import.meta.url))
export const REDIS_SERVER = process.env.REDIS_SERVER ?? '/usr/bin/redis-server'

async function freePort (): Promise<number> {
  const s = net.createServer()
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', () => resolve()))
  const port = (s.address() as net.AddressInfo).port
  await new Promise<void>((resolve) => s.close(() => resolve()))
  return port
}

function waitLine (child: ChildProcess, re: RegExp, what: string): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    let out = ''
    const onData = (d: Buffer): void => {
      out += d.toString()
      const m = re.exec(out)
      if (m !== null) { child.stdout!.off('data', onData); resolve(m) }
    }
    child.stdout!.on('data', onData)
    child.stderr!.on('data', (d: Buffer) => { out += d.toString() })
    child.once('exit', (code) => reject(new Error(`${what} exited (${code}) before it was ready: ${out}`)))
  })
}

export interface RedisProcess { url: string, stop (): Promise<void> }

export async function startRedis (): Promise<RedisProcess> {
  const port = await freePort()
  const child = spawn(REDIS_SERVER, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'pipe'] })
  await waitLine(child, /Ready to accept connections/, 'redis-server')
  return {
    url: `redis://127.0.0.1:${port}`,
    stop: () => stop(child, 'SIGTERM')
  }
}

export interface Instance { url: string, port: number, kill (): Promise<void>, stop (): Promise<void> }

/** A signaling server process with rooms in `redisUrl`. */
export async function startInstance (redisUrl: string, port = 0): Promise<Instance> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(here, 'redis-instance-child.ts'), redisUrl, String(port)], { stdio: ['ignore', 'pipe', 'pipe'] })
  const m = await waitLine(child, /listening on (ws:\/\/127\.0\.0\.1:(\d+))\n/, 'signaling instance')
  return {
    url: m[1]!,
    port: Number(m[2]),
    /** Dies at once: no close frames, no Redis cleanup (its entries expire). */
    kill: () => stop(child, 'SIGKILL'),
    stop: () => stop(child, 'SIGTERM')
  }
}

async function stop (child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  child.kill(signal)
  await exited
}

export interface Balancer { url: string, close (): Promise<void> }

/** One address for the instances on `ports`: each new connection goes to the next one that accepts. */
export async function balancer (ports: number[]): Promise<Balancer> {
  let next = 0
  const sockets = new Set<net.Socket>()
  const server = net.createServer((client) => {
    sockets.add(client)
    client.on('close', () => sockets.delete(client))
    client.on('error', () => {})
    client.pause()
    const first = next++ % ports.length
    const attempt = (tried: number): void => {
      if (tried === ports.length) return void client.destroy()
      const upstream = net.connect(ports[(first + tried) % ports.length]!, '127.0.0.1')
      upstream.once('error', () => attempt(tried + 1))
      upstream.once('connect', () => {
        sockets.add(upstream)
        upstream.removeAllListeners('error')
        upstream.on('error', () => client.destroy())
        client.on('error', () => upstream.destroy())
        upstream.on('close', () => { sockets.delete(upstream); client.destroy() })
        client.on('close', () => upstream.destroy())
        client.pipe(upstream).pipe(client)
        client.resume()
      })
    }
    attempt(0)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()))
  return {
    url: `ws://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    close: async () => {
      for (const s of sockets) s.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
  }
}
