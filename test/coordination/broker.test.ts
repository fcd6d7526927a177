import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, loadConfig } from '../../src/config/config.js';
import { redisPrefixFor } from '../../src/coordination/index.js';
import { RedisCoordinator } from '../../src/coordination/redis.js';
import { RedisNotificationStream } from '../../src/coordination/stream-queue.js';
import { startBroker, type RunningBroker } from '../../src/server.js';
import { brokerStoreFromEnv } from '../helpers/store-env.js';
import { TempDirs } from '../store/helpers.js';
import { Receiver, sleep, until } from '../notifications/helpers.js';
import { useRedisServer } from './redis-server.js';

// The broker wired with --redis-url: subscription notifications go through the Redis Stream, dead letters live in
// Redis, and the subscription engine runs only while the broker holds the leader lease. The store is the one the
// environment selects (MUSUBI_STORE=mongo: a database of its own, dropped afterwards).

const dirs = new TempDirs();
const receiver = new Receiver();
const redis = useRedisServer();
let broker: RunningBroker | undefined;
let dataDir: string;
const store = brokerStoreFromEnv();
/** The broker's keys in Redis: named after its store (redisPrefixFor). */
let prefix: string;

beforeAll(async () => {
  await receiver.start();
  dataDir = await dirs.make();
  prefix = redisPrefixFor({ ...store.config, dataDir });
});
afterAll(async () => {
  await broker?.close();
  await receiver.stop();
  await store.cleanup();
  await dirs.cleanup();
});

const post = (path: string, body: unknown) =>
  fetch(broker!.url + path, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
/** A subscription to every entity of `type`, notifying the receiver. */
const subscribe = (id: string, type: string) =>
  post('/ngsi-ld/v1/subscriptions', { id, type: 'Subscription', entities: [{ type }], notification: { endpoint: { uri: receiver.url, accept: 'application/json' } } });

interface NotificationBody {
  subscriptionId: string;
  data: Array<{ id: string; speed?: { value: number } }>;
}
const bodies = () => receiver.received.map((r) => r.body as unknown as NotificationBody);

describe('a broker with --redis-url (issue 7)', () => {
  it('follows while another instance leads; when that one goes, it takes over and notifies the changes made meanwhile (5.8.6)', async () => {
    // Another instance of the same broker holding the lease.
    const other = await RedisCoordinator.connect({ url: redis.url, prefix, leaseMs: 30_000 });
    await other.onLeadership(() => undefined, () => undefined);
    expect(other.isLeader()).toBe(true);
    broker = await startBroker({ ...DEFAULT_CONFIG, port: 0, host: '127.0.0.1', dataDir, logLevel: 'silent', ...store.config, redisUrl: redis.url });
    const sub = await subscribe('urn:ngsi-ld:Subscription:redis-1', 'Vehicle');
    expect(sub.status).toBe(201);
    expect((await post('/ngsi-ld/v1/entities', { id: 'urn:ngsi-ld:Vehicle:1', type: 'Vehicle', speed: { type: 'Property', value: 1 } })).status).toBe(201);
    // Not the leader: no notification from this instance.
    await sleep(800);
    expect(receiver.attempts).toHaveLength(0);

    await other.close();
    // The broker renews every leaseMs/3 (10 s / 3): it leads within that and resumes from its change log.
    expect(await until(() => receiver.received.length >= 1, 8000)).toBe(true);
    expect(bodies()[0]).toMatchObject({ subscriptionId: 'urn:ngsi-ld:Subscription:redis-1', data: [{ id: 'urn:ngsi-ld:Vehicle:1', speed: { value: 1 } }] });

    // Normal operation: one notification per change, through the stream.
    const patched = await fetch(`${broker.url}/ngsi-ld/v1/entities/urn:ngsi-ld:Vehicle:1/attrs`, {
      method: 'PATCH',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ speed: { type: 'Property', value: 2 } }),
    });
    expect(patched.status).toBe(204);
    expect(await until(() => receiver.received.length >= 2, 8000)).toBe(true);
    await sleep(300);
    expect(bodies().map((b) => b.data[0]!.speed!.value)).toEqual([1, 2]);
    const groups = (await redis.admin.call('XINFO', 'GROUPS', `${prefix}notifications`)) as unknown[][];
    expect(groups[0]).toContain('delivery');
    expect(await redis.admin.xlen(`${prefix}notifications`)).toBe(0);
    expect(await redis.admin.get(`${prefix}leader`)).toMatch(/:\d+$/);
  });

  it('keeps dead letters in Redis, where every instance lists, replays and deletes them', async () => {
    receiver.mode = 'reject';
    const before = receiver.attempts.length;
    const sub = await subscribe('urn:ngsi-ld:Subscription:redis-2', 'Truck');
    expect(sub.status).toBe(201);
    await post('/ngsi-ld/v1/entities', { id: 'urn:ngsi-ld:Truck:1', type: 'Truck', load: { type: 'Property', value: 7 } });
    const shared = new RedisNotificationStream(redis.admin, prefix);
    expect(await until(async () => (await shared.deadLetters('', { limit: 10, offset: 0 })).count === 1, 8000)).toBe(true);
    expect(receiver.attempts.length).toBe(before + 1);
    const res = await fetch(`${broker!.url}/ngsi-ld/ex/v1/deadLetters`);
    expect(res.status).toBe(200);
    const listed = (await res.json()) as Array<{ id: string; subscriptionId: string; lastError: string }>;
    expect(listed).toHaveLength(1);
    expect(listed[0]).toMatchObject({ subscriptionId: 'urn:ngsi-ld:Subscription:redis-2', lastError: expect.stringContaining('400') });

    receiver.mode = 'ok';
    const replay = await fetch(`${broker!.url}/ngsi-ld/ex/v1/deadLetters/${encodeURIComponent(listed[0]!.id)}/replay`, { method: 'POST' });
    expect(replay.status).toBe(202);
    expect(await until(() => bodies().some((b) => b.subscriptionId === 'urn:ngsi-ld:Subscription:redis-2'), 8000)).toBe(true);
    expect((await shared.deadLetters('', { limit: 10, offset: 0 })).count).toBe(0);
    const missing = await fetch(`${broker!.url}/ngsi-ld/ex/v1/deadLetters/${encodeURIComponent(listed[0]!.id)}`);
    expect(missing.status).toBe(404);
  });

  it('gives up the lease when it closes, so another instance leads at once', async () => {
    expect(await redis.admin.exists(`${prefix}leader`)).toBe(1);
    await broker!.close();
    broker = undefined;
    expect(await redis.admin.exists(`${prefix}leader`)).toBe(0);
  });
});

