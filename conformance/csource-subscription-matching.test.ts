/**
 * CSourceNotifications (5.3.2, 5.11.7) and what a CSource subscription matches (5.11.2.4, 5.12): entities,
 * watchedAttributes, geoQ, temporalQ (5.2.21) and the status rules, by the test purposes TP/NGSI-LD/CS/REGSUB/047
 * (GS CIM 013, 4.3.2.1) that conformance/csource-subscriptions.test.ts does not cover already.
 *
 * Every test selects an entity type of its own, so the registrations of other tests never match its subscriptions.
 */
import { describe, expect, test } from 'vitest';
import { expectNoContent, expectProblem, get, patch, tenant } from './lib/index.js';
import { useReceiver, type Inbox } from './lib/receiver.js';
import { aboutRegistration, createCSourceSubscription, createCSourceSubscriptionRes, createRegistration, csourceSubscription, csrPath, csubPath, deleteCreatedRegistrations, pollCSourceSubscription, regId } from './lib/registrations.js';
import { uniqueType } from './lib/subscriptions.js';

const receiver = useReceiver(deleteCreatedRegistrations);

const t = tenant();
const PORTO = { type: 'Polygon', coordinates: [[[-8.7, 41.1], [-8.4, 41.1], [-8.4, 41.3], [-8.7, 41.3], [-8.7, 41.1]]] };
const TOKYO = { type: 'Point', coordinates: [139.7, 35.7] };

function registration(type: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { id: regId(), type: 'ContextSourceRegistration', information: [{ entities: [{ type }], propertyNames: ['name'] }], endpoint: 'http://my.csource.org:1026', ...extra };
}

const reg = (body: Record<string, unknown>) => createRegistration(body, { tenant: t });
const sub = (body: Record<string, unknown>) => createCSourceSubscription(body, { tenant: t });

/** The registration ids notified to `inbox` once it has settled. */
async function notifiedIds(inbox: Inbox): Promise<string[]> {
  return (await inbox.settle()).flatMap((r) => (r.body?.data ?? []).map((d: { id: string }) => d.id));
}

describe('CSourceNotification content (5.3.2, 5.11.7)', () => {
  test('TP/NGSI-LD/CS/REGSUB/047_04_01 5.3.2: id, type Notification, subscriptionId, notifiedAt, data and triggerReason', async () => {
    const type = uniqueType('Csn');
    const inbox = receiver.inbox();
    const subId = await sub(csourceSubscription(type, inbox));
    const id = await reg(registration(type));
    const got = await inbox.waitFor(aboutRegistration(id, 'newlyMatching'));
    expect(got.body).toMatchObject({ type: 'Notification', subscriptionId: subId, triggerReason: 'newlyMatching' });
    expect(got.body.id).toMatch(/^[A-Za-z][A-Za-z0-9+.-]*:/);
    expect(Number.isNaN(Date.parse(got.body.notifiedAt))).toBe(false);
    expect(got.body.data).toEqual([expect.objectContaining({ id, type: 'ContextSourceRegistration' })]);
  });

  test('TP/NGSI-LD/CS/REGSUB/047_03_01 5.11.7: only the RegistrationInfo elements relevant to the subscription are sent', async () => {
    const type = uniqueType('Csn');
    const inbox = receiver.inbox();
    await sub(csourceSubscription(type, inbox));
    const id = await reg(registration(type, { information: [{ entities: [{ type }], propertyNames: ['name'] }, { entities: [{ type: `${type}Other` }], propertyNames: ['height'] }] }));
    const got = await inbox.waitFor(aboutRegistration(id, 'newlyMatching'));
    expect(got.body.data[0].information).toEqual([{ entities: [{ type }], propertyNames: ['name'] }]);
  });

  test('TP/NGSI-LD/CS/REGSUB/047_02_01 5.11.7: initially on subscription, then on every change of a matching registration', async () => {
    const type = uniqueType('Csn');
    const id = await reg(registration(type));
    const inbox = receiver.inbox();
    await sub(csourceSubscription(type, inbox));
    await inbox.waitFor(aboutRegistration(id, 'newlyMatching'), undefined, 'initial notification');
    expectNoContent(await patch(csrPath(id), { json: { description: 'changed' }, tenant: t }));
    const updated = await inbox.waitFor(aboutRegistration(id, 'updated'), undefined, 'updated');
    expect(updated.body.data[0].description).toBe('changed');
  });

  test('TP/NGSI-LD/CS/REGSUB/047_16_01 5.11.3.4: updating a CSource subscription notifies the registrations matching it now', async () => {
    const type = uniqueType('Csn');
    const first = await reg(registration(type));
    const second = await reg(registration(`${type}B`));
    const inbox = receiver.inbox();
    const subId = await sub(csourceSubscription(`${type}None`, inbox));
    expectNoContent(await patch(csubPath(subId), { json: { entities: [{ type }] }, tenant: t }));
    await inbox.waitFor(aboutRegistration(first, 'newlyMatching'), undefined, 'first after update');
    expectNoContent(await patch(csubPath(subId), { json: { entities: [{ type }, { type: `${type}B` }] }, tenant: t }));
    await inbox.waitFor(aboutRegistration(second, 'newlyMatching'), undefined, 'second after update');
    expect((await notifiedIds(inbox)).filter((x) => x === first).length).toBeGreaterThanOrEqual(2);
  });
});

