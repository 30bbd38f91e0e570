/**
 * @module transport/websocket-global.browser
 * The WebSocket class of this platform: the browser's own. Chosen through package.json
 * "imports" (`#platform/websocket`), never at run time.
 */
export const WebSocketImpl: typeof WebSocket = globalThis.WebSocket
