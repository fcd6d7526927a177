/**
 * Discovery of Context Source Registrations: Retrieve (5.10.1, 6.9.3.1) and Query (5.10.2, 6.8.3.2) with the matching
 * of clause 5.12, by the test purposes TP/NGSI-LD/CS/DISC/036 and TP/NGSI-LD/CS/DISC/037 (GS CIM 013, 4.3.3) that
 * conformance/csource-registrations.test.ts does not cover already.
 *
 * One tenant (6.3.14) holds every registration; each group of tests uses an entity type of its own, and every
 * registration names attributes, so that a query of one group never sees the registrations of another.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { expectProblem, expectStatus, get, startContextServer, tenant, type ContextServer } from './lib/index.js';
import { absolute, pageLinks } from './lib/query.js';
import { createRegistration, csrPath, CSR, deleteCreatedRegistrations, queryRegistrationIds, queryRegistrationsRes, regId, retrieveRegistration } from './lib/registrations.js';

const NS = 'https://conformance.example.org/disc#';
const TERMS = ['Building', 'OffStreetParking', 'Store', 'Sensor', 'Vehicle', 'name', 'brand', 'locatedAt'];
let ctx: ContextServer;
let ctxUrl: string;
const t = tenant();
const ids: Record<string, string> = {};

const sorted = (xs: string[]) => [...xs].sort();
const q = (params: Record<string, string | number>) => queryRegistrationIds(params, { tenant: t, link: ctxUrl });

function info(type: string, extra: Record<string, unknown> = {}, propertyNames = ['name']): Record<string, unknown> {
  return { entities: [{ type, ...extra }], propertyNames };
}

async function reg(name: string, information: unknown[], extra: Record<string, unknown> = {}): Promise<void> {
  ids[name] = await createRegistration(
    { id: regId(), type: 'ContextSourceRegistration', information, endpoint: 'http://my.csource.org:1026', ...extra },
    { tenant: t, link: ctxUrl },
  );
}

beforeAll(async () => {
  ctx = await startContextServer({ 'disc.jsonld': { '@context': Object.fromEntries(TERMS.map((n) => [n, `${NS}${n}`])) } });
  ctxUrl = ctx.url('disc.jsonld');
  await reg('bNameLoc', [{ entities: [{ type: 'Building' }], propertyNames: ['name'], relationshipNames: ['locatedAt'] }]);
  await reg('bBrand', [{ entities: [{ type: 'Building' }], propertyNames: ['brand'] }]);
  await reg('bAll', [{ entities: [{ type: 'Building' }] }]);
  await reg('pDowntown', [info('OffStreetParking', { id: 'urn:ngsi-ld:OffStreetParking:downtown' })]);
  await reg('pUptown', [info('OffStreetParking', { id: 'urn:ngsi-ld:OffStreetParking:uptown' })]);
  await reg('pPattern', [info('OffStreetParking', { idPattern: 'urn:ngsi-ld:OffStreetParking:.*' })]);
  await reg('sPorto', [info('Store', {}, ['name', 'location'])], { location: { type: 'Polygon', coordinates: [[[-8.7, 41.1], [-8.4, 41.1], [-8.4, 41.3], [-8.7, 41.3], [-8.7, 41.1]]] } });
  await reg('sTokyo', [info('Store', {}, ['name', 'location'])], { location: { type: 'Point', coordinates: [139.7, 35.7] } });
  await reg('sAnywhere', [info('Store', {}, ['name', 'location'])]);
  await reg('sNoLocationAttr', [info('Store')], { location: { type: 'Point', coordinates: [-8.5, 41.2] } });
  await reg('tObserved', [info('Sensor')], { observationInterval: { startAt: '2021-01-01T00:00:00Z', endAt: '2021-12-31T00:00:00Z' } });
  await reg('tObservedOpen', [info('Sensor')], { observationInterval: { startAt: '2022-01-01T00:00:00Z' } });
  await reg('tManaged', [info('Sensor')], { managementInterval: { startAt: '2021-01-01T00:00:00Z', endAt: '2021-12-31T00:00:00Z' } });
  await reg('tLatest', [info('Sensor')]);
  await reg('vA', [info('Vehicle')], { datasetId: ['urn:ngsi-ld:Dataset:a'] });
  await reg('vAB', [info('Vehicle')], { datasetId: ['urn:ngsi-ld:Dataset:a', 'urn:ngsi-ld:Dataset:b'] });
  await reg('vNone', [info('Vehicle')]);
});
afterAll(async () => {
  await deleteCreatedRegistrations();
  await ctx?.close();
});

describe('Query Context Source Registrations: too wide and invalid queries (5.10.2.4)', () => {
  test('TP/NGSI-LD/CS/DISC/037_02_01 5.10.2.4: no type, attrs, q or geo-query is BadRequestData (too wide query)', async () => {
    expectProblem(await queryRegistrationsRes({}, { tenant: t, link: ctxUrl }), 400, 'BadRequestData');
  });

  test('5.10.2.4: csf, scopeQ or a temporal query alone do not narrow a query enough either', async () => {
    for (const params of [{ csf: 'brand=="acme"' }, { scopeQ: '/Madrid' }, { timerel: 'before', timeAt: '2021-08-01T22:00:00Z' }]) {
      expectProblem(await queryRegistrationsRes(params, { tenant: t }), 400, 'BadRequestData');
    }
  });

  test.each([
    ['TP/NGSI-LD/CS/DISC/037_03_01 an entity id that is no URI', { type: 'Building', id: 'invalidUri' }],
    ['TP/NGSI-LD/CS/DISC/037_03_02 an invalid q', { type: 'Building', q: 'name==' }],
    ['TP/NGSI-LD/CS/DISC/037_03_03 an invalid geo-query', { type: 'Building', georel: 'near;maxDistance==2000', geometry: 'Point', coordinates: '[-8.503' }],
    ['TP/NGSI-LD/CS/DISC/037_03_04 an invalid temporal query', { type: 'Building', timerel: 'before', timeAt: 'yesterday' }],
    ['4.11 an unknown timerel', { type: 'Building', timerel: 'during', timeAt: '2021-08-01T22:00:00Z' }],
    ['4.11 between without endTimeAt', { type: 'Building', timerel: 'between', timeAt: '2021-08-01T22:00:00Z' }],
    ['4.11 an unknown timeproperty', { type: 'Building', timerel: 'before', timeAt: '2021-08-01T22:00:00Z', timeproperty: 'observed' }],
    ['5.12 a datasetId that is no URI', { type: 'Vehicle', datasetId: 'not a uri' }],
  ])('%s (5.10.2.4) is BadRequestData', async (_what, params) => {
    expectProblem(await queryRegistrationsRes(params, { tenant: t, link: ctxUrl }), 400, 'BadRequestData');
  });
});

describe('Query Context Source Registrations: entity and attribute matching (5.10.2.4, 5.12)', () => {
  test('TP/NGSI-LD/CS/DISC/037_01_01 5.12: a list of entity types matches the registrations of each', async () => {
    expect(sorted(await q({ type: 'Building,OffStreetParking' }))).toEqual(sorted([ids.bNameLoc!, ids.bBrand!, ids.bAll!, ids.pDowntown!, ids.pUptown!, ids.pPattern!]));
  });

  test('TP/NGSI-LD/CS/DISC/037_01_02 5.12: a list of attribute names matches registrations naming one of them or none', async () => {
    expect(sorted(await q({ attrs: 'brand' }))).toEqual(sorted([ids.bBrand!, ids.bAll!]));
  });

  test('TP/NGSI-LD/CS/DISC/037_06_01 5.12: property and relationship names both match attrs', async () => {
    expect(sorted(await q({ type: 'Building', attrs: 'name,locatedAt' }))).toEqual(sorted([ids.bNameLoc!, ids.bAll!]));
    expect(sorted(await q({ type: 'Building', attrs: 'locatedAt' }))).toEqual(sorted([ids.bNameLoc!, ids.bAll!]));
  });

  test('TP/NGSI-LD/CS/DISC/037_06_02 5.12: a registration naming no attributes matches whatever attributes are asked', async () => {
    expect(await q({ type: 'Building', attrs: 'height' })).toEqual([ids.bAll]);
  });

  test('TP/NGSI-LD/CS/DISC/037_10_02 5.10.2.4: the attributes of an NGSI-LD query match like attrs', async () => {
    expect(sorted(await q({ type: 'Building', q: 'brand=="acme"' }))).toEqual(sorted([ids.bBrand!, ids.bAll!]));
    expect(sorted(await q({ q: 'brand=="acme"' }))).toEqual(sorted([ids.bBrand!, ids.bAll!]));
  });

  test('TP/NGSI-LD/CS/DISC/037_05_01 5.12: an idPattern matches an EntityInfo id it fits, an idPattern, or no id', async () => {
    expect(sorted(await q({ type: 'OffStreetParking', idPattern: '.*downtown$' }))).toEqual(sorted([ids.pDowntown!, ids.pPattern!]));
  });

  test('TP/NGSI-LD/CS/DISC/037_05_02 5.12: a RegistrationInfo without entities matches every entity specification', async () => {
    const other = tenant();
    const id = await createRegistration(
      { id: regId(), type: 'ContextSourceRegistration', information: [{ propertyNames: ['name'] }], endpoint: 'http://my.csource.org:1026' },
      { tenant: other, link: ctxUrl },
    );
    expect(await queryRegistrationIds({ type: 'OffStreetParking', idPattern: '.*downtown$' }, { tenant: other, link: ctxUrl })).toEqual([id]);
  });

  test('TP/NGSI-LD/CS/DISC/037_04_01 5.5.7: without Link header, types are expanded with the default @context (a full IRI is kept)', async () => {
    const ids1 = await queryRegistrationIds({ type: `${NS}Building`, attrs: `${NS}brand` }, { tenant: t });
    expect(sorted(ids1)).toEqual(sorted([ids.bBrand!, ids.bAll!]));
    // "Building" without Link is the default-context term, which no registration here uses.
    expect(await queryRegistrationIds({ type: 'Building' }, { tenant: t })).toEqual([]);
  });
});

describe('Query Context Source Registrations: geo-query (5.10.2.4)', () => {
  test('TP/NGSI-LD/CS/DISC/037_07_01 5.10.2.4: near a point: registrations whose location may contain it, and those without location', async () => {
    const near = { type: 'Store', georel: 'near;maxDistance==2000', geometry: 'Point', coordinates: '[-8.503,41.202]' };
    expect(sorted(await q(near))).toEqual(sorted([ids.sPorto!, ids.sAnywhere!]));
  });

  test('TP/NGSI-LD/CS/DISC/037_07_02 5.10.2.4: within a polygon, with geoproperty location', async () => {
    const coordinates = '[[[-13.503,47.202],[6.541,52.961],[20.37,44.653],[9.46,32.57],[-15.23,21.37],[-13.503,47.202]]]';
    expect(sorted(await q({ type: 'Store', georel: 'within', geometry: 'Polygon', coordinates, geoproperty: 'location' }))).toEqual(sorted([ids.sPorto!, ids.sAnywhere!]));
  });

  test('5.10.2.4: the GeoProperty of the geo-query is matched against RegistrationInfo like attrs', async () => {
    // sNoLocationAttr lies in Porto but registers only "name", so its Context Source offers no location to match.
    const near = { type: 'Store', georel: 'near;maxDistance==2000', geometry: 'Point', coordinates: '[-8.503,41.202]' };
    expect(await q(near)).not.toContain(ids.sNoLocationAttr);
    expect(await q({ type: 'Store', attrs: 'name' })).toContain(ids.sNoLocationAttr);
  });
});

describe('Query Context Source Registrations: temporal query (5.10.2.4)', () => {
  const at = { type: 'Sensor', timerel: 'before', timeAt: '2021-08-01T22:00:00Z' };

  test('TP/NGSI-LD/CS/DISC/037_08_01 5.10.2.4: without temporal query, only registrations without intervals', async () => {
    expect(await q({ type: 'Sensor' })).toEqual([ids.tLatest]);
  });

  test('TP/NGSI-LD/CS/DISC/037_09_01 5.10.2.4: timeproperty observedAt matches the observationInterval', async () => {
    expect(await q({ ...at, timeproperty: 'observedAt' })).toEqual([ids.tObserved]);
  });

  test('TP/NGSI-LD/CS/DISC/037_09_02 5.10.2.4: an empty timeproperty means observedAt', async () => {
    expect(await q({ ...at, timeproperty: '' })).toEqual([ids.tObserved]);
    expect(await q(at)).toEqual([ids.tObserved]);
  });

  test('TP/NGSI-LD/CS/DISC/037_09_03 5.10.2.4: timeproperty createdAt matches the managementInterval', async () => {
    expect(await q({ ...at, timeproperty: 'createdAt' })).toEqual([ids.tManaged]);
  });

  test('TP/NGSI-LD/CS/DISC/037_09_04 5.10.2.4: timeproperty modifiedAt matches the managementInterval', async () => {
    expect(await q({ ...at, timeproperty: 'modifiedAt' })).toEqual([ids.tManaged]);
    expect(await q({ type: 'Sensor', timerel: 'after', timeAt: '2022-01-01T00:00:00Z', timeproperty: 'modifiedAt' })).toEqual([]);
  });

  test('5.10.2.4: after, and between (an overlap of the two intervals), including an interval without end', async () => {
    expect(await q({ type: 'Sensor', timerel: 'after', timeAt: '2022-06-01T00:00:00Z' })).toEqual([ids.tObservedOpen]);
    expect(sorted(await q({ type: 'Sensor', timerel: 'between', timeAt: '2021-06-01T00:00:00Z', endTimeAt: '2022-02-01T00:00:00Z' }))).toEqual(
      sorted([ids.tObserved!, ids.tObservedOpen!]),
    );
    expect(await q({ type: 'Sensor', timerel: 'between', timeAt: '2019-01-01T00:00:00Z', endTimeAt: '2020-01-01T00:00:00Z' })).toEqual([]);
  });
});

describe('Query Context Source Registrations: datasetId (5.12)', () => {
  test('5.12: registrations sharing a datasetId with the request, or naming none, match', async () => {
    expect(sorted(await q({ type: 'Vehicle' }))).toEqual(sorted([ids.vA!, ids.vAB!, ids.vNone!]));
    expect(sorted(await q({ type: 'Vehicle', datasetId: 'urn:ngsi-ld:Dataset:a' }))).toEqual(sorted([ids.vA!, ids.vAB!, ids.vNone!]));
    expect(sorted(await q({ type: 'Vehicle', datasetId: 'urn:ngsi-ld:Dataset:b' }))).toEqual(sorted([ids.vAB!, ids.vNone!]));
    expect(sorted(await q({ type: 'Vehicle', datasetId: 'urn:ngsi-ld:Dataset:c,urn:ngsi-ld:Dataset:b' }))).toEqual(sorted([ids.vAB!, ids.vNone!]));
    expect(await q({ type: 'Vehicle', datasetId: '@none' })).toEqual([ids.vNone]);
  });
});

describe('Query Context Source Registrations: pagination (5.5.9, 6.3.10)', () => {
  test('TP/NGSI-LD/CS/DISC/037_11_01 5.5.9: a middle page has rel="next" and rel="prev" links', async () => {
    const all = await q({ type: 'Building', limit: 10 });
    expect(all.length).toBe(3);
    const path = `${CSR}?type=Building&limit=1&offset=1`;
    const res = await get(path, { tenant: t, link: ctxUrl });
    expectStatus(res, 200);
    expect(res.body.map((r: { id: string }) => r.id)).toEqual([all[1]]);
    const links = pageLinks(res, absolute(path));
    expect(links.next, 'rel="next" on a page before the last').toBeDefined();
    expect(links.prev, 'rel="prev" on a page after the first').toBeDefined();
  });

  test('TP/NGSI-LD/CS/DISC/037_11_02 5.5.9: the last page has no rel="next" link', async () => {
    const path = `${CSR}?type=Building&limit=2&offset=2`;
    const res = await get(path, { tenant: t, link: ctxUrl });
    expectStatus(res, 200);
    expect(res.body).toHaveLength(1);
    expect(pageLinks(res, absolute(path)).next).toBeUndefined();
  });

  test('TP/NGSI-LD/CS/DISC/037_11_03 5.5.9: a page larger than the result holds every registration, without links', async () => {
    const path = `${CSR}?type=Building&limit=15&offset=0`;
    const res = await get(path, { tenant: t, link: ctxUrl });
    expectStatus(res, 200);
    expect(res.body).toHaveLength(3);
    expect(pageLinks(res, absolute(path))).toEqual({});
  });
});

describe('Retrieve Context Source Registration (5.10.1, 6.9.3.1)', () => {
  test('TP/NGSI-LD/CS/DISC/036_01_01 5.10.1.4: an id that is no URI is BadRequestData', async () => {
    expectProblem(await get(csrPath('invalidUri'), { tenant: t }), 400, 'BadRequestData');
  });

  test('TP/NGSI-LD/CS/DISC/036_02_01 5.10.1.4: an unknown id is ResourceNotFound', async () => {
    expectProblem(await get(csrPath('urn:ngsi-ld:ContextSourceRegistration:unknowRegistration'), { tenant: t }), 404, 'ResourceNotFound');
  });

  test('TP/NGSI-LD/CS/DISC/036_03_01 5.10.1.4: without Link header, names are compacted with the core @context only (expanded)', async () => {
    const got = await retrieveRegistration(ids.bNameLoc!, {}, { tenant: t });
    expect(got.information[0]).toEqual({ entities: [{ type: `${NS}Building` }], propertyNames: [`${NS}name`], relationshipNames: [`${NS}locatedAt`] });
  });

  test('TP/NGSI-LD/CS/DISC/036_04_01 5.10.1.4: with the Link header of the creation, names come back as given', async () => {
    const got = await retrieveRegistration(ids.bNameLoc!, {}, { tenant: t, link: ctxUrl });
    expect(got).toMatchObject({ id: ids.bNameLoc, type: 'ContextSourceRegistration', endpoint: 'http://my.csource.org:1026' });
    expect(got.information[0]).toEqual({ entities: [{ type: 'Building' }], propertyNames: ['name'], relationshipNames: ['locatedAt'] });
  });

});
