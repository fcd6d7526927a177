/**
 * Create Entity: POST /ngsi-ld/v1/entities (clauses 5.6.1, 6.4.3.1), request @context resolution (6.3.5),
 * attribute representations (4.5.x, 4.7) and payload validation (5.5.4).
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  API,
  DEFAULT_VOCAB,
  ENTITIES,
  NGSI_NULL,
  createEntity,
  datasetId,
  describeRes,
  expectProblem,
  expectStatus,
  get,
  post,
  retrieve,
  startContextServer,
  uid,
  byDataset,
  type ContextServer,
} from './lib/index.js';

const NS = 'https://conformance.example.org/ns#';
let ctx: ContextServer;

beforeAll(async () => {
  ctx = await startContextServer({
    'building.jsonld': { '@context': { Building: `${NS}Building`, almostFull: `${NS}almostFull`, name: `${NS}name` } },
  });
});
afterAll(async () => {
  await ctx?.close();
});

/** Creates the entity and returns what the broker gives back in normalized form (default context). */
async function roundTrip(entity: Record<string, unknown>): Promise<any> {
  await createEntity(entity);
  return retrieve(entity.id as string);
}

describe('Create Entity (5.6.1, 6.4.3.1): success', () => {
  test('TP/NGSI-LD/CI/Prov/E/001_01_01 minimal entity: 201, Location /ngsi-ld/v1/entities/{id}, no body', async () => {
    const id = uid('Building');
    const res = await post(ENTITIES, { json: { id, type: 'Building' } });
    expectStatus(res, 201);
    const location = res.headers.get('location');
    expect(location, 'Location header (table 6.4.3.1-1)').not.toBeNull();
    expect(decodeURIComponent(location!)).toBe(`${API}/entities/${id}`);
    expect(res.text, '201 Created has no body').toBe('');
    expect(res.headers.get('link'), 'no Link header without a body (6.3.6)').toBeNull();
  });

  test('TP/NGSI-LD/CI/Prov/E/001_01_01 the created entity is retrievable through its Location', async () => {
    const id = uid('Building');
    const res = await createEntity({ id, type: 'Building' });
    const got = await get(res.headers.get('location')!);
    expectStatus(got, 200);
    expect(got.body).toEqual({ id, type: 'Building' });
  });

  test('TP/NGSI-LD/CI/Prov/E/001_01_02 entity with simple Properties round-trips in normalized form', async () => {
    const id = uid('Building');
    const entity = {
      id,
      type: 'Building',
      name: { type: 'Property', value: 'Eiffel Tower' },
      almostFull: { type: 'Property', value: false },
      floors: { type: 'Property', value: 3 },
    };
    expect(await roundTrip(entity)).toEqual(entity);
  });

  test('4.5.1 an entity may have several types', async () => {
    const id = uid('Building');
    const got = await roundTrip({ id, type: ['Building', 'Landmark'] });
    expect([...got.type].sort()).toEqual(['Building', 'Landmark']);
  });

  test('4.4 "@id" and "@type" are accepted for id and type; responses use "id" and "type"', async () => {
    const id = uid('Building');
    await createEntity({ '@id': id, '@type': 'Building' });
    expect(await retrieve(id)).toEqual({ id, type: 'Building' });
  });

  test('TP/NGSI-LD/CI/Prov/E/001_05_01 application/json without Link uses the default @context', async () => {
    const id = uid('Building');
    await createEntity({ id, type: 'Building', almostFull: { type: 'Property', value: true } });
    const got = await retrieve(id);
    expect(got.type).toBe('Building');
    expect(got.almostFull).toEqual({ type: 'Property', value: true });
  });

  test('TP/NGSI-LD/CI/Prov/E/001_04_01 application/json takes the @context from the Link header', async () => {
    const id = uid('Building');
    await createEntity(
      { id, type: 'Building', almostFull: { type: 'Property', value: true } },
      { link: ctx.url('building.jsonld') },
    );
    const withCtx = await retrieve(id, {}, { link: ctx.url('building.jsonld') });
    expect(withCtx.type).toBe('Building');
    expect(withCtx.almostFull).toEqual({ type: 'Property', value: true });
  });

  test('TP/NGSI-LD/CI/Prov/E/001_04_02 terms expanded with the Link @context come back as full IRIs without it (5.5.7)', async () => {
    const id = uid('Building');
    await createEntity(
      { id, type: 'Building', almostFull: { type: 'Property', value: true } },
      { link: ctx.url('building.jsonld') },
    );
    const plain = await retrieve(id);
    expect(plain.type).toBe(`${NS}Building`);
    expect(plain[`${NS}almostFull`]).toEqual({ type: 'Property', value: true });
    expect(plain.almostFull).toBeUndefined();
  });

  test('TP/NGSI-LD/CI/Prov/E/001_07_01 application/ld+json takes the @context from the body', async () => {
    const id = uid('Building');
    await createEntity(
      { id, type: 'Building', almostFull: { type: 'Property', value: 1 }, '@context': ctx.url('building.jsonld') },
      { contentType: 'application/ld+json' },
    );
    const withCtx = await retrieve(id, {}, { link: ctx.url('building.jsonld') });
    expect(withCtx.type).toBe('Building');
    expect(withCtx.almostFull).toEqual({ type: 'Property', value: 1 });
  });

  test('TP/NGSI-LD/CI/Prov/E/001_07_02 terms of an inline body @context come back as full IRIs without it', async () => {
    const id = uid('Building');
    await createEntity(
      {
        '@context': { Building: `${NS}Building`, almostFull: `${NS}almostFull` },
        id,
        type: 'Building',
        almostFull: { type: 'Property', value: 1 },
      },
      { contentType: 'application/ld+json' },
    );
    const plain = await retrieve(id);
    expect(plain.type).toBe(`${NS}Building`);
    expect(plain[`${NS}almostFull`]).toEqual({ type: 'Property', value: 1 });
  });

  test('5.5.7 full IRIs are accepted as attribute names and compact to terms of the default context', async () => {
    const id = uid('Building');
    await createEntity({ id, type: 'Building', [`${DEFAULT_VOCAB}height`]: { type: 'Property', value: 300 } });
    const got = await retrieve(id);
    expect(got.height).toEqual({ type: 'Property', value: 300 });
  });
});

