/**
 * @module signaling/retry-delay
 * The one backoff formula of the network layers (signaling reconnects, the swarm's
 * re-announcements): `initial · 2^failures`, capped at `max`, with ±25 % jitter so clients
 * that lost the same server or peer at the same moment do not retry in lockstep.
 */
export function retryDelay (failures: number, initialMs: number, maxMs: number, random: () => number = Math.random): number {
  const base = Math.min(maxMs, initialMs * 2 ** Math.min(failures, 30))
  return Math.round(base * (0.75 + 0.5 * random()))
}
