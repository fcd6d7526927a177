/**
 * Subscription resources: Create (5.8.1, 6.10.3.1), Query (5.8.4, 6.10.3.2), Retrieve (5.8.3, 6.11.3.1), Update
 * (5.8.2, 6.11.3.2) and Delete Subscription (5.8.5, 6.11.3.3), the Subscription data type (5.2.12) with its
 * NotificationParams (5.2.14), Endpoint (5.2.15) and GeoQuery (5.2.13), and the read-only members the broker maintains
 * (tables 5.2.12-2 and 5.2.14.2-1). Test purposes TP/NGSI-LD/CI/SUB/028-032 and 046_11-046_13.
 *
 * Every describe works in its own tenant (6.3.14) and every subscription selects an entity type no one else uses, so
 * the subscriptions never fire for other tests' entities. Subscriptions are deleted after the file ran.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  createEntity,
  contextLinks,
  contextUris,
  del,
  describeRes,
  entityPath,
  expectDateTime,
  expectNoContent,
  expectProblem,
  expectStatus,
  get,
  patch,
  post,
  startContextServer,
  tenant,
  uid,
  type ContextServer,
  type ReqOptions,
} from './lib/index.js';
import { absolute, expectProblemOneOf, pageLinks, resultsCount, walkPages } from './lib/query.js';
import { startReceiver, type Receiver } from './lib/receiver.js';
import {
  SUBSCRIPTIONS,
  URI,
  about,
  createSubscription,
  createSubscriptionRes,
  deleteCreatedSubscriptions,
  pollSubscription,
  retrieveSubscription,
  retrieveSubscriptionRes,
  subId,
  subscriptionPath,
  uniqueType,
} from './lib/subscriptions.js';

const NS = 'https://conformance.example.org/subscriptions#';
/** Never notified: every subscription of this file selects a type of its own, and nothing creates such entities. */
const DUMMY_ENDPOINT = 'http://127.0.0.1:9/conformance/notify';
/** An @context URL nothing listens on (README). */
const UNREACHABLE_CONTEXT = 'http://127.0.0.1:1/none.jsonld';

let ctx: ContextServer;
let receiver: Receiver;
beforeAll(async () => {
  ctx = await startContextServer({ 'sub.jsonld': { '@context': { speed: `${NS}speed`, Car: `${NS}Car`, brand: `${NS}brand` } } });
  receiver = await startReceiver();
});
afterAll(async () => {
  await deleteCreatedSubscriptions();
  await ctx?.close();
  await receiver?.close();
});

const future = (ms = 3_600_000): string => new Date(Date.now() + ms).toISOString();
const past = (ms = 3_600_000): string => new Date(Date.now() - ms).toISOString();

/** A minimal valid subscription on an entity type nobody else uses. */
function minimal(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    type: 'Subscription',
    entities: [{ type: uniqueType('Sub') }],
    notification: { endpoint: { uri: DUMMY_ENDPOINT, accept: 'application/json' } },
    ...extra,
  };
}

/** Makes sure the tenant exists (Create Entity creates tenants implicitly, 5.5.10), so tests do not depend on
 * Create Subscription doing so too. */
async function ensureTenant(opts: ReqOptions): Promise<void> {
  await createEntity({ id: uid('Anchor'), type: uniqueType('Anchor') }, opts);
}

describe('Create Subscription — POST /subscriptions (5.8.1, 6.10.3.1)', () => {
  const T = tenant();
  const opts = { tenant: T };
  beforeAll(() => ensureTenant(opts));

  test('TP/NGSI-LD/CI/SUB/028_01_01 a subscription with an id: 201, Location /ngsi-ld/v1/subscriptions/{id}, no body', async () => {
    const id = subId();
    const res = await createSubscriptionRes({ id, ...minimal() }, opts);
    expectStatus(res, 201);
    expect(res.text, 'table 6.10.3.1-1: no response body').toBe('');
    const location = res.headers.get('location');
    expect(location, 'Location header (table 6.10.3.1-1)').not.toBeNull();
    expect(decodeURIComponent(location!)).toBe(`${SUBSCRIPTIONS}/${id}`);
    expect((await retrieveSubscription(id, {}, opts)).id, 'the given id is kept').toBe(id);
  });

  test('5.8.1.4 without an id: the broker generates a URI, names it in Location, and the subscription is retrievable there', async () => {
    const res = await createSubscriptionRes(minimal(), opts);
    expectStatus(res, 201);
    const location = res.headers.get('location');
    expect(location, 'Location header (table 6.10.3.1-1)').not.toBeNull();
    expect(location!.startsWith(`${SUBSCRIPTIONS}/`), `relative path of the created subscription: ${location}`).toBe(true);
    const id = decodeURIComponent(location!.slice(SUBSCRIPTIONS.length + 1));
    expect(id, '5.2.12 id is a URI').toMatch(URI);
    const got = await get(location!, opts);
    expectStatus(got, 200);
    expect(got.body.id).toBe(id);
    expect(got.body.type).toBe('Subscription');
  });

  test('5.8.1.4 two subscriptions without id get different ids', async () => {
    const a = await createSubscriptionRes(minimal(), opts);
    const b = await createSubscriptionRes(minimal(), opts);
    expectStatus(a, 201);
    expectStatus(b, 201);
    expect(a.headers.get('location')).not.toBe(b.headers.get('location'));
  });

  test('TP/NGSI-LD/CI/SUB/028_04_01 an id that already exists: 409 AlreadyExists', async () => {
    const id = subId();
    await createSubscription({ id, ...minimal() }, opts);
    expectProblem(await createSubscriptionRes({ id, ...minimal() }, opts), 409, 'AlreadyExists');
  });

  test('6.3.5 application/ld+json with @context in the body: 201, and names are expanded with that @context', async () => {
    const id = subId();
    const body = {
      id,
      type: 'Subscription',
      entities: [{ type: 'Car' }],
      watchedAttributes: ['speed'],
      notification: { endpoint: { uri: DUMMY_ENDPOINT } },
      '@context': ctx.url('sub.jsonld'),
    };
    const res = await createSubscriptionRes(body, { ...opts, contentType: 'application/ld+json' });
    expectStatus(res, 201);
    const got = await retrieveSubscription(id, {}, opts);
    expect(got.entities[0].type, '5.5.7 the type is stored expanded').toBe(`${NS}Car`);
    expect(got.watchedAttributes).toEqual([`${NS}speed`]);
  });

  test('6.3.5 application/ld+json without @context in the body: 400 BadRequestData', async () => {
    const res = await createSubscriptionRes(minimal(), { ...opts, contentType: 'application/ld+json' });
    expectProblem(res, 400, 'BadRequestData');
  });

  test('5.5.10 a subscription lives in its tenant only', async () => {
    const id = subId();
    const res = await createSubscriptionRes({ id, ...minimal() }, opts);
    expectStatus(res, 201);
    expect(res.headers.get('ngsild-tenant'), '6.3.14 the tenant is echoed on 201').toBe(T);
    expectStatus(await retrieveSubscriptionRes(id, {}, opts), 200);
    expect((await retrieveSubscriptionRes(id)).status, 'not in the default tenant').toBe(404);
    const other = tenant();
    await ensureTenant({ tenant: other });
    expect((await retrieveSubscriptionRes(id, {}, { tenant: other })).status, 'not in another tenant').toBe(404);
  });

  test('5.8.1.4 a refused subscription is not created', async () => {
    const id = subId();
    expectProblem(await createSubscriptionRes({ id, ...minimal({ throttling: -1 }) }, opts), 400, 'BadRequestData');
    expectProblem(await retrieveSubscriptionRes(id, {}, opts), 404, 'ResourceNotFound');
  });
});

