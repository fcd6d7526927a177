import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Entity } from '../../../src/model/entity.js';
import { compileSelection } from '../../../src/query/entity-query.js';
import { matchesGeoQuery } from '../../../src/query/geo-match.js';
import { GEORELS, type GeoQuery, type QueryGeometry } from '../../../src/query/geo-query.js';
import { validateGeometry } from '../../../src/common/geometry.js';
import { andFilters, nativeGeoFilter, translateGeo } from '../../../src/store/mongo/translate/index.js';
import { docsOf, LOCATION, mingoIds, TENANT } from './translate-fixtures.js';

/**
 * Geo-queries (clause 4.10) on MongoDB documents (issue 7). The bounding-box filter, run by mingo, keeps every entity
 * the embedded predicates (matchesGeoQuery, turf) match, for every georel, and the post-filter brings it to the
 * same set. mingo has no 2dsphere operators, so the native filters are checked against the shapes MongoDB accepts.
 */

const T0 = '2024-01-01T00:00:00.000Z';
const OTHER = 'https://ex.org/ns#area';

const coord = fc.integer({ min: -50, max: 50 }).map((n) => n / 10);
const point = fc.tuple(coord, coord);
const box = fc.tuple(coord, coord, fc.integer({ min: 1, max: 30 }), fc.integer({ min: 1, max: 30 })).map(([x, y, w, h]) => {
  const [x1, y1] = [x + w / 10, y + h / 10];
  return [[x, y], [x1, y], [x1, y1], [x, y1], [x, y]];
});
const geometryArb: fc.Arbitrary<QueryGeometry> = fc.oneof(
  point.map((coordinates) => ({ type: 'Point' as const, coordinates })),
  fc.array(point, { minLength: 2, maxLength: 3 }).map((coordinates) => ({ type: 'MultiPoint' as const, coordinates })),
  fc.array(point, { minLength: 2, maxLength: 3 }).map((coordinates) => ({ type: 'LineString' as const, coordinates })),
  box.map((ring) => ({ type: 'Polygon' as const, coordinates: [ring] })),
  fc.array(box, { minLength: 1, maxLength: 2 }).map((rings) => ({ type: 'MultiPolygon' as const, coordinates: rings.map((r) => [r]) })),
);

const entitiesArb: fc.Arbitrary<Entity[]> = fc
  .array(
    fc.record({
      loc: fc.array(geometryArb, { maxLength: 2 }),
      other: fc.option(geometryArb, { nil: undefined }),
    }),
    { minLength: 1, maxLength: 10 },
  )
  .map((specs) =>
    specs.map(({ loc, other }, i) => {
      const attrs: Entity['attrs'] = {};
      if (loc.length > 0) {
        attrs[LOCATION] = loc.map((value, k) => ({ type: 'GeoProperty' as const, value, createdAt: T0, modifiedAt: T0, ...(k > 0 ? { datasetId: `urn:ds:${k}` } : {}) }));
      }
      if (other) attrs[OTHER] = [{ type: 'GeoProperty', value: other, createdAt: T0, modifiedAt: T0 }];
      return { id: `urn:ngsi-ld:G:${i}`, type: ['https://ex.org/ns#T'], createdAt: T0, modifiedAt: T0, attrs };
    }),
  );

const geoQueryArb: fc.Arbitrary<GeoQuery> = fc
  .tuple(fc.constantFrom(...GEORELS), geometryArb, fc.integer({ min: 1, max: 800_000 }), fc.boolean(), fc.constantFrom(LOCATION, OTHER))
  .map(([georel, geometry, metres, max, geoproperty]) =>
    georel === 'near'
      ? max
        ? { georel, maxDistance: metres, geometry, geoproperty }
        : { georel, minDistance: metres, geometry, geoproperty }
      : { georel, geometry, geoproperty },
  );

/** The shapes of 2dsphere query operators MongoDB accepts (MongoDB manual, "Geospatial Query Operators"). */
function validateNative(filter: unknown, inElemMatch = false): string[] {
  const errors: string[] = [];
  const geometryOk = (g: unknown, types: string[]): void => {
    const geo = g as { type?: string; coordinates?: unknown };
    if (!geo || !types.includes(geo.type ?? '')) errors.push(`$geometry must be one of ${types.join(', ')}`);
    try {
      validateGeometry('ref', geo);
    } catch {
      errors.push('$geometry is not valid GeoJSON');
    }
    if (Object.keys(geo).some((k) => k !== 'type' && k !== 'coordinates')) errors.push('$geometry has foreign members');
  };
  const walk = (v: unknown, elem: boolean): void => {
    if (Array.isArray(v)) return v.forEach((x) => walk(x, elem));
    if (v === null || typeof v !== 'object') return;
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
      const spec = x as Record<string, unknown>;
      if (k === '$geoWithin') {
        if (Object.keys(spec).join() !== '$geometry') errors.push('$geoWithin takes exactly $geometry');
        geometryOk(spec.$geometry, ['Polygon', 'MultiPolygon']);
      } else if (k === '$geoIntersects') {
        if (Object.keys(spec).join() !== '$geometry') errors.push('$geoIntersects takes exactly $geometry');
        geometryOk(spec.$geometry, ['Point', 'MultiPoint', 'LineString', 'MultiLineString', 'Polygon', 'MultiPolygon']);
      } else if (k === '$nearSphere' || k === '$near') {
        if (elem) errors.push(`${k} cannot be inside $elemMatch`);
        geometryOk(spec.$geometry, ['Point']);
        for (const d of ['$maxDistance', '$minDistance']) {
          if (d in spec && !(typeof spec[d] === 'number' && (spec[d] as number) >= 0)) errors.push(`${d} must be non-negative metres`);
        }
        if (Object.keys(spec).some((m) => !['$geometry', '$maxDistance', '$minDistance'].includes(m))) errors.push(`${k}: unknown member`);
      } else walk(x, elem || k === '$elemMatch');
    }
  };
  walk(filter, inElemMatch);
  return errors;
}

