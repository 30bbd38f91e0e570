/**
 * @module transport
 * Byte streams that carry a replication connection: WebRTC data channels (browser-to-browser,
 * or Node with an injected `wrtc`) and WebSockets (browser-to-Node).
 */
export { createWebRtcPeer } from './webrtc.js'
export { webSocketStream, connectWebSocket, WebSocketStream } from './websocket.js'
export type { WebSocketLike, WebSocketStreamOptions, ConnectWebSocketOptions } from './websocket.js'
export type { ByteStream, SignalData, IceServer, WebRtcPeer, WebRtcPeerOptions } from './types.js'