describe('Create Subscription: invalid subscriptions are refused (5.2.12-5.2.15, 5.8.1.4)', () => {
  const T = tenant();
  const opts = { tenant: T };
  beforeAll(() => ensureTenant(opts));

  const endpoint = (e: Record<string, unknown>) => ({ notification: { endpoint: { uri: DUMMY_ENDPOINT, ...e } } });
  const notification = (n: Record<string, unknown>) => ({ notification: { endpoint: { uri: DUMMY_ENDPOINT }, ...n } });
  const P = [13.3777, 52.5163];

  const cases: Array<[string, Record<string, unknown>]> = [
    ['5.2.12 timeInterval together with watchedAttributes', { timeInterval: 10, watchedAttributes: ['speed'] }],
    ['TP/NGSI-LD/CI/SUB/028_05_01 throttling together with timeInterval', { timeInterval: 10, throttling: 5 }],
    ['5.2.12 neither entities nor watchedAttributes', { entities: undefined }],
    ['5.2.12 entities: [] (empty array not allowed)', { entities: [] }],
    ['5.2.12 watchedAttributes: [] (empty array not allowed)', { watchedAttributes: [] }],
    ['5.2.12 watchedAttributes that is not an array', { watchedAttributes: 'speed' }],
    ['5.2.33 an entity selector without type', { entities: [{ id: uid('Car') }] }],
    ['5.2.33 an entity selector whose id is not a URI', { entities: [{ id: 'not a uri', type: 'Car' }] }],
    ['5.2.33 an entity selector with an invalid idPattern', { entities: [{ idPattern: '(unclosed', type: 'Car' }] }],
    ['5.2.33 / 4.17 an entity selector with an invalid type selection', { entities: [{ type: '(Car;Bus' }] }],
    ['5.2.15 an endpoint uri that is not a URI', endpoint({ uri: 'not a uri' })],
    ['5.2.15 a relative endpoint uri', endpoint({ uri: '/notify' })],
    ['6.3.8 an endpoint uri with an unsupported scheme (ftp)', endpoint({ uri: 'ftp://example.org/notify' })],
    ['5.2.15 an endpoint without uri', { notification: { endpoint: { accept: 'application/json' } } }],
    ['5.2.14 a notification without endpoint', { notification: { format: 'normalized' } }],
    ['5.2.12 no notification member', { notification: undefined }],
    ['5.2.15 accept that is not one of the three media types', endpoint({ accept: 'text/plain' })],
    ['5.2.15 a receiverInfo element without value', endpoint({ receiverInfo: [{ key: 'X-Test' }] })],
    ['5.2.15 receiverInfo that is not an array', endpoint({ receiverInfo: { key: 'X-Test', value: 'v' } })],
    ['5.2.15 timeout 0 (greater than 0)', endpoint({ timeout: 0 })],
    ['5.2.15 a negative cooldown', endpoint({ cooldown: -5 })],
    ['5.2.14 an unknown format', notification({ format: 'xml' })],
    ['5.2.14 notification.attributes: [] (empty array not allowed)', notification({ attributes: [] })],
    ['5.2.14 showChanges with format keyValues', notification({ format: 'keyValues', showChanges: true })],
    ['5.2.14 sysAttrs that is not a boolean', notification({ sysAttrs: 'yes' })],
    ['TP/NGSI-LD/CI/SUB/028_05_02 a negative throttling', { throttling: -1 }],
    ['5.2.12 throttling 0 (greater than 0)', { throttling: 0 }],
    ['5.2.12 throttling that is not a number', { throttling: 'fast' }],
    ['5.2.12 a negative timeInterval', { timeInterval: -10 }],
    ['5.2.12 timeInterval 0 (greater than 0)', { timeInterval: 0 }],
    ['5.2.12 an unknown notificationTrigger', { notificationTrigger: ['entityChanged'] }],
    ['5.2.12 notificationTrigger that is not an array', { notificationTrigger: 'entityCreated' }],
    ['5.2.12 / 4.9 an invalid q (speed>>5)', { q: 'speed>>5' }],
    ['5.2.12 / 4.9 an invalid q (unbalanced parenthesis)', { q: '(speed>5' }],
    ['5.2.13 / 4.10 an unknown georel', { geoQ: { georel: 'invalid', geometry: 'Point', coordinates: P } }],
    ['5.2.13 near without distance', { geoQ: { georel: 'near', geometry: 'Point', coordinates: P } }],
    ['5.2.13 an unknown geometry', { geoQ: { georel: 'near;maxDistance==100', geometry: 'Circle', coordinates: P } }],
    ['5.2.13 GeometryCollection is not allowed', { geoQ: { georel: 'intersects', geometry: 'GeometryCollection', coordinates: P } }],
    ['5.2.13 geoQ without coordinates', { geoQ: { georel: 'near;maxDistance==100', geometry: 'Point' } }],
    ['5.2.13 coordinates not coherent with the geometry', { geoQ: { georel: 'intersects', geometry: 'Point', coordinates: [[1, 2], [3, 4]] } }],
    ['5.2.12 / 4.19 an invalid scopeQ', { scopeQ: '(/Madrid;/CompanyA' }],
    ['5.2.12 type that is not "Subscription"', { type: 'ContextSourceRegistration' }],
    ['5.2.12 no type', { type: undefined }],
    ['TP/NGSI-LD/CI/SUB/028_03_01 an id that is not a URI', { id: 'invalid uri' }],
    ['TP/NGSI-LD/CI/SUB/028_03_02 an empty id', { id: '' }],
    ['5.2.12 expiresAt that is not a DateTime', { expiresAt: 'tomorrow' }],
    ['5.8.1.4 expiresAt in the past', { expiresAt: past() }],
    ['5.2.12 isActive that is not a boolean', { isActive: 'yes' }],
    ['5.2.12 datasetId that is not a URI', { datasetId: ['not a uri'] }],
    ['5.2.12 jsonldContext that is not a URI', { jsonldContext: 'not a uri' }],
  ];

  test.each(cases)('%s: 400 BadRequestData', async (_title, change) => {
    const body: Record<string, unknown> = minimal();
    for (const [k, v] of Object.entries(change)) {
      if (v === undefined) delete body[k];
      else body[k] = v;
    }
    expectProblem(await createSubscriptionRes(body, opts), 400, 'BadRequestData');
  });

  test('TP/NGSI-LD/CI/SUB/028_02_01 a body that is not JSON: 400 InvalidRequest', async () => {
    const res = await post(SUBSCRIPTIONS, { body: '{"type": "Subscription", "entities": [', contentType: 'application/json', ...opts });
    expectProblem(res, 400, 'InvalidRequest');
  });

  test('TP/NGSI-LD/CI/SUB/028_02_02 an empty JSON object: 400 BadRequestData', async () => {
    expectProblem(await createSubscriptionRes({}, opts), 400, 'BadRequestData');
  });

  test('5.2.12 a JSON array instead of an object: 400', async () => {
    expectProblemOneOf(await createSubscriptionRes([minimal()], opts), 400, ['BadRequestData', 'InvalidRequest']);
  });

  test('5.8.1.4 a jsonldContext that cannot be fetched: 503 LdContextNotAvailable', async () => {
    expectProblem(await createSubscriptionRes(minimal({ jsonldContext: UNREACHABLE_CONTEXT }), opts), 503, 'LdContextNotAvailable');
  });

  test('5.2.12 watchedAttributes alone (no entities) is valid: 201', async () => {
    const body = minimal({ watchedAttributes: [uniqueType('attr')] });
    delete body.entities;
    expectStatus(await createSubscriptionRes(body, opts), 201);
  });

  test('5.2.12 fractional throttling is valid: 201', async () => {
    expectStatus(await createSubscriptionRes(minimal({ throttling: 0.5 }), opts), 201);
  });

  test('6.3.8 an https endpoint is valid: 201', async () => {
    expectStatus(await createSubscriptionRes(minimal({ notification: { endpoint: { uri: 'https://127.0.0.1:9/notify' } } }), opts), 201);
  });
});

