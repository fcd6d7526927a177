import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { shareCaches } from '../../src/coordination/index.js';
import { RedisCoordinator } from '../../src/coordination/redis.js';
import { ContextResolver } from '../../src/jsonld/resolver.js';
import { openStores } from '../../src/store/index.js';
import { SubscriptionService } from '../../src/subscriptions/service.js';
import { until } from '../notifications/helpers.js';
import { useRedisServer } from './redis-server.js';

/**
 * Regression test (review finding 5): a subscription whose invalidation never reached the leader (the publish failed
 * on the creating instance) still reaches the leader's cache, and so its engine (5.8.1), by the periodic resync.
 */

const redis = useRedisServer();
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe('the leader resyncs its subscriptions periodically (5.8.1 with a lost invalidation)', () => {
  it('a subscription created on another instance without an invalidation appears on the leader', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'musubi-lost-'));
    const stores = await openStores({ store: 'embedded', dataDir });
    cleanups.push(async () => {
      await stores.close();
      rmSync(dataDir, { recursive: true, force: true });
    });
    const resolver = new ContextResolver({ timeoutMs: 1000, cacheTtlSec: 60 });
    const ctx = await resolver.resolve();
    const limits = { defaultLimit: 20, maxLimit: 100 };
    const leader = await SubscriptionService.open(stores.subscriptions, { resolver, limits });
    const other = await SubscriptionService.open(stores.subscriptions, { resolver, limits });
    cleanups.push(async () => void (await Promise.all([leader.close(), other.close()])));
    const coordinator = await RedisCoordinator.connect({ url: redis.url, prefix: 'lost:', leaseMs: 600, instanceId: 'leader', onError: () => undefined });
    cleanups.push(() => coordinator.close());
    await coordinator.onLeadership(() => undefined, () => undefined);
    expect(coordinator.isLeader()).toBe(true);
    const stop = shareCaches(coordinator, { subscriptions: [leader] }, () => undefined, { resyncMs: 200 });
    cleanups.push(stop);
    // `other` is not wired to Redis: its change is never published, as when the publish failed.
    const id = await other.create({ tenant: '', ctx }, { type: 'Subscription', entities: [{ type: 'Car' }], notification: { endpoint: { uri: 'http://127.0.0.1:9/n' } } });
    expect(leader.compiledOne('', id)).toBeUndefined();
    expect(await until(() => leader.compiledOne('', id) !== undefined, 3000)).toBe(true);
  });
});
