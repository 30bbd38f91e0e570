/**
 * @module wire/message-types
 * Every message type number on the wire, in one place (STYLE §7): the Protomux control
 * types (§5.5) and the hypercore channel's message indices (§5.6). The numbers are the
 * index of a message in the channel's message list, so their order is the protocol.
 */

/** The wire protocol name of a hypercore channel (§5.6). JS's local alias "hypercore" never goes on the wire. */
export const HYPERCORE_PROTOCOL = 'hypercore/alpha'

/** Protomux control messages: frames on channel id 0 (§5.5). */
export const ControlType = {
  BATCH: 0,
  OPEN: 1,
  REJECT: 2,
  CLOSE: 3
} as const

/** Hypercore channel message types (§5.6 table). */
export const MessageType = {
  SYNC: 0,
  REQUEST: 1,
  CANCEL: 2,
  DATA: 3,
  NO_DATA: 4,
  WANT: 5,
  UNWANT: 6,
  BITFIELD: 7,
  RANGE: 8,
  EXTENSION: 9
} as const

export type MessageTypeName = keyof typeof MessageType

/** Names by number, for logs and transcripts ("sync", "noData", …, as the spec's table writes them). */
export const MESSAGE_NAMES = ['sync', 'request', 'cancel', 'data', 'noData', 'want', 'unwant', 'bitfield', 'range', 'extension'] as const