describe('Create Entity (5.6.1): errors', () => {
  test('TP/NGSI-LD/CI/Prov/E/001_03_01 an existing id gives 409 AlreadyExists', async () => {
    const id = uid('Building');
    await createEntity({ id, type: 'Building' });
    expectProblem(await post(ENTITIES, { json: { id, type: 'Building' } }), 409, 'AlreadyExists');
  });

  test('5.6.1.4 AlreadyExists regardless of the type given in the second request', async () => {
    const id = uid('Building');
    await createEntity({ id, type: 'Building' });
    expectProblem(await post(ENTITIES, { json: { id, type: 'Other' } }), 409, 'AlreadyExists');
    expect((await retrieve(id)).type, 'the first entity is left as it was').toBe('Building');
  });

  test('5.2.4 an id that is not a URI gives 400 BadRequestData', async () => {
    expectProblem(await post(ENTITIES, { json: { id: 'thisisaninvaliduri', type: 'Building' } }), 400, 'BadRequestData');
  });

  test('5.2.4 a non-string id gives 400 BadRequestData', async () => {
    expectProblem(await post(ENTITIES, { json: { id: 42, type: 'Building' } }), 400, 'BadRequestData');
  });

  test('5.2.4 a missing type gives 400 BadRequestData', async () => {
    expectProblem(await post(ENTITIES, { json: { id: uid('Building') } }), 400, 'BadRequestData');
  });

  test('5.2.4 a missing id gives 400 BadRequestData', async () => {
    expectProblem(await post(ENTITIES, { json: { type: 'Building' } }), 400, 'BadRequestData');
  });

  test('4.6.2 an empty type name gives 400 BadRequestData', async () => {
    expectProblem(await post(ENTITIES, { json: { id: uid('Building'), type: '' } }), 400, 'BadRequestData');
  });

  test('5.5.4 a JSON array instead of an entity object gives 400 BadRequestData', async () => {
    expectProblem(await post(ENTITIES, { json: [{ id: uid('Building'), type: 'Building' }] }), 400, 'BadRequestData');
  });

  test('TP/NGSI-LD/CI/Prov/E/001_06_01 @context in an application/json body gives 400 BadRequestData (6.3.5)', async () => {
    const res = await post(ENTITIES, { json: { id: uid('Building'), type: 'Building', '@context': ctx.url('building.jsonld') } });
    expectProblem(res, 400, 'BadRequestData');
  });

  test('TP/NGSI-LD/CI/Prov/E/001_08_01 application/ld+json without @context gives 400 BadRequestData (6.3.5)', async () => {
    const res = await post(ENTITIES, { json: { id: uid('Building'), type: 'Building' }, contentType: 'application/ld+json' });
    expectProblem(res, 400, 'BadRequestData');
  });

  test('TP/NGSI-LD/CI/Prov/E/001_09_01 application/ld+json with a Link header gives 400 BadRequestData (6.3.5)', async () => {
    const res = await post(ENTITIES, {
      json: { id: uid('Building'), type: 'Building', '@context': ctx.url('building.jsonld') },
      contentType: 'application/ld+json',
      link: ctx.url('building.jsonld'),
    });
    expectProblem(res, 400, 'BadRequestData');
  });

  test('TP/NGSI-LD/CI/Prov/E/001_02_01 invalid JSON gives 400 InvalidRequest (5.5.4)', async () => {
    const res = await post(ENTITIES, { body: '{"id": "urn:ngsi-ld:Building:x", "type": ', contentType: 'application/ld+json' });
    expectProblem(res, 400, 'InvalidRequest');
  });

  test('TP/NGSI-LD/CI/Prov/E/001_02_02 an empty body gives 400 InvalidRequest (5.5.4)', async () => {
    expectProblem(await post(ENTITIES, { body: '', contentType: 'application/ld+json' }), 400, 'InvalidRequest');
  });

  test('5.5.4 nothing is created by a rejected request', async () => {
    const id = uid('Building');
    await post(ENTITIES, { json: { id, type: 'Building', bad: { type: 'Property', value: null } } });
    expectProblem(await get(`${API}/entities/${id}`), 404, 'ResourceNotFound');
  });
});

