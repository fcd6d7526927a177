import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StreamDelivery, type StreamDeliveryOptions } from '../../src/coordination/stream-delivery.js';
import { RedisNotificationStream } from '../../src/coordination/stream-queue.js';
import { HttpSender } from '../../src/notifications/http-sender.js';
import type { DeliveryOutcome } from '../../src/notifications/types.js';
import { notification, QUICK_DELIVERY, range, Receiver, sleep, until } from '../notifications/helpers.js';
import { startRedisServer, useRedisServer } from './redis-server.js';
import { startStreamInstance } from './stream-instance.js';

const ROOT = resolve(import.meta.dirname, '..', '..');

const redis = useRedisServer();
let prefix: string;
let receiver: Receiver;
const running: StreamDelivery[] = [];
let testNo = 0;

beforeEach(async () => {
  // A fresh key space per test: no test sees another's entries.
  prefix = `t${++testNo}:`;
  receiver = new Receiver();
  await receiver.start();
});
afterEach(async () => {
  await Promise.all(running.splice(0).map((d) => d.close()));
  await receiver.stop();
});

interface Instance {
  delivery: StreamDelivery;
  deadLetters: RedisNotificationStream;
  outcomes: DeliveryOutcome[];
}

const instance = (consumer: string, overrides: Partial<StreamDeliveryOptions> = {}): Promise<Instance> =>
  startStreamInstance({ url: redis.url, prefix }, consumer, running, overrides);

const delivered = (i: Instance) => i.outcomes.filter((o) => o.ok).map((o) => JSON.parse(o.notification.body).n as number);

