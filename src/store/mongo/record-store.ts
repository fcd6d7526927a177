import type { ClientSession, Collection, MongoClient } from 'mongodb';
import { NgsiError } from '../../common/errors.js';
import { deepFreeze } from '../deep-freeze.js';
import type { RecordChange, Records } from '../records.js';
import type { MongoChangeLog } from './change-log.js';
import { backoffMs, inTransaction, isDuplicateKey, keyProblem, MAX_ATTEMPTS, reserveSeq, storeError, WriteConflict, type CounterDoc } from './transaction.js';

/**
 * A record as stored: the key fields, `seq` (creation order, kept by updates), `v` (version for compare-and-swap)
 * and the record itself as JSON text (its member names are IRIs and @context terms, which may hold dots or `$`).
 */
export interface RecordDoc {
  t: string;
  id: string;
  seq: number;
  v: number;
  doc: string;
}

/** A change log kept with the records: every logged write and its record commit in one transaction. */
export interface RecordLog<T> {
  client: MongoClient;
  log: MongoChangeLog<T>;
}

/**
 * Tenant-scoped records with a creation order and atomic read-modify-write, the common core of the subscription and
 * registration stores. Each record is one document, so a compare-and-swap on its version makes `mutate` atomic
 * without a transaction; `decide` runs again when another writer (maybe another broker instance) got there first.
 * With a change log (registrations), the write and its log record are one transaction instead.
 */
export class MongoRecordStore<T extends { tenant: string; id: string }> implements Records<T> {
  constructor(
    private readonly records: Collection<RecordDoc>,
    private readonly counters: Collection<CounterDoc>,
    /** Names the counter, and the record in messages ("subscription"). */
    private readonly what: string,
    private readonly recordLog?: RecordLog<T>,
  ) {}

  async get(tenant: string, id: string): Promise<T | undefined> {
    if (keyProblem(tenant, id)) return undefined;
    const row = await this.records.findOne({ t: tenant, id });
    return row ? decode<T>(row) : undefined;
  }

  async mutate<R>(tenant: string, id: string, decide: (current: T | undefined) => { change: RecordChange<T>; result: R }): Promise<R> {
    const problem = keyProblem(tenant, id, `${this.what} id`);
    if (problem) throw new NgsiError('BadRequestData', problem);
    if (this.recordLog) return this.mutateLogged(this.recordLog, tenant, id, decide);
    for (let attempt = 1; ; attempt++) {
      const row = await this.records.findOne({ t: tenant, id });
      const { change, result } = decide(row ? decode<T>(row) : undefined);
      try {
        if (await this.apply(tenant, id, row, change)) return result;
      } catch (error) {
        if (!isDuplicateKey(error)) throw storeError(error);
      }
      if (attempt >= MAX_ATTEMPTS) throw new NgsiError('Conflict', `${capitalized(this.what)} ${id} changed concurrently too often, please retry`);
      await new Promise((resolve) => setTimeout(resolve, backoffMs(attempt)));
    }
  }

  /** Read-decide-write and its change-log record in one transaction (retried as a whole on conflict). */
  private async mutateLogged<R>(changeLog: RecordLog<T>, tenant: string, id: string, decide: (current: T | undefined) => { change: RecordChange<T>; result: R }): Promise<R> {
    let logged = false;
    const result = await inTransaction(changeLog.client, async (session) => {
      logged = false;
      const row = await this.records.findOne({ t: tenant, id }, { session });
      const current = row ? decode<T>(row) : undefined;
      const { change, result } = decide(current);
      if (!(await this.apply(tenant, id, row, change, session))) throw new WriteConflict(`${this.what} ${id}`);
      if ((change.kind === 'put' && !change.unlogged) || (change.kind === 'delete' && row)) {
        await changeLog.log.record(session, tenant, id, current, change.kind === 'put' ? change.value : undefined, new Date().toISOString());
        logged = true;
      }
      return result;
    });
    if (logged) changeLog.log.notify();
    return result;
  }

  get changeLog(): MongoChangeLog<T> | undefined {
    return this.recordLog?.log;
  }

  async close(): Promise<void> {
    await this.recordLog?.log.close();
  }

  async list(tenant: string, page?: { limit: number; offset: number }): Promise<T[]> {
    if (page && page.limit <= 0) return [];
    let cursor = this.records.find({ t: tenant }).sort({ seq: 1 });
    if (page) cursor = cursor.skip(page.offset).limit(page.limit);
    return (await cursor.toArray()).map((row) => decode<T>(row));
  }

  async count(tenant: string): Promise<number> {
    return this.records.countDocuments({ t: tenant });
  }

  async all(): Promise<T[]> {
    return (await this.records.find({}).sort({ t: 1, seq: 1 }).toArray()).map((row) => decode<T>(row));
  }

  /** Writes the change if the record is still as read; false when it is not (the caller decides again). */
  private async apply(tenant: string, id: string, row: RecordDoc | null, change: RecordChange<T>, session?: ClientSession): Promise<boolean> {
    switch (change.kind) {
      case 'none':
        return true;
      case 'delete':
        if (!row) return true;
        return (await this.records.deleteOne({ t: tenant, id, v: row.v }, { session })).deletedCount === 1;
      case 'put': {
        const value = change.value;
        if (value.id !== id || value.tenant !== tenant) throw new Error(`mutate(${tenant}, ${id}) decided to put ${this.what} ${value.tenant}/${value.id}`);
        const doc = JSON.stringify(value);
        if (row) return (await this.records.updateOne({ t: tenant, id, v: row.v }, { $set: { doc, v: row.v + 1 } }, { session })).matchedCount === 1;
        // A concurrent create of the same id fails on the unique index: decided again, it sees that record.
        const seq = await reserveSeq(this.counters, this.what, 1, session);
        await this.records.insertOne({ t: tenant, id, seq, v: 1, doc }, { session });
        return true;
      }
    }
  }
}

function decode<T>(row: RecordDoc): T {
  return deepFreeze(JSON.parse(row.doc) as T);
}

function capitalized(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
