/**
 * @module replication/framing
 * uint24-LE length-prefixed framing of the raw replication stream (spec §5.2).
 */
export {
  FrameParser, type FrameParserOptions, type FrameHandler,
  MAX_FRAME_SIZE, FRAME_HEADER_BYTES, checkMaxFrameSize, writeFrameHeader, encodeFrame
} from './frame-parser.js'
