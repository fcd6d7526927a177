import type { LineString, MultiLineString, MultiPoint, MultiPolygon, Point, Polygon } from 'geojson';
import { badRequest, NgsiError } from '../common/errors.js';
import { isValidName } from '../common/syntax.js';
import { GEOMETRY_TYPES, validateGeometry } from '../common/geometry.js';

/**
 * Geo-queries, clause 4.10 (URL parameters in 6.4.3.2, the GeoQuery data type of POST queries and
 * subscriptions in 5.2.13). The parsed form is plain JSON so that it can sit in a query plan: the embedded
 * store evaluates it with geo-match.ts, a MongoDB backend translates it to $geoWithin/$geoIntersects/$nearSphere.
 */

/** The reference geometry: any GeoJSON geometry but GeometryCollection (4.10), coordinates as the client sent them. */
export type QueryGeometry = Point | MultiPoint | LineString | MultiLineString | Polygon | MultiPolygon;
export type QueryGeometryType = QueryGeometry['type'];

export const GEORELS = ['near', 'within', 'contains', 'intersects', 'equals', 'disjoint', 'overlaps'] as const;
export type GeoRel = (typeof GEORELS)[number];

interface GeoQueryCommon {
  /** The reference geometry. */
  geometry: QueryGeometry;
  /** Expanded name of the target GeoProperty; `location` when the query names none. */
  geoproperty: string;
}

/**
 * A parsed geo-query. `near` carries exactly one of maxDistance (match inside the buffer of that many metres
 * around the reference geometry) and minDistance (match outside it); narrow with `'maxDistance' in q`.
 */
export type GeoQuery =
  | (GeoQueryCommon & { georel: 'near'; maxDistance: number })
  | (GeoQueryCommon & { georel: 'near'; minDistance: number })
  | (GeoQueryCommon & { georel: Exclude<GeoRel, 'near'> });

export interface GeoQueryParams {
  georel?: string;
  geometry?: string;
  /** The URL parameter (a JSON array serialized as a string) or, in a POST body, the array itself (5.2.13). */
  coordinates?: string | unknown;
  geoproperty?: string;
}

/** The default target GeoProperty (clause 4.7.1), already expanded: it is a core term no @context may redefine. */
export const DEFAULT_GEOPROPERTY = 'https://uri.etsi.org/ngsi-ld/location';

function fail(detail: string, clause = 'clause 4.10'): never {
  throw badRequest(`Invalid geo-query: ${detail} (${clause})`);
}

const quote = (s: string): string => JSON.stringify(s.length > 80 ? `${s.slice(0, 80)}...` : s);

