/**
 * @module core/extensions
 * `core.registerExtension(name, { encoding, onmessage })`: application messages on a core's
 * replication channel (wire message 9, `extension { name, message }`), as hypercore@10 has
 * them. Hyperbee's "ask a peer for the blocks a lookup needs" runs on one.
 *
 * Each session keeps its own extensions by name; a peer knows the extensions of every session
 * of its core (set when it is added, and on registration for peers already there). There is
 * no negotiation: a message for a name nobody registered is dropped. A handler that throws, or
 * a message the encoding cannot decode, is that peer's problem: the message is dropped and the
 * session emits `extension-error`, nothing else stops.
 */
import c from 'compact-encoding'
import { HypercoreError } from '../errors.js'

/** A compact-encoding codec, an abstract-encoding codec, or 'json' / 'utf-8' / 'binary'. */
type Encoding = unknown

export interface ExtensionHandlers {
  /** A compact-encoding codec, or 'json' / 'utf-8' / 'binary' (default: the bytes as they are). */
  encoding?: Encoding
  onmessage?: (message: any, peer: ExtensionPeer) => void
  [other: string]: unknown
}

/** What a peer delivers an extension message to. */
export interface ExtensionEndpoint {
  _onmessage: (message: Uint8Array, peer: any) => void
}

/** What an extension needs of a peer: send bytes under a name, and its table of extensions. */
export interface ExtensionPeer {
  readonly extensions: Map<string, ExtensionEndpoint>
  extension: (name: string, message: Uint8Array) => void
}

/** What an extension needs of its session. */
export interface ExtensionSession {
  readonly extensions: Map<string, Extension>
  readonly peers: ExtensionPeer[]
  emit: (name: string, ...args: unknown[]) => boolean
}

export class Extension {
  readonly name: string
  handlers: ExtensionHandlers
  encoding: ReturnType<typeof c.from>
  session: ExtensionSession

  constructor (session: ExtensionSession, name: string, handlers: ExtensionHandlers) {
    this.name = name
    this.session = session
    this.handlers = handlers
    this.encoding = codecOf(handlers)
  }

  /** Sends `message` to one peer. */
  send (message: unknown, peer: ExtensionPeer): void {
    peer.extension(this.name, this._encode(message))
  }

  /** Sends `message` to every peer of the session's core. */
  broadcast (message: unknown): void {
    const bytes = this._encode(message)
    for (const peer of this.session.peers) peer.extension(this.name, bytes)
  }

  /** Unregisters: later messages under this name are dropped. */
  destroy (): void {
    for (const peer of this.session.peers) {
      if (peer.extensions.get(this.name) === this) peer.extensions.delete(this.name)
    }
    if (this.session.extensions.get(this.name) === this) this.session.extensions.delete(this.name)
  }

  /** A message from `peer` (called by the replicator). */
  _onmessage (bytes: Uint8Array, peer: ExtensionPeer): void {
    const onmessage = this.handlers.onmessage
    if (typeof onmessage !== 'function') return
    let message: unknown
    try {
      message = c.decode(this.encoding, bytes)
    } catch (err) {
      this.session.emit('extension-error', new HypercoreError('DECODING_ERROR', `extension ${JSON.stringify(this.name)}: a message the encoding cannot decode`, { cause: err }), peer)
      return
    }
    try {
      onmessage.call(this.handlers, message, peer)
    } catch (err) {
      this.session.emit('extension-error', err, peer)
    }
  }

  private _encode (message: unknown): Uint8Array {
    try {
      return c.encode(this.encoding, message)
    } catch (err) {
      throw new HypercoreError('BAD_ARGUMENT', `extension ${JSON.stringify(this.name)}: the encoding cannot encode the message: ${(err as Error)?.message ?? String(err)}`, { cause: err })
    }
  }
}

/**
 * Registers (or, for a name the session already has, re-targets) an extension, as
 * hypercore@10 does: the same object comes back with the new handlers.
 */
export function registerExtension (session: ExtensionSession, name: string, handlers: ExtensionHandlers = {}): Extension {
  if (typeof name !== 'string' || name.length === 0) throw HypercoreError.BAD_ARGUMENT('an extension needs a non-empty name')
  if (handlers === null || typeof handlers !== 'object') throw HypercoreError.BAD_ARGUMENT('extension handlers must be an object')
  const existing = session.extensions.get(name)
  if (existing !== undefined) {
    existing.handlers = handlers
    existing.encoding = codecOf(handlers)
    existing.session = session
    return existing
  }
  const ext = new Extension(session, name, handlers)
  session.extensions.set(name, ext)
  for (const peer of session.peers) peer.extensions.set(name, ext)
  return ext
}


/** A closing session's extensions go with it (hypercore@10). */
export function destroyExtensionsOf (session: ExtensionSession): void {
  for (const ext of [...session.extensions.values()]) if (ext.session === session) ext.destroy()
}

function codecOf (handlers: ExtensionHandlers): ReturnType<typeof c.from> {
  try {
    return c.from((handlers.encoding ?? c.buffer) as Parameters<typeof c.from>[0])
  } catch (err) {
    throw new HypercoreError('BAD_ARGUMENT', 'extension encoding must be a compact-encoding codec or json, utf-8, binary', { cause: err })
  }
}
