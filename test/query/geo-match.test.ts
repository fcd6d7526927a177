import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Attribute, Entity } from '../../src/model/entity.js';
import { type BBox, geometryContains, geometryDistance, matchesGeoQuery, queryBoundingBox } from '../../src/query/geo-match.js';
import { type GeoQuery, type QueryGeometry, parseGeoQuery } from '../../src/query/geo-query.js';

/**
 * Clause 4.10 semantics. Distances are checked by hand with the sphere turf uses (R = 6371008.8 m): one degree
 * along a meridian, or along the equator, is R·π/180 = 111 195.08 m, so 0.01° is 1 111.95 m.
 */

const LOCATION = 'https://uri.etsi.org/ngsi-ld/location';
const OBSERVATION_SPACE = 'https://uri.etsi.org/ngsi-ld/observationSpace';
const T = '2024-01-01T00:00:00.000Z';
const DEGREE = 111_195.08;

const geo = (value: unknown, datasetId?: string): Attribute => ({ type: 'GeoProperty', value, datasetId, createdAt: T, modifiedAt: T });
const entityWith = (attrs: Record<string, Attribute[]>): Entity => ({ id: 'urn:ngsi-ld:Building:x', type: ['https://example.org/Building'], createdAt: T, modifiedAt: T, attrs });
const located = (...values: unknown[]): Entity => entityWith({ [LOCATION]: values.map((v) => geo(v)) });

const clampTo = (v: number, limit: number): number => Math.max(-limit, Math.min(limit, v));
const point = (lon: number, lat: number): QueryGeometry => ({ type: 'Point', coordinates: [lon, lat] });
const box = (w: number, s: number, e: number, n: number): QueryGeometry => ({
  type: 'Polygon',
  coordinates: [[[w, s], [e, s], [e, n], [w, n], [w, s]]],
});

function query(georel: string, geometry: QueryGeometry, geoproperty?: string): GeoQuery {
  const q = parseGeoQuery({ georel, geometry: geometry.type, coordinates: JSON.stringify(geometry.coordinates), geoproperty }, (t) =>
    t === 'observationSpace' ? OBSERVATION_SPACE : t === 'location' ? LOCATION : `https://example.org/${t}`,
  );
  if (!q) throw new Error('no query');
  return q;
}
const matches = (georel: string, ref: QueryGeometry, e: Entity): boolean => matchesGeoQuery(query(georel, ref), e);

// Berlin landmarks (lon, lat).
const BRANDENBURG_GATE = point(13.3777, 52.5163);
const TV_TOWER = point(13.4094, 52.5208); // about 2.2 km east of the gate
const TEMPELHOF = point(13.4017, 52.4732);
const POTSDAMER_PLATZ = point(13.3759, 52.5096);
const HAMBURG = point(9.9937, 53.5511);
// The polygon of TP/NGSI-LD/CI/Cons/E/019_10_04 (central and southern Berlin).
const BERLIN: QueryGeometry = {
  type: 'Polygon',
  coordinates: [[[13.1616211, 52.5438124], [13.597641, 52.4840224], [13.5948944, 52.3402782], [13.142395, 52.386428], [13.1616211, 52.5438124]]],
};

