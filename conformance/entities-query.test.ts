/**
 * Query Entities: GET /ngsi-ld/v1/entities (clauses 5.7.2, 6.4.3.2) and POST /ngsi-ld/v1/entityOperations/query
 * (clause 6.23, body type Query 5.2.23): entity selection (ids, idPattern, the Entity Type Selection Language of 4.17,
 * attrs), the NGSI-LD Query Language (4.9), geoqueries (4.10), scope queries (4.19), datasetId (4.5.5), projection
 * (4.21), representations (6.3.7, 6.3.11, 4.15), content negotiation and GeoJSON (6.3.6, 4.5.16.3), Entity ordering
 * (4.23), pagination and counting (5.5.9, 6.3.10, 6.3.13) and the error cases of 5.7.2.4.
 *
 * Every describe block works in a fresh tenant (6.3.14), so a query sees only the entities the block created, even on
 * a broker that holds other data. Requests that are expected to fail validation go to the default tenant.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  DEFAULT_VOCAB,
  ENTITIES,
  asArray,
  byDataset,
  contextLinks,
  contextUris,
  datasetId,
  expectDateTime,
  expectProblem,
  expectStatus,
  startContextServer,
  tenant,
  uid,
  type ContextServer,
} from './lib/index.js';
import {
  createAll,
  expectProblemOneOf,
  idsOf,
  pageLinks,
  postQuery,
  postQueryIds,
  qs,
  query,
  queryIds,
  queryRes,
  resultsCount,
  sorted,
  walkPages,
  absolute,
  getUrl,
} from './lib/query.js';

const prop = (value: unknown, extra: Record<string, unknown> = {}) => ({ type: 'Property', value, ...extra });
const rel = (object: string, extra: Record<string, unknown> = {}) => ({ type: 'Relationship', object, ...extra });
const geo = (value: unknown, extra: Record<string, unknown> = {}) => ({ type: 'GeoProperty', value, ...extra });
const dateTime = (v: string) => ({ '@type': 'DateTime', '@value': v });
const date = (v: string) => ({ '@type': 'Date', '@value': v });
const point = (lon: number, lat: number) => ({ type: 'Point', coordinates: [lon, lat] });

// ---------------------------------------------------------------------------------------------------------------------
describe('Query Entities: selection by id, idPattern, type (4.17) and attrs (5.7.2.4)', () => {
  const T = tenant();
  const opts = { tenant: T };
  const b1 = uid('Building');
  const b2 = uid('Building');
  const b3 = uid('Building');
  const v1 = uid('Vehicle');
  const v2 = uid('Vehicle');
  const hv = uid('Home'); // typed Home and Vehicle
  const h1 = uid('Home');
  const mh = uid('Motorhome');
  const entities: Record<string, Record<string, unknown>> = {
    [b1]: { id: b1, type: 'Building', name: prop('Eiffel Tower'), height: prop(330) },
    [b2]: { id: b2, type: 'Building', name: prop('Pisa Tower'), height: prop(56) },
    [b3]: { id: b3, type: 'Building', name: prop('Big Ben') },
    [v1]: { id: v1, type: 'Vehicle', speed: prop(80), brandName: prop('Mercedes') },
    [v2]: { id: v2, type: 'Vehicle', speed: prop(50) },
    [hv]: { id: hv, type: ['Home', 'Vehicle'], speed: prop(20), rooms: prop(3) },
    [h1]: { id: h1, type: 'Home', rooms: prop(4) },
    [mh]: { id: mh, type: 'Motorhome', speed: prop(90), rooms: prop(1) },
  };
  const all = sorted(Object.keys(entities));

  beforeAll(async () => {
    await createAll(Object.values(entities), opts);
  });

  test('TP/NGSI-LD/CI/Cons/E/019_01_01 id list + type returns exactly those entities, in normalized form', async () => {
    const got = await query({ id: `${b1},${b2}`, type: 'Building' }, opts);
    expect(idsOf(got)).toEqual(sorted([b1, b2]));
    expect(got.find((e) => e.id === b1)).toEqual(entities[b1]);
  });

  test('5.7.2.4 an id whose entity does not match the type selector is not returned', async () => {
    expect(await queryIds({ id: `${b1},${v1}`, type: 'Building' }, opts)).toEqual([b1]);
  });

  test('5.7.2.4 an unknown id in the list is simply not matched', async () => {
    expect(await queryIds({ id: `${b1},${uid('Building')}`, type: 'Building' }, opts)).toEqual([b1]);
  });

  test('TP/NGSI-LD/CI/Cons/E/019_01_03 idPattern selects the entities whose id matches', async () => {
    expect(await queryIds({ idPattern: 'urn:ngsi-ld:Building:.*', type: 'Building,Vehicle' }, opts)).toEqual(sorted([b1, b2, b3]));
  });

  test('5.7.2.4 idPattern and type both apply', async () => {
    // hv is a Vehicle but its id is urn:ngsi-ld:Home:...
    expect(await queryIds({ idPattern: '^urn:ngsi-ld:Vehicle:.*$', type: 'Vehicle' }, opts)).toEqual(sorted([v1, v2]));
  });

  test('TP/NGSI-LD/CI/Cons/E/019_01_02 type=<one type> returns all entities of that type (ld+json)', async () => {
    const res = await queryRes({ type: 'Building' }, { ...opts, accept: 'application/ld+json' });
    expectStatus(res, 200);
    expect(idsOf(res)).toEqual(sorted([b1, b2, b3]));
  });

  test('TP/NGSI-LD/CI/Cons/E/019_08_01 4.17 a single type also selects entities that have it among others', async () => {
    expect(await queryIds({ type: 'Vehicle' }, opts)).toEqual(sorted([v1, v2, hv]));
    expect(await queryIds({ type: 'Home' }, opts)).toEqual(sorted([h1, hv]));
  });

  test('4.16 a multi-typed entity is returned with all its types', async () => {
    const [got] = await query({ id: hv, type: 'Home' }, opts);
    expect(sorted(asArray(got.type))).toEqual(['Home', 'Vehicle']);
  });

  test('TP/NGSI-LD/CI/Cons/E/019_08_03 4.17 "A,B" selects entities of type A or B', async () => {
    expect(await queryIds({ type: 'Building,Motorhome' }, opts)).toEqual(sorted([b1, b2, b3, mh]));
  });

  test('TP/NGSI-LD/CI/Cons/E/019_08_04 4.17 "A|B" selects entities of type A or B', async () => {
    expect(await queryIds({ type: 'Building|Motorhome' }, opts)).toEqual(sorted([b1, b2, b3, mh]));
  });

  test('TP/NGSI-LD/CI/Cons/E/019_08_02 4.17 "(A;B)" selects entities having both types', async () => {
    expect(await queryIds({ type: '(Home;Vehicle)' }, opts)).toEqual([hv]);
  });

  test('TP/NGSI-LD/CI/Cons/E/019_08_05 4.17 "(A;B)|C" and "(A;B),C"', async () => {
    expect(await queryIds({ type: '(Home;Vehicle)|Motorhome' }, opts)).toEqual(sorted([hv, mh]));
    expect(await queryIds({ type: '(Home;Vehicle),Motorhome' }, opts)).toEqual(sorted([hv, mh]));
  });

  test('5.7.2.3 a fully qualified type name selects like its short name', async () => {
    expect(await queryIds({ type: `${DEFAULT_VOCAB}Building` }, opts)).toEqual(sorted([b1, b2, b3]));
  });

  test('5.7.2.4 a type nobody has gives 200 and an empty array', async () => {
    const res = await queryRes({ type: 'NoSuchType' }, opts);
    expectStatus(res, 200);
    expect(res.body).toEqual([]);
  });

  test('6.4.3.2 / 5.2.33 type=* selects every entity (implied local scope)', async () => {
    expect(await queryIds({ type: '*' }, opts)).toEqual(all);
  });

  test('5.7.2.4 e) local=true alone is a sufficient restriction and returns every local entity', async () => {
    expect(await queryIds({ local: 'true' }, opts)).toEqual(all);
  });

  test('TP/NGSI-LD/CI/Cons/E/019_01_04 attrs selects entities having the attribute and projects it', async () => {
    const got = await query({ attrs: 'height' }, opts);
    expect(idsOf(got)).toEqual(sorted([b1, b2]));
    expect(got.find((e) => e.id === b1)).toEqual({ id: b1, type: 'Building', height: prop(330) });
  });

  test('5.7.2.4 attrs=<a>,<b> matches entities having at least one of them and returns only those', async () => {
    const got = await query({ attrs: 'height,rooms' }, opts);
    expect(idsOf(got)).toEqual(sorted([b1, b2, hv, h1, mh]));
    expect(got.find((e) => e.id === mh)).toEqual({ id: mh, type: 'Motorhome', rooms: prop(1) });
    expect(got.find((e) => e.id === b2)).toEqual({ id: b2, type: 'Building', height: prop(56) });
  });

  test('5.7.2.4 attrs and type both apply', async () => {
    expect(await queryIds({ type: 'Vehicle', attrs: 'rooms' }, opts)).toEqual([hv]);
  });

  test('4.9 q=<attribute> alone (existence) is a sufficient restriction', async () => {
    expect(await queryIds({ q: 'rooms' }, opts)).toEqual(sorted([hv, h1, mh]));
  });

  test('TP/NGSI-LD/CI/Cons/E/019_02_01 6.23 POST query with one selector {id, type}', async () => {
    const res = await postQuery({ type: 'Query', entities: [{ id: b1, type: 'Building' }] }, {}, { ...opts, accept: 'application/json' });
    expectStatus(res, 200);
    expect(res.body).toEqual([entities[b1]]);
  });

  test('TP/NGSI-LD/CI/Cons/E/019_02_06 6.23 POST query with two selectors returns both entities', async () => {
    const body = { type: 'Query', entities: [{ id: b1, type: 'Building' }, { id: v1, type: 'Vehicle' }] };
    expect(await postQueryIds(body, {}, opts)).toEqual(sorted([b1, v1]));
  });

  test('5.2.33 POST query selector with an id array', async () => {
    expect(await postQueryIds({ type: 'Query', entities: [{ id: [b1, b2], type: 'Building' }] }, {}, opts)).toEqual(sorted([b1, b2]));
  });

  test('TP/NGSI-LD/CI/Cons/E/019_02_02 6.23 POST query by types, several selectors are alternatives', async () => {
    const res = await postQuery({ type: 'Query', entities: [{ type: 'Building' }, { type: 'Motorhome' }] }, {}, { ...opts, accept: 'application/ld+json' });
    expectStatus(res, 200);
    expect(idsOf(res)).toEqual(sorted([b1, b2, b3, mh]));
  });

  test('TP/NGSI-LD/CI/Cons/E/019_02_03 6.23 POST query with idPattern', async () => {
    const body = { type: 'Query', entities: [{ idPattern: 'urn:ngsi-ld:Building:.*', type: 'Building' }] };
    expect(await postQueryIds(body, {}, opts)).toEqual(sorted([b1, b2, b3]));
  });

  test('5.2.33 POST query selector type uses the Entity Type Selection Language (4.17)', async () => {
    expect(await postQueryIds({ type: 'Query', entities: [{ type: '(Home;Vehicle)' }] }, {}, opts)).toEqual([hv]);
  });

  test('TP/NGSI-LD/CI/Cons/E/019_02_04 5.2.23 POST query with attrs selects and projects', async () => {
    const res = await postQuery({ type: 'Query', attrs: ['height'] }, {}, { ...opts, accept: 'application/json' });
    expectStatus(res, 200);
    expect(idsOf(res)).toEqual(sorted([b1, b2]));
    expect(res.body.find((e: any) => e.id === b2)).toEqual({ id: b2, type: 'Building', height: prop(56) });
  });

  test('5.2.23 POST query with q', async () => {
    expect(await postQueryIds({ type: 'Query', entities: [{ type: 'Building' }], q: 'height>100' }, {}, opts)).toEqual([b1]);
  });

  test('6.3.18 POST query with local=true and no other restriction', async () => {
    expect(await postQueryIds({ type: 'Query' }, { local: 'true' }, opts)).toEqual(all);
  });
});

// ---------------------------------------------------------------------------------------------------------------------
describe('Query Entities: too wide queries and invalid input (5.7.2.4)', () => {
  test('5.7.2.4 no type, attrs, q, geoquery or local gives 400 BadRequestData (too wide query)', async () => {
    expectProblem(await queryRes({}), 400, 'BadRequestData');
  });

  test('5.7.2.3 an id list alone is too wide: 400 BadRequestData', async () => {
    expectProblem(await queryRes({ id: uid('Building') }), 400, 'BadRequestData');
  });

  test('5.7.2.4 idPattern alone is too wide: 400 BadRequestData', async () => {
    expectProblem(await queryRes({ idPattern: 'urn:ngsi-ld:Building:.*' }), 400, 'BadRequestData');
  });

  test('5.7.2.4 scopeQ alone is too wide: 400 BadRequestData', async () => {
    expectProblem(await queryRes({ scopeQ: '/Madrid' }), 400, 'BadRequestData');
  });

  test('5.7.2.4 paging and format parameters alone are too wide: 400 BadRequestData', async () => {
    expectProblem(await queryRes({ limit: 5, count: 'true', format: 'simplified' }), 400, 'BadRequestData');
  });

  test('5.7.2.4 POST query with an empty Query is too wide: 400 BadRequestData', async () => {
    expectProblem(await postQuery({ type: 'Query' }), 400, 'BadRequestData');
  });

  // EntitySelector.type is mandatory (5.2.33, no 0..1 cardinality), and without it the query is too wide (5.7.2.4).
  test('5.2.33 / 5.7.2.4 POST query whose only selector has an id but no type gives 400 BadRequestData', async () => {
    expectProblem(await postQuery({ type: 'Query', entities: [{ id: uid('Building') }] }), 400, 'BadRequestData');
  });

  test('5.2.23 POST query with "entities": [] gives 400 BadRequestData', async () => {
    expectProblem(await postQuery({ type: 'Query', entities: [] }), 400, 'BadRequestData');
  });

  test('5.2.23 POST query with "attrs": [] gives 400 BadRequestData', async () => {
    expectProblem(await postQuery({ type: 'Query', entities: [{ type: 'Building' }], attrs: [] }), 400, 'BadRequestData');
  });

  test('5.2.23 POST query whose type is not "Query" gives 400', async () => {
    expectProblemOneOf(await postQuery({ type: 'Subscription', entities: [{ type: 'Building' }] }), 400, ['BadRequestData', 'InvalidRequest']);
  });

  test('TP/NGSI-LD/CI/Cons/E/019_03_01 an id that is not a URI gives 400 BadRequestData', async () => {
    expectProblem(await queryRes({ id: 'thisisaninvaliduri', type: 'Building' }, { accept: 'application/ld+json' }), 400, 'BadRequestData');
  });

  test('5.7.2.4 one invalid id among valid ones gives 400 BadRequestData', async () => {
    expectProblem(await queryRes({ id: `${uid('Building')},not a uri`, type: 'Building' }), 400, 'BadRequestData');
  });

  test('5.2.33 POST query with an id that is not a URI gives 400 BadRequestData', async () => {
    expectProblem(await postQuery({ type: 'Query', entities: [{ id: 'thisisaninvaliduri', type: 'Building' }] }), 400, 'BadRequestData');
  });

  test.each(['(Building;Vehicle', 'Building|', '()', 'Building,,Vehicle'])(
    'TP/NGSI-LD/CI/Cons/E/019_03_02 4.17 invalid type selector %s gives 400 BadRequestData',
    async (type) => {
      expectProblem(await queryRes({ type }), 400, 'BadRequestData');
    },
  );

  test.each(['invalid_entity_id_pattern**', '(unclosed', '[a-'])(
    'TP/NGSI-LD/CI/Cons/E/019_03_03 invalid idPattern %s gives 400 BadRequestData',
    async (idPattern) => {
      expectProblem(await queryRes({ idPattern, type: 'Building' }), 400, 'BadRequestData');
    },
  );

  test.each([
    'speed>>5',
    '(speed>5',
    'speed>5)',
    'speed==',
    '==5',
    'speed>5;',
    'speed>5||rpm<3',
    'speed=5',
    'name=="unterminated',
    'speed==1..',
  ])('5.7.2.4 / 4.9 syntactically invalid q %s gives 400 BadRequestData', async (q) => {
    expectProblem(await queryRes({ type: 'Building', q }), 400, 'BadRequestData');
  });

  test('5.7.2.4 POST query with an invalid q gives 400 BadRequestData', async () => {
    expectProblem(await postQuery({ type: 'Query', entities: [{ type: 'Building' }], q: 'speed>>5' }), 400, 'BadRequestData');
  });

  test('TP/NGSI-LD/CI/Cons/E/019_03_05 georel=invalid gives 400 BadRequestData', async () => {
    const res = await queryRes({ type: 'Building', geoproperty: 'location', georel: 'invalid', geometry: 'Point', coordinates: '[-8.503,41.202]' });
    expectProblem(res, 400, 'BadRequestData');
  });

  const P = '[13.3777,52.5163]';
  test.each([
    ['an unknown geometry', { georel: 'near;maxDistance==100', geometry: 'Circle', coordinates: P }],
    ['GeometryCollection', { georel: 'intersects', geometry: 'GeometryCollection', coordinates: P }],
    ['near without distance', { georel: 'near', geometry: 'Point', coordinates: P }],
    ['near with an unknown modifier', { georel: 'near;distance==100', geometry: 'Point', coordinates: P }],
    ['maxDistance==0 (PositiveNumber excludes 0)', { georel: 'near;maxDistance==0', geometry: 'Point', coordinates: P }],
    ['a negative maxDistance', { georel: 'near;maxDistance==-10', geometry: 'Point', coordinates: P }],
    ['a non-numeric maxDistance', { georel: 'near;maxDistance==far', geometry: 'Point', coordinates: P }],
    ['coordinates that are not JSON', { georel: 'intersects', geometry: 'Point', coordinates: 'thirteen,fifty-two' }],
    ['a Point with one number', { georel: 'intersects', geometry: 'Point', coordinates: '[13.4]' }],
    ['a Point given polygon coordinates', { georel: 'intersects', geometry: 'Point', coordinates: '[[[13.3,52.4],[13.32,52.4],[13.32,52.42],[13.3,52.4]]]' }],
    ['a Polygon whose ring is not closed', { georel: 'within', geometry: 'Polygon', coordinates: '[[[13.3,52.4],[13.32,52.4],[13.32,52.42],[13.3,52.42]]]' }],
    ['a LineString with a single position', { georel: 'intersects', geometry: 'LineString', coordinates: '[[13.4,52.5]]' }],
    ['georel without geometry and coordinates', { georel: 'near;maxDistance==100' }],
    ['georel and geometry without coordinates', { georel: 'near;maxDistance==100', geometry: 'Point' }],
    ['geometry and coordinates without georel', { geometry: 'Point', coordinates: P }],
  ])('5.7.2.4 / 4.10 a geoquery with %s gives 400 BadRequestData', async (_what, params) => {
    expectProblem(await queryRes({ type: 'Building', ...params }), 400, 'BadRequestData');
  });

  test('5.7.2.4 POST query with an invalid geoQ gives 400 BadRequestData', async () => {
    const body = { type: 'Query', entities: [{ type: 'Building' }], geoQ: { georel: 'near;maxDistance==-1', geometry: 'Point', coordinates: [13.3777, 52.5163] } };
    expectProblem(await postQuery(body), 400, 'BadRequestData');
  });

  test('5.7.2.4 geometryProperty without Accept application/geo+json gives 400 BadRequestData', async () => {
    expectProblem(await queryRes({ type: 'Building', geometryProperty: 'location' }, { accept: 'application/json' }), 400, 'BadRequestData');
  });

  // Not "Madrid": clause 4.18 lets a scope omit its leading "/" and 4.19 EXAMPLE 5 writes "CompanyB" that way.
  test.each(['(/Madrid;/CompanyA', '/Madrid//Gardens', '/Madrid|', '/Madrid/#/Gardens'])(
    '4.19 a syntactically invalid scopeQ %s gives 400',
    async (scopeQ) => {
      expectProblemOneOf(await queryRes({ type: 'Building', scopeQ }), 400, ['BadRequestData', 'InvalidRequest']);
    },
  );

  test('6.3.13 limit=0 without count gives 400', async () => {
    expectProblemOneOf(await queryRes({ type: 'Building', limit: 0 }), 400, ['BadRequestData', 'InvalidRequest']);
  });

  test.each([
    ['limit=-1', { limit: -1 }],
    ['limit=abc', { limit: 'abc' }],
    ['limit=2.5', { limit: '2.5' }],
    ['offset=-1', { offset: -1 }],
    ['offset=abc', { offset: 'abc' }],
  ])('6.3.10 %s gives 400', async (_what, params) => {
    expectProblemOneOf(await queryRes({ type: 'Building', ...params }), 400, ['BadRequestData', 'InvalidRequest']);
  });
});

// ---------------------------------------------------------------------------------------------------------------------
describe('Query Entities: the NGSI-LD Query Language (4.9)', () => {
  const T = tenant();
  const opts = { tenant: T };
  const s1 = uid('Sensor');
  const s2 = uid('Sensor');
  const s3 = uid('Sensor');
  const s4 = uid('Sensor');
  let ctx: ContextServer;

  beforeAll(async () => {
    ctx = await startContextServer({
      'it.jsonld': {
        '@context': {
          Sensore: `${DEFAULT_VOCAB}Sensor`,
          temperatura: `${DEFAULT_VOCAB}temperature`,
        },
      },
    });
    await createAll(
      [
        {
          id: s1,
          type: 'Sensor',
          name: prop('Eiffel Tower'),
          temperature: prop(20, { observedAt: '2024-01-01T10:00:00Z', unitCode: 'CEL', accuracy: prop(0.5) }),
          almostFull: prop(false),
          address: prop({ city: 'Berlin', street: 'Ulrich Strasse', details: { floor: 3 } }),
          locatedIn: rel('urn:ngsi-ld:City:Pisa'),
          tags: prop(['red', 'blue']),
          since: prop(dateTime('2024-03-01T12:00:00Z')),
          opened: prop(date('2020-05-01')),
          street: { type: 'LanguageProperty', languageMap: { fr: 'Grand Place', nl: 'Grote Markt' } },
        },
        {
          id: s2,
          type: 'Sensor',
          name: prop('Pisa Tower'),
          temperature: prop(25.5, { observedAt: '2024-06-01T10:00:00Z', accuracy: prop(2) }),
          almostFull: prop(false),
          address: prop({ city: 'Paris', zip: '75001', details: { floor: 1 } }),
          locatedIn: rel('urn:ngsi-ld:City:Paris'),
          tags: prop(['green']),
          since: prop(dateTime('2023-05-01T00:00:00Z')),
          opened: prop(date('2019-01-01')),
        },
        {
          id: s3,
          type: 'Sensor',
          name: prop('Big Ben'),
          temperature: prop(30, { observedAt: '2024-02-01T00:00:00Z' }),
          almostFull: prop(true),
          address: prop({ city: 'London' }),
          tags: prop(['yellow']),
        },
        {
          id: s4,
          type: 'Sensor',
          name: prop('Louvre'),
          humidity: prop(50),
          almostFull: prop('false'), // a string, not a Boolean
        },
      ],
      opts,
    );
  });
  afterAll(async () => {
    await ctx?.close();
  });

  const cases: Array<[string, string, () => string[]]> = [
    ['4.9 existence: q=temperature', 'temperature', () => [s1, s2, s3]],
    ['4.9 existence: q=humidity', 'humidity', () => [s4]],
    ['TP/NGSI-LD/CI/Cons/E/019_09_06 == on a number', 'temperature==20', () => [s1]],
    ['4.9 == on a decimal number', 'temperature==25.5', () => [s2]],
    ['4.9 != requires the attribute to exist', 'temperature!=20', () => [s2, s3]],
    ['4.9 >', 'temperature>20', () => [s2, s3]],
    ['4.9 >=', 'temperature>=25.5', () => [s2, s3]],
    ['4.9 <', 'temperature<25.5', () => [s1]],
    ['4.9 <=', 'temperature<=25.5', () => [s1, s2]],
    ['TP/NGSI-LD/CI/Cons/E/019_09_07 >= and < joined by ;', 'temperature>=20;temperature<30', () => [s1, s2]],
    ['4.9 range a..b (both ends included)', 'temperature==20..25.5', () => [s1, s2]],
    ['4.9 != range', 'temperature!=20..26', () => [s3]],
    ['4.9 == value list', 'temperature==20,30', () => [s1, s3]],
    ['4.9 != value list', 'temperature!=20,30', () => [s2]],
    ['TP/NGSI-LD/CI/Cons/E/019_09_01 == on a string with a space', 'name=="Eiffel Tower"', () => [s1]],
    ['4.9 == list of strings', 'name=="Eiffel Tower","Big Ben"', () => [s1, s3]],
    ['4.9 != on a string (example 2)', 'name!="Eiffel Tower"', () => [s2, s3, s4]],
    ['4.9 < on strings (RFC 8259 8.3 order)', 'name<"C"', () => [s3]],
    ['4.9 >= on strings', 'name>="Louvre"', () => [s2, s4]],
    ['4.9 == false does not match the string "false" (data types differ)', 'almostFull==false', () => [s1, s2]],
    ['4.9 == true', 'almostFull==true', () => [s3]],
    ['4.9 != with a different data type counts as unequal', 'almostFull!=true', () => [s1, s2, s4]],
    ['TP/NGSI-LD/CI/Cons/E/019_09_02 ; is a logical AND', 'name=="Pisa Tower";almostFull==false', () => [s2]],
    ['TP/NGSI-LD/CI/Cons/E/019_09_04 | is a logical OR', 'name=="Pisa Tower"|almostFull==false', () => [s1, s2]],
    ['TP/NGSI-LD/CI/Cons/E/019_09_05 parentheses group an OR inside an AND', '(name=="Pisa Tower"|name=="Eiffel Tower");almostFull==false', () => [s1, s2]],
    ['4.9 AND takes precedence over OR: A|B;C is A|(B;C)', 'name=="Big Ben"|name=="Pisa Tower";almostFull==false', () => [s2, s3]],
    ['4.9 parentheses override the precedence: (A|B);C', '(name=="Big Ben"|name=="Pisa Tower");almostFull==false', () => [s2]],
    ['4.9 example 6: nested parentheses', '((temperature>25|humidity>40);almostFull==false)', () => [s2]],
    ['4.9 example 7: (A;B)|C', '(temperature>=20;temperature<=25)|humidity<=60', () => [s1, s4]],
    ['4.9 ~= matches a regular expression', 'name~=.*Tower', () => [s1, s2]],
    ['4.9 ~= with a character class', 'name~=[A-Z]i.*', () => [s1, s2, s3]],
    ['4.9 !~= selects the strings not matching', 'name!~=.*Tower', () => [s3, s4]],
    ['4.9 ~= never matches a non-string value', 'temperature~=2.*', () => []],
    ['4.9 example 8: sub-attribute path temperature.observedAt', 'temperature.observedAt>=2024-03-01T00:00:00Z', () => [s2]],
    ['4.9 observedAt compared as a DateTime', 'temperature.observedAt<2024-01-15T00:00:00Z', () => [s1]],
    ['4.9 a sub-Property reached by a dotted path', 'temperature.accuracy<1', () => [s1]],
    ['4.9 a dotted path to a missing sub-Property does not match', 'temperature.accuracy', () => [s1, s2]],
    ['4.9 example 9: compound value member address[city]', 'address[city]=="Berlin"', () => [s1]],
    ['4.9 example 10: nested member address[details.floor]', 'address[details.floor]>=1', () => [s1, s2]],
    ['4.9 a compound member used as an existence test', 'address[zip]', () => [s2]],
    ['TP/NGSI-LD/CI/Cons/E/019_09_08 Relationship object equal to an unquoted URI', 'locatedIn==urn:ngsi-ld:City:Pisa', () => [s1]],
    ['4.9 example 3: Relationship object equal to a quoted URI', 'locatedIn=="urn:ngsi-ld:City:Pisa"', () => [s1]],
    ['TP/NGSI-LD/CI/Cons/E/019_09_09 a URI no Relationship points to', 'locatedIn==urn:ngsi-ld:City:Rome', () => []],
    ['TP/NGSI-LD/CI/Cons/E/019_09_10 two Relationship terms joined by |', 'locatedIn==urn:ngsi-ld:City:Pisa|locatedIn==urn:ngsi-ld:City:Rome', () => [s1]],
    ['4.9 Relationship object in a list of URIs', 'locatedIn=="urn:ngsi-ld:City:Pisa","urn:ngsi-ld:City:Paris"', () => [s1, s2]],
    ['4.9 Relationship != requires the Relationship to exist', 'locatedIn!=urn:ngsi-ld:City:Pisa', () => [s2]],
    ['4.9 a Relationship compared with > never matches', 'locatedIn>"urn:ngsi-ld:City:A"', () => []],
    ['4.9 == matches a value included in an array', 'tags=="red"', () => [s1]],
    ['4.9 == list matches arrays including any listed value', 'tags=="green","yellow"', () => [s2, s3]],
    ['4.9 != on an array excludes arrays including the value', 'tags!="red"', () => [s2, s3]],
    ['4.9 DateTime values are ordered in time (>)', 'since>2024-01-01T00:00:00Z', () => [s1]],
    ['4.9 DateTime values are ordered in time (<)', 'since<2024-01-01T00:00:00Z', () => [s2]],
    ['4.9 a DateTime range', 'since==2023-01-01T00:00:00Z..2023-12-31T23:59:59Z', () => [s2]],
    ['4.9 Date values are ordered in time', 'opened>2020-01-01', () => [s1]],
    ['4.9 LanguageProperty value in a given language street[nl]', 'street[nl]=="Grote Markt"', () => [s1]],
  ];

  test.each(cases)('%s  (q=%s)', async (_title, q, expected) => {
    expect(await queryIds({ type: 'Sensor', q }, opts)).toEqual(sorted(expected()));
  });

  test('4.9 q without type is a sufficient restriction (5.7.2.4 c)', async () => {
    expect(await queryIds({ q: 'temperature>=25.5' }, opts)).toEqual(sorted([s2, s3]));
  });

  test('4.9 reserved characters are percent-encoded in the URL and decoded by the broker', async () => {
    // Same query as 019_09_05, written out by hand with RFC 3986 percent-encoding.
    const raw = `${ENTITIES}?type=Sensor&q=%28name%3D%3D%22Pisa%20Tower%22%7Cname%3D%3D%22Eiffel%20Tower%22%29%3BalmostFull%3D%3Dfalse`;
    const res = await getUrl(absolute(raw), opts);
    expectStatus(res, 200);
    expect(idsOf(res)).toEqual(sorted([s1, s2]));
  });

  test('5.5.7 attribute and type names in q and type are expanded with the @context of the Link header', async () => {
    const ids = await queryIds({ type: 'Sensore', q: 'temperatura==20' }, { ...opts, link: ctx.url('it.jsonld') });
    expect(ids).toEqual([s1]);
  });

  test('TP/NGSI-LD/CI/Cons/E/019_07_02 count=true with q gives the number of matching entities', async () => {
    const res = await queryRes({ type: 'Sensor', q: 'almostFull==false', count: 'true' }, opts);
    expectStatus(res, 200);
    expect(resultsCount(res)).toBe(2);
  });

  test('5.7.2.4 q and attrs combine: the filter applies, attrs projects', async () => {
    const got = await query({ type: 'Sensor', q: 'temperature>25', attrs: 'name' }, opts);
    expect(idsOf(got)).toEqual(sorted([s2, s3]));
    expect(got.find((e) => e.id === s3)).toEqual({ id: s3, type: 'Sensor', name: prop('Big Ben') });
  });
});

// ---------------------------------------------------------------------------------------------------------------------
/*
 * Geometries in Berlin, with distances that can be checked by hand: one degree of latitude is 111.2 km
 * (2 * pi * 6371 km / 360), so 0.009 degrees due north is about 1001 m and 0.018 degrees about 2002 m.
 *
 *   gA   Point [13.3777, 52.5163]  Brandenburg Gate, the reference point P0 (0 m)
 *   gB   Point [13.3777, 52.5253]  ~1001 m north of P0
 *   gC   Point [13.3777, 52.5343]  ~2002 m north of P0
 *   gM   Point [11.5755, 48.1374]  Munich, ~500 km away
 *   gPoly Polygon square 13.30..13.32 E x 52.40..52.42 N (Steglitz, ~12 km south-west of P0)
 *   gLine LineString [13.50, 52.45] -> [13.52, 52.47] (Treptow, ~10 km south-east of P0)
 *   gNone no location, only an observationSpace Point at the Eiffel Tower [2.2945, 48.8584]
 * gA also has an observationSpace Point in central Paris [2.3522, 48.8566], ~4.2 km east of the Eiffel Tower.
 */