describe('What a CSource subscription matches (5.11.2.4, 5.12)', () => {
  test('TP/NGSI-LD/CS/REGSUB/047_09_01 5.11.7: a registration updated out of the subscription is noLongerMatching', async () => {
    const type = uniqueType('Csm');
    const inbox = receiver.inbox();
    await sub(csourceSubscription(type, inbox));
    const id = await reg(registration(type));
    await inbox.waitFor(aboutRegistration(id, 'newlyMatching'));
    expectNoContent(await patch(csrPath(id), { json: { information: [{ entities: [{ type: `${type}Gone` }] }] }, tenant: t }));
    await inbox.waitFor(aboutRegistration(id, 'noLongerMatching'));
  });

  test('TP/NGSI-LD/CS/REGSUB/047_12_01 5.12: with watchedAttributes and notification.attributes, registrations offering one of them', async () => {
    const type = uniqueType('Csm');
    const inbox = receiver.inbox();
    await sub(csourceSubscription(type, inbox, { watchedAttributes: ['name'], notification: { attributes: ['brand'], endpoint: { uri: inbox.uri } } }));
    const brand = await reg(registration(type, { information: [{ entities: [{ type }], propertyNames: ['brand'] }] }));
    const height = await reg(registration(type, { information: [{ entities: [{ type }], propertyNames: ['height'] }] }));
    const all = await reg(registration(type, { information: [{ entities: [{ type }] }] }));
    await inbox.waitFor(aboutRegistration(all, 'newlyMatching'));
    const seen = await notifiedIds(inbox);
    expect(seen).toContain(brand);
    expect(seen).not.toContain(height);
  });

  test('TP/NGSI-LD/CS/REGSUB/047_13_01 5.11.2.4: without watchedAttributes every attribute of the entities matches', async () => {
    const type = uniqueType('Csm');
    const inbox = receiver.inbox();
    await sub(csourceSubscription(type, inbox));
    const height = await reg(registration(type, { information: [{ entities: [{ type }], propertyNames: ['height'] }] }));
    await inbox.waitFor(aboutRegistration(height, 'newlyMatching'));
  });

  test('TP/NGSI-LD/CS/REGSUB/047_14_01 5.11.2.4: a geoQ with geoproperty location matches registrations whose location may hold matches', async () => {
    const type = uniqueType('Csm');
    const inbox = receiver.inbox();
    const geoQ = { georel: 'near;maxDistance==2000', geometry: 'Point', coordinates: [-8.503, 41.202], geoproperty: 'location' };
    await sub(csourceSubscription(type, inbox, { geoQ }));
    const tokyo = await reg(registration(type, { location: TOKYO }));
    const porto = await reg(registration(type, { location: PORTO }));
    await inbox.waitFor(aboutRegistration(porto, 'newlyMatching'));
    expect(await notifiedIds(inbox)).not.toContain(tokyo);
  });

  test('TP/NGSI-LD/CS/REGSUB/047_15_01 5.11.2.4: a geoQ without geoproperty uses location', async () => {
    const type = uniqueType('Csm');
    const inbox = receiver.inbox();
    await sub(csourceSubscription(type, inbox, { geoQ: { georel: 'within', geometry: 'Polygon', coordinates: [[[-10, 40], [-8, 40], [-8, 42], [-10, 42], [-10, 40]]] } }));
    const tokyo = await reg(registration(type, { location: TOKYO }));
    const porto = await reg(registration(type, { location: PORTO }));
    await inbox.waitFor(aboutRegistration(porto, 'newlyMatching'));
    expect(await notifiedIds(inbox)).not.toContain(tokyo);
  });

  test('TP/NGSI-LD/CS/REGSUB/047_08_01 5.11.2.4: without temporalQ only registrations of latest information match', async () => {
    const type = uniqueType('Csm');
    const inbox = receiver.inbox();
    await sub(csourceSubscription(type, inbox));
    const temporal = await reg(registration(type, { observationInterval: { startAt: '2021-01-01T00:00:00Z' } }));
    const latest = await reg(registration(type));
    await inbox.waitFor(aboutRegistration(latest, 'newlyMatching'));
    expectNoContent(await patch(csrPath(latest), { json: { description: 'changed' }, tenant: t }));
    await inbox.waitFor(aboutRegistration(latest, 'updated'));
    expect(await notifiedIds(inbox)).not.toContain(temporal);
  });

  test('TP/NGSI-LD/CS/REGSUB/047_10_01 5.11.2.4: temporalQ with timeproperty observedAt matches the observationInterval', async () => {
    const type = uniqueType('Csm');
    const inbox = receiver.inbox();
    await sub(csourceSubscription(type, inbox, { temporalQ: { timerel: 'before', timeAt: '2021-08-01T22:00:00Z', timeproperty: 'observedAt' } }));
    const latest = await reg(registration(type));
    const later = await reg(registration(type, { observationInterval: { startAt: '2022-01-01T00:00:00Z' } }));
    const managed = await reg(registration(type, { managementInterval: { startAt: '2021-01-01T00:00:00Z' } }));
    const observed = await reg(registration(type, { observationInterval: { startAt: '2021-01-01T00:00:00Z', endAt: '2021-12-31T00:00:00Z' } }));
    await inbox.waitFor(aboutRegistration(observed, 'newlyMatching'));
    const seen = await notifiedIds(inbox);
    for (const other of [latest, later, managed]) expect(seen).not.toContain(other);
  });

  test.each([
    ['TP/NGSI-LD/CS/REGSUB/047_11_01', 'createdAt'],
    ['TP/NGSI-LD/CS/REGSUB/047_11_02', 'modifiedAt'],
  ])('%s 5.11.2.4: temporalQ with timeproperty %s matches the managementInterval', async (_tp, timeproperty) => {
    const type = uniqueType('Csm');
    const inbox = receiver.inbox();
    const res = await createCSourceSubscriptionRes(csourceSubscription(type, inbox, { temporalQ: { timerel: 'after', timeAt: '2021-08-01T22:00:00Z', timeproperty } }), { tenant: t });
    expect(res.status).toBe(201);
    const observed = await reg(registration(type, { observationInterval: { startAt: '2021-01-01T00:00:00Z' } }));
    const managed = await reg(registration(type, { managementInterval: { startAt: '2021-01-01T00:00:00Z', endAt: '2021-12-31T00:00:00Z' } }));
    await inbox.waitFor(aboutRegistration(managed, 'newlyMatching'));
    expect(await notifiedIds(inbox)).not.toContain(observed);
  });

  test('5.2.12, 5.11.4: temporalQ is kept, returned by Retrieve, and can be removed with null (5.11.3.4)', async () => {
    const type = uniqueType('Csm');
    const id = await sub(csourceSubscription(type, 'http://127.0.0.1:9/never', { temporalQ: { timerel: 'between', timeAt: '2021-01-01T00:00:00Z', endTimeAt: '2021-02-01T00:00:00Z' } }));
    const got = (await get(csubPath(id), { tenant: t })).body;
    expect(got.temporalQ).toMatchObject({ timerel: 'between', timeAt: '2021-01-01T00:00:00Z', endTimeAt: '2021-02-01T00:00:00Z' });
    expectNoContent(await patch(csubPath(id), { json: { temporalQ: null }, tenant: t }));
    expect((await get(csubPath(id), { tenant: t })).body.temporalQ).toBeUndefined();
  });

  test.each([
    ['no timerel', { timeAt: '2021-08-01T22:00:00Z' }],
    ['an unknown timerel', { timerel: 'during', timeAt: '2021-08-01T22:00:00Z' }],
    ['a timeAt that is no DateTime', { timerel: 'before', timeAt: 'yesterday' }],
    ['between without endTimeAt', { timerel: 'between', timeAt: '2021-08-01T22:00:00Z' }],
    ['an unknown timeproperty', { timerel: 'before', timeAt: '2021-08-01T22:00:00Z', timeproperty: 'observed' }],
    ['a string', 'before 2021'],
  ])('5.2.21, 4.11: a temporalQ with %s is BadRequestData, on create and on update', async (_what, temporalQ) => {
    const type = uniqueType('Csm');
    expectProblem(await createCSourceSubscriptionRes(csourceSubscription(type, 'http://127.0.0.1:9/never', { temporalQ }), { tenant: t }), 400, 'BadRequestData');
    const id = await sub(csourceSubscription(type, 'http://127.0.0.1:9/never'));
    expectProblem(await patch(csubPath(id), { json: { temporalQ }, tenant: t }), 400, 'BadRequestData');
    expect((await get(csubPath(id), { tenant: t })).body.temporalQ).toBeUndefined();
  });

  test('5.12: a CSource subscription with datasetId matches registrations sharing one, or naming none', async () => {
    const type = uniqueType('Csm');
    const inbox = receiver.inbox();
    await sub(csourceSubscription(type, inbox, { datasetId: ['urn:ngsi-ld:Dataset:a'] }));
    const other = await reg(registration(type, { datasetId: ['urn:ngsi-ld:Dataset:b'] }));
    const shared = await reg(registration(type, { datasetId: ['urn:ngsi-ld:Dataset:b', 'urn:ngsi-ld:Dataset:a'] }));
    const none = await reg(registration(type));
    await inbox.waitFor(aboutRegistration(none, 'newlyMatching'));
    const seen = await notifiedIds(inbox);
    expect(seen).toContain(shared);
    expect(seen).not.toContain(other);
  });
});

