import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DiscoveryService } from '../../src/entities/discovery-service.js';
import { QueryService } from '../../src/entities/query-service.js';
import { EntityService } from '../../src/entities/service.js';
import { createApp } from '../../src/http/app.js';
import { ContextResolver } from '../../src/jsonld/resolver.js';
import type { LdContext } from '../../src/jsonld/types.js';
import { createLogger } from '../../src/logger.js';
import { openStores, type Stores } from '../../src/store/index.js';
import { SubscriptionService } from '../../src/subscriptions/service.js';
import { TemporalService } from '../../src/temporal/service.js';
import { MemoryTemporalStore } from './memory-temporal-store.js';

const ID = 'urn:ngsi-ld:Vehicle:1';
let ctx: LdContext;
let store: MemoryTemporalStore;
let service: TemporalService;
const resolver = new ContextResolver({ timeoutMs: 100, cacheTtlSec: 60 });
const limits = { defaultLimit: 20, maxLimit: 1000, maxInstances: 3 };
const scope = () => ({ tenant: '', ctx });

function history(values: number[]) {
  return values.map((v, i) => ({ type: 'Property', value: v, observedAt: `2024-01-0${i + 1}T00:00:00Z` }));
}

beforeAll(async () => {
  ctx = await resolver.resolve(undefined);
});
beforeEach(async () => {
  store = new MemoryTemporalStore();
  service = new TemporalService(store, limits);
  await service.upsert(scope(), { id: ID, type: 'Vehicle', speed: history([10, 20, 30, 40, 50]), owner: { type: 'Relationship', object: 'urn:ngsi-ld:P:1', observedAt: '2024-01-02T00:00:00Z' } });
});

describe('upsert and retrieve (5.6.11, 5.7.3)', () => {
  it('creates, then appends (false: updated)', async () => {
    expect(await service.upsert(scope(), { id: ID, type: 'Car', speed: { type: 'Property', value: 60, observedAt: '2024-01-06T00:00:00Z' } })).toBe(false);
    const e = await store.getEntity('', ID);
    expect(e!.type).toEqual(['https://uri.etsi.org/ngsi-ld/default-context/Vehicle', 'https://uri.etsi.org/ngsi-ld/default-context/Car']);
    const r = await service.retrieve(scope(), ID, { lastN: '1', attrs: 'speed' });
    expect(r.body.speed).toMatchObject([{ value: 60 }]);
  });
  it('applies timerel and formats', async () => {
    const r = await service.retrieve(scope(), ID, { timerel: 'between', timeAt: '2024-01-02T00:00:00Z', endTimeAt: '2024-01-04T00:00:00Z', format: 'temporalValues' });
    expect(r.range).toBeUndefined();
    expect(r.body.speed).toEqual({ type: 'Property', values: [[20, '2024-01-02T00:00:00Z'], [30, '2024-01-03T00:00:00Z']] });
    expect(r.body.owner).toEqual({ type: 'Relationship', objects: [['urn:ngsi-ld:P:1', '2024-01-02T00:00:00Z']] });
    const agg = await service.retrieve(scope(), ID, { timerel: 'before', timeAt: '2024-01-04T00:00:00Z', format: 'aggregatedValues', aggrMethods: 'sum', attrs: 'speed' });
    expect(agg.body.speed).toEqual({ type: 'Property', sum: [[60, '2024-01-01T00:00:00.000Z', '2024-01-04T00:00:00.000Z']] });
  });
  it('pages forwards with 206 Content-Range past maxInstances (6.3.10)', async () => {
    const r = await service.retrieve(scope(), ID, { timerel: 'after', timeAt: '2024-01-01T00:00:00Z', attrs: 'speed' });
    expect((r.body.speed as unknown[]).length).toBe(3);
    expect(r.range).toEqual({ start: '2024-01-01T00:00:00.000Z', end: '2024-01-03T00:00:00Z', size: '*' });
  });
  it('pages backwards with lastN (6.3.10)', async () => {
    const r = await service.retrieve(scope(), ID, { timerel: 'before', timeAt: '2024-01-10T00:00:00Z', lastN: '5', attrs: 'speed' });
    expect((r.body.speed as Array<{ value: number }>).map((i) => i.value)).toEqual([30, 40, 50]);
    expect(r.range).toEqual({ start: '2024-01-10T00:00:00.000Z', end: '2024-01-03T00:00:00Z', size: 5 });
  });
  it('cuts every attribute at the same time so the next page misses nothing', async () => {
    const r = await service.retrieve(scope(), ID, {});
    expect(r.range?.end).toBe('2024-01-03T00:00:00Z');
    expect((r.body.owner as unknown[]).length).toBe(1);
  });
  it('ResourceNotFound for an unknown entity, BadRequestData for a bad id', async () => {
    await expect(service.retrieve(scope(), 'urn:ngsi-ld:none', {})).rejects.toMatchObject({ kind: 'ResourceNotFound' });
    await expect(service.retrieve(scope(), 'no uri', {})).rejects.toMatchObject({ kind: 'BadRequestData' });
  });
  it('NonexistentTenant for a tenant without history', async () => {
    await expect(service.retrieve({ tenant: 'nobody', ctx }, ID, {})).rejects.toMatchObject({ kind: 'NonexistentTenant' });
  });
});

