import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { NgsiError } from '../../src/common/errors.js';
import { ContextResolver } from '../../src/jsonld/resolver.js';
import type { LdContext } from '../../src/jsonld/types.js';
import type { DeliveryOutcome } from '../../src/notifications/types.js';
import { openStores, type Stores } from '../../src/store/index.js';
import type { SubscriptionStore } from '../../src/store/subscription-store.js';
import type { CompiledSubscription } from '../../src/subscriptions/compiled.js';
import { SubscriptionService, type SubscriptionServiceOptions } from '../../src/subscriptions/service.js';
import { TempDirs } from '../store/helpers.js';

const CTX_URL = 'https://contexts.example/ctx.jsonld';
const EX = 'https://example.org/ns#';
const endpoint = { uri: 'http://receiver.example/notify' };
const body = (extra: Record<string, unknown> = {}) => ({ type: 'Subscription', entities: [{ type: 'Vehicle' }], watchedAttributes: ['speed'], notification: { endpoint }, ...extra });

/** A resolver whose only remote @context is CTX_URL, while `online`; others fail as unreachable. */
function resolverFor(state: { online: boolean }): ContextResolver {
  const fetch = async (url: string | URL | Request) => {
    if (!state.online || String(url) !== CTX_URL) throw new Error('unreachable');
    return new Response(JSON.stringify({ '@context': { Vehicle: `${EX}Vehicle`, speed: `${EX}speed` } }), { headers: { 'content-type': 'application/ld+json' } });
  };
  return new ContextResolver({ timeoutMs: 200, cacheTtlSec: 60, fetch: fetch as typeof globalThis.fetch });
}

const dirs = new TempDirs();
let dataDir: string;
let stores: Stores;
let service: SubscriptionService;
let network: { online: boolean };
let resolver: ContextResolver;
let ctx: LdContext;
let core: LdContext;
let now: number;
let mutations: number;
const errors: unknown[] = [];

/** The store, counting writes. */
function counting(store: SubscriptionStore): SubscriptionStore {
  return {
    create: (s) => store.create(s),
    get: (t, id) => store.get(t, id),
    mutate: (t, id, decide) => {
      mutations++;
      return store.mutate(t, id, decide);
    },
    delete: (t, id) => store.delete(t, id),
    list: (t, p) => store.list(t, p),
    all: () => store.all(),
    close: () => store.close(),
  };
}

async function open(opts: Partial<SubscriptionServiceOptions> = {}): Promise<void> {
  stores = await openStores({ store: 'embedded', dataDir });
  service = await SubscriptionService.open(counting(stores.subscriptions), {
    resolver,
    limits: { defaultLimit: 2, maxLimit: 100 },
    clock: () => now,
    onError: (err) => errors.push(err),
    ...opts,
  });
}

async function restart(opts: Partial<SubscriptionServiceOptions> = {}): Promise<void> {
  await service.close();
  await stores.close();
  await open(opts);
}

beforeAll(async () => {
  network = { online: true };
  resolver = resolverFor(network);
  ctx = await resolver.resolve(CTX_URL);
  core = await resolver.resolve();
});

beforeEach(async () => {
  network.online = true;
  now = Date.parse('2030-01-01T00:00:00Z');
  mutations = 0;
  errors.length = 0;
  dataDir = await dirs.make();
  await open();
});

afterEach(async () => {
  await service.close();
  await stores.close();
  expect(errors).toEqual([]);
});
afterAll(() => dirs.cleanup());

const scope = (c: LdContext = ctx, tenant = '') => ({ tenant, ctx: c });

async function failure(p: Promise<unknown>): Promise<NgsiError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(NgsiError);
  return err as NgsiError;
}