describe('Status of CSource subscriptions and notifications (5.11.7, 5.2.14.2)', () => {
  test('TP/NGSI-LD/CS/REGSUB/047_07_01 5.11.7: a paused subscription is not notified', async () => {
    const type = uniqueType('Css');
    const inbox = receiver.inbox();
    const id = await sub(csourceSubscription(type, inbox));
    expectNoContent(await patch(csubPath(id), { json: { isActive: false }, tenant: t }));
    await reg(registration(type));
    expect(await inbox.settle()).toEqual([]);
  });

  test('TP/NGSI-LD/CS/REGSUB/047_07_02 5.11.7: an expired subscription is not notified', async () => {
    const type = uniqueType('Css');
    const inbox = receiver.inbox();
    const id = await sub(csourceSubscription(type, inbox, { expiresAt: new Date(Date.now() + 1000).toISOString() }));
    await new Promise((r) => setTimeout(r, 1500));
    expect((await get(csubPath(id), { tenant: t })).body.status).toBe('expired');
    await reg(registration(type));
    expect(await inbox.settle()).toEqual([]);
  });

  test('TP/NGSI-LD/CS/REGSUB/047_06_01 5.11.7: a notification that fails counts in timesSent, sets lastFailure and status failed', async () => {
    const type = uniqueType('Css');
    const inbox = receiver.inbox(500);
    const id = await sub(csourceSubscription(type, inbox));
    await reg(registration(type));
    await inbox.waitFor();
    const body = await pollCSourceSubscription(id, (b) => b?.notification?.lastFailure !== undefined, { tenant: t });
    expect(body.notification.timesSent).toBeGreaterThanOrEqual(1);
    expect(body.notification.lastFailure).toBeDefined();
    expect(body.notification.lastNotification).toBeDefined();
    expect(body.notification.status).toBe('failed');
  });
});
