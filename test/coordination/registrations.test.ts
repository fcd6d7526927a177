import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { RedisCoordinator, shareCaches } from '../../src/coordination/index.js';
import { RegistrationSources } from '../../src/forwarding/sources.js';
import type { SourceQuery } from '../../src/forwarding/types.js';
import { ContextResolver } from '../../src/jsonld/resolver.js';
import type { LdContext } from '../../src/jsonld/types.js';
import { RegistrationService } from '../../src/registrations/service.js';
import { openStores, type Stores } from '../../src/store/index.js';
import { dropDatabase, storeFromEnv, testDatabaseName } from '../helpers/store-env.js';
import { until } from '../notifications/helpers.js';
import { openTestBackend } from '../store/mongo/store-backend.js';
import { TempDirs } from '../store/helpers.js';
import { startRedisServer, type RedisServer } from './redis-server.js';

/**
 * Two broker instances' registration services over one store and one real Redis, wired as src/server.ts wires them
 * (shareCaches): each keeps its own registration cache, which forwarding (RegistrationSources over allOf) reads;
 * the other instance's writes reach it as invalidations on the 'registrations' channel. With MUSUBI_STORE=mongo each
 * instance opens its own connection to one database; otherwise both use ONE embedded store object, and the same
 * scenarios run again on the MongoDB backend's code over the in-process stand-in.
 */

const EX = 'https://example.org/ns#';
const limits = { defaultLimit: 20, maxLimit: 100 };
const dirs = new TempDirs();
let redis: RedisServer;
let ctx: LdContext;
let testNo = 0;
const closers: Array<() => Promise<void>> = [];

interface Instance {
  stores: Stores;
  registrations: RegistrationService;
  forwarding: RegistrationSources;
}

let openStore: () => Promise<Stores>;

beforeAll(async () => {
  redis = await startRedisServer();
  ctx = await new ContextResolver({ timeoutMs: 1000, cacheTtlSec: 60 }).resolve({ Vehicle: `${EX}Vehicle`, speed: `${EX}speed` });
});
afterAll(async () => {
  await redis.stop();
  await dirs.cleanup();
});
/**
 * 'environment': the store the environment selects. 'mongo-stand-in': the MongoDB backend's code over the in-process
 * stand-in (test/store/mongo/store-backend.ts), one store object for both instances; only without a real MongoDB.
 */
type Backend = 'environment' | 'mongo-stand-in';
const backends: Backend[] = storeFromEnv().store === 'mongo' ? ['environment'] : ['environment', 'mongo-stand-in'];

async function useBackend(backend: Backend): Promise<void> {
  const env = storeFromEnv();
  const dataDir = await dirs.make();
  if (backend === 'mongo-stand-in') {
    const standin = await openTestBackend();
    closers.push(() => standin.close());
    openStore = async () => standin.stores;
  } else if (env.store === 'mongo') {
    const mongoDb = testDatabaseName();
    closers.push(() => dropDatabase(env.mongoUrl, mongoDb));
    openStore = async () => {
      const stores = await openStores({ store: 'mongo', mongoUrl: env.mongoUrl, mongoDb, dataDir });
      closers.push(() => stores.close());
      return stores;
    };
  } else {
    const stores = await openStores({ store: 'embedded', dataDir });
    closers.push(() => stores.close());
    openStore = async () => stores;
  }
}
afterEach(async () => {
  // Last opened, first closed: services and coordinators before the stores, the database dropped last.
  for (const close of closers.splice(0).reverse()) await close();
});

async function instance(prefix: string): Promise<Instance> {
  const stores = await openStore();
  const registrations = await RegistrationService.open(stores.registrations, { entities: stores.entities, limits });
  closers.push(() => registrations.close());
  const coordinator = await RedisCoordinator.connect({ url: redis.url, prefix });
  closers.push(() => coordinator.close());
  shareCaches(coordinator, { subscriptions: [], registrations });
  return { stores, registrations, forwarding: new RegistrationSources((tenant) => registrations.allOf(tenant)) };
}

async function twoInstances(): Promise<[Instance, Instance]> {
  const prefix = `reg${++testNo}:`;
  return [await instance(prefix), await instance(prefix)];
}

const scope = (tenant = '') => ({ tenant, ctx });
const registration = (id: string) => ({
  id,
  type: 'ContextSourceRegistration',
  information: [{ entities: [{ type: 'Vehicle' }], propertyNames: ['speed'] }],
  endpoint: 'http://cs.example',
});
const retrieveVehicle: SourceQuery = { operation: 'retrieveEntity', ids: ['urn:ngsi-ld:Vehicle:1'], types: { op: 'type', iri: `${EX}Vehicle` } };
const sourcesOf = async (i: Instance, tenant = '') => (await i.forwarding.matching(tenant, retrieveVehicle)).map((s) => s.registrationId);

