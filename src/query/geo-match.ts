import type { LineString, Point, Polygon, Position } from 'geojson';
import { bbox as turfBbox } from '@turf/bbox';
import { booleanContains } from '@turf/boolean-contains';
import { booleanDisjoint } from '@turf/boolean-disjoint';
import { booleanEqual } from '@turf/boolean-equal';
import { booleanIntersects } from '@turf/boolean-intersects';
import { booleanOverlap } from '@turf/boolean-overlap';
import { booleanPointInPolygon } from '@turf/boolean-point-in-polygon';
import { distance as haversine } from '@turf/distance';
import { earthRadius } from '@turf/helpers';
import type { Entity } from '../model/entity.js';
import { validateGeometry } from '../common/geometry.js';
import type { GeoQuery, QueryGeometry } from './geo-query.js';

/**
 * Evaluation of geo-queries (clause 4.10) against entities in memory, with turf.
 *
 * Geometries are read the way turf reads them: edges are straight lines in longitude/latitude (planar), so a
 * bounding box computed from the coordinates really bounds the shape and the spatial index can prune with it.
 * Distances (near) are great-circle metres on turf's spherical earth (radius 6371008.8 m).
 */

/** [minLon, minLat, maxLon, maxLat]. */
export type BBox = [number, number, number, number];

const WORLD: BBox = [-180, -90, 180, 90];
const DEG = Math.PI / 180;

type Single = Point | LineString | Polygon;

const DIMENSION: Record<QueryGeometry['type'], number> = {
  Point: 0,
  MultiPoint: 0,
  LineString: 1,
  MultiLineString: 1,
  Polygon: 2,
  MultiPolygon: 2,
};

/** The geometry a stored GeoProperty value holds, or undefined when it is not a usable one. */
export function asGeometry(value: unknown): QueryGeometry | undefined {
  try {
    validateGeometry('', value);
    return value as QueryGeometry;
  } catch {
    return undefined;
  }
}

/** The usable geometries of every instance (default and datasetId ones) of a GeoProperty. */
export function geoPropertyValues(entity: Entity, attr: string): QueryGeometry[] {
  const out: QueryGeometry[] = [];
  for (const instance of entity.attrs?.[attr] ?? []) {
    if (instance?.type !== 'GeoProperty') continue;
    const g = asGeometry(instance.value);
    if (g) out.push(g);
  }
  return out;
}

export function geometryBBox(g: QueryGeometry): BBox | undefined {
  // recompute: a client-supplied "bbox" member on the geometry is not to be trusted.
  const [w, s, e, n] = turfBbox(g, { recompute: true });
  return [w, s, e, n].every(Number.isFinite) ? [w!, s!, e!, n!] : undefined;
}

const intersectsBox = (a: BBox, b: BBox): boolean => a[0] <= b[2] && b[0] <= a[2] && a[1] <= b[3] && b[1] <= a[3];
const insideBox = (inner: BBox, outer: BBox): boolean =>
  inner[0] >= outer[0] && inner[2] <= outer[2] && inner[1] >= outer[1] && inner[3] <= outer[3];

/**
 * The box `box` grows to when every point within `metres` (great-circle) of it is added. Latitude grows by the
 * angular distance; longitude by that over the cosine of the highest latitude reachable, since a path of length d
 * starting at latitude φ never gets further poleward than φ + d. A box that reaches a pole or wraps across the
 * antimeridian takes every longitude: a safe superset is all an index needs.
 */
export function expandBBox(box: BBox, metres: number): BBox {
  // 0.1% and a nanodegree of slack for rounding in haversine and in the trigonometry here.
  const r = ((metres / earthRadius) / DEG) * 1.001 + 1e-9;
  if (!(r < 90)) return [...WORLD];
  const south = box[1] - r;
  const north = box[3] + r;
  const highest = Math.max(Math.abs(south), Math.abs(north));
  const s = Math.max(-90, south);
  const n = Math.min(90, north);
  if (highest >= 89.999) return [-180, s, 180, n];
  const dLon = r / Math.cos(highest * DEG);
  const w = box[0] - dLon;
  const e = box[2] + dLon;
  if (w < -180 || e > 180) return [-180, s, 180, n];
  return [w, s, e, n];
}

