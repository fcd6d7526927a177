/**
 * Notifications, end to end: the broker notifies a real HTTP receiver started by the test (lib/receiver.ts).
 * Notification behaviour (5.8.6) and its HTTP binding (6.3.8), the Notification data type (5.3.1), the members of
 * Subscription (5.2.12), NotificationParams (5.2.14) and Endpoint (5.2.15) that shape what is sent and when, and
 * every write operation that changes entities (5.6). Test purposes TP/NGSI-LD/CI/SUB/046_*.
 *
 * Every test has its own inbox on the receiver, its own entities (fresh ids and types) and its own subscriptions;
 * every describe works in its own tenant (6.3.14). Tests wait for notifications by polling the receiver with a short
 * timeout. To show that a change did NOT notify, a test makes a later change that does notify (or that notifies a
 * control subscription) and checks, once that one has arrived, that nothing came for the earlier change.
 *
 * When the broker runs elsewhere, make the receiver reachable: MUSUBI_CONFORMANCE_RECEIVER_BIND / _HOST (README).
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  NGSI_NULL,
  attrPath,
  attrsPath,
  batch,
  createEntity,
  del,
  entityPath,
  expectCreatedIds,
  expectDateTime,
  expectNoContent,
  parseLinks,
  patch,
  post,
  put,
  startContextServer,
  tenant,
  uid,
  type ContextServer,
  type ReqOptions,
} from './lib/index.js';
import { purge } from './lib/query.js';
import { NOTIFY_TIMEOUT_MS, startReceiver, type Inbox, type ReceivedRequest, type Receiver } from './lib/receiver.js';
import {
  about,
  createSubscription,
  dataOf,
  deleteCreatedSubscriptions,
  entityIn,
  expectNotification,
  inboxLog,
  isDeletedAttr,
  pollSubscription,
  subId,
  subscriptionPath,
  uniqueAttr,
  uniqueType,
  valueOf,
} from './lib/subscriptions.js';

const NS = 'https://conformance.example.org/notifications#';
const JSONLD_CONTEXT_REL = 'http://www.w3.org/ns/json-ld#context';
const ALL_TRIGGERS = ['entityCreated', 'entityUpdated', 'entityDeleted', 'attributeCreated', 'attributeUpdated', 'attributeDeleted'];

let receiver: Receiver;
let ctx: ContextServer;
beforeAll(async () => {
  receiver = await startReceiver();
  ctx = await startContextServer({ 'n.jsonld': { '@context': { speed: `${NS}speed`, Car: `${NS}Car` } } });
});
afterAll(async () => {
  await deleteCreatedSubscriptions();
  await receiver?.close();
  await ctx?.close();
});

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const prop = (value: unknown) => ({ type: 'Property', value });
const rel = (object: string) => ({ type: 'Relationship', object });
const point = (lon: number, lat: number) => ({ type: 'GeoProperty', value: { type: 'Point', coordinates: [lon, lat] } });
const future = (ms: number): string => new Date(Date.now() + ms).toISOString();

/** Brandenburg Gate, and a small square around it. */
const P0: [number, number] = [13.3777, 52.5163];
const SQUARE = [
  [
    [13.37, 52.51],
    [13.39, 52.51],
    [13.39, 52.52],
    [13.37, 52.52],
    [13.37, 52.51],
  ],
];

interface Ref {
  id: string;
  type: string;
}

/** Creates an entity (temperature 20, humidity 40 unless `attrs` say otherwise) of a fresh type unless given. */
async function entity(opts: ReqOptions, attrs: Record<string, unknown> = {}, type = uniqueType('Room'), id = uid(type)): Promise<Ref> {
  await createEntity({ id, type, temperature: prop(20), humidity: prop(40), ...attrs }, opts);
  return { id, type };
}

/**
 * Creates a subscription notifying `inbox`: `sub` is a Subscription without id, type and notification.endpoint.uri,
 * which are filled in (other endpoint members may be given under notification.endpoint).
 */
async function subscribe(inbox: Inbox, sub: Record<string, any>, opts: ReqOptions): Promise<string> {
  const { notification = {}, ...rest } = sub;
  const { endpoint = {}, ...params } = notification;
  return createSubscription(
    { id: subId(), type: 'Subscription', ...rest, notification: { ...params, endpoint: { uri: inbox.uri, ...endpoint } } },
    opts,
  );
}

/** Subscription members selecting exactly one entity. */
const on = (e: Ref): { entities: Ref[] } => ({ entities: [{ id: e.id, type: e.type }] });

/** Update Attributes (5.6.2) expecting 204. */
async function update(e: Ref, attrs: Record<string, unknown>, opts: ReqOptions): Promise<void> {
  expectNoContent(await patch(attrsPath(e.id), { json: attrs, ...opts }));
}

/** Append Attributes (5.6.3) expecting 204. */
async function append(e: Ref, attrs: Record<string, unknown>, opts: ReqOptions): Promise<void> {
  expectNoContent(await post(attrsPath(e.id), { json: attrs, ...opts }));
}

const temperatureIs = (v: number) => (x: any) => valueOf(x.temperature) === v;

/** The notifications of an inbox about an entity. */
const notificationsAbout = (inbox: Inbox, id: string): ReceivedRequest[] => inbox.matching(about(id));

