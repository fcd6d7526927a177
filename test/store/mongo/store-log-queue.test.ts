import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { OutboundNotification } from '../../../src/notifications/types.js';
import { decodeChange, encodeChange } from '../../../src/store/mongo/change-log.js';
import { decodeOutbox, encodeOutbox } from '../../../src/store/mongo/notification-queue.js';
import { del, entity, put } from '../helpers.js';
import { openTestBackend, type TestBackend } from './store-backend.js';

// Change log (EntityStore.readChanges/ackChanges/onChanges) and the DurableQueue of the MongoDB backend, against a
// real replica set when MUSUBI_MONGO_URL is set, otherwise the in-process stand-in (store-standin.ts).

let backend: TestBackend;
beforeEach(async () => {
  backend = await openTestBackend();
});
afterEach(async () => {
  await backend.close();
});

describe('change log (subscriptions, clause 5.8 notifications)', () => {
  it('records nothing while logging is off', async () => {
    const store = backend.stores.entities;
    await store.mutate('', 'urn:a', put(entity('urn:a', ['T'])));
    expect(await store.readChanges(0, 10)).toEqual([]);
  });

  it('records before/after of every committed change in commit order with increasing seqs, until acknowledged', async () => {
    const store = backend.stores.entities;
    store.setChangeLogging(true);
    let wakes = 0;
    const off = store.onChanges(() => wakes++);
    const a1 = entity('urn:a', ['T'], { n: 1 });
    const a2 = entity('urn:a', ['T'], { n: 2 });
    await store.mutate('', 'urn:a', put(a1));
    await store.mutate('t2', 'urn:a', put(a1));
    await store.mutate('', 'urn:a', put(a2));
    await store.mutate('', 'urn:a', del);
    // A no-op and a delete of nothing log nothing.
    await store.mutate('', 'urn:a', del);
    await store.mutate('', 'urn:b', () => ({ change: { kind: 'none' }, result: undefined }));
    const changes = await store.readChanges(0, 10);
    expect(changes.map((c) => [c.tenant, c.id, c.before?.attrs, c.after?.attrs])).toEqual([
      ['', 'urn:a', undefined, a1.attrs],
      ['t2', 'urn:a', undefined, a1.attrs],
      ['', 'urn:a', a1.attrs, a2.attrs],
      ['', 'urn:a', a2.attrs, undefined],
    ]);
    const seqs = changes.map((c) => c.seq);
    expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
    expect(new Set(seqs).size).toBe(4);
    expect(wakes).toBeGreaterThanOrEqual(4);
    expect((await store.readChanges(seqs[1]!, 10)).map((c) => c.seq)).toEqual(seqs.slice(2));
    await store.ackChanges(seqs[2]!);
    expect((await store.readChanges(0, 10)).map((c) => c.seq)).toEqual([seqs[3]]);
    off();
  });

  it('gives concurrent logged writes distinct, gap-free seqs', async () => {
    const store = backend.stores.entities;
    store.setChangeLogging(true);
    await Promise.all(Array.from({ length: 20 }, (_, i) => store.mutate('', `urn:c${i}`, put(entity(`urn:c${i}`, ['T'])))));
    const seqs = (await store.readChanges(0, 100)).map((c) => c.seq);
    expect(seqs).toHaveLength(20);
    expect(seqs[19]! - seqs[0]!).toBe(19);
  });

  it('encodes entities as JSON text, so IRIs with dots survive, and decodes them back', () => {
    const before = entity('urn:a', ['T'], { 'a.b': { 'c.d': 1 } });
    const doc = encodeChange(7, 'x', 'urn:a', before, undefined, '2024-01-01T00:00:00.000Z');
    expect(typeof doc.b).toBe('string');
    expect(decodeChange(doc)).toEqual({ seq: 7, tenant: 'x', id: 'urn:a', before, at: '2024-01-01T00:00:00.000Z' });
  });
});

const item = (id: string, sub = 'urn:sub:1', uri = 'http://127.0.0.1:1/n'): OutboundNotification => ({
  id,
  tenant: '',
  subscriptionId: sub,
  endpoint: { uri, accept: 'application/json', receiverInfo: [{ key: 'X.$y', value: '1' }] },
  contentType: 'application/json',
  body: '{"id":"' + id + '"}',
  headers: { 'X.$y': '1' },
  createdAt: '2024-01-01T00:00:00.000Z',
  attempt: 0,
  notBefore: 0,
});

