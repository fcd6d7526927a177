/**
 * Query Temporal Evolution of Entities with a values filter (q, clause 4.9), a geo-query (4.10) and count (6.3.13):
 * clauses 5.7.4.4, 6.18.3.2, 6.24 and the ETSI test purposes TP/NGSI-LD/CI/Cons/TE/021_08, 021_09, 021_12.
 *
 * 5.7.4.4: q and the geo-query are checked "against all the Attribute instances resulting from the initial filtering
 * performed by the temporal query" (instances in the time range), and the temporal representation includes "only the
 * Attribute instances ... which meet the temporal, query and geoquery restrictions".
 */
import { describe, expect, test } from 'vitest';
import { API, expectProblem, expectStatus, get, post, uid } from './lib/index.js';
import { qs, resultsCount, walkPages, type Params } from './lib/query.js';

const TEMPORAL = `${API}/temporal/entities`;
const QUERY = `${API}/temporal/entityOperations/query`;
const T = (day: number) => `2024-02-${String(day).padStart(2, '0')}T00:00:00Z`;

/** A type of its own per test, so that other tests' entities do not change the results. */
const typeName = () => `Car${Math.random().toString(36).slice(2, 10)}`;

const point = (lon: number, lat: number, day: number) => ({ type: 'GeoProperty', value: { type: 'Point', coordinates: [lon, lat] }, observedAt: T(day) });

/** Writes a temporal entity: speed values observed on days 1, 2, ... and the given location history. */
async function car(type: string, speeds: number[], locations: Array<ReturnType<typeof point>> = []): Promise<string> {
  const id = uid(type);
  const body: Record<string, unknown> = { id, type, speed: speeds.map((v, i) => ({ type: 'Property', value: v, observedAt: T(i + 1) })) };
  if (locations.length > 0) body.location = locations;
  expectStatus(await post(TEMPORAL, { json: body }), 201);
  return id;
}

const query = (params: Params) => get(TEMPORAL + qs(params));
const ids = (body: Array<{ id: string }>) => body.map((e) => e.id).sort();
const speeds = (e: { speed?: Array<{ value: number }> }) => (e.speed ?? []).map((i) => i.value).sort((a, b) => a - b);

describe('q on Query Temporal Evolution of Entities (4.9, 5.7.4.4)', () => {
  test('selects entities with an instance in range that matches q and shows only the matching instances (TP/NGSI-LD/CI/Cons/TE/021_08_01)', async () => {
    const type = typeName();
    const fast = await car(type, [10, 95, 30, 99]);
    await car(type, [50, 60, 70]);
    const res = await query({ type, q: 'speed>90', timerel: 'after', timeAt: T(1) });
    expectStatus(res, 200);
    expect(ids(res.body)).toEqual([fast]);
    expect(speeds(res.body[0])).toEqual([95, 99]);
  });

  test('only instances within the time range count (5.7.4.4 "during the interval defined by the temporal query")', async () => {
    const type = typeName();
    const early = await car(type, [95, 10, 10]);
    const late = await car(type, [10, 10, 95]);
    expect(ids((await query({ type, q: 'speed>90', timerel: 'after', timeAt: T(2) })).body)).toEqual([late]);
    expect(ids((await query({ type, q: 'speed>90', timerel: 'before', timeAt: T(2) })).body)).toEqual([early]);
    expect(ids((await query({ type, q: 'speed>90', timerel: 'between', timeAt: T(2), endTimeAt: T(3) })).body)).toEqual([]);
  });

  test('q alone narrows the query enough: no type needed (5.7.4.4 c)', async () => {
    const type = typeName();
    const attr = `level${Math.random().toString(36).slice(2, 8)}`;
    const id = uid(type);
    expectStatus(await post(TEMPORAL, { json: { id, type, [attr]: [{ type: 'Property', value: 7, observedAt: T(1) }] } }), 201);
    const res = await query({ q: `${attr}==7`, timerel: 'after', timeAt: T(1) });
    expectStatus(res, 200);
    expect(ids(res.body)).toEqual([id]);
  });

  test('POST /temporal/entityOperations/query carries q (6.24, 5.2.23)', async () => {
    const type = typeName();
    const fast = await car(type, [10, 95]);
    await car(type, [10, 20]);
    const res = await post(QUERY, { json: { type: 'Query', entities: [{ type }], q: 'speed>90', temporalQ: { timerel: 'after', timeAt: T(1) } } });
    expectStatus(res, 200);
    expect(ids(res.body)).toEqual([fast]);
    expect(speeds(res.body[0])).toEqual([95]);
  });

  test.each([
    ['an unbalanced q', { q: '(speed>90' }],
    ['a q with a missing value', { q: 'speed>' }],
    ['a q with a linked-entity path (5.7.4.4: no Linked Entity retrieval)', { q: 'owner{speed}>1' }],
  ])('400 BadRequestData for %s (4.9, 5.7.4.4; TP/NGSI-LD/CI/Cons/TE/021_12)', async (_what, params) => {
    expectProblem(await query({ type: 'Vehicle', timerel: 'after', timeAt: T(1), ...params }), 400, 'BadRequestData');
  });
});

