/**
 * Request-level test purposes of Register (5.9.2, 6.8.3.1), Update (5.9.3, 6.9.3.2) and Delete (5.9.4, 6.9.3.3)
 * Context Source Registration not covered by conformance/csource-registrations.test.ts: TP/NGSI-LD/CS/CSR/033 and
 * TP/NGSI-LD/CS/REG/034-035 (GS CIM 013, 4.3.1) about @context handling, expiry and malformed requests.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { del, expectNoContent, expectProblem, expectStatus, patch, post, startContextServer, tenant, type ContextServer } from './lib/index.js';
import { CSR, createRegistration, createRegistrationRes, csrPath, deleteCreatedRegistrations, regId, retrieveRegistration } from './lib/registrations.js';

let ctx: ContextServer;
let ctxUrl: string;
beforeAll(async () => {
  ctx = await startContextServer({ 'req.jsonld': { '@context': { Building: 'https://conformance.example.org/req#Building' } } });
  ctxUrl = ctx.url('req.jsonld');
});
afterAll(async () => {
  await deleteCreatedRegistrations();
  await ctx?.close();
});

const t = tenant();
const registration = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  type: 'ContextSourceRegistration',
  information: [{ entities: [{ type: 'Building' }] }],
  endpoint: 'http://my.csource.org:1026',
  ...extra,
});

describe('Register Context Source: request checks (5.9.2.4, 6.3.5)', () => {
  test('TP/NGSI-LD/CS/CSR/033_01_02 5.2.9: a registration without expiresAt never expires', async () => {
    const id = await createRegistration({ ...registration({ id: regId() }), '@context': ctxUrl }, { tenant: t, contentType: 'application/ld+json' });
    expect((await retrieveRegistration(id, {}, { tenant: t })).expiresAt).toBeUndefined();
  });

  test('TP/NGSI-LD/CS/CSR/033_08_01 6.3.5: application/ld+json without an @context member is BadRequestData', async () => {
    expectProblem(await createRegistrationRes(registration(), { tenant: t, contentType: 'application/ld+json' }), 400, 'BadRequestData');
  });

  test('TP/NGSI-LD/CS/CSR/033_09_01 6.3.5: application/ld+json together with a JSON-LD Link header is BadRequestData', async () => {
    expectProblem(await createRegistrationRes({ ...registration(), '@context': ctxUrl }, { tenant: t, contentType: 'application/ld+json', link: ctxUrl }), 400, 'BadRequestData');
  });

  test('TP/NGSI-LD/CS/CSR/033_10_01 5.2.9: a body that is not a CSourceRegistration is BadRequestData and creates nothing', async () => {
    const id = regId();
    const res = await createRegistrationRes({ id, type: 'Building', name: { type: 'Property', value: 'not a registration' } }, { tenant: t });
    expectProblem(res, 400, 'BadRequestData');
    expect(res.headers.get('location')).toBeNull();
  });

  test('TP/NGSI-LD/CS/CSR/033_10_02 5.9.2.4: an expiresAt in the past is BadRequestData and creates nothing', async () => {
    const id = regId();
    expectProblem(await createRegistrationRes(registration({ id, expiresAt: '2020-01-01T00:00:00Z' }), { tenant: t }), 400, 'BadRequestData');
    expectProblem(await patch(csrPath(id), { json: { description: 'x' }, tenant: t }), 404, 'ResourceNotFound');
  });
});

describe('Update and Delete Context Source Registration: request checks (5.9.3.4, 5.9.4.4)', () => {
  test('TP/NGSI-LD/CS/REG/034_05_01 5.5.8: expiresAt removed with NGSI-LD Null: the registration never expires', async () => {
    const id = await createRegistration(registration({ id: regId(), expiresAt: new Date(Date.now() + 3_600_000).toISOString() }), { tenant: t });
    expectNoContent(await patch(csrPath(id), { json: { expiresAt: 'urn:ngsi-ld:null' }, tenant: t }));
    expect(await retrieveRegistration(id, {}, { tenant: t })).not.toHaveProperty('expiresAt');
  });

  test('TP/NGSI-LD/CS/REG/034_04_01 6.3.5: a fragment that is not JSON is refused (400) and changes nothing', async () => {
    const id = await createRegistration(registration({ id: regId(), description: 'kept' }), { tenant: t });
    const res = await patch(csrPath(id), { body: '{"description": ', contentType: 'application/json', tenant: t });
    // TP 034_04_01 names BadRequestData; 6.3.5 makes a body that is not JSON an InvalidRequest. Either is a 400.
    expectStatus(res, 400);
    expect(['InvalidRequest', 'BadRequestData'].map((k) => `https://uri.etsi.org/ngsi-ld/errors/${k}`)).toContain(res.body?.type);
    expect((await retrieveRegistration(id, {}, { tenant: t })).description).toBe('kept');
  });

  test('TP/NGSI-LD/CS/REG/035_02_01 6.8: DELETE without a registration id is 405', async () => {
    expectStatus(await del(CSR, { tenant: t }), 405);
  });

  test('6.8: POST to a registration id is 405', async () => {
    expectStatus(await post(csrPath(regId()), { json: registration(), tenant: t }), 405);
  });
});
