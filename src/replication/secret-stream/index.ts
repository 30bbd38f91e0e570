/**
 * @module replication/secret-stream
 * The encrypted replication transport (spec §5.4): Noise XX + secretstream over a framed raw stream.
 */
export {
  SecretStream, type SecretStreamOptions, type SecretStreamEvents, type PreparedHandshake,
  HEADER_FRAME_BYTES, MAX_MESSAGE_SIZE
} from './secret-stream.js'
export { SecretstreamPush, SecretstreamPull, ABYTES, HEADER_BYTES, KEY_BYTES, TAG_MESSAGE } from './cipher.js'
export type { RawStream } from './raw-link.js'