describe('configuration of the Redis URL', () => {
  it('reads --redis-url, MUSUBI_REDIS_URL or REDIS_URL, and refuses what is not a redis:// URL', () => {
    const url = (argv: string[], env: Record<string, string> = {}) => {
      const parsed = loadConfig(argv, env);
      return parsed.help ? undefined : parsed.config.redisUrl;
    };
    expect(url([])).toBe('');
    expect(url(['--redis-url', 'redis://h:6379/0'])).toBe('redis://h:6379/0');
    expect(url([], { REDIS_URL: 'redis://a:1' })).toBe('redis://a:1');
    expect(url([], { REDIS_URL: 'redis://a:1', MUSUBI_REDIS_URL: 'rediss://b:2' })).toBe('rediss://b:2');
    expect(() => url(['--redis-url', 'http://h:6379'])).toThrow(/--redis-url must be a redis:\/\/ or rediss:\/\/ URL/);
  });

  it('stops the start with a clear error when Redis cannot be reached', async () => {
    const dataDir = await dirs.make();
    const unreachable = brokerStoreFromEnv();
    try {
      await expect(
        startBroker({ ...DEFAULT_CONFIG, port: 0, host: '127.0.0.1', dataDir, logLevel: 'silent', ...unreachable.config, redisUrl: 'redis://127.0.0.1:1' }),
      ).rejects.toThrow(/cannot connect to Redis at redis:\/\/127\.0\.0\.1:1/);
    } finally {
      await unreachable.cleanup();
    }
  });
});
