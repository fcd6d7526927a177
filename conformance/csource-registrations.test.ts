/**
 * Context Source Registration: Register (5.9.2, 6.8.3.1), Update (5.9.3, 6.9.3.2), Delete (5.9.4, 6.9.3.3), Retrieve
 * (5.10.1, 6.9.3.1) and Query (5.10.2, 6.8.3.2) CSourceRegistrations, the CSourceRegistration data type (5.2.9) with
 * RegistrationInfo (5.2.10) and the conflict rules of proxied registrations (4.3.6.3). Test purposes
 * TP/NGSI-LD/CS/CSR/033, TP/NGSI-LD/CS/REG/034-035 and TP/NGSI-LD/CS/DISC/037.
 *
 * Every describe works in its own tenant (6.3.14), so registrations of other tests never show in its queries.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  DEFAULT_VOCAB,
  createEntity,
  del,
  describeRes,
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
} from './lib/index.js';
import { resultsCount } from './lib/query.js';
import {
  CSR,
  createRegistration,
  createRegistrationRes,
  csrPath,
  deleteCreatedRegistrations,
  queryRegistrationIds,
  queryRegistrationsRes,
  regId,
  retrieveRegistration,
} from './lib/registrations.js';

const NS = 'https://conformance.example.org/csr#';
let ctx: ContextServer;
let ctxUrl: string;
beforeAll(async () => {
  ctx = await startContextServer({ 'csr.jsonld': { '@context': { Building: `${NS}Building`, Vehicle: `${NS}Vehicle`, name: `${NS}name`, brand: `${NS}brand` } } });
  ctxUrl = ctx.url('csr.jsonld');
});
afterAll(async () => {
  await deleteCreatedRegistrations();
  await ctx?.close();
});

const future = (ms = 3_600_000): string => new Date(Date.now() + ms).toISOString();

function registration(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    type: 'ContextSourceRegistration',
    information: [{ entities: [{ type: 'Building' }], propertyNames: ['name'] }],
    endpoint: 'http://my.csource.org:1026',
    ...extra,
  };
}

describe('Register Context Source (5.9.2, 6.8.3.1)', () => {
  const t = tenant();

  test('TP/NGSI-LD/CS/CSR/033_01_01 5.9.2.4: 201 with Location; the registration reads back with its members', async () => {
    const id = regId();
    const expiresAt = future();
    const res = await createRegistrationRes(registration({ id, expiresAt, registrationName: 'r1', description: 'd', mode: 'inclusive' }), { tenant: t });
    expectStatus(res, 201);
    expect(res.headers.get('location')).toBe(csrPath(id));
    const body = await retrieveRegistration(id, {}, { tenant: t });
    expect(body).toMatchObject({
      id,
      type: 'ContextSourceRegistration',
      registrationName: 'r1',
      description: 'd',
      expiresAt,
      mode: 'inclusive',
      endpoint: 'http://my.csource.org:1026',
      information: [{ entities: [{ type: 'Building' }], propertyNames: ['name'] }],
    });
  });

  test('TP/NGSI-LD/CS/CSR/033_01_03 5.9.2.4: without id one is generated; the last Location segment names it', async () => {
    const res = await createRegistrationRes(registration(), { tenant: t });
    expectStatus(res, 201);
    const location = res.headers.get('location') ?? '';
    expect(location.startsWith(`${CSR}/`)).toBe(true);
    const id = decodeURIComponent(location.split('/').pop()!);
    expect(id).toMatch(/^[A-Za-z][A-Za-z0-9+.-]*:/);
    expect((await retrieveRegistration(id, {}, { tenant: t })).id).toBe(id);
  });

  test('TP/NGSI-LD/CS/CSR/033_03_01 5.9.2.4: an existing id is AlreadyExists (409)', async () => {
    const id = await createRegistration(registration({ id: regId() }), { tenant: t });
    expectProblem(await createRegistrationRes(registration({ id }), { tenant: t }), 409, 'AlreadyExists');
  });

  test.each([
    ['no information', { information: undefined }],
    ['an empty information array (5.2.9)', { information: [] }],
    ['an empty RegistrationInfo (5.2.10)', { information: [{}] }],
    ['an EntityInfo without type (5.2.8)', { information: [{ entities: [{ id: 'urn:x:1' }] }] }],
    ['an empty propertyNames (5.2.10)', { information: [{ propertyNames: [] }] }],
    ['no endpoint', { endpoint: undefined }],
    ['an endpoint that is no URI', { endpoint: 'not a uri' }],
    ['a wrong type', { type: 'Registration' }],
    ['an id that is no URI', { id: 'no uri' }],
    ['an unknown mode', { mode: 'sometimes' }],
    ['an unknown operation (4.20)', { operations: ['fly'] }],
    ['expiresAt in the past', { expiresAt: '2000-01-01T00:00:00Z' }],
    ['a contextSourceInfo accept that is no JSON media type (4.3.6.6)', { contextSourceInfo: [{ key: 'accept', value: 'text/plain' }] }],
    ['an observationInterval ending before it starts (5.2.11)', { observationInterval: { startAt: '2021-01-02T00:00:00Z', endAt: '2021-01-01T00:00:00Z' } }],
    ['an invalid location geometry', { location: { type: 'Point', coordinates: ['a'] } }],
  ])('TP/NGSI-LD/CS/CSR/033_02_01 5.9.2.4: %s is BadRequestData', async (_what, extra) => {
    const body = registration(extra);
    for (const [k, v] of Object.entries(extra)) if (v === undefined) delete body[k];
    expectProblem(await createRegistrationRes(body, { tenant: t }), 400, 'BadRequestData');
  });

  test('TP/NGSI-LD/CS/CSR/033_02_01 6.3.5: a body that is not JSON is InvalidRequest', async () => {
    expectProblem(await post(CSR, { body: '{"type":', contentType: 'application/json', tenant: t }), 400, 'InvalidRequest');
  });

  test('TP/NGSI-LD/CS/CSR/033_06_01 6.3.5: application/json with an @context member is BadRequestData', async () => {
    expectProblem(await createRegistrationRes({ ...registration(), '@context': ctxUrl }, { tenant: t }), 400, 'BadRequestData');
  });

  test('TP/NGSI-LD/CS/CSR/033_04 6.3.5: names are expanded with the Link header and compacted with the GET @context', async () => {
    const id = await createRegistration(registration({ id: regId() }), { tenant: t, link: ctxUrl });
    expect((await retrieveRegistration(id, {}, { tenant: t, link: ctxUrl })).information[0].entities[0].type).toBe('Building');
    expect((await retrieveRegistration(id, {}, { tenant: t })).information[0].entities[0].type).toBe(`${NS}Building`);
  });

  test('TP/NGSI-LD/CS/CSR/033_05 6.3.5: without Link header the default @context applies', async () => {
    const id = await createRegistration(registration({ id: regId() }), { tenant: t });
    expect((await retrieveRegistration(id, {}, { tenant: t })).information[0].entities[0].type).toBe('Building');
    // TP 033_05_01 expects the compact IRI "ngsi-ld:default-context/Building"; the full IRI means the same.
    expect(['ngsi-ld:default-context/Building', `${DEFAULT_VOCAB}Building`]).toContain((await retrieveRegistration(id, {}, { tenant: t, link: ctxUrl })).information[0].entities[0].type);
  });

  test('TP/NGSI-LD/CS/CSR/033_07 6.3.5: with application/ld+json the @context comes from the body', async () => {
    const id = regId();
    const res = await createRegistrationRes({ ...registration({ id, information: [{ entities: [{ type: 'Vehicle' }] }] }), '@context': ctxUrl }, { tenant: t, contentType: 'application/ld+json' });
    expectStatus(res, 201);
    expect((await retrieveRegistration(id, {}, { tenant: t, link: ctxUrl })).information[0].entities[0].type).toBe('Vehicle');
    expect((await retrieveRegistration(id, {}, { tenant: t })).information[0].entities[0].type).toBe(`${NS}Vehicle`);
  });

  test('6.8.3.1: an IoT Agent registration (exclusive, ld+json, trailing slash) is created and deleted by the id of its Location', async () => {
    const entityId = uid('Device');
    const res = await post(`${CSR}/`, {
      json: {
        type: 'ContextSourceRegistration',
        information: [{ entities: [{ type: 'Device', id: entityId }], propertyNames: ['luminosity', 'switch'] }],
        mode: 'exclusive',
        operations: ['retrieveOps', 'updateOps', 'mergeEntity'],
        endpoint: 'http://iot-agent:4041',
        contextSourceInfo: [{ key: 'jsonldContext', value: ctxUrl }],
        '@context': ctxUrl,
      },
      contentType: 'application/ld+json',
      tenant: t,
      headers: { 'Fiware-ServicePath': '/' },
    });
    expectStatus(res, 201);
    const location = res.headers.get('location')!;
    const id = location.substring(location.lastIndexOf('/') + 1);
    expect((await retrieveRegistration(id, {}, { tenant: t })).mode).toBe('exclusive');
    expectNoContent(await del(`${CSR}/${id}`, { tenant: t }));
  });

  test('5.2.9: every optional member is kept, read-only members given by the client are ignored', async () => {
    const id = regId();
    const body = registration({
      id,
      tenant: 'remote-tenant',
      observationInterval: { startAt: '2021-01-01T00:00:00Z', endAt: '2021-12-31T00:00:00Z' },
      managementInterval: { startAt: '2021-01-01T00:00:00Z' },
      location: { type: 'Point', coordinates: [13.4, 52.5] },
      observationSpace: { type: 'Point', coordinates: [13.4, 52.5] },
      operationSpace: { type: 'Point', coordinates: [13.4, 52.5] },
      contextSourceInfo: [{ key: 'accept', value: 'application/json' }, { key: 'x-api', value: 'k' }],
      scope: ['/Madrid/Gardens'],
      operations: ['retrieveOps', 'updateEntity'],
      refreshRate: 'PT10S',
      management: { localOnly: true, timeout: 500, cooldown: 1000, cacheDuration: 'PT1M' },
      contextSourceAlias: 'cs-alias',
      datasetId: ['urn:ngsi-ld:Dataset:a', '@none'],
      timesSent: 99,
      status: 'failed',
    });
    await createRegistration(body, { tenant: t });
    const got = await retrieveRegistration(id, {}, { tenant: t });
    for (const k of ['tenant', 'observationInterval', 'managementInterval', 'location', 'observationSpace', 'operationSpace', 'contextSourceInfo', 'scope', 'operations', 'refreshRate', 'management', 'contextSourceAlias', 'datasetId']) {
      expect(got[k], k).toEqual(body[k]);
    }
    expect(got.timesSent).toBeUndefined();
    expect(got.status).toBeUndefined();
  });

  test('6.3.11: options=sysAttrs adds createdAt and modifiedAt', async () => {
    const id = await createRegistration(registration({ id: regId() }), { tenant: t });
    const got = await retrieveRegistration(id, { options: 'sysAttrs' }, { tenant: t });
    expect(typeof got.createdAt).toBe('string');
    expect(typeof got.modifiedAt).toBe('string');
  });
});

describe('Mode restrictions and conflicts (4.3.6.2, 4.3.6.3, 5.9.2.4)', () => {
  const t = tenant();

  test('5.9.2.4: an auxiliary registration with operations other than retrieveOps/retrieveEntity/queryEntity is BadRequestData', async () => {
    expectProblem(await createRegistrationRes(registration({ mode: 'auxiliary' }), { tenant: t }), 400, 'BadRequestData');
    expectProblem(await createRegistrationRes(registration({ mode: 'auxiliary', operations: ['updateOps'] }), { tenant: t }), 400, 'BadRequestData');
    expectStatus(await createRegistrationRes(registration({ mode: 'auxiliary', operations: ['retrieveOps'] }), { tenant: t }), 201);
  });

  test('4.3.6.3: an exclusive registration needs an entity id and attributes', async () => {
    expectProblem(await createRegistrationRes(registration({ mode: 'exclusive' }), { tenant: t }), 400, 'BadRequestData');
    const noAttrs = { information: [{ entities: [{ id: uid('Building'), type: 'Building' }] }] };
    expectProblem(await createRegistrationRes(registration({ mode: 'exclusive', ...noAttrs }), { tenant: t }), 400, 'BadRequestData');
  });

  test('5.9.2.4: an exclusive registration overlapping an exclusive or redirect one on entity id and attribute is Conflict', async () => {
    const entity = uid('Building');
    const info = (attr: string) => ({ information: [{ entities: [{ id: entity, type: 'Building' }], propertyNames: [attr] }] });
    await createRegistration(registration({ mode: 'exclusive', ...info('name') }), { tenant: t });
    expectProblem(await createRegistrationRes(registration({ mode: 'exclusive', ...info('name') }), { tenant: t }), 409, 'Conflict');
    expectStatus(await createRegistrationRes(registration({ mode: 'exclusive', ...info('height') }), { tenant: t }), 201);
    // an inclusive registration on the same data never conflicts (4.3.6.2)
    expectStatus(await createRegistrationRes(registration({ ...info('name') }), { tenant: t }), 201);
    const other = uid('Building');
    await createRegistration(registration({ mode: 'redirect', information: [{ entities: [{ type: 'Building' }], propertyNames: ['color'] }] }), { tenant: t });
    const clash = { information: [{ entities: [{ id: other, type: 'Building' }], propertyNames: ['color'] }] };
    expectProblem(await createRegistrationRes(registration({ mode: 'exclusive', ...clash }), { tenant: t }), 409, 'Conflict');
  });

  test('5.9.2.4: an exclusive registration for an attribute of an entity held here is Conflict', async () => {
    const id = uid('Building');
    expectStatus(await createEntity({ id, type: 'Building', name: { type: 'Property', value: 'x' } }, { tenant: t }), 201);
    const info = (attr: string) => ({ information: [{ entities: [{ id, type: 'Building' }], propertyNames: [attr] }] });
    expectProblem(await createRegistrationRes(registration({ mode: 'exclusive', ...info('name') }), { tenant: t }), 409, 'Conflict');
    expectStatus(await createRegistrationRes(registration({ mode: 'exclusive', ...info('floors') }), { tenant: t }), 201);
  });

  test('5.9.2.4: a redirect registration matching an entity held here is Conflict', async () => {
    const type = `Tower${Date.now()}`;
    const id = uid(type);
    expectStatus(await createEntity({ id, type, name: { type: 'Property', value: 'x' } }, { tenant: t }), 201);
    expectProblem(await createRegistrationRes(registration({ mode: 'redirect', information: [{ entities: [{ type }] }] }), { tenant: t }), 409, 'Conflict');
    expectProblem(await createRegistrationRes(registration({ mode: 'redirect', information: [{ entities: [{ id, type }] }] }), { tenant: t }), 409, 'Conflict');
    expectStatus(await createRegistrationRes(registration({ mode: 'redirect', information: [{ entities: [{ type: `${type}Other` }] }] }), { tenant: t }), 201);
  });
});

describe('Update, Retrieve and Delete Context Source Registration (5.9.3, 5.9.4, 5.10.1)', () => {
  const t = tenant();

  test('TP/NGSI-LD/CS/REG/034_01_01 5.9.3.4: PATCH replaces the members given, 204', async () => {
    const id = await createRegistration(registration({ id: regId(), description: 'old' }), { tenant: t });
    expectNoContent(await patch(csrPath(id), { json: { endpoint: 'http://my.new.csource.org:1026' }, tenant: t }));
    const got = await retrieveRegistration(id, {}, { tenant: t });
    expect(got.endpoint).toBe('http://my.new.csource.org:1026');
    expect(got.description).toBe('old');
  });

  test('TP/NGSI-LD/CS/REG/034_02_03 5.5.8: NGSI-LD Null deletes an optional member; information cannot be deleted', async () => {
    const id = await createRegistration(registration({ id: regId(), description: 'old' }), { tenant: t });
    expectNoContent(await patch(csrPath(id), { json: { description: 'urn:ngsi-ld:null' }, tenant: t }));
    expect((await retrieveRegistration(id, {}, { tenant: t })).description).toBeUndefined();
    expectProblem(await patch(csrPath(id), { json: { information: 'urn:ngsi-ld:null' }, tenant: t }), 400, 'BadRequestData');
  });

  test('TP/NGSI-LD/CS/REG/034_03_01 TP/NGSI-LD/CS/REG/034_02_01 TP/NGSI-LD/CS/REG/034_02_02 5.9.3.4: an unknown registration is ResourceNotFound, an invalid fragment BadRequestData', async () => {
    expectProblem(await patch(csrPath(regId()), { json: { description: 'x' }, tenant: t }), 404, 'ResourceNotFound');
    const id = await createRegistration(registration({ id: regId() }), { tenant: t });
    expectProblem(await patch(csrPath(id), { json: { information: [] }, tenant: t }), 400, 'BadRequestData');
    expectProblem(await patch(csrPath(id), { json: { id: regId() }, tenant: t }), 400, 'BadRequestData');
    expectProblem(await patch(csrPath('not a uri'), { json: { description: 'x' }, tenant: t }), 400, 'BadRequestData');
  });

  test('TP/NGSI-LD/CS/REG/034_06_01 6.8: PATCH without a registration id is 405', async () => {
    const res = await patch(CSR, { json: { description: 'x' }, tenant: t });
    expectStatus(res, 405);
  });

  test('TP/NGSI-LD/CS/REG/035_01_01 TP/NGSI-LD/CS/REG/035_03_01 TP/NGSI-LD/CS/REG/035_02_02 5.9.4.4: DELETE removes the registration (204), then it is ResourceNotFound', async () => {
    const id = await createRegistration(registration({ id: regId() }), { tenant: t });
    expectNoContent(await del(csrPath(id), { tenant: t }));
    expectProblem(await get(csrPath(id), { tenant: t }), 404, 'ResourceNotFound');
    expectProblem(await del(csrPath(id), { tenant: t }), 404, 'ResourceNotFound');
    expectProblem(await del(csrPath('not a uri'), { tenant: t }), 400, 'BadRequestData');
  });

  test('5.10.1.4: an unknown id is ResourceNotFound, and a registration of another tenant is not seen (6.3.14)', async () => {
    expectProblem(await get(csrPath(regId()), { tenant: t }), 404, 'ResourceNotFound');
    const id = await createRegistration(registration({ id: regId() }), { tenant: t });
    expect((await get(csrPath(id), { tenant: tenant() })).status).toBe(404);
  });
});

describe('Query Context Source Registrations (5.10.2, 6.8.3.2)', () => {
  const t = tenant();
  const ids: Record<string, string> = {};
  beforeAll(async () => {
    const reg = (extra: Record<string, unknown>) => createRegistration(registration({ id: regId(), ...extra }), { tenant: t, link: ctxUrl });
    ids.building = await reg({ information: [{ entities: [{ type: 'Building' }], propertyNames: ['name'] }], brand: 'acme' });
    ids.vehicleId = await reg({ information: [{ entities: [{ id: 'urn:ngsi-ld:Vehicle:A1', type: 'Vehicle' }], propertyNames: ['brand'] }], brand: 'other' });
    ids.vehiclePattern = await reg({ information: [{ entities: [{ idPattern: 'urn:ngsi-ld:Vehicle:B.*', type: 'Vehicle' }] }] });
    ids.attrsOnly = await reg({ information: [{ propertyNames: ['speed'] }] });
    ids.temporal = await reg({ information: [{ entities: [{ type: 'Building' }] }], observationInterval: { startAt: '2021-01-01T00:00:00Z', endAt: '2021-12-31T00:00:00Z' } });
  });
  const q = (params: Record<string, string | number | boolean>) => queryRegistrationIds(params, { tenant: t, link: ctxUrl });

  // 5.12: a RegistrationInfo without entities matches every entity specification, so ids.attrsOnly is in every answer
  // that does not narrow by attributes.
  test('TP/NGSI-LD/CS/DISC/037_08_01 5.10.2.4: by type; without temporal query only registrations of latest information', async () => {
    expect((await q({ type: 'Building' })).sort()).toEqual([ids.building, ids.attrsOnly].sort());
    expect((await q({ type: 'Vehicle' })).sort()).toEqual([ids.vehicleId, ids.vehiclePattern, ids.attrsOnly].sort());
  });

  test('TP/NGSI-LD/CS/DISC/037_10_01 5.12: by id: an EntityInfo with that id, an idPattern it fits, or none', async () => {
    expect((await q({ type: 'Vehicle', id: 'urn:ngsi-ld:Vehicle:A1' })).sort()).toEqual([ids.vehicleId, ids.attrsOnly].sort());
    expect((await q({ type: 'Vehicle', id: 'urn:ngsi-ld:Vehicle:B7' })).sort()).toEqual([ids.vehiclePattern, ids.attrsOnly].sort());
    expect((await q({ type: 'Vehicle', id: 'urn:ngsi-ld:Vehicle:C1', attrs: 'brand' })).sort()).toEqual([]);
    expect((await q({ type: 'Vehicle', idPattern: 'urn:ngsi-ld:Vehicle:A.*' })).sort()).toEqual([ids.vehicleId, ids.vehiclePattern, ids.attrsOnly].sort());
  });

  test('5.12: by attrs: registrations naming one of them or naming no attributes', async () => {
    expect((await q({ attrs: 'speed' })).sort()).toEqual([ids.attrsOnly, ids.vehiclePattern].sort());
    expect((await q({ type: 'Vehicle', attrs: 'brand' })).sort()).toEqual([ids.vehicleId, ids.vehiclePattern].sort());
    expect(await q({ type: 'Building', attrs: 'brand' })).toEqual([]);
  });

  test('TP/NGSI-LD/CS/DISC/037_09_01 5.10.2.4: a temporal query matches observationInterval', async () => {
    expect(await q({ type: 'Building', timerel: 'before', timeAt: '2021-08-01T22:00:00Z' })).toEqual([ids.temporal]);
    expect(await q({ type: 'Building', timerel: 'before', timeAt: '2020-08-01T22:00:00Z' })).toEqual([]);
    expect(await q({ type: 'Building', timerel: 'before', timeAt: '2021-08-01T22:00:00Z', timeproperty: 'createdAt' })).toEqual([]);
  });

  test('4.9 csf: filters on Context Source Properties and registration members', async () => {
    expect(await q({ type: 'Building,Vehicle', csf: 'brand=="acme"' })).toEqual([ids.building]);
    expect((await q({ type: 'Vehicle', csf: 'endpoint=="http://my.csource.org:1026"' })).sort()).toEqual([ids.vehicleId, ids.vehiclePattern, ids.attrsOnly].sort());
    expect(await q({ type: 'Vehicle', csf: 'endpoint=="http://elsewhere.org"' })).toEqual([]);
    expectProblem(await queryRegistrationsRes({ type: 'Building', csf: 'brand==' }, { tenant: t }), 400, 'BadRequestData');
  });

  test('TP/NGSI-LD/CS/DISC/037_11 5.5.9: limit, offset and count', async () => {
    const all = await q({ type: 'Building,Vehicle' });
    expect(all.length).toBe(4);
    const res = await queryRegistrationsRes({ type: 'Building,Vehicle', limit: 1, offset: 1, count: true }, { tenant: t, link: ctxUrl });
    expectStatus(res, 200);
    expect(resultsCount(res)).toBe(4);
    expect(res.body.map((r: { id: string }) => r.id)).toEqual([all[1]]);
  });

  test('5.10.2.3: ids alone cannot discover registrations (BadRequestData); an invalid id is BadRequestData', async () => {
    expectProblem(await queryRegistrationsRes({ id: 'urn:ngsi-ld:Vehicle:A1' }, { tenant: t }), 400, 'BadRequestData');
    expectProblem(await queryRegistrationsRes({ type: 'Vehicle', id: 'not a uri' }, { tenant: t }), 400, 'BadRequestData');
  });

  test('6.3.6: application/ld+json answers carry the @context in each registration', async () => {
    const res = await queryRegistrationsRes({ type: 'Building' }, { tenant: t, link: ctxUrl, accept: 'application/ld+json' });
    expectStatus(res, 200);
    expect(res.body[0]['@context'], describeRes(res)).toBeDefined();
  });
});