describe('notification queue (DurableQueue)', () => {
  it('assigns increasing seqs in enqueue order and follows them with pendingAfter', async () => {
    const q = backend.stores.notifications;
    const batch = [item('n1'), item('n2'), item('n3')];
    await q.enqueue(batch);
    expect(batch.map((b) => b.seq)).toEqual([batch[0]!.seq, batch[0]!.seq! + 1, batch[0]!.seq! + 2]);
    await q.enqueue([item('n4')]);
    expect((await q.pending()).map((p) => p.id)).toEqual(['n1', 'n2', 'n3', 'n4']);
    expect((await q.pendingAfter(batch[1]!.seq!, 10)).map((p) => p.id)).toEqual(['n3', 'n4']);
    expect((await q.pendingAfter(0, 2)).map((p) => p.id)).toEqual(['n1', 'n2']);
    // Round trip of what the sender needs, headers with dots and $ included.
    const [first] = await q.pendingAfter(0, 1);
    expect(first).toEqual({ ...item('n1'), seq: batch[0]!.seq });
  });

  it('reads nothing for a limit of 0, which MongoDB itself would read as "no limit"', async () => {
    const q = backend.stores.notifications;
    await q.enqueue([item('n1')]);
    expect(await q.pendingAfter(0, 0)).toEqual([]);
    expect(await q.pendingOfStream({ tenant: '', subscriptionId: 'urn:sub:1', uri: 'http://127.0.0.1:1/n' }, 0, 0)).toEqual([]);
    expect(await q.pendingAfter(0, 1)).toHaveLength(1);
  });

  it('reads one stream without the others, from a seq', async () => {
    const q = backend.stores.notifications;
    const batch = [item('a1', 's1'), item('b1', 's2'), item('a2', 's1'), item('a3', 's1', 'http://127.0.0.1:2/other')];
    await q.enqueue(batch);
    const stream = { tenant: '', subscriptionId: 's1', uri: 'http://127.0.0.1:1/n' };
    expect((await q.pendingOfStream(stream, 0, 10)).map((p) => p.id)).toEqual(['a1', 'a2']);
    expect((await q.pendingOfStream(stream, batch[2]!.seq!, 10)).map((p) => p.id)).toEqual(['a2']);
  });

  it('completes, reschedules in place, dead-letters and replays at the end', async () => {
    const q = backend.stores.notifications;
    await q.enqueue([item('n1'), item('n2'), item('n3')]);
    await q.complete('n2');
    await q.reschedule('n1', 3, 12345, 'HTTP 500');
    const pending = await q.pending();
    expect(pending.map((p) => [p.id, p.attempt, p.notBefore, p.lastError])).toEqual([
      ['n1', 3, 12345, 'HTTP 500'],
      ['n3', 0, 0, undefined],
    ]);
    await q.deadLetter('n1', 'gave up', 4);
    expect((await q.pending()).map((p) => p.id)).toEqual(['n3']);
    const letters = await q.deadLetters('', { limit: 10, offset: 0 });
    expect(letters.count).toBe(1);
    expect(letters.items[0]).toMatchObject({ id: 'n1', attempt: 4, lastError: 'gave up', body: '{"id":"n1"}' });
    expect(await q.getDeadLetter('', 'n1')).toMatchObject({ id: 'n1' });
    expect(await q.deadLetters('other', { limit: 10, offset: 0 })).toEqual({ items: [], count: 0 });
    expect(await q.replay('', 'n1')).toBe(true);
    expect(await q.replay('', 'n1')).toBe(false);
    const after = await q.pending();
    expect(after.map((p) => [p.id, p.attempt])).toEqual([
      ['n3', 0],
      ['n1', 0],
    ]);
    expect(after[1]!.seq!).toBeGreaterThan(after[0]!.seq!);
    await q.deadLetter('n3', 'x');
    expect(await q.removeDeadLetter('', 'n3')).toBe(true);
    expect(await q.removeDeadLetter('', 'n3')).toBe(false);
  });

  it('replaces an item queued twice with the newer copy', async () => {
    const q = backend.stores.notifications;
    await q.enqueue([item('n1')]);
    await q.enqueue([{ ...item('n1'), body: 'newer' }]);
    const pending = await q.pending();
    expect(pending.map((p) => p.body)).toEqual(['newer']);
  });

  it('keeps the fixed part as JSON and the delivery state in fields', () => {
    const doc = encodeOutbox({ ...item('n1'), lastError: 'e', attempt: 2 }, 9);
    expect(doc).toMatchObject({ _id: 'n1', seq: 9, t: '', sub: 'urn:sub:1', uri: 'http://127.0.0.1:1/n', attempt: 2, lastError: 'e' });
    expect(decodeOutbox(doc)).toEqual({ ...item('n1'), lastError: 'e', attempt: 2, seq: 9 });
  });
});
