/**
 * Purge Entities: DELETE /ngsi-ld/v1/entities (clauses 5.6.21, 6.4.3.3). Deletes the entities a query selects (type,
 * id, idPattern, q, geoquery, scopeQ, local), or with `drop` / `keep` only some of their attributes; 204 on success,
 * 400 BadRequestData for a too wide or invalid request.
 *
 * Every test purges inside a fresh tenant (6.3.14), so it can never remove anything it did not create.
 */
import { describe, expect, test } from 'vitest';
import { expectNoContent, expectProblem, retrieve, retrieveRes, tenant, uid } from './lib/index.js';
import { createAll, purge, queryIds, sorted } from './lib/query.js';

const prop = (value: unknown) => ({ type: 'Property', value });
const point = (lon: number, lat: number) => ({ type: 'GeoProperty', value: { type: 'Point', coordinates: [lon, lat] } });

/** A fresh tenant holding three entities of type Bin, one of type Crate and one typed both. */
async function setup() {
  const T = tenant();
  const opts = { tenant: T };
  const a1 = uid('Bin');
  const a2 = uid('Bin');
  const a3 = uid('Bin');
  const c1 = uid('Crate');
  const ab = uid('Bin');
  await createAll(
    [
      { id: a1, type: 'Bin', name: prop('one'), temperature: prop(20), humidity: prop(40), location: point(13.3777, 52.5163), scope: '/Berlin/Mitte' },
      { id: a2, type: 'Bin', name: prop('two'), temperature: prop(30), location: point(13.3777, 52.5343) },
      { id: a3, type: 'Bin', temperature: prop(35), humidity: prop(60) },
      { id: c1, type: 'Crate', name: prop('crate'), temperature: prop(30), humidity: prop(50) },
      { id: ab, type: ['Bin', 'Crate'], name: prop('both') },
    ],
    opts,
  );
  return { T, opts, a1, a2, a3, c1, ab };
}

/** Whether the entity still exists in the tenant. */
async function exists(id: string, opts: { tenant: string }): Promise<boolean> {
  const res = await retrieveRes(id, {}, opts);
  expect([200, 404], `retrieve ${id}: ${res.status} ${res.text}`).toContain(res.status);
  return res.status === 200;
}

async function survivors(ids: string[], opts: { tenant: string }): Promise<string[]> {
  const out: string[] = [];
  for (const id of ids) if (await exists(id, opts)) out.push(id);
  return sorted(out);
}

describe('Purge Entities (5.6.21, 6.4.3.3): which entities are deleted', () => {
  test('5.6.21.4 type=<T> deletes every entity of that type (including multi-typed ones) and answers 204', async () => {
    const { opts, a1, a2, a3, c1, ab } = await setup();
    expectNoContent(await purge({ type: 'Bin' }, opts));
    expect(await survivors([a1, a2, a3, c1, ab], opts)).toEqual([c1]);
  });

  test('5.6.21.4 q alone selects the entities to delete', async () => {
    const { opts, a1, a2, a3, c1, ab } = await setup();
    expectNoContent(await purge({ q: 'temperature>25' }, opts));
    expect(await survivors([a1, a2, a3, c1, ab], opts)).toEqual(sorted([a1, ab]));
  });

  test('5.6.21.4 type and q both apply', async () => {
    const { opts, a1, a2, a3, c1, ab } = await setup();
    expectNoContent(await purge({ type: 'Bin', q: 'temperature>25' }, opts));
    expect(await survivors([a1, a2, a3, c1, ab], opts)).toEqual(sorted([a1, c1, ab]));
  });

  test('5.6.21.4 an id list with a type deletes only the listed entities', async () => {
    const { opts, a1, a2, a3, c1, ab } = await setup();
    expectNoContent(await purge({ id: `${a1},${a2}`, type: 'Bin' }, opts));
    expect(await survivors([a1, a2, a3, c1, ab], opts)).toEqual(sorted([a3, c1, ab]));
  });

  test('5.6.21.4 a listed id whose entity does not match the type is not deleted', async () => {
    const { opts, a1, a2, a3, c1, ab } = await setup();
    expectNoContent(await purge({ id: `${a1},${c1}`, type: 'Bin' }, opts));
    expect(await survivors([a1, a2, a3, c1, ab], opts)).toEqual(sorted([a2, a3, c1, ab]));
  });

  test('5.6.21.4 idPattern with a type', async () => {
    const { opts, a1, a2, a3, c1, ab } = await setup();
    expectNoContent(await purge({ idPattern: `^${a2}$`, type: 'Bin' }, opts));
    expect(await survivors([a1, a2, a3, c1, ab], opts)).toEqual(sorted([a1, a3, c1, ab]));
  });

  test('5.6.21.3 the Entity Type Selection Language (4.17): (Bin;Crate) deletes only the entity with both types', async () => {
    const { opts, a1, a2, a3, c1, ab } = await setup();
    expectNoContent(await purge({ type: '(Bin;Crate)' }, opts));
    expect(await survivors([a1, a2, a3, c1, ab], opts)).toEqual(sorted([a1, a2, a3, c1]));
  });

  test('5.6.21.4 a geoquery selects the entities to delete (near;maxDistance==1500, points 0 m and ~2 km away)', async () => {
    const { opts, a1, a2, a3, c1, ab } = await setup();
    expectNoContent(await purge({ type: 'Bin', georel: 'near;maxDistance==1500', geometry: 'Point', coordinates: '[13.3777,52.5163]' }, opts));
    expect(await survivors([a1, a2, a3, c1, ab], opts)).toEqual(sorted([a2, a3, c1, ab]));
  });

  test('5.6.21.4 scopeQ with a type', async () => {
    const { opts, a1, a2, a3, c1, ab } = await setup();
    expectNoContent(await purge({ type: 'Bin', scopeQ: '/Berlin/#' }, opts));
    expect(await survivors([a1, a2, a3, c1, ab], opts)).toEqual(sorted([a2, a3, c1, ab]));
  });

  test('6.4.3.3 type=* deletes every entity (implied local scope)', async () => {
    const { opts, a1, a2, a3, c1, ab } = await setup();
    expectNoContent(await purge({ type: '*' }, opts));
    expect(await survivors([a1, a2, a3, c1, ab], opts)).toEqual([]);
  });

  test('5.6.21.4 e) local=true alone deletes every local entity', async () => {
    const { opts, a1, a2, a3, c1, ab } = await setup();
    expectNoContent(await purge({ local: 'true' }, opts));
    expect(await survivors([a1, a2, a3, c1, ab], opts)).toEqual([]);
  });

  test('5.6.21.4 a purge matching nothing answers 204 and deletes nothing', async () => {
    const { opts, a1, a2, a3, c1, ab } = await setup();
    expectNoContent(await purge({ type: 'NoSuchType' }, opts));
    expect(await survivors([a1, a2, a3, c1, ab], opts)).toEqual(sorted([a1, a2, a3, c1, ab]));
  });

  test('5.5.10 a purge in one tenant leaves the other tenants alone', async () => {
    const one = await setup();
    const other = await setup();
    expectNoContent(await purge({ type: 'Bin' }, one.opts));
    expect(await queryIds({ type: 'Bin' }, other.opts)).toEqual(sorted([other.a1, other.a2, other.a3, other.ab]));
  });
});

