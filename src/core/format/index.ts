/**
 * @module core/format
 * Hypercore 10's on-disk layout (spec §6): the oplog and its codecs, the tree, bitfield and
 * data files. The `Hypercore` core builds its state on these; nothing here knows about sessions
 * or replication.
 */
export { crc32 } from './crc32.js'
export {
  oplogHeaderEncoding, oplogEntryEncoding, encodeOplogHeader, decodeOplogHeader, encodeOplogEntry, decodeOplogEntry,
  OPLOG_HEADER_VERSION,
  type Codec, type OplogHeader, type OplogEntry, type StoredHeader, type ExternalHeader, type ExternalHeaderPointer,
  type KeyPairRecord, type UserDataRecord, type TreeHeader, type ReorgHint, type HeaderHints, type TreeUpgrade, type BitfieldUpdate
} from './oplog-encoding.js'
export {
  Oplog, encodeFrame, decodeFrame, HEADER_SLOT_SIZE, ENTRIES_OFFSET, FRAME_OVERHEAD,
  type OplogOptions, type OplogOpenResult, type DecodedFrame
} from './oplog.js'
export { BitfieldFile, BITFIELD_PAGE_BYTES, BITS_PER_PAGE, type BitfieldFileOptions } from './bitfield-file.js'
export { TreeFile, NODE_BYTES, encodeNode, decodeNode, type TreeFileOptions } from './tree-file.js'
export { DataFile } from './data-file.js'
