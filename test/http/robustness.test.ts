import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DiscoveryService } from '../../src/entities/discovery-service.js';
import { QueryService } from '../../src/entities/query-service.js';
import { EntityService } from '../../src/entities/service.js';
import { createApp } from '../../src/http/app.js';
import { ContextResolver } from '../../src/jsonld/resolver.js';
import { createLogger } from '../../src/logger.js';
import { openStores, type Stores } from '../../src/store/index.js';
import { SubscriptionService } from '../../src/subscriptions/service.js';

/**
 * "No input may produce a 500 or crash the process": random methods, paths, headers and bodies through the real
 * app and store. Every answer must be a 2xx, or a 4xx ProblemDetails with a detail (411/415 have no body).
 */
let dir: string;
let stores: Stores;
let subscriptions: SubscriptionService;
let app: ReturnType<typeof createApp>;
let seeding: NodeJS.Timeout;
let lastSeed: Promise<void> | undefined;
const internalErrors: unknown[] = [];
const statuses = new Map<number, number>();

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'musubi-robust-'));
  stores = await openStores({ store: 'embedded', dataDir: dir });
  const store = stores.entities;
  const logger = createLogger('silent');
  logger.error = ((obj: unknown) => internalErrors.push(obj)) as typeof logger.error;
  // Remote contexts must fail fast here: nothing listens on port 1.
  const resolver = new ContextResolver({ timeoutMs: 200, cacheTtlSec: 60 });
  const limits = { defaultLimit: 20, maxLimit: 1000 };
  subscriptions = await SubscriptionService.open(stores.subscriptions, { resolver, limits, onError: (err) => internalErrors.push(err) });
  app = createApp({
    entities: new EntityService(store),
    queries: new QueryService(store, limits),
    discovery: new DiscoveryService(store),
    subscriptions,
    resolver,
    logger,
    maxBodyBytes: 64 * 1024,
    system: { version: 'test', store: 'embedded', startedAt: new Date(), storeHealthy: async () => true },
  });
  // Seeded entities are re-created as the property deletes them, in both tenants the generators use most.
  seeding = setInterval(() => void (lastSeed = seed()), 20);
  await seed();
});

async function seed(): Promise<void> {
  for (const tenant of ['', 'city']) {
    for (const id of ['urn:ngsi-ld:T:1', 'urn:ngsi-ld:T:2']) {
      const body = JSON.stringify({ id, type: 'T', speed: { type: 'Property', value: 1, unitCode: 'KMH' }, name: { languageMap: { en: 'a', fr: 'b' } } });
      const headers: Record<string, string> = { 'content-type': 'application/json', 'content-length': String(body.length) };
      if (tenant) headers['ngsild-tenant'] = tenant;
      await app.fetch(new Request('http://broker/ngsi-ld/v1/entities', { method: 'POST', headers, body }));
    }
    for (const id of SEEDED_SUBSCRIPTIONS) {
      const body = JSON.stringify({ id, type: 'Subscription', entities: [{ type: 'T' }], notification: { endpoint: { uri: 'http://127.0.0.1:1/notify' } } });
      const headers: Record<string, string> = { 'content-type': 'application/json', 'content-length': String(body.length) };
      if (tenant) headers['ngsild-tenant'] = tenant;
      await app.fetch(new Request('http://broker/ngsi-ld/v1/subscriptions', { method: 'POST', headers, body }));
    }
  }
}

const SEEDED_SUBSCRIPTIONS = ['urn:ngsi-ld:Subscription:1', 'urn:ngsi-ld:Subscription:2'];

afterAll(async () => {
  // A seeding still running when the store closes would read a closed lmdb environment.
  clearInterval(seeding);
  await lastSeed;
  await subscriptions.close();
  await stores.close();
  await rm(dir, { recursive: true, force: true });
});

