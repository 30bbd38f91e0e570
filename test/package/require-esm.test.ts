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

test('require("hypercore-web") works from CommonJS and exposes the public API', () => {
  const script = `
    const lib = require(${JSON.stringify(root)})
    const err = lib.HypercoreError.BAD_ARGUMENT('x')
    process.stdout.write(JSON.stringify({ keys: Object.keys(lib).sort(), code: err.code, isError: err instanceof Error }))
  `
  const out = execFileSync(process.execPath, ['--no-warnings', '-e', script], { cwd: root, encoding: 'utf8' })
  const result = JSON.parse(out)
  assert.equal(result.code, 'BAD_ARGUMENT')
  assert.equal(result.isError, true)
  assert.ok(result.keys.includes('HypercoreError'), 'HypercoreError is exported')
})
