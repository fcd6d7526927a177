import type { ChangeStream, ClientSession, Collection } from 'mongodb';
import type { ChangeLog, LoggedChange } from '../change-log.js';
import { reserveSeq, type CounterDoc } from './transaction.js';

/**
 * A change-log record as stored. `_id` is the seq. Before/after are kept as JSON text: attribute names are IRIs
 * (dots, `$` in compound keys), and JSON round-trips exactly what the embedded log keeps.
 */
export interface ChangeDoc {
  _id: number;
  t: string;
  id: string;
  b?: string;
  a?: string;
  at: string;
}

export function encodeChange<T>(seq: number, tenant: string, id: string, before: T | undefined, after: T | undefined, at: string): ChangeDoc {
  const doc: ChangeDoc = { _id: seq, t: tenant, id, at };
  if (before) doc.b = JSON.stringify(before);
  if (after) doc.a = JSON.stringify(after);
  return doc;
}

export function decodeChange<T>(doc: ChangeDoc): LoggedChange<T> {
  const change: LoggedChange<T> = { seq: doc._id, tenant: doc.t, id: doc.id, at: doc.at };
  if (doc.b !== undefined) change.before = JSON.parse(doc.b) as T;
  if (doc.a !== undefined) change.after = JSON.parse(doc.a) as T;
  return change;
}

/** How long the change stream waits before reopening after an error (a failover, a restarted mongos). */
const REOPEN_MS = 1000;
/** How long after a 'close' event a stream that is still closed counts as ended (see watch). */
const CLOSE_CHECK_MS = 1000;
/** Safety net while no change stream is open: listeners are called this often. */
const POLL_MS = 1000;

/**
 * A change log of the MongoDB backend: of entities (for subscriptions) or of registrations (for CSource
 * subscriptions), each in a collection and with a counter of its own.
 *
 * Sequencing: the seq of a record is taken from the `changes` counter inside the transaction that writes the entity
 * and the record, as that transaction's last write. The counter document stays write-locked until commit, so a
 * concurrent logged write can only take the next seq after this one committed: seqs commit in increasing order, and
 * a reader that sees seq n also sees every smaller seq. A reader can therefore follow the log by "seq > last seen"
 * without ever skipping a record that commits late, with no grace period and no resume token to persist. The price
 * is that logged writes serialize on one document (MongoDB retries the conflicts as transient transaction errors),
 * which bounds their throughput; not measured yet, as no mongod runs where this was written.
 *
 * Wake-ups: listeners are called after local commits and, for changes written by other broker instances, from a
 * change stream on the collection (with a poll as fallback while the stream is down).
 */
export class MongoChangeLog<T> implements ChangeLog<T> {
  private logging = false;
  private readonly listeners = new Set<() => void>();
  private stream: ChangeStream | undefined;
  private reopenTimer: NodeJS.Timeout | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly changes: Collection<ChangeDoc>,
    private readonly counters: Collection<CounterDoc>,
    /** The counter document the seqs come from. */
    private readonly counter = 'changes',
  ) {}

  get enabled(): boolean {
    return this.logging;
  }

  setLogging(on: boolean): void {
    this.logging = on;
  }

  /** Inside the change's own transaction, as its last write (see the class doc). */
  async record(session: ClientSession, tenant: string, id: string, before: T | undefined, after: T | undefined, at: string): Promise<void> {
    const seq = await reserveSeq(this.counters, this.counter, 1, session);
    await this.changes.insertOne(encodeChange(seq, tenant, id, before, after, at), { session });
  }

  async read(afterSeq: number, limit: number): Promise<LoggedChange<T>[]> {
    if (limit <= 0) return [];
    const docs = await this.changes.find({ _id: { $gt: afterSeq } }).sort({ _id: 1 }).limit(limit).toArray();
    return docs.map((doc) => decodeChange<T>(doc));
  }

  async ack(upToSeq: number): Promise<void> {
    await this.changes.deleteMany({ _id: { $lte: upToSeq } });
  }

  /** After a local commit that logged a change. */
  notify(): void {
    for (const listener of this.listeners) listener();
  }

  onChanges(listener: () => void): () => void {
    this.listeners.add(listener);
    if (this.listeners.size === 1) this.watch();
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0) this.unwatch();
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    this.unwatch();
  }

  private watch(): void {
    if (this.closed || this.stream || this.listeners.size === 0) return;
    // Only a wake-up is needed: the event leaves the record out, which may be as large as two entities (an event
    // over 16 MB would break the stream). `_id`, the resume token, must stay.
    const stream = this.changes.watch([{ $match: { operationType: 'insert' } }, { $project: { operationType: 1 } }]);
    this.stream = stream;
    this.stopPolling();
    stream.on('change', () => this.notify());
    const lost = () => {
      // Closed by unwatch: nothing to do.
      if (this.stream !== stream) return;
      // Down until reopened: poll meanwhile so that no change waits for the next local write.
      this.stream = undefined;
      void stream.close().catch(() => undefined);
      this.notify();
      this.startPolling();
      clearTimeout(this.reopenTimer);
      this.reopenTimer = setTimeout(() => this.watch(), REOPEN_MS);
      this.reopenTimer.unref();
    };
    stream.on('error', lost);
    // The server also ends a stream without an error (invalidate: the collection dropped or renamed). The driver emits
    // 'close' as well when it replaces its cursor to resume after a network error or a failover: only a stream still
    // closed a moment later has ended for good.
    stream.on('close', () => {
      const check = setTimeout(() => {
        if (stream.closed) lost();
      }, CLOSE_CHECK_MS);
      check.unref();
    });
  }

  private unwatch(): void {
    clearTimeout(this.reopenTimer);
    this.stopPolling();
    const stream = this.stream;
    this.stream = undefined;
    void stream?.close().catch(() => undefined);
  }

  private startPolling(): void {
    if (this.pollTimer || this.closed) return;
    this.pollTimer = setInterval(() => this.notify(), POLL_MS);
    this.pollTimer.unref();
  }

  private stopPolling(): void {
    clearInterval(this.pollTimer);
    this.pollTimer = undefined;
  }
}
