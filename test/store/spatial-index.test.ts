import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Entity } from '../../src/model/entity.js';
import { booleanDisjoint } from '@turf/boolean-disjoint';
import { booleanIntersects } from '@turf/boolean-intersects';
import {
  type BBox,
  geometryBBox,
  geometryContains,
  geometryDistance,
  geometryEquals,
  geometryOverlaps,
  matchesGeoQuery,
  queryBoundingBox,
} from '../../src/query/geo-match.js';
import { type GeoQuery, type QueryGeometry, parseGeoQuery } from '../../src/query/geo-query.js';
import { SpatialIndex } from '../../src/store/embedded/spatial-index.js';

const LOCATION = 'https://uri.etsi.org/ngsi-ld/location';
const OBSERVATION_SPACE = 'https://uri.etsi.org/ngsi-ld/observationSpace';
const T = '2024-01-01T00:00:00.000Z';

/** mulberry32: a small seeded generator, so that a failure replays. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const point = (lon: number, lat: number): QueryGeometry => ({ type: 'Point', coordinates: [lon, lat] });
const clamp = (v: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, v));

/** A convex polygon of `sides` vertices around (lon, lat), radius in degrees, kept inside valid coordinates. */
function blob(lon: number, lat: number, radius: number, sides: number, phase: number): QueryGeometry {
  const ring: number[][] = [];
  for (let i = 0; i < sides; i++) {
    const a = phase + (2 * Math.PI * i) / sides;
    ring.push([clamp(lon + radius * Math.cos(a), -180, 180), clamp(lat + radius * Math.sin(a), -90, 90)]);
  }
  ring.push([...ring[0]!]);
  return { type: 'Polygon', coordinates: [ring] };
}

/**
 * 5000 geometries, 30% of them small polygons: half in a European cluster so that small queries find something,
 * dense bands along both sides of the antimeridian and in both polar caps (where a bbox must widen or wrap),
 * and the rest anywhere.
 */
function world(seed: number, n = 5000): Map<string, QueryGeometry> {
  const r = rng(seed);
  const out = new Map<string, QueryGeometry>();
  for (let i = 0; i < n; i++) {
    const where = r();
    let lon = -180 + r() * 360;
    let lat = -89.9 + r() * 179.8;
    if (where < 0.5) [lon, lat] = [2 + r() * 12, 45 + r() * 8];
    else if (where < 0.65) [lon, lat] = [(r() < 0.5 ? -1 : 1) * (179 + r()), -70 + r() * 140];
    else if (where < 0.8) lat = (r() < 0.5 ? -1 : 1) * (80 + r() * 9.99);
    const g = r() < 0.3 ? blob(lon, lat, 0.001 + r() * (where < 0.5 ? 0.05 : 0.5), 3 + Math.floor(r() * 5), r() * 6) : point(lon, lat);
    out.set(`urn:ngsi-ld:Thing:${i}`, g);
  }
  return out;
}

const entity = (id: string, g: QueryGeometry): Entity => ({
  id,
  type: ['https://example.org/Thing'],
  createdAt: T,
  modifiedAt: T,
  attrs: { [LOCATION]: [{ type: 'GeoProperty', value: g, createdAt: T, modifiedAt: T }] },
});

function query(georel: string, g: QueryGeometry): GeoQuery {
  return parseGeoQuery({ georel, geometry: g.type, coordinates: g.coordinates }, (t) => t)!;
}

const GEOMETRIES = world(20240611);
const ENTITIES = [...GEOMETRIES].map(([id, g]) => entity(id, g));
const INDEX = new SpatialIndex();
INDEX.load([...GEOMETRIES].map(([id, g]) => ({ id, attr: LOCATION, geometries: [g] })));

/**
 * The predicates evaluated without any bounding box: matchesGeoQuery prunes with queryBoundingBox itself, so
 * comparing the index against it would not catch a box that is too small.
 */
