/**
 * Discovery: GET /types, /types/{type}, /attributes, /attributes/{attrId} (clauses 5.7.5-5.7.10, 6.25-6.28) with the
 * representations of 4.5.10-4.5.15 (data types 5.2.24-5.2.28), test purposes TP/NGSI-LD/CI/Cons/DISC/022-027.
 * Each describe works in a fresh tenant, so the broker's other entities never show up in the lists.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  API,
  DEFAULT_VOCAB,
  contextLinks,
  contextUris,
  createEntity,
  del,
  entityPath,
  expectProblem,
  expectStatus,
  get,
  seg,
  startContextServer,
  tenant,
  type ContextServer,
  type ReqOptions,
  type Res,
} from './lib/index.js';

const NS = 'https://conformance.example.org/discovery#';
const LOCATION = 'https://uri.etsi.org/ngsi-ld/location';
const TYPES = `${API}/types`;
const ATTRIBUTES = `${API}/attributes`;
let ctx: ContextServer;
let link: string;

beforeAll(async () => {
  ctx = await startContextServer({
    'discovery.jsonld': {
      '@context': {
        Building: `${NS}Building`,
        Shop: `${NS}Shop`,
        Vehicle: `${NS}Vehicle`,
        name: `${NS}name`,
        airQualityLevel: `${NS}airQualityLevel`,
        owner: `${NS}owner`,
      },
    },
  });
  link = ctx.url('discovery.jsonld');
});
afterAll(async () => {
  await ctx?.close();
});

/**
 * Two Buildings (one of them also a Shop) and a Vehicle. `owner` is a Relationship on the Building and a Property on the
 * Vehicle; `speed` is not in the test @context (it expands under the core @vocab); `location` is a core term.
 */
async function seed(t: string): Promise<void> {
  const opts = { tenant: t, link };
  await createEntity(
    {
      id: 'urn:ngsi-ld:Building:b1',
      type: 'Building',
      name: { type: 'Property', value: 'Eiffel' },
      airQualityLevel: { type: 'Property', value: 4 },
      owner: { type: 'Relationship', object: 'urn:ngsi-ld:Person:Alice' },
      location: { type: 'GeoProperty', value: { type: 'Point', coordinates: [2.2945, 48.8584] } },
    },
    opts,
  );
  await createEntity({ id: 'urn:ngsi-ld:Building:b2', type: ['Building', 'Shop'], name: { type: 'Property', value: 'Corner shop' } }, opts);
  await createEntity(
    {
      id: 'urn:ngsi-ld:Vehicle:v1',
      type: 'Vehicle',
      owner: { type: 'Property', value: 'Bob' },
      speed: { type: 'Property', value: 80 },
    },
    opts,
  );
}

const sorted = (xs: unknown): unknown => (Array.isArray(xs) ? [...xs].sort() : xs);
/** Orders a detailed list by id and its string arrays alphabetically: the spec leaves both orders open. */
function normalized(list: unknown): unknown {
  if (!Array.isArray(list)) return list;
  return [...list]
    .map((item: Record<string, unknown>) => Object.fromEntries(Object.entries(item).map(([k, v]) => [k, k === '@context' ? v : sorted(v)])))
    .sort((a, b) => String(a.id).localeCompare(String(b.id)));
}

function expectJson(res: Res, contextUrl?: string): void {
  expectStatus(res, 200);
  expect(res.mediaType).toBe('application/json');
  const links = contextLinks(res);
  expect(links, `one @context Link header on an application/json answer (6.3.6): ${res.headers.get('link')}`).toHaveLength(1);
  if (contextUrl) expect(links[0]).toBe(contextUrl);
}

/** A URI (RFC 3986 scheme followed by ':'), as the "id" members of 5.2.24-5.2.28 must be. */
const URI = /^[A-Za-z][A-Za-z0-9+.-]*:\S+$/;