describe('Query Entities: geoqueries (4.10)', () => {
  const T = tenant();
  const opts = { tenant: T };
  const gA = uid('GeoThing');
  const gB = uid('GeoThing');
  const gC = uid('GeoThing');
  const gM = uid('GeoThing');
  const gPoly = uid('GeoThing');
  const gLine = uid('GeoThing');
  const gNone = uid('GeoThing');
  const P0 = [13.3777, 52.5163];
  const SQ = [[[13.3, 52.4], [13.32, 52.4], [13.32, 52.42], [13.3, 52.42], [13.3, 52.4]]];
  const LINE = [[13.5, 52.45], [13.52, 52.47]];
  // Around gA and gB (52.50..52.53 N), not gC (52.5343 N).
  const BIG = [[[13.35, 52.5], [13.4, 52.5], [13.4, 52.53], [13.35, 52.53], [13.35, 52.5]]];
  const J = JSON.stringify;

  beforeAll(async () => {
    await createAll(
      [
        { id: gA, type: 'GeoThing', location: geo(point(13.3777, 52.5163)), observationSpace: geo(point(2.3522, 48.8566)) },
        { id: gB, type: 'GeoThing', location: geo(point(13.3777, 52.5253)) },
        { id: gC, type: 'GeoThing', location: geo(point(13.3777, 52.5343)) },
        { id: gM, type: 'GeoThing', location: geo(point(11.5755, 48.1374)) },
        { id: gPoly, type: 'GeoThing', location: geo({ type: 'Polygon', coordinates: SQ }) },
        { id: gLine, type: 'GeoThing', location: geo({ type: 'LineString', coordinates: LINE }) },
        { id: gNone, type: 'GeoThing', observationSpace: geo(point(2.2945, 48.8584)) },
      ],
      opts,
    );
  });

  const g = (georel: string, geometry: string, coordinates: unknown, extra: Record<string, string> = {}) => ({
    type: 'GeoThing',
    georel,
    geometry,
    coordinates: J(coordinates),
    ...extra,
  });

  test('TP/NGSI-LD/CI/Cons/E/019_10_02 near;maxDistance==1500 from P0 finds the points at 0 m and ~1001 m', async () => {
    expect(await queryIds(g('near;maxDistance==1500', 'Point', P0), opts)).toEqual(sorted([gA, gB]));
  });

  test('4.10 near;maxDistance==500 from P0 finds only the point at 0 m', async () => {
    expect(await queryIds(g('near;maxDistance==500', 'Point', P0), opts)).toEqual([gA]);
  });

  test('4.10 near;maxDistance==2500 from P0 finds the points at 0, ~1001 and ~2002 m', async () => {
    expect(await queryIds(g('near;maxDistance==2500', 'Point', P0), opts)).toEqual(sorted([gA, gB, gC]));
  });

  test('TP/NGSI-LD/CI/Cons/E/019_10_03 near;minDistance==1500 from P0 finds everything at least 1.5 km away', async () => {
    // gNone has no location: entities without the target GeoProperty never match (4.10).
    expect(await queryIds(g('near;minDistance==1500', 'Point', P0), opts)).toEqual(sorted([gC, gM, gPoly, gLine]));
  });

  test('4.10 near;minDistance==500 from P0 excludes only the point at 0 m', async () => {
    expect(await queryIds(g('near;minDistance==500', 'Point', P0), opts)).toEqual(sorted([gB, gC, gM, gPoly, gLine]));
  });

  test('TP/NGSI-LD/CI/Cons/E/019_10_04 within a Polygon', async () => {
    expect(await queryIds(g('within', 'Polygon', BIG), opts)).toEqual(sorted([gA, gB]));
  });

  test('4.10 within: a Polygon entity inside the reference Polygon', async () => {
    const wrap = [[[13.29, 52.39], [13.33, 52.39], [13.33, 52.43], [13.29, 52.43], [13.29, 52.39]]];
    expect(await queryIds(g('within', 'Polygon', wrap), opts)).toEqual([gPoly]);
  });

  test('4.10 within: a LineString entity inside the reference Polygon', async () => {
    const wrap = [[[13.49, 52.44], [13.53, 52.44], [13.53, 52.48], [13.49, 52.48], [13.49, 52.44]]];
    expect(await queryIds(g('within', 'Polygon', wrap), opts)).toEqual([gLine]);
  });

  test('TP/NGSI-LD/CI/Cons/E/019_10_05 disjoint with a Polygon (entities without location never match)', async () => {
    expect(await queryIds(g('disjoint', 'Polygon', BIG), opts)).toEqual(sorted([gC, gM, gPoly, gLine]));
  });

  test('TP/NGSI-LD/CI/Cons/E/019_10_06 disjoint with a Point', async () => {
    expect(await queryIds(g('disjoint', 'Point', P0), opts)).toEqual(sorted([gB, gC, gM, gPoly, gLine]));
  });

  test('TP/NGSI-LD/CI/Cons/E/019_11_08 contains a Point: the Polygon entity around it', async () => {
    expect(await queryIds(g('contains', 'Point', [13.31, 52.41]), opts)).toEqual([gPoly]);
  });

  test('TP/NGSI-LD/CI/Cons/E/019_10_07 contains a Point: the Point entity at the same position', async () => {
    expect(await queryIds(g('contains', 'Point', P0), opts)).toEqual([gA]);
  });

  test('TP/NGSI-LD/CI/Cons/E/019_10_08 intersects a Point', async () => {
    expect(await queryIds(g('intersects', 'Point', P0), opts)).toEqual([gA]);
  });

  test('TP/NGSI-LD/CI/Cons/E/019_11_02 intersects a Polygon: the Polygon and the LineString entities crossing it', async () => {
    const inter = [[[13.31, 52.41], [13.55, 52.41], [13.55, 52.46], [13.31, 52.46], [13.31, 52.41]]];
    expect(await queryIds(g('intersects', 'Polygon', inter), opts)).toEqual(sorted([gPoly, gLine]));
  });

  test('4.10 intersects a LineString crossing the LineString entity', async () => {
    expect(await queryIds(g('intersects', 'LineString', [[13.5, 52.47], [13.52, 52.45]]), opts)).toEqual([gLine]);
  });

  test('TP/NGSI-LD/CI/Cons/E/019_10_01 equals a Point', async () => {
    expect(await queryIds(g('equals', 'Point', P0), opts)).toEqual([gA]);
  });

  test('TP/NGSI-LD/CI/Cons/E/019_11_01 equals a Polygon', async () => {
    expect(await queryIds(g('equals', 'Polygon', SQ), opts)).toEqual([gPoly]);
  });

  test('4.10 equals a LineString', async () => {
    expect(await queryIds(g('equals', 'LineString', LINE), opts)).toEqual([gLine]);
  });

  test('TP/NGSI-LD/CI/Cons/E/019_11_07 overlaps a Polygon partly covering the Polygon entity', async () => {
    const ov = [[[13.31, 52.41], [13.33, 52.41], [13.33, 52.43], [13.31, 52.43], [13.31, 52.41]]];
    expect(await queryIds(g('overlaps', 'Polygon', ov), opts)).toEqual([gPoly]);
  });

  test('TP/NGSI-LD/CI/Cons/E/019_01_05 georel=equals with Accept application/ld+json returns the entity with @context', async () => {
    const res = await queryRes(g('equals', 'Point', P0), { ...opts, accept: 'application/ld+json' });
    expectStatus(res, 200);
    expect(res.body).toHaveLength(1);
    expect(res.body[0].id).toBe(gA);
    expect(res.body[0].location).toEqual(geo(point(13.3777, 52.5163)));
    expect(res.body[0]['@context']).toBeDefined();
  });

  test('4.10 geoproperty=observationSpace: near;maxDistance==1000 from [2.2950, 48.8580] (~60 m from the Eiffel Tower)', async () => {
    expect(await queryIds(g('near;maxDistance==1000', 'Point', [2.295, 48.858], { geoproperty: 'observationSpace' }), opts)).toEqual([gNone]);
  });

  test('4.10 geoproperty=observationSpace: maxDistance==5000 also reaches central Paris (~4.2 km)', async () => {
    expect(await queryIds(g('near;maxDistance==5000', 'Point', [2.295, 48.858], { geoproperty: 'observationSpace' }), opts)).toEqual(
      sorted([gA, gNone]),
    );
  });

  test('4.10 geoproperty=observationSpace with within', async () => {
    const paris = [[[2.25, 48.83], [2.4, 48.83], [2.4, 48.88], [2.25, 48.88], [2.25, 48.83]]];
    expect(await queryIds(g('within', 'Polygon', paris, { geoproperty: 'observationSpace' }), opts)).toEqual(sorted([gA, gNone]));
  });

  test('4.10 without geoproperty the geoquery uses location, so nothing is near Paris', async () => {
    expect(await queryIds(g('near;maxDistance==5000', 'Point', [2.295, 48.858]), opts)).toEqual([]);
  });

  test('5.7.2.4 d) a geoquery alone (no type) is a sufficient restriction', async () => {
    const { type: _t, ...noType } = g('near;maxDistance==1500', 'Point', P0);
    expect(await queryIds(noType, opts)).toEqual(sorted([gA, gB]));
  });

  test('5.2.23 POST query with geoQ (coordinates as a JSON array)', async () => {
    const body = { type: 'Query', entities: [{ type: 'GeoThing' }], geoQ: { georel: 'near;maxDistance==1500', geometry: 'Point', coordinates: P0 } };
    expect(await postQueryIds(body, {}, opts)).toEqual(sorted([gA, gB]));
  });

  test('5.2.13 POST query with geoQ coordinates given as a string', async () => {
    const body = { type: 'Query', entities: [{ type: 'GeoThing' }], geoQ: { georel: 'within', geometry: 'Polygon', coordinates: J(BIG) } };
    expect(await postQueryIds(body, {}, opts)).toEqual(sorted([gA, gB]));
  });

  test('5.2.13 POST query with geoQ.geoproperty', async () => {
    const body = {
      type: 'Query',
      entities: [{ type: 'GeoThing' }],
      geoQ: { georel: 'near;maxDistance==1000', geometry: 'Point', coordinates: [2.295, 48.858], geoproperty: 'observationSpace' },
    };
    expect(await postQueryIds(body, {}, opts)).toEqual([gNone]);
  });

  test('4.10 a geoquery combines with q', async () => {
    const ids = await queryIds({ ...g('near;maxDistance==2500', 'Point', P0), q: 'observationSpace' }, opts);
    expect(ids).toEqual([gA]);
  });
});