const ids = fc.oneof(
  fc.constant('urn:ngsi-ld:T:1'),
  fc.constant('urn:ngsi-ld:T:2'),
  fc.string({ maxLength: 12 }).map((s) => encodeURIComponent(s)),
  fc.string({ maxLength: 12 }).map((s) => `urn:x:${encodeURIComponent(s)}`),
);
const attrNames = fc.oneof(fc.constantFrom('speed', 'location', 'scope', 'name', '@id', 'a%20b'), fc.string({ maxLength: 8 }).map(encodeURIComponent));
const paths = fc.oneof(
  { arbitrary: fc.constantFrom('urn:ngsi-ld:T:1', 'urn:ngsi-ld:T:2').map((id) => `/ngsi-ld/v1/entities/${id}`), weight: 3 },
  { arbitrary: fc.constantFrom('urn:ngsi-ld:T:1', 'urn:ngsi-ld:T:2').map((id) => `/ngsi-ld/v1/entities/${id}/attrs`), weight: 3 },
  { arbitrary: fc.constant('/ngsi-ld/v1/entities'), weight: 2 },
  fc.constant('/ngsi-ld/v1/entities'),
  ids.map((id) => `/ngsi-ld/v1/entities/${id}`),
  ids.map((id) => `/ngsi-ld/v1/entities/${id}/attrs`),
  fc.tuple(ids, attrNames).map(([id, a]) => `/ngsi-ld/v1/entities/${id}/attrs/${a}`),
  fc.constantFrom('/version', '/health', '/ngsi-ld/v1/nowhere', '/'),
  fc.constant('/ngsi-ld/v1/subscriptions'),
  fc.constantFrom(...SEEDED_SUBSCRIPTIONS).map((id) => `/ngsi-ld/v1/subscriptions/${id}`),
  ids.map((id) => `/ngsi-ld/v1/subscriptions/${id}`),
);
const queries = fc.array(
  fc.tuple(
    fc.constantFrom('options', 'format', 'attrs', 'pick', 'omit', 'lang', 'type', 'datasetId', 'deleteAll', 'geometryProperty', 'observedAt', 'limit', 'offset', 'count', 'x'),
    fc.oneof(fc.constantFrom('sysAttrs', 'keyValues', 'concise', 'simplified', 'noOverwrite', 'true', '(A;B)|C', 'en,*;q=0.1', '1', '0', ''), fc.string({ maxLength: 10 })),
  ),
  { maxLength: 3 },
);
const attributeValues = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.record({ type: fc.constantFrom('Property', 'Relationship', 'GeoProperty', 'LanguageProperty', 'VocabProperty', 'JsonProperty', 'ListProperty', 'ListRelationship', 'Nope'), value: fc.jsonValue({ maxDepth: 2 }) }, { requiredKeys: ['type'] }),
  fc.record({ type: fc.constant('GeoProperty'), value: fc.record({ type: fc.constantFrom('Point', 'Polygon', 'LineString', 'GeometryCollection'), coordinates: fc.jsonValue({ maxDepth: 3 }) }) }),
  fc.record({ object: fc.oneof(fc.string(), fc.constant('urn:a:b')), datasetId: fc.string({ maxLength: 6 }), observedAt: fc.string({ maxLength: 6 }) }, { requiredKeys: [] }),
  fc.constant('urn:ngsi-ld:null'),
);
const entityBodies = fc.record(
  {
    id: fc.oneof(ids.map(decodeURIComponent), fc.jsonValue({ maxDepth: 1 })),
    type: fc.oneof(fc.constantFrom('T', 'U'), fc.array(fc.string({ maxLength: 4 }), { maxLength: 2 }), fc.jsonValue({ maxDepth: 1 })),
    '@context': fc.oneof(fc.constant('http://127.0.0.1:1/ctx.jsonld'), fc.jsonValue({ maxDepth: 2 }), fc.constant({ x: 'http://e.org/x' })),
    scope: fc.oneof(fc.constant('/a/b'), fc.jsonValue({ maxDepth: 1 })),
    speed: attributeValues,
    location: attributeValues,
    name: attributeValues,
  },
  { requiredKeys: [] },
);
const validish = fc.record(
  {
    id: fc.oneof(fc.constantFrom('urn:ngsi-ld:T:1', 'urn:ngsi-ld:T:2'), fc.uuid().map((u) => `urn:ngsi-ld:T:${u}`)),
    type: fc.constantFrom('T', 'U'),
    speed: fc.oneof(fc.integer(), fc.record({ type: fc.constant('Property'), value: fc.jsonValue({ maxDepth: 2 }) }), fc.constant('urn:ngsi-ld:null')),
    name: fc.oneof(fc.string(), fc.record({ languageMap: fc.dictionary(fc.constantFrom('en', 'fr', 'x y'), fc.string()) })),
    location: fc.record({ type: fc.constant('Point'), coordinates: fc.tuple(fc.double({ min: -190, max: 190, noNaN: true }), fc.double({ min: -95, max: 95, noNaN: true })) }),
  },
  { requiredKeys: ['id', 'type'] },
);
// Valid subscriptions (so that creates and updates get through), and the same with one member of a wrong kind.
const validSubscriptions = fc.record(
  {
    id: fc.oneof(fc.constantFrom(...SEEDED_SUBSCRIPTIONS), fc.uuid().map((u) => `urn:ngsi-ld:Subscription:${u}`)),
    type: fc.constant('Subscription'),
    entities: fc.constantFrom([{ type: 'T' }], [{ type: 'T', idPattern: 'urn:.*' }], [{ type: '(T;U)|V', id: 'urn:ngsi-ld:T:1' }, { type: '*' }]),
    watchedAttributes: fc.constantFrom(['speed'], ['speed', 'name']),
    notificationTrigger: fc.subarray(['entityCreated', 'entityUpdated', 'entityDeleted', 'attributeDeleted'] as const, { minLength: 1 }),
    q: fc.constantFrom('speed>1', 'speed==1..3;name=="a"'),
    geoQ: fc.constant({ georel: 'near;maxDistance==1000', geometry: 'Point', coordinates: [1, 2] }),
    scopeQ: fc.constantFrom('/a/#', '/a;/b'),
    expiresAt: fc.constant('2999-01-01T00:00:00Z'),
    isActive: fc.boolean(),
    throttling: fc.constantFrom(1, 0.5),
    notification: fc.record(
      {
        endpoint: fc.record({ uri: fc.constantFrom('http://127.0.0.1:1/n', 'mqtt://127.0.0.1:1/topic'), accept: fc.constantFrom('application/json', 'application/ld+json') }, { requiredKeys: ['uri'] }),
        format: fc.constantFrom('normalized', 'keyValues', 'concise'),
        attributes: fc.constant(['speed']),
        sysAttrs: fc.boolean(),
      },
      { requiredKeys: ['endpoint'] },
    ),
  },
  { requiredKeys: ['type', 'entities', 'notification'] },
);
const subscriptionMembers = ['id', 'type', 'entities', 'watchedAttributes', 'notificationTrigger', 'q', 'geoQ', 'scopeQ', 'expiresAt', 'isActive', 'throttling', 'timeInterval', 'jsonldContext', 'notification', 'datasetId', 'lang', '@context'];
const brokenSubscriptions = fc
  .tuple(validSubscriptions, fc.constantFrom(...subscriptionMembers), fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constantFrom(null, 'urn:ngsi-ld:null', 0, -1, [], 'http://127.0.0.1:1/c.jsonld')))
  .map(([body, member, value]) => ({ ...body, [member]: value }));