describe('Create Entity: attribute types in normalized representation (4.5, 4.7)', () => {
  test('4.5.2.2 Property values: string, integer, float, boolean, object and array', async () => {
    const id = uid('Thing');
    const entity = {
      id,
      type: 'Thing',
      text: { type: 'Property', value: 'hello' },
      count: { type: 'Property', value: 42 },
      ratio: { type: 'Property', value: 0.25 },
      negative: { type: 'Property', value: -7 },
      flag: { type: 'Property', value: true },
      address: { type: 'Property', value: { streetAddress: 'Rue 1', postalCode: '75001' } },
      readings: { type: 'Property', value: [1, 2, 3] },
    };
    expect(await roundTrip(entity)).toEqual(entity);
  });

  test('4.5.3.2 Relationship with a single object', async () => {
    const id = uid('Vehicle');
    const entity = { id, type: 'Vehicle', isParked: { type: 'Relationship', object: 'urn:ngsi-ld:OffStreetParking:Downtown1' } };
    expect(await roundTrip(entity)).toEqual(entity);
  });

  test('4.5.3.2 Relationship whose object is an array of URIs', async () => {
    const id = uid('Vehicle');
    const objects = ['urn:ngsi-ld:Person:Alice', 'urn:ngsi-ld:Person:Bob'];
    const got = await roundTrip({ id, type: 'Vehicle', passengers: { type: 'Relationship', object: objects } });
    expect(got.passengers.type).toBe('Relationship');
    expect([...got.passengers.object].sort()).toEqual(objects);
  });

  test('4.5.3.2 Relationship with objectType', async () => {
    const id = uid('Vehicle');
    const entity = {
      id,
      type: 'Vehicle',
      owner: { type: 'Relationship', object: 'urn:ngsi-ld:Person:Alice', objectType: 'Person' },
    };
    expect(await roundTrip(entity)).toEqual(entity);
  });

  const geometries: Array<[string, unknown]> = [
    ['Point', [2.2945, 48.8584]],
    ['MultiPoint', [[2.2945, 48.8584], [2.3522, 48.8566]]],
    ['LineString', [[2.2945, 48.8584], [2.3522, 48.8566], [2.35, 48.86]]],
    ['MultiLineString', [[[2.0, 48.0], [2.1, 48.1]], [[3.0, 49.0], [3.1, 49.1]]]],
    ['Polygon', [[[2.0, 48.0], [2.1, 48.0], [2.1, 48.1], [2.0, 48.1], [2.0, 48.0]]]],
    [
      'MultiPolygon',
      [
        [[[2.0, 48.0], [2.1, 48.0], [2.1, 48.1], [2.0, 48.1], [2.0, 48.0]]],
        [[[3.0, 49.0], [3.1, 49.0], [3.1, 49.1], [3.0, 49.1], [3.0, 49.0]]],
      ],
    ],
  ];
  test.each(geometries)('TP/NGSI-LD/CI/Prov/E/001_01_04 4.7.1 GeoProperty with a %s geometry round-trips', async (type, coordinates) => {
    const id = uid('Building');
    const entity = { id, type: 'Building', location: { type: 'GeoProperty', value: { type, coordinates } } };
    expect(await roundTrip(entity)).toEqual(entity);
  });

  test('TP/NGSI-LD/CI/Prov/E/001_01_05 GeoProperty under a non-core name', async () => {
    const id = uid('Building');
    const entity = {
      id,
      type: 'Building',
      entrance: { type: 'GeoProperty', value: { type: 'Point', coordinates: [2.29, 48.85] } },
    };
    expect(await roundTrip(entity)).toEqual(entity);
  });

  test('TP/NGSI-LD/CI/Prov/E/001_12 and 001_13 observationSpace and operationSpace GeoProperties', async () => {
    const id = uid('Camera');
    const polygon = { type: 'Polygon', coordinates: [[[2.0, 48.0], [2.1, 48.0], [2.1, 48.1], [2.0, 48.0]]] };
    const entity = {
      id,
      type: 'Camera',
      observationSpace: { type: 'GeoProperty', value: polygon },
      operationSpace: { type: 'GeoProperty', value: polygon },
    };
    expect(await roundTrip(entity)).toEqual(entity);
  });

  test('TP/NGSI-LD/CI/Prov/E/001_10_01 4.5.18.2 LanguageProperty with a languageMap', async () => {
    const id = uid('Building');
    const entity = {
      id,
      type: 'Building',
      street: { type: 'LanguageProperty', languageMap: { fr: 'Grand Place', nl: 'Grote Markt' } },
    };
    expect(await roundTrip(entity)).toEqual(entity);
  });

  test('4.5.18.2 LanguageProperty mapping a tag to several strings', async () => {
    const id = uid('Building');
    const got = await roundTrip({
      id,
      type: 'Building',
      aliases: { type: 'LanguageProperty', languageMap: { en: ['Tower', 'Iron Lady'], fr: 'Dame de fer' } },
    });
    expect(got.aliases.type).toBe('LanguageProperty');
    expect([...got.aliases.languageMap.en].sort()).toEqual(['Iron Lady', 'Tower']);
    expect(got.aliases.languageMap.fr).toBe('Dame de fer');
  });

  test('4.5.20.2 VocabProperty with a single vocab term', async () => {
    const id = uid('Person');
    const entity = { id, type: 'Person', category: { type: 'VocabProperty', vocab: 'commercial' } };
    expect(await roundTrip(entity)).toEqual(entity);
  });

  test('4.5.20.2 VocabProperty with several vocab terms', async () => {
    const id = uid('Person');
    const got = await roundTrip({ id, type: 'Person', roles: { type: 'VocabProperty', vocab: ['driver', 'owner'] } });
    expect(got.roles.type).toBe('VocabProperty');
    expect([...got.roles.vocab].sort()).toEqual(['driver', 'owner']);
  });

  test('4.5.24.2 JsonProperty keeps its raw JSON untouched, including keys that look like JSON-LD terms', async () => {
    const id = uid('Vehicle');
    const json = { id: '85a6cc52-0589-45f9', type: 'ticket', value: 'Overstay 60 minutes', nested: { location: [1, 2] } };
    const entity = { id, type: 'Vehicle', parkingTickets: { type: 'JsonProperty', json } };
    expect(await roundTrip(entity)).toEqual(entity);
  });

  test('4.5.24.2 JsonProperty holding an array of objects', async () => {
    const id = uid('Vehicle');
    const entity = { id, type: 'Vehicle', log: { type: 'JsonProperty', json: [{ a: 1 }, { b: [true, null] }] } };
    expect(await roundTrip(entity)).toEqual(entity);
  });

  test('4.5.21.2 ListProperty keeps the order of its valueList', async () => {
    const id = uid('Vehicle');
    const entity = { id, type: 'Vehicle', tyreTreadDepths: { type: 'ListProperty', valueList: [300, 120, 300, 6] } };
    expect(await roundTrip(entity)).toEqual(entity);
  });

  test('4.5.22.2 ListRelationship keeps the order of its objectList', async () => {
    const id = uid('Vehicle');
    const entity = {
      id,
      type: 'Vehicle',
      route: {
        type: 'ListRelationship',
        objectList: [
          { object: 'urn:ngsi-ld:City:Rotterdam' },
          { object: 'urn:ngsi-ld:City:Antwerp' },
          { object: 'urn:ngsi-ld:City:Amsterdam' },
        ],
      },
    };
    expect(await roundTrip(entity)).toEqual(entity);
  });

  test('TP/NGSI-LD/CI/Prov/E/001_01_03 Property with a sub-Property and a sub-Relationship', async () => {
    const id = uid('Building');
    const entity = {
      id,
      type: 'Building',
      airQualityLevel: {
        type: 'Property',
        value: 'good',
        reliability: { type: 'Property', value: 0.9 },
        providedBy: { type: 'Relationship', object: 'urn:ngsi-ld:Device:sensor1' },
      },
    };
    expect(await roundTrip(entity)).toEqual(entity);
  });

  test('4.5.3.2 Relationship with a sub-Property and a nested sub-sub-Property', async () => {
    const id = uid('Vehicle');
    const entity = {
      id,
      type: 'Vehicle',
      isParked: {
        type: 'Relationship',
        object: 'urn:ngsi-ld:OffStreetParking:Downtown1',
        parkingSpot: { type: 'Property', value: 'A12', level: { type: 'Property', value: -1 } },
      },
    };
    expect(await roundTrip(entity)).toEqual(entity);
  });

  test('4.5.2.2 / 4.8 observedAt and unitCode are kept', async () => {
    const id = uid('Sensor');
    const entity = {
      id,
      type: 'Sensor',
      temperature: { type: 'Property', value: 21.5, unitCode: 'CEL', observedAt: '2024-03-14T01:59:26.535Z' },
      connectedTo: { type: 'Relationship', object: 'urn:ngsi-ld:Gateway:1', observedAt: '2024-03-14T01:59:26.000Z' },
    };
    expect(await roundTrip(entity)).toEqual(entity);
  });

  test('4.5.5 several instances of one Property distinguished by datasetId', async () => {
    const id = uid('Vehicle');
    const ds1 = datasetId('gps');
    const ds2 = datasetId('odometer');
    const got = await roundTrip({
      id,
      type: 'Vehicle',
      speed: [
        { type: 'Property', value: 55 },
        { type: 'Property', value: 54.5, datasetId: ds1 },
        { type: 'Property', value: 56, datasetId: ds2 },
      ],
    });
    expect(Array.isArray(got.speed), 'instances come back as an array (4.5.1)').toBe(true);
    expect(byDataset(got.speed)).toEqual(
      byDataset([
        { type: 'Property', value: 55 },
        { type: 'Property', value: 54.5, datasetId: ds1 },
        { type: 'Property', value: 56, datasetId: ds2 },
      ]),
    );
  });

  test('4.5.5 a single Relationship instance with a datasetId keeps it', async () => {
    const id = uid('Room');
    const ds = datasetId('placement');
    const entity = { id, type: 'Room', contains: { type: 'Relationship', object: 'urn:ngsi-ld:Chair:1', datasetId: ds } };
    expect(await roundTrip(entity)).toEqual(entity);
  });

  test('4.5.5 "datasetId": "@none" denotes the default instance, which is rendered without datasetId', async () => {
    const id = uid('Vehicle');
    const got = await roundTrip({ id, type: 'Vehicle', speed: { type: 'Property', value: 10, datasetId: '@none' } });
    expect(got.speed).toEqual({ type: 'Property', value: 10 });
  });
});