describe.each(backends)('registration caches shared through Redis pub/sub (several instances, issue 7; %s store)', (backend) => {
  beforeEach(() => useBackend(backend));

  it('a registration created on one instance is used by forwarding on the other, whose cache was already filled (5.9.2, 5.12)', async () => {
    const [a, b] = await twoInstances();
    expect(await sourcesOf(b)).toEqual([]);
    expect(await sourcesOf(b, 't2')).toEqual([]);
    await a.registrations.create(scope(), registration('urn:r:1'));
    expect(await until(async () => (await sourcesOf(b)).includes('urn:r:1'))).toBe(true);
    expect(await sourcesOf(b)).toEqual(['urn:r:1']);
    expect(await sourcesOf(b, 't2')).toEqual([]);
    await b.registrations.create(scope('t2'), registration('urn:r:2'));
    expect(await until(async () => (await sourcesOf(a, 't2')).includes('urn:r:2'))).toBe(true);
  });

  it('an update on one instance changes what forwarding on the other sends where (5.9.3)', async () => {
    const [a, b] = await twoInstances();
    // b's cache of the tenant is filled first: b can only see what follows through an invalidation.
    expect(await sourcesOf(b)).toEqual([]);
    await a.registrations.create(scope(), registration('urn:r:1'));
    expect(await until(async () => (await sourcesOf(b)).includes('urn:r:1'))).toBe(true);
    await a.registrations.update(scope(), 'urn:r:1', { endpoint: 'http://moved.example' });
    const endpoint = async () => (await b.forwarding.matching('', retrieveVehicle))[0]?.endpoint;
    expect(await until(async () => (await endpoint()) === 'http://moved.example')).toBe(true);
  });

  it('a deletion on one instance stops the registration matching on the other (5.9.4)', async () => {
    const [a, b] = await twoInstances();
    // b's cache of the tenant is filled first: b can only see what follows through an invalidation.
    expect(await sourcesOf(b)).toEqual([]);
    await a.registrations.create(scope(), registration('urn:r:1'));
    await a.registrations.create(scope(), registration('urn:r:2'));
    expect(await until(async () => (await sourcesOf(b)).length === 2)).toBe(true);
    await a.registrations.delete(scope(), 'urn:r:1');
    expect(await until(async () => !(await sourcesOf(b)).includes('urn:r:1'))).toBe(true);
    expect(await sourcesOf(b)).toEqual(['urn:r:2']);
    expect((await b.registrations.matching('', { operation: 'retrieveEntity' })).map((r) => r.id)).toEqual(['urn:r:2']);
  });

  it('statistics writes (recordOutcome) publish nothing: the other instance keeps its cache', async () => {
    const [a, b] = await twoInstances();
    // b's cache of the tenant is filled first: b can only see what follows through an invalidation.
    expect(await sourcesOf(b)).toEqual([]);
    await a.registrations.create(scope(), registration('urn:r:1'));
    expect(await until(async () => (await sourcesOf(b)).includes('urn:r:1'))).toBe(true);
    const cached = await b.registrations.allOf('');
    expect(await b.registrations.allOf('marker')).toEqual([]);
    await a.registrations.recordOutcome('', 'urn:r:1', true);
    // A marker write after it: once it has arrived, an invalidation for the statistics would have too (one channel, in order).
    await a.registrations.create(scope('marker'), registration('urn:r:m'));
    expect(await until(async () => (await b.registrations.allOf('marker')).length === 1)).toBe(true);
    expect((await b.registrations.allOf(''))[0]).toBe(cached[0]);
  });

  it('after a reconnection to Redis every tenant is read again: invalidations missed meanwhile do not leave a stale cache', async () => {
    const [a, b] = await twoInstances();
    expect(await sourcesOf(b)).toEqual([]);
    // A write whose invalidation b never hears (as when it was published while b was cut off from Redis).
    await a.stores.registrations.create({
      id: 'urn:r:missed',
      tenant: '',
      spec: { information: [{ entities: [{ type: [`${EX}Vehicle`] }] }], endpoint: 'http://cs.example' },
      context: [],
      createdAt: new Date().toISOString(),
      modifiedAt: new Date().toISOString(),
      stats: { timesSent: 0, timesFailed: 0 },
    });
    expect(await sourcesOf(b)).toEqual([]);
    const admin = new Redis(redis.url);
    try {
      await admin.call('CLIENT', 'KILL', 'TYPE', 'pubsub');
    } finally {
      admin.disconnect();
    }
    expect(await until(async () => (await sourcesOf(b)).includes('urn:r:missed'))).toBe(true);
  });
});
