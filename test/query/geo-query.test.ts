import { describe, expect, it } from 'vitest';
import { NgsiError } from '../../src/common/errors.js';
import { DEFAULT_GEOPROPERTY, type GeoQuery, type GeoQueryParams, parseGeoQuery } from '../../src/query/geo-query.js';

const expand = (term: string): string => (term.includes(':') ? term : `https://example.org/vocab/${term}`);
const parse = (params: GeoQueryParams): GeoQuery | undefined => parseGeoQuery(params, expand);

/** Asserts BadRequestData whose detail mentions every fragment. */
function rejects(params: GeoQueryParams, ...fragments: string[]): void {
  let error: unknown;
  try {
    parse(params);
  } catch (e) {
    error = e;
  }
  expect(error, JSON.stringify(params)).toBeInstanceOf(NgsiError);
  const e = error as NgsiError;
  expect(e.kind).toBe('BadRequestData');
  expect(e.status).toBe(400);
  for (const f of fragments) expect(e.message).toContain(f);
}

const POINT = '[8,40]';
const SQUARE = '[[[100.0,0.0],[101.0,0.0],[101.0,1.0],[100.0,1.0],[100.0,0.0]]]';

describe('parseGeoQuery: no geo-query', () => {
  it('returns undefined when none of georel, geometry, coordinates is given', () => {
    expect(parse({})).toBeUndefined();
  });
  it('ignores geoproperty alone (6.4.3.2: ignored unless a geoquery is present)', () => {
    expect(parse({ geoproperty: 'observationSpace' })).toBeUndefined();
  });
});

describe('parseGeoQuery: clause 4.10 examples', () => {
  it('EXAMPLE 1: near;maxDistance with a target geoproperty', () => {
    expect(parse({ georel: 'near;maxDistance==2000', geometry: 'Point', coordinates: POINT, geoproperty: 'observationSpace' })).toEqual({
      georel: 'near',
      maxDistance: 2000,
      geometry: { type: 'Point', coordinates: [8, 40] },
      geoproperty: 'https://example.org/vocab/observationSpace',
    });
  });
  it('EXAMPLE 2: within a Polygon', () => {
    expect(parse({ georel: 'within', geometry: 'Polygon', coordinates: SQUARE, geoproperty: 'location' })).toEqual({
      georel: 'within',
      geometry: { type: 'Polygon', coordinates: JSON.parse(SQUARE) },
      geoproperty: 'https://example.org/vocab/location',
    });
  });
  it('EXAMPLE 3: the geoproperty defaults to location, expanded', () => {
    const q = parse({ georel: 'near;maxDistance==2000', geometry: 'Point', coordinates: POINT });
    expect(q?.geoproperty).toBe(DEFAULT_GEOPROPERTY);
    expect(DEFAULT_GEOPROPERTY).toBe('https://uri.etsi.org/ngsi-ld/location');
  });
});