describe('near (4.10: inside / outside the buffer of the reference geometry)', () => {
  it('maxDistance point to point along a meridian: one degree is 111 195 m', () => {
    expect(matches('near;maxDistance==111200', point(0, 0), located(point(0, 1)))).toBe(true);
    expect(matches('near;maxDistance==111190', point(0, 0), located(point(0, 1)))).toBe(false);
  });
  it('minDistance is the complement for an entity that has the property', () => {
    expect(matches('near;minDistance==111190', point(0, 0), located(point(0, 1)))).toBe(true);
    expect(matches('near;minDistance==111200', point(0, 0), located(point(0, 1)))).toBe(false);
  });
  it('Brandenburg Gate to the TV tower is about 2.2 km (Δlon 0.0317° · cos 52.5° ≈ 2145 m, Δlat 0.0045° ≈ 500 m)', () => {
    expect(geometryDistance(BRANDENBURG_GATE, TV_TOWER)).toBeGreaterThan(2190);
    expect(geometryDistance(BRANDENBURG_GATE, TV_TOWER)).toBeLessThan(2220);
    expect(matches('near;maxDistance==2000', BRANDENBURG_GATE, located(TV_TOWER))).toBe(false);
    expect(matches('near;maxDistance==2500', BRANDENBURG_GATE, located(TV_TOWER))).toBe(true);
    expect(matches('near;minDistance==2000', BRANDENBURG_GATE, located(TV_TOWER))).toBe(true);
    expect(matches('near;maxDistance==2000', BRANDENBURG_GATE, located(BRANDENBURG_GATE))).toBe(true);
  });
  it('point to a line: perpendicular foot on the segment, else the nearest end', () => {
    const equator: QueryGeometry = { type: 'LineString', coordinates: [[0, 0], [2, 0]] };
    expect(geometryDistance(point(1, 0.01), equator)).toBeCloseTo(0.01 * DEGREE, 0);
    expect(matches('near;maxDistance==1200', point(1, 0.01), located(equator))).toBe(true);
    expect(matches('near;maxDistance==1000', point(1, 0.01), located(equator))).toBe(false);
    expect(geometryDistance(point(3, 0), equator)).toBeCloseTo(DEGREE, 0);
  });
  it('point to a polygon: 0 inside, else the nearest edge', () => {
    const square = box(0, 0, 1, 1);
    expect(geometryDistance(point(0.5, 0.5), square)).toBe(0);
    expect(matches('near;maxDistance==1', point(0.5, 0.5), located(square))).toBe(true);
    expect(matches('near;minDistance==1', point(0.5, 0.5), located(square))).toBe(false);
    // North of the top edge (latitude 1) by 0.01° along the meridian.
    expect(geometryDistance(point(0.5, 1.01), square)).toBeCloseTo(0.01 * DEGREE, 0);
    expect(matches('near;maxDistance==1200', point(0.5, 1.01), located(square))).toBe(true);
    expect(matches('near;maxDistance==1000', point(0.5, 1.01), located(square))).toBe(false);
  });
  it('a point in a hole is as far as the hole edge', () => {
    const donut: QueryGeometry = { type: 'Polygon', coordinates: [box(0, 0, 1, 1).coordinates[0] as number[][], [[0.4, 0.4], [0.4, 0.6], [0.6, 0.6], [0.6, 0.4], [0.4, 0.4]]] };
    expect(geometryDistance(point(0.5, 0.5), donut)).toBeCloseTo(0.1 * DEGREE, -1);
  });
  it('a polygon reference geometry: the buffer around the polygon', () => {
    expect(matches('near;maxDistance==1200', box(0, 0, 1, 1), located(point(0.5, 1.01)))).toBe(true);
    expect(matches('near;maxDistance==1000', box(0, 0, 1, 1), located(point(0.5, 1.01)))).toBe(false);
  });
  it('line to line: the gap between two parallel segments 0.01° apart', () => {
    const a: QueryGeometry = { type: 'LineString', coordinates: [[0, 0], [1, 0]] };
    const b: QueryGeometry = { type: 'LineString', coordinates: [[0.2, 0.01], [0.8, 0.01]] };
    expect(geometryDistance(a, b)).toBeCloseTo(0.01 * DEGREE, 0);
    expect(geometryDistance(a, { type: 'LineString', coordinates: [[0.5, -1], [0.5, 1]] })).toBe(0);
  });
  it('works across the antimeridian: 179.99° and -179.99° on the equator are 0.02° apart', () => {
    expect(matches('near;maxDistance==2300', point(179.99, 0), located(point(-179.99, 0)))).toBe(true);
  });
});

describe('within (4.10: target geometry within the reference geometry)', () => {
  it('Berlin places within the TP 019_10_04 polygon, Hamburg not', () => {
    expect(matches('within', BERLIN, located(TEMPELHOF))).toBe(true);
    expect(matches('within', BERLIN, located(POTSDAMER_PLATZ))).toBe(true);
    expect(matches('within', BERLIN, located(HAMBURG))).toBe(false);
    // The gate is just north of the polygon's top edge (52.5142° at its longitude).
    expect(matches('within', BERLIN, located(BRANDENBURG_GATE))).toBe(false);
  });
  it('a point on the boundary is not within (its interior does not meet the interior)', () => {
    expect(matches('within', box(0, 0, 1, 1), located(point(1, 0.5)))).toBe(false);
    expect(matches('intersects', box(0, 0, 1, 1), located(point(1, 0.5)))).toBe(true);
  });
  it('polygons, lines and multi-geometries within a polygon', () => {
    const outer = box(0, 0, 10, 10);
    expect(matches('within', outer, located(box(2, 2, 3, 3)))).toBe(true);
    expect(matches('within', outer, located(box(8, 8, 11, 11)))).toBe(false);
    expect(matches('within', outer, located({ type: 'LineString', coordinates: [[1, 1], [9, 9]] }))).toBe(true);
    expect(matches('within', outer, located({ type: 'MultiLineString', coordinates: [[[1, 1], [2, 2]], [[3, 3], [4, 4]]] }))).toBe(true);
    expect(matches('within', outer, located({ type: 'MultiLineString', coordinates: [[[1, 1], [2, 2]], [[3, 3], [14, 4]]] }))).toBe(false);
    expect(matches('within', outer, located({ type: 'MultiPoint', coordinates: [[1, 1], [5, 5]] }))).toBe(true);
  });
  it('a polygon is never within a point (higher dimension)', () => {
    expect(matches('within', point(0.5, 0.5), located(box(0, 0, 1, 1)))).toBe(false);
  });
  it('a point is within an equal point', () => {
    expect(matches('within', TEMPELHOF, located(TEMPELHOF))).toBe(true);
  });
});

