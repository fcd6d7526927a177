import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { NgsiError } from '../../src/common/errors.js';
import type { Entity } from '../../src/model/entity.js';
import { booleanDisjoint } from '@turf/boolean-disjoint';
import { booleanIntersects } from '@turf/boolean-intersects';
import { geometryContains, geometryDistance, geometryEquals, geometryOverlaps, matchesGeoQuery } from '../../src/query/geo-match.js';
import { type GeoQuery, type GeoQueryParams, type QueryGeometry, parseGeoQuery } from '../../src/query/geo-query.js';

/**
 * Whatever a client sends, parseGeoQuery either returns a geo-query or throws BadRequestData (clause 4.10,
 * 6.4.3.2): never a TypeError, a RangeError from JSON or a stack overflow. And whatever a store holds,
 * matchesGeoQuery answers a boolean.
 */

const expand = (term: string): string => `https://example.org/${term}`;

function outcome(params: GeoQueryParams): GeoQuery | undefined {
  try {
    return parseGeoQuery(params, expand);
  } catch (e) {
    expect(e).toBeInstanceOf(NgsiError);
    expect((e as NgsiError).kind).toBe('BadRequestData');
    expect((e as NgsiError).message.length).toBeGreaterThan(0);
    return undefined;
  }
}

const maybe = <T>(arb: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> => fc.option(arb, { nil: undefined });

// Strings near the grammar reach the deeper checks; fully random ones cover the rest.
const georelArb = fc.oneof(
  fc.string(),
  fc.constantFrom('near', 'within', 'contains', 'intersects', 'equals', 'disjoint', 'overlaps', 'near;', 'Within'),
  fc
    .tuple(fc.constantFrom('maxDistance', 'minDistance', 'distance', 'MaxDistance'), fc.constantFrom('==', '=', ':', '=='), fc.oneof(fc.string(), fc.double().map(String), fc.nat().map(String)))
    .map(([m, eq, n]) => `near;${m}${eq}${n}`),
);
const geometryArb = fc.oneof(fc.string(), fc.constantFrom('Point', 'MultiPoint', 'LineString', 'MultiLineString', 'Polygon', 'MultiPolygon', 'GeometryCollection', 'point'));
const number = fc.oneof(fc.double(), fc.double({ min: -180, max: 180, noNaN: true }), fc.integer({ min: -200, max: 200 }));
const nested: fc.Arbitrary<unknown> = fc.letrec<{ node: unknown }>((tie) => ({
  node: fc.oneof({ depthSize: 'small', withCrossShrink: true }, number, fc.array(tie('node'), { maxLength: 6 })),
})).node;
const coordinatesArb = fc.oneof(
  fc.string(),
  fc.json(),
  nested.map((v) => JSON.stringify(v) ?? 'null'),
  nested,
  fc.anything(),
  fc.constant('['.repeat(10_000) + ']'.repeat(10_000)),
);
const geopropertyArb = fc.oneof(fc.string(), fc.constantFrom('location', 'observationSpace', 'https://uri.etsi.org/ngsi-ld/location'));

// Valid geometries of every type, so that whole queries parse and the checks after parsing run too.
const position = fc.tuple(fc.double({ min: -180, max: 180, noNaN: true }), fc.double({ min: -90, max: 90, noNaN: true }));
const ring = fc.array(position, { minLength: 3, maxLength: 6 }).map((ps) => [...ps, ps[0]!]);
const polygon = fc.array(ring, { minLength: 1, maxLength: 2 });
const validGeometry = fc.oneof(
  position.map((c) => ['Point', c] as const),
  fc.array(position, { minLength: 1, maxLength: 4 }).map((c) => ['MultiPoint', c] as const),
  fc.array(position, { minLength: 2, maxLength: 4 }).map((c) => ['LineString', c] as const),
  fc.array(fc.array(position, { minLength: 2, maxLength: 3 }), { minLength: 1, maxLength: 3 }).map((c) => ['MultiLineString', c] as const),
  polygon.map((c) => ['Polygon', c] as const),
  fc.array(polygon, { minLength: 1, maxLength: 2 }).map((c) => ['MultiPolygon', c] as const),
);
const coherentParams = fc
  .tuple(georelArb, validGeometry, fc.boolean(), maybe(geopropertyArb))
  .map(([georel, [geometry, c], asString, geoproperty]): GeoQueryParams => ({ georel, geometry, coordinates: asString ? JSON.stringify(c) : c, geoproperty }));
const independentParams = fc
  .tuple(maybe(georelArb), maybe(geometryArb), maybe(coordinatesArb), maybe(fc.oneof(fc.string(), fc.constant('location'))))
  .map(([georel, geometry, coordinates, geoproperty]): GeoQueryParams => ({ georel, geometry, coordinates, geoproperty }));

describe('parseGeoQuery fuzzing', () => {
  it('random strings in every parameter: a query or BadRequestData', () => {
    fc.assert(
      fc.property(maybe(fc.string()), maybe(fc.string()), maybe(fc.string()), maybe(fc.string()), (georel, geometry, coordinates, geoproperty) => {
        outcome({ georel, geometry, coordinates, geoproperty });
      }),
      { numRuns: 2000 },
    );
  });

  it('values shaped like the grammar: a query or BadRequestData, and a returned query is well formed', () => {
    let parsed = 0;
    fc.assert(
      fc.property(fc.oneof(independentParams, coherentParams), (params) => {
        const q = outcome(params);
        if (!q) return;
        parsed++;
        expect(q.geometry.type).toBe(params.geometry);
        expect(q.geoproperty.length).toBeGreaterThan(0);
        if (q.georel === 'near') {
          const d = 'maxDistance' in q ? q.maxDistance : q.minDistance;
          expect(d > 0 && Number.isFinite(d)).toBe(true);
        }
        expect(JSON.parse(JSON.stringify(q))).toEqual(q);
      }),
      { numRuns: 3000, seed: 42 },
    );
    // The generators do reach valid queries, not only the early rejections.
    expect(parsed).toBeGreaterThan(10);
  });

  it('deeply nested coordinates do not overflow the stack', () => {
    outcome({ georel: 'within', geometry: 'Polygon', coordinates: '['.repeat(100_000) + ']'.repeat(100_000) });
  });

  it('non-string parameters from a POST body: BadRequestData', () => {
    fc.assert(
      fc.property(fc.anything(), fc.anything(), fc.anything(), (georel, geometry, coordinates) => {
        outcome({ georel, geometry, coordinates } as GeoQueryParams);
      }),
      { numRuns: 1000 },
    );
  });
});

describe('matchesGeoQuery fuzzing', () => {
  const T = '2024-01-01T00:00:00.000Z';
  const queries = [
    'near;maxDistance==2000',
    'near;minDistance==2000',
    'within',
    'contains',
    'intersects',
    'equals',
    'disjoint',
    'overlaps',
  ].flatMap((georel) => [
    parseGeoQuery({ georel, geometry: 'Point', coordinates: '[8,49]' }, expand)!,
    parseGeoQuery({ georel, geometry: 'Polygon', coordinates: '[[[7,48],[9,48],[9,50],[7,50],[7,48]]]' }, expand)!,
  ]);
  const storedValue = fc.oneof(
    fc.anything(),
    fc.record({ type: fc.constantFrom('Point', 'MultiPoint', 'LineString', 'MultiLineString', 'Polygon', 'MultiPolygon', 'GeometryCollection'), coordinates: nested }),
  );

  it('every georel on every pair of valid geometry types gives a boolean', () => {
    const georels = fc.constantFrom('near;maxDistance==50000', 'near;minDistance==50000', 'within', 'contains', 'intersects', 'equals', 'disjoint', 'overlaps');
    fc.assert(
      fc.property(georels, validGeometry, validGeometry, (georel, [type, c], [storedType, stored]) => {
        const q = parseGeoQuery({ georel, geometry: type, coordinates: c }, expand)!;
        const entity = {
          id: 'urn:x',
          type: ['T'],
          createdAt: T,
          modifiedAt: T,
          attrs: { 'https://uri.etsi.org/ngsi-ld/location': [{ type: 'GeoProperty', value: { type: storedType, coordinates: stored }, createdAt: T, modifiedAt: T }] },
        } as Entity;
        expect(typeof matchesGeoQuery(q, entity)).toBe('boolean');
        // matchesGeoQuery turns exceptions into non-matches; valid data must not need that.
        const g = { type: storedType, coordinates: stored } as QueryGeometry;
        expect(() => {
          geometryDistance(q.geometry, g);
          geometryContains(q.geometry, g);
          geometryContains(g, q.geometry);
          geometryEquals(g, q.geometry);
          geometryOverlaps(g, q.geometry);
          booleanIntersects(g, q.geometry);
          booleanDisjoint(g, q.geometry);
        }).not.toThrow();
      }),
      { numRuns: 1500 },
    );
  });

  it('odd stored values give a boolean, never an exception', () => {
    fc.assert(
      fc.property(fc.array(storedValue, { maxLength: 3 }), fc.constantFrom(...queries), (values, q) => {
        const entity = {
          id: 'urn:x',
          type: ['T'],
          createdAt: T,
          modifiedAt: T,
          attrs: { 'https://uri.etsi.org/ngsi-ld/location': values.map((value) => ({ type: 'GeoProperty', value, createdAt: T, modifiedAt: T })) },
        } as Entity;
        expect(typeof matchesGeoQuery(q, entity)).toBe('boolean');
      }),
      { numRuns: 2000 },
    );
  });
});