describe('parseGeoQuery: georel', () => {
  it.each(['within', 'contains', 'intersects', 'equals', 'disjoint', 'overlaps'] as const)('%s', (georel) => {
    expect(parse({ georel, geometry: 'Point', coordinates: POINT })).toEqual({
      georel,
      geometry: { type: 'Point', coordinates: [8, 40] },
      geoproperty: DEFAULT_GEOPROPERTY,
    });
  });
  it.each([
    ['near;maxDistance==2000', { maxDistance: 2000 }],
    ['near;minDistance==15000', { minDistance: 15000 }],
    ['near;maxDistance==0.5', { maxDistance: 0.5 }],
    ['near;maxDistance==1e3', { maxDistance: 1000 }],
    ['near;minDistance==2.5E+2', { minDistance: 250 }],
    ['near;maxDistance==0.001', { maxDistance: 0.001 }],
  ])('%s (metres, RFC 8259 number)', (georel, distance) => {
    expect(parse({ georel, geometry: 'Point', coordinates: POINT })).toEqual({
      georel: 'near',
      ...distance,
      geometry: { type: 'Point', coordinates: [8, 40] },
      geoproperty: DEFAULT_GEOPROPERTY,
    });
  });
  it('near accepts any reference geometry: 4.10 defines the buffer of every geometry', () => {
    const q = parse({ georel: 'near;maxDistance==10', geometry: 'Polygon', coordinates: SQUARE });
    expect(q).toMatchObject({ georel: 'near', maxDistance: 10, geometry: { type: 'Polygon' } });
  });
  it.each([
    ['near', 'near;maxDistance==<metres>'],
    ['near;', 'near;maxDistance==<metres>'],
    ['near;maxDistance=2000', 'near;maxDistance==<metres>'],
    ['near;maxDistance:2000', 'near;maxDistance==<metres>'],
    ['near;distance==2000', 'near;maxDistance==<metres>'],
    ['near;MaxDistance==2000', 'near;maxDistance==<metres>'],
    ['near;maxDistance==', 'positive number'],
    ['near;maxDistance==-5', 'positive number'],
    ['near;minDistance==-0.5', 'positive number'],
    ['near;maxDistance==abc', 'positive number'],
    ['near;maxDistance==01', 'positive number'],
    ['near;maxDistance==1.', 'positive number'],
    ['near;maxDistance==.5', 'positive number'],
    ['near;maxDistance==+5', 'positive number'],
    ['near;maxDistance==5 ', 'positive number'],
    ['near;maxDistance==0x10', 'positive number'],
    ['near;maxDistance==Infinity', 'positive number'],
    ['near;maxDistance==10;minDistance==5', 'positive number'],
    ['near;maxDistance==0', 'non-zero'],
    ['near;maxDistance==0.0', 'non-zero'],
    ['near;maxDistance==1e-400', 'non-zero'],
    ['near;maxDistance==1e400', 'finite'],
  ])('rejects georel %s', (georel, why) => {
    rejects({ georel, geometry: 'Point', coordinates: POINT }, 'georel', why);
  });
  it.each(['', 'Within', 'WITHIN', 'inside', 'coveredBy', 'touches', ' within', 'within;maxDistance==5'])('rejects georel %j', (georel) => {
    rejects({ georel, geometry: 'Point', coordinates: POINT }, 'georel');
  });
  it('names the expected georels for an unknown one (TP 019_03_05 sends "invalid")', () => {
    rejects({ georel: 'invalid', geometry: 'Point', coordinates: '[-8.503,41.202]' }, 'unknown georel "invalid"', 'within', 'overlaps');
  });
});

describe('parseGeoQuery: geometry and coordinates', () => {
  const cases: [string, unknown][] = [
    ['Point', [13.3986, 52.5547]],
    ['Point', [13.3986, 52.5547, 34.5]],
    ['MultiPoint', [[13.3986, 52.5547], [13.39, 52.55]]],
    ['LineString', [[13.3986, 52.5547], [13.39, 52.55]]],
    ['MultiLineString', [[[0, 0], [1, 1]], [[2, 2], [3, 3], [4, 2]]]],
    ['Polygon', JSON.parse(SQUARE)],
    ['Polygon', [[[0, 0], [10, 0], [10, 10], [0, 10], [0, 0]], [[2, 2], [2, 3], [3, 3], [2, 2]]]],
    ['MultiPolygon', [JSON.parse(SQUARE), [[[0, 0], [1, 0], [1, 1], [0, 0]]]]],
  ];
  it.each(cases)('%s from the URL string', (geometry, coordinates) => {
    const q = parse({ georel: 'intersects', geometry, coordinates: JSON.stringify(coordinates) });
    expect(q?.geometry).toEqual({ type: geometry, coordinates });
  });
  it.each(cases)('%s from an already parsed array (POST query body, 5.2.13)', (geometry, coordinates) => {
    const q = parse({ georel: 'intersects', geometry, coordinates });
    expect(q?.geometry).toEqual({ type: geometry, coordinates });
  });
  it('accepts whitespace in the JSON (TP 019_10_01 sends "[13.3986, 52.5547]")', () => {
    expect(parse({ georel: 'equals', geometry: 'Point', coordinates: '[13.3986, 52.5547]' })?.geometry.coordinates).toEqual([13.3986, 52.5547]);
  });

  it('rejects GeometryCollection (4.10)', () => {
    rejects({ georel: 'within', geometry: 'GeometryCollection', coordinates: '[]' }, 'geometry GeometryCollection is not allowed');
  });
  it.each(['', 'Circle', 'Box', 'Feature'])('rejects geometry %j', (geometry) => {
    rejects({ georel: 'within', geometry, coordinates: POINT }, 'unknown geometry', 'Point, MultiPoint');
  });
  it('hints at the case of a lowercase geometry name', () => {
    rejects({ georel: 'within', geometry: 'polygon', coordinates: SQUARE }, 'case-sensitive', 'Polygon');
  });

  it.each([
    ['', 'coordinates is empty'],
    ['   ', 'coordinates is empty'],
    ['[8,40', 'is not a JSON array'],
    ['8,40', 'is not a JSON array'],
    ['40,8;41,9', 'is not a JSON array'],
    ['{"type":"Point"}', 'must be a JSON array, got object'],
    ['"[8,40]"', 'must be a JSON array, got string'],
    ['null', 'must be a JSON array, got null'],
    ['8', 'must be a JSON array, got number'],
  ])('rejects unparsable coordinates %j', (coordinates, why) => {
    rejects({ georel: 'within', geometry: 'Point', coordinates }, why);
  });
  it.each([
    ['Point', [8], 'position'],
    ['Point', [8, 40, 1, 2], 'position'],
    ['Point', ['8', '40'], 'position'],
    ['Point', [[8, 40]], 'position'],
    ['Point', [181, 40], 'longitude 181'],
    ['Point', [8, -90.5], 'latitude -90.5'],
    ['Point', [-1, 100], 'latitude 100'],
    ['MultiPoint', [], 'at least 1'],
    ['MultiPoint', [8, 40], 'coordinates[0]'],
    ['LineString', [[8, 40]], 'at least 2'],
    ['MultiLineString', [], 'non-empty'],
    ['MultiLineString', [[[0, 0]]], 'at least 2'],
    ['Polygon', [8, 40], 'coordinates[0]'],
    ['Polygon', [], 'non-empty'],
    ['Polygon', [[[0, 0], [1, 0], [1, 1], [0, 0.5]]], 'not closed'],
    ['Polygon', [[[0, 0], [1, 0], [0, 0]]], 'at least 4'],
    ['Polygon', [[0, 0], [1, 0], [1, 1], [0, 0]], 'coordinates[0]'],
    ['MultiPolygon', [[[0, 0], [1, 0], [1, 1], [0, 0]]], 'coordinates[0]'],
    ['MultiPolygon', [], 'non-empty'],
  ])('rejects %s coordinates %j that do not fit the geometry', (geometry, coordinates, why) => {
    rejects({ georel: 'intersects', geometry, coordinates: JSON.stringify(coordinates) }, `coordinates do not form a valid ${geometry}`, why);
  });
  it('does not repeat the entity-attribute wording of the shared validator', () => {
    try {
      parse({ georel: 'within', geometry: 'Point', coordinates: '[200,0]' });
    } catch (e) {
      expect((e as Error).message).not.toContain('GeoProperty "');
    }
  });
  it.each([{ a: 1 }, 42, null, true])('rejects a non-array, non-string coordinates value %j (POST body)', (coordinates) => {
    rejects({ georel: 'within', geometry: 'Point', coordinates }, 'coordinates must be a JSON array');
  });
});