describe('contains (4.10: target geometry contains the reference geometry)', () => {
  it('a point entity contains the equal point (TP 019_10_07)', () => {
    expect(matches('contains', point(13.3986, 52.5547), located(point(13.3986, 52.5547)))).toBe(true);
    expect(matches('contains', point(13.3986, 52.5547), located(point(13.3987, 52.5547)))).toBe(false);
  });
  it('a polygon entity contains a point inside it, not one outside', () => {
    expect(matches('contains', TEMPELHOF, located(BERLIN))).toBe(true);
    expect(matches('contains', HAMBURG, located(BERLIN))).toBe(false);
  });
  it('a line contains a point on it; a point does not contain a line', () => {
    expect(matches('contains', point(1, 0), located({ type: 'LineString', coordinates: [[0, 0], [2, 0]] }))).toBe(true);
    expect(matches('contains', { type: 'LineString', coordinates: [[0, 0], [2, 0]] }, located(point(1, 0)))).toBe(false);
  });
  it('pairs turf does not implement are decomposed', () => {
    const lines: QueryGeometry = { type: 'MultiLineString', coordinates: [[[0, 0], [1, 0]], [[5, 5], [6, 5]]] };
    expect(geometryContains(lines, point(0.5, 0))).toBe(true);
    expect(geometryContains(lines, point(3, 3))).toBe(false);
    expect(geometryContains(box(-1, -1, 7, 7), lines)).toBe(true);
    expect(geometryContains(point(1, 1), { type: 'MultiPoint', coordinates: [[1, 1], [1, 1]] })).toBe(true);
  });
});

describe('intersects and disjoint (4.10)', () => {
  const crossing: QueryGeometry = { type: 'LineString', coordinates: [[-1, 0.5], [2, 0.5]] };
  const farLine: QueryGeometry = { type: 'LineString', coordinates: [[5, 5], [6, 6]] };
  it('a line crossing a polygon intersects it and is not disjoint', () => {
    expect(matches('intersects', box(0, 0, 1, 1), located(crossing))).toBe(true);
    expect(matches('disjoint', box(0, 0, 1, 1), located(crossing))).toBe(false);
  });
  it('a far line is disjoint and does not intersect', () => {
    expect(matches('intersects', box(0, 0, 1, 1), located(farLine))).toBe(false);
    expect(matches('disjoint', box(0, 0, 1, 1), located(farLine))).toBe(true);
  });
  it('a point inside a polygon entity intersects it (TP 019_10_08 shape)', () => {
    expect(matches('intersects', TEMPELHOF, located(BERLIN))).toBe(true);
    expect(matches('disjoint', TEMPELHOF, located(BERLIN))).toBe(false);
    expect(matches('disjoint', HAMBURG, located(BERLIN))).toBe(true);
  });
  it('an entity without the target GeoProperty never matches, not even disjoint', () => {
    const none = entityWith({});
    for (const georel of ['near;maxDistance==1000', 'near;minDistance==1', 'within', 'contains', 'intersects', 'equals', 'disjoint', 'overlaps']) {
      expect(matches(georel, point(0, 0), none)).toBe(false);
    }
  });
});