// RFC 8259 "number" without the minus sign (4.10 PositiveNumber); zero is ruled out after conversion.
const POSITIVE_NUMBER = /^(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?$/;
const NEAR = /^near;(maxDistance|minDistance)==(.*)$/s;

type ParsedRel = { georel: 'near'; maxDistance: number } | { georel: 'near'; minDistance: number } | { georel: Exclude<GeoRel, 'near'> };

function parseGeorel(text: unknown): ParsedRel {
  if (typeof text !== 'string') return fail(`georel must be a string, got ${typeof text}`);
  if (text === '') return fail('georel is empty');
  if (text === 'near' || text.startsWith('near;')) {
    const m = NEAR.exec(text);
    if (!m) return fail(`georel ${quote(text)} must be "near;maxDistance==<metres>" or "near;minDistance==<metres>"`);
    const [, modifier, number] = m as unknown as [string, 'maxDistance' | 'minDistance', string];
    if (!POSITIVE_NUMBER.test(number!)) {
      return fail(`georel ${quote(text)}: ${modifier} must be a positive number of metres, got ${quote(number!)}`);
    }
    const metres = Number(number);
    // "0", "0.0" and underflows like "1e-400" are zero; "1e400" overflows: neither is a usable distance.
    if (!(metres > 0) || !Number.isFinite(metres)) {
      return fail(`georel ${quote(text)}: ${modifier} must be a non-zero finite number of metres`);
    }
    return modifier === 'maxDistance' ? { georel: 'near', maxDistance: metres } : { georel: 'near', minDistance: metres };
  }
  if ((GEORELS as readonly string[]).includes(text)) return { georel: text as Exclude<GeoRel, 'near'> };
  return fail(`unknown georel ${quote(text)}; expected one of near;maxDistance==N, near;minDistance==N, ${GEORELS.slice(1).join(', ')}`);
}

function parseGeometryType(text: unknown): QueryGeometryType {
  if (typeof text !== 'string') return fail(`geometry must be a string, got ${typeof text}`);
  if ((GEOMETRY_TYPES as readonly string[]).includes(text)) return text as QueryGeometryType;
  if (text === 'GeometryCollection') return fail('geometry GeometryCollection is not allowed');
  const sameButCase = GEOMETRY_TYPES.find((t) => t.toLowerCase() === text.toLowerCase());
  const hint = sameButCase ? ` (names are case-sensitive: did you mean ${sameButCase}?)` : '';
  return fail(`unknown geometry ${quote(text)}${hint}; expected one of ${GEOMETRY_TYPES.join(', ')}`);
}

function parseCoordinates(raw: unknown): unknown[] {
  let value = raw;
  if (typeof raw === 'string') {
    if (raw.trim() === '') return fail('coordinates is empty');
    try {
      value = JSON.parse(raw);
    } catch {
      return fail(`coordinates ${quote(raw)} is not a JSON array`);
    }
  }
  if (!Array.isArray(value)) return fail(`coordinates must be a JSON array, got ${value === null ? 'null' : typeof value}`);
  return value;
}

// validateGeometry words its errors for entity attributes; keep only the part that describes the coordinates.
const ATTRIBUTE_PREFIX = /^GeoProperty ".*?" has an invalid GeoJSON value: /s;
const CLAUSE_SUFFIX = / \(clause 4\.7, IETF RFC 7946\)$/;

function checkGeometry(type: QueryGeometryType, coordinates: unknown[]): QueryGeometry {
  const geometry = { type, coordinates } as QueryGeometry;
  try {
    validateGeometry('coordinates', geometry);
  } catch (e) {
    if (!(e instanceof NgsiError)) throw e;
    const why = e.message.replace(ATTRIBUTE_PREFIX, '').replace(CLAUSE_SUFFIX, '');
    return fail(`coordinates do not form a valid ${type} (IETF RFC 7946): ${why}`);
  }
  return geometry;
}

/**
 * Parses the four geo-query parameters. Returns undefined when no geo-query is asked for: geoproperty alone
 * is then ignored (6.4.3.2). georel, geometry and coordinates go together: each "shall be 1" when another is
 * present (6.4.3.2), and all three are mandatory members of a GeoQuery (5.2.13). Throws BadRequestData.
 */
export function parseGeoQuery(params: GeoQueryParams, expand: (term: string) => string): GeoQuery | undefined {
  const { georel, geometry, coordinates, geoproperty } = params;
  const given = { georel, geometry, coordinates };
  const present = Object.entries(given).filter(([, v]) => v !== undefined).map(([k]) => k);
  if (present.length === 0) return undefined;
  if (present.length < 3) {
    const missing = Object.keys(given).filter((k) => !present.includes(k));
    fail(`${present.join(' and ')} given without ${missing.join(' and ')}: georel, geometry and coordinates must be given together`, 'clauses 6.4.3.2, 5.2.13');
  }
  const rel = parseGeorel(georel);
  const ref = checkGeometry(parseGeometryType(geometry), parseCoordinates(coordinates));
  let target = DEFAULT_GEOPROPERTY;
  if (geoproperty !== undefined) {
    if (!isValidName(geoproperty)) fail(`geoproperty ${quote(String(geoproperty))} is not a valid attribute name (clause 4.6.2)`);
    target = expand(geoproperty);
  }
  return { ...rel, geometry: ref, geoproperty: target };
}
