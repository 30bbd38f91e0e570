/**
 * @module test/signaling/bin.test
 * The `hypercore-web-signal` command: the real bin/hypercore-web-signal.js, next to a fresh
 * esbuild bundle of src/signaling/server (as `npm run build` makes dist/node/signal-server.js),
 * in a scratch copy under .build/ so a concurrent build of dist/ cannot race it. It prints
 * its URL, serves the protocol, rejects bad arguments and exits 0 on SIGTERM.
 */
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { before, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import * as esbuild from 'esbuild'
import { newId, randomHex } from './fakes.js'
import { helloClient, hostOf, rawClient, signedHello } from './server-helpers.js'
import { cryptoReady } from '../../src/crypto/index.js'

await cryptoReady()

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const scratch = path.join(root, '.build/signal-bin-test')
const bin = path.join(scratch, 'bin/hypercore-web-signal.js')

before(async () => {
  fs.rmSync(scratch, { recursive: true, force: true })
  fs.mkdirSync(path.dirname(bin), { recursive: true })
  fs.copyFileSync(path.join(root, 'bin/hypercore-web-signal.js'), bin)
  await esbuild.build({
    entryPoints: [path.join(root, 'src/signaling/server/index.ts')],
    outfile: path.join(scratch, 'dist/node/signal-server.js'),
    bundle: true, format: 'esm', platform: 'node', packages: 'external', target: 'es2022', logLevel: 'error'
  })
})

function run (args: string[]): { child: ChildProcess, stdout: () => string, stderr: () => string, exit: Promise<number | null> } {
  const child = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  let err = ''
  child.stdout!.on('data', (d) => { out += d })
  child.stderr!.on('data', (d) => { err += d })
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  return { child, stdout: () => out, stderr: () => err, exit }
}

test('hypercore-web-signal --port 0 prints its URL, serves the protocol and exits 0 on SIGTERM', async () => {
  const p = run(['--port', '0', '--host', '127.0.0.1'])
  const url = await new Promise<string>((resolve, reject) => {
    p.child.stdout!.on('data', () => {
      const m = /listening on (ws:\/\/127\.0\.0\.1:(\d+))\n/.exec(p.stdout())
      if (m !== null) resolve(m[1])
    })
    p.exit.then((code) => reject(new Error(`exited ${code}: ${p.stderr()}`)), reject)
  })
  assert.notEqual(url, 'ws://127.0.0.1:0')
  const c = await helloClient(url, newId())
  c.send({ type: 'join', topic: randomHex() })
  assert.deepEqual((await c.next('peers')).peers, [])
  p.child.kill('SIGTERM')
  assert.equal((await c.closed).code, 1001, 'clients are closed as going away')
  assert.equal(await p.exit, 0)
})

test('hypercore-web-signal rejects a bad port with usage and exit code 2', async () => {
  const p = run(['--port', 'eighty'])
  assert.equal(await p.exit, 2)
  assert.match(p.stderr(), /bad --port eighty[\s\S]*usage: hypercore-web-signal/)
})

test('hypercore-web-signal on a port in use exits 1 with the reason', async () => {
  const first = run(['--port', '0'])
  const port = await new Promise<string>((resolve) => first.child.stdout!.on('data', () => {
    const m = /:(\d+)\n/.exec(first.stdout())
    if (m !== null) resolve(m[1])
  }))
  const second = run(['--port', port])
  assert.equal(await second.exit, 1)
  assert.match(second.stderr(), /BAD_ARGUMENT: cannot listen on 127\.0\.0\.1:\d+: .*EADDRINUSE/)
  first.child.kill('SIGTERM')
  assert.equal(await first.exit, 0)
})

test('hypercore-web-signal --hosts: a hello signed for a listed name is welcome, one signed for the address dialled is refused (4006)', async () => {
  const p = run(['--port', '0', '--hosts', 'Signal.Example.test,other.example.test'])
  const url = await new Promise<string>((resolve, reject) => {
    p.child.stdout!.on('data', () => {
      const m = /listening on (ws:\/\/127\.0\.0\.1:\d+)\n/.exec(p.stdout())
      if (m !== null) resolve(m[1])
    })
    p.exit.then((code) => reject(new Error(`exited ${code}: ${p.stderr()}`)), reject)
  })
  // As behind a proxy: the client dialled signal.example.test and signs that name.
  const id = newId()
  const ok = await rawClient(url)
  ok.send(signedHello((await ok.next('challenge')).nonce, id, 'signal.example.test'))
  assert.equal((await ok.next('welcome')).peerId, id)
  const refused = await rawClient(url)
  refused.send(signedHello((await refused.next('challenge')).nonce, newId(), hostOf(url)))
  assert.equal((await refused.closed).code, 4006)
  p.child.kill('SIGTERM')
  assert.equal(await p.exit, 0)
})

test('hypercore-web-signal --dht-relay --bootstrap: prints the relay URL, which challenges a page; --redis: rooms in Redis', async () => {
  const { createRequire } = await import('node:module')
  const require = createRequire(import.meta.url)
  const testnet = await require('hyperdht/testnet')(3, { host: '127.0.0.1' })
  const { startRedis } = await import('./redis-helpers.js')
  const redis = await startRedis()
  const { WebSocket } = await import('ws')
  try {
    const bootstrap = testnet.bootstrap.map((n: { host: string, port: number }) => `${n.host}:${n.port}`).join(',')
    const p = run(['--port', '0', '--dht-relay', '--bootstrap', bootstrap, '--dht-host', '127.0.0.1', '--redis', redis.url])
    const relayUrl = await new Promise<string>((resolve, reject) => {
      p.child.stdout!.on('data', () => {
        const m = /dht relay on (ws:\/\/127\.0\.0\.1:\d+\/dht)\n/.exec(p.stdout())
        if (m !== null) resolve(m[1])
      })
      p.exit.then((code) => reject(new Error(`exited ${code}: ${p.stderr()}`)), reject)
    })
    const ws = new WebSocket(relayUrl)
    const first = await new Promise<Buffer>((resolve) => ws.once('message', (d: Buffer) => resolve(d)))
    assert.equal(first[0], 16, 'CHALLENGE')
    assert.equal(first.length, 33)
    ws.close()
    // The signaling endpoint is still at the root, its rooms in Redis.
    const url = /listening on (ws:\/\/127\.0\.0\.1:\d+)\n/.exec(p.stdout())![1]!
    const c = await helloClient(url, newId())
    c.send({ type: 'join', topic: randomHex() })
    assert.deepEqual((await c.next('peers')).peers, [])
    p.child.kill('SIGTERM')
    assert.equal(await p.exit, 0)
  } finally {
    await redis.stop()
    await testnet.destroy()
  }
})

test('hypercore-web-signal --bootstrap without --dht-relay is an error', async () => {
  const p = run(['--port', '0', '--bootstrap', '127.0.0.1:1'])
  assert.equal(await p.exit, 1)
  assert.match(p.stderr(), /--bootstrap and --dht-host go with --dht-relay/)
})
