import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DeliveryEngine, type DeliveryEngineOptions } from '../../src/notifications/delivery-engine.js';
import { openEmbeddedQueue, type EmbeddedNotificationQueue } from '../../src/store/embedded/notification-queue.js';
import { HttpSender } from '../../src/notifications/http-sender.js';
import { backoffDelay } from '../../src/notifications/attempt.js';
import type { DeliveryOutcome } from '../../src/notifications/types.js';
import { useEmbeddedStore } from '../store/helpers.js';
import { notification, range, Receiver, sleep, until } from './helpers.js';

const ctx = useEmbeddedStore();
const receivers: Receiver[] = [];
const engines: DeliveryEngine[] = [];

async function receiver(): Promise<Receiver> {
  const r = new Receiver();
  await r.start();
  receivers.push(r);
  return r;
}

interface Harness {
  engine: DeliveryEngine;
  queue: EmbeddedNotificationQueue;
  outcomes: DeliveryOutcome[];
  errors: unknown[];
}

async function harness(options: Partial<DeliveryEngineOptions> = {}): Promise<Harness> {
  const queue = await openEmbeddedQueue(ctx.store.environment);
  const outcomes: DeliveryOutcome[] = [];
  const errors: unknown[] = [];
  const sender = new HttpSender();
  const engine = new DeliveryEngine(
    queue,
    { http: sender, https: sender },
    {
      maxAttempts: 100,
      baseBackoffMs: 20,
      maxBackoffMs: 200,
      perEndpointConcurrency: 4,
      breakerThreshold: 1000,
      breakerOpenMs: 200,
      defaultTimeoutMs: 2000,
      closeTimeoutMs: 200,
      onOutcome: (o) => outcomes.push(o),
      onError: (err) => errors.push(err),
      ...options,
    },
  );
  engines.push(engine);
  await engine.start();
  return { engine, queue, outcomes, errors };
}

afterEach(async () => {
  // Engines first: the store (closed by useEmbeddedStore) must outlive their last queue writes.
  await Promise.all(engines.splice(0).map((e) => e.close()));
});
afterAll(async () => {
  await Promise.all(receivers.map((r) => r.stop()));
});

describe('backoff', () => {
  it('doubles from the base, caps at the maximum, and jitters within the upper half', () => {
    expect(backoffDelay(1, 100, 10_000, () => 0)).toBe(50);
    expect(backoffDelay(1, 100, 10_000, () => 1)).toBe(100);
    expect(backoffDelay(4, 100, 10_000, () => 1)).toBe(800);
    expect(backoffDelay(30, 100, 10_000, () => 0.5)).toBe(7500);
  });
});

