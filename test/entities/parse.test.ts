import { beforeAll, describe, expect, it } from 'vitest';
import { parseEntity } from '../../src/entities/parse-entity.js';
import { ContextResolver } from '../../src/jsonld/resolver.js';
import type { LdContext } from '../../src/jsonld/types.js';
import { badRequestDetail } from '../helpers/errors.js';

const NOW = '2026-11-22T10:00:00.000Z';
const DEFAULT = 'https://uri.etsi.org/ngsi-ld/default-context/';
let ctx: LdContext;

beforeAll(async () => {
  ctx = await new ContextResolver({ timeoutMs: 1000, cacheTtlSec: 60 }).resolve(undefined);
});

const entity = (body: unknown) => parseEntity(body, { ctx, now: NOW, mode: 'entity', nulls: 'none', requireId: true });
const fragment = (body: unknown) => parseEntity(body, { ctx, now: NOW, mode: 'fragment', nulls: 'member', requireId: false });

describe('entity parsing (clauses 4.5.1, 5.5.4)', () => {
  it('expands types and attribute names with the default vocabulary (5.5.7)', () => {
    const p = entity({ id: 'urn:ngsi-ld:Car:1', type: 'Car', speed: { type: 'Property', value: 5 } });
    expect(p.type).toEqual([`${DEFAULT}Car`]);
    const [input] = p.attrs.get(`${DEFAULT}speed`)!;
    expect(input).toEqual({ kind: 'value', attr: { type: 'Property', value: 5, createdAt: NOW, modifiedAt: NOW } });
  });

  it('needs an id that is a URI and a type', () => {
    expect(badRequestDetail(() => entity({ type: 'Car' }))).toMatch(/no "id"/);
    expect(badRequestDetail(() => entity({ id: 'not a uri', type: 'Car' }))).toMatch(/"id" is not a valid URI/);
    expect(badRequestDetail(() => entity({ id: 'urn:x:1' }))).toMatch(/no "type"/);
    expect(badRequestDetail(() => entity({ id: 'urn:x:1', type: 'T', a: { type: 'Property' } }))).toMatch(/"a" has no "value"/);
    expect(badRequestDetail(() => entity({ id: 'urn:x:1', type: 'T', a: { type: 'Property', value: 1, observedAt: 'yesterday' } }))).toMatch(/"a.observedAt" is not a valid DateTime/);
    expect(badRequestDetail(() => entity({ id: 'urn:x:1', type: [] }))).toMatch(/"type" must be a type name or a non-empty array/);
  });

  it('infers concise attribute types (4.5.2.3, 4.5.3.3)', () => {
    const p = entity({
      id: 'urn:x:1',
      type: 'T',
      a: 12,
      b: { object: 'urn:y:1' },
      c: { languageMap: { en: 'hi' } },
      d: { vocab: 'Red' },
      e: { json: { any: 1 } },
      f: { valueList: [1, 2] },
      g: { objectList: ['urn:y:1'] },
      location: { type: 'Point', coordinates: [1, 2] },
    });
    const typeOf = (n: string) => {
      const i = p.attrs.get(DEFAULT + n) ?? p.attrs.get(`https://uri.etsi.org/ngsi-ld/${n}`);
      return i?.[0]?.kind === 'value' ? i[0].attr.type : undefined;
    };
    expect(['a', 'b', 'c', 'd', 'e', 'f', 'g', 'location'].map(typeOf)).toEqual([
      'Property',
      'Relationship',
      'LanguageProperty',
      'VocabProperty',
      'JsonProperty',
      'ListProperty',
      'ListRelationship',
      'GeoProperty',
    ]);
  });

  it('keeps sub-properties, observedAt, unitCode and datasetId', () => {
    const p = entity({
      id: 'urn:x:1',
      type: 'T',
      t: { type: 'Property', value: 1, observedAt: '2026-01-01T00:00:00Z', unitCode: 'CEL', datasetId: 'urn:ds:1', accuracy: { type: 'Property', value: 0.1 } },
    });
    const [input] = p.attrs.get(`${DEFAULT}t`)!;
    expect(input!.kind === 'value' && input.attr).toMatchObject({
      observedAt: '2026-01-01T00:00:00Z',
      unitCode: 'CEL',
      datasetId: 'urn:ds:1',
      sub: { [`${DEFAULT}accuracy`]: { type: 'Property', value: 0.1 } },
    });
  });

  it('rejects nulls, bad geometries, bad datasetIds and two default instances', () => {
    expect(badRequestDetail(() => entity({ id: 'urn:x:1', type: 'T', a: null }))).toMatch(/null/);
    expect(badRequestDetail(() => entity({ id: 'urn:x:1', type: 'T', a: { type: 'Property', value: { x: null } } }))).toMatch(/null/);
    expect(badRequestDetail(() => entity({ id: 'urn:x:1', type: 'T', location: { type: 'GeoProperty', value: { type: 'Point', coordinates: [200, 1] } } }))).toMatch(/longitude 200/);
    expect(badRequestDetail(() => entity({ id: 'urn:x:1', type: 'T', location: { type: 'GeoProperty', value: { type: 'Polygon', coordinates: [[[0, 0], [1, 0], [1, 1], [0, 1]]] } } }))).toMatch(/not closed/);
    expect(badRequestDetail(() => entity({ id: 'urn:x:1', type: 'T', a: { type: 'Property', value: 1, datasetId: 'nope' } }))).toMatch(/datasetId" is not a valid URI/);
    expect(badRequestDetail(() => entity({ id: 'urn:x:1', type: 'T', a: [{ type: 'Property', value: 1 }, { type: 'Property', value: 2 }] }))).toMatch(/more than one default instance/);
    expect(badRequestDetail(() => entity({ id: 'urn:x:1', type: 'T', a: { type: 'Relationship', object: 'not a uri' } }))).toMatch(/URI/);
    expect(badRequestDetail(() => entity({ id: 'urn:x:1', type: 'T', location: { type: 'Property', value: 3 } }))).toMatch(/GeoProperty/);
    expect(badRequestDetail(() => entity({ id: 'urn:x:1', type: 'T', a: { type: 'Thing', value: 3 } }))).toMatch(/must be one of/);
    expect(badRequestDetail(() => entity({ id: 'urn:x:1', type: 'T', a: { type: 'Property', value: 1, object: 'urn:a:b' } }))).toMatch(/takes "value"/);
    expect(badRequestDetail(() => entity({ id: 'urn:x:1', type: 'T', 'bad name': 1 }))).toMatch(/not valid/);
  });

  it('rejects two names that expand to the same attribute', () => {
    expect(badRequestDetail(() => entity({ id: 'urn:x:1', type: 'T', speed: 1, [`${DEFAULT}speed`]: 2 }))).toMatch(/same attribute/);
  });

  it('accepts NGSI-LD Null only in fragments (5.5.4)', () => {
    expect(badRequestDetail(() => entity({ id: 'urn:x:1', type: 'T', a: 'urn:ngsi-ld:null' }))).toMatch(/NGSI-LD Null/);
    const p = fragment({ a: 'urn:ngsi-ld:null', b: { type: 'Property', value: 'urn:ngsi-ld:null', datasetId: 'urn:ds:2' } });
    expect(p.attrs.get(`${DEFAULT}a`)).toEqual([{ kind: 'null' }]);
    expect(p.attrs.get(`${DEFAULT}b`)).toEqual([{ kind: 'null', datasetId: 'urn:ds:2' }]);
  });
});