describe('Notification (5.3.1) over HTTP (6.3.8)', () => {
  const T = tenant();
  const opts = { tenant: T };

  test('TP/NGSI-LD/CI/SUB/046_07_01 / 046_01_01 5.3.1 a change is notified by POST with id, type, subscriptionId, notifiedAt and data', async () => {
    const inbox = receiver.inbox();
    const e = await entity(opts);
    const sid = await subscribe(inbox, on(e), opts);
    await update(e, { temperature: prop(25) }, opts);
    const r = await inbox.waitFor(about(e.id));
    expectNotification(r, sid);
    expect(Array.isArray(r.body.data), '5.3.1 data is an array of entities').toBe(true);
    expect(dataOf(r)).toHaveLength(1);
  });

  test('TP/NGSI-LD/CI/SUB/046_08_01 / 046_03_01 5.8.6 the entity is sent in normalized form with all its attributes', async () => {
    const inbox = receiver.inbox();
    const e = await entity(opts, { owner: rel('urn:ngsi-ld:Person:Alice') });
    await subscribe(inbox, on(e), opts);
    await update(e, { temperature: prop(25) }, opts);
    const got = entityIn(await inbox.waitFor(about(e.id)), e.id);
    expect(got).toEqual({ id: e.id, type: e.type, temperature: prop(25), humidity: prop(40), owner: rel('urn:ngsi-ld:Person:Alice') });
  });

  test('TP/NGSI-LD/CI/SUB/046_10_01 6.3.8 by default the body is application/json with the @context in a Link header', async () => {
    const inbox = receiver.inbox();
    const e = await entity(opts);
    await subscribe(inbox, on(e), opts);
    await update(e, { temperature: prop(25) }, opts);
    const r = await inbox.waitFor(about(e.id));
    expect(r.mediaType, '6.3.8 Content-Type').toBe('application/json');
    const links = parseLinks(r.headers.link ?? null).filter((l) => l.rel === JSONLD_CONTEXT_REL);
    expect(links, `6.3.8 one JSON-LD context Link header: ${r.headers.link}`).toHaveLength(1);
    expect(r.body['@context'], 'no @context in a JSON body').toBeUndefined();
    for (const ent of dataOf(r)) expect(ent['@context']).toBeUndefined();
  });

  test('5.2.15 / 6.3.8 accept "application/json" given explicitly: JSON with a Link header', async () => {
    const inbox = receiver.inbox();
    const e = await entity(opts);
    await subscribe(inbox, { ...on(e), notification: { endpoint: { accept: 'application/json' } } }, opts);
    await update(e, { temperature: prop(25) }, opts);
    const r = await inbox.waitFor(about(e.id));
    expect(r.mediaType).toBe('application/json');
    expect(parseLinks(r.headers.link ?? null).some((l) => l.rel === JSONLD_CONTEXT_REL), `Link: ${r.headers.link}`).toBe(true);
  });

  test('TP/NGSI-LD/CI/SUB/046_14_01 accept "application/ld+json": a JSON-LD body carrying the @context', async () => {
    const inbox = receiver.inbox();
    const e = await entity(opts);
    const sid = await subscribe(inbox, { ...on(e), notification: { endpoint: { accept: 'application/ld+json' } } }, opts);
    await update(e, { temperature: prop(25) }, opts);
    const r = await inbox.waitFor(about(e.id));
    expectNotification(r, sid);
    expect(r.mediaType, '6.3.8 Content-Type').toBe('application/ld+json');
    const everyEntityHasContext = dataOf(r).length > 0 && dataOf(r).every((x) => x['@context'] !== undefined);
    expect(r.body['@context'] !== undefined || everyEntityHasContext, `5.8.6 the @context is in the payload: ${r.text}`).toBe(true);
    expect(valueOf(entityIn(r, e.id).temperature)).toBe(25);
  });

  test('5.3.1 / 6.3.8 accept "application/geo+json": data is a FeatureCollection and the body carries the @context', async () => {
    const inbox = receiver.inbox();
    const e = await entity(opts, { location: point(...P0) });
    const sid = await subscribe(inbox, { ...on(e), notification: { endpoint: { accept: 'application/geo+json' } } }, opts);
    await update(e, { temperature: prop(25) }, opts);
    const r = await inbox.waitFor(about(e.id));
    expectNotification(r, sid);
    expect(r.mediaType, '6.3.8 Content-Type').toBe('application/geo+json');
    expect(r.body.data.type, '5.3.1 data is a FeatureCollection').toBe('FeatureCollection');
    const feature = entityIn(r, e.id);
    expect(feature.type).toBe('Feature');
    expect(feature.geometry).toEqual({ type: 'Point', coordinates: P0 });
    expect(feature.properties, 'the attributes are in properties (4.5.16)').toBeTypeOf('object');
    expect(r.body['@context'] ?? r.body.data['@context'], '6.3.8 without Prefer the payload includes an @context').toBeDefined();
  });

  test('5.3.1 / 6.3.8 geo+json with receiverInfo Prefer: body=json: no @context in the FeatureCollection, a Link header instead', async () => {
    const inbox = receiver.inbox();
    const e = await entity(opts, { location: point(...P0) });
    await subscribe(
      inbox,
      { ...on(e), notification: { endpoint: { accept: 'application/geo+json', receiverInfo: [{ key: 'Prefer', value: 'body=json' }] } } },
      opts,
    );
    await update(e, { temperature: prop(25) }, opts);
    const r = await inbox.waitFor(about(e.id));
    expect(r.mediaType).toBe('application/geo+json');
    expect(r.body.data.type).toBe('FeatureCollection');
    expect(r.body.data['@context'], '5.3.1 no @context in the FeatureCollection').toBeUndefined();
    expect(parseLinks(r.headers.link ?? null).some((l) => l.rel === JSONLD_CONTEXT_REL), `6.3.8 Link header: ${r.headers.link}`).toBe(true);
  });

  test('5.8.6 the @context of the subscription (given as Link at creation) compacts the notification and is named in its Link header', async () => {
    const inbox = receiver.inbox();
    const id = uid('Car');
    const link = { ...opts, link: ctx.url('n.jsonld') };
    await createEntity({ id, type: 'Car', speed: prop(80) }, link);
    await subscribe(inbox, { entities: [{ id, type: 'Car' }] }, link);
    expectNoContent(await patch(attrsPath(id), { json: { speed: prop(90) }, ...link }));
    const r = await inbox.waitFor(about(id));
    expect(entityIn(r, id)).toEqual({ id, type: 'Car', speed: prop(90) });
    expect(parseLinks(r.headers.link ?? null).filter((l) => l.rel === JSONLD_CONTEXT_REL).map((l) => l.uri)).toContain(ctx.url('n.jsonld'));
  });

  test('5.2.12 an explicit jsonldContext is the @context of the notifications', async () => {
    const inbox = receiver.inbox();
    const id = uid('Car');
    const link = { ...opts, link: ctx.url('n.jsonld') };
    await createEntity({ id, type: 'Car', speed: prop(80) }, link);
    await subscribe(inbox, { entities: [{ id, type: `${NS}Car` }], jsonldContext: ctx.url('n.jsonld') }, opts);
    expectNoContent(await patch(attrsPath(id), { json: { speed: prop(90) }, ...link }));
    const r = await inbox.waitFor(about(id));
    expect(entityIn(r, id)).toEqual({ id, type: 'Car', speed: prop(90) });
    expect(parseLinks(r.headers.link ?? null).filter((l) => l.rel === JSONLD_CONTEXT_REL).map((l) => l.uri)).toContain(ctx.url('n.jsonld'));
  });

  test('TP/NGSI-LD/CI/SUB/046_07_03 5.5.7 a subscription made without that @context gets Fully Qualified Names', async () => {
    const inbox = receiver.inbox();
    const id = uid('Car');
    const link = { ...opts, link: ctx.url('n.jsonld') };
    await createEntity({ id, type: 'Car', speed: prop(80) }, link);
    await subscribe(inbox, { entities: [{ id, type: `${NS}Car` }] }, opts);
    expectNoContent(await patch(attrsPath(id), { json: { speed: prop(90) }, ...link }));
    const got = entityIn(await inbox.waitFor(about(id)), id);
    expect(got.type).toBe(`${NS}Car`);
    expect(got[`${NS}speed`]).toEqual(prop(90));
  });

  test('6.3.14 / 5.5.10 a notification of a tenant carries the NGSILD-Tenant header', async () => {
    const inbox = receiver.inbox();
    const e = await entity(opts);
    await subscribe(inbox, on(e), opts);
    await update(e, { temperature: prop(25) }, opts);
    const r = await inbox.waitFor(about(e.id));
    expect(r.headers['ngsild-tenant']).toBe(T);
  });

  test('6.3.14 a notification of the default tenant carries no NGSILD-Tenant header', async () => {
    const inbox = receiver.inbox();
    const e = await entity({});
    await subscribe(inbox, on(e), {});
    await update(e, { temperature: prop(25) }, {});
    const r = await inbox.waitFor(about(e.id));
    expect(r.headers['ngsild-tenant']).toBeUndefined();
  });

  test('TP/NGSI-LD/CI/SUB/046_09_01 6.3.8 every receiverInfo pair becomes an HTTP header', async () => {
    const inbox = receiver.inbox();
    const e = await entity(opts);
    const receiverInfo = [
      { key: 'X-Additional-Key', value: 'conformance-1' },
      { key: 'Authorization', value: 'Bearer abc.def' },
    ];
    await subscribe(inbox, { ...on(e), notification: { endpoint: { receiverInfo } } }, opts);
    await update(e, { temperature: prop(25) }, opts);
    const r = await inbox.waitFor(about(e.id));
    expect(r.headers['x-additional-key']).toBe('conformance-1');
    expect(r.headers['authorization']).toBe('Bearer abc.def');
  });

  test('5.3.1 every notification has its own id', async () => {
    const inbox = receiver.inbox();
    const e = await entity(opts);
    await subscribe(inbox, on(e), opts);
    await update(e, { temperature: prop(21) }, opts);
    await inbox.waitFor(about(e.id, temperatureIs(21)));
    await update(e, { temperature: prop(22) }, opts);
    await inbox.waitFor(about(e.id, temperatureIs(22)));
    const ids = notificationsAbout(inbox, e.id).map((r) => r.body.id);
    expect(new Set(ids).size, `ids: ${ids.join(', ')}`).toBe(ids.length);
  });
});

