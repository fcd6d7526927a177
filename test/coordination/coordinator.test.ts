import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { shareCaches } from '../../src/coordination/index.js';
import { RedisCoordinator } from '../../src/coordination/redis.js';
import type { Invalidation } from '../../src/coordination/types.js';
import { ContextResolver } from '../../src/jsonld/resolver.js';
import type { LdContext } from '../../src/jsonld/types.js';
import { openStores, type Stores } from '../../src/store/index.js';
import { SubscriptionService } from '../../src/subscriptions/service.js';
import { sleep, until } from '../notifications/helpers.js';
import { useRedisServer } from './redis-server.js';

const redis = useRedisServer();
let testNo = 0;
const open: RedisCoordinator[] = [];
const cleanups: Array<() => Promise<void> | void> = [];

afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.close()));
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Coordinators of one test share a prefix; tests never see each other's keys and channels. */
async function coordinators(n: number, leaseMs = 600): Promise<RedisCoordinator[]> {
  const prefix = `c${++testNo}:`;
  const made: RedisCoordinator[] = [];
  for (let i = 0; i < n; i++) {
    const c = await RedisCoordinator.connect({ url: redis.url, prefix, leaseMs, instanceId: `i${i}`, onError: () => undefined });
    open.push(c);
    made.push(c);
  }
  return made;
}

/** An embedded store of its own (removed after the test) and the core context. */
async function embeddedStores(): Promise<{ stores: Stores; resolver: ContextResolver; ctx: LdContext }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'musubi-coord-'));
  const stores = await openStores({ store: 'embedded', dataDir });
  cleanups.push(async () => {
    await stores.close();
    rmSync(dataDir, { recursive: true, force: true });
  });
  const resolver = new ContextResolver({ timeoutMs: 1000, cacheTtlSec: 60 });
  return { stores, resolver, ctx: await resolver.resolve() };
}