function bruteForce(q: GeoQuery, g: QueryGeometry): boolean {
  const ref = q.geometry;
  switch (q.georel) {
    case 'near':
      return 'maxDistance' in q ? geometryDistance(ref, g) <= q.maxDistance : geometryDistance(ref, g) > q.minDistance;
    case 'within':
      return geometryContains(ref, g);
    case 'contains':
      return geometryContains(g, ref);
    case 'intersects':
      return booleanIntersects(g, ref);
    case 'disjoint':
      return booleanDisjoint(g, ref);
    case 'equals':
      return geometryEquals(g, ref);
    case 'overlaps':
      return geometryOverlaps(g, ref);
  }
}

function check(q: GeoQuery): { candidates: Set<string>; matches: string[] } {
  const box = queryBoundingBox(q);
  const candidates = box ? INDEX.search(LOCATION, box) : INDEX.ids(LOCATION);
  const matches = [...GEOMETRIES].filter(([, g]) => bruteForce(q, g)).map(([id]) => id);
  // matchesGeoQuery, pruning included, must agree with the unpruned predicates.
  expect(ENTITIES.filter((e) => matchesGeoQuery(q, e)).map((e) => e.id)).toEqual(matches);
  const missed = matches.filter((id) => !candidates.has(id));
  expect(missed, `${JSON.stringify(q)} box ${JSON.stringify(box)}: missed ${missed.map((id) => JSON.stringify(GEOMETRIES.get(id)))}`).toEqual([]);
  return { candidates, matches };
}

describe('SpatialIndex: candidates are a superset of the true matches (5000 geometries)', () => {
  it('indexes every geometry', () => {
    expect(INDEX.size).toBe(5000);
    expect(INDEX.ids(LOCATION).size).toBe(5000);
  });

  it('within a small box: all matches found, and far fewer candidates than entities', () => {
    const q = query('within', blob(8, 49, 0.5, 4, Math.PI / 4));
    const { candidates, matches } = check(q);
    expect(matches.length).toBeGreaterThan(5);
    expect(candidates.size).toBeLessThan(ENTITIES.length / 20);
  });

  it('near;maxDistance==2000 around many points, in the cluster and anywhere', () => {
    const r = rng(7);
    let found = 0;
    for (let i = 0; i < 40; i++) {
      // Half of the query points are stored points, so that matches exist.
      const at = i % 2 === 0 ? (ENTITIES[Math.floor(r() * ENTITIES.length)]!.attrs[LOCATION]![0]!.value as QueryGeometry) : point(-180 + r() * 360, -90 + r() * 180);
      const centre = at.type === 'Point' ? at : point(...(at.coordinates as number[][][])[0]![0]! as [number, number]);
      const { candidates, matches } = check(query('near;maxDistance==2000', centre));
      found += matches.length;
      expect(candidates.size).toBeLessThan(ENTITIES.length / 20);
    }
    expect(found).toBeGreaterThan(20);
  });

  it('near;maxDistance at the poles and across the antimeridian, small to large distances', () => {
    const r = rng(3);
    const spots = [point(8, 49), point(179.9, 0), point(-179.95, 60), point(0, 89.95), point(45, -89.9), point(-120, 70)];
    for (let i = 0; i < 30; i++) spots.push(point((r() < 0.5 ? -1 : 1) * (179 + r()), -70 + r() * 140));
    for (let i = 0; i < 30; i++) spots.push(point(-180 + r() * 360, (r() < 0.5 ? -1 : 1) * (80 + r() * 9.99)));
    let found = 0;
    for (const centre of spots) {
      for (const d of [20_000, 80_000, 300_000, 1_500_000]) found += check(query(`near;maxDistance==${d}`, centre)).matches.length;
    }
    expect(found).toBeGreaterThan(1000);
  });

  it('near;maxDistance around a polygon, and the other georels', () => {
    const r = rng(99);
    for (let i = 0; i < 15; i++) {
      const ref = blob(2 + r() * 12, 45 + r() * 8, 0.05 + r() * 0.5, 3 + Math.floor(r() * 4), r() * 6);
      for (const georel of ['near;maxDistance==3000', 'within', 'intersects', 'contains', 'overlaps', 'equals']) check(query(georel, ref));
    }
    // A reference geometry equal to a stored one, and a point inside stored polygons.
    const stored = [...GEOMETRIES.values()].find((g) => g.type === 'Polygon')!;
    expect(check(query('equals', stored)).matches.length).toBeGreaterThan(0);
    expect(check(query('overlaps', stored)).candidates.size).toBeGreaterThan(0);
  });

  it('disjoint and near;minDistance cannot prune: every holder is a candidate', () => {
    expect(queryBoundingBox(query('disjoint', point(8, 49)))).toBeUndefined();
    expect(check(query('near;minDistance==2000', point(8, 49))).candidates.size).toBe(5000);
  });
});

