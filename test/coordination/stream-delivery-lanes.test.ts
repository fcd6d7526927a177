import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StreamDelivery, type StreamDeliveryOptions } from '../../src/coordination/stream-delivery.js';
import { notification, range, Receiver, sleep, until } from '../notifications/helpers.js';
import { useRedisServer } from './redis-server.js';
import { startStreamInstance } from './stream-instance.js';

/**
 * Regression tests for the per-endpoint lanes of the Redis delivery (stream-delivery.ts): the circuit breaker keeps
 * its failure count across retries, one slow endpoint cannot take every slot of an instance, and entries an instance
 * is still working on are not taken over by a healthy other instance.
 */

const redis = useRedisServer();
let prefix: string;
let testNo = 0;
const running: StreamDelivery[] = [];
const cleanups: Array<() => Promise<void>> = [];

beforeEach(() => {
  prefix = `lanes${++testNo}:`;
});
afterEach(async () => {
  await Promise.all(running.splice(0).map((d) => d.close()));
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

const instance = (consumer: string, overrides: Partial<StreamDeliveryOptions> = {}) => startStreamInstance({ url: redis.url, prefix }, consumer, running, overrides);

async function receiver(): Promise<Receiver> {
  const r = new Receiver();
  await r.start();
  cleanups.push(() => r.stop());
  return r;
}

/** An endpoint that answers 204 after exactly `delayMs`, counting requests per notification n. */
async function slowEndpoint(delayMs: number): Promise<{ url: string; requests: number[] }> {
  const requests: number[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      requests.push((JSON.parse(Buffer.concat(chunks).toString('utf8')) as { n: number }).n);
      setTimeout(() => res.writeHead(204).end(), delayMs);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/notify`, requests };
}

describe('Redis delivery lanes (review findings 1, 2, 4, 7)', () => {
  it('the circuit breaker opens after breakerThreshold failed attempts although each retry leaves the instance, and parks the notification', async () => {
    const r = await receiver();
    r.mode = 'fail';
    const { delivery, outcomes } = await instance('a', { maxAttempts: 12, breakerThreshold: 3, breakerOpenMs: 20_000, baseBackoffMs: 20, maxBackoffMs: 50 });
    await delivery.enqueue([notification(r.url, 1)]);
    expect(await until(() => r.attempts.length >= 3, 5000)).toBe(true);
    // Without the breaker it would be retried every ≤50 ms up to maxAttempts and dead-lettered.
    await sleep(1500);
    expect(r.attempts.length).toBe(3);
    expect(outcomes.some((o) => o.deadLettered)).toBe(false);
    // Parked with its lane until the breaker would let a probe through.
    expect(await redis.admin.exists(`${prefix}notifications:parked-lanes`)).toBe(1);
  });

  it('a slow endpoint with a long backlog does not hold up notifications to another endpoint', async () => {
    const slow = await receiver();
    slow.mode = 'hang';
    const fast = await receiver();
    const { delivery } = await instance('a', { perEndpointConcurrency: 2, maxHeld: 8, defaultTimeoutMs: 5000 });
    await delivery.enqueue(range(20).map((i) => notification(slow.url, i)));
    expect(await until(() => slow.attempts.length >= 2, 3000)).toBe(true);
    const t0 = Date.now();
    await delivery.enqueue([notification(fast.url, 999)]);
    // Before: the slow endpoint's backlog took all 8 slots, the fast one waited for the 5 s timeouts.
    expect(await until(() => fast.received.length === 1, 2500)).toBe(true);
    expect(Date.now() - t0).toBeLessThan(2500);
    // The slow endpoint still gets no more than its concurrency at once.
    expect(slow.attempts.length).toBe(2);
  });

  it('two healthy instances do not take over each other\'s in-flight notifications when a send outlasts claimIdleMs', async () => {
    const endpoint = await slowEndpoint(1800);
    const options = { perEndpointConcurrency: 1, claimIdleMs: 800, maxAttempts: 1 };
    const a = await instance('a', options);
    await instance('b', options);
    await a.delivery.enqueue(range(4).map((i) => notification(endpoint.url, i)));
    expect(await until(() => endpoint.requests.length >= 4, 10_000)).toBe(true);
    await sleep(2500);
    expect(endpoint.requests.sort((x, y) => x - y)).toEqual(range(4));
  });
});