describe('invalidation between instances through Redis pub/sub (issue 7)', () => {
  it('a message published by one instance reaches the others, not itself, on its own concern only', async () => {
    const [a, b, c] = await coordinators(3);
    const heard: Record<string, Array<[string, Invalidation]>> = { a: [], b: [], c: [] };
    for (const [name, co] of [['a', a!], ['b', b!], ['c', c!]] as const) {
      co.subscribe('subscriptions', (m) => heard[name]!.push(['subscriptions', m]));
      co.subscribe('contexts', (m) => heard[name]!.push(['contexts', m]));
    }
    await a!.publish('subscriptions', { tenant: 'acme', id: 'urn:ngsi-ld:Subscription:1' });
    await a!.publish('contexts', { tenant: '', id: 'https://example.org/ctx.jsonld' });
    expect(await until(() => heard.b!.length === 2 && heard.c!.length === 2, 5000)).toBe(true);
    await sleep(100);
    expect(heard.a).toEqual([]);
    expect(heard.b).toEqual([
      ['subscriptions', { tenant: 'acme', id: 'urn:ngsi-ld:Subscription:1' }],
      ['contexts', { tenant: '', id: 'https://example.org/ctx.jsonld' }],
    ]);
    expect(heard.c).toEqual(heard.b);
  });

  it('an instance cut off from Redis is told to reload everything once it is back (messages may have been missed)', async () => {
    const [a, b] = await coordinators(2);
    const heard: Invalidation[] = [];
    b!.subscribe('subscriptions', (m) => heard.push(m));
    // Kills the pub/sub connections; ioredis reconnects and subscribes again.
    await redis.admin.call('CLIENT', 'KILL', 'TYPE', 'pubsub');
    expect(await until(() => heard.some((m) => m.all === true), 5000)).toBe(true);
    heard.length = 0;
    await a!.publish('subscriptions', { tenant: '', id: 'urn:x' });
    expect(await until(() => heard.length === 1, 5000)).toBe(true);
    expect(heard).toEqual([{ tenant: '', id: 'urn:x' }]);
  });

  it('two SubscriptionServices over one store: a subscription created, updated or deleted on one is current on the other (5.8.1, 5.8.2, 5.8.5)', async () => {
    const { stores, resolver, ctx } = await embeddedStores();
    const services = await Promise.all([0, 1].map(() => SubscriptionService.open(stores.subscriptions, { resolver, limits: { defaultLimit: 20, maxLimit: 100 } })));
    cleanups.push(async () => void (await Promise.all(services.map((s) => s.close()))));
    const [a, b] = services as [SubscriptionService, SubscriptionService];
    const [ca, cb] = await coordinators(2);
    shareCaches(ca!, { subscriptions: [a] });
    shareCaches(cb!, { subscriptions: [b] });
    const seenByB: Array<[string, boolean]> = [];
    b.onChange((_tenant, id, compiled) => seenByB.push([id, compiled?.active ?? false]));

    const scope = { tenant: 'acme', ctx };
    const id = await a.create(scope, { type: 'Subscription', entities: [{ type: 'Vehicle' }], notification: { endpoint: { uri: 'http://127.0.0.1:9/n' } } });
    expect(await until(() => b.compiledOne('acme', id) !== undefined, 5000)).toBe(true);
    expect(b.compiledOne('acme', id)!.active).toBe(true);

    await b.update(scope, id, { isActive: false });
    expect(await until(() => a.compiledOne('acme', id)?.active === false, 5000)).toBe(true);

    await a.delete(scope, id);
    expect(await until(() => b.compiledOne('acme', id) === undefined, 5000)).toBe(true);
    // The engine on B (a listener) heard the creation and the deletion.
    expect(seenByB[0]).toEqual([id, true]);
    expect(seenByB.at(-1)).toEqual([id, false]);
    expect(b.compiled()).toEqual([]);
  });

  it('resync reloads every subscription: one created while the instance was not listening appears', async () => {
    const { stores, resolver, ctx } = await embeddedStores();
    const a = await SubscriptionService.open(stores.subscriptions, { resolver, limits: { defaultLimit: 20, maxLimit: 100 } });
    const b = await SubscriptionService.open(stores.subscriptions, { resolver, limits: { defaultLimit: 20, maxLimit: 100 } });
    cleanups.push(async () => void (await Promise.all([a.close(), b.close()])));
    const kept = await b.create({ tenant: '', ctx }, { type: 'Subscription', entities: [{ type: 'Bus' }], notification: { endpoint: { uri: 'http://127.0.0.1:9/n' } } });
    const gone = await b.create({ tenant: '', ctx }, { type: 'Subscription', entities: [{ type: 'Vehicle' }], notification: { endpoint: { uri: 'http://127.0.0.1:9/n' } } });
    await a.delete({ tenant: '', ctx }, gone);
    const id = await a.create({ tenant: '', ctx }, { type: 'Subscription', entities: [{ type: 'Car' }], notification: { endpoint: { uri: 'http://127.0.0.1:9/n' } } });
    // b heard of neither change.
    expect(b.compiledOne('', id)).toBeUndefined();
    expect(b.compiledOne('', gone)).toBeDefined();
    const [ca, cb] = await coordinators(2);
    shareCaches(ca!, { subscriptions: [a] });
    shareCaches(cb!, { subscriptions: [b] });
    const heard: Array<[string, boolean]> = [];
    b.onChange((_tenant, changed, compiled) => heard.push([changed, compiled !== undefined]));
    await redis.admin.call('CLIENT', 'KILL', 'TYPE', 'pubsub');
    expect(await until(() => b.compiledOne('', id) !== undefined && b.compiledOne('', gone) === undefined, 5000)).toBe(true);
    await sleep(100);
    // Only what changed is announced (an engine or CSource notifier hears of nothing twice).
    expect(heard.sort()).toEqual([
      [gone, false],
      [id, true],
    ].sort());
    expect(b.compiledOne('', kept)).toBeDefined();
  });

  it('a @context another instance saw change is fetched again, not served stale from the cache', async () => {
    let version = 1;
    const server: Server = createServer((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/ld+json' });
      res.end(JSON.stringify({ '@context': { speed: `https://example.org/v${version}/speed` } }));
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', () => ok()));
    cleanups.push(() => new Promise<void>((ok) => server.close(() => ok())));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/ctx.jsonld`;
    const [ca, cb] = await coordinators(2);
    const resolverB = new ContextResolver({ timeoutMs: 1000, cacheTtlSec: 3600 });
    shareCaches(cb!, { subscriptions: [], resolver: resolverB });
    expect((await resolverB.resolve(url)).expand('speed')).toBe('https://example.org/v1/speed');
    expect((await resolverB.resolve([url, { other: 'https://example.org/other' }])).expand('speed')).toBe('https://example.org/v1/speed');
    version = 2;
    expect((await resolverB.resolve(url)).expand('speed')).toBe('https://example.org/v1/speed');
    await ca!.publish('contexts', { tenant: '', id: url });
    expect(await until(() => resolverB.cached(url) === undefined, 5000)).toBe(true);
    expect((await resolverB.resolve(url)).expand('speed')).toBe('https://example.org/v2/speed');
    expect((await resolverB.resolve([url, { other: 'https://example.org/other' }])).expand('speed')).toBe('https://example.org/v2/speed');
  });
});

describe('leader lease (issue 7: throttling and timeInterval state on one instance)', () => {
  interface Term {
    who: string;
    startedAt: number;
    stoppedAt?: number;
  }

  async function compete(cs: RedisCoordinator[]): Promise<Term[]> {
    const terms: Term[] = [];
    await Promise.all(
      cs.map((c) =>
        c.onLeadership(
          () => void terms.push({ who: c.instanceId, startedAt: Date.now() }),
          () => void ([...terms].reverse().find((t) => t.who === c.instanceId && t.stoppedAt === undefined)!.stoppedAt = Date.now()),
        ),
      ),
    );
    return terms;
  }

  const leaders = (cs: RedisCoordinator[]) => cs.filter((c) => c.isLeader()).map((c) => c.instanceId);

  it('exactly one of three instances leads, and keeps leading while it renews', async () => {
    const cs = await coordinators(3, 300);
    const terms = await compete(cs);
    expect(leaders(cs)).toHaveLength(1);
    // Several lease lifetimes: renewals keep the same leader, nobody else starts.
    await sleep(1200);
    expect(terms).toHaveLength(1);
    expect(terms[0]!.stoppedAt).toBeUndefined();
    expect(leaders(cs)).toEqual([terms[0]!.who]);
    expect(cs.find((c) => c.isLeader())!.fence()?.token).toMatch(new RegExp(`^${terms[0]!.who}:\\d+$`));
  });

  it('a leader that stops (close) hands over at once: another instance starts, after the first stopped', async () => {
    const cs = await coordinators(2, 600);
    const terms = await compete(cs);
    const first = cs.find((c) => c.isLeader())!;
    const t0 = Date.now();
    await first.close();
    expect(await until(() => leaders(cs).length === 1 && !first.isLeader(), 3000)).toBe(true);
    expect(Date.now() - t0).toBeLessThan(600);
    expect(terms).toHaveLength(2);
    expect(terms[0]!.stoppedAt).toBeDefined();
    expect(terms[1]!.startedAt).toBeGreaterThanOrEqual(terms[0]!.stoppedAt!);
  });

  it('a leader whose renewals stop steps down, and the other takes over within the lease time, never both at once', async () => {
    const leaseMs = 600;
    const cs = await coordinators(2, leaseMs);
    const terms = await compete(cs);
    const first = cs.find((c) => c.isLeader())!;
    const firstToken = first.fence()!.token;
    // Cut off from Redis: no renewal reaches it any more (and ioredis does not reconnect after disconnect()).
    const cutAt = Date.now();
    first.redis.disconnect();
    expect(await until(() => terms.length === 2, leaseMs * 3)).toBe(true);
    const [old, next] = terms as [Term, Term];
    expect(old.stoppedAt).toBeDefined();
    expect(old.stoppedAt!).toBeLessThan(next.startedAt);
    expect(next.startedAt - cutAt).toBeLessThan(leaseMs + leaseMs / 2);
    expect(first.isLeader()).toBe(false);
    expect(first.fence()).toBeUndefined();
    const second = cs.find((c) => c !== first)!;
    expect(second.fence()!.token).not.toBe(firstToken);
    expect(await redis.admin.get(`${second.prefix}leader`)).toBe(second.fence()!.token);
  });
});
