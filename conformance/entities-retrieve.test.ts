/**
 * Retrieve Entity: GET /ngsi-ld/v1/entities/{entityId} (clauses 5.7.1, 6.5.3.1): representations (4.5, 6.3.7),
 * system attributes (6.3.11), projection (attrs), Language Filter (4.15), content negotiation (6.3.4, 6.3.6),
 * GeoJSON (4.5.16, 6.3.15) and term compaction with the request @context (5.5.7, 6.3.5).
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  ENTITIES,
  DEFAULT_VOCAB,
  asArray,
  byDataset,
  contextLinks,
  contextUris,
  createEntity,
  datasetId,
  describeRes,
  entityPath,
  expectDateTime,
  expectProblem,
  expectStatus,
  get,
  post,
  rawRequest,
  retrieve,
  retrieveRes,
  startContextServer,
  uid,
  type ContextServer,
} from './lib/index.js';

const NS_A = 'https://conformance.example.org/A#';
const NS_B = 'https://conformance.example.org/B#';
let ctx: ContextServer;

const richId = uid('Vehicle');
const POINT = { type: 'Point', coordinates: [13.3986, 52.5547] };
const POLYGON = { type: 'Polygon', coordinates: [[[13.0, 52.0], [13.5, 52.0], [13.5, 52.5], [13.0, 52.0]]] };
const rich = {
  id: richId,
  type: 'Vehicle',
  brandName: { type: 'Property', value: 'Mercedes' },
  speed: { type: 'Property', value: 80, unitCode: 'KMH', observedAt: '2024-01-01T00:00:00Z' },
  isParked: {
    type: 'Relationship',
    object: 'urn:ngsi-ld:OffStreetParking:Downtown1',
    providedBy: { type: 'Relationship', object: 'urn:ngsi-ld:Person:Bob' },
  },
  owner: { type: 'Relationship', object: 'urn:ngsi-ld:Person:Alice' },
  location: { type: 'GeoProperty', value: POINT },
  observationSpace: { type: 'GeoProperty', value: POLYGON },
  street: { type: 'LanguageProperty', languageMap: { fr: 'Grand Place', nl: 'Grote Markt' } },
  category: { type: 'VocabProperty', vocab: 'commercial' },
  config: { type: 'JsonProperty', json: { a: 1, b: [true] } },
  depths: { type: 'ListProperty', valueList: [300, 120, 6] },
  route: {
    type: 'ListRelationship',
    objectList: [{ object: 'urn:ngsi-ld:City:Antwerp' }, { object: 'urn:ngsi-ld:City:Rotterdam' }],
  },
};

beforeAll(async () => {
  ctx = await startContextServer({
    'a.jsonld': {
      '@context': {
        Sensor: `${NS_A}Sensor`,
        temperature: `${NS_A}temperature`,
        owner: { '@id': `${NS_A}owner`, '@type': '@id' },
      },
    },
    'b.jsonld': { '@context': { Sensor: `${NS_B}Sensor`, temperature: `${NS_B}temperature` } },
  });
  await createEntity(rich);
});
afterAll(async () => {
  await ctx?.close();
});

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

describe('Retrieve Entity (5.7.1, 6.5.3.1): basics', () => {
  test('TP/NGSI-LD/CI/Cons/E/018_01_01 returns 200 and the entity in normalized form by default', async () => {
    const res = await retrieveRes(richId);
    expectStatus(res, 200);
    expect(res.body).toEqual(rich);
  });

  test('6.3.7 format=normalized gives the normalized representation', async () => {
    expect(await retrieve(richId, { format: 'normalized' })).toEqual(rich);
  });

  test('6.3.7 options=normalized (deprecated) gives the normalized representation', async () => {
    expect(await retrieve(richId, { options: 'normalized' })).toEqual(rich);
  });

  test('TP/NGSI-LD/CI/Cons/E/018_03_01 an unknown id gives 404 ResourceNotFound', async () => {
    expectProblem(await retrieveRes(uid('Vehicle'), {}, { accept: 'application/ld+json' }), 404, 'ResourceNotFound');
  });

  test('TP/NGSI-LD/CI/Cons/E/018_02_01 an id that is not a URI gives 400 BadRequestData', async () => {
    expectProblem(await get(`${ENTITIES}/thisisaninvaliduri`, { accept: 'application/ld+json' }), 400, 'BadRequestData');
  });

  test('6.5.3.1 / 4.17 type selector matching the entity type returns it', async () => {
    expect((await retrieve(richId, { type: 'Vehicle' })).id).toBe(richId);
  });

  test('6.5.3.1 / 4.17 type selector not matching the entity type gives 404 ResourceNotFound', async () => {
    expectProblem(await retrieveRes(richId, { type: 'Building' }), 404, 'ResourceNotFound');
  });

  test('6.3.20 an unsupported options value should give 400 InvalidRequest', async () => {
    expectProblem(await retrieveRes(richId, { options: 'noSuchOption' }), 400, 'InvalidRequest');
  });
});

describe('Retrieve Entity: concise and simplified representations (4.5, 6.3.7)', () => {
  const listPropertyForms = (v: unknown): boolean => same(v, { valueList: [300, 120, 6] }) || same(v, [300, 120, 6]);
  const urisOf = ['urn:ngsi-ld:City:Antwerp', 'urn:ngsi-ld:City:Rotterdam'];
  const listRelationshipForms = (v: unknown): boolean =>
    same(v, { objectList: urisOf.map((object) => ({ object })) }) || same(v, { objectList: urisOf }) || same(v, urisOf);

  function expectConcise(got: any): void {
    expect(got.id).toBe(richId);
    expect(got.type).toBe('Vehicle');
    expect(got.brandName, '4.5.2.3 Property without sub-attributes is its bare value').toBe('Mercedes');
    expect(got.speed, '4.5.2.3 Property with sub-attributes keeps "value" and drops "type"').toEqual({
      value: 80,
      unitCode: 'KMH',
      observedAt: '2024-01-01T00:00:00Z',
    });
    expect(got.isParked, '4.5.3.3 Relationship keeps "object", drops "type", nested too').toEqual({
      object: 'urn:ngsi-ld:OffStreetParking:Downtown1',
      providedBy: { object: 'urn:ngsi-ld:Person:Bob' },
    });
    expect(got.owner).toEqual({ object: 'urn:ngsi-ld:Person:Alice' });
    expect(got.location, '4.7.3 GeoProperty without sub-attributes is the bare geometry').toEqual(POINT);
    expect(got.street, '4.5.18.3').toEqual({ languageMap: { fr: 'Grand Place', nl: 'Grote Markt' } });
    expect(got.category, '4.5.20.3').toEqual({ vocab: 'commercial' });
    expect(got.config, '4.5.24.3').toEqual({ json: { a: 1, b: [true] } });
    expect(listPropertyForms(got.depths), `4.5.21.3 ListProperty: ${JSON.stringify(got.depths)}`).toBe(true);
    expect(listRelationshipForms(got.route), `4.5.22.3 ListRelationship: ${JSON.stringify(got.route)}`).toBe(true);
  }

  test('6.3.7 format=concise gives the concise representation (4.5.2.3, 4.5.3.3, 4.7.3)', async () => {
    expectConcise(await retrieve(richId, { format: 'concise' }));
  });

  test('6.3.7 options=concise (deprecated) gives the concise representation', async () => {
    expectConcise(await retrieve(richId, { options: 'concise' }));
  });

  const simplified = {
    id: richId,
    type: 'Vehicle',
    brandName: 'Mercedes',
    speed: 80,
    isParked: 'urn:ngsi-ld:OffStreetParking:Downtown1',
    owner: 'urn:ngsi-ld:Person:Alice',
    location: POINT,
    observationSpace: POLYGON,
    street: { languageMap: { fr: 'Grand Place', nl: 'Grote Markt' } },
    category: { vocab: 'commercial' },
    config: { json: { a: 1, b: [true] } },
    depths: [300, 120, 6],
    route: ['urn:ngsi-ld:City:Antwerp', 'urn:ngsi-ld:City:Rotterdam'],
  };

  test('4.5.4 format=simplified gives the simplified representation', async () => {
    expect(await retrieve(richId, { format: 'simplified' })).toEqual(simplified);
  });

  test('4.5.4 format=keyValues is a synonym of simplified', async () => {
    expect(await retrieve(richId, { format: 'keyValues' })).toEqual(simplified);
  });

  test('TP/NGSI-LD/CI/Cons/E/018_04_01 options=keyValues (deprecated) gives the simplified representation', async () => {
    expect(await retrieve(richId, { options: 'keyValues' }, { accept: 'application/ld+json' })).toMatchObject(simplified);
  });

  test('6.3.7 options=simplified (deprecated) gives the simplified representation', async () => {
    expect(await retrieve(richId, { options: 'simplified' })).toEqual(simplified);
  });

  test('4.5.4 simplified multi-attribute uses {"dataset": {"@none": …, <datasetId>: …}}', async () => {
    const id = uid('Vehicle');
    const ds = datasetId('gps');
    await createEntity({
      id,
      type: 'Vehicle',
      speed: [{ type: 'Property', value: 55 }, { type: 'Property', value: 54, datasetId: ds }],
    });
    const got = await retrieve(id, { format: 'simplified' });
    expect(got.speed).toEqual({ dataset: { '@none': 55, [ds]: 54 } });
  });

  test('4.5.4 simplified multi-attribute Relationship uses the dataset form too', async () => {
    const id = uid('Room');
    const ds = datasetId('b');
    await createEntity({
      id,
      type: 'Room',
      contains: [
        { type: 'Relationship', object: 'urn:ngsi-ld:Chair:1' },
        { type: 'Relationship', object: 'urn:ngsi-ld:Chair:2', datasetId: ds },
      ],
    });
    const got = await retrieve(id, { format: 'simplified' });
    expect(got.contains).toEqual({ dataset: { '@none': 'urn:ngsi-ld:Chair:1', [ds]: 'urn:ngsi-ld:Chair:2' } });
  });
});

describe('Retrieve Entity: system attributes (6.3.11, 4.8)', () => {
  test('options=sysAttrs adds createdAt and modifiedAt to the entity and to every attribute', async () => {
    const got = await retrieve(richId, { options: 'sysAttrs' });
    expectDateTime(got.createdAt, 'entity createdAt');
    expectDateTime(got.modifiedAt, 'entity modifiedAt');
    expect(got.modifiedAt >= got.createdAt).toBe(true);
    for (const name of Object.keys(rich).filter((k) => k !== 'id' && k !== 'type')) {
      expectDateTime(got[name].createdAt, `${name}.createdAt`);
      expectDateTime(got[name].modifiedAt, `${name}.modifiedAt`);
    }
  });

  test('without sysAttrs no createdAt/modifiedAt is returned', async () => {
    const got = await retrieve(richId);
    expect(got.createdAt).toBeUndefined();
    expect(got.modifiedAt).toBeUndefined();
    expect(got.brandName.createdAt).toBeUndefined();
    expect(got.brandName.modifiedAt).toBeUndefined();
  });

  test('sysAttrs in concise form keeps the timestamps next to "value" (4.5.2.3)', async () => {
    const got = await retrieve(richId, { format: 'concise', options: 'sysAttrs' });
    expect(got.brandName.value).toBe('Mercedes');
    expect(got.brandName.type).toBeUndefined();
    expectDateTime(got.brandName.createdAt, 'brandName.createdAt');
    expectDateTime(got.createdAt, 'entity createdAt');
  });

  test('createdAt and modifiedAt are the same instant right after creation, and close to now', async () => {
    const before = Date.now();
    const id = uid('Thing');
    await createEntity({ id, type: 'Thing', p: { type: 'Property', value: 1 } });
    const got = await retrieve(id, { options: 'sysAttrs' });
    expect(Math.abs(Date.parse(got.createdAt) - before)).toBeLessThan(60_000);
    expect(Date.parse(got.p.modifiedAt)).toBeGreaterThanOrEqual(Date.parse(got.p.createdAt));
  });
});

describe('Retrieve Entity: attrs projection (6.5.3.1)', () => {
  test('TP/NGSI-LD/CI/Cons/E/018_01_02 attrs=<one> returns id, type and that attribute only', async () => {
    expect(await retrieve(richId, { attrs: 'brandName' })).toEqual({ id: richId, type: 'Vehicle', brandName: rich.brandName });
  });

  test('attrs=<a>,<b> returns both attributes', async () => {
    expect(await retrieve(richId, { attrs: 'brandName,speed' })).toEqual({
      id: richId,
      type: 'Vehicle',
      brandName: rich.brandName,
      speed: rich.speed,
    });
  });

  test('attrs naming an existing and an absent attribute returns the existing one', async () => {
    expect(await retrieve(richId, { attrs: 'brandName,doesNotExist' })).toEqual({
      id: richId,
      type: 'Vehicle',
      brandName: rich.brandName,
    });
  });

  test('TP/NGSI-LD/CI/Cons/E/018_03_02 attrs naming only absent attributes gives 404 ResourceNotFound', async () => {
    expectProblem(await retrieveRes(richId, { attrs: 'doesNotExist' }, { accept: 'application/ld+json' }), 404, 'ResourceNotFound');
  });

  test('attrs combines with format=simplified', async () => {
    expect(await retrieve(richId, { attrs: 'speed,owner', format: 'simplified' })).toEqual({
      id: richId,
      type: 'Vehicle',
      speed: 80,
      owner: 'urn:ngsi-ld:Person:Alice',
    });
  });
});

describe('Retrieve Entity: datasetId selection (4.5.5, 5.7.1.4)', () => {
  const id = uid('Vehicle');
  const ds1 = datasetId('gps');
  const ds2 = datasetId('odo');
  beforeAll(async () => {
    await createEntity({
      id,
      type: 'Vehicle',
      speed: [
        { type: 'Property', value: 50 },
        { type: 'Property', value: 51, datasetId: ds1 },
        { type: 'Property', value: 52, datasetId: ds2 },
      ],
      name: { type: 'Property', value: 'car' },
    });
  });

  test('all instances are returned as an array when no datasetId is asked for', async () => {
    const got = await retrieve(id);
    expect(byDataset(got.speed)).toEqual(
      byDataset([
        { type: 'Property', value: 50 },
        { type: 'Property', value: 51, datasetId: ds1 },
        { type: 'Property', value: 52, datasetId: ds2 },
      ]),
    );
  });

  test('datasetId=<uri> keeps only that instance', async () => {
    const got = await retrieve(id, { datasetId: ds1 });
    expect(asArray(got.speed)).toEqual([{ type: 'Property', value: 51, datasetId: ds1 }]);
  });

  test('datasetId=@none keeps only the default instance', async () => {
    const got = await retrieve(id, { datasetId: '@none' });
    expect(asArray(got.speed)).toEqual([{ type: 'Property', value: 50 }]);
    expect(asArray(got.name)).toEqual([{ type: 'Property', value: 'car' }]);
  });

  test('datasetId=<a>,<b> keeps both instances', async () => {
    const got = await retrieve(id, { datasetId: `${ds1},${ds2}` });
    expect(byDataset(asArray(got.speed))).toEqual(
      byDataset([
        { type: 'Property', value: 51, datasetId: ds1 },
        { type: 'Property', value: 52, datasetId: ds2 },
      ]),
    );
  });

  test('attributes without a matching instance are left out', async () => {
    const got = await retrieve(id, { datasetId: ds2 });
    expect(got.name).toBeUndefined();
    expect(asArray(got.speed)).toHaveLength(1);
  });
});

describe('Retrieve Entity: Language Filter (4.15, 4.5.18)', () => {
  const id = uid('Building');
  beforeAll(async () => {
    await createEntity({
      id,
      type: 'Building',
      street: { type: 'LanguageProperty', languageMap: { fr: 'Grand Place', nl: 'Grote Markt' } },
      brandName: { type: 'Property', value: 'Mercedes' },
    });
  });

  test('TP/NGSI-LD/CI/Cons/E/018_07_01 lang=fr turns the LanguageProperty into a Property with a "lang" member', async () => {
    const got = await retrieve(id, { lang: 'fr' });
    expect(got.street).toEqual({ type: 'Property', value: 'Grand Place', lang: 'fr' });
    expect(got.brandName, 'other attributes are untouched').toEqual({ type: 'Property', value: 'Mercedes' });
  });

  test('TP/NGSI-LD/CI/Cons/E/018_07_02 lang=fr-CH,fr picks fr', async () => {
    expect((await retrieve(id, { lang: 'fr-CH,fr' })).street).toEqual({ type: 'Property', value: 'Grand Place', lang: 'fr' });
  });

  test('TP/NGSI-LD/CI/Cons/E/018_07_04 quality values rank the languages', async () => {
    const got = await retrieve(id, { lang: 'fr-CH,fr;q=0.9,en;q=0.8,*;q=0.5' });
    expect(got.street).toEqual({ type: 'Property', value: 'Grand Place', lang: 'fr' });
  });

  test('4.15 quality values prefer the higher-ranked available language', async () => {
    const got = await retrieve(id, { lang: 'fr;q=0.4,nl;q=0.9' });
    expect(got.street).toEqual({ type: 'Property', value: 'Grote Markt', lang: 'nl' });
  });

  test('TP/NGSI-LD/CI/Cons/E/018_07_03 lang=* returns one of the available languages', async () => {
    const got = await retrieve(id, { lang: '*' });
    expect(got.street.type).toBe('Property');
    expect(['fr', 'nl']).toContain(got.street.lang);
    expect(got.street.value).toBe(got.street.lang === 'fr' ? 'Grand Place' : 'Grote Markt');
  });

  test('4.15 an unavailable language falls back to a supported one', async () => {
    const got = await retrieve(id, { lang: 'de' });
    expect(['fr', 'nl']).toContain(got.street.lang);
    expect(got.street.value).toBe(got.street.lang === 'fr' ? 'Grand Place' : 'Grote Markt');
  });

  test('C.2.2 lang with format=concise gives {"value", "lang"}', async () => {
    expect((await retrieve(id, { lang: 'nl', format: 'concise' })).street).toEqual({ value: 'Grote Markt', lang: 'nl' });
  });

  test('TP/NGSI-LD/CI/Cons/E/018_07_05 lang with simplified gives the bare string', async () => {
    expect((await retrieve(id, { lang: 'fr', options: 'keyValues' })).street).toBe('Grand Place');
  });

  test('without lang the languageMap is returned whole', async () => {
    expect((await retrieve(id)).street).toEqual({ type: 'LanguageProperty', languageMap: { fr: 'Grand Place', nl: 'Grote Markt' } });
  });
});

describe('Retrieve Entity: content negotiation (6.3.4, 6.3.6)', () => {
  test('6.3.6 Accept application/json: JSON body without @context, @context in a Link header', async () => {
    const res = await retrieveRes(richId, {}, { accept: 'application/json' });
    expectStatus(res, 200);
    expect(res.mediaType).toBe('application/json');
    expect(res.body['@context']).toBeUndefined();
    const links = contextLinks(res);
    expect(links, `Link header: ${res.headers.get('link')}`).toHaveLength(1);
    expect(links[0]).toMatch(/^https?:\/\//);
  });

  test('6.3.6 Accept application/ld+json: @context in the body', async () => {
    const res = await retrieveRes(richId, {}, { accept: 'application/ld+json' });
    expectStatus(res, 200);
    expect(res.mediaType).toBe('application/ld+json');
    expect(res.body['@context'], 'ld+json responses carry their @context').toBeDefined();
    const { ['@context']: _ignored, ...rest } = res.body;
    expect(rest).toEqual(rich);
  });

  test('TP/NGSI-LD/CI/Cons/E/018_06_02 6.3.6 Link @context on GET: the Link response header names it', async () => {
    const res = await retrieveRes(richId, {}, { accept: 'application/json', link: ctx.url('a.jsonld') });
    expectStatus(res, 200);
    expect(contextLinks(res)).toContain(ctx.url('a.jsonld'));
  });

  test('6.3.6 Link @context on GET with Accept ld+json: the body @context includes it', async () => {
    const res = await retrieveRes(richId, {}, { accept: 'application/ld+json', link: ctx.url('a.jsonld') });
    expectStatus(res, 200);
    expect(contextUris(res.body['@context'])).toContain(ctx.url('a.jsonld'));
  });

  test('TP/NGSI-LD/CB/HTTP/045_01_01 6.3.4 no Accept header: application/json is assumed', async () => {
    const res = await rawRequest({ method: 'GET', path: entityPath(richId) });
    expect(res.status, describeRes(res)).toBe(200);
    expect(res.mediaType).toBe('application/json');
    expect(res.body.id).toBe(richId);
    expect(res.body['@context']).toBeUndefined();
    expect(res.headers.link, 'Link header on an application/json response').toBeDefined();
  });

  test('TP/NGSI-LD/CB/HTTP/045_01_01 Accept */* gives application/json with a Link header', async () => {
    const res = await retrieveRes(richId, {}, { accept: '*/*' });
    expectStatus(res, 200);
    expect(res.mediaType).toBe('application/json');
    expect(contextLinks(res)).toHaveLength(1);
  });

  test('6.3.4 Accept application/* gives application/json (first of the list)', async () => {
    const res = await retrieveRes(richId, {}, { accept: 'application/*' });
    expectStatus(res, 200);
    expect(res.mediaType).toBe('application/json');
  });

  test('6.3.4 q-values: application/ld+json preferred over application/json', async () => {
    const res = await retrieveRes(richId, {}, { accept: 'application/json;q=0.5, application/ld+json' });
    expectStatus(res, 200);
    expect(res.mediaType).toBe('application/ld+json');
    expect(res.body['@context']).toBeDefined();
  });

  test('6.3.4 q-values: application/json preferred over application/ld+json', async () => {
    const res = await retrieveRes(richId, {}, { accept: 'application/ld+json;q=0.2, application/json' });
    expectStatus(res, 200);
    expect(res.mediaType).toBe('application/json');
  });

  test('6.3.4 an unsupported type next to application/json is fine', async () => {
    const res = await retrieveRes(richId, {}, { accept: 'text/html, application/json;q=0.1' });
    expectStatus(res, 200);
    expect(res.mediaType).toBe('application/json');
  });

  test('TP/NGSI-LD/CB/HTTP/049_01_01 Accept application/xml gives 406 listing the available representations', async () => {
    const res = await retrieveRes(richId, {}, { accept: 'application/xml' });
    expectStatus(res, 406);
    expect(res.text, '406 body lists the available representations (6.3.4)').toContain('application/json');
  });

  test('6.3.4 Accept text/plain gives 406', async () => {
    const res = await retrieveRes(richId, {}, { accept: 'text/plain' });
    expectStatus(res, 406);
    expect(res.text).toContain('application/json');
  });

  test('6.3.6 errors are application/json even when ld+json was asked for', async () => {
    const res = await retrieveRes(uid('Vehicle'), {}, { accept: 'application/ld+json' });
    expectProblem(res, 404, 'ResourceNotFound');
  });
});

