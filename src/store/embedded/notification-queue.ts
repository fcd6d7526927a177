import type { Database, RootDatabase } from 'lmdb';
import { streamKeyOf, streamOf } from '../../notifications/keys.js';
import type { DeadLetter, NotificationQueue, OutboundNotification, StreamRef } from '../../notifications/types.js';

/** An outbox item as stored: its seq is the key. */
type Stored = Omit<OutboundNotification, 'seq'>;

/** Keys of the index database: id -> seq, and one key per item of a stream, in seq order. */
type IndexKey = ['i', string] | ['s', string, number];

/**
 * Opens the notification queue in the lmdb environment of the embedded store (EmbeddedEntityStore.environment).
 * The environment stays owned by the store: the queue has nothing to close.
 */
export async function openEmbeddedQueue(env: RootDatabase): Promise<EmbeddedNotificationQueue> {
  // JSON for the same reason as the entity store: bodies and headers must round-trip exactly.
  const outbox = env.openDB<Stored, number>({ name: 'outbox', encoding: 'json' });
  const index = env.openDB<number, IndexKey>({ name: 'outbox-index', encoding: 'json' });
  const dead = env.openDB<DeadLetter, [string, string]>({ name: 'deadletters', encoding: 'json' });
  return new EmbeddedNotificationQueue(env, outbox, index, dead);
}

/**
 * The durable queue of the embedded backend, in three lmdb databases:
 *
 * - `outbox`: seq -> item. The seq is assigned inside the write transaction, and lmdb runs transaction callbacks
 *   in order and commits them in order, so a reader that sees seq n committed also sees every smaller seq: the
 *   delivery engine can follow the outbox by remembering the last seq it read.
 * - `outbox-index`: ['i', id] -> seq (complete/reschedule by id), and ['s', streamKey, seq] (a stream's items in
 *   order without scanning other streams: 100k items waiting for a dead endpoint cost nothing to the others).
 * - `deadletters`: [tenant, id] -> DeadLetter.
 *
 * Every write is an asynchronous lmdb transaction: it resolves once committed and fsync'd (the environment runs
 * with overlappingSync off), and all callbacks queued while a commit is in progress share the next one, so
 * thousands of `complete` calls per second cost a handful of fsyncs, and the caller need not wait for them.
 */
export class EmbeddedNotificationQueue implements NotificationQueue {
  private seq: number;

  /** Use openEmbeddedQueue(). */
  constructor(
    private readonly env: RootDatabase,
    private readonly outbox: Database<Stored, number>,
    private readonly index: Database<number, IndexKey>,
    private readonly dead: Database<DeadLetter, [string, string]>,
  ) {
    this.seq = 0;
    for (const key of outbox.getKeys({ reverse: true, limit: 1 })) this.seq = key;
  }

  /** Resolves once every item is on disk. Sets `seq` on the given items. */
  async enqueue(items: OutboundNotification[]): Promise<void> {
    if (items.length === 0) return;
    await this.env.transaction(() => {
      for (const item of items) {
        // An id queued twice would leave an index entry pointing at the wrong seq; the newer copy replaces it.
        this.removeById(item.id);
        item.seq = this.append(item);
      }
    });
  }

  async pending(): Promise<OutboundNotification[]> {
    return this.read({});
  }

  async pendingAfter(afterSeq: number, limit: number): Promise<OutboundNotification[]> {
    return this.read({ start: afterSeq + 1, limit });
  }

  async pendingOfStream(stream: StreamRef, fromSeq: number, limit: number): Promise<OutboundNotification[]> {
    const key = streamKeyOf(stream);
    const out: OutboundNotification[] = [];
    for (const k of this.index.getKeys({ start: ['s', key, fromSeq], end: ['s', key, Infinity] })) {
      const seq = k[2] as number;
      const stored = this.outbox.get(seq);
      // Filtering on the stream itself makes a hash collision harmless.
      if (!stored || stored.tenant !== stream.tenant || stored.subscriptionId !== stream.subscriptionId || stored.endpoint.uri !== stream.uri) continue;
      out.push({ ...stored, seq });
      if (out.length >= limit) break;
    }
    return out;
  }

  async complete(id: string): Promise<void> {
    await this.env.transaction(() => this.removeById(id));
  }

  async reschedule(id: string, attempt: number, notBefore: number, lastError: string): Promise<void> {
    await this.env.transaction(() => {
      const seq = this.index.get(['i', id]);
      const stored = seq === undefined ? undefined : this.outbox.get(seq);
      if (seq === undefined || !stored) return;
      // Same seq: a retried item keeps its place in the order.
      this.outbox.put(seq, { ...stored, attempt, notBefore, lastError });
    });
  }

  async deadLetter(id: string, error: string, attempt?: number): Promise<void> {
    await this.env.transaction(() => {
      const stored = this.removeById(id);
      if (!stored) return;
      const letter: DeadLetter = { ...stored, attempt: attempt ?? stored.attempt, lastError: error, failedAt: new Date().toISOString() };
      this.dead.put([stored.tenant, stored.id], letter);
    });
  }

  async deadLetters(tenant: string, page: { limit: number; offset: number }): Promise<{ items: DeadLetter[]; count: number }> {
    const range = { start: [tenant, ''] as [string, string], end: [tenant, '\u{10FFFF}'] as [string, string] };
    const items: DeadLetter[] = [];
    if (page.limit > 0) for (const { value } of this.dead.getRange({ ...range, offset: page.offset, limit: page.limit })) items.push(value);
    return { items, count: this.dead.getKeysCount(range) };
  }

  async getDeadLetter(tenant: string, id: string): Promise<DeadLetter | undefined> {
    return this.dead.get([tenant, id]);
  }

  async replay(tenant: string, id: string): Promise<boolean> {
    return this.env.transaction(() => {
      const letter = this.dead.get([tenant, id]);
      if (!letter) return false;
      this.dead.remove([tenant, id]);
      const { failedAt: _failedAt, ...item } = letter;
      this.removeById(id);
      // At the end of the outbox, as a new item: a replay is a fresh start with all retries.
      this.append({ ...item, attempt: 0, notBefore: Date.now() });
      return true;
    });
  }

  async removeDeadLetter(tenant: string, id: string): Promise<boolean> {
    return this.env.transaction(() => {
      if (this.dead.get([tenant, id]) === undefined) return false;
      this.dead.remove([tenant, id]);
      return true;
    });
  }

  /** Inside a write transaction. */
  private append(item: OutboundNotification): number {
    const seq = ++this.seq;
    const { seq: _seq, ...stored } = item;
    this.outbox.put(seq, stored);
    this.index.put(['i', item.id], seq);
    this.index.put(['s', streamKeyOf(streamOf(item)), seq], seq);
    return seq;
  }

  /** Inside a write transaction: removes the item and its index entries, returning what was stored. */
  private removeById(id: string): Stored | undefined {
    const seq = this.index.get(['i', id]);
    if (seq === undefined) return undefined;
    const stored = this.outbox.get(seq);
    this.index.remove(['i', id]);
    this.outbox.remove(seq);
    if (stored) this.index.remove(['s', streamKeyOf(streamOf(stored)), seq]);
    return stored;
  }

  private read(range: { start?: number; limit?: number }): OutboundNotification[] {
    const out: OutboundNotification[] = [];
    for (const { key, value } of this.outbox.getRange(range)) out.push({ ...value, seq: key });
    return out;
  }
}