const subscriptionBodies = fc.oneof({ arbitrary: validSubscriptions, weight: 2 }, brokenSubscriptions);
const bodies = fc.oneof(
  { arbitrary: validish.map((b) => JSON.stringify(b)), weight: 4 },
  { arbitrary: subscriptionBodies.map((b) => JSON.stringify(b)), weight: 3 },
  { arbitrary: entityBodies.map((b) => JSON.stringify(b)), weight: 2 },
  fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
  fc.string({ maxLength: 40 }),
  fc.constant(''),
);
const headers = fc.record(
  {
    'content-type': fc.constantFrom('application/json', 'application/json', 'application/json', 'application/json', 'application/ld+json', 'application/merge-patch+json', 'text/plain', 'application/json; charset=utf-8'),
    accept: fc.oneof(fc.constantFrom('application/json', 'application/ld+json', 'application/geo+json', '*/*', 'text/html', 'application/json;q=0'), fc.string({ maxLength: 20 })),
    link: fc.oneof(
      { arbitrary: fc.constant('<https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld>; rel="http://www.w3.org/ns/json-ld#context"'), weight: 3 },
      fc.constant('<http://127.0.0.1:1/c.jsonld>; rel="http://www.w3.org/ns/json-ld#context"; type="application/ld+json"'),
      fc.constant('<https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context.jsonld>; rel="http://www.w3.org/ns/json-ld#context"'),
      fc.string({ maxLength: 30 }),
    ),
    'ngsild-tenant': fc.oneof({ arbitrary: fc.constant('city'), weight: 4 }, fc.constantFrom('other', 'bad tenant!'), fc.string({ maxLength: 10 })),
    'fiware-service': fc.constantFrom('openiot', ''),
    prefer: fc.constantFrom('body=json', 'ngsi-ld=1.9'),
  },
  { requiredKeys: ['content-type'] },
);