describe('Retrieve Entity: GeoJSON (4.5.16, 6.3.15)', () => {
  test('TP/NGSI-LD/CI/Cons/E/018_05_02 Accept application/geo+json gives a Feature built on location', async () => {
    const res = await retrieveRes(richId, {}, { accept: 'application/geo+json' });
    expectStatus(res, 200);
    expect(res.mediaType).toBe('application/geo+json');
    const f = res.body;
    expect(f.type).toBe('Feature');
    expect(f.id).toBe(richId);
    expect(f.geometry).toEqual(POINT);
    expect(f.properties.type).toBe('Vehicle');
    expect(f.properties.location, 'the selected GeoProperty is also a property (4.5.16.2)').toEqual(rich.location);
    expect(f.properties.brandName).toEqual(rich.brandName);
    expect(f.properties.isParked).toEqual(rich.isParked);
    expect(f.properties.id, 'the id is a Feature member, not a property').toBeUndefined();
  });

  test('6.3.6 GeoJSON without Prefer header carries the @context in the body', async () => {
    const res = await retrieveRes(richId, {}, { accept: 'application/geo+json' });
    expectStatus(res, 200);
    expect(res.body['@context']).toBeDefined();
  });

  test('6.3.6 GeoJSON with Prefer: body=json puts the @context in a Link header instead', async () => {
    const res = await retrieveRes(richId, {}, { accept: 'application/geo+json', headers: { prefer: 'body=json' } });
    expectStatus(res, 200);
    expect(res.mediaType).toBe('application/geo+json');
    expect(res.body['@context']).toBeUndefined();
    expect(contextLinks(res)).toHaveLength(1);
  });

  test('TP/NGSI-LD/CI/Cons/E/018_05_03 geometryProperty selects another GeoProperty', async () => {
    const res = await retrieveRes(richId, { geometryProperty: 'observationSpace' }, { accept: 'application/geo+json' });
    expectStatus(res, 200);
    expect(res.body.geometry).toEqual(POLYGON);
  });

  test('TP/NGSI-LD/CI/Cons/E/018_05_04 a geometryProperty the entity lacks gives "geometry": null', async () => {
    const res = await retrieveRes(richId, { geometryProperty: 'operationSpace' }, { accept: 'application/geo+json' });
    expectStatus(res, 200);
    expect(res.body.type).toBe('Feature');
    expect(res.body.geometry).toBeNull();
  });

  test('4.5.16.1 an entity without location gives "geometry": null', async () => {
    const id = uid('Thing');
    await createEntity({ id, type: 'Thing', p: { type: 'Property', value: 1 } });
    const res = await retrieveRes(id, {}, { accept: 'application/geo+json' });
    expectStatus(res, 200);
    expect(res.body.geometry).toBeNull();
    expect(res.body.properties.p).toEqual({ type: 'Property', value: 1 });
  });

  test('TP/NGSI-LD/CI/Cons/E/018_05_01 4.5.17.1 simplified GeoJSON has key-values in properties', async () => {
    const res = await retrieveRes(richId, { options: 'keyValues' }, { accept: 'application/geo+json' });
    expectStatus(res, 200);
    expect(res.body.geometry).toEqual(POINT);
    expect(res.body.properties.type).toBe('Vehicle');
    expect(res.body.properties.brandName).toBe('Mercedes');
    expect(res.body.properties.location).toEqual(POINT);
    expect(res.body.properties.isParked).toBe('urn:ngsi-ld:OffStreetParking:Downtown1');
  });

  test('5.7.1.4 geometryProperty without Accept application/geo+json gives 400 BadRequestData', async () => {
    expectProblem(
      await retrieveRes(richId, { geometryProperty: 'location' }, { accept: 'application/json' }),
      400,
      'BadRequestData',
    );
  });
});

