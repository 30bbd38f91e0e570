/**
 * @module replication/mux
 * Protomux-compatible channel multiplexing over one message stream (§5.5).
 */
export { Mux } from './mux.js'
export { Channel, Message, channelKey } from './channel.js'
export type { MessageStream, ChannelOptions, MessageOptions, MuxOptions, PairNotify, Handler, Codec } from './types.js'