describe('Create Entity: invalid attributes give 400 BadRequestData (5.5.4)', () => {
  const invalid: Array<[string, Record<string, unknown>]> = [
    ['4.7.1 GeometryCollection is not an allowed geometry', {
      location: {
        type: 'GeoProperty',
        value: { type: 'GeometryCollection', geometries: [{ type: 'Point', coordinates: [1, 2] }] },
      },
    }],
    ['4.7.1 Point coordinates that are not numbers', { location: { type: 'GeoProperty', value: { type: 'Point', coordinates: 'abc' } } }],
    ['4.7.1 Point with a single coordinate', { location: { type: 'GeoProperty', value: { type: 'Point', coordinates: [10] } } }],
    ['4.7.1 LineString with a single position', { location: { type: 'GeoProperty', value: { type: 'LineString', coordinates: [[1, 2]] } } }],
    ['4.7.1 Polygon whose ring is not closed', {
      location: { type: 'GeoProperty', value: { type: 'Polygon', coordinates: [[[0, 0], [1, 0], [1, 1], [0, 1]]] } },
    }],
    ['4.7.1 unknown geometry type', { location: { type: 'GeoProperty', value: { type: 'Circle', coordinates: [1, 2] } } }],
    ['4.7.1 GeoProperty value that is not a geometry', { location: { type: 'GeoProperty', value: 'here' } }],
    ['4.5.2.2 Property whose value is null', { temperature: { type: 'Property', value: null } }],
    ['4.5.2.2 attribute that is null', { temperature: null }],
    ['4.5.2.2 Property without value', { temperature: { type: 'Property', unitCode: 'CEL' } }],
    ['5.5.4 NGSI-LD Null as a Property value', { temperature: { type: 'Property', value: NGSI_NULL } }],
    ['5.5.4 NGSI-LD Null as a first-level member', { temperature: NGSI_NULL }],
    ['5.5.4 NGSI-LD Null as a Relationship object', { owner: { type: 'Relationship', object: NGSI_NULL } }],
    ['4.5.3.2 Relationship without object', { owner: { type: 'Relationship' } }],
    ['4.5.3.2 Relationship whose object is not a URI', { owner: { type: 'Relationship', object: 'not a uri' } }],
    ['4.5.3.2 Relationship whose object is a number', { owner: { type: 'Relationship', object: 7 } }],
    ['4.5.1 unknown attribute type', { temperature: { type: 'Temperature', value: 20 } }],
    ['4.5.5 datasetId that is not a URI', { temperature: { type: 'Property', value: 20, datasetId: 'not a uri' } }],
    ['4.5.5 two default instances of one attribute', { temperature: [{ type: 'Property', value: 20 }, { type: 'Property', value: 21 }] }],
    ['4.8 observedAt that is not a DateTime', { temperature: { type: 'Property', value: 20, observedAt: 'yesterday' } }],
    ['4.5.18.2 LanguageProperty whose languageMap is not an object', { street: { type: 'LanguageProperty', languageMap: 'Grand Place' } }],
    ['4.5.21.2 ListProperty whose valueList is not an array', { depths: { type: 'ListProperty', valueList: 5 } }],
    ['4.5.22.2 ListRelationship whose objectList holds a non-URI', { route: { type: 'ListRelationship', objectList: [{ object: 'nope' }] } }],
  ];
  test.each(invalid)('%s', async (_title, attrs) => {
    const res = await post(ENTITIES, { json: { id: uid('Thing'), type: 'Thing', ...attrs } });
    expectProblem(res, 400, 'BadRequestData');
  });
});