describe('Retrieve Available Entity Types (5.7.5, 6.25.3.1)', () => {
  const t = tenant();
  beforeAll(() => seed(t));

  test('TP/NGSI-LD/CI/Cons/DISC/022_01_01 without @context: an EntityTypeList (5.2.24) with the full type IRIs', async () => {
    const res = await get(TYPES, { tenant: t });
    expectJson(res);
    expect(res.body.id, 'id is a URI (4.5.10)').toMatch(URI);
    expect(res.body.type).toBe('EntityTypeList');
    expect(sorted(res.body.typeList)).toEqual([`${NS}Building`, `${NS}Shop`, `${NS}Vehicle`]);
    expect(Object.keys(res.body).sort()).toEqual(['id', 'type', 'typeList']);
  });

  test('TP/NGSI-LD/CI/Cons/DISC/022_01_02 with a Link @context: type names come back as its terms', async () => {
    const res = await get(TYPES, { tenant: t, link });
    expectJson(res, link);
    expect(res.body.type).toBe('EntityTypeList');
    expect(sorted(res.body.typeList)).toEqual(['Building', 'Shop', 'Vehicle']);
  });

  test('6.3.6 Accept application/ld+json: the @context is in the body, not in a Link header', async () => {
    const res = await get(TYPES, { tenant: t, link, accept: 'application/ld+json' });
    expectStatus(res, 200);
    expect(res.mediaType).toBe('application/ld+json');
    expect(contextLinks(res)).toEqual([]);
    expect(contextUris(res.body['@context'])).toContain(link);
    expect(sorted(res.body.typeList)).toEqual(['Building', 'Shop', 'Vehicle']);
  });

  test('6.3.4 GeoJSON is not a representation of the type list: 406', async () => {
    const res = await get(TYPES, { tenant: t, accept: 'application/geo+json' });
    expectStatus(res, 406);
    expect(res.text).toContain('application/json');
  });

  test('6.25.3.1 details=false is the plain list', async () => {
    const res = await get(`${TYPES}?details=false`, { tenant: t, link });
    expectJson(res, link);
    expect(res.body.type).toBe('EntityTypeList');
  });

  test('6.25.3.1 details must be a Boolean: anything else is 400 BadRequestData', async () => {
    expectProblem(await get(`${TYPES}?details=maybe`, { tenant: t }), 400, 'BadRequestData');
  });

  test('6.3.14 a tenant that does not exist is 404 NonexistentTenant', async () => {
    expectProblem(await get(TYPES, { tenant: tenant() }), 404, 'NonexistentTenant');
  });
});

describe('Retrieve Details of Available Entity Types (5.7.6, 6.25.3.1 details=true)', () => {
  const t = tenant();
  beforeAll(() => seed(t));

  test('TP/NGSI-LD/CI/Cons/DISC/023_01_02 with a Link @context: EntityType elements (5.2.25) with short names', async () => {
    const res = await get(`${TYPES}?details=true`, { tenant: t, link });
    expectJson(res, link);
    expect(Array.isArray(res.body), 'a JSON array (4.5.11)').toBe(true);
    expect(normalized(res.body)).toEqual([
      { id: `${NS}Building`, type: 'EntityType', typeName: 'Building', attributeNames: ['airQualityLevel', 'location', 'name', 'owner'] },
      { id: `${NS}Shop`, type: 'EntityType', typeName: 'Shop', attributeNames: ['name'] },
      { id: `${NS}Vehicle`, type: 'EntityType', typeName: 'Vehicle', attributeNames: ['owner', 'speed'] },
    ]);
  });

  test('TP/NGSI-LD/CI/Cons/DISC/023_01_01 without @context: full IRIs, core terms stay short', async () => {
    const res = await get(`${TYPES}?details=true`, { tenant: t });
    expectJson(res);
    expect(normalized(res.body)).toEqual([
      { id: `${NS}Building`, type: 'EntityType', typeName: `${NS}Building`, attributeNames: [`${NS}airQualityLevel`, `${NS}name`, `${NS}owner`, 'location'] },
      { id: `${NS}Shop`, type: 'EntityType', typeName: `${NS}Shop`, attributeNames: [`${NS}name`] },
      { id: `${NS}Vehicle`, type: 'EntityType', typeName: `${NS}Vehicle`, attributeNames: [`${NS}owner`, 'speed'] },
    ]);
  });

  test('6.3.6 Accept application/ld+json: every element carries the @context', async () => {
    const res = await get(`${TYPES}?details=true`, { tenant: t, link, accept: 'application/ld+json' });
    expectStatus(res, 200);
    expect(res.mediaType).toBe('application/ld+json');
    expect(res.body).toHaveLength(3);
    for (const element of res.body) expect(contextUris(element['@context'])).toContain(link);
  });
});

