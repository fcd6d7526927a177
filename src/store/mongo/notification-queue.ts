import type { Collection, MongoClient } from 'mongodb';
import type { DeadLetter, DurableQueue, OutboundNotification, StreamRef } from '../../notifications/types.js';
import { inTransaction, reserveSeq, type CounterDoc } from './transaction.js';

/**
 * An outbox item as stored. `_id` is the notification id; `seq` its place in the queue; `t`/`sub`/`uri` its stream.
 * The immutable part is JSON text (header names and bodies round-trip exactly), the delivery state is in fields of
 * its own so that `reschedule` is one update.
 */
export interface OutboxDoc {
  _id: string;
  seq: number;
  t: string;
  sub: string;
  uri: string;
  item: string;
  attempt: number;
  notBefore: number;
  lastError?: string;
}

/** A dead letter as stored: the item and the delivery state, by tenant and notification id. */
export interface DeadLetterDoc {
  t: string;
  id: string;
  item: string;
  attempt: number;
  notBefore: number;
  lastError?: string;
  failedAt: string;
}

type Fixed = Omit<OutboundNotification, 'seq' | 'attempt' | 'notBefore' | 'lastError'>;

export function encodeOutbox(item: OutboundNotification, seq: number): OutboxDoc {
  const { seq: _seq, attempt, notBefore, lastError, ...fixed } = item;
  const doc: OutboxDoc = { _id: item.id, seq, t: item.tenant, sub: item.subscriptionId, uri: item.endpoint.uri, item: JSON.stringify(fixed), attempt, notBefore };
  if (lastError !== undefined) doc.lastError = lastError;
  return doc;
}

export function decodeOutbox(doc: OutboxDoc): OutboundNotification {
  const item: OutboundNotification = { ...(JSON.parse(doc.item) as Fixed), attempt: doc.attempt, notBefore: doc.notBefore, seq: doc.seq };
  if (doc.lastError !== undefined) item.lastError = doc.lastError;
  return item;
}

export function decodeDeadLetter(doc: DeadLetterDoc): DeadLetter {
  const letter: DeadLetter = { ...(JSON.parse(doc.item) as Fixed), attempt: doc.attempt, notBefore: doc.notBefore, failedAt: doc.failedAt };
  if (doc.lastError !== undefined) letter.lastError = doc.lastError;
  return letter;
}

/**
 * The durable notification queue of the MongoDB backend: `outbox` (pending items) and `deadletters`.
 *
 * Seqs come from the `outbox` counter inside the transaction that inserts the items (see MongoChangeLog for why
 * that makes them commit in increasing order), so the delivery engine can follow the queue by "seq > cursor", as
 * with the embedded queue. Items of one enqueue get consecutive seqs.
 */
export class MongoNotificationQueue implements DurableQueue {
  constructor(
    private readonly client: MongoClient,
    private readonly outbox: Collection<OutboxDoc>,
    private readonly dead: Collection<DeadLetterDoc>,
    private readonly counters: Collection<CounterDoc>,
  ) {}

  async enqueue(items: OutboundNotification[]): Promise<void> {
    if (items.length === 0) return;
    const seqs = await inTransaction(this.client, async (session) => {
      // An id queued twice: the newer copy replaces the older, as in the embedded queue.
      await this.outbox.deleteMany({ _id: { $in: items.map((i) => i.id) } }, { session });
      const first = await reserveSeq(this.counters, 'outbox', items.length, session);
      await this.outbox.insertMany(
        items.map((item, i) => encodeOutbox(item, first + i)),
        { session },
      );
      return items.map((_, i) => first + i);
    });
    items.forEach((item, i) => (item.seq = seqs[i]));
  }

  async pending(): Promise<OutboundNotification[]> {
    return (await this.outbox.find({}).sort({ seq: 1 }).toArray()).map(decodeOutbox);
  }

  // MongoDB reads limit 0 as "no limit" (and a negative one as a single batch): no room means no items.
  async pendingAfter(afterSeq: number, limit: number): Promise<OutboundNotification[]> {
    if (limit <= 0) return [];
    return (await this.outbox.find({ seq: { $gt: afterSeq } }).sort({ seq: 1 }).limit(limit).toArray()).map(decodeOutbox);
  }

  async pendingOfStream(stream: StreamRef, fromSeq: number, limit: number): Promise<OutboundNotification[]> {
    if (limit <= 0) return [];
    const filter = { t: stream.tenant, sub: stream.subscriptionId, uri: stream.uri, seq: { $gte: fromSeq } };
    return (await this.outbox.find(filter).sort({ seq: 1 }).limit(limit).toArray()).map(decodeOutbox);
  }

  async complete(id: string): Promise<void> {
    await this.outbox.deleteOne({ _id: id });
  }

  async reschedule(id: string, attempt: number, notBefore: number, lastError: string): Promise<void> {
    // Same seq: a retried item keeps its place in the order.
    await this.outbox.updateOne({ _id: id }, { $set: { attempt, notBefore, lastError } });
  }

  async deadLetter(id: string, error: string, attempt?: number): Promise<void> {
    await inTransaction(this.client, async (session) => {
      const stored = await this.outbox.findOneAndDelete({ _id: id }, { session });
      if (!stored) return;
      const letter: DeadLetterDoc = {
        t: stored.t,
        id,
        item: stored.item,
        attempt: attempt ?? stored.attempt,
        notBefore: stored.notBefore,
        lastError: error,
        failedAt: new Date().toISOString(),
      };
      await this.dead.replaceOne({ t: stored.t, id }, letter, { upsert: true, session });
    });
  }

  async deadLetters(tenant: string, page: { limit: number; offset: number }): Promise<{ items: DeadLetter[]; count: number }> {
    const items = page.limit > 0 ? await this.dead.find({ t: tenant }).sort({ id: 1 }).skip(page.offset).limit(page.limit).toArray() : [];
    return { items: items.map(decodeDeadLetter), count: await this.dead.countDocuments({ t: tenant }) };
  }

  async getDeadLetter(tenant: string, id: string): Promise<DeadLetter | undefined> {
    const doc = await this.dead.findOne({ t: tenant, id });
    return doc ? decodeDeadLetter(doc) : undefined;
  }

  async replay(tenant: string, id: string): Promise<boolean> {
    return inTransaction(this.client, async (session) => {
      const letter = await this.dead.findOneAndDelete({ t: tenant, id }, { session });
      if (!letter) return false;
      await this.outbox.deleteOne({ _id: id }, { session });
      // At the end of the outbox, as a new item: a replay is a fresh start with all retries.
      const seq = await reserveSeq(this.counters, 'outbox', 1, session);
      const doc: OutboxDoc = { _id: id, seq, t: letter.t, ...streamFields(letter.item), item: letter.item, attempt: 0, notBefore: Date.now() };
      await this.outbox.insertOne(doc, { session });
      return true;
    });
  }

  async removeDeadLetter(tenant: string, id: string): Promise<boolean> {
    return (await this.dead.deleteOne({ t: tenant, id })).deletedCount === 1;
  }
}

function streamFields(item: string): { sub: string; uri: string } {
  const fixed = JSON.parse(item) as Fixed;
  return { sub: fixed.subscriptionId, uri: fixed.endpoint.uri };
}