describe('Notification triggers (5.2.12 notificationTrigger, 5.8.6)', () => {
  const T = tenant();
  const opts = { tenant: T };

  test('5.2.12 default triggers (attributeCreated, attributeUpdated): updates and new attributes notify; deletions do not', async () => {
    const inbox = receiver.inbox();
    const type = uniqueType('Room');
    const gone = await entity(opts, {}, type);
    const kept = await entity(opts, {}, type);
    await subscribe(inbox, { entities: [{ type }] }, opts);
    expectNoContent(await del(attrPath(gone.id, 'humidity'), opts));
    expectNoContent(await del(entityPath(gone.id), opts));
    await update(kept, { temperature: prop(21) }, opts);
    await inbox.waitFor(about(kept.id, temperatureIs(21)), undefined, 'attributeUpdated');
    await append(kept, { pressure: prop(1013) }, opts);
    await inbox.waitFor(about(kept.id, (x) => valueOf(x.pressure) === 1013), undefined, 'attributeCreated');
    expect(await inbox.settle(about(gone.id)), `no notification for attribute or entity deletion:\n${inboxLog(inbox)}`).toEqual([]);
  });

  test('TP/NGSI-LD/CI/SUB/046_06_01 entityCreated: a new matching entity is notified; updates are not', async () => {
    const inbox = receiver.inbox();
    const type = uniqueType('Building');
    await subscribe(inbox, { entities: [{ type }], notificationTrigger: ['entityCreated'] }, opts);
    const first = await entity(opts, {}, type);
    const r = await inbox.waitFor(about(first.id));
    expect(entityIn(r, first.id)).toEqual({ id: first.id, type, temperature: prop(20), humidity: prop(40) });
    await update(first, { temperature: prop(21) }, opts);
    const second = await entity(opts, {}, type);
    await inbox.waitFor(about(second.id));
    expect(await inbox.settle(about(first.id)), inboxLog(inbox)).toHaveLength(1);
  });

  test('5.2.12 entityUpdated stands for attributeCreated, attributeUpdated and attributeDeleted', async () => {
    const inbox = receiver.inbox();
    const e = await entity(opts);
    await subscribe(inbox, { ...on(e), notificationTrigger: ['entityUpdated'] }, opts);
    await update(e, { temperature: prop(21) }, opts);
    await inbox.waitFor(about(e.id, temperatureIs(21)), undefined, 'an attribute update');
    await append(e, { pressure: prop(1013) }, opts);
    await inbox.waitFor(about(e.id, (x) => valueOf(x.pressure) === 1013), undefined, 'a new attribute');
    expectNoContent(await del(attrPath(e.id, 'humidity'), opts));
    await inbox.waitFor(about(e.id, (x) => isDeletedAttr(x.humidity)), undefined, 'an attribute deletion');
  });

  test('TP/NGSI-LD/CI/SUB/046_21_01 entityDeleted: the deletion is notified with deletedAt only; updates are not', async () => {
    const inbox = receiver.inbox();
    const e = await entity(opts);
    const sid = await subscribe(inbox, { ...on(e), notificationTrigger: ['entityDeleted'] }, opts);
    await update(e, { temperature: prop(21) }, opts);
    expectNoContent(await del(entityPath(e.id), opts));
    const r = await inbox.waitFor(about(e.id));
    expectNotification(r, sid);
    const got = entityIn(r, e.id);
    expectDateTime(got.deletedAt, 'deletedAt');
    expect(Object.keys(got).filter((k) => !['id', 'type', 'deletedAt', '@context'].includes(k)), '5.8.6 only deletedAt is provided').toEqual([]);
    expect(await inbox.settle(about(e.id)), inboxLog(inbox)).toHaveLength(1);
  });

  test('TP/NGSI-LD/CI/SUB/046_21_02 entityDeleted with sysAttrs: deletedAt, createdAt and modifiedAt', async () => {
    const inbox = receiver.inbox();
    const e = await entity(opts);
    await subscribe(inbox, { ...on(e), notificationTrigger: ['entityDeleted'], notification: { sysAttrs: true } }, opts);
    expectNoContent(await del(entityPath(e.id), opts));
    const got = entityIn(await inbox.waitFor(about(e.id)), e.id);
    expectDateTime(got.deletedAt, 'deletedAt');
    expectDateTime(got.createdAt, 'createdAt');
    expectDateTime(got.modifiedAt, 'modifiedAt');
  });

  test('5.2.12 attributeCreated: a new attribute notifies; an update of an existing one does not', async () => {
    const inbox = receiver.inbox();
    const e = await entity(opts);
    await subscribe(inbox, { ...on(e), notificationTrigger: ['attributeCreated'] }, opts);
    await update(e, { temperature: prop(21) }, opts);
    await append(e, { pressure: prop(1013) }, opts);
    await inbox.waitFor(about(e.id, (x) => valueOf(x.pressure) === 1013));
    expect(await inbox.settle(about(e.id)), inboxLog(inbox)).toHaveLength(1);
  });

  test('5.2.12 attributeUpdated: an update notifies; a new attribute does not', async () => {
    const inbox = receiver.inbox();
    const e = await entity(opts);
    await subscribe(inbox, { ...on(e), notificationTrigger: ['attributeUpdated'] }, opts);
    await append(e, { pressure: prop(1013) }, opts);
    await update(e, { temperature: prop(21) }, opts);
    await inbox.waitFor(about(e.id, temperatureIs(21)));
    expect(await inbox.settle(about(e.id)), inboxLog(inbox)).toHaveLength(1);
  });

  test('TP/NGSI-LD/CI/SUB/046_22_04 attributeDeleted: the deleted attribute is notified as "urn:ngsi-ld:null"; updates are not', async () => {
    const inbox = receiver.inbox();
    const e = await entity(opts);
    await subscribe(inbox, { ...on(e), notificationTrigger: ['attributeDeleted'] }, opts);
    await update(e, { temperature: prop(21) }, opts);
    expectNoContent(await del(attrPath(e.id, 'humidity'), opts));
    const got = entityIn(await inbox.waitFor(about(e.id)), e.id);
    expect(isDeletedAttr(got.humidity), `5.8.6 humidity: ${JSON.stringify(got.humidity)}`).toBe(true);
    expect(await inbox.settle(about(e.id)), inboxLog(inbox)).toHaveLength(1);
  });

  test('TP/NGSI-LD/CI/SUB/046_22_01 attributeDeleted in keyValues: the attribute is "urn:ngsi-ld:null"', async () => {
    const inbox = receiver.inbox();
    const e = await entity(opts);
    await subscribe(inbox, { ...on(e), notificationTrigger: ['attributeDeleted'], notification: { format: 'keyValues' } }, opts);
    expectNoContent(await del(attrPath(e.id, 'humidity'), opts));
    expect(entityIn(await inbox.waitFor(about(e.id)), e.id).humidity).toBe(NGSI_NULL);
  });

  test('TP/NGSI-LD/CI/SUB/046_22_03 attributeDeleted of an attribute that is not watched: no notification', async () => {
    const inbox = receiver.inbox();
    const e = await entity(opts);
    await subscribe(inbox, { ...on(e), watchedAttributes: ['humidity'], notificationTrigger: ['attributeDeleted'] }, opts);
    expectNoContent(await del(attrPath(e.id, 'temperature'), opts));
    expectNoContent(await del(attrPath(e.id, 'humidity'), opts));
    const got = entityIn(await inbox.waitFor(about(e.id)), e.id);
    expect(isDeletedAttr(got.humidity)).toBe(true);
    expect(await inbox.settle(about(e.id)), inboxLog(inbox)).toHaveLength(1);
  });

  test('TP/NGSI-LD/CI/SUB/046_22_12 attributeDeleted on a watched attribute: deleting the entity notifies', async () => {
    const inbox = receiver.inbox();
    const e = await entity(opts);
    await subscribe(inbox, { ...on(e), watchedAttributes: ['humidity'], notificationTrigger: ['attributeDeleted'] }, opts);
    expectNoContent(await del(entityPath(e.id), opts));
    const got = entityIn(await inbox.waitFor(about(e.id)), e.id);
    expect(isDeletedAttr(got.humidity), `humidity: ${JSON.stringify(got)}`).toBe(true);
  });

  test.each<[string, (e: Ref, opts: ReqOptions) => Promise<unknown>]>([
    [
      'TP/NGSI-LD/CI/SUB/046_22_09_01 Merge Entity',
      async (e, o) => expectNoContent(await patch(entityPath(e.id), { json: { humidity: prop(NGSI_NULL) }, ...o })),
    ],
    [
      'TP/NGSI-LD/CI/SUB/046_22_09_02 Update Attributes',
      async (e, o) => expectNoContent(await patch(attrsPath(e.id), { json: { humidity: prop(NGSI_NULL) }, ...o })),
    ],
    [
      'TP/NGSI-LD/CI/SUB/046_22_09_03 Partial Attribute Update',
      async (e, o) => expectNoContent(await patch(attrPath(e.id, 'humidity'), { json: prop(NGSI_NULL), ...o })),
    ],
  ])('%s with NGSI-LD Null deletes the attribute: attributeDeleted notifies', async (_title, write) => {
    const inbox = receiver.inbox();
    const e = await entity(opts);
    await subscribe(inbox, { ...on(e), notificationTrigger: ['attributeDeleted'] }, opts);
    await write(e, opts);
    const got = entityIn(await inbox.waitFor(about(e.id)), e.id);
    expect(isDeletedAttr(got.humidity), `humidity: ${JSON.stringify(got.humidity)}`).toBe(true);
  });

  test('TP/NGSI-LD/CI/SUB/046_22_10_01 a Relationship deleted by Merge Entity with NGSI-LD Null: attributeDeleted notifies', async () => {
    const inbox = receiver.inbox();
    const e = await entity(opts, { locatedAt: rel('urn:ngsi-ld:Place:one') });
    await subscribe(inbox, { ...on(e), notificationTrigger: ['attributeDeleted'] }, opts);
    expectNoContent(await patch(entityPath(e.id), { json: { locatedAt: rel(NGSI_NULL) }, ...opts }));
    const got = entityIn(await inbox.waitFor(about(e.id)), e.id);
    expect(isDeletedAttr(got.locatedAt), `locatedAt: ${JSON.stringify(got.locatedAt)}`).toBe(true);
  });

  test('5.8.6 an update with the value the attribute already has is no change: no notification', async () => {
    const inbox = receiver.inbox();
    const e = await entity(opts);
    await subscribe(inbox, on(e), opts);
    await update(e, { temperature: prop(20) }, opts);
    await update(e, { temperature: prop(22) }, opts);
    await inbox.waitFor(about(e.id, temperatureIs(22)));
    expect(await inbox.settle(about(e.id)), inboxLog(inbox)).toHaveLength(1);
  });
});

