/**
 * Context Source Registration Subscriptions: Create (5.11.2, 6.12.3.1), Update (5.11.3, 6.13.3.2), Retrieve (5.11.4,
 * 6.13.3.1), Query (5.11.5, 6.12.3.2) and Delete (5.11.6, 6.13.3.3), and CSourceNotifications (5.3.2, 5.11.7) with
 * their triggerReason. Test purposes TP/NGSI-LD/CS/REGSUB/038-040.
 *
 * Every describe works in its own tenant and every subscription selects an entity type of its own.
 */
import { describe, expect, test } from 'vitest';
import { del, expectNoContent, expectProblem, expectStatus, get, patch, tenant } from './lib/index.js';
import { useReceiver } from './lib/receiver.js';
import {
  CSUBS,
  aboutRegistration,
  createCSourceSubscription,
  createCSourceSubscriptionRes,
  createRegistration,
  csourceSubscription,
  csrPath,
  csubPath,
  deleteCreatedRegistrations,
  pollCSourceSubscription,
  regId,
} from './lib/registrations.js';
import { uniqueType } from './lib/subscriptions.js';

const receiver = useReceiver(deleteCreatedRegistrations);

function registration(type: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { type: 'ContextSourceRegistration', information: [{ entities: [{ type }], propertyNames: ['name'] }], endpoint: 'http://my.csource.org:1026', ...extra };
}

