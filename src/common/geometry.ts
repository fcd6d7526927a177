import { badRequest } from './errors.js';

/**
 * GeoJSON geometries a GeoProperty may hold (clause 4.7): every type but GeometryCollection.
 * Coordinates are checked here so that nothing invalid reaches the spatial index.
 */
export const GEOMETRY_TYPES = ['Point', 'MultiPoint', 'LineString', 'MultiLineString', 'Polygon', 'MultiPolygon'] as const;

type Position = number[];

function fail(attr: string, detail: string): never {
  throw badRequest(`GeoProperty "${attr}" has an invalid GeoJSON value: ${detail} (clause 4.7, IETF RFC 7946)`);
}

function position(attr: string, p: unknown, where: string): Position {
  if (!Array.isArray(p) || p.length < 2 || p.length > 3 || !p.every((n) => typeof n === 'number' && Number.isFinite(n))) {
    return fail(attr, `${where} must be a position [longitude, latitude] or [longitude, latitude, altitude] of numbers`);
  }
  const [lon, lat] = p as number[];
  if (lon! < -180 || lon! > 180) fail(attr, `${where} has longitude ${lon} outside [-180, 180]`);
  if (lat! < -90 || lat! > 90) fail(attr, `${where} has latitude ${lat} outside [-90, 90]`);
  return p as number[];
}

function positions(attr: string, list: unknown, where: string, min: number): Position[] {
  if (!Array.isArray(list)) return fail(attr, `${where} must be an array of positions`);
  if (list.length < min) fail(attr, `${where} needs at least ${min} positions, got ${list.length}`);
  return list.map((p, i) => position(attr, p, `${where}[${i}]`));
}

function ring(attr: string, list: unknown, where: string): void {
  const ps = positions(attr, list, where, 4);
  const first = ps[0]!;
  const last = ps[ps.length - 1]!;
  if (first[0] !== last[0] || first[1] !== last[1]) fail(attr, `${where} is not closed (first and last positions differ)`);
}

function polygon(attr: string, rings: unknown, where: string): void {
  if (!Array.isArray(rings) || rings.length === 0) fail(attr, `${where} must be a non-empty array of linear rings`);
  (rings as unknown[]).forEach((r, i) => ring(attr, r, `${where}[${i}]`));
}

function listOf(attr: string, items: unknown, where: string, each: (x: unknown, w: string) => void): void {
  if (!Array.isArray(items) || items.length === 0) fail(attr, `${where} must be a non-empty array`);
  (items as unknown[]).forEach((x, i) => each(x, `${where}[${i}]`));
}

export function isGeometryLike(value: unknown): boolean {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    typeof (value as { type?: unknown }).type === 'string' &&
    ((GEOMETRY_TYPES as readonly string[]).includes((value as { type: string }).type) ||
      (value as { type: string }).type === 'GeometryCollection')
  );
}

/** Throws BadRequestData naming the attribute and the first problem found. */
export function validateGeometry(attr: string, value: unknown): void {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(attr, 'it must be a GeoJSON geometry object');
  const g = value as { type?: unknown; coordinates?: unknown };
  if (g.type === 'GeometryCollection') fail(attr, 'GeometryCollection is not supported by NGSI-LD');
  const c = g.coordinates;
  switch (g.type) {
    case 'Point':
      position(attr, c, 'coordinates');
      return;
    case 'MultiPoint':
      positions(attr, c, 'coordinates', 1);
      return;
    case 'LineString':
      positions(attr, c, 'coordinates', 2);
      return;
    case 'MultiLineString':
      listOf(attr, c, 'coordinates', (l, w) => positions(attr, l, w, 2));
      return;
    case 'Polygon':
      polygon(attr, c, 'coordinates');
      return;
    case 'MultiPolygon':
      listOf(attr, c, 'coordinates', (p, w) => polygon(attr, p, w));
      return;
    default:
      fail(attr, `type must be one of ${GEOMETRY_TYPES.join(', ')}, got ${JSON.stringify(g.type)}`);
  }
}
