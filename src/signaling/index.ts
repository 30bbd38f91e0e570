/**
 * @module signaling
 * The clients that find peers by topic and carry their WebRTC signals, all behind one
 * `SignalingClient` interface: our WebSocket signaling server's client, BroadcastChannel
 * (tabs of one origin, no server) and the WebTorrent tracker protocol. The server itself is
 * Node-only and has its own entry point, `hypercore-web/signal-server`.
 */
// Public names are the classes (`new WebSocketSignaling({ url })`, like `new TrackerSignaling`
// and `new Swarm`); the modules' factory functions stay internal.
export { WebSocketSignalingClient as WebSocketSignaling, WebSocketSignalingClient } from './ws-client.js'
export type { WebSocketSignalingOptions } from './ws-client.js'
export { BroadcastChannelSignalingClient as BroadcastChannelSignaling, BroadcastChannelSignalingClient } from './broadcast-channel.js'
export type { BroadcastChannelSignalingOptions } from './broadcast-channel.js'
export { TrackerSignaling } from './tracker.js'
export type { TrackerSignalingOptions } from './tracker.js'
export type { SignalingClient, SignalingContext, ConnectRequest, PeerId, TopicHex } from './types.js'
