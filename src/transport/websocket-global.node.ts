/**
 * @module transport/websocket-global.node
 * The WebSocket class of this platform: Node 20 has no global WebSocket, so the `ws`
 * package's client, which has the same browser-style API (binaryType, onmessage, send,
 * bufferedAmount). Chosen through package.json "imports" (`#platform/websocket`).
 */
import { WebSocket as WsWebSocket } from 'ws'

export const WebSocketImpl = WsWebSocket as unknown as typeof WebSocket