describe('Retrieve Subscription — GET /subscriptions/{id} (5.8.3, 6.11.3.1)', () => {
  const T = tenant();
  const opts = { tenant: T };
  beforeAll(() => ensureTenant(opts));

  test('TP/NGSI-LD/CI/SUB/030_03_01 returns the subscription with the members given at creation', async () => {
    const id = subId();
    const type = uniqueType('Sub');
    const entityId = uid(type);
    const expiresAt = future();
    const sub = {
      id,
      type: 'Subscription',
      subscriptionName: 'conformance',
      description: 'a subscription of the conformance suite',
      entities: [{ type, idPattern: `urn:ngsi-ld:${type}:.*` }, { id: entityId, type }],
      watchedAttributes: ['speed', 'brand'],
      notificationTrigger: ['attributeCreated', 'entityDeleted'],
      q: 'speed>50',
      throttling: 5,
      expiresAt,
      notification: {
        attributes: ['speed'],
        format: 'keyValues',
        endpoint: { uri: DUMMY_ENDPOINT, accept: 'application/ld+json', receiverInfo: [{ key: 'X-Test', value: 'conformance' }] },
      },
    };
    await createSubscription(sub, opts);
    const got = await retrieveSubscription(id, {}, opts);
    expect(got.id).toBe(id);
    expect(got.type).toBe('Subscription');
    expect(got.subscriptionName).toBe(sub.subscriptionName);
    expect(got.description).toBe(sub.description);
    expect(got.entities).toEqual(sub.entities);
    expect([...got.watchedAttributes].sort()).toEqual(['brand', 'speed']);
    expect([...got.notificationTrigger].sort()).toEqual(['attributeCreated', 'entityDeleted']);
    expect(got.q).toBe(sub.q);
    expect(got.throttling).toBe(5);
    expect(Date.parse(got.expiresAt), `expiresAt ${got.expiresAt}`).toBe(Date.parse(expiresAt));
    expect(got.notification.attributes).toEqual(['speed']);
    expect(got.notification.format).toBe('keyValues');
    expect(got.notification.endpoint).toMatchObject(sub.notification.endpoint);
    expect(got.status, 'table 5.2.12-2 status').toBe('active');
  });

  test('5.2.12 geoQ, scopeQ and timeInterval are returned as given', async () => {
    const id = subId();
    const geoQ = { georel: 'near;maxDistance==2000', geometry: 'Point', coordinates: [13.3777, 52.5163], geoproperty: 'location' };
    await createSubscription({ id, ...minimal({ geoQ, scopeQ: '/Berlin/#', timeInterval: 3600 }) }, opts);
    const got = await retrieveSubscription(id, {}, opts);
    expect(got.geoQ.georel).toBe(geoQ.georel);
    expect(got.geoQ.geometry).toBe('Point');
    const coordinates = typeof got.geoQ.coordinates === 'string' ? JSON.parse(got.geoQ.coordinates) : got.geoQ.coordinates;
    expect(coordinates, '5.2.13 coordinates as an array or its string encoding').toEqual(geoQ.coordinates);
    expect(got.geoQ.geoproperty).toBe('location');
    expect(got.scopeQ).toBe('/Berlin/#');
    expect(got.timeInterval).toBe(3600);
  });

  test('TP/NGSI-LD/CI/SUB/030_02_01 an unknown id: 404 ResourceNotFound', async () => {
    expectProblem(await retrieveSubscriptionRes(subId(), {}, opts), 404, 'ResourceNotFound');
  });

  test('TP/NGSI-LD/CI/SUB/030_01_01 an id that is not a URI: 400 BadRequestData', async () => {
    expectProblem(await retrieveSubscriptionRes('InvalidUri', {}, opts), 400, 'BadRequestData');
  });

  test('6.3.6 Accept application/json: a JSON body without @context and the @context in a Link header', async () => {
    const id = await createSubscription({ id: subId(), ...minimal() }, opts);
    const res = await retrieveSubscriptionRes(id, {}, { ...opts, accept: 'application/json' });
    expectStatus(res, 200);
    expect(res.mediaType).toBe('application/json');
    expect(res.body['@context']).toBeUndefined();
    expect(contextLinks(res), `Link header: ${res.headers.get('link')}`).toHaveLength(1);
  });

  test('6.3.6 Accept application/ld+json: the @context is in the body', async () => {
    const id = await createSubscription({ id: subId(), ...minimal() }, opts);
    const res = await retrieveSubscriptionRes(id, {}, { ...opts, accept: 'application/ld+json' });
    expectStatus(res, 200);
    expect(res.mediaType).toBe('application/ld+json');
    expect(res.body['@context'], 'ld+json responses carry their @context').toBeDefined();
    expect(res.body.id).toBe(id);
  });

  test('TP/NGSI-LD/CI/SUB/029_05 5.5.7 names are compacted with the @context of the request', async () => {
    const id = subId();
    const body = { id, type: 'Subscription', entities: [{ type: 'Car' }], watchedAttributes: ['speed'], notification: { attributes: ['brand'], endpoint: { uri: DUMMY_ENDPOINT } } };
    await createSubscription(body, { ...opts, link: ctx.url('sub.jsonld') });

    const withCtx = await retrieveSubscriptionRes(id, {}, { ...opts, link: ctx.url('sub.jsonld') });
    expectStatus(withCtx, 200);
    expect(contextLinks(withCtx), '6.3.6 the Link response header names the request @context').toContain(ctx.url('sub.jsonld'));
    expect(withCtx.body.entities[0].type).toBe('Car');
    expect(withCtx.body.watchedAttributes).toEqual(['speed']);
    expect(withCtx.body.notification.attributes).toEqual(['brand']);

    const withoutCtx = await retrieveSubscription(id, {}, opts);
    expect(withoutCtx.entities[0].type, 'expanded without the @context').toBe(`${NS}Car`);
    expect(withoutCtx.watchedAttributes).toEqual([`${NS}speed`]);
    expect(withoutCtx.notification.attributes).toEqual([`${NS}brand`]);
  });

  test('6.3.6 Accept application/ld+json with a Link @context: the body @context includes it', async () => {
    const id = await createSubscription({ id: subId(), ...minimal() }, { ...opts, link: ctx.url('sub.jsonld') });
    const res = await retrieveSubscriptionRes(id, {}, { ...opts, accept: 'application/ld+json', link: ctx.url('sub.jsonld') });
    expectStatus(res, 200);
    expect(contextUris(res.body['@context'])).toContain(ctx.url('sub.jsonld'));
  });

  test('5.8.1.4 jsonldContext defaults to the @context the subscription was created with', async () => {
    const id = await createSubscription({ id: subId(), ...minimal() }, { ...opts, link: ctx.url('sub.jsonld') });
    const got = await retrieveSubscription(id, {}, opts);
    expect(contextUris(got.jsonldContext), `jsonldContext: ${JSON.stringify(got.jsonldContext)}`).toContain(ctx.url('sub.jsonld'));
  });

  test('5.2.12 an explicit jsonldContext is kept', async () => {
    const id = await createSubscription({ id: subId(), ...minimal({ jsonldContext: ctx.url('sub.jsonld') }) }, opts);
    expect((await retrieveSubscription(id, {}, opts)).jsonldContext).toBe(ctx.url('sub.jsonld'));
  });

  test('6.3.11 options=sysAttrs adds createdAt and modifiedAt; they are absent otherwise', async () => {
    const id = await createSubscription({ id: subId(), ...minimal() }, opts);
    const plain = await retrieveSubscription(id, {}, opts);
    expect(plain.createdAt, 'no createdAt without sysAttrs').toBeUndefined();
    expect(plain.modifiedAt, 'no modifiedAt without sysAttrs').toBeUndefined();
    const withSys = await retrieveSubscription(id, { options: 'sysAttrs' }, opts);
    expectDateTime(withSys.createdAt, 'createdAt');
    expectDateTime(withSys.modifiedAt, 'modifiedAt');
  });
});

