import type { Database } from 'lmdb';
import { NgsiError } from '../../common/errors.js';
import { deepFreeze } from '../deep-freeze.js';
import type { RecordChange, Records } from '../records.js';
import type { EmbeddedChangeLog } from './change-log.js';
import { keyProblem } from './embedded-store.js';

/** A stored row: `seq` orders records by creation, across restarts; the record is under the store's `field`. */
export type RecordRow = { seq: number } & Record<string, unknown>;

export interface EmbeddedRecordOptions<T> {
  /** Names the record in messages ("subscription"). */
  what: string;
  /** The row member holding the record (part of the on-disk format). */
  field: string;
  /** Written in the same transaction as each change (not an `unlogged` put). */
  changeLog?: EmbeddedChangeLog<T>;
}

/**
 * Records (subscriptions, registrations) in an lmdb database of the entity store's environment. They are few and read
 * whole, so all of them are kept decoded in memory (per tenant, in creation order) beside lmdb, which is the truth:
 * memory changes only after a durable commit and is rebuilt from lmdb on open.
 */
export class EmbeddedRecordStore<T extends { tenant: string; id: string }> implements Records<T> {
  private readonly tenants = new Map<string, Map<string, T>>();
  private seq = 0;
  private closed = false;

  constructor(
    private readonly db: Database<RecordRow, [string, string]>,
    private readonly options: EmbeddedRecordOptions<T>,
  ) {
    const rows = [...db.getRange()].map(({ value }) => value).sort((a, b) => a.seq - b.seq);
    for (const row of rows) {
      this.seq = Math.max(this.seq, row.seq);
      const record = row[options.field] as T;
      this.remember(record.tenant, record.id, deepFreeze(record));
    }
  }

  async get(tenant: string, id: string): Promise<T | undefined> {
    this.assertOpen();
    return this.tenants.get(tenant)?.get(id);
  }

  async mutate<R>(tenant: string, id: string, decide: (current: T | undefined) => { change: RecordChange<T>; result: R }): Promise<R> {
    this.assertOpen();
    const { what, field, changeLog } = this.options;
    const problem = keyProblem(tenant, id, `${what} id`);
    if (problem) throw new NgsiError('BadRequestData', problem);
    const key: [string, string] = [tenant, id];
    let outcome: { ok: true; result: R } | { ok: false; error: unknown } | undefined;
    let wrote = false;
    let logged = false;
    await this.db.transaction(() => {
      // Read inside the write transaction: it sees the writes of earlier callbacks of the same batch.
      const row = this.db.get(key);
      const current = row?.[field] as T | undefined;
      try {
        const mutation = decide(current);
        const { change } = mutation;
        // Everything that may throw happens before the write: a throw escaping the callback would not roll back.
        if (change.kind === 'put') {
          const v = change.value;
          if (v.id !== id || v.tenant !== tenant) throw new Error(`mutate(${tenant}, ${id}) decided to put ${what} ${v.tenant}/${v.id}`);
          this.db.put(key, { seq: row?.seq ?? ++this.seq, [field]: v });
          wrote = true;
        } else if (change.kind === 'delete' && row) {
          this.db.remove(key);
          wrote = true;
        }
        // In the same transaction as the write, so a crash keeps both or neither.
        if (changeLog && wrote && !(change.kind === 'put' && change.unlogged)) {
          changeLog.append(tenant, id, current, change.kind === 'put' ? change.value : undefined);
          logged = true;
        }
        outcome = { ok: true, result: mutation.result };
      } catch (error) {
        outcome = { ok: false, error };
      }
    });
    // Durable now. Re-reading the committed row (rather than keeping what was written) keeps memory right when
    // several mutations of this record shared the commit, whatever order their promises resume in.
    if (wrote) {
      const committed = this.db.get(key);
      if (committed) this.remember(tenant, id, deepFreeze(committed[field] as T));
      else this.forget(tenant, id);
    }
    if (logged) changeLog!.notify();
    if (!outcome) throw new Error('lmdb transaction callback did not run');
    if (!outcome.ok) throw outcome.error;
    return outcome.result;
  }

  async list(tenant: string, page?: { limit: number; offset: number }): Promise<T[]> {
    this.assertOpen();
    const records = [...(this.tenants.get(tenant)?.values() ?? [])];
    return page ? records.slice(page.offset, page.offset + page.limit) : records;
  }

  async count(tenant: string): Promise<number> {
    this.assertOpen();
    return this.tenants.get(tenant)?.size ?? 0;
  }

  async all(): Promise<T[]> {
    this.assertOpen();
    return [...this.tenants.values()].flatMap((records) => [...records.values()]);
  }

  get changeLog(): EmbeddedChangeLog<T> | undefined {
    return this.options.changeLog;
  }

  /** The environment belongs to the entity store, which closes it. */
  async close(): Promise<void> {
    this.closed = true;
  }

  /** Replacing a Map entry keeps its position, so an update keeps the creation order. */
  private remember(tenant: string, id: string, record: T): void {
    let records = this.tenants.get(tenant);
    if (!records) this.tenants.set(tenant, (records = new Map()));
    records.set(id, record);
  }

  private forget(tenant: string, id: string): void {
    const records = this.tenants.get(tenant);
    if (!records) return;
    records.delete(id);
    if (records.size === 0) this.tenants.delete(tenant);
  }

  assertOpen(): void {
    if (this.closed) throw new Error(`the ${this.options.what} store is closed`);
  }
}