describe('SpatialIndex: maintenance', () => {
  const everywhere: BBox = [-180, -90, 180, 90];

  it('upsert replaces, removeAttr and remove take out', () => {
    const index = new SpatialIndex();
    index.upsert('a', LOCATION, [point(1, 1)]);
    index.upsert('a', OBSERVATION_SPACE, [blob(5, 5, 1, 4, 0)]);
    index.upsert('b', LOCATION, [point(2, 2), point(50, 50)]);
    expect(index.search(LOCATION, [0, 0, 3, 3])).toEqual(new Set(['a', 'b']));
    expect(index.search(LOCATION, [49, 49, 51, 51])).toEqual(new Set(['b']));
    expect(index.search(OBSERVATION_SPACE, [5.5, 5.5, 5.6, 5.6])).toEqual(new Set(['a']));

    index.upsert('a', LOCATION, [point(10, 10)]);
    expect(index.search(LOCATION, [0, 0, 3, 3])).toEqual(new Set(['b']));
    expect(index.search(LOCATION, [9, 9, 11, 11])).toEqual(new Set(['a']));

    index.removeAttr('a', OBSERVATION_SPACE);
    expect(index.search(OBSERVATION_SPACE, everywhere).size).toBe(0);
    expect(index.has('a')).toBe(true);
    expect(index.has('a', OBSERVATION_SPACE)).toBe(false);

    index.remove('b');
    expect(index.search(LOCATION, everywhere)).toEqual(new Set(['a']));
    expect(index.ids(LOCATION)).toEqual(new Set(['a']));
    index.upsert('a', LOCATION, []);
    expect(index.size).toBe(0);
  });

  it('skips values that are not geometries instead of throwing', () => {
    const index = new SpatialIndex();
    index.upsert('a', LOCATION, [null, 'POINT(1 2)', { type: 'Point', coordinates: [Number.NaN, 1] }, { type: 'Point' }, point(1, 2)]);
    expect(index.search(LOCATION, everywhere)).toEqual(new Set(['a']));
    index.upsert('b', LOCATION, [{ type: 'Polygon', coordinates: [[[0, 0]]] }]);
    expect(index.has('b')).toBe(false);
  });

  it('a bulk load replaces what it names (the last entry of a pair wins) and keeps the rest', () => {
    const index = new SpatialIndex();
    index.upsert('a', LOCATION, [point(1, 1)]);
    index.upsert('keep', LOCATION, [point(3, 3)]);
    index.load([
      { id: 'a', attr: LOCATION, geometries: [point(20, 20)] },
      { id: 'a', attr: LOCATION, geometries: [point(21, 21)] },
      { id: 'c', attr: LOCATION, geometries: [point(1.5, 1.5)] },
    ]);
    expect(index.search(LOCATION, [0, 0, 4, 4])).toEqual(new Set(['c', 'keep']));
    expect(index.search(LOCATION, [19, 19, 22, 22])).toEqual(new Set(['a']));
    expect(index.search(LOCATION, [19, 19, 20.5, 20.5])).toEqual(new Set());
    index.load([{ id: 'keep', attr: OBSERVATION_SPACE, geometries: [point(3, 3)] }]);
    expect(index.size).toBe(3);
    index.remove('a');
    expect(index.search(LOCATION, everywhere)).toEqual(new Set(['c', 'keep']));
  });

  it('agrees with a brute-force model under random operations (fast-check)', () => {
    const ids = fc.constantFrom('a', 'b', 'c', 'd', 'e');
    const attrs = fc.constantFrom(LOCATION, OBSERVATION_SPACE);
    const geom = fc
      .tuple(fc.double({ min: -179, max: 179, noNaN: true }), fc.double({ min: -89, max: 89, noNaN: true }), fc.boolean())
      .map(([lon, lat, poly]) => (poly ? blob(lon, lat, 0.5, 4, 0) : point(lon, lat)));
    const op = fc.oneof(
      fc.record({ kind: fc.constant('upsert' as const), id: ids, attr: attrs, gs: fc.array(geom, { maxLength: 3 }) }),
      fc.record({ kind: fc.constant('removeAttr' as const), id: ids, attr: attrs }),
      fc.record({ kind: fc.constant('remove' as const), id: ids }),
      fc.record({ kind: fc.constant('load' as const), entries: fc.array(fc.record({ id: ids, attr: attrs, gs: fc.array(geom, { maxLength: 2 }) }), { maxLength: 4 }) }),
    );
    const boxArb = fc
      .tuple(fc.double({ min: -180, max: 180, noNaN: true }), fc.double({ min: -90, max: 90, noNaN: true }), fc.double({ min: 0, max: 90, noNaN: true }))
      .map(([w, s, size]): BBox => [w, s, Math.min(180, w + size), Math.min(90, s + size)]);
    fc.assert(
      fc.property(fc.array(op, { maxLength: 25 }), fc.array(boxArb, { minLength: 1, maxLength: 4 }), (ops, boxes) => {
        const index = new SpatialIndex();
        const model = new Map<string, QueryGeometry[]>(); // `${attr} ${id}` -> geometries
        for (const o of ops) {
          if (o.kind === 'upsert') {
            index.upsert(o.id, o.attr, o.gs);
            if (o.gs.length) model.set(`${o.attr} ${o.id}`, o.gs);
            else model.delete(`${o.attr} ${o.id}`);
          } else if (o.kind === 'removeAttr') {
            index.removeAttr(o.id, o.attr);
            model.delete(`${o.attr} ${o.id}`);
          } else if (o.kind === 'remove') {
            index.remove(o.id);
            for (const k of [...model.keys()]) if (k.endsWith(` ${o.id}`)) model.delete(k);
          } else {
            index.load(o.entries.map((e) => ({ id: e.id, attr: e.attr, geometries: e.gs })));
            for (const e of o.entries) {
              const k = `${e.attr} ${e.id}`;
              if (e.gs.length) model.set(k, e.gs);
              else model.delete(k);
            }
          }
        }
        for (const attr of [LOCATION, OBSERVATION_SPACE]) {
          for (const box of boxes) {
            const expected = new Set<string>();
            for (const [k, gs] of model) {
              if (!k.startsWith(`${attr} `)) continue;
              const hit = gs.some((g) => {
                const b = geometryBBox(g)!;
                return b[0] <= box[2] && box[0] <= b[2] && b[1] <= box[3] && box[1] <= b[3];
              });
              if (hit) expected.add(k.slice(attr.length + 1));
            }
            expect(index.search(attr, box)).toEqual(expected);
          }
          const holders = [...model.keys()].filter((k) => k.startsWith(`${attr} `)).map((k) => k.slice(attr.length + 1));
          expect(index.ids(attr)).toEqual(new Set(holders));
        }
      }),
      { numRuns: 300 },
    );
  });
});
