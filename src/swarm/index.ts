/**
 * @module swarm
 * Peers per topic over signaling + WebRTC, handing out Noise-encrypted streams (hyperswarm's shape).
 */
export { Swarm } from './swarm.js'
export { Backoff, type BackoffOptions } from './backoff.js'
export { keepFirst } from './connections.js'
export type { SwarmOptions, DhtOptions, JoinOptions, PeerInfo, Discovery, SwarmEvents, FlushableSignalingClient } from './types.js'