describe('SubscriptionService: the API operations (clauses 5.8.1-5.8.5)', () => {
  it('creates with a generated id, or the given one; AlreadyExists on a duplicate (5.8.1.4)', async () => {
    const id = await service.create(scope(), body());
    expect(id).toMatch(/^urn:ngsi-ld:Subscription:[0-9a-f-]{36}$/);
    expect(await service.create(scope(), body({ id: 'urn:s:1' }))).toBe('urn:s:1');
    expect((await failure(service.create(scope(), body({ id: 'urn:s:1' })))).kind).toBe('AlreadyExists');
    // Tenants are apart.
    expect(await service.create(scope(ctx, 'city'), body({ id: 'urn:s:1' }))).toBe('urn:s:1');
  });

  it('retrieves with createdAt/modifiedAt; ResourceNotFound and BadRequestData for unknown and invalid ids', async () => {
    await service.create(scope(), body({ id: 'urn:s:1' }));
    const view = await service.retrieve(scope(), 'urn:s:1');
    expect(view.subscription).toMatchObject({ id: 'urn:s:1', tenant: '', createdAt: '2030-01-01T00:00:00.000Z', context: CTX_URL });
    expect(view.subscription.spec.watchedAttributes).toEqual([`${EX}speed`]);
    expect((await failure(service.retrieve(scope(ctx, 'city'), 'urn:s:1'))).kind).toBe('ResourceNotFound');
    expect((await failure(service.retrieve(scope(), 'InvalidUri'))).kind).toBe('BadRequestData');
    expect((await failure(service.delete(scope(), 'InvalidUri'))).kind).toBe('BadRequestData');
    expect((await failure(service.update(scope(), 'urn:s:none', { isActive: false }))).kind).toBe('ResourceNotFound');
  });

  it('lists pages with limit, offset, count and the neighbouring pages (5.5.9, 6.3.10)', async () => {
    for (const i of [1, 2, 3]) await service.create(scope(), body({ id: `urn:s:${i}` }));
    const first = await service.list(scope(), {});
    expect(first.items.map((v) => v.subscription.id)).toEqual(['urn:s:1', 'urn:s:2']);
    expect(first).toMatchObject({ next: { limit: '2', offset: '2' } });
    expect(first.prev).toBeUndefined();
    const second = await service.list(scope(), { limit: '1', offset: '1', count: 'true' });
    expect(second).toMatchObject({ count: 3, next: { limit: '1', offset: '2' }, prev: { limit: '1', offset: '0' } });
    const last = await service.list(scope(), { limit: '1', offset: '2' });
    expect(last.next).toBeUndefined();
    expect((await service.list(scope(), { limit: '0', count: 'true' })).count).toBe(3);
    expect((await failure(service.list(scope(), { limit: '0' }))).kind).toBe('BadRequestData');
    expect((await failure(service.list(scope(), { limit: '101' }))).kind).toBe('TooManyResults');
    expect((await failure(service.list(scope(), { pageAfter: 'urn:s:1' }))).message).toMatch(/limit and offset/);
  });

  it('updates (5.8.2) and deletes (5.8.5)', async () => {
    await service.create(scope(), body({ id: 'urn:s:1' }));
    now += 1000;
    await service.update(scope(), 'urn:s:1', { watchedAttributes: ['speed', 'fuel'], description: 'd' });
    const view = await service.retrieve(scope(), 'urn:s:1');
    expect(view.subscription.spec).toMatchObject({ description: 'd', watchedAttributes: [`${EX}speed`, 'https://uri.etsi.org/ngsi-ld/default-context/fuel'] });
    expect(view.subscription.modifiedAt).toBe('2030-01-01T00:00:01.000Z');
    expect(view.subscription.createdAt).toBe('2030-01-01T00:00:00.000Z');
    await service.delete(scope(), 'urn:s:1');
    expect((await failure(service.retrieve(scope(), 'urn:s:1'))).kind).toBe('ResourceNotFound');
    expect((await failure(service.delete(scope(), 'urn:s:1'))).kind).toBe('ResourceNotFound');
  });

  it('raises LdContextNotAvailable when jsonldContext cannot be fetched (5.8.1.4, 5.8.2.4)', async () => {
    network.online = false;
    expect((await failure(service.create(scope(), body({ jsonldContext: 'https://contexts.example/other.jsonld' })))).kind).toBe('LdContextNotAvailable');
    const id = await service.create(scope(core), body());
    expect((await failure(service.update(scope(core), id, { jsonldContext: 'https://contexts.example/other.jsonld' }))).kind).toBe('LdContextNotAvailable');
    expect((await service.retrieve(scope(core), id)).subscription.spec.jsonldContext).toBeUndefined();
  });
});

describe('SubscriptionService: status (clauses 5.2.12, 5.8.1.4, 5.8.2.4)', () => {
  const status = async (id: string) => {
    const c = service.compiledOne('', id)!;
    return c.active;
  };

  it('goes active -> paused -> active with isActive', async () => {
    const id = await service.create(scope(), body());
    expect(await status(id)).toBe(true);
    await service.update(scope(), id, { isActive: false });
    expect(await status(id)).toBe(false);
    await service.update(scope(), id, { isActive: true });
    expect(await status(id)).toBe(true);
  });

  it('expires at expiresAt, stays expired on isActive true, and is active again with a new expiresAt', async () => {
    const id = await service.create(scope(), body({ expiresAt: '2030-01-01T00:01:00Z' }));
    now += 120_000;
    expect((await service.retrieve(scope(), id)).at).toBe(now);
    await service.update(scope(), id, { isActive: true });
    expect(service.compiledOne('', id)!.active).toBe(false);
    await service.update(scope(), id, { expiresAt: '2030-02-01T00:00:00Z' });
    expect(service.compiledOne('', id)!.active).toBe(true);
  });

  it('tells listeners of creations, updates, deletions and expiry', async () => {
    now = Date.now();
    await restart({ clock: Date.now });
    const events: Array<[string, string, CompiledSubscription | undefined]> = [];
    const off = service.onChange((tenant, id, compiled) => events.push([tenant, id, compiled]));
    const expiresAt = new Date(Date.now() + 150).toISOString();
    await service.create(scope(ctx, 'city'), body({ id: 'urn:s:1', expiresAt }));
    expect(events.at(-1)).toMatchObject(['city', 'urn:s:1', { active: true, expiresAt }]);
    await service.update(scope(ctx, 'city'), 'urn:s:1', { throttling: 2 });
    expect(events.at(-1)![2]!.throttlingMs).toBe(2000);
    await new Promise((r) => setTimeout(r, 300));
    expect(events.at(-1)).toMatchObject(['city', 'urn:s:1', { active: false }]);
    expect(service.compiledOne('city', 'urn:s:1')!.active).toBe(false);
    await service.delete(scope(ctx, 'city'), 'urn:s:1');
    expect(events.at(-1)).toEqual(['city', 'urn:s:1', undefined]);
    expect(service.compiled()).toEqual([]);
    off();
    await service.create(scope(), body());
    expect(events).toHaveLength(4);
  });

  it('keeps going when a listener throws, reporting it', async () => {
    service.onChange(() => {
      throw new Error('listener broke');
    });
    await service.create(scope(), body());
    expect(errors.splice(0)).toEqual([new Error('listener broke')]);
  });
});