describe('Query Subscriptions — GET /subscriptions (5.8.4, 6.10.3.2) with pagination (5.5.9, 6.3.10, 6.3.13)', () => {
  const T = tenant();
  const opts = { tenant: T };
  const ids: string[] = [];
  beforeAll(async () => {
    await ensureTenant(opts);
    for (let i = 0; i < 3; i++) ids.push(await createSubscription({ id: subId(), ...minimal({ subscriptionName: `s${i}` }) }, opts));
  });
  const list = (query = '', o: ReqOptions = opts) => get(SUBSCRIPTIONS + query, o);

  test('TP/NGSI-LD/CI/SUB/031_01_01 lists every subscription of the tenant', async () => {
    const res = await list();
    expectStatus(res, 200);
    expect(Array.isArray(res.body), describeRes(res)).toBe(true);
    expect(res.body.map((s: any) => s.id).sort()).toEqual([...ids].sort());
    for (const s of res.body) {
      expect(s.type).toBe('Subscription');
      expect(s.status).toBe('active');
    }
  });

  test('5.5.10 a tenant without subscriptions lists []', async () => {
    const other = tenant();
    await ensureTenant({ tenant: other });
    const res = await list('', { tenant: other });
    expectStatus(res, 200);
    expect(res.body).toEqual([]);
  });

  test('TP/NGSI-LD/CI/SUB/031_02_01 limit=1&offset=1: the second subscription, with rel="prev" and rel="next" links', async () => {
    const all = (await list('?limit=100')).body.map((s: any) => s.id);
    const url = `${SUBSCRIPTIONS}?limit=1&offset=1`;
    const res = await list('?limit=1&offset=1', { ...opts, accept: 'application/ld+json' });
    expectStatus(res, 200);
    expect(res.body.map((s: any) => s.id)).toEqual([all[1]]);
    const links = pageLinks(res, absolute(url));
    expect(links.next, `rel="next" (5.5.9.1): ${res.headers.get('link')}`).toBeDefined();
    expect(links.prev, `rel="prev" (5.5.9.1): ${res.headers.get('link')}`).toBeDefined();
    expect(links.next!.type, '6.3.10 type is the requested media type').toBe('application/ld+json');
    expect(links.prev!.type, '6.3.10 type is the requested media type').toBe('application/ld+json');
  });

  test('TP/NGSI-LD/CI/SUB/031_02_02 limit=1&offset=2, the last page: rel="prev" only', async () => {
    const all = (await list('?limit=100')).body.map((s: any) => s.id);
    const res = await list('?limit=1&offset=2');
    expectStatus(res, 200);
    expect(res.body.map((s: any) => s.id)).toEqual([all[2]]);
    const links = pageLinks(res, absolute(`${SUBSCRIPTIONS}?limit=1&offset=2`));
    expect(links.next, '5.5.9.1 no next link on the last page').toBeUndefined();
    expect(links.prev, '5.5.9.1 a prev link on every page but the first').toBeDefined();
  });

  test('TP/NGSI-LD/CI/SUB/031_02_03 limit=15&offset=0: every subscription, no rel="prev" nor rel="next"', async () => {
    const res = await list('?limit=15&offset=0');
    expectStatus(res, 200);
    expect(res.body.map((s: any) => s.id).sort()).toEqual([...ids].sort());
    const links = pageLinks(res, absolute(`${SUBSCRIPTIONS}?limit=15&offset=0`));
    expect(links.next).toBeUndefined();
    expect(links.prev).toBeUndefined();
  });

  test('5.5.9.1 limit=1 on the first page: one subscription and a rel="next" link only', async () => {
    const res = await list('?limit=1');
    expectStatus(res, 200);
    expect(res.body).toHaveLength(1);
    const links = pageLinks(res, absolute(`${SUBSCRIPTIONS}?limit=1`));
    expect(links.next).toBeDefined();
    expect(links.prev, '5.5.9.1 no prev link on the first page').toBeUndefined();
  });

  test('5.5.9.1 following rel="next" from limit=1 returns each subscription exactly once', async () => {
    const pages = await walkPages(`${SUBSCRIPTIONS}?limit=1`, opts, 10);
    expect(pages.flatMap((p) => p.ids).sort()).toEqual([...ids].sort());
    for (const p of pages) expect(p.ids.length).toBeLessThanOrEqual(1);
  });

  test('6.3.13 count=true gives NGSILD-Results-Count', async () => {
    const res = await list('?count=true&limit=1');
    expectStatus(res, 200);
    expect(res.body).toHaveLength(1);
    expect(resultsCount(res)).toBe(3);
  });

  test('6.3.13 limit=0&count=true gives [] and the count', async () => {
    const res = await list('?limit=0&count=true');
    expectStatus(res, 200);
    expect(res.body).toEqual([]);
    expect(resultsCount(res)).toBe(3);
  });

  test('6.3.13 limit=0 without count: 400', async () => {
    expectProblemOneOf(await list('?limit=0'), 400, ['BadRequestData', 'InvalidRequest']);
  });

  test('6.3.10 a negative limit: 400', async () => {
    expectProblemOneOf(await list('?limit=-1'), 400, ['BadRequestData', 'InvalidRequest']);
  });

  test('6.3.6 Accept application/ld+json: every subscription carries its @context', async () => {
    const res = await list('', { ...opts, accept: 'application/ld+json' });
    expectStatus(res, 200);
    expect(res.mediaType).toBe('application/ld+json');
    for (const s of res.body) expect(s['@context'], 'each element of an ld+json array has its @context').toBeDefined();
  });
});

