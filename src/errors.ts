/**
 * @module errors
 * The one error class of hypercore-web. Every failure that reaches a caller is a
 * `HypercoreError` with a stable string `code`, so callers can branch on `err.code`
 * instead of parsing messages. Codes reuse Hypercore 10's names where one exists.
 */

/** Every code this library throws. Stable: renaming one is a breaking change. */
export const ERROR_CODES = [
  // Hypercore 10's codes
  'ASSERTION',
  'BAD_ARGUMENT',
  'STORAGE_EMPTY',
  'STORAGE_CONFLICT',
  'INVALID_SIGNATURE',
  'INVALID_CAPABILITY',
  'INVALID_CHECKSUM',
  'INVALID_OPERATION',
  'INVALID_PROOF',
  'BLOCK_NOT_AVAILABLE',
  'SNAPSHOT_NOT_AVAILABLE',
  'REQUEST_CANCELLED',
  'REQUEST_TIMEOUT',
  'SESSION_NOT_WRITABLE',
  'SESSION_CLOSED',
  'OPLOG_CORRUPT',
  'OPLOG_HEADER_OVERFLOW',
  'INVALID_OPLOG_VERSION',
  'WRITE_FAILED',
  'DECODING_ERROR',
  // ours
  'CRYPTO_NOT_READY',
  'STORAGE_CLOSED',
  'STORAGE_OUT_OF_BOUNDS',
  'STORAGE_NOT_SUPPORTED',
  'STORAGE_QUOTA',
  'STORAGE_ABORTED',
  'STORAGE_LOST',
  'STORAGE_IO',
  // another core (tab, worker, process) holds this storage's writer lock
  'STORAGE_LOCKED',
  // a write to storage opened read-only (unlocked)
  'STORAGE_READ_ONLY',
  // replication transport (Noise handshake, secret-stream framing)
  'INVALID_HANDSHAKE',
  'DECRYPTION_FAILED',
  'FRAME_TOO_LARGE',
  'CONNECTION_CLOSED',
  // WebRTC transport: ICE, SDP or data channel setup/transport failure
  'WEBRTC_FAILED',
  // replication mux: a peer broke the Protomux rules or exceeded a resource limit
  'PROTOCOL_ERROR',
  // replication: a peer proved a validly signed tree that differs from ours at the same fork (§3.5)
  'CONFLICT',
  // signaling: a signaling server or tracker refused us or sent something we cannot use
  'SIGNALING_FAILED',
  // signaling: a correctly signed signal whose counter is not above the last one seen from its sender (a replay)
  'SIGNAL_REPLAYED'
] as const

export type ErrorCode = (typeof ERROR_CODES)[number]

export class HypercoreError extends Error {
  readonly code: ErrorCode
  override readonly cause?: unknown

  constructor (code: ErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(`${code}: ${message}`)
    this.name = 'HypercoreError'
    this.code = code
    if (options.cause !== undefined) this.cause = options.cause
  }

  /** True when `err` is a HypercoreError, optionally with the given code. */
  static is (err: unknown, code?: ErrorCode): err is HypercoreError {
    return err instanceof HypercoreError && (code === undefined || err.code === code)
  }