describe('equals (4.10)', () => {
  it('the same point; not a neighbour', () => {
    expect(matches('equals', point(13.3986, 52.5547), located(point(13.3986, 52.5547)))).toBe(true);
    expect(matches('equals', point(13.3986, 52.5547), located(point(13.3986, 52.555)))).toBe(false);
  });
  it('a polygon whose ring starts elsewhere or runs the other way is equal', () => {
    const rotated: QueryGeometry = { type: 'Polygon', coordinates: [[[1, 0], [1, 1], [0, 1], [0, 0], [1, 0]]] };
    const reversed: QueryGeometry = { type: 'Polygon', coordinates: [[[0, 0], [0, 1], [1, 1], [1, 0], [0, 0]]] };
    expect(matches('equals', box(0, 0, 1, 1), located(rotated))).toBe(true);
    expect(matches('equals', box(0, 0, 1, 1), located(reversed))).toBe(true);
    expect(matches('equals', box(0, 0, 1, 1), located(box(0, 0, 1, 2)))).toBe(false);
  });
  it('a one-part multi-geometry equals its part; altitude is ignored', () => {
    expect(matches('equals', point(1, 2), located({ type: 'MultiPoint', coordinates: [[1, 2]] }))).toBe(true);
    expect(matches('equals', point(1, 2), located({ type: 'Point', coordinates: [1, 2, 30] }))).toBe(true);
  });
  it('different dimensions are never equal', () => {
    expect(matches('equals', point(0, 0), located(box(0, 0, 1, 1)))).toBe(false);
  });
});

describe('overlaps (4.10)', () => {
  it('partly overlapping squares overlap; nested or equal ones do not', () => {
    expect(matches('overlaps', box(0, 0, 2, 2), located(box(1, 1, 3, 3)))).toBe(true);
    expect(matches('overlaps', box(0, 0, 10, 10), located(box(2, 2, 3, 3)))).toBe(false);
    expect(matches('overlaps', box(2, 2, 3, 3), located(box(0, 0, 10, 10)))).toBe(false);
    expect(matches('overlaps', box(0, 0, 2, 2), located(box(0, 0, 2, 2)))).toBe(false);
    expect(matches('overlaps', box(0, 0, 1, 1), located(box(5, 5, 6, 6)))).toBe(false);
  });
  it('different dimensions never overlap', () => {
    expect(matches('overlaps', box(0, 0, 2, 2), located(point(1, 1)))).toBe(false);
    expect(matches('overlaps', box(0, 0, 2, 2), located({ type: 'LineString', coordinates: [[-1, 1], [3, 1]] }))).toBe(false);
  });
  it('collinear lines sharing a stretch overlap', () => {
    expect(matches('overlaps', { type: 'LineString', coordinates: [[0, 0], [2, 0]] }, located({ type: 'LineString', coordinates: [[1, 0], [3, 0]] }))).toBe(true);
  });
  it('a line inside another, or crossing it, does not overlap it', () => {
    expect(matches('overlaps', { type: 'LineString', coordinates: [[0, 0], [3, 0]] }, located({ type: 'LineString', coordinates: [[1, 0], [2, 0]] }))).toBe(false);
    expect(matches('overlaps', { type: 'LineString', coordinates: [[0, 0], [2, 0]] }, located({ type: 'LineString', coordinates: [[1, -1], [1, 1]] }))).toBe(false);
    expect(matches('overlaps', { type: 'LineString', coordinates: [[0, 0], [2, 2]] }, located({ type: 'MultiLineString', coordinates: [[[1, 1], [3, 3]], [[9, 9], [9, 8]]] }))).toBe(true);
  });
  it('point sets overlap when they share some but not all points', () => {
    const ab: QueryGeometry = { type: 'MultiPoint', coordinates: [[0, 0], [1, 1]] };
    expect(matches('overlaps', ab, located({ type: 'MultiPoint', coordinates: [[1, 1], [2, 2]] }))).toBe(true);
    expect(matches('overlaps', ab, located({ type: 'MultiPoint', coordinates: [[1, 1]] }))).toBe(false);
    expect(matches('overlaps', ab, located(point(5, 5)))).toBe(false);
  });
});