describe('SubscriptionService: durability', () => {
  it('keeps subscriptions over a restart and compiles them without network (remote @context down)', async () => {
    await service.create(scope(), body({ id: 'urn:s:1', q: 'speed>10' }));
    await service.update(scope(), 'urn:s:1', { isActive: false });
    const before = service.compiled();
    network.online = false;
    await restart();
    expect(service.compiled()).toEqual(before);
    expect(service.compiled()[0]).toMatchObject({ active: false, watchedAttributes: [`${EX}speed`], context: CTX_URL });
    expect(service.compiled()[0]!.selection.q).toMatchObject({ path: { attr: `${EX}speed` } });
  });
});

describe('SubscriptionService: delivery outcomes (clause 5.2.14.2)', () => {
  const outcome = (id: string, ok: boolean, at: string): DeliveryOutcome => ({
    notification: { id: `urn:n:${at}`, tenant: '', subscriptionId: id, endpoint: { ...endpoint, accept: 'application/json' }, contentType: 'application/json', body: '{}', headers: {}, createdAt: at, attempt: 1, notBefore: 0 },
    ok,
    at,
    ...(ok ? {} : { error: 'HTTP 500' }),
  });

  it('counts outcomes at once in reads, writes them in one batch, and flushes on close', async () => {
    await restart({ flushIntervalMs: 60_000 });
    const id = await service.create(scope(), body());
    mutations = 0;
    for (let i = 0; i < 1000; i++) service.recordOutcome(outcome(id, i % 10 !== 0, new Date(now + i).toISOString()));
    service.recordOutcome(outcome('urn:s:unknown', true, new Date(now).toISOString()));
    const view = await service.retrieve(scope(), id);
    expect(view.delivery).toMatchObject({ timesSent: 1000, timesFailed: 100, status: 'ok', lastNotification: new Date(now + 999).toISOString(), lastFailure: new Date(now + 990).toISOString() });
    expect(mutations).toBe(0);
    await restart({ flushIntervalMs: 60_000 });
    // Closing wrote the 1000 outcomes at once.
    expect(mutations).toBe(1);
    const stored = (await service.retrieve(scope(), id)).subscription.delivery;
    expect(stored).toMatchObject({ timesSent: 1000, timesFailed: 100, status: 'ok', lastSuccess: new Date(now + 999).toISOString() });
  });

  it('flushes by itself after the interval, one write per subscription', async () => {
    await restart({ flushIntervalMs: 50 });
    const a = await service.create(scope(), body());
    const b = await service.create(scope(), body());
    mutations = 0;
    for (let i = 0; i < 200; i++) service.recordOutcome(outcome(i % 2 ? a : b, true, new Date(now + i).toISOString()));
    service.recordOutcome(outcome(a, false, new Date(now + 500).toISOString()));
    await new Promise((r) => setTimeout(r, 200));
    expect(mutations).toBe(2);
    const stats = (await stores.subscriptions.get('', a))!.delivery;
    expect(stats).toMatchObject({ timesSent: 101, timesFailed: 1, status: 'failed', lastFailure: new Date(now + 500).toISOString() });
  });

  it('takes the status of the latest attempt when outcomes arrive out of order', async () => {
    const id = await service.create(scope(), body());
    service.recordOutcome(outcome(id, false, '2030-01-01T00:00:02.000Z'));
    service.recordOutcome(outcome(id, true, '2030-01-01T00:00:01.000Z'));
    await service.flush();
    service.recordOutcome(outcome(id, true, '2030-01-01T00:00:00.500Z'));
    expect((await service.retrieve(scope(), id)).delivery).toMatchObject({ timesSent: 3, status: 'failed', lastNotification: '2030-01-01T00:00:02.000Z', lastSuccess: '2030-01-01T00:00:01.000Z' });
  });

  it('keeps counters over an update of the subscription, and drops them with a deletion', async () => {
    const id = await service.create(scope(), body());
    service.recordOutcome(outcome(id, true, '2030-01-01T00:00:01.000Z'));
    await service.flush();
    await service.update(scope(), id, { description: 'x' });
    expect((await service.retrieve(scope(), id)).delivery.timesSent).toBe(1);
    service.recordOutcome(outcome(id, true, '2030-01-01T00:00:02.000Z'));
    await service.delete(scope(), id);
    await service.flush();
    expect(await stores.subscriptions.all()).toEqual([]);
  });
});