/**
 * The box an index has to search for a query: every matching geometry's bbox intersects it. Undefined when
 * matches may lie anywhere (disjoint, near;minDistance), i.e. every entity holding the geoproperty is a candidate.
 */
export function queryBoundingBox(q: GeoQuery): BBox | undefined {
  if (q.georel === 'disjoint') return undefined;
  if (q.georel === 'near' && !('maxDistance' in q)) return undefined;
  const box = geometryBBox(q.geometry);
  if (!box) return [...WORLD];
  return q.georel === 'near' && 'maxDistance' in q ? expandBBox(box, q.maxDistance) : box;
}

function parts(g: QueryGeometry): Single[] {
  switch (g.type) {
    case 'MultiPoint':
      return g.coordinates.map((coordinates) => ({ type: 'Point', coordinates }));
    case 'MultiLineString':
      return g.coordinates.map((coordinates) => ({ type: 'LineString', coordinates }));
    case 'MultiPolygon':
      return g.coordinates.map((coordinates) => ({ type: 'Polygon', coordinates }));
    default:
      return [g];
  }
}

function vertices(g: QueryGeometry): Position[] {
  switch (g.type) {
    case 'Point':
      return [g.coordinates];
    case 'MultiPoint':
    case 'LineString':
      return g.coordinates;
    case 'MultiLineString':
    case 'Polygon':
      return g.coordinates.flat();
    case 'MultiPolygon':
      return g.coordinates.flat(2);
  }
}

const metresBetween = (a: Position, b: Position): number => haversine(a, b, { units: 'meters' });

/**
 * Metres from p to the segment a-b. The foot is found on the straight lon/lat segment (the edge every other
 * predicate here uses) in a projection scaled by cos(latitude of p), then measured by haversine; so the result
 * is the distance to an actual point of the edge, never less than the true minimum, and inside the edge's bbox.
 */
function toSegment(p: Position, a: Position, b: Position): number {
  const k = Math.cos(p[1]! * DEG);
  const ax = (a[0]! - p[0]!) * k;
  const ay = a[1]! - p[1]!;
  const vx = (b[0]! - a[0]!) * k;
  const vy = b[1]! - a[1]!;
  const len2 = vx * vx + vy * vy;
  const t = len2 === 0 ? 0 : Math.min(1, Math.max(0, -(ax * vx + ay * vy) / len2));
  return metresBetween(p, [a[0]! + t * (b[0]! - a[0]!), a[1]! + t * (b[1]! - a[1]!)]);
}

function toPath(p: Position, path: Position[]): number {
  let best = Infinity;
  for (let i = 1; i < path.length && best > 0; i++) best = Math.min(best, toSegment(p, path[i - 1]!, path[i]!));
  return best;
}

function pointToSingle(p: Position, g: Single): number {
  switch (g.type) {
    case 'Point':
      return metresBetween(p, g.coordinates);
    case 'LineString':
      return toPath(p, g.coordinates);
    case 'Polygon':
      // Inside or on the boundary: the point is in the polygon, distance 0; else the nearest edge, holes included.
      if (booleanPointInPolygon(p, g)) return 0;
      return minOf(g.coordinates, (ring) => toPath(p, ring));
  }
}

// A loop rather than Math.min(...xs): a multi-geometry may have more parts than a call takes arguments.
function minOf<T>(xs: readonly T[], f: (x: T) => number): number {
  let best = Infinity;
  for (let i = 0; i < xs.length && best > 0; i++) best = Math.min(best, f(xs[i]!));
  return best;
}

const pointToGeometry = (p: Position, g: QueryGeometry): number => minOf(parts(g), (s) => pointToSingle(p, s));