describe('geo-queries on Query Temporal Evolution of Entities (4.10, 5.7.4.4)', () => {
  const near = { georel: 'near;maxDistance==2000', geometry: 'Point', coordinates: '[-8.503,41.202]' };
  const box = { georel: 'within', geometry: 'Polygon', coordinates: '[[[-13.503,47.202],[6.541,52.961],[20.37,44.653],[9.46,32.57],[-13.503,32.57],[-13.503,47.202]]]' };

  test('near Point: the GeoProperty instances in range are checked, the matching ones shown (TP/NGSI-LD/CI/Cons/TE/021_09_01)', async () => {
    const type = typeName();
    const arrives = await car(type, [1, 2, 3], [point(0, 0, 1), point(-8.5, 41.2, 2)]);
    await car(type, [1, 2, 3], [point(-8.5, 41.2, 1), point(100, 0, 2)]);
    const res = await query({ type, ...near, timerel: 'after', timeAt: T(2) });
    expectStatus(res, 200);
    expect(ids(res.body)).toEqual([arrives]);
    expect(res.body[0].location.map((i: { value: unknown }) => i.value)).toEqual([{ type: 'Point', coordinates: [-8.5, 41.2] }]);
    expect(ids((await query({ type, ...near, timerel: 'after', timeAt: T(1) })).body)).toHaveLength(2);
  });

  test('within Polygon, with geoproperty named (TP/NGSI-LD/CI/Cons/TE/021_09_02)', async () => {
    const type = typeName();
    const inside = await car(type, [1], [point(-3.7, 40.4, 1)]);
    await car(type, [1], [point(139.7, 35.7, 1)]);
    const res = await query({ type, ...box, geoproperty: 'location', timerel: 'after', timeAt: T(1) });
    expectStatus(res, 200);
    expect(ids(res.body)).toEqual([inside]);
  });

  test('POST query with geoQ and q: both must hold (6.24, 5.2.13)', async () => {
    const type = typeName();
    const both = await car(type, [95], [point(-8.5, 41.2, 1)]);
    await car(type, [10], [point(-8.5, 41.2, 1)]);
    await car(type, [95], [point(100, 0, 1)]);
    const res = await post(QUERY, {
      json: { type: 'Query', entities: [{ type }], q: 'speed>90', geoQ: { georel: near.georel, geometry: 'Point', coordinates: [-8.503, 41.202] }, temporalQ: { timerel: 'after', timeAt: T(1) } },
    });
    expectStatus(res, 200);
    expect(ids(res.body)).toEqual([both]);
  });

  test.each([
    ['georel without geometry and coordinates', { georel: 'near;maxDistance==10' }],
    ['an unknown georel', { georel: 'around', geometry: 'Point', coordinates: '[0,0]' }],
    ['coordinates that are not JSON', { georel: 'intersects', geometry: 'Point', coordinates: '[0,' }],
  ])('400 BadRequestData for %s (4.10, 5.7.4.4)', async (_what, params) => {
    expectProblem(await query({ type: 'Vehicle', timerel: 'after', timeAt: T(1), ...params }), 400, 'BadRequestData');
  });
});

describe('count on Query Temporal Evolution of Entities (6.3.13, 5.5.9)', () => {
  test('NGSILD-Results-Count counts only entities with instances in the time range', async () => {
    const type = typeName();
    const recent = await car(type, [1, 2, 3]);
    await car(type, [1]);
    const res = await query({ type, timerel: 'after', timeAt: T(3), count: 'true' });
    expectStatus(res, 200);
    expect(ids(res.body)).toEqual([recent]);
    expect(resultsCount(res)).toBe(1);
  });

  test('NGSILD-Results-Count counts only entities matching q and the geo-query, also with limit=0', async () => {
    const type = typeName();
    await car(type, [95], [point(-8.5, 41.2, 1)]);
    await car(type, [95], [point(100, 0, 1)]);
    await car(type, [10], [point(-8.5, 41.2, 1)]);
    const counted = await query({ type, q: 'speed>90', timerel: 'after', timeAt: T(1), count: 'true', limit: 0 });
    expectStatus(counted, 200);
    expect(counted.body).toEqual([]);
    expect(resultsCount(counted)).toBe(2);
    const geo = await query({ type, q: 'speed>90', georel: 'near;maxDistance==2000', geometry: 'Point', coordinates: '[-8.503,41.202]', timerel: 'after', timeAt: T(1), count: 'true', limit: 0 });
    expect(resultsCount(geo)).toBe(1);
  });

  test('the pages hold exactly the counted entities, each once (5.5.9, 6.3.13)', async () => {
    const type = typeName();
    const matching: string[] = [];
    for (const v of [95, 10, 96, 20, 97, 98]) {
      const id = await car(type, [1, v]);
      if (v > 90) matching.push(id);
    }
    const first = TEMPORAL + qs({ type, q: 'speed>90', timerel: 'after', timeAt: T(2), count: 'true', limit: 1 });
    const pages = await walkPages(first, { accept: 'application/json' });
    for (const page of pages) {
      expect(page.ids).toHaveLength(1);
      expect(resultsCount(page.res)).toBe(matching.length);
    }
    expect(pages.flatMap((p) => p.ids).sort()).toEqual(matching.sort());
  });
});