describe('Update Subscription — PATCH /subscriptions/{id} (5.8.2, 6.11.3.2)', () => {
  const T = tenant();
  const opts = { tenant: T };
  beforeAll(() => ensureTenant(opts));

  async function fresh(extra: Record<string, unknown> = {}, o: ReqOptions = {}): Promise<string> {
    return createSubscription({ id: subId(), ...minimal({ watchedAttributes: ['speed'], q: 'speed>50', ...extra }) }, { ...opts, ...o });
  }
  const update = (id: string, json: unknown, o: ReqOptions = {}) => patch(subscriptionPath(id), { json, ...opts, ...o });

  test('TP/NGSI-LD/CI/SUB/029_06_01 204; the members of the fragment replace those of the subscription, the others are kept', async () => {
    const id = await fresh({ subscriptionName: 'before' });
    const before = await retrieveSubscription(id, {}, opts);
    expectNoContent(await update(id, { subscriptionName: 'after', q: 'speed>10', throttling: 7 }));
    const got = await retrieveSubscription(id, {}, opts);
    expect(got.subscriptionName).toBe('after');
    expect(got.q).toBe('speed>10');
    expect(got.throttling).toBe(7);
    expect(got.entities, 'untouched').toEqual(before.entities);
    expect(got.watchedAttributes, 'untouched').toEqual(before.watchedAttributes);
    expect(got.notification.endpoint.uri, 'untouched').toBe(DUMMY_ENDPOINT);
    expect(got.status).toBe('active');
  });

  test('table 6.11.3.2-1 a fragment may repeat the id and the type', async () => {
    const id = await fresh();
    expectNoContent(await update(id, { id, type: 'Subscription', description: 'patched' }));
    expect((await retrieveSubscription(id, {}, opts)).description).toBe('patched');
  });

  test('5.5.8 a new notification member replaces the old one', async () => {
    const id = await fresh();
    expectNoContent(await update(id, { notification: { format: 'keyValues', endpoint: { uri: 'http://127.0.0.1:9/other', accept: 'application/ld+json' } } }));
    const got = await retrieveSubscription(id, {}, opts);
    expect(got.notification.format).toBe('keyValues');
    expect(got.notification.endpoint).toMatchObject({ uri: 'http://127.0.0.1:9/other', accept: 'application/ld+json' });
  });

  test('5.5.8 a member set to NGSI-LD Null is removed', async () => {
    const id = await fresh({ description: 'to be removed' });
    expectNoContent(await update(id, { description: 'urn:ngsi-ld:null' }));
    expect((await retrieveSubscription(id, {}, opts)).description).toBeUndefined();
  });

  test('TP/NGSI-LD/CI/SUB/029_05_01 5.5.7 names of the fragment are expanded with the Link @context', async () => {
    const id = await fresh();
    expectNoContent(await update(id, { entities: [{ type: 'Car' }], watchedAttributes: ['brand'] }, { link: ctx.url('sub.jsonld') }));
    const expanded = await retrieveSubscription(id, {}, opts);
    expect(expanded.entities).toEqual([{ type: `${NS}Car` }]);
    expect(expanded.watchedAttributes).toEqual([`${NS}brand`]);
    const compacted = await retrieveSubscription(id, {}, { ...opts, link: ctx.url('sub.jsonld') });
    expect(compacted.entities).toEqual([{ type: 'Car' }]);
    expect(compacted.watchedAttributes).toEqual(['brand']);
  });

  test('TP/NGSI-LD/CI/SUB/029_09_01 isActive false: status becomes "paused"', async () => {
    const id = await fresh();
    expectNoContent(await update(id, { isActive: false }));
    const got = await retrieveSubscription(id, {}, opts);
    expect(got.status).toBe('paused');
    expect(got.isActive).toBe(false);
  });

  test('TP/NGSI-LD/CI/SUB/029_07_01 isActive true on a paused subscription: status becomes "active"', async () => {
    const id = await fresh({ isActive: false });
    expect((await retrieveSubscription(id, {}, opts)).status, '5.8.1.4 isActive false at creation: "paused"').toBe('paused');
    expectNoContent(await update(id, { isActive: true }));
    expect((await retrieveSubscription(id, {}, opts)).status).toBe('active');
  });

  test('TP/NGSI-LD/CI/SUB/029_08_01 isActive true with expiresAt in the future: status "active"', async () => {
    const id = await fresh({ isActive: false });
    const expiresAt = future();
    expectNoContent(await update(id, { isActive: true, expiresAt }));
    const got = await retrieveSubscription(id, {}, opts);
    expect(got.status).toBe('active');
    expect(Date.parse(got.expiresAt)).toBe(Date.parse(expiresAt));
  });

  test('TP/NGSI-LD/CI/SUB/029_10_01 5.8.1.4 a subscription past expiresAt is "expired"; a new expiresAt in the future makes it "active"', async () => {
    const id = await fresh({ expiresAt: future(1200) });
    const expired = await pollSubscription(id, (s) => s.status === 'expired', opts, 6000);
    expect(expired?.status, '5.8.1.4 the status changes automatically to "expired"').toBe('expired');
    expectNoContent(await update(id, { expiresAt: future() }));
    expect((await retrieveSubscription(id, {}, opts)).status).toBe('active');
  });

  test('5.8.2.4 isActive false on an expired subscription leaves it "expired"', async () => {
    const id = await fresh({ expiresAt: future(1200) });
    expect((await pollSubscription(id, (s) => s.status === 'expired', opts, 6000))?.status).toBe('expired');
    expectNoContent(await update(id, { isActive: false }));
    expect((await retrieveSubscription(id, {}, opts)).status).toBe('expired');
  });

  test('TP/NGSI-LD/CI/SUB/029_11_01 expiresAt in the past: 400 BadRequestData, the subscription is unchanged', async () => {
    const id = await fresh();
    expectProblem(await update(id, { expiresAt: past(), isActive: true }), 400, 'BadRequestData');
    const got = await retrieveSubscription(id, {}, opts);
    expect(got.expiresAt).toBeUndefined();
    expect(got.status).toBe('active');
  });

  test('TP/NGSI-LD/CI/SUB/029_02_01 an unknown subscription: 404 ResourceNotFound', async () => {
    expectProblem(await update(subId(), { subscriptionName: 'x' }), 404, 'ResourceNotFound');
  });

  test('TP/NGSI-LD/CI/SUB/029_01_02 an id that is not a URI: 400 BadRequestData', async () => {
    expectProblem(await update('InvalidUri', { subscriptionName: 'x' }), 400, 'BadRequestData');
  });

  test.each<[string, Record<string, unknown>]>([
    ['a negative throttling', { throttling: -1 }],
    ['an unknown format', { notification: { format: 'xml', endpoint: { uri: DUMMY_ENDPOINT } } }],
    ['watchedAttributes: []', { watchedAttributes: [] }],
    ['an invalid q', { q: 'speed>>5' }],
    ['isActive that is not a boolean', { isActive: 'no' }],
    ['an unknown notificationTrigger', { notificationTrigger: ['whenever'] }],
    ['an endpoint uri that is not a URI', { notification: { endpoint: { uri: 'not a uri' } } }],
    ['expiresAt that is not a DateTime', { expiresAt: 'soon' }],
  ])('TP/NGSI-LD/CI/SUB/029_03_01 an invalid fragment (%s): 400 BadRequestData', async (_what, fragment) => {
    const id = await fresh();
    expectProblem(await update(id, fragment), 400, 'BadRequestData');
    expect((await retrieveSubscription(id, {}, opts)).q, 'the subscription is unchanged').toBe('speed>50');
  });

  test.each<[string, Record<string, unknown>]>([
    ['notification: null', { notification: null }],
    ['notification: "urn:ngsi-ld:null"', { notification: 'urn:ngsi-ld:null' }],
  ])('TP/NGSI-LD/CI/SUB/029_04_01 removing a mandatory member (%s): 400 BadRequestData', async (_what, fragment) => {
    const id = await fresh();
    expectProblem(await update(id, fragment), 400, 'BadRequestData');
  });

  test('table 5.2.12-2 a read-only status given in a fragment is ignored', async () => {
    const id = await fresh();
    const res = await update(id, { status: 'paused', description: 'with status' });
    expectNoContent(res);
    const got = await retrieveSubscription(id, {}, opts);
    expect(got.status).toBe('active');
    expect(got.description).toBe('with status');
  });

  test('6.11.3.2 a body that is not JSON: 400 InvalidRequest', async () => {
    const id = await fresh();
    expectProblem(await patch(subscriptionPath(id), { body: '{"q": ', contentType: 'application/json', ...opts }), 400, 'InvalidRequest');
  });
});