describe('Retrieve Available Entity Type Information (5.7.7, 6.26.3.1)', () => {
  const t = tenant();
  beforeAll(() => seed(t));
  const buildingInfo = {
    id: `${NS}Building`,
    type: 'EntityTypeInfo',
    typeName: 'Building',
    entityCount: 2,
    attributeDetails: [
      { id: `${NS}airQualityLevel`, type: 'Attribute', attributeName: 'airQualityLevel', attributeTypes: ['Property'] },
      { id: `${NS}name`, type: 'Attribute', attributeName: 'name', attributeTypes: ['Property'] },
      { id: `${NS}owner`, type: 'Attribute', attributeName: 'owner', attributeTypes: ['Relationship'] },
      { id: LOCATION, type: 'Attribute', attributeName: 'location', attributeTypes: ['GeoProperty'] },
    ],
  };
  const withDetails = (body: Record<string, unknown>) => ({ ...body, attributeDetails: normalized(body.attributeDetails) });

  test('TP/NGSI-LD/CI/Cons/DISC/024_02_01 by short name: EntityTypeInfo (5.2.26) with entityCount and attributeDetails', async () => {
    const res = await get(`${TYPES}/Building`, { tenant: t, link });
    expectJson(res, link);
    expect(withDetails(res.body)).toEqual(withDetails(buildingInfo));
  });

  test('TP/NGSI-LD/CI/Cons/DISC/024_02_02 by the full IRI, percent-encoded in the path (6.26.2)', async () => {
    const res = await get(`${TYPES}/${encodeURIComponent(`${NS}Building`)}`, { tenant: t, link });
    expectJson(res, link);
    expect(withDetails(res.body)).toEqual(withDetails(buildingInfo));
  });

  test('5.7.7 without @context the names are full IRIs; an entity with two types counts for each', async () => {
    const res = await get(`${TYPES}/${seg(`${NS}Shop`)}`, { tenant: t });
    expectJson(res);
    expect(res.body).toEqual({
      id: `${NS}Shop`,
      type: 'EntityTypeInfo',
      typeName: `${NS}Shop`,
      entityCount: 1,
      attributeDetails: [{ id: `${NS}name`, type: 'Attribute', attributeName: `${NS}name`, attributeTypes: ['Property'] }],
    });
  });

  test('6.3.6 Accept application/ld+json: the @context is in the body', async () => {
    const res = await get(`${TYPES}/Vehicle`, { tenant: t, link, accept: 'application/ld+json' });
    expectStatus(res, 200);
    expect(res.mediaType).toBe('application/ld+json');
    expect(contextUris(res.body['@context'])).toContain(link);
    expect(res.body.entityCount).toBe(1);
  });

  test('TP/NGSI-LD/CI/Cons/DISC/024_01_01 an entity type no entity has is 404 ResourceNotFound', async () => {
    expectProblem(await get(`${TYPES}/Bicycle`, { tenant: t, link }), 404, 'ResourceNotFound');
  });

  test('6.26.2 a short name resolves only through the request @context: without it, Building is unknown', async () => {
    expectProblem(await get(`${TYPES}/Building`, { tenant: t }), 404, 'ResourceNotFound');
  });

  test('6.3.14 a tenant that does not exist is 404 NonexistentTenant', async () => {
    expectProblem(await get(`${TYPES}/Building`, { tenant: tenant(), link }), 404, 'NonexistentTenant');
  });
});