describe('Which changes notify: entity selectors, watchedAttributes, q, geoQ, scopeQ (5.2.12, 5.2.33, 5.8.6)', () => {
  const T = tenant();
  const opts = { tenant: T };

  test('TP/NGSI-LD/CI/SUB/046_16_01 / 046_16_02 an entity type selector: entities of another type are not notified', async () => {
    const inbox = receiver.inbox();
    const wanted = await entity(opts, {}, uniqueType('Building'));
    const other = await entity(opts, {}, uniqueType('Vehicle'));
    const sid = await subscribe(inbox, { entities: [{ type: wanted.type }] }, opts);
    await update(other, { temperature: prop(21) }, opts);
    await update(wanted, { temperature: prop(21) }, opts);
    const r = await inbox.waitFor(about(wanted.id));
    expectNotification(r, sid);
    expect(r.body.data[0].id).toBe(wanted.id);
    expect(await inbox.settle(about(other.id)), inboxLog(inbox)).toEqual([]);
  });

  test('5.2.33 an entity id selector: other entities of the type are not notified', async () => {
    const inbox = receiver.inbox();
    const type = uniqueType('Room');
    const wanted = await entity(opts, {}, type);
    const other = await entity(opts, {}, type);
    await subscribe(inbox, { entities: [{ id: wanted.id, type }] }, opts);
    await update(other, { temperature: prop(21) }, opts);
    await update(wanted, { temperature: prop(21) }, opts);
    await inbox.waitFor(about(wanted.id));
    expect(await inbox.settle(about(other.id)), inboxLog(inbox)).toEqual([]);
  });

  test('5.2.33 an idPattern selector: only ids matching the pattern are notified', async () => {
    const inbox = receiver.inbox();
    const type = uniqueType('Room');
    const wanted = await entity(opts, {}, type, `urn:ngsi-ld:${type}:match-${uniqueAttr('')}`);
    const other = await entity(opts, {}, type, `urn:ngsi-ld:${type}:other-${uniqueAttr('')}`);
    await subscribe(inbox, { entities: [{ idPattern: `^urn:ngsi-ld:${type}:match-.*`, type }] }, opts);
    await update(other, { temperature: prop(21) }, opts);
    await update(wanted, { temperature: prop(21) }, opts);
    await inbox.waitFor(about(wanted.id));
    expect(await inbox.settle(about(other.id)), inboxLog(inbox)).toEqual([]);
  });

  test('5.2.12 watchedAttributes: a change of another attribute does not notify', async () => {
    const inbox = receiver.inbox();
    const e = await entity(opts);
    await subscribe(inbox, { ...on(e), watchedAttributes: ['temperature'] }, opts);
    await update(e, { humidity: prop(77) }, opts);
    await update(e, { temperature: prop(21) }, opts);
    const r = await inbox.waitFor(about(e.id, temperatureIs(21)));
    expect(valueOf(entityIn(r, e.id).humidity), 'all attributes are sent (5.8.6)').toBe(77);
    expect(await inbox.settle(about(e.id)), inboxLog(inbox)).toHaveLength(1);
  });

  test('5.8.1.4 watchedAttributes without entities: any entity having a watched attribute is subscribed', async () => {
    const inbox = receiver.inbox();
    const attr = uniqueAttr('watched');
    const a = await entity(opts, { [attr]: prop(1) }, uniqueType('Any'));
    const b = await entity(opts, { [attr]: prop(1) }, uniqueType('Other'));
    await subscribe(inbox, { watchedAttributes: [attr] }, opts);
    await update(a, { [attr]: prop(2) }, opts);
    await update(b, { [attr]: prop(3) }, opts);
    await inbox.waitFor(about(a.id, (x) => valueOf(x[attr]) === 2));
    await inbox.waitFor(about(b.id, (x) => valueOf(x[attr]) === 3));
  });

  test('TP/NGSI-LD/CI/SUB/046_04_01 / 046_05_01 q: a change leaving the entity outside q does not notify, one matching it does', async () => {
    const inbox = receiver.inbox();
    const e = await entity(opts);
    await subscribe(inbox, { ...on(e), q: 'temperature>25' }, opts);
    await update(e, { temperature: prop(22) }, opts);
    await update(e, { temperature: prop(30) }, opts);
    await inbox.waitFor(about(e.id, temperatureIs(30)));
    expect(await inbox.settle(about(e.id)), inboxLog(inbox)).toHaveLength(1);
  });

  test('4.9 q on a text value', async () => {
    const inbox = receiver.inbox();
    const e = await entity(opts, { state: prop('closed') });
    await subscribe(inbox, { ...on(e), q: 'state=="open"' }, opts);
    await update(e, { temperature: prop(25) }, opts);
    await update(e, { state: prop('open') }, opts);
    await inbox.waitFor(about(e.id, (x) => valueOf(x.state) === 'open'));
    expect(await inbox.settle(about(e.id)), inboxLog(inbox)).toHaveLength(1);
  });

  test('5.8.6 / 4.10 geoQ near;maxDistance: only changes while the entity is near the point notify', async () => {
    const inbox = receiver.inbox();
    const e = await entity(opts, { location: point(2.2945, 48.8584) });
    await subscribe(inbox, { ...on(e), geoQ: { georel: 'near;maxDistance==1000', geometry: 'Point', coordinates: P0 } }, opts);
    await update(e, { temperature: prop(21) }, opts);
    await update(e, { location: point(13.378, 52.5165) }, opts);
    const got = entityIn(await inbox.waitFor(about(e.id)), e.id);
    expect(got.location.value.coordinates).toEqual([13.378, 52.5165]);
    expect(await inbox.settle(about(e.id)), inboxLog(inbox)).toHaveLength(1);
  });

  test('5.8.6 / 4.10 geoQ within a Polygon', async () => {
    const inbox = receiver.inbox();
    const e = await entity(opts, { location: point(2.2945, 48.8584) });
    await subscribe(inbox, { ...on(e), geoQ: { georel: 'within', geometry: 'Polygon', coordinates: SQUARE } }, opts);
    await update(e, { temperature: prop(21) }, opts);
    await update(e, { location: point(...P0) }, opts);
    await inbox.waitFor(about(e.id, (x) => x.location?.value?.coordinates?.[0] === P0[0]));
    await update(e, { temperature: prop(22) }, opts);
    await inbox.waitFor(about(e.id, temperatureIs(22)), undefined, 'a change while inside');
    const outside = (x: any): boolean => x.location?.value?.coordinates?.[0] !== P0[0];
    expect(await inbox.settle(about(e.id, outside)), `no notification while outside:\n${inboxLog(inbox)}`).toEqual([]);
  });

  test('5.8.6 / 4.19 scopeQ: only entities in the scope are notified', async () => {
    const inbox = receiver.inbox();
    const type = uniqueType('Room');
    const wanted = await entity(opts, { scope: '/Berlin/Mitte' }, type);
    const other = await entity(opts, { scope: '/Madrid' }, type);
    await subscribe(inbox, { entities: [{ type }], scopeQ: '/Berlin/#' }, opts);
    await update(other, { temperature: prop(21) }, opts);
    await update(wanted, { temperature: prop(21) }, opts);
    await inbox.waitFor(about(wanted.id));
    expect(await inbox.settle(about(other.id)), inboxLog(inbox)).toEqual([]);
  });
});