describe('Delete Subscription — DELETE /subscriptions/{id} (5.8.5, 6.11.3.3)', () => {
  const T = tenant();
  const opts = { tenant: T };
  beforeAll(() => ensureTenant(opts));

  test('TP/NGSI-LD/CI/SUB/032_03_01 204, then the subscription is gone (404) and no longer listed', async () => {
    const id = await createSubscription({ id: subId(), ...minimal() }, opts);
    expectNoContent(await del(subscriptionPath(id), opts));
    expectProblem(await retrieveSubscriptionRes(id, {}, opts), 404, 'ResourceNotFound');
    const list = await get(`${SUBSCRIPTIONS}?limit=1000`, opts);
    expectStatus(list, 200);
    expect(list.body.map((s: any) => s.id)).not.toContain(id);
  });

  test('TP/NGSI-LD/CI/SUB/032_02_01 an unknown subscription: 404 ResourceNotFound (also a second delete)', async () => {
    expectProblem(await del(subscriptionPath('urn:ngsi-ld:Subscription:unknowSubscription'), opts), 404, 'ResourceNotFound');
    const id = await createSubscription({ id: subId(), ...minimal() }, opts);
    expectNoContent(await del(subscriptionPath(id), opts));
    expectProblem(await del(subscriptionPath(id), opts), 404, 'ResourceNotFound');
  });

  test('TP/NGSI-LD/CI/SUB/032_01_02 an id that is not a URI: 400 BadRequestData', async () => {
    expectProblem(await del(subscriptionPath('InvalidUri'), opts), 400, 'BadRequestData');
  });

  test('5.8.5.4 the id can be used again after deletion', async () => {
    const id = await createSubscription({ id: subId(), ...minimal() }, opts);
    expectNoContent(await del(subscriptionPath(id), opts));
    expectStatus(await createSubscriptionRes({ id, ...minimal() }, opts), 201);
  });
});