describe('Retrieve Entity: term compaction with the request @context (5.5.7, 6.3.5)', () => {
  const id = uid('Sensor');
  beforeAll(async () => {
    await createEntity(
      {
        id,
        type: 'Sensor',
        temperature: { type: 'Property', value: 21 },
        owner: { type: 'Relationship', object: 'urn:ngsi-ld:Person:Alice' },
        humidity: { type: 'Property', value: 40 },
      },
      { link: ctx.url('a.jsonld') },
    );
  });

  test('with the creation @context in the Link header, names come back as its terms', async () => {
    const got = await retrieve(id, {}, { link: ctx.url('a.jsonld') });
    expect(got.type).toBe('Sensor');
    expect(got.temperature).toEqual({ type: 'Property', value: 21 });
    expect(got.owner).toEqual({ type: 'Relationship', object: 'urn:ngsi-ld:Person:Alice' });
  });

  test('without a Link header, names unknown to the core context come back as full IRIs', async () => {
    const got = await retrieve(id);
    expect(got.type).toBe(`${NS_A}Sensor`);
    expect(got[`${NS_A}temperature`]).toEqual({ type: 'Property', value: 21 });
    expect(got[`${NS_A}owner`]).toEqual({ type: 'Relationship', object: 'urn:ngsi-ld:Person:Alice' });
    expect(got.temperature).toBeUndefined();
  });

  test('terms that fell back to the core @vocab come back short under any context without @vocab', async () => {
    expect((await retrieve(id, {}, { link: ctx.url('a.jsonld') })).humidity).toEqual({ type: 'Property', value: 40 });
    expect((await retrieve(id)).humidity).toEqual({ type: 'Property', value: 40 });
  });

  test('a context that maps the same term to another IRI does not match: the full IRI is returned', async () => {
    const got = await retrieve(id, {}, { link: ctx.url('b.jsonld') });
    expect(got.type).toBe(`${NS_A}Sensor`);
    expect(got[`${NS_A}temperature`]).toEqual({ type: 'Property', value: 21 });
    expect(got.temperature).toBeUndefined();
  });

  test('attrs is expanded with the request @context', async () => {
    const withCtx = await retrieve(id, { attrs: 'temperature' }, { link: ctx.url('a.jsonld') });
    expect(withCtx).toEqual({ id, type: 'Sensor', temperature: { type: 'Property', value: 21 } });
    expectProblem(await retrieveRes(id, { attrs: 'temperature' }), 404, 'ResourceNotFound');
  });

  test('attrs accepts a full IRI', async () => {
    const got = await retrieve(id, { attrs: `${NS_A}temperature` });
    expect(got[`${NS_A}temperature`]).toEqual({ type: 'Property', value: 21 });
  });

  test('the type selector is expanded with the request @context', async () => {
    expect((await retrieve(id, { type: 'Sensor' }, { link: ctx.url('a.jsonld') })).id).toBe(id);
    expectProblem(await retrieveRes(id, { type: 'Sensor' }), 404, 'ResourceNotFound');
  });

  test('a type created as a full IRI compacts to the term of the request @context', async () => {
    const other = uid('Sensor');
    await createEntity({ id: other, type: `${NS_A}Sensor`, [`${DEFAULT_VOCAB}level`]: { type: 'Property', value: 1 } });
    const got = await retrieve(other, {}, { link: ctx.url('a.jsonld') });
    expect(got.type).toBe('Sensor');
    expect(got.level).toEqual({ type: 'Property', value: 1 });
  });

  test('concise and simplified forms compact with the request @context as well', async () => {
    const concise = await retrieve(id, { format: 'concise' }, { link: ctx.url('a.jsonld') });
    expect(concise.temperature).toBe(21);
    const simplified = await retrieve(id, { format: 'simplified' }, { link: ctx.url('a.jsonld') });
    expect(simplified.owner).toBe('urn:ngsi-ld:Person:Alice');
  });

  test('an inline @context on create (ld+json) and an equal served context on GET agree', async () => {
    const inlineId = uid('Sensor');
    const res = await post(ENTITIES, {
      json: {
        '@context': { Sensor: `${NS_A}Sensor`, temperature: `${NS_A}temperature` },
        id: inlineId,
        type: 'Sensor',
        temperature: 5,
      },
      contentType: 'application/ld+json',
    });
    expectStatus(res, 201);
    const got = await retrieve(inlineId, {}, { link: ctx.url('a.jsonld') });
    expect(got).toEqual({ id: inlineId, type: 'Sensor', temperature: { type: 'Property', value: 5 } });
  });
});