describe('query (5.7.4)', () => {
  it('needs a temporal query and a narrowing', async () => {
    await expect(service.query(scope(), { type: 'Vehicle' })).rejects.toMatchObject({ kind: 'BadRequestData' });
    await expect(service.query(scope(), { timerel: 'after', timeAt: '2024-01-01T00:00:00Z' })).rejects.toMatchObject({ kind: 'BadRequestData' });
  });
  it('selects by type and drops entities without instances in range', async () => {
    await service.upsert(scope(), { id: 'urn:ngsi-ld:Vehicle:2', type: 'Vehicle', speed: history([1]) });
    const r = await service.query(scope(), { type: 'Vehicle', timerel: 'after', timeAt: '2024-01-02T00:00:00Z', attrs: 'speed', lastN: '1' });
    expect(r.entities.map((e) => e.id)).toEqual([ID]);
    const body = service.bodyToParams({ type: 'Query', entities: [{ type: 'Vehicle' }], temporalQ: { timerel: 'before', timeAt: '2024-01-02T00:00:00Z' } });
    const p = await service.query(scope(), body.params, body.selectors);
    expect(p.entities.map((e) => e.id)).toEqual([ID, 'urn:ngsi-ld:Vehicle:2']);
  });
});

describe('scopeQ, count, pick/omit and lang (4.19, 6.3.13, 4.21, 4.15)', () => {
  const range = { timerel: 'after', timeAt: '2024-01-01T00:00:00Z', lastN: '1' };
  beforeEach(async () => {
    await service.upsert(scope(), { id: 'urn:ngsi-ld:Vehicle:2', type: 'Vehicle', scope: '/Madrid/Gardens', speed: history([1]) });
    await service.upsert(scope(), { id: 'urn:ngsi-ld:Vehicle:3', type: 'Vehicle', scope: ['/Madrid', '/Porto'], speed: history([2]) });
  });
  it('scopeQ selects entities by scope, pages over the matches only, and is validated (4.19)', async () => {
    const r = await service.query(scope(), { ...range, type: 'Vehicle', scopeQ: '/Madrid/#' });
    expect(r.entities.map((e) => e.id)).toEqual(['urn:ngsi-ld:Vehicle:2', 'urn:ngsi-ld:Vehicle:3']);
    expect((await service.query(scope(), { ...range, type: 'Vehicle', scopeQ: '/Madrid' })).entities.map((e) => e.id)).toEqual(['urn:ngsi-ld:Vehicle:3']);
    expect((await service.query(scope(), { ...range, type: 'Vehicle', scopeQ: '/Madrid/+,/Porto' })).entities.map((e) => e.id)).toEqual(['urn:ngsi-ld:Vehicle:2', 'urn:ngsi-ld:Vehicle:3']);
    const page = await service.query(scope(), { ...range, type: 'Vehicle', scopeQ: '/Madrid/#', limit: '1' });
    expect(page.entities.map((e) => e.id)).toEqual(['urn:ngsi-ld:Vehicle:2']);
    expect(page.next).toEqual({ limit: '1', pageAfter: 'urn:ngsi-ld:Vehicle:2' });
    const body = service.bodyToParams({ type: 'Query', entities: [{ type: 'Vehicle' }], scopeQ: '/Porto', temporalQ: range });
    expect((await service.query(scope(), body.params, body.selectors)).entities.map((e) => e.id)).toEqual(['urn:ngsi-ld:Vehicle:3']);
    await expect(service.query(scope(), { ...range, type: 'Vehicle', scopeQ: '(/Madrid' })).rejects.toMatchObject({ kind: 'BadRequestData' });
  });
  it('count=true gives the number of matching entities, also with limit=0 (6.3.13)', async () => {
    expect((await service.query(scope(), { ...range, type: 'Vehicle' })).count).toBeUndefined();
    const r = await service.query(scope(), { ...range, type: 'Vehicle', count: 'true', limit: '1' });
    expect(r.entities).toHaveLength(1);
    expect(r.count).toBe(3);
    const zero = await service.query(scope(), { ...range, type: 'Vehicle', scopeQ: '/Madrid/#', count: 'true', limit: '0' });
    expect(zero.entities).toEqual([]);
    expect(zero.count).toBe(2);
    await expect(service.query(scope(), { ...range, type: 'Vehicle', count: 'yes' })).rejects.toMatchObject({ kind: 'BadRequestData' });
  });
  it('pick and omit keep or drop id, type, scope and attributes (4.21)', async () => {
    const picked = await service.retrieve(scope(), 'urn:ngsi-ld:Vehicle:2', { pick: 'id,speed' });
    expect(Object.keys(picked.body).sort()).toEqual(['id', 'speed']);
    const onlyId = await service.query(scope(), { ...range, type: 'Vehicle', pick: 'id' });
    expect(onlyId.entities).toEqual([{ id: ID }, { id: 'urn:ngsi-ld:Vehicle:2' }, { id: 'urn:ngsi-ld:Vehicle:3' }]);
    const omitted = await service.retrieve(scope(), ID, { omit: 'type,owner', lastN: '1' });
    expect(Object.keys(omitted.body).sort()).toEqual(['id', 'speed']);
    const noScope = await service.query(scope(), { ...range, type: 'Vehicle', omit: 'scope|speed', scopeQ: '/Porto' });
    expect(noScope.entities).toEqual([{ id: 'urn:ngsi-ld:Vehicle:3', type: 'Vehicle' }]);
    await expect(service.retrieve(scope(), ID, { pick: 'id', omit: 'type' })).rejects.toMatchObject({ kind: 'InvalidRequest' });
  });
  it('lang reduces LanguageProperty instances to the chosen language in every format (4.15)', async () => {
    await service.addAttributes(scope(), ID, {
      name: [
        { type: 'LanguageProperty', languageMap: { en: 'Red car', fr: 'Voiture rouge' }, observedAt: '2024-01-01T00:00:00Z' },
        { type: 'LanguageProperty', languageMap: { en: 'Blue car', fr: 'Voiture bleue' }, observedAt: '2024-01-02T00:00:00Z' },
      ],
    });
    const normalized = await service.retrieve(scope(), ID, { attrs: 'name', lang: 'fr' });
    expect(normalized.body.name).toMatchObject([
      { type: 'Property', value: 'Voiture rouge', lang: 'fr' },
      { type: 'Property', value: 'Voiture bleue', lang: 'fr' },
    ]);
    const values = await service.retrieve(scope(), ID, { attrs: 'name', lang: 'en', format: 'temporalValues' });
    expect(values.body.name).toEqual({ type: 'Property', values: [['Red car', '2024-01-01T00:00:00Z'], ['Blue car', '2024-01-02T00:00:00Z']], lang: 'en' });
    const whole = await service.retrieve(scope(), ID, { attrs: 'name', format: 'temporalValues' });
    expect(whole.body.name).toMatchObject({ type: 'LanguageProperty', languageMaps: [[{ languageMap: { en: 'Red car', fr: 'Voiture rouge' } }, '2024-01-01T00:00:00Z'], [{ languageMap: { en: 'Blue car', fr: 'Voiture bleue' } }, '2024-01-02T00:00:00Z']] });
    const agg = await service.retrieve(scope(), ID, { attrs: 'name', lang: 'en', format: 'aggregatedValues', aggrMethods: 'max' });
    expect(agg.body.name).toEqual({ type: 'Property', max: [['Red car', '2024-01-01T00:00:00.000Z', '2024-01-02T00:00:00.001Z']] });
    const queried = await service.query(scope(), { type: 'Vehicle', attrs: 'name', timerel: 'after', timeAt: '2024-01-02T00:00:00Z', lang: 'fr' });
    expect(queried.entities[0]!.name).toMatchObject([{ type: 'Property', value: 'Voiture bleue', lang: 'fr' }]);
  });
});