describe('Query Entities: geoquery over a multi-instance GeoProperty (5.7.2.4)', () => {
  const T = tenant();
  const opts = { tenant: T };
  const multi = uid('GeoThing');
  const single = uid('GeoThing');

  beforeAll(async () => {
    await createAll(
      [
        {
          id: multi,
          type: 'GeoThing',
          location: [geo(point(11.5755, 48.1374)), geo(point(13.3777, 52.5253), { datasetId: datasetId('gps') })],
        },
        { id: single, type: 'GeoThing', location: geo(point(11.5755, 48.1374)) },
      ],
      opts,
    );
  });

  test('5.7.2.4 it is sufficient that one instance of the GeoProperty meets the geoquery', async () => {
    const ids = await queryIds({ type: 'GeoThing', georel: 'near;maxDistance==1500', geometry: 'Point', coordinates: '[13.3777,52.5163]' }, opts);
    expect(ids).toEqual([multi]);
  });
});

// ---------------------------------------------------------------------------------------------------------------------
describe('Query Entities: scopeQ (4.19)', () => {
  const T = tenant();
  const opts = { tenant: T };
  const sc1 = uid('Park');
  const sc2 = uid('Park');
  const sc3 = uid('Park');
  const sc4 = uid('Park');
  const sc5 = uid('Park');
  const sc6 = uid('Park');

  beforeAll(async () => {
    await createAll(
      [
        { id: sc1, type: 'Park', scope: '/Madrid/Gardens/ParqueNorte' },
        { id: sc2, type: 'Park', scope: ['/Madrid/Gardens/ParqueNorte', '/CompanyA/OrganizationB/UnitC'] },
        { id: sc3, type: 'Park', scope: '/Madrid/Sights/ParqueNorte' },
        { id: sc4, type: 'Park', scope: '/CompanyA' },
        { id: sc5, type: 'Park', size: prop(1) },
        { id: sc6, type: 'Park', scope: '/Madrid/Gardens' },
      ],
      opts,
    );
  });

  const cases: Array<[string, string, () => string[]]> = [
    ['TP/NGSI-LD/CI/Cons/E/019_01_06 (QueryWithFullScope) a full scope', '/Madrid/Gardens/ParqueNorte', () => [sc1, sc2]],
    ['4.19 a scope matches only that level, not the levels below', '/Madrid', () => []],
    ['TP/NGSI-LD/CI/Cons/E/019_01_06 (QueryWithPlusMatching) + matches one level', '/Madrid/+/ParqueNorte', () => [sc1, sc2, sc3]],
    ['TP/NGSI-LD/CI/Cons/E/019_01_06 (QueryWithHashMatching) /# matches the scope and everything below', '/Madrid/Gardens/#', () => [sc1, sc2, sc6]],
    ['4.19 /CompanyA/# includes /CompanyA itself', '/CompanyA/#', () => [sc2, sc4]],
    ['TP/NGSI-LD/CI/Cons/E/019_01_06 (QueryNonEmptyScope) "/#" matches any entity with a scope', '/#', () => [sc1, sc2, sc3, sc4, sc6]],
    ['TP/NGSI-LD/CI/Cons/E/019_01_06 (QueryWithAndScope) (A;B) needs both scopes', '(/Madrid/Gardens/ParqueNorte;/CompanyA/OrganizationB/UnitC)', () => [sc2]],
    ['TP/NGSI-LD/CI/Cons/E/019_01_06 (QueryWithOrScope) A,B', '/Madrid/Gardens/ParqueNorte,/CompanyA', () => [sc1, sc2, sc4]],
    ['4.19 A|B', '/Madrid/Sights/ParqueNorte|/CompanyA', () => [sc3, sc4]],
    ['4.19 example 5: (A;B)|C', '(/Madrid/Gardens/ParqueNorte;/CompanyA/OrganizationB/UnitC)|/Madrid/Gardens', () => [sc2, sc6]],
  ];

  test.each(cases)('%s  (scopeQ=%s)', async (_title, scopeQ, expected) => {
    expect(await queryIds({ type: 'Park', scopeQ }, opts)).toEqual(sorted(expected()));
  });

  test('4.19 the scope is returned as a top-level member of the entity', async () => {
    const [got] = await query({ type: 'Park', id: sc2 }, opts);
    expect(sorted(asArray(got.scope))).toEqual(['/CompanyA/OrganizationB/UnitC', '/Madrid/Gardens/ParqueNorte']);
  });

  test('5.2.23 POST query with scopeQ', async () => {
    expect(await postQueryIds({ type: 'Query', entities: [{ type: 'Park' }], scopeQ: '/Madrid/+/ParqueNorte' }, {}, opts)).toEqual(sorted([sc1, sc2, sc3]));
  });
});