/**
 * Shortest distance in metres between two geometries: 0 when they meet; otherwise it is reached at a vertex of
 * one of them, measured to the other.
 */
export function geometryDistance(a: QueryGeometry, b: QueryGeometry): number {
  if (a.type === 'Point') return pointToGeometry(a.coordinates, b);
  if (b.type === 'Point') return pointToGeometry(b.coordinates, a);
  if (booleanIntersects(a, b)) return 0;
  return Math.min(minOf(vertices(a), (p) => pointToGeometry(p, b)), minOf(vertices(b), (p) => pointToGeometry(p, a)));
}

/**
 * DE-9IM "contains" (a contains b). turf implements it for most pairs and throws for the rest; those are
 * decomposed: b multi-part is contained when each part is, a multi-part contains b when one of its parts does
 * (b spread across several parts of a is missed, an accepted approximation), and a lower dimension never
 * contains a higher one.
 */
export function geometryContains(a: QueryGeometry, b: QueryGeometry): boolean {
  if (DIMENSION[b.type] > DIMENSION[a.type]) return false;
  try {
    return booleanContains(a, b);
  } catch {
    // a pair turf does not implement; fall through.
  }
  if (b.type.startsWith('Multi')) return parts(b).every((p) => geometryContains(a, p));
  if (a.type.startsWith('Multi')) return parts(a).some((p) => geometryContains(p, b));
  return false;
}

/** Single-part multi-geometries read as their part, altitude dropped: topological equality ignores both. */
function normalize(g: QueryGeometry): QueryGeometry {
  const flat = (p: Position): Position => [p[0]!, p[1]!];
  const single = parts(g);
  const one = single.length === 1 ? single[0]! : g;
  switch (one.type) {
    case 'Point':
      return { type: 'Point', coordinates: flat(one.coordinates) };
    case 'MultiPoint':
    case 'LineString':
      return { type: one.type, coordinates: one.coordinates.map(flat) } as QueryGeometry;
    case 'MultiLineString':
    case 'Polygon':
      return { type: one.type, coordinates: one.coordinates.map((l) => l.map(flat)) } as QueryGeometry;
    case 'MultiPolygon':
      return { type: 'MultiPolygon', coordinates: one.coordinates.map((pl) => pl.map((l) => l.map(flat))) };
  }
}

/** DE-9IM "equals", to turf's default precision of 6 decimals (about 10 cm, as clause 4.7.2 notes). */
export function geometryEquals(a: QueryGeometry, b: QueryGeometry): boolean {
  const na = normalize(a);
  const nb = normalize(b);
  if (na.type !== nb.type) return false;
  try {
    return booleanEqual(na, nb);
  } catch {
    // turf's cleanCoords rejects degenerate rings (all vertices alike): fall back to literal equality.
    return JSON.stringify(na.coordinates) === JSON.stringify(nb.coordinates);
  }
}

const positionKey = (p: Position): string => `${p[0]},${p[1]}`;

/** The segments of a (multi-)line string. */
function lineSegments(g: QueryGeometry): [Position, Position][] {
  const out: [Position, Position][] = [];
  for (const part of parts(g)) {
    if (part.type !== 'LineString') continue;
    const path = part.coordinates;
    for (let i = 1; i < path.length; i++) out.push([path[i - 1]!, path[i]!]);
  }
  return out;
}

/** Do two segments run along each other for a positive length? (turf's lineOverlap misses partial overlaps.) */
function shareStretch([a, b]: [Position, Position], [c, d]: [Position, Position]): boolean {
  const vx = b[0]! - a[0]!;
  const vy = b[1]! - a[1]!;
  const len2 = vx * vx + vy * vy;
  if (len2 === 0) return false;
  const eps = 1e-12 * len2;
  const cross = (p: Position): number => vx * (p[1]! - a[1]!) - vy * (p[0]! - a[0]!);
  if (Math.abs(cross(c)) > eps || Math.abs(cross(d)) > eps) return false;
  const t = (p: Position): number => (vx * (p[0]! - a[0]!) + vy * (p[1]! - a[1]!)) / len2;
  const [tc, td] = [t(c), t(d)];
  return Math.min(1, Math.max(tc, td)) - Math.max(0, Math.min(tc, td)) > 1e-12;
}