describe('CSource subscription resources (5.11.2-5.11.6)', () => {
  const t = tenant();
  const DUMMY = 'http://127.0.0.1:9/never';

  test('TP/NGSI-LD/CS/REGSUB/038_01_01 TP/NGSI-LD/CS/REGSUB/038_02_01 TP/NGSI-LD/CS/REGSUB/040_01_01 5.11.2: 201 with Location; retrieve returns the subscription', async () => {
    const type = uniqueType('Csub');
    const res = await createCSourceSubscriptionRes(csourceSubscription(type, DUMMY), { tenant: t });
    expectStatus(res, 201);
    const location = res.headers.get('location') ?? '';
    expect(location.startsWith(`${CSUBS}/`)).toBe(true);
    const got = await get(location, { tenant: t });
    expectStatus(got, 200);
    expect(got.body).toMatchObject({ type: 'Subscription', entities: [{ type }], notification: { endpoint: { uri: DUMMY } } });
  });

  test('TP/NGSI-LD/CS/REGSUB/038_08_01 TP/NGSI-LD/CS/REGSUB/038_07_01 5.11.2.4 / 5.8.1.4: an invalid subscription is BadRequestData, an existing id AlreadyExists', async () => {
    expectProblem(await createCSourceSubscriptionRes({ type: 'Subscription', notification: { endpoint: { uri: DUMMY } } }, { tenant: t }), 400, 'BadRequestData');
    expectProblem(await createCSourceSubscriptionRes(csourceSubscription('T', 'not a uri'), { tenant: t }), 400, 'BadRequestData');
    const id = `urn:ngsi-ld:Subscription:${uniqueType('x')}`;
    await createCSourceSubscription(csourceSubscription('T', DUMMY, { id }), { tenant: t });
    expectProblem(await createCSourceSubscriptionRes(csourceSubscription('T', DUMMY, { id }), { tenant: t }), 409, 'AlreadyExists');
  });

  test('TP/NGSI-LD/CS/REGSUB/039_01_01 TP/NGSI-LD/CS/REGSUB/041_01_01 TP/NGSI-LD/CS/REGSUB/042_01_01 5.11.3, 5.11.5, 5.11.6: update, query and delete', async () => {
    const type = uniqueType('Csub');
    const id = await createCSourceSubscription(csourceSubscription(type, DUMMY), { tenant: t });
    expectNoContent(await patch(csubPath(id), { json: { subscriptionName: 'renamed' }, tenant: t }));
    expect((await get(csubPath(id), { tenant: t })).body.subscriptionName).toBe('renamed');
    const list = await get(CSUBS, { tenant: t });
    expectStatus(list, 200);
    expect(list.body.map((s: { id: string }) => s.id)).toContain(id);
    expectNoContent(await del(csubPath(id), { tenant: t }));
    expectProblem(await get(csubPath(id), { tenant: t }), 404, 'ResourceNotFound');
    expectProblem(await patch(csubPath(id), { json: { subscriptionName: 'x' }, tenant: t }), 404, 'ResourceNotFound');
  });

  test('TP/NGSI-LD/CS/REGSUB/038_03_01 TP/NGSI-LD/CS/REGSUB/038_06_01 5.2.12: without isActive and expiresAt a subscription is active', async () => {
    const id = await createCSourceSubscription(csourceSubscription(uniqueType('Csub'), DUMMY), { tenant: t });
    expect((await get(csubPath(id), { tenant: t })).body.status).toBe('active');
  });

  test('TP/NGSI-LD/CS/REGSUB/038_04_01 5.2.12: isActive false makes a paused subscription', async () => {
    const id = await createCSourceSubscription(csourceSubscription(uniqueType('Csub'), DUMMY, { isActive: false }), { tenant: t });
    expect((await get(csubPath(id), { tenant: t })).body).toMatchObject({ isActive: false, status: 'paused' });
  });

  test('TP/NGSI-LD/CS/REGSUB/038_05_01 5.2.12: once expiresAt has passed the status is expired', async () => {
    const expiresAt = new Date(Date.now() + 1000).toISOString();
    const id = await createCSourceSubscription(csourceSubscription(uniqueType('Csub'), DUMMY, { expiresAt }), { tenant: t });
    expect((await get(csubPath(id), { tenant: t })).body).toMatchObject({ expiresAt, status: 'active' });
    await new Promise((r) => setTimeout(r, 1200));
    expect((await get(csubPath(id), { tenant: t })).body).toMatchObject({ expiresAt, status: 'expired' });
  });

  test.each([
    ['TP/NGSI-LD/CS/REGSUB/038_09_01 an expiresAt in the past', { expiresAt: '2000-01-01T00:00:00Z' }],
    ['TP/NGSI-LD/CS/REGSUB/038_08_01 no notification', { notification: undefined }],
    ['TP/NGSI-LD/CS/REGSUB/038_08_02 a type other than Subscription', { type: 'NotASubscription' }],
    ['TP/NGSI-LD/CS/REGSUB/038_08_03 an invalid q', { q: 'name==' }],
    ['TP/NGSI-LD/CS/REGSUB/038_08_04 an empty watchedAttributes', { watchedAttributes: [] }],
  ])('%s (5.11.2.4, 5.2.12) is BadRequestData', async (_what, extra) => {
    const body = csourceSubscription(uniqueType('Csub'), DUMMY, extra);
    for (const [k, v] of Object.entries(extra)) if (v === undefined) delete body[k];
    expectProblem(await createCSourceSubscriptionRes(body, { tenant: t }), 400, 'BadRequestData');
  });

  test('TP/NGSI-LD/CS/REGSUB/039_02_01 TP/NGSI-LD/CS/REGSUB/040_02_01 TP/NGSI-LD/CS/REGSUB/042_02_01 5.11.3-5.11.6: an id that is no URI is BadRequestData', async () => {
    expectProblem(await patch(csubPath('invalidUri'), { json: { subscriptionName: 'x' }, tenant: t }), 400, 'BadRequestData');
    expectProblem(await get(csubPath('invalidUri'), { tenant: t }), 400, 'BadRequestData');
    expectProblem(await del(csubPath('invalidUri'), { tenant: t }), 400, 'BadRequestData');
  });

  test('TP/NGSI-LD/CS/REGSUB/039_03_01 TP/NGSI-LD/CS/REGSUB/040_03_01 TP/NGSI-LD/CS/REGSUB/042_03_01 5.11.3-5.11.6: an unknown id is ResourceNotFound', async () => {
    const unknown = csubPath('urn:ngsi-ld:Subscription:unknowSubscription');
    expectProblem(await patch(unknown, { json: { subscriptionName: 'x' }, tenant: t }), 404, 'ResourceNotFound');
    expectProblem(await get(unknown, { tenant: t }), 404, 'ResourceNotFound');
    expectProblem(await del(unknown, { tenant: t }), 404, 'ResourceNotFound');
  });

  test('TP/NGSI-LD/CS/REGSUB/039_04_01 TP/NGSI-LD/CS/REGSUB/039_04_02 TP/NGSI-LD/CS/REGSUB/039_05_01 5.11.3.4: an invalid fragment is refused and changes nothing', async () => {
    const id = await createCSourceSubscription(csourceSubscription(uniqueType('Csub'), DUMMY, { subscriptionName: 'kept' }), { tenant: t });
    expectProblem(await patch(csubPath(id), { json: { type: 'NotASubscription', subscriptionName: 'changed' }, tenant: t }), 400, 'BadRequestData');
    expectProblem(await patch(csubPath(id), { json: { notification: { endpoint: { uri: 'not a uri' } }, subscriptionName: 'changed' }, tenant: t }), 400, 'BadRequestData');
    const invalidJson = await patch(csubPath(id), { body: '{"subscriptionName": ', contentType: 'application/json', tenant: t });
    // TP 039_05_01 names BadRequestData; 6.3.5 makes a body that is not JSON an InvalidRequest. Either is a 400.
    expect(invalidJson.status).toBe(400);
    expect(['InvalidRequest', 'BadRequestData'].map((k) => `https://uri.etsi.org/ngsi-ld/errors/${k}`)).toContain(invalidJson.body?.type);
    expect((await get(csubPath(id), { tenant: t })).body.subscriptionName).toBe('kept');
  });

  test('TP/NGSI-LD/CS/REGSUB/041_02_01 TP/NGSI-LD/CS/REGSUB/041_02_03 5.11.5.4: limit caps the number of CSource subscriptions returned', async () => {
    const own = tenant();
    for (let i = 0; i < 3; i++) await createCSourceSubscription(csourceSubscription(uniqueType('Csub'), DUMMY), { tenant: own });
    const one = await get(`${CSUBS}?limit=1`, { tenant: own });
    expectStatus(one, 200);
    expect(one.body).toHaveLength(1);
    expect(one.body[0].type).toBe('Subscription');
    const all = await get(`${CSUBS}?limit=15`, { tenant: own });
    expectStatus(all, 200);
    expect(all.body).toHaveLength(3);
  });

  test('TP/NGSI-LD/CS/REGSUB/041_04_01 5.5.9: a negative limit is BadRequestData', async () => {
    expectProblem(await get(`${CSUBS}?limit=-5`, { tenant: t }), 400, 'BadRequestData');
  });

  test('6.3.14: CSource subscriptions are not entity subscriptions', async () => {
    const id = await createCSourceSubscription(csourceSubscription(uniqueType('Csub'), DUMMY), { tenant: t });
    expectProblem(await get(`/ngsi-ld/v1/subscriptions/${id}`, { tenant: t }), 404, 'ResourceNotFound');
  });
});