describe('geo-queries on MongoDB documents (issue 7, clause 4.10)', () => {
  it('the box filter keeps every match of every georel; the post-filter makes it exact', () => {
    const seen = new Set<string>();
    fc.assert(
      fc.property(entitiesArb, geoQueryArb, fc.boolean(), (entities, generated, reuse) => {
        // Half the time the reference is a stored geometry, so that equals (and the other relations) hit.
        const stored = entities.flatMap((e) => e.attrs[generated.geoproperty] ?? [])[0]?.value as QueryGeometry | undefined;
        const geo: GeoQuery = reuse && stored ? { ...generated, geometry: stored } : generated;
        const t = translateGeo(geo);
        expect(t.exact).toBe(false);
        const expected = entities.filter((e) => matchesGeoQuery(geo, e)).map((e) => e.id).sort();
        if (expected.length > 0) seen.add(geo.georel);
        const got = mingoIds(docsOf(entities), andFilters([{ t: TENANT }, t.filter]));
        for (const id of expected) expect(got, `${JSON.stringify(geo)} misses ${id}`).toContain(id);
        const accepts = compileSelection({ geo });
        expect(got.filter((id) => accepts(entities.find((e) => e.id === id)!))).toEqual(expected);
      }),
      { numRuns: 1500 },
    );
    // Every georel had matches at least once, so each was really compared.
    expect([...seen].sort()).toEqual([...GEORELS].sort());
  });

  it('the box filter prunes: far away geometries and other geoproperties are not read', () => {
    const at = (id: string, attr: string, coordinates: number[]): Entity => ({
      id,
      type: ['T'],
      createdAt: T0,
      modifiedAt: T0,
      attrs: { [attr]: [{ type: 'GeoProperty', value: { type: 'Point', coordinates }, createdAt: T0, modifiedAt: T0 }] },
    });
    const entities = [at('near', LOCATION, [0.001, 0]), at('far', LOCATION, [40, 40]), at('other', OTHER, [0.001, 0])];
    const geo: GeoQuery = { georel: 'near', maxDistance: 1000, geometry: { type: 'Point', coordinates: [0, 0] }, geoproperty: LOCATION };
    expect(mingoIds(docsOf(entities), translateGeo(geo).filter)).toEqual(['near']);
    const within: GeoQuery = { georel: 'within', geometry: { type: 'Polygon', coordinates: [[[-1, -1], [1, -1], [1, 1], [-1, 1], [-1, -1]]] }, geoproperty: LOCATION };
    expect(mingoIds(docsOf(entities), translateGeo(within).filter)).toEqual(['near']);
  });

  it('native 2dsphere filters have the shapes MongoDB accepts, for every georel and reference geometry', () => {
    const made = new Set<string>();
    fc.assert(
      fc.property(geoQueryArb, (geo) => {
        const native = nativeGeoFilter(geo);
        if (!native) {
          // MongoDB has no operator for these: the box filter and the post-filter do it all.
          expect(geo.georel === 'disjoint' || (geo.georel === 'near' && geo.geometry.type !== 'Point') || (geo.georel === 'within' && !geo.geometry.type.endsWith('Polygon')) || (geo.georel === 'contains' && geo.geometry.type !== 'Point')).toBe(true);
          return;
        }
        made.add(geo.georel);
        expect(validateNative(native)).toEqual([]);
      }),
      { numRuns: 500 },
    );
    expect(made).toEqual(new Set(['near', 'within', 'contains', 'intersects', 'equals', 'overlaps']));
    expect(nativeGeoFilter({ georel: 'near', maxDistance: 500, geometry: { type: 'Point', coordinates: [1, 2] }, geoproperty: LOCATION })).toEqual({
      'geo.n': LOCATION,
      'geo.g': { $nearSphere: { $geometry: { type: 'Point', coordinates: [1, 2] }, $maxDistance: 500 } },
    });
    expect(validateNative({ geo: { $elemMatch: { g: { $nearSphere: { $geometry: { type: 'Point', coordinates: [1, 2] } } } } } })).toContain('$nearSphere cannot be inside $elemMatch');
    expect(validateNative({ g: { $geoWithin: { $geometry: { type: 'Point', coordinates: [1, 2] } } } })).toContain('$geometry must be one of Polygon, MultiPolygon');
  });
});
