import { describe, expect, it } from 'vitest';
import { openEmbeddedQueue } from '../../src/store/embedded/notification-queue.js';
import { useEmbeddedStore } from '../store/helpers.js';
import { notification, range } from './helpers.js';

const URI = 'http://127.0.0.1:1/notify';
const ctx = useEmbeddedStore();
const ids = (items: { id: string }[]) => items.map((i) => i.id);

describe('EmbeddedNotificationQueue', () => {
  it('keeps pending notifications across a reopen, in enqueue order, exactly as queued', async () => {
    let queue = await openEmbeddedQueue(ctx.store.environment);
    const first = range(5).map((n) => notification(URI, n));
    const second = range(5, 5).map((n) => notification(URI, n, { subscriptionId: 'urn:ngsi-ld:Subscription:s2', tenant: 'city' }));
    await queue.enqueue(first);
    await queue.enqueue(second);
    expect(first.map((i) => i.seq)).toEqual([1, 2, 3, 4, 5]);

    await ctx.reopen();
    queue = await openEmbeddedQueue(ctx.store.environment);
    const pending = await queue.pending();
    expect(ids(pending)).toEqual(ids([...first, ...second]));
    expect(pending[7]).toEqual(second[2]);
    // The sequence goes on after a reopen, so new items come after the old ones.
    const third = [notification(URI, 10)];
    await queue.enqueue(third);
    expect(third[0]!.seq).toBe(11);
  });

  it('completes, reschedules in place, and pages by seq and by stream', async () => {
    const queue = await openEmbeddedQueue(ctx.store.environment);
    const a = range(6).map((n) => notification(URI, n));
    const b = range(3).map((n) => notification(URI, n, { subscriptionId: 'urn:ngsi-ld:Subscription:other' }));
    await queue.enqueue([a[0]!, b[0]!, a[1]!, a[2]!, b[1]!, a[3]!, a[4]!, b[2]!, a[5]!]);
    // Completes of many items issued together share commits; none needs to be awaited before the next.
    await Promise.all([queue.complete(a[0]!.id), queue.complete(b[1]!.id), queue.complete('urn:unknown')]);
    await queue.reschedule(a[2]!.id, 3, 12345, 'answered 503');

    const pending = await queue.pending();
    expect(ids(pending)).toEqual(ids([b[0]!, a[1]!, a[2]!, a[3]!, a[4]!, b[2]!, a[5]!]));
    expect(pending[2]).toMatchObject({ id: a[2]!.id, attempt: 3, notBefore: 12345, lastError: 'answered 503' });

    expect(ids(await queue.pendingAfter(a[2]!.seq!, 2))).toEqual(ids([a[3]!, a[4]!]));
    const stream = { tenant: '', subscriptionId: 'urn:ngsi-ld:Subscription:s1', uri: URI };
    expect(ids(await queue.pendingOfStream(stream, 0, 10))).toEqual(ids([a[1]!, a[2]!, a[3]!, a[4]!, a[5]!]));
    expect(ids(await queue.pendingOfStream(stream, a[3]!.seq!, 2))).toEqual(ids([a[3]!, a[4]!]));
    expect(ids(await queue.pendingOfStream({ ...stream, tenant: 'x' }, 0, 10))).toEqual([]);
  });

  it('moves an item to the dead letters, lists them per tenant with paging, replays and removes them', async () => {
    const queue = await openEmbeddedQueue(ctx.store.environment);
    const items = range(5).map((n) => notification(URI, n, { tenant: n < 3 ? 'city' : '' }));
    await queue.enqueue(items);
    for (const item of items) await queue.deadLetter(item.id, `gave up on ${item.id}`);
    await queue.deadLetter('urn:unknown', 'nothing');
    expect(await queue.pending()).toEqual([]);

    const all = await queue.deadLetters('city', { limit: 10, offset: 0 });
    expect(all.count).toBe(3);
    expect(all.items.map((d) => d.id).sort()).toEqual(ids(items.slice(0, 3)).sort());
    expect(all.items[0]).toMatchObject({ tenant: 'city', lastError: `gave up on ${all.items[0]!.id}` });
    expect(Date.parse(all.items[0]!.failedAt)).toBeGreaterThan(0);
    const page = await queue.deadLetters('city', { limit: 2, offset: 1 });
    expect(page).toMatchObject({ count: 3 });
    expect(page.items.map((d) => d.id)).toEqual(all.items.slice(1, 3).map((d) => d.id));
    expect((await queue.deadLetters('city', { limit: 0, offset: 0 })).items).toEqual([]);
    expect((await queue.deadLetters('', { limit: 10, offset: 0 })).count).toBe(2);
    expect((await queue.deadLetters('nobody', { limit: 10, offset: 0 })).count).toBe(0);

    const target = items[1]!;
    expect(await queue.getDeadLetter('', target.id)).toBeUndefined();
    expect(await queue.getDeadLetter('city', target.id)).toMatchObject({ id: target.id, body: target.body, attempt: 0 });
    expect(await queue.replay('', target.id)).toBe(false);
    const before = Date.now();
    expect(await queue.replay('city', target.id)).toBe(true);
    expect(await queue.replay('city', target.id)).toBe(false);
    const pending = await queue.pending();
    expect(ids(pending)).toEqual([target.id]);
    expect(pending[0]).toMatchObject({ attempt: 0, body: target.body, endpoint: target.endpoint });
    expect(pending[0]!.notBefore).toBeGreaterThanOrEqual(before);
    expect(pending[0]).not.toHaveProperty('failedAt');
    expect(await queue.getDeadLetter('city', target.id)).toBeUndefined();

    expect(await queue.removeDeadLetter('city', items[0]!.id)).toBe(true);
    expect(await queue.removeDeadLetter('city', items[0]!.id)).toBe(false);
    expect((await queue.deadLetters('city', { limit: 10, offset: 0 })).count).toBe(1);

    // Dead letters are as durable as the queue.
    await ctx.reopen();
    const reopened = await openEmbeddedQueue(ctx.store.environment);
    expect((await reopened.deadLetters('city', { limit: 10, offset: 0 })).items.map((d) => d.id)).toEqual([items[2]!.id]);
    expect(ids(await reopened.pending())).toEqual([target.id]);
  });

  it('records thousands of completions without waiting for each one', async () => {
    const queue = await openEmbeddedQueue(ctx.store.environment);
    const items = range(5000).map((n) => notification(URI, n));
    await queue.enqueue(items);
    const started = performance.now();
    await Promise.all(items.map((i) => queue.complete(i.id)));
    const ms = performance.now() - started;
    expect(await queue.pending()).toEqual([]);
    // One fsync per item would take many seconds; batched commits take a few.
    expect(ms).toBeLessThan(3000);
  });
});
