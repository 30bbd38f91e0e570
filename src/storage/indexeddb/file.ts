/**
 * @module storage/indexeddb/file
 * One named file inside an `IdbStorage` database, as a random-access storage. All the work is
 * done by the database (pages, batching, faults, the lock, holding the connection while files
 * are open); this only maps the callback API onto it.
 *
 * Beyond random-access-storage: `durabilityGroup` is the database (its writes become durable
 * in issue order across files, see database.ts), and a 'lost' event fires with STORAGE_LOST
 * when the database is wiped, replaced or deleted under the open file.
 */
import type { HypercoreError } from '../../errors.js'
import { HypercoreError as Errors } from '../../errors.js'
import { RandomAccess } from '../random-access.js'
import type { DurabilityGroup, StorageStat } from '../types.js'
import type { IdbStorage } from './database.js'

export class IdbFile extends RandomAccess {
  readonly db: IdbStorage
  readonly name: string

  constructor (db: IdbStorage, name: string) {
    super()
    this.db = db
    this.name = name
  }

  /** Files of one read-write database share it: their writes become durable in the order issued. */
  override get durabilityGroup (): DurabilityGroup | null {
    return this.db.readOnly ? null : this.db
  }

  protected override async _open (): Promise<void> {
    if (this.db.closed) throw Errors.STORAGE_CLOSED('IndexedDB storage is closed')
    this.db._retain(this)
    try {
      await this.db._load(this.name)
    } catch (err) {
      await this.db._release(this).catch(() => {})
      throw err
    }
  }

  /** The database releases its connection and lock when its last open file closes. */
  protected override _close (): Promise<void> { return this.db._release(this) }

  protected override _read (offset: number, size: number): Promise<Uint8Array> { return this.db._read(this.name, offset, size) }
  protected override _write (offset: number, data: Uint8Array): Promise<void> { return this.db._write(this.name, offset, data) }
  protected override _del (offset: number, size: number): Promise<void> { return this.db._del(this.name, offset, size) }
  protected override _truncate (offset: number): Promise<void> { return this.db._truncate(this.name, offset) }
  protected override async _stat (): Promise<StorageStat> { return { size: await this.db._size(this.name) } }
  protected override _unlink (): Promise<void> { return this.db._unlink(this.name) }

  /** @internal The database is gone (database.ts): tell whoever listens. */
  _storageLost (err: HypercoreError): void {
    this._emit('lost', err)
  }
}