describe('notification delivery through a Redis Stream and a consumer group (issue 7)', () => {
  it('two instances share the work: each notification is sent by exactly one of them, exactly once', async () => {
    receiver.delayMs = 20;
    const a = await instance('a');
    const b = await instance('b');
    const n = 120;
    // Queued by both, as a leader changing hands would.
    await a.delivery.enqueue(range(n / 2).map((i) => notification(receiver.url, i)));
    await b.delivery.enqueue(range(n / 2, n / 2).map((i) => notification(receiver.url, i)));
    expect(await until(() => receiver.received.length >= n, 15_000)).toBe(true);
    await sleep(300);
    expect(receiver.ns().sort((x, y) => x - y)).toEqual(range(n));
    const byA = delivered(a);
    const byB = delivered(b);
    expect(byA.length).toBeGreaterThan(0);
    expect(byB.length).toBeGreaterThan(0);
    expect([...byA, ...byB].sort((x, y) => x - y)).toEqual(range(n));
    // Nothing is left behind in Redis: acknowledged entries are deleted.
    expect(await redis.admin.xlen(`${prefix}notifications`)).toBe(0);
  });

  it('an instance killed mid-delivery: another takes its pending notifications over once its heartbeat expires, and every one arrives (at-least-once)', async () => {
    receiver.mode = 'hang';
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/coordination/fixtures/stream-consumer.ts', redis.url, prefix, 'doomed', '800'], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout!.on('data', (chunk) => (output += chunk));
    child.stderr!.on('data', (chunk) => (output += chunk));
    const exited = new Promise<void>((ok) => child.once('exit', () => ok()));
    try {
      expect(await until(() => output.includes('ready'), 20_000), output).toBe(true);
      const producer = new RedisNotificationStream(redis.admin, prefix);
      const n = 12;
      await producer.enqueue(range(n).map((i) => notification(receiver.url, i)));
      // The child has read every one and is sending them: the receiver holds the requests open.
      expect(await until(() => receiver.attempts.length >= n, 10_000), output).toBe(true);
      const pending = (await redis.admin.call('XPENDING', `${prefix}notifications`, 'delivery')) as [number, string, string, Array<[string, string]>];
      expect(pending[0]).toBe(n);
      expect(pending[3]).toEqual([['doomed', String(n)]]);
      child.kill('SIGKILL');
      await exited;
      receiver.mode = 'ok';
      const killedAt = Date.now();
      // claimIdleMs far beyond the test: only the expired heartbeat can explain the take-over.
      const survivor = await instance('survivor', { claimIdleMs: 600_000, livenessMs: 800 });
      expect(await until(() => delivered(survivor).length >= n, 15_000)).toBe(true);
      expect(Date.now() - killedAt).toBeLessThan(5000);
      expect([...new Set(receiver.ns())].sort((x, y) => x - y)).toEqual(range(n));
      expect(delivered(survivor).sort((x, y) => x - y)).toEqual(range(n));
      expect(await until(async () => (await redis.admin.xlen(`${prefix}notifications`)) === 0, 5000)).toBe(true);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  });

  it('an instance alive but stuck (heartbeat renewed, nothing acknowledged) loses its entries after claimIdleMs', async () => {
    const producer = new RedisNotificationStream(redis.admin, prefix);
    await producer.ensureGroup();
    await producer.enqueue(range(4).map((i) => notification(receiver.url, i)));
    // A consumer that reads and then hangs for ever, while its process keeps the heartbeat alive.
    await producer.heartbeat('stuck', 60_000);
    expect(await producer.read(redis.admin, 'stuck', 10, 100)).toHaveLength(4);
    const t0 = Date.now();
    const other = await instance('other', { claimIdleMs: 700 });
    expect(await until(() => delivered(other).length >= 4, 10_000)).toBe(true);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(500);
    expect(receiver.ns().sort()).toEqual([0, 1, 2, 3]);
    expect(delivered(other).sort()).toEqual([0, 1, 2, 3]);
  });

  it('a consumer that left with nothing pending is removed from the group', async () => {
    const names = async () => ((await redis.admin.call('XINFO', 'CONSUMERS', `${prefix}notifications`, 'delivery')) as unknown[][]).map((c) => c[1]);
    const a = await instance('a', { livenessMs: 300 });
    await a.delivery.enqueue([notification(receiver.url, 1)]);
    expect(await until(() => receiver.received.length === 1, 5000)).toBe(true);
    expect(await names()).toEqual(['a']);
    await a.delivery.close();
    const b = await instance('b', { livenessMs: 300 });
    await b.delivery.enqueue([notification(receiver.url, 2)]);
    expect(await until(() => receiver.received.length === 2, 5000)).toBe(true);
    expect(await until(async () => (await names()).join() === 'b', 5000)).toBe(true);
  });

  it('a failed delivery is retried with backoff, by whichever instance is free, until it gets through', async () => {
    receiver.mode = 'fail';
    const a = await instance('a');
    const b = await instance('b');
    await a.delivery.enqueue(range(3).map((i) => notification(receiver.url, i)));
    expect(await until(() => receiver.attempts.length >= 9, 10_000)).toBe(true);
    receiver.mode = 'ok';
    expect(await until(() => receiver.received.length >= 3, 10_000)).toBe(true);
    await sleep(200);
    expect(receiver.ns().sort()).toEqual([0, 1, 2]);
    const outcomes = [...a.outcomes, ...b.outcomes];
    const failures = outcomes.filter((o) => !o.ok);
    expect(failures.length).toBeGreaterThanOrEqual(6);
    expect(failures.every((o) => o.error?.includes('503') && !o.deadLettered)).toBe(true);
    // Attempts are counted across instances: the successful one carries the number of tries so far.
    const successes = outcomes.filter((o) => o.ok);
    expect(successes).toHaveLength(3);
    expect(successes.every((o) => o.notification.attempt >= 3)).toBe(true);
    expect(await redis.admin.zcard(`${prefix}notifications:delayed`)).toBe(0);
  });

  it('an open circuit breaker parks the notifications of its endpoint; a new instance probes and releases them when the endpoint is back', async () => {
    receiver.mode = 'fail';
    const a = await instance('a', { perEndpointConcurrency: 1, breakerThreshold: 2, breakerOpenMs: 60_000, maxAttempts: 100, baseBackoffMs: 50, maxBackoffMs: 50 });
    await a.delivery.enqueue(range(10).map((i) => notification(receiver.url, i)));
    const lane = `${prefix}notifications:parked:${receiver.url}`;
    expect(await until(async () => (await redis.admin.zcard(lane)) === 10, 10_000)).toBe(true);
    // Nothing is sent while the breaker is open: the two failures that opened it were the only attempts.
    const attempts = receiver.attempts.length;
    expect(attempts).toBe(2);
    receiver.mode = 'ok';
    await sleep(300);
    expect(receiver.attempts.length).toBe(attempts);
    // The instance that opened the breaker goes; a new one (a restarted one, say) never saw the breaker: it lets one
    // through, that one succeeds, and the rest follow at once, long before the breaker would have closed.
    await a.delivery.close();
    await instance('b');
    expect(await until(() => receiver.received.length === 10, 5000)).toBe(true);
    expect(receiver.ns().sort((x, y) => x - y)).toEqual(range(10));
    expect(await redis.admin.exists(lane)).toBe(0);
    expect(await redis.admin.sismember(`${prefix}notifications:parked-lanes`, receiver.url)).toBe(0);
  });

  it('dead letters are shared: made on one instance, listed, read, replayed and deleted from the other', async () => {
    receiver.mode = 'reject';
    const a = await instance('a', { maxAttempts: 2 });
    const b = await instance('b', { maxAttempts: 2 });
    const items = range(3).map((i) => notification(receiver.url, i, { tenant: 'acme' }));
    await a.delivery.enqueue(items);
    expect(await until(async () => (await b.deadLetters.deadLetters('acme', { limit: 10, offset: 0 })).count === 3, 10_000)).toBe(true);
    const fromA = await a.deadLetters.deadLetters('acme', { limit: 2, offset: 0 });
    const fromB = await b.deadLetters.deadLetters('acme', { limit: 2, offset: 2 });
    expect(fromA.count).toBe(3);
    expect([...fromA.items, ...fromB.items].map((d) => d.id).sort()).toEqual(items.map((i) => i.id).sort());
    expect((await b.deadLetters.deadLetters('', { limit: 10, offset: 0 })).count).toBe(0);
    const letter = await b.deadLetters.getDeadLetter('acme', items[0]!.id);
    expect(letter).toMatchObject({ id: items[0]!.id, tenant: 'acme', attempt: 1, body: items[0]!.body, endpoint: items[0]!.endpoint });
    expect(letter!.lastError).toContain('400');
    expect(typeof letter!.failedAt).toBe('string');
    // 400 is not retryable: one attempt each, whatever maxAttempts says.
    expect(receiver.attempts).toHaveLength(3);

    receiver.mode = 'ok';
    expect(await b.delivery.replay('acme', items[0]!.id)).toBe(true);
    expect(await a.delivery.replay('acme', items[0]!.id)).toBe(false);
    expect(await until(() => receiver.received.length === 1, 10_000)).toBe(true);
    expect(receiver.ns()).toEqual([0]);
    expect(await a.deadLetters.getDeadLetter('acme', items[0]!.id)).toBeUndefined();

    expect(await a.deadLetters.removeDeadLetter('acme', items[1]!.id)).toBe(true);
    expect(await b.deadLetters.removeDeadLetter('acme', items[1]!.id)).toBe(false);
    const left = await b.deadLetters.deadLetters('acme', { limit: 10, offset: 0 });
    expect(left.items.map((d) => d.id)).toEqual([items[2]!.id]);
    expect(left.count).toBe(1);
  });

  it('recreates the consumer group when the stream was deleted under it (a flushed or restored Redis)', async () => {
    const a = await instance('a');
    await redis.admin.del(`${prefix}notifications`);
    // XADD makes a bare stream again; reads fail with NOGROUP until the group is back.
    await a.delivery.enqueue([notification(receiver.url, 9)]);
    expect(await until(() => receiver.received.length === 1, 10_000)).toBe(true);
    expect(receiver.ns()).toEqual([9]);
  });

  it('with appendonly and appendfsync always, what enqueue acknowledged survives a crash of Redis itself', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'musubi-redis-aof-'));
    try {
      const first = await startRedisServer({ appendonly: true, dir });
      const conn = new Redis(first.url);
      const producer = new RedisNotificationStream(conn, 'aof:');
      await producer.ensureGroup();
      await producer.enqueue(range(5).map((i) => notification(receiver.url, i)));
      conn.disconnect();
      await first.kill();
      const second = await startRedisServer({ appendonly: true, dir });
      try {
        const { delivery } = await StreamDelivery.open({ url: second.url, prefix: 'aof:' }, { http: new HttpSender() }, {
          consumer: 'after-crash',
          ...QUICK_DELIVERY,
          maxAttempts: 3,
        });
        await delivery.start();
        expect(await until(() => receiver.received.length === 5, 10_000)).toBe(true);
        await delivery.close();
        expect(receiver.ns().sort()).toEqual(range(5));
      } finally {
        await second.stop();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('only the holder of the leader lease token may queue subscription notifications (fencing)', async () => {
    await redis.admin.set(`${prefix}leader`, 'me:7');
    const current = await instance('fenced', { fence: () => ({ key: `${prefix}leader`, token: 'me:7' }) });
    const stale = await instance('stale', { fence: () => ({ key: `${prefix}leader`, token: 'me:6' }) });
    const follower = await instance('follower', { fence: () => undefined });
    await expect(stale.delivery.enqueueAsLeader([notification(receiver.url, 1)])).rejects.toThrow(/NOTLEADER/);
    await expect(follower.delivery.enqueueAsLeader([notification(receiver.url, 2)])).rejects.toThrow(/not the leader/);
    await current.delivery.enqueueAsLeader([notification(receiver.url, 3)]);
    // Notifications of other origins (CSource subscriptions) may be queued by any instance.
    await follower.delivery.enqueue([notification(receiver.url, 4)]);
    expect(await until(() => receiver.received.length === 2, 10_000)).toBe(true);
    await sleep(200);
    expect(receiver.ns().sort()).toEqual([3, 4]);
  });
});
