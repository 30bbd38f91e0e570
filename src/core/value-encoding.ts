/**
 * @module core/value-encoding
 * Block value encodings (Hypercore 10: `valueEncoding` is 'json', 'utf-8', 'binary', or any
 * compact-encoding or abstract-encoding codec). Encodings apply per block, even in batches;
 * `encodeBatch` replaces them for a whole append.
 */
import c from 'compact-encoding'
import { HypercoreError } from '../errors.js'

/** What the core works with internally: bytes in, value out. */
export interface ValueCodec {
  encode (value: unknown): Uint8Array
  decode (bytes: Uint8Array): unknown
}

/** A compact-encoding codec (has `preencode`). */
// Method syntax on purpose: parameters are then checked bivariantly, so codecs typed for a
// narrower value (compact-encoding's `Encoder<number>`) are accepted.
interface CompactCodec {
  preencode (state: unknown, value: unknown): void
  encode (state: unknown, value: unknown): void
  decode (state: unknown): unknown
}

/** An abstract-encoding codec: `encode(value) → bytes`, `decode(bytes) → value`. */
interface AbstractCodec {
  encode (value: unknown): Uint8Array
  decode (bytes: Uint8Array): unknown
}

export type ValueEncoding = 'binary' | 'utf-8' | 'utf8' | 'json' | CompactCodec | AbstractCodec

const textEncoder = new TextEncoder()
const textDecoder = new TextDecoder()

function toBytes (value: unknown): Uint8Array {
  if (value instanceof Uint8Array) return value
  if (typeof value === 'string') return textEncoder.encode(value)
  throw HypercoreError.BAD_ARGUMENT('a binary block must be a Uint8Array or a string')
}

export const binary: ValueCodec = { encode: toBytes, decode: (b) => b }

const utf8: ValueCodec = {
  encode: (v) => {
    if (typeof v !== 'string') throw HypercoreError.BAD_ARGUMENT('a utf-8 block must be a string')
    return textEncoder.encode(v)
  },
  decode: (b) => textDecoder.decode(b)
}

const json: ValueCodec = {
  encode: (v) => {
    let s: string | undefined
    try {
      s = JSON.stringify(v)
    } catch (err) { // a cycle, a BigInt, a throwing toJSON
      throw new HypercoreError('BAD_ARGUMENT', `value is not JSON-serialisable: ${(err as Error).message}`, { cause: err })
    }
    if (s === undefined) throw HypercoreError.BAD_ARGUMENT('value is not JSON-serialisable')
    return textEncoder.encode(s)
  },
  decode: (b) => {
    try {
      return JSON.parse(textDecoder.decode(b))
    } catch (err) {
      throw HypercoreError.DECODING_ERROR('block is not valid JSON', err)
    }
  }
}

/** Resolves a `valueEncoding` option to a codec; null/undefined means binary. */
export function resolveEncoding (enc: unknown): ValueCodec {
  if (enc == null || enc === 'binary') return binary
  if (enc === 'utf-8' || enc === 'utf8') return utf8
  if (enc === 'json') return json
  if (typeof enc === 'object' && typeof (enc as CompactCodec).preencode === 'function') {
    const codec = enc as CompactCodec
    return {
      encode: (v) => c.encode(codec as never, v) as Uint8Array,
      decode: (b) => {
        try {
          return c.decode(codec as never, b)
        } catch (err) {
          throw HypercoreError.DECODING_ERROR('block does not decode with the value encoding', err)
        }
      }
    }
  }
  if (typeof enc === 'object' && typeof (enc as AbstractCodec).encode === 'function' && typeof (enc as AbstractCodec).decode === 'function') {
    const codec = enc as AbstractCodec
    return {
      encode: (v) => toBytes(codec.encode(v)),
      // As hypercore@10: whatever the codec throws on a block it cannot read is DECODING_ERROR
      // (Hyperbee's node codec on a block that is not a Hyperbee node, e.g. a drive key that
      // names a plain core).
      decode: (b) => {
        try {
          return codec.decode(b)
        } catch (err) {
          throw HypercoreError.DECODING_ERROR('block does not decode with the value encoding', err)
        }
      }
    }
  }
  throw HypercoreError.BAD_ARGUMENT(`unknown valueEncoding ${typeof enc === 'string' ? JSON.stringify(enc) : typeof enc}`)
}

/**
 * The bytes of an append: `encodeBatch` (if given) encodes the whole batch, else the
 * value encoding encodes each block (Hypercore 10: a custom valueEncoding is not applied before
 * encodeBatch).
 */
export function encodeAppend (values: unknown[], codec: ValueCodec, encodeBatch: ((batch: unknown[]) => unknown[]) | null): Uint8Array[] {
  if (encodeBatch !== null) {
    const out = encodeBatch(values)
    if (!Array.isArray(out)) throw HypercoreError.BAD_ARGUMENT('encodeBatch must return an array of blocks')
    return out.map(toBytes)
  }
  // Bytes are stored as they are, whatever the encoding (hypercore@10 does the same).
  return values.map(v => v instanceof Uint8Array ? v : encodeOne(codec, v))
}

/** A user codec's own failure (a RangeError from compact-encoding, say) as a typed error. */
function encodeOne (codec: ValueCodec, value: unknown): Uint8Array {
  try {
    return codec.encode(value)
  } catch (err) {
    if (err instanceof HypercoreError) throw err
    throw new HypercoreError('BAD_ARGUMENT', `the value encoding could not encode the block: ${(err as Error)?.message ?? String(err)}`, { cause: err })
  }
}