describe('What a notification contains: attributes, format, sysAttrs, showChanges (5.2.14, 5.8.6)', () => {
  const T = tenant();
  const opts = { tenant: T };

  async function notifiedEntity(notification: Record<string, unknown>, attrs: Record<string, unknown> = {}, change: Record<string, unknown> = { temperature: prop(21) }) {
    const inbox = receiver.inbox();
    const e = await entity(opts, attrs);
    await subscribe(inbox, { ...on(e), notification }, opts);
    await update(e, change, opts);
    return { e, got: entityIn(await inbox.waitFor(about(e.id)), e.id) };
  }

  test('TP/NGSI-LD/CI/SUB/046_07_02 notification.attributes: only those attributes are sent', async () => {
    const { e, got } = await notifiedEntity({ attributes: ['temperature'] });
    expect(got).toEqual({ id: e.id, type: e.type, temperature: prop(21) });
  });

  test('TP/NGSI-LD/CI/SUB/046_08_02 format "keyValues": the simplified representation (4.5.4)', async () => {
    const { e, got } = await notifiedEntity({ format: 'keyValues' }, { owner: rel('urn:ngsi-ld:Person:Alice') });
    expect(got).toEqual({ id: e.id, type: e.type, temperature: 21, humidity: 40, owner: 'urn:ngsi-ld:Person:Alice' });
  });

  test('5.2.14 format "simplified" is a synonym of keyValues', async () => {
    const { e, got } = await notifiedEntity({ format: 'simplified' });
    expect(got).toEqual({ id: e.id, type: e.type, temperature: 21, humidity: 40 });
  });

  test('5.8.6 format "concise": the concise representation (4.5.1)', async () => {
    const { e, got } = await notifiedEntity(
      { format: 'concise' },
      { speed: { type: 'Property', value: 80, unitCode: 'KMH' }, owner: rel('urn:ngsi-ld:Person:Alice') },
    );
    expect(got.id).toBe(e.id);
    expect(got.type).toBe(e.type);
    expect(got.temperature, '4.5.2.3 a Property without sub-attributes is its bare value').toBe(21);
    expect(got.speed, '4.5.2.3 "type" is dropped').toEqual({ value: 80, unitCode: 'KMH' });
    expect(got.owner, '4.5.3.3 a Relationship keeps "object"').toEqual({ object: 'urn:ngsi-ld:Person:Alice' });
  });

  test('5.2.14 format "normalized" given explicitly', async () => {
    const { e, got } = await notifiedEntity({ format: 'normalized' });
    expect(got).toEqual({ id: e.id, type: e.type, temperature: prop(21), humidity: prop(40) });
  });

  test('TP/NGSI-LD/CI/SUB/046_17_01 sysAttrs true: createdAt and modifiedAt of the entity and its attributes', async () => {
    const { got } = await notifiedEntity({ sysAttrs: true });
    expectDateTime(got.createdAt, 'entity createdAt');
    expectDateTime(got.modifiedAt, 'entity modifiedAt');
    expectDateTime(got.temperature.createdAt, 'temperature.createdAt');
    expectDateTime(got.temperature.modifiedAt, 'temperature.modifiedAt');
    expect(Date.parse(got.temperature.modifiedAt)).toBeGreaterThan(Date.parse(got.temperature.createdAt));
  });

  test('TP/NGSI-LD/CI/SUB/046_18_01 sysAttrs false (the default): no system attributes', async () => {
    const { got } = await notifiedEntity({});
    expect(got.createdAt).toBeUndefined();
    expect(got.modifiedAt).toBeUndefined();
    expect(got.temperature.createdAt).toBeUndefined();
    expect(got.temperature.modifiedAt).toBeUndefined();
  });

  test('5.2.14 showChanges: a Property carries previousValue', async () => {
    const { got } = await notifiedEntity({ showChanges: true });
    expect(got.temperature).toEqual({ type: 'Property', value: 21, previousValue: 20 });
    expect(got.humidity.previousValue, 'an unchanged attribute has no previous value').toBeUndefined();
  });

  test('5.2.14 showChanges: a Relationship carries previousObject', async () => {
    const { got } = await notifiedEntity(
      { showChanges: true },
      { owner: rel('urn:ngsi-ld:Person:Alice') },
      { owner: rel('urn:ngsi-ld:Person:Bob') },
    );
    expect(got.owner).toEqual({ type: 'Relationship', object: 'urn:ngsi-ld:Person:Bob', previousObject: 'urn:ngsi-ld:Person:Alice' });
  });

  test('5.2.14 showChanges false (the default): no previousValue', async () => {
    const { got } = await notifiedEntity({});
    expect(got.temperature).toEqual(prop(21));
  });

  test('5.2.14 showChanges: nothing previous on the creation of an entity', async () => {
    const inbox = receiver.inbox();
    const type = uniqueType('Room');
    await subscribe(inbox, { entities: [{ type }], notificationTrigger: ['entityCreated'], notification: { showChanges: true } }, opts);
    const e = await entity(opts, {}, type);
    const got = entityIn(await inbox.waitFor(about(e.id)), e.id);
    expect(got.temperature).toEqual(prop(20));
  });

  test('5.2.14 showChanges with a deleted attribute: the previous value next to "urn:ngsi-ld:null"', async () => {
    const inbox = receiver.inbox();
    const e = await entity(opts);
    await subscribe(inbox, { ...on(e), notificationTrigger: ['attributeDeleted'], notification: { showChanges: true } }, opts);
    expectNoContent(await del(attrPath(e.id, 'humidity'), opts));
    const got = entityIn(await inbox.waitFor(about(e.id)), e.id);
    expect(got.humidity, '5.8.6 a JSON object with value urn:ngsi-ld:null and the previous value').toEqual({
      type: 'Property',
      value: NGSI_NULL,
      previousValue: 40,
    });
  });
});

