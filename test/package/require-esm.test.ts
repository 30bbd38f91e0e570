/**
 * The package must be usable from CommonJS through Node's require() of ESM, which only
 * works when no module in the graph uses top-level await. This loads the built Node entry
 * (dist/node/index.js, made by `npm run build`) from a real CommonJS child process.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import path from 'node:path'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')

test('require("hypercore-web") from CommonJS gives the Hypercore class, as require("hypercore") does', async () => {
  const script = `
    const Hypercore = require(${JSON.stringify(root)})
    const core = new Hypercore(require('random-access-memory'))
    core.append(Buffer.from('one')).then(() => core.get(0)).then(async (block) => {
      process.stdout.write(JSON.stringify({
        isClass: typeof Hypercore === 'function' && core instanceof Hypercore,
        statics: [typeof Hypercore.key, typeof Hypercore.discoveryKey, typeof Hypercore.defaultStorage],
        block: String(block),
        isBuffer: Buffer.isBuffer(block)
      }))
      await core.close()
    })
  `
  const out = execFileSync(process.execPath, ['--no-warnings', '-e', script], { cwd: root, encoding: 'utf8' })
  assert.deepEqual(JSON.parse(out), { isClass: true, statics: ['function', 'function', 'function'], block: 'one', isBuffer: true })
})

test('the ES module keeps its named exports (HypercoreError, crypto, storage…)', async () => {
  const lib = await import(path.join(root, 'dist/node/index.js'))
  assert.equal(typeof lib.default, 'function')
  assert.equal(lib.Hypercore, lib.default)
  assert.equal(lib.HypercoreError.BAD_ARGUMENT('x').code, 'BAD_ARGUMENT')
  assert.equal(typeof lib.IdbStorage, 'function')
})