describe('parseGeoQuery: georel, geometry and coordinates come together (6.4.3.2, 5.2.13)', () => {
  it.each([
    [{ georel: 'within' }, 'georel given without geometry and coordinates'],
    [{ geometry: 'Point' }, 'geometry given without georel and coordinates'],
    [{ coordinates: POINT }, 'coordinates given without georel and geometry'],
    [{ georel: 'within', geometry: 'Point' }, 'georel and geometry given without coordinates'],
    [{ georel: 'within', coordinates: POINT }, 'georel and coordinates given without geometry'],
    [{ geometry: 'Point', coordinates: POINT, geoproperty: 'location' }, 'geometry and coordinates given without georel'],
  ] as [GeoQueryParams, string][])('rejects %j', (params, why) => {
    rejects(params, why, 'must be given together');
  });
  it('an empty string counts as given (and then fails on its own)', () => {
    rejects({ georel: '', geometry: 'Point', coordinates: POINT }, 'georel is empty');
  });
});

describe('parseGeoQuery: geoproperty', () => {
  it('expands the short name through the caller', () => {
    expect(parse({ georel: 'within', geometry: 'Point', coordinates: POINT, geoproperty: 'operationSpace' })?.geoproperty).toBe(
      'https://example.org/vocab/operationSpace',
    );
  });
  it('passes a full IRI to the expander', () => {
    expect(parse({ georel: 'within', geometry: 'Point', coordinates: POINT, geoproperty: 'https://uri.etsi.org/ngsi-ld/location' })?.geoproperty).toBe(
      'https://uri.etsi.org/ngsi-ld/location',
    );
  });
  it.each(['', 'a b', 'loc;ation', 'x=y', '@id', 'a(b)'])('rejects geoproperty %j', (geoproperty) => {
    rejects({ georel: 'within', geometry: 'Point', coordinates: POINT, geoproperty }, 'geoproperty', 'not a valid attribute name');
  });
});

describe('parseGeoQuery: result is plain JSON data', () => {
  it('round-trips through JSON unchanged', () => {
    const q = parse({ georel: 'near;minDistance==15000', geometry: 'MultiPoint', coordinates: '[[1,2],[3,4]]', geoproperty: 'location' });
    expect(JSON.parse(JSON.stringify(q))).toEqual(q);
  });
});