describe('instance and attribute writes (5.6.12-5.6.16)', () => {
  it('adds attributes, modifies and deletes an instance, deletes attribute and entity', async () => {
    await service.addAttributes(scope(), ID, { temp: [{ type: 'Property', value: 1, observedAt: '2024-01-01T00:00:00Z' }, { type: 'Property', value: 2, observedAt: '2024-01-02T00:00:00Z' }] });
    const r = await service.retrieve(scope(), ID, { attrs: 'temp' });
    const [first] = r.body.temp as Array<{ instanceId: string }>;
    await service.modifyInstance(scope(), ID, 'temp', first!.instanceId, { temp: [{ type: 'Property', value: 9, observedAt: '2024-01-01T00:00:00Z' }] });
    expect(((await service.retrieve(scope(), ID, { attrs: 'temp' })).body.temp as Array<{ value: number }>)[0]!.value).toBe(9);
    await service.deleteInstance(scope(), ID, 'temp', first!.instanceId);
    await expect(service.deleteInstance(scope(), ID, 'temp', first!.instanceId)).rejects.toMatchObject({ kind: 'ResourceNotFound' });
    await service.deleteAttribute(scope(), ID, 'temp', { deleteAll: true });
    await expect(service.deleteAttribute(scope(), ID, 'temp', { deleteAll: false })).rejects.toMatchObject({ kind: 'ResourceNotFound' });
    await service.deleteEntity(scope(), ID);
    await expect(service.retrieve(scope(), ID, {})).rejects.toMatchObject({ kind: 'ResourceNotFound' });
  });
  it('addAttributes to an unknown entity is ResourceNotFound', async () => {
    await expect(service.addAttributes(scope(), 'urn:ngsi-ld:none', { a: { type: 'Property', value: 1 } })).rejects.toMatchObject({ kind: 'ResourceNotFound' });
  });
});