describe('CSourceNotification (5.3.2, 5.11.7)', () => {
  const t = tenant();

  test('TP/NGSI-LD/CS/REGSUB/047_02_01 5.11.7: creation, update and deletion of a matching registration notify newlyMatching, updated, noLongerMatching', async () => {
    const type = uniqueType('Bldg');
    const inbox = receiver.inbox();
    const subId = await createCSourceSubscription(csourceSubscription(type, inbox), { tenant: t });
    const id = await createRegistration(registration(type, { id: regId() }), { tenant: t });
    const created = await inbox.waitFor(aboutRegistration(id, 'newlyMatching'), undefined, 'newlyMatching');
    expect(created.body).toMatchObject({ type: 'Notification', subscriptionId: subId });
    expect(created.body.data[0]).toMatchObject({ id, type: 'ContextSourceRegistration', endpoint: 'http://my.csource.org:1026' });
    expect(created.headers['ngsild-tenant']).toBe(t);

    expectNoContent(await patch(csrPath(id), { json: { endpoint: 'http://moved.csource.org' }, tenant: t }));
    const updated = await inbox.waitFor(aboutRegistration(id, 'updated'), undefined, 'updated');
    expect(updated.body.data[0].endpoint).toBe('http://moved.csource.org');

    // Made not to match any more: noLongerMatching.
    expectNoContent(await patch(csrPath(id), { json: { information: [{ entities: [{ type: `${type}X` }] }] }, tenant: t }));
    await inbox.waitFor(aboutRegistration(id, 'noLongerMatching'), undefined, 'noLongerMatching after update');

    const id2 = await createRegistration(registration(type, { id: regId() }), { tenant: t });
    await inbox.waitFor(aboutRegistration(id2, 'newlyMatching'));
    expectNoContent(await del(csrPath(id2), { tenant: t }));
    await inbox.waitFor(aboutRegistration(id2, 'noLongerMatching'), undefined, 'noLongerMatching after delete');
  });

  test('5.9.2.4, 5.11.7: a matching registration that expires is noLongerMatching', async () => {
    const type = uniqueType('Bldg');
    const inbox = receiver.inbox();
    await createCSourceSubscription(csourceSubscription(type, inbox), { tenant: t });
    const id = await createRegistration(registration(type, { id: regId(), expiresAt: new Date(Date.now() + 1000).toISOString() }), { tenant: t });
    await inbox.waitFor(aboutRegistration(id, 'newlyMatching'));
    await inbox.waitFor(aboutRegistration(id, 'noLongerMatching'), undefined, 'noLongerMatching at expiry');
    expectProblem(await get(csrPath(id), { tenant: t }), 404, 'ResourceNotFound');
  });

  test('5.11.2.4: a new CSource subscription is notified of the registrations matching it already', async () => {
    const type = uniqueType('Bldg');
    const id = await createRegistration(registration(type, { id: regId() }), { tenant: t });
    const inbox = receiver.inbox();
    await createCSourceSubscription(csourceSubscription(type, inbox), { tenant: t });
    await inbox.waitFor(aboutRegistration(id, 'newlyMatching'));
  });

  test('5.12: registrations of other types, other attributes or other tenants do not notify', async () => {
    const type = uniqueType('Bldg');
    const inbox = receiver.inbox();
    await createCSourceSubscription(csourceSubscription(type, inbox, { watchedAttributes: ['name'], notification: { attributes: ['name'], endpoint: { uri: inbox.uri } } }), { tenant: t });
    const other = await createRegistration(registration(`${type}Other`, { id: regId() }), { tenant: t });
    const otherAttr = await createRegistration({ ...registration(type), information: [{ entities: [{ type }], propertyNames: ['height'] }] }, { tenant: t });
    const otherTenant = await createRegistration(registration(type, { id: regId() }), { tenant: tenant() });
    const barrier = await createRegistration(registration(type, { id: regId() }), { tenant: t });
    await inbox.waitFor(aboutRegistration(barrier, 'newlyMatching'));
    const seen = (await inbox.settle()).flatMap((r) => (r.body?.data ?? []).map((d: { id: string }) => d.id));
    expect(seen).not.toContain(other);
    expect(seen).not.toContain(otherAttr);
    expect(seen).not.toContain(otherTenant);
  });

  test('TP/NGSI-LD/CS/REGSUB/047_01_01 5.11.7: with timeInterval all matching registrations are notified periodically', async () => {
    const type = uniqueType('Bldg');
    const id = await createRegistration(registration(type, { id: regId() }), { tenant: t });
    const inbox = receiver.inbox();
    await createCSourceSubscription(csourceSubscription(type, inbox, { timeInterval: 1 }), { tenant: t });
    const got = await inbox.waitForCount(2, (r) => Array.isArray(r.body?.data) && r.body.data.some((d: { id: string }) => d.id === id), 5000);
    expect(got[1]!.at - got[0]!.at).toBeGreaterThanOrEqual(500);
  });

  test('TP/NGSI-LD/CS/REGSUB/047_05_01 5.11.7: the notification counters of the CSource subscription are kept', async () => {
    const type = uniqueType('Bldg');
    const inbox = receiver.inbox();
    const subId = await createCSourceSubscription(csourceSubscription(type, inbox), { tenant: t });
    const id = await createRegistration(registration(type, { id: regId() }), { tenant: t });
    await inbox.waitFor(aboutRegistration(id, 'newlyMatching'));
    const sub = await pollCSourceSubscription(subId, (b) => b?.notification?.timesSent >= 1, { tenant: t });
    expect(sub.notification.timesSent).toBeGreaterThanOrEqual(1);
    expect(sub.notification.lastSuccess).toBeDefined();
    expect(sub.notification.lastNotification).toBeDefined();
    expect(sub.notification.status).toBe('ok');
  });
});