const methods = fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE');
const seeded = fc.constantFrom('urn:ngsi-ld:T:1', 'urn:ngsi-ld:T:2');
// Mostly operations the API has, on entities that exist, so that requests reach the write paths.
const routes = fc.oneof(
  { arbitrary: fc.tuple(methods, paths), weight: 2 },
  { arbitrary: fc.tuple(fc.constant('POST'), fc.constant('/ngsi-ld/v1/entities')), weight: 2 },
  { arbitrary: fc.tuple(fc.constantFrom('GET', 'PATCH', 'PUT'), seeded.map((id) => `/ngsi-ld/v1/entities/${id}`)), weight: 3 },
  { arbitrary: fc.tuple(fc.constantFrom('POST', 'PATCH'), seeded.map((id) => `/ngsi-ld/v1/entities/${id}/attrs`)), weight: 3 },
  { arbitrary: fc.tuple(fc.constantFrom('PATCH', 'PUT', 'DELETE'), fc.tuple(seeded, attrNames).map(([id, a]) => `/ngsi-ld/v1/entities/${id}/attrs/${a}`)), weight: 2 },
  { arbitrary: fc.tuple(fc.constantFrom('POST', 'GET'), fc.constant('/ngsi-ld/v1/subscriptions')), weight: 2 },
  { arbitrary: fc.tuple(fc.constantFrom('GET', 'PATCH', 'DELETE'), fc.constantFrom(...SEEDED_SUBSCRIPTIONS).map((id) => `/ngsi-ld/v1/subscriptions/${id}`)), weight: 2 },
);

function isHeaderSafe(value: string): boolean {
  // Bytes a real HTTP client could not send either.
  return /^[\t\x20-\x7e\x80-\xff]*$/.test(value);
}

describe('robustness: no request yields a 500 (clauses 6.3.2-6.3.4)', () => {
  it('answers random requests with 2xx or a well-formed 4xx', async () => {
    await fc.assert(
      fc.asyncProperty(routes, queries, headers, bodies, async ([method, path], query, hdrs, body) => {
        const search = new URLSearchParams(query).toString();
        const h = new Headers();
        for (const [k, v] of Object.entries(hdrs)) if (isHeaderSafe(v)) h.set(k, v);
        const withBody = method !== 'GET' && method !== 'DELETE';
        if (withBody) h.set('content-length', String(Buffer.byteLength(body)));
        const res = await app.fetch(new Request(`http://broker${path}${search ? `?${search}` : ''}`, { method, headers: h, body: withBody ? body : undefined }));
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        expect(res.status, `${method} ${path}?${search} ${JSON.stringify(hdrs)} ${body}`).toBeLessThan(500 + (res.status === 503 ? 100 : 0));
        if (res.status >= 400 && res.status !== 411 && res.status !== 415) {
          const problem = (await res.json()) as { type?: unknown; detail?: unknown; status?: unknown };
          expect(typeof problem.type).toBe('string');
          expect(typeof problem.detail).toBe('string');
          expect(problem.status).toBe(res.status);
        }
      }),
      { numRuns: 4000 },
    );
    expect(internalErrors).toEqual([]);
    // The generators must reach past validation into the write paths, or the property proves little.
    expect(statuses.get(201) ?? 0).toBeGreaterThan(5);
    expect(statuses.get(204) ?? 0).toBeGreaterThan(20);
    expect(statuses.get(200) ?? 0).toBeGreaterThan(20);
  });
});
