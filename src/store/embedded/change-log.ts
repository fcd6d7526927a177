import type { Database, RootDatabase } from 'lmdb';
import type { ChangeLog, LoggedChange } from '../change-log.js';

/** A change log entry as stored; its key is the seq. */
type ChangeRecord<T> = Omit<LoggedChange<T>, 'seq'>;

/**
 * A change log of the embedded backend (of entities for subscriptions, of registrations for CSource subscriptions):
 * an lmdb database keyed by seq in the environment of the records it logs. `append` runs inside the write transaction
 * of the change, so a crash keeps both or neither; lmdb runs those callbacks one at a time, so seqs commit in order.
 */
export class EmbeddedChangeLog<T> implements ChangeLog<T> {
  private lastSeq = 0;
  private readonly listeners = new Set<() => void>();

  constructor(
    private readonly changes: Database<ChangeRecord<T>, number>,
    /** Throws once the store owning the log is closed. */
    private readonly assertOpen: () => void,
  ) {
    for (const key of this.changes.getKeys({ reverse: true, limit: 1 })) this.lastSeq = key;
  }

  static open<T>(root: RootDatabase, name: string, assertOpen: () => void): EmbeddedChangeLog<T> {
    return new EmbeddedChangeLog<T>(root.openDB<ChangeRecord<T>, number>({ name, encoding: 'json' }), assertOpen);
  }

  /** Inside the write transaction of the change (see the class doc); does not throw. */
  append(tenant: string, id: string, before: T | undefined, after: T | undefined): void {
    const record: ChangeRecord<T> = { tenant, id, at: new Date().toISOString() };
    if (before) record.before = before;
    if (after) record.after = after;
    this.changes.put(++this.lastSeq, record);
  }

  async read(afterSeq: number, limit: number): Promise<LoggedChange<T>[]> {
    this.assertOpen();
    const out: LoggedChange<T>[] = [];
    for (const { key, value } of this.changes.getRange({ start: afterSeq + 1, limit })) out.push({ seq: key, ...value });
    return out;
  }

  async ack(upToSeq: number): Promise<void> {
    this.assertOpen();
    const keys = [...this.changes.getKeys({ end: upToSeq + 1 })];
    if (keys.length === 0) return;
    await this.changes.transaction(() => {
      for (const key of keys) this.changes.remove(key);
    });
  }

  /** After a commit that logged a change. */
  notify(): void {
    for (const listener of this.listeners) listener();
  }

  onChanges(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