describe('DeliveryEngine', () => {
  let healthy: Receiver;
  beforeAll(async () => {
    healthy = await receiver();
  });

  it('delivers every notification of a receiver that answers 503 for a while, none missing, in order', async () => {
    const r = await receiver();
    r.mode = 'fail';
    const { engine, outcomes, queue } = await harness({ perEndpointConcurrency: 4 });
    const subs = ['urn:ngsi-ld:Subscription:a', 'urn:ngsi-ld:Subscription:b'];
    const items = range(60).map((n) => notification(r.url, n, { subscriptionId: subs[n % 2] }));
    await engine.enqueue(items);
    await until(() => r.attempts.length >= 10);
    r.mode = 'ok';
    expect(await until(() => r.received.length >= 60)).toBe(true);
    for (const [i, sub] of subs.entries()) expect(r.ns(sub)).toEqual(range(60).filter((n) => n % 2 === i));
    expect(outcomes.some((o) => !o.ok && o.error?.includes('503'))).toBe(true);
    expect(await until(() => outcomes.filter((o) => o.ok).length === 60)).toBe(true);
    await engine.close();
    expect(await queue.pending()).toEqual([]);
  });

  it('delivers to a receiver that is not listening at first, once it comes up', async () => {
    const r = await receiver();
    await r.stop();
    const { engine } = await harness();
    await engine.enqueue(range(30).map((n) => notification(r.url, n)));
    await sleep(300);
    expect(r.received).toEqual([]);
    await r.start();
    expect(await until(() => r.received.length >= 30)).toBe(true);
    expect(r.ns()).toEqual(range(30));
  });

  it('backs off exponentially, then keeps a dead letter after maxAttempts', async () => {
    const r = await receiver();
    r.mode = 'fail';
    const { engine, outcomes, queue } = await harness({ maxAttempts: 4, baseBackoffMs: 100, maxBackoffMs: 1000 });
    const item = notification(r.url, 1);
    await engine.enqueue([item]);
    expect(await until(() => outcomes.some((o) => o.deadLettered))).toBe(true);
    expect(r.attempts).toHaveLength(4);
    const gaps = r.attempts.slice(1).map((a, i) => a.at - r.attempts[i]!.at);
    // Equal jitter: at least half of 100, 200, 400 ms.
    gaps.forEach((gap, i) => expect(gap).toBeGreaterThanOrEqual(50 * 2 ** i - 5));
    expect(outcomes.map((o) => [o.ok, o.notification.attempt, o.deadLettered ?? false])).toEqual([
      [false, 1, false],
      [false, 2, false],
      [false, 3, false],
      [false, 4, true],
    ]);
    expect(await until(() => outcomes.length === 4)).toBe(true);
    await sleep(50);
    expect(await queue.pending()).toEqual([]);
    expect(await queue.getDeadLetter('', item.id)).toMatchObject({ id: item.id, attempt: 4, lastError: expect.stringContaining('503') });

    // Replayed, it is delivered with a fresh set of attempts.
    r.mode = 'ok';
    expect(await engine.replay('', item.id)).toBe(true);
    expect(await until(() => r.received.length === 1)).toBe(true);
    expect(await engine.replay('', item.id)).toBe(false);
  });

  it('sends a notification answered with a non-retryable 4xx to the dead letters without retrying', async () => {
    const r = await receiver();
    r.mode = 'reject';
    const { engine, outcomes, queue } = await harness({ maxAttempts: 5, baseBackoffMs: 10 });
    const items = range(3).map((n) => notification(r.url, n));
    await engine.enqueue(items);
    expect(await until(() => outcomes.length === 3)).toBe(true);
    await sleep(100);
    expect(r.attempts).toHaveLength(3);
    expect(outcomes.every((o) => !o.ok && o.deadLettered && o.error?.includes('400'))).toBe(true);
    await engine.close();
    expect((await queue.deadLetters('', { limit: 10, offset: 0 })).count).toBe(3);
  });

  it('keeps a healthy endpoint fast while another one never answers', async () => {
    const stuck = await receiver();
    stuck.mode = 'hang';
    const { engine } = await harness({ defaultTimeoutMs: 10_000, perEndpointConcurrency: 2 });
    const stuckItems = range(20).map((n) => notification(stuck.url, n, { subscriptionId: `urn:ngsi-ld:Subscription:stuck-${n % 3}` }));
    await engine.enqueue(stuckItems);
    await until(() => stuck.attempts.length >= 2);
    const before = healthy.received.length;
    const latencies: number[] = [];
    for (const n of range(20)) {
      const sent = Date.now();
      await engine.enqueue([notification(healthy.url, 1000 + n, { subscriptionId: 'urn:ngsi-ld:Subscription:fast' })]);
      expect(await until(() => healthy.received.length > before + n, 1000, 2)).toBe(true);
      latencies.push(Date.now() - sent);
    }
    expect(Math.max(...latencies)).toBeLessThan(1000);
    // The stuck endpoint holds only its own concurrency slots.
    expect(stuck.attempts).toHaveLength(2);
    expect(engine.stats().find((s) => s.endpoint === stuck.url)).toMatchObject({ active: 2 });
  });

  it('times out a receiver that never answers, as a retryable failure', async () => {
    const stuck = await receiver();
    stuck.mode = 'hang';
    const { engine, outcomes } = await harness({ defaultTimeoutMs: 10_000, maxAttempts: 2, baseBackoffMs: 10 });
    await engine.enqueue([notification(stuck.url, 1, { endpoint: { uri: stuck.url, accept: 'application/json', timeoutMs: 150 } })]);
    expect(await until(() => outcomes.length === 2)).toBe(true);
    expect(outcomes[0]).toMatchObject({ ok: false, error: 'no answer within 150 ms' });
    expect(outcomes[1]).toMatchObject({ deadLettered: true });
  });

  it('opens the circuit breaker after consecutive failures, probes once when half-open, closes on success', async () => {
    const r = await receiver();
    r.mode = 'fail';
    const { engine } = await harness({ breakerThreshold: 3, breakerOpenMs: 400, baseBackoffMs: 1, maxBackoffMs: 1, perEndpointConcurrency: 1 });
    await engine.enqueue(range(10).map((n) => notification(r.url, n)));
    expect(await until(() => r.attempts.length === 3)).toBe(true);
    const opened = Date.now();
    expect(engine.stats()[0]).toMatchObject({ breaker: 'open' });
    await sleep(250);
    expect(r.attempts).toHaveLength(3);
    expect(await until(() => r.attempts.length === 4)).toBe(true);
    expect(r.attempts[3]!.at - opened).toBeGreaterThanOrEqual(390);
    // The probe failed: open again, no second probe.
    await sleep(150);
    expect(r.attempts).toHaveLength(4);
    expect(engine.stats()[0]).toMatchObject({ breaker: 'open' });
    r.mode = 'ok';
    expect(await until(() => r.received.length === 10)).toBe(true);
    expect(r.ns()).toEqual(range(10));
    expect(engine.stats()[0]).toMatchObject({ breaker: 'closed' });
  });

  it('waits an endpoint cooldown after a failure before sending to it again', async () => {
    const r = await receiver();
    r.mode = 'fail';
    const { engine } = await harness({ baseBackoffMs: 1, maxBackoffMs: 1 });
    const endpoint = { uri: r.url, accept: 'application/json' as const, cooldownMs: 300 };
    await engine.enqueue([notification(r.url, 1, { endpoint }), notification(r.url, 2, { endpoint, subscriptionId: 'urn:ngsi-ld:Subscription:s2' })]);
    expect(await until(() => r.attempts.length >= 2)).toBe(true);
    r.mode = 'ok';
    const lastFailure = Math.max(...r.attempts.map((a) => a.at));
    expect(await until(() => r.received.length === 2)).toBe(true);
    expect(r.received[0]!.at - lastFailure).toBeGreaterThanOrEqual(295);
  });

  it('delivers each subscription in order to a healthy endpoint, with several subscriptions sharing it', async () => {
    const r = await receiver();
    r.delayMs = 3;
    const { engine } = await harness({ perEndpointConcurrency: 4 });
    const subs = range(3).map((i) => `urn:ngsi-ld:Subscription:order-${i}`);
    const items = range(300).map((n) => notification(r.url, n, { subscriptionId: subs[n % 3] }));
    // In several enqueues, as the subscription engine would.
    for (let i = 0; i < items.length; i += 25) void engine.enqueue(items.slice(i, i + 25));
    expect(await until(() => r.received.length === 300)).toBe(true);
    for (const [i, sub] of subs.entries()) expect(r.ns(sub)).toEqual(range(300).filter((n) => n % 3 === i));
  });

  it('holds only a window in memory for an endpoint that is down, and delivers everything in order later', async () => {
    const r = await receiver();
    await r.stop();
    const { engine } = await harness({ streamWindow: 16, breakerThreshold: 2, breakerOpenMs: 100, baseBackoffMs: 50, maxBackoffMs: 100, maxAttempts: 1000 });
    const items = range(3000).map((n) => notification(r.url, n, { subscriptionId: n < 1000 ? 'urn:ngsi-ld:Subscription:x' : 'urn:ngsi-ld:Subscription:y' }));
    for (let i = 0; i < items.length; i += 500) await engine.enqueue(items.slice(i, i + 500));
    await sleep(300);
    const [lane] = engine.stats();
    expect(lane).toMatchObject({ moreQueued: true });
    expect(lane!.inMemory).toBeLessThanOrEqual(32);
    await r.start();
    expect(await until(() => r.received.length >= 3000, 20_000)).toBe(true);
    expect(r.ns('urn:ngsi-ld:Subscription:x')).toEqual(range(1000));
    expect(r.ns('urn:ngsi-ld:Subscription:y')).toEqual(range(2000, 1000));
  });

  it('delivers each stream exactly in order, without gaps or repeats, through random failures and refills', async () => {
    const r = await receiver();
    r.failRate = 0.3;
    r.delayMs = 2;
    const { engine } = await harness({ perEndpointConcurrency: 3, streamWindow: 8, baseBackoffMs: 1, maxBackoffMs: 5 });
    const subs = range(4).map((i) => `urn:ngsi-ld:Subscription:flaky-${i}`);
    const items = range(600).map((n) => notification(r.url, n, { subscriptionId: subs[n % 4] }));
    for (let i = 0; i < items.length; i += 50) void engine.enqueue(items.slice(i, i + 50));
    expect(await until(() => r.received.length === 600, 20_000)).toBe(true);
    for (const [i, sub] of subs.entries()) expect(r.ns(sub)).toEqual(range(600).filter((n) => n % 4 === i));
    expect(r.attempts.length).toBeGreaterThan(700);
  });

  it('dead-letters notifications for a scheme it has no sender for', async () => {
    const { engine, outcomes } = await harness();
    await engine.enqueue([notification('ftp://example.org/x', 1)]);
    expect(await until(() => outcomes.length === 1)).toBe(true);
    expect(outcomes[0]).toMatchObject({ ok: false, deadLettered: true, error: expect.stringContaining('ftp') });
  });

  it('picks up notifications written to the queue directly, at the next poll', async () => {
    const { engine, queue } = await harness({ pollMs: 50 });
    const before = healthy.received.length;
    await queue.enqueue([notification(healthy.url, 1, { subscriptionId: 'urn:ngsi-ld:Subscription:direct' })]);
    expect(await until(() => healthy.received.length === before + 1, 2000)).toBe(true);
    void engine;
  });
});
