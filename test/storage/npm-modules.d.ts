/**
 * @module test/storage/npm-modules
 * Minimal types for npm's reference implementations, used only as black boxes in tests.
 */
declare module 'random-access-memory' {
  import type { RandomAccessStorage } from '../../src/storage/types.js'
  interface RAMClass {
    new (arg?: unknown): RandomAccessStorage
    reusable (): (name: string) => RandomAccessStorage
  }
  const RAM: RAMClass
  export default RAM
}

declare module 'random-access-file' {
  import type { RandomAccessStorage } from '../../src/storage/types.js'
  const RAF: new (filename: string, opts?: Record<string, unknown>) => RandomAccessStorage
  export default RAF
}

declare module 'hypercore' {
  const Hypercore: new (storage: unknown, key?: unknown, opts?: Record<string, unknown>) => {
    ready (): Promise<void>
    append (block: Uint8Array | Uint8Array[]): Promise<{ length: number, byteLength: number }>
    get (index: number, opts?: Record<string, unknown>): Promise<Uint8Array | null>
    truncate (length: number): Promise<void>
    clear (start: number, end?: number): Promise<void>
    close (): Promise<void>
    length: number
    byteLength: number
    key: Uint8Array
  }
  export default Hypercore
}