// ---------------------------------------------------------------------------------------------------------------------
describe('Query Entities: datasetId (4.5.5, 5.7.2.4)', () => {
  const T = tenant();
  const opts = { tenant: T };
  const DS1 = datasetId('one');
  const DS2 = datasetId('two');
  const d1 = uid('Meter');
  const d2 = uid('Meter');

  beforeAll(async () => {
    await createAll(
      [
        { id: d1, type: 'Meter', temperature: [prop(20), prop(21, { datasetId: DS1 }), prop(22, { datasetId: DS2 })], humidity: prop(50) },
        { id: d2, type: 'Meter', humidity: prop(60) },
      ],
      opts,
    );
  });

  const find = (list: any[], id: string) => list.find((e) => e.id === id);

  test('5.7.2.4 datasetId=<uri> keeps only that instance; attributes without it are left out', async () => {
    const got = find(await query({ type: 'Meter', id: d1, datasetId: DS1 }, opts), d1);
    expect(asArray(got.temperature)).toEqual([prop(21, { datasetId: DS1 })]);
    expect(got.humidity).toBeUndefined();
  });

  test('5.7.2.4 datasetId=@none selects the default instances', async () => {
    const got = find(await query({ type: 'Meter', id: d1, datasetId: '@none' }, opts), d1);
    expect(asArray(got.temperature)).toEqual([prop(20)]);
    expect(got.humidity).toEqual(prop(50));
  });

  test('5.7.2.4 a datasetId list keeps every listed instance', async () => {
    const got = find(await query({ type: 'Meter', id: d1, datasetId: `${DS1},${DS2}` }, opts), d1);
    expect(byDataset(asArray(got.temperature))).toEqual(byDataset([prop(21, { datasetId: DS1 }), prop(22, { datasetId: DS2 })]));
  });

  test('5.7.2.4 datasetId filters attributes, not entities: an entity without the instance comes back bare', async () => {
    const got = await query({ type: 'Meter', datasetId: DS1 }, opts);
    expect(idsOf(got)).toEqual(sorted([d1, d2]));
    expect(find(got, d2)).toEqual({ id: d2, type: 'Meter' });
  });

  test('4.9 q matches any instance of a multi-instance attribute', async () => {
    expect(await queryIds({ type: 'Meter', q: 'temperature==22' }, opts)).toEqual([d1]);
    expect(await queryIds({ type: 'Meter', q: 'temperature==23' }, opts)).toEqual([]);
  });

  test('5.2.23 POST query with datasetId', async () => {
    const res = await postQuery({ type: 'Query', entities: [{ id: d1, type: 'Meter' }], datasetId: [DS2] }, {}, opts);
    expectStatus(res, 200);
    expect(asArray(res.body[0].temperature)).toEqual([prop(22, { datasetId: DS2 })]);
  });
});

