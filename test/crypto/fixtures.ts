/**
 * @module test/crypto/fixtures
 * The spec vectors for the Node crypto tests: one loader, shared with the browser-safe
 * vector suites (test/vectors/fixtures.ts).
 */
export { vectors, transcript, seed, publicKey, secretKey, node, utf8 } from '../vectors/fixtures.js'
