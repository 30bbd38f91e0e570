/**
 * @module web-test/peers/ref-store-peer
 * The Node side of the Chromium ↔ corestore@6 spec: a `ws` server on 127.0.0.1 (port 0) that
 * replicates a whole corestore@6 store (every core it has, one stream per page) with every
 * page that connects: ref-peer.ts's server, given the store.
 */
import { createRequire } from 'node:module'
import { serveRefCore, type RefPeerServer } from './ref-peer.js'

const require = createRequire(import.meta.url)
export const RefCorestore = require('corestore') as any
export const RAM = require('random-access-memory') as any

export type RefStoreServer = RefPeerServer

/** A corestore@6 served over WebSockets: a store replicates as a core does (`replicate(false, opts)`). */
export async function serveRefStore (store: any): Promise<RefStoreServer> {
  return await serveRefCore(store)
}