// ---------------------------------------------------------------------------------------------------------------------
describe('Query Entities: pick and omit (4.21, 6.4.3.2)', () => {
  const T = tenant();
  const opts = { tenant: T };
  const p1 = uid('Device');
  const p2 = uid('Device');

  beforeAll(async () => {
    await createAll(
      [
        { id: p1, type: 'Device', scope: '/Lab', name: prop('thermo'), temperature: prop(20), humidity: prop(40) },
        { id: p2, type: 'Device', name: prop('hygro'), humidity: prop(55) },
      ],
      opts,
    );
  });

  const find = (list: any[], id: string) => list.find((e) => e.id === id);

  test('4.21 pick=id,temperature keeps only those members', async () => {
    const got = await query({ type: 'Device', pick: 'id,temperature' }, opts);
    expect(find(got, p1)).toEqual({ id: p1, temperature: prop(20) });
  });

  test('4.21 pick does not filter entities: an entity without the attribute keeps the other picked members', async () => {
    const got = await query({ type: 'Device', pick: 'id,temperature' }, opts);
    expect(idsOf(got)).toEqual(sorted([p1, p2]));
    expect(find(got, p2)).toEqual({ id: p2 });
  });

  test('4.21 the pipe is an alternative list separator in pick', async () => {
    expect(find(await query({ type: 'Device', pick: 'id|type|name' }, opts), p1)).toEqual({ id: p1, type: 'Device', name: prop('thermo') });
  });

  test('4.21 omit=type,humidity removes those members', async () => {
    expect(find(await query({ type: 'Device', omit: 'type,humidity' }, opts), p1)).toEqual({
      id: p1,
      scope: '/Lab',
      name: prop('thermo'),
      temperature: prop(20),
    });
  });

  test('4.21 pick with format=simplified', async () => {
    expect(find(await query({ type: 'Device', pick: 'id,temperature', format: 'simplified' }, opts), p1)).toEqual({ id: p1, temperature: 20 });
  });

  test('5.2.23 POST query with pick', async () => {
    const res = await postQuery({ type: 'Query', entities: [{ type: 'Device' }], pick: ['id', 'name'] }, {}, opts);
    expectStatus(res, 200);
    expect(find(res.body, p2)).toEqual({ id: p2, name: prop('hygro') });
  });

  test('5.2.23 POST query with omit', async () => {
    const res = await postQuery({ type: 'Query', entities: [{ type: 'Device' }], omit: ['name', 'humidity', 'scope'] }, {}, opts);
    expectStatus(res, 200);
    expect(find(res.body, p1)).toEqual({ id: p1, type: 'Device', temperature: prop(20) });
  });
});