describe('target GeoProperty and instances', () => {
  it('any instance of a multi-instance GeoProperty may match', () => {
    const e = entityWith({ [LOCATION]: [geo(HAMBURG), geo(TEMPELHOF, 'urn:ngsi-ld:Dataset:gps')] });
    expect(matchesGeoQuery(query('within', BERLIN), e)).toBe(true);
    expect(matchesGeoQuery(query('disjoint', BERLIN), e)).toBe(true);
  });
  it('the geoproperty parameter picks the attribute', () => {
    const e = entityWith({ [LOCATION]: [geo(HAMBURG)], [OBSERVATION_SPACE]: [geo(BERLIN)] });
    expect(matchesGeoQuery(query('contains', TEMPELHOF, 'observationSpace'), e)).toBe(true);
    expect(matchesGeoQuery(query('contains', TEMPELHOF), e)).toBe(false);
  });
  it('an attribute that is not a GeoProperty is not a target', () => {
    const e = entityWith({ [LOCATION]: [{ type: 'Property', value: { type: 'Point', coordinates: [13.4017, 52.4732] }, createdAt: T, modifiedAt: T }] });
    expect(matchesGeoQuery(query('within', BERLIN), e)).toBe(false);
  });
  it('odd stored data is a non-match, never an exception', () => {
    const odd: unknown[] = [
      null,
      'POINT(1 2)',
      JSON.stringify(point(13.4, 52.47)),
      { type: 'Point' },
      { type: 'Point', coordinates: [Number.NaN, 1] },
      { type: 'Polygon', coordinates: [[[0, 0], [1, 1]]] },
      { type: 'GeometryCollection', geometries: [] },
      { type: 'Circle', coordinates: [1, 2] },
      [1, 2],
    ];
    for (const georel of ['near;maxDistance==1000', 'near;minDistance==1', 'within', 'contains', 'intersects', 'equals', 'disjoint', 'overlaps']) {
      for (const value of odd) expect(matchesGeoQuery(query(georel, BERLIN), located(value))).toBe(false);
    }
    const broken = { id: 'x', type: [], createdAt: T, modifiedAt: T, attrs: { [LOCATION]: [null] } } as unknown as Entity;
    expect(matchesGeoQuery(query('within', BERLIN), broken)).toBe(false);
  });
});

describe('queryBoundingBox', () => {
  const contains = (b: BBox | undefined, [lon, lat]: number[]): boolean => !!b && lon! >= b[0] && lon! <= b[2] && lat! >= b[1] && lat! <= b[3];
  it('must scan (undefined) for disjoint and near;minDistance', () => {
    expect(queryBoundingBox(query('disjoint', BERLIN))).toBeUndefined();
    expect(queryBoundingBox(query('near;minDistance==10', TEMPELHOF))).toBeUndefined();
  });
  it('the reference geometry bbox for within, contains, intersects, equals, overlaps', () => {
    for (const georel of ['within', 'contains', 'intersects', 'equals', 'overlaps']) {
      expect(queryBoundingBox(query(georel, box(1, 2, 3, 4)))).toEqual([1, 2, 3, 4]);
    }
  });
  it('near;maxDistance: the point grown by the distance, wider in longitude away from the equator', () => {
    const b = queryBoundingBox(query('near;maxDistance==1111.95', point(0, 0)))!;
    expect(b[3]).toBeCloseTo(0.01, 4);
    expect(b[2]).toBeCloseTo(0.01, 4);
    const north = queryBoundingBox(query('near;maxDistance==1111.95', point(0, 60)))!;
    expect(north[3] - 60).toBeCloseTo(0.01, 4);
    expect(north[2]).toBeGreaterThan(0.02); // 0.01 / cos(60°)
    // Points exactly at the distance in each direction are inside.
    for (const p of [[0, 0.00999], [0.00999, 0], [-0.00999, 0], [0, -0.00999]]) expect(contains(b, p)).toBe(true);
  });
  it('near a pole or across the antimeridian: every longitude', () => {
    expect(queryBoundingBox(query('near;maxDistance==20000', point(10, 89.9)))).toEqual([-180, expect.any(Number), 180, 90]);
    const b = queryBoundingBox(query('near;maxDistance==5000', point(179.99, 10)))!;
    expect([b[0], b[2]]).toEqual([-180, 180]);
    expect(b[1]).toBeGreaterThan(9.9);
  });
  it('property: a point at distance d from the reference lies in the box for maxDistance d', () => {
    const lonLat = fc.tuple(fc.double({ min: -180, max: 180, noNaN: true }), fc.double({ min: -90, max: 90, noNaN: true }));
    // Nearby points too, not only antipodal-ish pairs: offsets of up to a degree.
    const near = fc.tuple(lonLat, fc.double({ min: -1, max: 1, noNaN: true }), fc.double({ min: -1, max: 1, noNaN: true })).map(([[lon, lat], dx, dy]) => [
      [lon, lat],
      [clampTo(lon + dx, 180), clampTo(lat + dy, 90)],
    ]);
    fc.assert(
      fc.property(fc.oneof(fc.tuple(lonLat, lonLat), near), ([c, p]) => {
        const d = geometryDistance(point(c[0]!, c[1]!), point(p[0]!, p[1]!));
        fc.pre(d > 0.001);
        expect(contains(queryBoundingBox(query(`near;maxDistance==${d}`, point(c[0]!, c[1]!))), p)).toBe(true);
      }),
      { numRuns: 3000 },
    );
  });
  it('a distance beyond a quarter of the earth: the whole world', () => {
    expect(queryBoundingBox(query('near;maxDistance==20000000', point(0, 0)))).toEqual([-180, -90, 180, 90]);
  });
});