describe('When notifications are sent: throttling, timeInterval, isActive, expiresAt, deletion (5.2.12, 5.8.6)', () => {
  const T = tenant();
  const opts = { tenant: T };

  test('TP/NGSI-LD/CI/SUB/046_15_01 throttling: two notifications are never closer than the throttling period', async () => {
    const inbox = receiver.inbox();
    const e = await entity(opts);
    const throttlingMs = 1500;
    await subscribe(inbox, { ...on(e), throttling: throttlingMs / 1000 }, opts);
    await update(e, { temperature: prop(21) }, opts);
    const first = await inbox.waitFor(about(e.id, temperatureIs(21)));
    await update(e, { temperature: prop(22) }, opts);
    await update(e, { temperature: prop(23) }, opts);
    // Once the period is over, a further change is notified again.
    await sleep(Math.max(0, first.at + throttlingMs + 200 - Date.now()));
    await update(e, { temperature: prop(24) }, opts);
    await inbox.waitFor(about(e.id, temperatureIs(24)), throttlingMs + NOTIFY_TIMEOUT_MS);
    const times = notificationsAbout(inbox, e.id).map((r) => r.at);
    for (let i = 1; i < times.length; i++) {
      expect(times[i]! - times[i - 1]!, `gap between notifications ${i} and ${i + 1}:\n${inboxLog(inbox)}`).toBeGreaterThanOrEqual(throttlingMs - 150);
    }
  });

  test('TP/NGSI-LD/CI/SUB/046_02_01 timeInterval: notifications every period with the current state of the entities', async () => {
    const inbox = receiver.inbox();
    const e = await entity(opts);
    const sid = await subscribe(inbox, { ...on(e), timeInterval: 1 }, opts);
    const [a, b] = await inbox.waitForCount(2, about(e.id), 2000 + NOTIFY_TIMEOUT_MS);
    expectNotification(a!, sid);
    expect(valueOf(entityIn(a!, e.id).temperature)).toBe(20);
    expect(b!.at - a!.at, 'the period is 1 s').toBeGreaterThanOrEqual(800);
    await update(e, { temperature: prop(33) }, opts);
    await inbox.waitFor(about(e.id, temperatureIs(33)), 2000 + NOTIFY_TIMEOUT_MS, 'a periodic notification with the new state');
    expectNoContent(await del(subscriptionPath(sid), opts));
    const times = notificationsAbout(inbox, e.id).map((r) => r.at);
    for (let i = 1; i < times.length; i++) {
      expect(times[i]! - times[i - 1]!, `periodic, not on change (5.8.6):\n${inboxLog(inbox)}`).toBeGreaterThanOrEqual(800);
    }
  });

  test('5.8.6 timeInterval: no notification while no entity matches', async () => {
    const inbox = receiver.inbox();
    const type = uniqueType('Later');
    const sid = await subscribe(inbox, { entities: [{ type }], timeInterval: 1 }, opts);
    expect(await inbox.settle(undefined, 1500), inboxLog(inbox)).toEqual([]);
    const e = await entity(opts, {}, type);
    await inbox.waitFor(about(e.id), 2000 + NOTIFY_TIMEOUT_MS);
    expectNoContent(await del(subscriptionPath(sid), opts));
  });

  test('TP/NGSI-LD/CI/SUB/046_01_01 5.8.6 a paused subscription (isActive false) does not notify; reactivated, it does', async () => {
    const paused = receiver.inbox();
    const control = receiver.inbox();
    const e = await entity(opts);
    const sid = await subscribe(paused, { ...on(e), isActive: false }, opts);
    await subscribe(control, on(e), opts);
    await update(e, { temperature: prop(21) }, opts);
    await control.waitFor(about(e.id, temperatureIs(21)));
    expect(await paused.settle(), inboxLog(paused)).toEqual([]);
    expectNoContent(await patch(subscriptionPath(sid), { json: { isActive: true }, ...opts }));
    await update(e, { temperature: prop(22) }, opts);
    await paused.waitFor(about(e.id, temperatureIs(22)));
    expect(paused.matching(about(e.id, temperatureIs(21))), inboxLog(paused)).toEqual([]);
  });

  test('5.8.2.4 / 5.8.6 isActive set to false stops the notifications', async () => {
    const inbox = receiver.inbox();
    const control = receiver.inbox();
    const e = await entity(opts);
    const sid = await subscribe(inbox, on(e), opts);
    await subscribe(control, on(e), opts);
    await update(e, { temperature: prop(21) }, opts);
    await inbox.waitFor(about(e.id, temperatureIs(21)));
    expectNoContent(await patch(subscriptionPath(sid), { json: { isActive: false }, ...opts }));
    await update(e, { temperature: prop(22) }, opts);
    await control.waitFor(about(e.id, temperatureIs(22)));
    expect(await inbox.settle(about(e.id, temperatureIs(22))), inboxLog(inbox)).toEqual([]);
  });

  test('5.8.1.4 / 5.8.6 expiresAt: notifications stop once the subscription has expired', async () => {
    const inbox = receiver.inbox();
    const control = receiver.inbox();
    const e = await entity(opts);
    const expiresAt = future(2000);
    const sid = await subscribe(inbox, { ...on(e), expiresAt }, opts);
    await subscribe(control, on(e), opts);
    await update(e, { temperature: prop(21) }, opts);
    await inbox.waitFor(about(e.id, temperatureIs(21)), undefined, 'a notification before expiry');
    await sleep(Math.max(0, Date.parse(expiresAt) + 200 - Date.now()));
    const sub = await pollSubscription(sid, (s) => s.status === 'expired', opts, 3000);
    expect(sub?.status, '5.8.1.4 status "expired"').toBe('expired');
    await update(e, { temperature: prop(22) }, opts);
    await control.waitFor(about(e.id, temperatureIs(22)));
    expect(await inbox.settle(about(e.id, temperatureIs(22))), inboxLog(inbox)).toEqual([]);
  });

  test('5.8.5.4 a deleted subscription no longer notifies', async () => {
    const inbox = receiver.inbox();
    const control = receiver.inbox();
    const e = await entity(opts);
    const sid = await subscribe(inbox, on(e), opts);
    await subscribe(control, on(e), opts);
    expectNoContent(await del(subscriptionPath(sid), opts));
    await update(e, { temperature: prop(21) }, opts);
    await control.waitFor(about(e.id, temperatureIs(21)));
    expect(await inbox.settle(), inboxLog(inbox)).toEqual([]);
  });
});