describe('Retrieve Available Attributes (5.7.8, 6.27.3.1)', () => {
  const t = tenant();
  beforeAll(() => seed(t));

  test('TP/NGSI-LD/CI/Cons/DISC/025_01_01 without @context: an AttributeList (5.2.27) with full IRIs', async () => {
    const res = await get(ATTRIBUTES, { tenant: t });
    expectJson(res);
    expect(res.body.id, 'id is a URI (4.5.13)').toMatch(URI);
    expect(res.body.type).toBe('AttributeList');
    expect(sorted(res.body.attributeList)).toEqual([`${NS}airQualityLevel`, `${NS}name`, `${NS}owner`, 'location', 'speed']);
    expect(Object.keys(res.body).sort()).toEqual(['attributeList', 'id', 'type']);
  });

  test('TP/NGSI-LD/CI/Cons/DISC/025_01_02 with a Link @context: attribute names come back as its terms', async () => {
    const res = await get(ATTRIBUTES, { tenant: t, link });
    expectJson(res, link);
    expect(sorted(res.body.attributeList)).toEqual(['airQualityLevel', 'location', 'name', 'owner', 'speed']);
  });

  test('6.3.6 Accept application/ld+json: the @context is in the body', async () => {
    const res = await get(ATTRIBUTES, { tenant: t, link, accept: 'application/ld+json' });
    expectStatus(res, 200);
    expect(res.mediaType).toBe('application/ld+json');
    expect(contextLinks(res)).toEqual([]);
    expect(contextUris(res.body['@context'])).toContain(link);
  });

  test('6.3.4 GeoJSON is not a representation of the attribute list: 406', async () => {
    expectStatus(await get(ATTRIBUTES, { tenant: t, accept: 'application/geo+json' }), 406);
  });

  test('6.3.14 a tenant that does not exist is 404 NonexistentTenant', async () => {
    expectProblem(await get(ATTRIBUTES, { tenant: tenant() }), 404, 'NonexistentTenant');
  });
});

describe('Retrieve Details of Available Attributes (5.7.9, 6.27.3.1 details=true)', () => {
  const t = tenant();
  beforeAll(() => seed(t));

  test('TP/NGSI-LD/CI/Cons/DISC/026_01_02 with a Link @context: Attribute elements (5.2.28) with typeNames', async () => {
    const res = await get(`${ATTRIBUTES}?details=true`, { tenant: t, link });
    expectJson(res, link);
    expect(Array.isArray(res.body), 'a JSON array (4.5.14)').toBe(true);
    expect(normalized(res.body)).toEqual([
      { id: `${NS}airQualityLevel`, type: 'Attribute', attributeName: 'airQualityLevel', typeNames: ['Building'] },
      { id: `${NS}name`, type: 'Attribute', attributeName: 'name', typeNames: ['Building', 'Shop'] },
      { id: `${NS}owner`, type: 'Attribute', attributeName: 'owner', typeNames: ['Building', 'Vehicle'] },
      { id: `${DEFAULT_VOCAB}speed`, type: 'Attribute', attributeName: 'speed', typeNames: ['Vehicle'] },
      { id: LOCATION, type: 'Attribute', attributeName: 'location', typeNames: ['Building'] },
    ]);
  });

  test('TP/NGSI-LD/CI/Cons/DISC/026_01_01 without @context: full IRIs', async () => {
    const res = await get(`${ATTRIBUTES}?details=true`, { tenant: t });
    expectJson(res);
    const owner = res.body.find((a: { id: string }) => a.id === `${NS}owner`);
    expect(normalized([owner])).toEqual([{ id: `${NS}owner`, type: 'Attribute', attributeName: `${NS}owner`, typeNames: [`${NS}Building`, `${NS}Vehicle`] }]);
  });

  test('6.3.6 Accept application/ld+json: every element carries the @context', async () => {
    const res = await get(`${ATTRIBUTES}?details=true`, { tenant: t, link, accept: 'application/ld+json' });
    expectStatus(res, 200);
    expect(res.body).toHaveLength(5);
    for (const element of res.body) expect(contextUris(element['@context'])).toContain(link);
  });

  test('6.27.3.1 details must be a Boolean: anything else is 400 BadRequestData', async () => {
    expectProblem(await get(`${ATTRIBUTES}?details=1`, { tenant: t }), 400, 'BadRequestData');
  });
});

