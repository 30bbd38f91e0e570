/**
 * @module bench/pages/dht-relay.page
 * The page of bench/dht-relay.bench.ts: the same Swarm-over-a-DHT-relay page the tests drive
 * (web-test/pages/dht.page.ts), bundled with the bench pages (minified).
 */
import { testApi } from '../../web-test/pages/dht.page.js'

(globalThis as unknown as { testApi: unknown }).testApi = testApi