describe('Purge Entities (5.6.21, 6.4.3.3): drop and keep', () => {
  test('6.4.3.3 drop=<attrs> deletes those attributes from the matching entities, which remain', async () => {
    const { opts, a1, a3, c1 } = await setup();
    expectNoContent(await purge({ type: 'Bin', drop: 'temperature,humidity' }, opts));
    expect(await retrieve(a1, {}, opts)).toEqual({ id: a1, type: 'Bin', name: prop('one'), location: point(13.3777, 52.5163), scope: '/Berlin/Mitte' });
    expect(await retrieve(a3, {}, opts)).toEqual({ id: a3, type: 'Bin' });
    expect(await retrieve(c1, {}, opts), 'entities not matching keep their attributes').toEqual({
      id: c1,
      type: 'Crate',
      name: prop('crate'),
      temperature: prop(30),
      humidity: prop(50),
    });
  });

  test('6.4.3.3 keep=<attrs> deletes every other attribute from the matching entities', async () => {
    const { opts, a1, a2, a3, c1 } = await setup();
    expectNoContent(await purge({ type: 'Bin', keep: 'name' }, opts));
    const got1 = await retrieve(a1, {}, opts);
    expect(got1.name).toEqual(prop('one'));
    for (const gone of ['temperature', 'humidity', 'location']) expect(got1[gone], `${gone} of ${a1}`).toBeUndefined();
    expect(await retrieve(a2, {}, opts)).toEqual({ id: a2, type: 'Bin', name: prop('two') });
    expect(await retrieve(a3, {}, opts), 'an entity without the kept attribute remains, with no attributes').toEqual({ id: a3, type: 'Bin' });
    expect((await retrieve(c1, {}, opts)).temperature, 'entities not matching are untouched').toEqual(prop(30));
  });

  test('5.6.21.4 drop applies only to the entities the query selects', async () => {
    const { opts, a1, a2, a3 } = await setup();
    expectNoContent(await purge({ type: 'Bin', q: 'temperature>25', drop: 'temperature' }, opts));
    expect((await retrieve(a1, {}, opts)).temperature).toEqual(prop(20));
    expect((await retrieve(a2, {}, opts)).temperature).toBeUndefined();
    expect((await retrieve(a3, {}, opts)).temperature).toBeUndefined();
    expect((await retrieve(a3, {}, opts)).humidity).toEqual(prop(60));
  });

  test('6.4.3.3 drop of an attribute no entity has answers 204 and changes nothing', async () => {
    const { opts, a2 } = await setup();
    expectNoContent(await purge({ type: 'Bin', drop: 'noSuchAttribute' }, opts));
    expect(await retrieve(a2, {}, opts)).toEqual({ id: a2, type: 'Bin', name: prop('two'), temperature: prop(30), location: point(13.3777, 52.5343) });
  });
});

describe('Purge Entities (5.6.21.4): errors delete nothing', () => {
  test.each([
    ['no parameters at all (too wide)', {}],
    ['only an id list (too wide)', { id: 'urn:ngsi-ld:Bin:x' }],
    ['only idPattern (too wide)', { idPattern: '.*' }],
    ['only drop (too wide)', { drop: 'temperature' }],
    ['an id that is not a URI', { id: 'not-a-uri', type: 'Bin' }],
    ['an invalid q', { type: 'Bin', q: 'temperature>>1' }],
    ['an invalid georel', { type: 'Bin', georel: 'invalid', geometry: 'Point', coordinates: '[13.3777,52.5163]' }],
    ['invalid coordinates', { type: 'Bin', georel: 'near;maxDistance==100', geometry: 'Point', coordinates: '[13.3777]' }],
    ['an invalid type selector', { type: '(Bin;Crate' }],
  ])('5.6.21.4 %s gives 400 BadRequestData', async (_what, params) => {
    const { opts, a1, a2, a3, c1, ab } = await setup();
    expectProblem(await purge(params, opts), 400, 'BadRequestData');
    expect(await survivors([a1, a2, a3, c1, ab], opts)).toEqual(sorted([a1, a2, a3, c1, ab]));
  });
});