describe('Read-only members (tables 5.2.12-2, 5.2.14.2-1) and their upkeep (5.8.6)', () => {
  const T = tenant();
  const opts = { tenant: T };
  beforeAll(() => ensureTenant(opts));

  test('table 5.2.12-2 a new subscription has status "active"; one created with isActive false is "paused" (5.8.1.4)', async () => {
    const a = await createSubscription({ id: subId(), ...minimal() }, opts);
    expect((await retrieveSubscription(a, {}, opts)).status).toBe('active');
    const b = await createSubscription({ id: subId(), ...minimal({ isActive: false }) }, opts);
    expect((await retrieveSubscription(b, {}, opts)).status).toBe('paused');
  });

  test('table 5.2.12-2 a status given at creation is ignored', async () => {
    const id = await createSubscription({ id: subId(), ...minimal({ status: 'paused' }) }, opts);
    expect((await retrieveSubscription(id, {}, opts)).status).toBe('active');
  });

  test('5.2.14.2 output-only notification members given at creation are ignored', async () => {
    const given = { timesSent: 42, timesFailed: 7, status: 'failed', lastNotification: '2020-01-01T00:00:00Z', lastFailure: '2020-01-01T00:00:00Z' };
    const id = await createSubscription(
      { id: subId(), ...minimal({ notification: { endpoint: { uri: DUMMY_ENDPOINT }, ...given } }) },
      opts,
    );
    const got = (await retrieveSubscription(id, {}, opts)).notification;
    expect(got.timesSent).not.toBe(42);
    expect(got.timesFailed).not.toBe(7);
    expect(got.status).not.toBe('failed');
    expect(got.lastNotification).not.toBe(given.lastNotification);
    expect(got.lastFailure).not.toBe(given.lastFailure);
  });

  test('TP/NGSI-LD/CI/SUB/046_11_01 / 046_12_01 after a successful notification: timesSent 1, status "ok", lastNotification and lastSuccess', async () => {
    const inbox = receiver.inbox();
    const type = uniqueType('Counted');
    const entityId = uid(type);
    await createEntity({ id: entityId, type, speed: { type: 'Property', value: 1 } }, opts);
    const id = await createSubscription(
      { id: subId(), type: 'Subscription', entities: [{ id: entityId, type }], notification: { endpoint: { uri: inbox.uri } } },
      opts,
    );
    expectNoContent(await patch(`${entityPath(entityId)}/attrs`, { json: { speed: { type: 'Property', value: 2 } }, ...opts }));
    await inbox.waitFor(about(entityId));
    const got = await pollSubscription(id, (s) => s.notification.timesSent === 1 && s.notification.status === 'ok', opts);
    expect(got.notification.timesSent, '5.8.6 timesSent is incremented').toBe(1);
    expect(got.notification.status, '5.8.6 status "ok" after a 200 OK').toBe('ok');
    expectDateTime(got.notification.lastNotification, 'notification.lastNotification');
    expectDateTime(got.notification.lastSuccess, 'notification.lastSuccess');
    expect(got.notification.lastFailure, 'no failure so far').toBeUndefined();
  });

  test('TP/NGSI-LD/CI/SUB/046_13_01 after a failed notification: status "failed" and lastFailure', async () => {
    const inbox = receiver.inbox(500);
    const type = uniqueType('Failing');
    const entityId = uid(type);
    await createEntity({ id: entityId, type, speed: { type: 'Property', value: 1 } }, opts);
    const id = await createSubscription(
      { id: subId(), type: 'Subscription', entities: [{ id: entityId, type }], notification: { endpoint: { uri: inbox.uri } } },
      opts,
    );
    expectNoContent(await patch(`${entityPath(entityId)}/attrs`, { json: { speed: { type: 'Property', value: 2 } }, ...opts }));
    await inbox.waitFor(about(entityId));
    const got = await pollSubscription(id, (s) => s.notification.status === 'failed' && s.notification.lastFailure !== undefined, opts);
    expect(got.notification.status, '5.8.6 status "failed" after a response other than 200 OK').toBe('failed');
    expectDateTime(got.notification.lastFailure, 'notification.lastFailure');
    expect(got.notification.lastSuccess, 'no success so far').toBeUndefined();
    if (got.notification.timesFailed !== undefined) expect(got.notification.timesFailed).toBeGreaterThan(0);
    // Stop the broker retrying against the failing inbox.
    await del(subscriptionPath(id), opts);
  });
});