// ---------------------------------------------------------------------------------------------------------------------
describe('Query Entities: representations, language filter and content negotiation (6.3.7, 6.3.11, 4.15, 6.3.6)', () => {
  const T = tenant();
  const opts = { tenant: T };
  const r1 = uid('Car');
  const r2 = uid('Car');
  const POINT = point(13.3986, 52.5547);
  const POLYGON = { type: 'Polygon', coordinates: [[[13.0, 52.0], [13.5, 52.0], [13.5, 52.5], [13.0, 52.0]]] };
  const car1 = {
    id: r1,
    type: 'Car',
    brandName: prop('Mercedes'),
    speed: prop(80, { unitCode: 'KMH', observedAt: '2024-01-01T00:00:00Z' }),
    owner: rel('urn:ngsi-ld:Person:Alice'),
    location: geo(POINT),
    observationSpace: geo(POLYGON),
    street: { type: 'LanguageProperty', languageMap: { fr: 'Grand Place', nl: 'Grote Markt' } },
  };
  const car2 = { id: r2, type: 'Car', brandName: prop('Fiat') };

  beforeAll(async () => {
    await createAll([car1, car2], opts);
  });

  const find = (list: any[], id: string) => list.find((e) => e.id === id);
  const simplified1 = {
    id: r1,
    type: 'Car',
    brandName: 'Mercedes',
    speed: 80,
    owner: 'urn:ngsi-ld:Person:Alice',
    location: POINT,
    observationSpace: POLYGON,
    street: { languageMap: { fr: 'Grand Place', nl: 'Grote Markt' } },
  };

  test('6.3.7 the default representation is normalized', async () => {
    expect(find(await query({ type: 'Car' }, opts), r1)).toEqual(car1);
  });

  test('6.3.7 format=normalized', async () => {
    expect(find(await query({ type: 'Car', format: 'normalized' }, opts), r1)).toEqual(car1);
  });

  test('4.5.4 format=simplified', async () => {
    const got = await query({ type: 'Car', format: 'simplified' }, opts);
    expect(find(got, r1)).toEqual(simplified1);
    expect(find(got, r2)).toEqual({ id: r2, type: 'Car', brandName: 'Fiat' });
  });

  test('4.5.4 format=keyValues is a synonym of simplified', async () => {
    expect(find(await query({ type: 'Car', format: 'keyValues' }, opts), r1)).toEqual(simplified1);
  });

  test('TP/NGSI-LD/CI/Cons/E/019_04_01 options=keyValues (deprecated) gives the simplified representation', async () => {
    expect(find(await query({ id: `${r1},${r2}`, type: 'Car', options: 'keyValues' }, opts), r1)).toEqual(simplified1);
  });

  test('6.3.7 format=concise (4.5.2.3, 4.5.3.3, 4.7.3)', async () => {
    const got = find(await query({ type: 'Car', format: 'concise' }, opts), r1);
    expect(got).toEqual({
      id: r1,
      type: 'Car',
      brandName: 'Mercedes',
      speed: { value: 80, unitCode: 'KMH', observedAt: '2024-01-01T00:00:00Z' },
      owner: { object: 'urn:ngsi-ld:Person:Alice' },
      location: POINT,
      observationSpace: POLYGON,
      street: { languageMap: { fr: 'Grand Place', nl: 'Grote Markt' } },
    });
  });

  test('6.3.7 POST query honours format=simplified given as URL parameter', async () => {
    const res = await postQuery({ type: 'Query', entities: [{ type: 'Car' }] }, { format: 'simplified' }, opts);
    expectStatus(res, 200);
    expect(find(res.body, r1)).toEqual(simplified1);
  });

  test('6.3.11 options=sysAttrs adds createdAt and modifiedAt to each entity and attribute', async () => {
    const got = find(await query({ type: 'Car', options: 'sysAttrs' }, opts), r1);
    expectDateTime(got.createdAt, 'entity createdAt');
    expectDateTime(got.modifiedAt, 'entity modifiedAt');
    for (const name of ['brandName', 'speed', 'owner', 'location', 'street']) {
      expectDateTime(got[name].createdAt, `${name}.createdAt`);
      expectDateTime(got[name].modifiedAt, `${name}.modifiedAt`);
    }
  });

  test('6.3.11 without sysAttrs there are no createdAt/modifiedAt', async () => {
    const got = find(await query({ type: 'Car' }, opts), r1);
    expect(got.createdAt).toBeUndefined();
    expect(got.brandName.modifiedAt).toBeUndefined();
  });

  test('5.7.2.5 / 4.15 lang=nl turns the LanguageProperty into a Property with "lang"', async () => {
    expect(find(await query({ type: 'Car', lang: 'nl' }, opts), r1).street).toEqual({ type: 'Property', value: 'Grote Markt', lang: 'nl' });
  });

  test('4.15 lang with format=simplified gives the bare string', async () => {
    expect(find(await query({ type: 'Car', lang: 'fr', format: 'simplified' }, opts), r1).street).toBe('Grand Place');
  });

  test('5.2.23 POST query with lang', async () => {
    const res = await postQuery({ type: 'Query', entities: [{ type: 'Car' }], lang: 'fr' }, {}, opts);
    expectStatus(res, 200);
    expect(find(res.body, r1).street).toEqual({ type: 'Property', value: 'Grand Place', lang: 'fr' });
  });

  test('6.3.6 Accept application/json: no @context in the entities, a JSON-LD Link header instead', async () => {
    const res = await queryRes({ type: 'Car' }, { ...opts, accept: 'application/json' });
    expectStatus(res, 200);
    expect(res.mediaType).toBe('application/json');
    for (const e of res.body) expect(e['@context']).toBeUndefined();
    expect(contextLinks(res)).toHaveLength(1);
  });

  test('6.3.6 Accept application/ld+json: every entity of the array carries the @context', async () => {
    const res = await queryRes({ type: 'Car' }, { ...opts, accept: 'application/ld+json' });
    expectStatus(res, 200);
    expect(res.mediaType).toBe('application/ld+json');
    expect(res.body).toHaveLength(2);
    for (const e of res.body) {
      expect(e['@context'], `@context in ${e.id}`).toBeDefined();
      expect(contextUris(e['@context']).length, 'the @context names at least one context URI').toBeGreaterThan(0);
    }
  });

  test('6.3.6 POST query with Accept application/ld+json puts the @context in every entity', async () => {
    const res = await postQuery({ type: 'Query', entities: [{ type: 'Car' }] }, {}, { ...opts, accept: 'application/ld+json' });
    expectStatus(res, 200);
    expect(res.mediaType).toBe('application/ld+json');
    for (const e of res.body) expect(e['@context']).toBeDefined();
  });

  function expectCollection(res: any): any {
    expectStatus(res, 200);
    expect(res.mediaType).toBe('application/geo+json');
    expect(res.body.type, '4.5.16.3 "type": "FeatureCollection"').toBe('FeatureCollection');
    expect(Array.isArray(res.body.features)).toBe(true);
    for (const f of res.body.features) {
      expect(f.type).toBe('Feature');
      expect(f['@context'], '4.5.16.3 no @context in the individual Features').toBeUndefined();
    }
    return res.body;
  }

  test('4.5.16.3 Accept application/geo+json gives a FeatureCollection built on location', async () => {
    const fc = expectCollection(await queryRes({ type: 'Car' }, { ...opts, accept: 'application/geo+json' }));
    expect(fc.features).toHaveLength(2);
    const f1 = fc.features.find((f: any) => f.id === r1);
    expect(f1.geometry).toEqual(POINT);
    expect(f1.properties.type).toBe('Car');
    expect(f1.properties.brandName).toEqual(car1.brandName);
    expect(f1.properties.location).toEqual(car1.location);
    expect(f1.properties.owner).toEqual(car1.owner);
  });

  test('4.5.16.1 an entity without location has "geometry": null in the FeatureCollection', async () => {
    const fc = expectCollection(await queryRes({ type: 'Car' }, { ...opts, accept: 'application/geo+json' }));
    expect(fc.features.find((f: any) => f.id === r2).geometry).toBeNull();
  });

  test('6.3.6 a FeatureCollection without Prefer carries the @context at the top level', async () => {
    const fc = expectCollection(await queryRes({ type: 'Car' }, { ...opts, accept: 'application/geo+json' }));
    expect(fc['@context']).toBeDefined();
  });

  test('6.3.6 a FeatureCollection with Prefer: body=json has no @context; a Link header names it', async () => {
    const res = await queryRes({ type: 'Car' }, { ...opts, accept: 'application/geo+json', headers: { prefer: 'body=json' } });
    const fc = expectCollection(res);
    expect(fc['@context']).toBeUndefined();
    expect(contextLinks(res)).toHaveLength(1);
  });

  test('6.3.15 geometryProperty selects the GeoProperty used as geometry', async () => {
    const fc = expectCollection(await queryRes({ type: 'Car', geometryProperty: 'observationSpace' }, { ...opts, accept: 'application/geo+json' }));
    expect(fc.features.find((f: any) => f.id === r1).geometry).toEqual(POLYGON);
    expect(fc.features.find((f: any) => f.id === r2).geometry).toBeNull();
  });

  test('4.5.17 GeoJSON with format=simplified has key-values in properties', async () => {
    const fc = expectCollection(await queryRes({ type: 'Car', format: 'simplified' }, { ...opts, accept: 'application/geo+json' }));
    const f1 = fc.features.find((f: any) => f.id === r1);
    expect(f1.geometry).toEqual(POINT);
    expect(f1.properties.brandName).toBe('Mercedes');
    expect(f1.properties.owner).toBe('urn:ngsi-ld:Person:Alice');
  });

  test('TP/NGSI-LD/CI/Cons/E/019_05_01 GeoJSON for a query by ids', async () => {
    const fc = expectCollection(await queryRes({ id: r1, type: 'Car' }, { ...opts, accept: 'application/geo+json' }));
    expect(fc.features.map((f: any) => f.id)).toEqual([r1]);
  });

  test('TP/NGSI-LD/CI/Cons/E/019_02_05 POST query with Accept application/geo+json', async () => {
    const res = await postQuery({ type: 'Query', entities: [{ id: r1, type: 'Car' }] }, {}, { ...opts, accept: 'application/geo+json' });
    const fc = expectCollection(res);
    expect(fc.features.map((f: any) => f.id)).toEqual([r1]);
    expect(fc.features[0].geometry).toEqual(POINT);
  });

  test('5.2.30 no match gives a FeatureCollection with an empty features array', async () => {
    const fc = expectCollection(await queryRes({ type: 'NoSuchCar' }, { ...opts, accept: 'application/geo+json' }));
    expect(fc.features).toEqual([]);
  });

  test('4.21 pick applies to GeoJSON Features too', async () => {
    const fc = expectCollection(await queryRes({ id: r1, type: 'Car', pick: 'id,brandName' }, { ...opts, accept: 'application/geo+json' }));
    const f1 = fc.features[0];
    expect(f1.id).toBe(r1);
    expect(f1.properties.brandName).toEqual(car1.brandName);
    expect(f1.properties.speed).toBeUndefined();
  });
});