describe('Every write operation notifies (5.6, 5.8.6)', () => {
  const T = tenant();
  const opts = { tenant: T };

  /** A subscription with every trigger on exactly this entity. */
  async function watch(e: Ref): Promise<Inbox> {
    const inbox = receiver.inbox();
    await subscribe(inbox, { ...on(e), notificationTrigger: ALL_TRIGGERS }, opts);
    return inbox;
  }

  /** A fresh entity (existing) with a subscription on it. */
  async function watched(attrs: Record<string, unknown> = {}): Promise<{ e: Ref; inbox: Inbox }> {
    const e = await entity(opts, attrs);
    return { e, inbox: await watch(e) };
  }

  /** A subscription on an entity that does not exist yet. */
  async function watchedNew(): Promise<{ e: Ref; inbox: Inbox }> {
    const type = uniqueType('New');
    const e = { id: uid(type), type };
    return { e, inbox: await watch(e) };
  }

  const deleted = (x: any): boolean => typeof x.deletedAt === 'string';

  test('Create Entity — POST /entities (5.6.1)', async () => {
    const { e, inbox } = await watchedNew();
    await createEntity({ id: e.id, type: e.type, temperature: prop(20) }, opts);
    await inbox.waitFor(about(e.id, temperatureIs(20)));
  });

  test('Update Attributes — PATCH /entities/{id}/attrs (5.6.2)', async () => {
    const { e, inbox } = await watched();
    expectNoContent(await patch(attrsPath(e.id), { json: { temperature: prop(21) }, ...opts }));
    await inbox.waitFor(about(e.id, temperatureIs(21)));
  });

  test('Append Attributes — POST /entities/{id}/attrs (5.6.3)', async () => {
    const { e, inbox } = await watched();
    expectNoContent(await post(attrsPath(e.id), { json: { pressure: prop(1013), temperature: prop(21) }, ...opts }));
    await inbox.waitFor(about(e.id, (x) => valueOf(x.pressure) === 1013 && valueOf(x.temperature) === 21));
  });

  test('Partial Attribute Update — PATCH /entities/{id}/attrs/{attrId} (5.6.4)', async () => {
    const { e, inbox } = await watched();
    expectNoContent(await patch(attrPath(e.id, 'temperature'), { json: { value: 21 }, ...opts }));
    await inbox.waitFor(about(e.id, temperatureIs(21)));
  });

  test('Replace Attribute — PUT /entities/{id}/attrs/{attrId} (5.6.19)', async () => {
    const { e, inbox } = await watched();
    expectNoContent(await put(attrPath(e.id, 'temperature'), { json: prop(21), ...opts }));
    await inbox.waitFor(about(e.id, temperatureIs(21)));
  });

  test('Replace Entity — PUT /entities/{id} (5.6.18)', async () => {
    const { e, inbox } = await watched();
    expectNoContent(await put(entityPath(e.id), { json: { id: e.id, type: e.type, temperature: prop(30) }, ...opts }));
    await inbox.waitFor(about(e.id, temperatureIs(30)));
  });

  test('Merge Entity — PATCH /entities/{id} (5.6.17)', async () => {
    const { e, inbox } = await watched();
    expectNoContent(await patch(entityPath(e.id), { json: { temperature: prop(21) }, ...opts }));
    await inbox.waitFor(about(e.id, (x) => valueOf(x.temperature) === 21 && valueOf(x.humidity) === 40));
  });

  test('Delete Attribute — DELETE /entities/{id}/attrs/{attrId} (5.6.5)', async () => {
    const { e, inbox } = await watched();
    expectNoContent(await del(attrPath(e.id, 'humidity'), opts));
    await inbox.waitFor(about(e.id, (x) => isDeletedAttr(x.humidity)));
  });

  test('Delete Entity — DELETE /entities/{id} (5.6.6)', async () => {
    const { e, inbox } = await watched();
    expectNoContent(await del(entityPath(e.id), opts));
    await inbox.waitFor(about(e.id, deleted));
  });

  test('Batch Entity Creation — POST /entityOperations/create (5.6.7)', async () => {
    const { e, inbox } = await watchedNew();
    expectCreatedIds(await batch('create', [{ id: e.id, type: e.type, temperature: prop(20) }], opts), [e.id]);
    await inbox.waitFor(about(e.id, temperatureIs(20)));
  });

  test('Batch Entity Upsert of a new entity — POST /entityOperations/upsert (5.6.8)', async () => {
    const { e, inbox } = await watchedNew();
    expectCreatedIds(await batch('upsert', [{ id: e.id, type: e.type, temperature: prop(20) }], opts), [e.id]);
    await inbox.waitFor(about(e.id, temperatureIs(20)));
  });

  test('Batch Entity Upsert of an existing entity — POST /entityOperations/upsert (5.6.8)', async () => {
    const { e, inbox } = await watched();
    expectNoContent(await batch('upsert', [{ id: e.id, type: e.type, temperature: prop(21) }], opts));
    await inbox.waitFor(about(e.id, temperatureIs(21)));
  });

  test('Batch Entity Update — POST /entityOperations/update (5.6.9)', async () => {
    const { e, inbox } = await watched();
    expectNoContent(await batch('update', [{ id: e.id, type: e.type, temperature: prop(21) }], opts));
    await inbox.waitFor(about(e.id, temperatureIs(21)));
  });

  test('Batch Entity Merge — POST /entityOperations/merge (5.6.20)', async () => {
    const { e, inbox } = await watched();
    expectNoContent(await batch('merge', [{ id: e.id, type: e.type, temperature: prop(21) }], opts));
    await inbox.waitFor(about(e.id, temperatureIs(21)));
  });

  test('Batch Entity Delete — POST /entityOperations/delete (5.6.10)', async () => {
    const { e, inbox } = await watched();
    expectNoContent(await batch('delete', [e.id], opts));
    await inbox.waitFor(about(e.id, deleted));
  });

  test('Purge Entities — DELETE /entities?type= (5.6.21)', async () => {
    const { e, inbox } = await watched();
    expectNoContent(await purge({ type: e.type }, opts));
    await inbox.waitFor(about(e.id, deleted));
  });

  test('Purge Entities with drop — DELETE /entities?type=&drop= (5.6.21)', async () => {
    const { e, inbox } = await watched();
    expectNoContent(await purge({ type: e.type, drop: 'humidity' }, opts));
    await inbox.waitFor(about(e.id, (x) => isDeletedAttr(x.humidity)));
  });

  test('a batch touching several entities notifies each subscribed entity (5.6.9, 5.8.6)', async () => {
    const type = uniqueType('Batch');
    const a = await entity(opts, {}, type);
    const b = await entity(opts, {}, type);
    const inbox = receiver.inbox();
    await subscribe(inbox, { entities: [{ type }] }, opts);
    expectNoContent(
      await batch('update', [{ id: a.id, type, temperature: prop(21) }, { id: b.id, type, temperature: prop(22) }], opts),
    );
    await inbox.waitFor(about(a.id, temperatureIs(21)));
    await inbox.waitFor(about(b.id, temperatureIs(22)));
  });

  test('a write in another tenant does not notify (5.5.10)', async () => {
    const { e, inbox } = await watched();
    const other = tenant();
    await createEntity({ id: e.id, type: e.type, temperature: prop(20) }, { tenant: other });
    expectNoContent(await patch(attrsPath(e.id), { json: { temperature: prop(99) }, tenant: other }));
    expectNoContent(await patch(attrsPath(e.id), { json: { temperature: prop(21) }, ...opts }));
    await inbox.waitFor(about(e.id, temperatureIs(21)));
    expect(await inbox.settle(about(e.id, temperatureIs(99))), inboxLog(inbox)).toEqual([]);
  });
});