  static ASSERTION (msg: string): HypercoreError { return new HypercoreError('ASSERTION', msg) }
  static BAD_ARGUMENT (msg: string): HypercoreError { return new HypercoreError('BAD_ARGUMENT', msg) }
  static STORAGE_EMPTY (msg: string): HypercoreError { return new HypercoreError('STORAGE_EMPTY', msg) }
  static STORAGE_CONFLICT (msg: string): HypercoreError { return new HypercoreError('STORAGE_CONFLICT', msg) }
  static INVALID_SIGNATURE (msg: string): HypercoreError { return new HypercoreError('INVALID_SIGNATURE', msg) }
  static INVALID_CAPABILITY (msg: string): HypercoreError { return new HypercoreError('INVALID_CAPABILITY', msg) }
  static INVALID_CHECKSUM (msg: string): HypercoreError { return new HypercoreError('INVALID_CHECKSUM', msg) }
  static INVALID_OPERATION (msg: string): HypercoreError { return new HypercoreError('INVALID_OPERATION', msg) }
  static INVALID_PROOF (msg: string): HypercoreError { return new HypercoreError('INVALID_PROOF', msg) }
  static BLOCK_NOT_AVAILABLE (msg = 'Block is not available'): HypercoreError { return new HypercoreError('BLOCK_NOT_AVAILABLE', msg) }
  static SNAPSHOT_NOT_AVAILABLE (msg = 'Snapshot is not available'): HypercoreError { return new HypercoreError('SNAPSHOT_NOT_AVAILABLE', msg) }
  static REQUEST_CANCELLED (msg = 'Request was cancelled'): HypercoreError { return new HypercoreError('REQUEST_CANCELLED', msg) }
  static REQUEST_TIMEOUT (msg = 'Request timed out'): HypercoreError { return new HypercoreError('REQUEST_TIMEOUT', msg) }
  static SESSION_NOT_WRITABLE (msg = 'Session is not writable'): HypercoreError { return new HypercoreError('SESSION_NOT_WRITABLE', msg) }
  static SESSION_CLOSED (msg = 'Session is closed'): HypercoreError { return new HypercoreError('SESSION_CLOSED', msg) }
  static OPLOG_CORRUPT (msg = 'Oplog file appears corrupt or out of date'): HypercoreError { return new HypercoreError('OPLOG_CORRUPT', msg) }
  static OPLOG_HEADER_OVERFLOW (msg = 'Oplog header exceeds page size'): HypercoreError { return new HypercoreError('OPLOG_HEADER_OVERFLOW', msg) }
  static INVALID_OPLOG_VERSION (msg = 'Invalid header version'): HypercoreError { return new HypercoreError('INVALID_OPLOG_VERSION', msg) }
  static WRITE_FAILED (msg = 'Write to storage failed', cause?: unknown): HypercoreError { return new HypercoreError('WRITE_FAILED', msg, { cause }) }
  static DECODING_ERROR (msg = 'Decoding error', cause?: unknown): HypercoreError { return new HypercoreError('DECODING_ERROR', msg, { cause }) }
  static CRYPTO_NOT_READY (msg = 'Sodium is not loaded yet: await cryptoReady() (or core.ready()) first'): HypercoreError { return new HypercoreError('CRYPTO_NOT_READY', msg) }
  static STORAGE_CLOSED (msg = 'Storage is closed'): HypercoreError { return new HypercoreError('STORAGE_CLOSED', msg) }
  static STORAGE_OUT_OF_BOUNDS (msg = 'Could not satisfy length'): HypercoreError { return new HypercoreError('STORAGE_OUT_OF_BOUNDS', msg) }
  static STORAGE_NOT_SUPPORTED (msg: string): HypercoreError { return new HypercoreError('STORAGE_NOT_SUPPORTED', msg) }
  static STORAGE_QUOTA (msg = 'Storage quota exceeded', cause?: unknown): HypercoreError { return new HypercoreError('STORAGE_QUOTA', msg, { cause }) }
  static STORAGE_ABORTED (msg = 'Storage transaction aborted', cause?: unknown): HypercoreError { return new HypercoreError('STORAGE_ABORTED', msg, { cause }) }
  static STORAGE_LOST (msg = 'Connection to storage lost', cause?: unknown): HypercoreError { return new HypercoreError('STORAGE_LOST', msg, { cause }) }
  static STORAGE_IO (msg: string, cause?: unknown): HypercoreError { return new HypercoreError('STORAGE_IO', msg, { cause }) }
  static STORAGE_LOCKED (msg = 'Storage is locked by another core (another tab, worker or process has it open)', cause?: unknown): HypercoreError { return new HypercoreError('STORAGE_LOCKED', msg, { cause }) }
  static STORAGE_READ_ONLY (msg = 'Storage was opened read-only'): HypercoreError { return new HypercoreError('STORAGE_READ_ONLY', msg) }
  static INVALID_HANDSHAKE (msg: string, cause?: unknown): HypercoreError { return new HypercoreError('INVALID_HANDSHAKE', msg, { cause }) }
  static DECRYPTION_FAILED (msg = 'Message failed authentication', cause?: unknown): HypercoreError { return new HypercoreError('DECRYPTION_FAILED', msg, { cause }) }
  static FRAME_TOO_LARGE (msg: string): HypercoreError { return new HypercoreError('FRAME_TOO_LARGE', msg) }
  static CONNECTION_CLOSED (msg = 'Connection closed', cause?: unknown): HypercoreError { return new HypercoreError('CONNECTION_CLOSED', msg, { cause }) }
  static WEBRTC_FAILED (msg = 'WebRTC connection failed', cause?: unknown): HypercoreError { return new HypercoreError('WEBRTC_FAILED', msg, { cause }) }
  static PROTOCOL_ERROR (msg: string, cause?: unknown): HypercoreError { return new HypercoreError('PROTOCOL_ERROR', msg, { cause }) }
  static CONFLICT (msg: string): HypercoreError { return new HypercoreError('CONFLICT', msg) }
  static SIGNALING_FAILED (msg: string, cause?: unknown): HypercoreError { return new HypercoreError('SIGNALING_FAILED', msg, { cause }) }
  static SIGNAL_REPLAYED (msg: string): HypercoreError { return new HypercoreError('SIGNAL_REPLAYED', msg) }
}