// ---------------------------------------------------------------------------------------------------------------------
describe('Query Entities: pagination and counting (5.5.9, 6.3.10, 6.3.13)', () => {
  const T = tenant();
  const opts = { tenant: T };
  const N = 45;
  const items: string[] = [];
  const others: string[] = [];

  beforeAll(async () => {
    const list: Array<Record<string, unknown>> = [];
    for (let i = 0; i < N; i++) {
      const id = uid('Item');
      items.push(id);
      list.push({ id, type: 'Item', n: prop(i) });
    }
    for (let i = 0; i < 5; i++) {
      const id = uid('Other');
      others.push(id);
      list.push({ id, type: 'Other', n: prop(i) });
    }
    await createAll(list, opts);
    items.sort();
  });

  test('TP/NGSI-LD/CI/Cons/E/019_06_01 limit=2 returns 2 entities', async () => {
    expect(await query({ type: 'Item', limit: 2 }, opts)).toHaveLength(2);
  });

  test('5.5.9.1 without limit the broker returns a page of its default size with a next link if more remain', async () => {
    const path = ENTITIES + qs({ type: 'Item' });
    const res = await queryRes({ type: 'Item' }, opts);
    expectStatus(res, 200);
    expect(res.body.length).toBeGreaterThan(0);
    expect(res.body.length).toBeLessThanOrEqual(N);
    const { next, prev } = pageLinks(res, absolute(path));
    expect(prev, 'no prev link on the first page').toBeUndefined();
    if (res.body.length < N) expect(next, 'a truncated answer has a next link').toBeDefined();
    else expect(next, 'a complete answer has no next link').toBeUndefined();
  });

  test('TP/NGSI-LD/CI/Cons/E/019_07_01 6.3.13 count=true sets NGSILD-Results-Count to the total number of matches', async () => {
    const res = await queryRes({ type: 'Item', count: 'true', limit: 10 }, opts);
    expectStatus(res, 200);
    expect(res.body).toHaveLength(10);
    expect(resultsCount(res)).toBe(N);
  });

  test('6.3.13 without count there is no NGSILD-Results-Count header', async () => {
    const res = await queryRes({ type: 'Item', limit: 10 }, opts);
    expectStatus(res, 200);
    expect(res.headers.get('ngsild-results-count')).toBeNull();
  });

  test('6.3.13 count=true with a filter counts only the matching entities', async () => {
    const res = await queryRes({ type: 'Item', q: 'n<10', count: 'true' }, opts);
    expectStatus(res, 200);
    expect(resultsCount(res)).toBe(10);
  });

  test('6.3.13 limit=0&count=true gives an empty array and the count', async () => {
    const res = await queryRes({ type: 'Item', limit: 0, count: 'true' }, opts);
    expectStatus(res, 200);
    expect(res.body).toEqual([]);
    expect(resultsCount(res)).toBe(N);
  });

  test('6.3.13 count=true counts all matches regardless of offset', async () => {
    const res = await queryRes({ type: 'Item', limit: 10, offset: 40, count: 'true' }, opts);
    expectStatus(res, 200);
    expect(res.body).toHaveLength(5);
    expect(resultsCount(res)).toBe(N);
  });

  test('6.3.10 a limit over the maximum page size is honoured, or refused with 403 TooManyResults / 400', async () => {
    const res = await queryRes({ type: 'Item', limit: 1001 }, opts);
    if (res.status === 200) {
      expect(res.body.length).toBeGreaterThan(0);
      expect(res.body.length).toBeLessThanOrEqual(N);
    } else if (res.status === 403) {
      expectProblem(res, 403, 'TooManyResults');
    } else {
      expectProblemOneOf(res, 400, ['BadRequestData', 'InvalidRequest']);
    }
  });

  test('5.5.9.2 limit/offset pages cover every entity exactly once', async () => {
    const seen: string[] = [];
    for (let offset = 0; offset < N; offset += 10) {
      const page = await query({ type: 'Item', limit: 10, offset }, opts);
      expect(page).toHaveLength(Math.min(10, N - offset));
      seen.push(...page.map((e) => e.id));
    }
    expect(seen.length).toBe(N);
    expect(sorted(seen)).toEqual(items);
  });

  test('6.3.10 an offset past the end gives 200 with at most one entity', async () => {
    const res = await queryRes({ type: 'Item', limit: 10, offset: 100 }, opts);
    expectStatus(res, 200);
    expect(res.body.length).toBeLessThanOrEqual(1);
  });

  test('6.3.10 the first page has a next link typed application/json and no prev link', async () => {
    const path = ENTITIES + qs({ type: 'Item', limit: 10 });
    const res = await queryRes({ type: 'Item', limit: 10 }, { ...opts, accept: 'application/json' });
    expectStatus(res, 200);
    const { next, prev } = pageLinks(res, absolute(path));
    expect(next, `rel="next" in ${res.headers.get('link')}`).toBeDefined();
    expect(next!.type, '6.3.10 the type of the link is the media type of the request').toBe('application/json');
    expect(prev).toBeUndefined();
  });

  test('6.3.10 the link type follows the requested media type (application/ld+json)', async () => {
    const path = ENTITIES + qs({ type: 'Item', limit: 10 });
    const res = await queryRes({ type: 'Item', limit: 10 }, { ...opts, accept: 'application/ld+json' });
    expectStatus(res, 200);
    expect(pageLinks(res, absolute(path)).next?.type).toBe('application/ld+json');
  });

  test('6.3.10 the link type follows the requested media type (application/geo+json)', async () => {
    const path = ENTITIES + qs({ type: 'Item', limit: 10 });
    const res = await queryRes({ type: 'Item', limit: 10 }, { ...opts, accept: 'application/geo+json' });
    expectStatus(res, 200);
    expect(res.body.type).toBe('FeatureCollection');
    expect(res.body.features).toHaveLength(10);
    expect(pageLinks(res, absolute(path)).next?.type).toBe('application/geo+json');
  });

  test('5.5.9.1 following rel="next" visits every entity exactly once; the last page has no next link', async () => {
    const pages = await walkPages(ENTITIES + qs({ type: 'Item', limit: 10 }), { ...opts, accept: 'application/json' });
    expect(pages.map((p) => p.ids.length)).toEqual([10, 10, 10, 10, 5]);
    const all = pages.flatMap((p) => p.ids);
    expect(all.length, 'no entity repeated').toBe(N);
    expect(sorted(all)).toEqual(items);
    expect(pages[0]!.prev, 'no prev on the first page').toBeUndefined();
    for (const p of pages.slice(1)) expect(p.prev, `prev link on ${p.url}`).toBeDefined();
    for (const p of pages.slice(0, -1)) expect(p.next!.type).toBe('application/json');
    expect(pages.at(-1)!.next, 'no next on the last page').toBeUndefined();
  });

  test('5.5.9.1 rel="prev" leads back to the previous page', async () => {
    const pages = await walkPages(ENTITIES + qs({ type: 'Item', limit: 10 }), opts);
    const third = pages[2]!;
    const back = await getUrl(third.prev!.url, opts);
    expectStatus(back, 200);
    expect(sorted(back.body.map((e: any) => e.id))).toEqual(sorted(pages[1]!.ids));
  });

  test('5.5.9.1 the page links keep every query parameter (filter and representation)', async () => {
    const pages = await walkPages(ENTITIES + qs({ type: 'Item', q: 'n>=5', limit: 10, format: 'simplified' }), opts);
    const all = pages.flatMap((p) => p.res.body as any[]);
    expect(all).toHaveLength(N - 5);
    expect(new Set(all.map((e) => e.id)).size).toBe(N - 5);
    for (const e of all) {
      expect(e.type).toBe('Item');
      expect(typeof e.n, `simplified n in ${JSON.stringify(e)}`).toBe('number');
      expect(e.n).toBeGreaterThanOrEqual(5);
    }
  });

  test('6.3.10 / 6.23 POST query honours limit and count given as URL parameters', async () => {
    const res = await postQuery({ type: 'Query', entities: [{ type: 'Item' }] }, { limit: 10, count: 'true' }, opts);
    expectStatus(res, 200);
    expect(res.body).toHaveLength(10);
    expect(resultsCount(res)).toBe(N);
  });
});

