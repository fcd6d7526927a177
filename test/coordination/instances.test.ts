import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openCoordination, runEngineWhileLeader, shareCaches, type Coordinator } from '../../src/coordination/index.js';
import { EntityService } from '../../src/entities/service.js';
import { ContextResolver } from '../../src/jsonld/resolver.js';
import type { LdContext } from '../../src/jsonld/types.js';
import { HttpSender } from '../../src/notifications/http-sender.js';
import type { DeliveryOutcome } from '../../src/notifications/types.js';
import { openStores, type Stores } from '../../src/store/index.js';
import { dropDatabase, storeFromEnv, testDatabaseName } from '../helpers/store-env.js';
import { SubscriptionEngine } from '../../src/subscriptions/engine.js';
import { SubscriptionService } from '../../src/subscriptions/service.js';
import { QUICK_DELIVERY, Receiver, sleep, until } from '../notifications/helpers.js';
import { TempDirs } from '../store/helpers.js';
import { startRedisServer, type RedisServer } from './redis-server.js';

/**
 * Two broker instances in one process, wired as src/server.ts wires them (openCoordination, shareCaches,
 * runEngineWhileLeader). Each has its own subscription cache, coordinator, consumer and engine; they share the Redis
 * and the store. The store: with MUSUBI_STORE=mongo (the GitHub workflow's mongo job) each instance opens its own
 * connection to one MongoDB database, as two broker processes do; otherwise both use ONE embedded store object,
 * which is what sharing a database amounts to, without MongoDB.
 */

interface Instance {
  name: string;
  coordinator: Coordinator;
  subscriptions: SubscriptionService;
  entities: EntityService;
  outcomes: DeliveryOutcome[];
  close(): Promise<void>;
}

const dirs = new TempDirs();
let redis: RedisServer;
/** The shared store as the instances of one test see it. */
let shared: { open(): Promise<Stores>; close(): Promise<void> };
let resolver: ContextResolver;
let ctx: LdContext;
let receiver: Receiver;
let prefix: string;
let testNo = 0;
const instances: Instance[] = [];

beforeAll(async () => {
  redis = await startRedisServer();
  resolver = new ContextResolver({ timeoutMs: 1000, cacheTtlSec: 60 });
  ctx = await resolver.resolve();
});
afterAll(async () => {
  await redis.stop();
  await dirs.cleanup();
});
beforeEach(async () => {
  prefix = `i${++testNo}:`;
  const env = storeFromEnv();
  const dataDir = await dirs.make();
  if (env.store === 'mongo') {
    const mongoDb = testDatabaseName();
    const opened: Stores[] = [];
    shared = {
      open: async () => {
        const stores = await openStores({ store: 'mongo', mongoUrl: env.mongoUrl, mongoDb, dataDir });
        opened.push(stores);
        return stores;
      },
      close: async () => {
        for (const stores of opened.splice(0)) await stores.close();
        await dropDatabase(env.mongoUrl, mongoDb);
      },
    };
  } else {
    const stores = await openStores({ store: 'embedded', dataDir });
    shared = { open: async () => stores, close: () => stores.close() };
  }
  receiver = new Receiver();
  await receiver.start();
});
afterEach(async () => {
  for (const instance of instances.splice(0)) await instance.close();
  await shared.close();
  await receiver.stop();
});

async function startInstance(name: string): Promise<Instance> {
  const limits = { defaultLimit: 20, maxLimit: 100 };
  const stores = await shared.open();
  const subscriptions = await SubscriptionService.open(stores.subscriptions, { resolver, limits });
  const outcomes: DeliveryOutcome[] = [];
  const http = new HttpSender();
  const { coordinator, delivery, deliverAsLeader } = await openCoordination({
    redisUrl: redis.url,
    redisPrefix: prefix,
    leaseMs: 600,
    queue: stores.notifications,
    senders: { http },
    delivery: {
      ...QUICK_DELIVERY,
      onOutcome: (o) => {
        outcomes.push(o);
        subscriptions.recordOutcome(o);
      },
    },
  });
  await delivery.start();
  shareCaches(coordinator, { subscriptions: [subscriptions], resolver });
  await runEngineWhileLeader({
    coordinator,
    subscriptions,
    store: stores.entities,
    createEngine: (store) => new SubscriptionEngine({ store, resolver, deliver: deliverAsLeader }),
  });
  let closed = false;
  const instance: Instance = {
    name,
    coordinator,
    subscriptions,
    entities: new EntityService(stores.entities),
    outcomes,
    close: async () => {
      if (closed) return;
      closed = true;
      await coordinator.close();
      await delivery.close();
      await subscriptions.close();
    },
  };
  instances.push(instance);
  return instance;
}

const scope = () => ({ tenant: '', ctx });
const subscription = (id: string, extra: Record<string, unknown> = {}) => ({
  id,
  type: 'Subscription',
  entities: [{ type: 'Vehicle' }],
  notification: { endpoint: { uri: receiver.url, accept: 'application/json' } },
  ...extra,
});
const vehicle = (id: string, speed: number) => ({ id, type: 'Vehicle', speed: { type: 'Property', value: speed } });
const setSpeed = (i: Instance, id: string, speed: number) => i.entities.updateAttributes(scope(), id, { speed: { type: 'Property', value: speed } });

