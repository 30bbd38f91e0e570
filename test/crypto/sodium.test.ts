import { test } from 'node:test'
import { equal, ok, throwsWithCode } from '../helpers/assert.js'
import { cryptoReady, isCryptoReady, raw } from '../../src/crypto/sodium.js'
import { leafHash } from '../../src/crypto/hash.js'
import { keyPair } from '../../src/crypto/sign.js'

// Runs in its own process (node --test), so sodium is not loaded yet when this starts.
test('sync accessors throw CRYPTO_NOT_READY before cryptoReady()', () => {
  equal(isCryptoReady(), false)
  throwsWithCode(() => raw(), 'CRYPTO_NOT_READY')
  throwsWithCode(() => leafHash(new Uint8Array(1)), 'CRYPTO_NOT_READY')
  throwsWithCode(() => keyPair(), 'CRYPTO_NOT_READY')
})

test('cryptoReady is idempotent: one cached promise, one module', async () => {
  const a = cryptoReady()
  const b = cryptoReady()
  equal(a, b, 'same promise')
  await a
  equal(isCryptoReady(), true)
  const r = raw()
  await cryptoReady()
  equal(raw(), r, 'same raw module')
  equal(typeof r._crypto_stream_xsalsa20_xor_ic, 'function')
  equal(typeof r._crypto_scalarmult_ed25519_noclamp, 'function', 'sumo functions kept')
  ok(r.HEAPU8 instanceof Uint8Array)
})