describe('Retrieve Available Attribute Information (5.7.10, 6.28.3.1)', () => {
  const t = tenant();
  beforeAll(() => seed(t));
  const ownerInfo = {
    id: `${NS}owner`,
    type: 'Attribute',
    attributeName: 'owner',
    attributeCount: 2,
    attributeTypes: ['Property', 'Relationship'],
    typeNames: ['Building', 'Vehicle'],
  };
  const info = (res: Res) => ({ ...res.body, attributeTypes: sorted(res.body.attributeTypes), typeNames: sorted(res.body.typeNames) });

  test('TP/NGSI-LD/CI/Cons/DISC/027_02_01 by short name: attributeCount, attributeTypes and typeNames (5.2.28)', async () => {
    const res = await get(`${ATTRIBUTES}/owner`, { tenant: t, link });
    expectJson(res, link);
    expect(info(res)).toEqual(ownerInfo);
  });

  test('TP/NGSI-LD/CI/Cons/DISC/027_02_02 by the full IRI, percent-encoded in the path (6.28.2)', async () => {
    const res = await get(`${ATTRIBUTES}/${encodeURIComponent(`${NS}owner`)}`, { tenant: t, link });
    expectJson(res, link);
    expect(info(res)).toEqual(ownerInfo);
  });

  test('5.7.10 a core term, without any @context', async () => {
    const res = await get(`${ATTRIBUTES}/location`, { tenant: t });
    expectJson(res);
    expect(res.body).toEqual({
      id: LOCATION,
      type: 'Attribute',
      attributeName: 'location',
      attributeCount: 1,
      attributeTypes: ['GeoProperty'],
      typeNames: [`${NS}Building`],
    });
  });

  test('5.7.10 an attribute shared by a two-typed entity names both types', async () => {
    const res = await get(`${ATTRIBUTES}/name`, { tenant: t, link });
    expectJson(res, link);
    expect(info(res)).toEqual({ id: `${NS}name`, type: 'Attribute', attributeName: 'name', attributeCount: 2, attributeTypes: ['Property'], typeNames: ['Building', 'Shop'] });
  });

  test('6.3.6 Accept application/ld+json: the @context is in the body', async () => {
    const res = await get(`${ATTRIBUTES}/owner`, { tenant: t, link, accept: 'application/ld+json' });
    expectStatus(res, 200);
    expect(res.mediaType).toBe('application/ld+json');
    expect(contextUris(res.body['@context'])).toContain(link);
    expect(res.body.attributeName).toBe('owner');
  });

  test('TP/NGSI-LD/CI/Cons/DISC/027_01_01 an attribute no entity has is 404 ResourceNotFound', async () => {
    expectProblem(await get(`${ATTRIBUTES}/airQualityLevel`, { tenant: t }), 404, 'ResourceNotFound');
    expectProblem(await get(`${ATTRIBUTES}/temperature`, { tenant: t, link }), 404, 'ResourceNotFound');
  });

  test('6.3.14 a tenant that does not exist is 404 NonexistentTenant', async () => {
    expectProblem(await get(`${ATTRIBUTES}/owner`, { tenant: tenant(), link }), 404, 'NonexistentTenant');
  });
});

describe('Discovery follows the entities (5.7.5, 5.7.8)', () => {
  test('5.7.5 a type and its attributes disappear with the last entity that has them', async () => {
    const t = tenant();
    const opts: ReqOptions = { tenant: t, link };
    await createEntity({ id: 'urn:ngsi-ld:Building:keep', type: 'Building', name: { type: 'Property', value: 'x' } }, opts);
    await createEntity({ id: 'urn:ngsi-ld:Vehicle:gone', type: 'Vehicle', owner: { type: 'Property', value: 'y' } }, opts);
    expect(sorted((await get(TYPES, opts)).body.typeList)).toEqual(['Building', 'Vehicle']);
    expectStatus(await del(entityPath('urn:ngsi-ld:Vehicle:gone'), { tenant: t }), 204);
    expect((await get(TYPES, opts)).body.typeList).toEqual(['Building']);
    expect((await get(ATTRIBUTES, opts)).body.attributeList).toEqual(['name']);
    expectProblem(await get(`${TYPES}/Vehicle`, opts), 404, 'ResourceNotFound');
    expectProblem(await get(`${ATTRIBUTES}/owner`, opts), 404, 'ResourceNotFound');
  });
});