/**
 * DE-9IM "overlaps": same dimension, the interiors meet in that dimension, and neither contains the other.
 * Points are compared as sets, lines by collinear stretches. For polygons turf's test is "some edges meet", so
 * polygons that only touch along their boundaries count as overlapping here.
 */
export function geometryOverlaps(a: QueryGeometry, b: QueryGeometry): boolean {
  if (DIMENSION[a.type] !== DIMENSION[b.type]) return false;
  if (DIMENSION[a.type] === 0) {
    const sa = new Set(vertices(a).map(positionKey));
    const sb = new Set(vertices(b).map(positionKey));
    const shared = [...sa].filter((k) => sb.has(k)).length;
    return shared > 0 && shared < sa.size && shared < sb.size;
  }
  if (geometryEquals(a, b)) return false;
  if (DIMENSION[a.type] === 1) {
    const sb = lineSegments(b);
    if (!lineSegments(a).some((x) => sb.some((y) => shareStretch(x, y)))) return false;
  } else if (!booleanOverlap(a, b)) return false;
  return !geometryContains(a, b) && !geometryContains(b, a);
}

interface Compiled {
  /** bbox of the reference geometry (or of its maxDistance buffer): matches must meet it. */
  box: BBox | undefined;
}

// Queries are immutable plain data, evaluated against many entities: work out their bbox once.
const compiledQueries = new WeakMap<GeoQuery, Compiled>();

function compile(q: GeoQuery): Compiled {
  let c = compiledQueries.get(q);
  if (!c) {
    c = { box: q.georel === 'disjoint' ? geometryBBox(q.geometry) : queryBoundingBox(q) };
    compiledQueries.set(q, c);
  }
  return c;
}

/** Does the target geometry `g` stand in the relation the query asks for to the reference geometry? */
function relates(q: GeoQuery, box: BBox | undefined, g: QueryGeometry): boolean {
  const ref = q.geometry;
  const gBox = geometryBBox(g);
  if (!gBox) return false;
  const meets = box === undefined || intersectsBox(gBox, box);
  switch (q.georel) {
    case 'near':
      // maxDistance: inside the (closed) buffer; minDistance: disjoint from it, so strictly further away.
      return 'maxDistance' in q ? meets && geometryDistance(ref, g) <= q.maxDistance : geometryDistance(ref, g) > q.minDistance;
    case 'within':
      return box !== undefined && insideBox(gBox, box) && geometryContains(ref, g);
    case 'contains':
      return box !== undefined && insideBox(box, gBox) && geometryContains(g, ref);
    case 'intersects':
      return meets && booleanIntersects(g, ref);
    case 'disjoint':
      return !meets || booleanDisjoint(g, ref);
    case 'equals':
      return meets && geometryEquals(g, ref);
    case 'overlaps':
      return meets && geometryOverlaps(g, ref);
  }
}

/**
 * Clause 4.10: the entity matches when one instance of the target GeoProperty (any datasetId) relates to the
 * reference geometry as asked. Entities without the GeoProperty never match, whatever the georel, disjoint
 * included ("shall be considered as non-matching"). Unusable stored data is a non-match, never an exception.
 */
export function matchesGeoQuery(q: GeoQuery, entity: Entity): boolean {
  try {
    const values = geoPropertyValues(entity, q.geoproperty);
    if (values.length === 0) return false;
    const { box } = compile(q);
    return values.some((g) => {
      try {
        return relates(q, box, g);
      } catch {
        return false;
      }
    });
  } catch {
    return false;
  }
}