/** Every (entity id, speed) notified, in arrival order. */
function notified(): Array<[string, number]> {
  const out: Array<[string, number]> = [];
  for (const r of receiver.received) {
    for (const e of (r.body as unknown as { data: Array<{ id: string; speed: { value: number } }> }).data) out.push([e.id, e.speed.value]);
  }
  return out;
}

async function pair(): Promise<{ leader: Instance; follower: Instance }> {
  const a = await startInstance('a');
  const b = await startInstance('b');
  const leader = [a, b].find((i) => i.coordinator.isLeader())!;
  expect([a, b].filter((i) => i.coordinator.isLeader())).toHaveLength(1);
  return { leader, follower: leader === a ? b : a };
}

describe('two broker instances on one store and one Redis behave as one broker (issue 7)', () => {
  it('each change notifies once, not once per instance, whichever instance it was made on (5.8.6)', async () => {
    const { leader, follower } = await pair();
    await follower.subscriptions.create(scope(), subscription('urn:ngsi-ld:Subscription:once'));
    expect(await until(() => leader.subscriptions.compiledOne('', 'urn:ngsi-ld:Subscription:once') !== undefined, 5000)).toBe(true);
    const expected: Array<[string, number]> = [];
    for (let i = 0; i < 30; i++) {
      const id = `urn:ngsi-ld:Vehicle:${i}`;
      await (i % 2 ? leader : follower).entities.create(scope(), vehicle(id, i));
      expected.push([id, i]);
    }
    expect(await until(() => notified().length >= 30, 10_000)).toBe(true);
    await sleep(500);
    expect(notified().sort()).toEqual(expected.sort());
    // Delivery counters (5.2.14.2) are kept by whichever instance sent: together they count every notification.
    const sent = [...leader.outcomes, ...follower.outcomes].filter((o) => o.ok).length;
    expect(sent).toBe(receiver.received.length);
  });

  it('a subscription deleted on one instance no longer fires on the other (5.8.5)', async () => {
    const { leader, follower } = await pair();
    await leader.subscriptions.create(scope(), subscription('urn:ngsi-ld:Subscription:gone'));
    await leader.entities.create(scope(), vehicle('urn:ngsi-ld:Vehicle:x', 1));
    expect(await until(() => notified().length === 1, 5000)).toBe(true);
    expect(await until(() => follower.subscriptions.compiledOne('', 'urn:ngsi-ld:Subscription:gone') !== undefined, 5000)).toBe(true);
    // Deleted where the engine does not run: the leader's engine must hear of it.
    await follower.subscriptions.delete(scope(), 'urn:ngsi-ld:Subscription:gone');
    expect(await until(() => leader.subscriptions.compiledOne('', 'urn:ngsi-ld:Subscription:gone') === undefined, 5000)).toBe(true);
    await setSpeed(leader, 'urn:ngsi-ld:Vehicle:x', 2);
    await setSpeed(follower, 'urn:ngsi-ld:Vehicle:x', 3);
    await sleep(800);
    expect(notified()).toEqual([['urn:ngsi-ld:Vehicle:x', 1]]);
  });

  it('throttling is one state for the broker: changes through both instances give one notification per window (5.2.12)', async () => {
    const { leader, follower } = await pair();
    await follower.subscriptions.create(scope(), subscription('urn:ngsi-ld:Subscription:throttled', { throttling: 1 }));
    expect(await until(() => leader.subscriptions.compiledOne('', 'urn:ngsi-ld:Subscription:throttled') !== undefined, 5000)).toBe(true);
    await leader.entities.create(scope(), vehicle('urn:ngsi-ld:Vehicle:t', 0));
    const start = Date.now();
    for (let v = 1; v <= 8; v++) await setSpeed(v % 2 ? follower : leader, 'urn:ngsi-ld:Vehicle:t', v);
    expect(Date.now() - start).toBeLessThan(900);
    // The first change at once, everything else folded into one notification when the window ends.
    expect(await until(() => notified().length >= 2, 5000)).toBe(true);
    await sleep(1300);
    expect(notified()).toEqual([
      ['urn:ngsi-ld:Vehicle:t', 0],
      ['urn:ngsi-ld:Vehicle:t', 8],
    ]);
    expect(receiver.received[1]!.at - receiver.received[0]!.at).toBeGreaterThanOrEqual(900);
  });

  it('when the leader goes, the other instance leads and notifies the changes made in between (at-least-once)', async () => {
    const { leader, follower } = await pair();
    await leader.subscriptions.create(scope(), subscription('urn:ngsi-ld:Subscription:failover'));
    expect(await until(() => follower.subscriptions.compiledOne('', 'urn:ngsi-ld:Subscription:failover') !== undefined, 5000)).toBe(true);
    await leader.close();
    // No leader right now (the follower renews every lease/3): these changes wait in the change log.
    for (let i = 0; i < 5; i++) await follower.entities.create(scope(), vehicle(`urn:ngsi-ld:Vehicle:f${i}`, i));
    expect(await until(() => follower.coordinator.isLeader(), 3000)).toBe(true);
    expect(await until(() => notified().length >= 5, 10_000)).toBe(true);
    expect(new Set(notified().map(([id]) => id))).toEqual(new Set([0, 1, 2, 3, 4].map((i) => `urn:ngsi-ld:Vehicle:f${i}`)));
  });
});