describe('Create Entity: concise input (4.5.2.3, 4.5.3.3, 4.7.3)', () => {
  test('4.5.2.3 a bare value is a Property', async () => {
    const id = uid('Sensor');
    const got = await roundTrip({ id, type: 'Sensor', temperature: 21, name: 'probe', on: true });
    expect(got.temperature).toEqual({ type: 'Property', value: 21 });
    expect(got.name).toEqual({ type: 'Property', value: 'probe' });
    expect(got.on).toEqual({ type: 'Property', value: true });
  });

  test('4.5.2.3 a JSON object without NGSI-LD members is a Property value', async () => {
    const id = uid('Building');
    const got = await roundTrip({ id, type: 'Building', address: { streetAddress: 'Rue 1', addressLocality: 'Paris' } });
    expect(got.address).toEqual({ type: 'Property', value: { streetAddress: 'Rue 1', addressLocality: 'Paris' } });
  });

  test('4.5.2.3 "value" without type is a Property, with its sub-attributes', async () => {
    const id = uid('Sensor');
    const got = await roundTrip({
      id,
      type: 'Sensor',
      temperature: { value: 21, unitCode: 'CEL', observedAt: '2024-01-01T00:00:00Z', accuracy: 0.5 },
    });
    expect(got.temperature).toEqual({
      type: 'Property',
      value: 21,
      unitCode: 'CEL',
      observedAt: '2024-01-01T00:00:00Z',
      accuracy: { type: 'Property', value: 0.5 },
    });
  });

  test('4.5.3.3 "object" without type is a Relationship', async () => {
    const id = uid('Vehicle');
    const got = await roundTrip({ id, type: 'Vehicle', isParked: { object: 'urn:ngsi-ld:OffStreetParking:Downtown1' } });
    expect(got.isParked).toEqual({ type: 'Relationship', object: 'urn:ngsi-ld:OffStreetParking:Downtown1' });
  });

  test('4.7.3 a bare GeoJSON geometry is a GeoProperty', async () => {
    const id = uid('Building');
    const got = await roundTrip({ id, type: 'Building', location: { type: 'Point', coordinates: [2.2945, 48.8584] } });
    expect(got.location).toEqual({ type: 'GeoProperty', value: { type: 'Point', coordinates: [2.2945, 48.8584] } });
  });

  test('4.7.3 "value" holding a geometry infers GeoProperty', async () => {
    const id = uid('Building');
    const got = await roundTrip({
      id,
      type: 'Building',
      location: { value: { type: 'Point', coordinates: [2.2945, 48.8584] }, observedAt: '2024-01-01T00:00:00Z' },
    });
    expect(got.location).toEqual({
      type: 'GeoProperty',
      value: { type: 'Point', coordinates: [2.2945, 48.8584] },
      observedAt: '2024-01-01T00:00:00Z',
    });
  });

  test('4.5.18.3 "languageMap" without type is a LanguageProperty', async () => {
    const id = uid('Building');
    const got = await roundTrip({ id, type: 'Building', street: { languageMap: { fr: 'Grand Place', nl: 'Grote Markt' } } });
    expect(got.street).toEqual({ type: 'LanguageProperty', languageMap: { fr: 'Grand Place', nl: 'Grote Markt' } });
  });

  test('4.5.20.3 "vocab" without type is a VocabProperty', async () => {
    const id = uid('Person');
    const got = await roundTrip({ id, type: 'Person', category: { vocab: 'commercial' } });
    expect(got.category).toEqual({ type: 'VocabProperty', vocab: 'commercial' });
  });

  test('4.5.24.3 "json" without type is a JsonProperty', async () => {
    const id = uid('Vehicle');
    const got = await roundTrip({ id, type: 'Vehicle', ticket: { json: { id: 'T-1', value: 'x' } } });
    expect(got.ticket).toEqual({ type: 'JsonProperty', json: { id: 'T-1', value: 'x' } });
  });

  test('4.5.21.3 "valueList" without type is a ListProperty', async () => {
    const id = uid('Vehicle');
    const got = await roundTrip({ id, type: 'Vehicle', depths: { valueList: [3, 1, 2] } });
    expect(got.depths).toEqual({ type: 'ListProperty', valueList: [3, 1, 2] });
  });

  test('4.5.22.3 "objectList" of plain URIs without type is a ListRelationship', async () => {
    const id = uid('Vehicle');
    const got = await roundTrip({ id, type: 'Vehicle', route: { objectList: ['urn:ngsi-ld:City:B', 'urn:ngsi-ld:City:A'] } });
    expect(got.route).toEqual({
      type: 'ListRelationship',
      objectList: [{ object: 'urn:ngsi-ld:City:B' }, { object: 'urn:ngsi-ld:City:A' }],
    });
  });

  test('4.5.3.3 concise Relationship with a concise sub-Property', async () => {
    const id = uid('Vehicle');
    const got = await roundTrip({ id, type: 'Vehicle', isParked: { object: 'urn:ngsi-ld:Parking:1', spot: 'A12' } });
    expect(got.isParked).toEqual({
      type: 'Relationship',
      object: 'urn:ngsi-ld:Parking:1',
      spot: { type: 'Property', value: 'A12' },
    });
  });

  test('4.5.2.3 concise and normalized attributes can be mixed in one entity', async () => {
    const id = uid('Sensor');
    const res = await post(ENTITIES, {
      json: { id, type: 'Sensor', a: 1, b: { type: 'Property', value: 2 }, c: { object: 'urn:ngsi-ld:X:1' } },
    });
    expect(res.status, describeRes(res)).toBe(201);
    const got = await retrieve(id);
    expect(got.a).toEqual({ type: 'Property', value: 1 });
    expect(got.b).toEqual({ type: 'Property', value: 2 });
    expect(got.c).toEqual({ type: 'Relationship', object: 'urn:ngsi-ld:X:1' });
  });
});

describe('Create Entity: Link header forms (6.3.5)', () => {
  test('6.3.5 the Link header is honoured with its type parameter before rel', async () => {
    const id = uid('Building');
    const res = await post(ENTITIES, {
      json: { id, type: 'Building', almostFull: { type: 'Property', value: 1 } },
      headers: { link: `<${ctx.url('building.jsonld')}>; type="application/ld+json"; rel="http://www.w3.org/ns/json-ld#context"` },
    });
    expectStatus(res, 201);
    const plain = await retrieve(id);
    expect(plain[`${NS}almostFull`]).toEqual({ type: 'Property', value: 1 });
  });

  test('6.3.5 a Link header with another rel is not a @context', async () => {
    const id = uid('Building');
    const res = await post(ENTITIES, {
      json: { id, type: 'Building', almostFull: { type: 'Property', value: 1 } },
      headers: { link: `<${ctx.url('building.jsonld')}>; rel="alternate"` },
    });
    expectStatus(res, 201);
    const plain = await retrieve(id);
    expect(plain.almostFull).toEqual({ type: 'Property', value: 1 });
  });
});