// ---------------------------------------------------------------------------------------------------------------------
describe('Query Entities: orderBy (4.23, 6.4.3.2)', () => {
  const T = tenant();
  const opts = { tenant: T };
  const c1 = uid('Racer');
  const c2 = uid('Racer');
  const c3 = uid('Racer');
  const c4 = uid('Racer');
  const c5 = uid('Racer');
  const bus = uid('Bus');

  beforeAll(async () => {
    await createAll(
      [
        { id: c1, type: 'Racer', name: prop('alpha'), speed: prop(50), location: geo(point(13.3777, 52.5343)) }, // ~2002 m
        { id: c2, type: 'Racer', name: prop('beta'), speed: prop(80), location: geo(point(13.3777, 52.5163)) }, // 0 m
        { id: c3, type: 'Racer', name: prop('alpha'), speed: prop(30), location: geo(point(13.3777, 52.5253)) }, // ~1001 m
        { id: c4, type: 'Racer', name: prop('gamma') },
        { id: c5, type: 'Racer', name: prop('beta'), speed: prop(20), location: geo(point(11.5755, 48.1374)) }, // Munich
        { id: bus, type: 'Bus', name: prop('delta'), speed: prop(10) },
      ],
      opts,
    );
  });

  const order = async (params: Record<string, string | number>): Promise<string[]> =>
    (await query({ type: 'Racer', local: 'true', ...params }, opts)).map((e) => e.id);

  test('5.7.2.4 orderBy without local scope gives 400 BadRequestData', async () => {
    expectProblem(await queryRes({ type: 'Racer', orderBy: 'speed' }, opts), 400, 'BadRequestData');
  });

  test('4.23.3 orderBy=speed sorts ascending; entities without the attribute come last (4.23.2)', async () => {
    expect(await order({ orderBy: 'speed' })).toEqual([c5, c3, c1, c2, c4]);
  });

  test('4.23.3 orderBy=speed;asc is the same as the default direction', async () => {
    expect(await order({ orderBy: 'speed;asc' })).toEqual([c5, c3, c1, c2, c4]);
  });

  test('4.23.3 orderBy=speed;desc sorts descending', async () => {
    expect(await order({ orderBy: 'speed;desc', q: 'speed' })).toEqual([c2, c1, c3, c5]);
  });

  test('4.23.3 example 3: orderBy=name,speed;desc sorts by name, then by speed descending', async () => {
    expect(await order({ orderBy: 'name,speed;desc' })).toEqual([c1, c3, c2, c5, c4]);
  });

  test('4.23.3 orderBy=name;desc,speed', async () => {
    expect(await order({ orderBy: 'name;desc,speed' })).toEqual([c4, c5, c2, c3, c1]);
  });

  test('4.23.1 orderBy=id sorts by entity id', async () => {
    const ids = sorted([c1, c2, c3, c4, c5]);
    expect(await order({ orderBy: 'id' })).toEqual(ids);
    expect(await order({ orderBy: 'id;desc' })).toEqual([...ids].reverse());
  });

  test('4.23.1 orderBy=type sorts by entity type', async () => {
    const got = await query({ type: 'Racer,Bus', local: 'true', orderBy: 'type;desc' }, opts);
    expect(got.map((e) => e.type)).toEqual(['Racer', 'Racer', 'Racer', 'Racer', 'Racer', 'Bus']);
    const asc = await query({ type: 'Racer,Bus', local: 'true', orderBy: 'type' }, opts);
    expect(asc[0].id).toBe(bus);
  });

  test('4.23 orderBy combines with limit and offset', async () => {
    expect(await order({ orderBy: 'speed', limit: 2, offset: 1 })).toEqual([c3, c1]);
  });

  test('4.23 / 5.5.9 following rel="next" keeps the order', async () => {
    const pages = await walkPages(ENTITIES + qs({ type: 'Racer', local: 'true', orderBy: 'speed', limit: 2 }), opts);
    expect(pages.flatMap((p) => p.ids)).toEqual([c5, c3, c1, c2, c4]);
  });

  test('4.23.3 example 8: orderBy=location;dist-asc with orderFrom sorts by distance', async () => {
    const got = await order({ orderBy: 'location;dist-asc', orderFrom: '[13.3777,52.5163]' });
    expect(got.slice(0, 4)).toEqual([c2, c3, c1, c5]);
    expect(got[4], '4.23.2 an entity without the GeoProperty sorts after those having it').toBe(c4);
  });
});