describe('HTTP binding (6.18-6.22)', () => {
  let dir: string;
  let stores: Stores;
  let app: ReturnType<typeof createApp>;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'musubi-temporal-'));
    stores = await openStores({ store: 'embedded', dataDir: dir });
    const subscriptions = await SubscriptionService.open(stores.subscriptions, { resolver, limits, onError: () => {} });
    app = createApp({
      entities: new EntityService(stores.entities),
      queries: new QueryService(stores.entities, limits),
      discovery: new DiscoveryService(stores.entities),
      subscriptions,
      resolver,
      logger: createLogger('silent'),
      maxBodyBytes: 64 * 1024,
      system: { version: 'test', store: 'embedded', startedAt: new Date(), storeHealthy: async () => true },
      temporal: new TemporalService(new MemoryTemporalStore(), limits),
    });
  });
  afterAll(async () => {
    await stores.close();
    await rm(dir, { recursive: true, force: true });
  });
  const call = (method: string, path: string, body?: unknown) =>
    app.fetch(new Request(`http://broker/ngsi-ld/v1/temporal${path}`, { method, headers: body ? { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(JSON.stringify(body))) } : {}, body: body ? JSON.stringify(body) : undefined }));

  it('201 then 204 on upsert, 200 and 206 on retrieve, 204 on deletes', async () => {
    const created = await call('POST', '/entities', { id: ID, type: 'Vehicle', speed: history([1, 2, 3, 4]) });
    expect(created.status).toBe(201);
    expect(created.headers.get('location')).toBe(`/ngsi-ld/v1/temporal/entities/${ID}`);
    expect((await call('POST', '/entities', { id: ID, type: 'Vehicle', speed: history([5]) })).status).toBe(204);
    const ok = await call('GET', `/entities/${ID}?lastN=2&options=temporalValues`);
    expect(ok.status).toBe(200);
    expect(ok.headers.get('link')).toContain('rel="http://www.w3.org/ns/json-ld#context"');
    expect(await ok.json()).toMatchObject({ id: ID, type: 'Vehicle', speed: { type: 'Property', values: [[3, '2024-01-03T00:00:00Z'], [4, '2024-01-04T00:00:00Z']] } });
    const partial = await call('GET', `/entities/${ID}`);
    expect(partial.status).toBe(206);
    expect(partial.headers.get('content-range')).toMatch(/^DateTime 2024-01-01T00:00:00Z-2024-01-0\dT00:00:00Z\/\*$/);
    const bad = await call('GET', `/entities/${ID}?timerel=between&timeAt=2024-01-01T00:00:00Z`);
    expect(bad.status).toBe(400);
    expect((await bad.json()).detail).toMatch(/endTimeAt/);
    expect((await call('GET', `/entities?type=Vehicle&timerel=after&timeAt=2024-01-01T00:00:00Z&lastN=1`)).status).toBe(200);
    const counted = await call('GET', `/entities?type=Vehicle&timerel=after&timeAt=2024-01-01T00:00:00Z&lastN=1&count=true`);
    expect(counted.headers.get('ngsild-results-count')).toBe('1');
    expect((await call('GET', `/entities?type=Vehicle&timerel=after&timeAt=2024-01-01T00:00:00Z&lastN=1`)).headers.get('ngsild-results-count')).toBeNull();
    const posted = await call('POST', '/entityOperations/query', { type: 'Query', entities: [{ type: 'Vehicle' }], scopeQ: '/Nowhere', temporalQ: { timerel: 'after', timeAt: '2024-01-01T00:00:00Z' } });
    expect(await posted.json()).toEqual([]);
    expect((await call('POST', '/entityOperations/query', { type: 'Query', entities: [{ type: 'Vehicle' }], temporalQ: { timerel: 'after', timeAt: '2024-01-01T00:00:00Z' } })).status).toBe(206);
    expect((await call('DELETE', `/entities/${ID}/attrs/speed?deleteAll=true`)).status).toBe(204);
    expect((await call('DELETE', `/entities/${ID}`)).status).toBe(204);
    expect((await call('DELETE', `/entities/${ID}`)).status).toBe(404);
  });
});
