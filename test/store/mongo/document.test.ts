import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Attribute, Entity } from '../../../src/model/entity.js';
import { decodeKey, encodeKey, fromDocument, toDocument, type EntityDocument } from '../../../src/store/mongo/document.js';

/**
 * The MongoDB document shape (src/store/mongo/document.ts): an entity survives the trip to a document and back
 * exactly, whatever its names, and no user-chosen key reaches MongoDB as an operator, a path or an array index.
 */

const T0 = '2024-01-01T00:00:00.000Z';
const NASTY = ['@value', '%40value', '%[', '$where', '$gt', 'a.b', 'https://ex.org/ns#x.y', '__proto__', 'constructor', '0', '12', '%', '%2E', '', '\u0000', '.', '$'];
const keyArb = fc.oneof(fc.constantFrom(...NASTY), fc.string({ unit: 'binary', maxLength: 12 }));

/** Walks every key of a document: the checks MongoDB itself makes on field names, and ours on paths. */
function allKeys(v: unknown, out: string[] = []): string[] {
  if (Array.isArray(v)) v.forEach((x) => allKeys(x, out));
  else if (v !== null && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) {
      out.push(k);
      allKeys(x, out);
    }
  }
  return out;
}

/**
 * Canonical JSON (keys sorted at every depth, own keys only, `__proto__` included): vitest's deep equality reads a
 * `constructor` key as the object's class, so equality of such data is checked on this instead.
 */
function canon(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canon).join(',')}]`;
  if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'undefined';
  const keys = Object.keys(v).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canon((v as Record<string, unknown>)[k])}`).join(',')}}`;
}

const valueArb = fc.oneof(fc.jsonValue({ maxDepth: 3 }), fc.constantFrom([[1, [2]], []], [{ '%[': [1] }], { '@value': [1] }, [[{ '@value': { a: [[]] } }]])).chain((v) =>
  fc.dictionary(keyArb, fc.constant(v), { maxKeys: 3 }).map((d) => (Object.keys(d).length ? { ...d, nested: [d] } : v)),
);
const base = { createdAt: T0, modifiedAt: T0 };
const attributeArb: fc.Arbitrary<Attribute> = fc
  .tuple(
    fc.oneof(
      valueArb.map((value) => ({ type: 'Property' as const, value })),
      valueArb.map((json) => ({ type: 'JsonProperty' as const, json })),
      fc.array(valueArb, { maxLength: 3 }).map((valueList) => ({ type: 'ListProperty' as const, valueList })),
      fc.constantFrom('urn:a', ['urn:a', 'urn:b']).map((object) => ({ type: 'Relationship' as const, object })),
      fc.dictionary(keyArb, fc.string(), { minKeys: 1, maxKeys: 3 }).map((languageMap) => ({ type: 'LanguageProperty' as const, languageMap })),
      fc.constantFrom({ type: 'Point', coordinates: [1, 2] }, { type: 'Polygon', coordinates: [[[0, 0], [1, 0], [1, 1], [0, 0]]] }, { not: 'geo' })
        .map((value) => ({ type: 'GeoProperty' as const, value })),
    ),
    fc.option(fc.string(), { nil: undefined }),
    fc.dictionary(keyArb, valueArb.map((value) => ({ type: 'Property' as const, value, ...base })), { maxKeys: 2 }),
  )
  .map(([a, datasetId, sub]) => ({ ...a, ...base, ...(datasetId === undefined ? {} : { datasetId }), ...(Object.keys(sub).length ? { sub } : {}) }));
const entityArb: fc.Arbitrary<Entity> = fc
  .record({
    id: fc.string({ minLength: 1 }),
    type: fc.uniqueArray(fc.string({ minLength: 1 }), { minLength: 1, maxLength: 3 }),
    scope: fc.option(fc.array(fc.string(), { maxLength: 2 }), { nil: undefined }),
    attrs: fc.dictionary(keyArb, fc.array(attributeArb, { minLength: 1, maxLength: 2 }), { maxKeys: 4 }),
  })
  .map(({ scope, ...e }) => ({ ...e, ...(scope ? { scope } : {}), createdAt: T0, modifiedAt: T0 }));

describe('MongoDB document keys (issue 7)', () => {
  it('encodeKey round-trips any string exactly', () => {
    fc.assert(
      fc.property(fc.oneof(keyArb, fc.string({ unit: 'binary' }), fc.string({ unit: fc.constantFrom('%', '.', '$', '0', '2', 'E', '_') })), (k) => {
        expect(decodeKey(encodeKey(k))).toBe(k);
      }),
      { numRuns: 3000 },
    );
  });

  it('encoded keys are never operators, paths, array indexes, prototypes, NUL or empty', () => {
    fc.assert(
      fc.property(fc.oneof(keyArb, fc.string({ unit: 'binary' })), (k) => {
        const e = encodeKey(k);
        expect(e).not.toMatch(/[.$\u0000]/);
        expect(e).not.toMatch(/^\d+$/);
        expect(e).not.toBe('__proto__');
        expect(e).not.toBe('');
      }),
      { numRuns: 3000 },
    );
  });

  it('distinct keys stay distinct', () => {
    fc.assert(
      fc.property(keyArb, keyArb, (a, b) => {
        if (a !== b) expect(encodeKey(a)).not.toBe(encodeKey(b));
      }),
      { numRuns: 2000 },
    );
  });
});

describe('MongoDB entity documents (issue 7)', () => {
  it('fromDocument(toDocument(e)) is e, also after a JSON round trip as the wire would do', () => {
    fc.assert(
      fc.property(entityArb, fc.string(), (e, tenant) => {
        const doc = toDocument(tenant, e, 3);
        expect(canon(fromDocument(doc))).toBe(canon(e));
        expect(canon(fromDocument(JSON.parse(JSON.stringify(doc)) as EntityDocument))).toBe(canon(e));
      }),
      { numRuns: 500 },
    );
  });

  it('no key in a document starts with "$", holds "." or NUL, or is "__proto__"', () => {
    fc.assert(
      fc.property(entityArb, (e) => {
        for (const k of allKeys(toDocument('t', e, 1))) {
          expect(k).not.toMatch(/^\$|[.\u0000]/);
          expect(k).not.toBe('__proto__');
        }
      }),
      { numRuns: 500 },
    );
  });

  it('carries tenant, id, version, types, attribute names and sort keys', () => {
    const e: Entity = {
      id: 'urn:ngsi-ld:X:1',
      type: ['https://ex.org/T', 'https://ex.org/U'],
      scope: ['/a/b'],
      createdAt: T0,
      modifiedAt: T0,
      attrs: {
        'https://ex.org/n.v': [{ type: 'Property', value: 7, ...base }],
        'https://uri.etsi.org/ngsi-ld/location': [
          { type: 'GeoProperty', value: { type: 'Point', coordinates: [5, 6] }, ...base },
          { type: 'GeoProperty', value: { type: 'LineString', coordinates: [[0, 1], [2, -3]] }, datasetId: 'urn:d', ...base },
        ],
      },
    };
    const doc = toDocument('tn', e, 9);
    expect(doc._id).toEqual({ t: 'tn', id: e.id });
    expect(doc).toMatchObject({ t: 'tn', id: e.id, version: 9, types: e.type, scope: ['/a/b'] });
    expect(doc.names).toEqual(Object.keys(e.attrs));
    expect(Object.keys(doc.attrs)).toEqual(['https://ex%2Eorg/n%2Ev', 'https://uri%2Eetsi%2Eorg/ngsi-ld/location']);
    expect(doc.ord['https://ex%2Eorg/n%2Ev']).toEqual({ r: 0, v: 7 });
    expect(doc.ordType).toEqual({ r: -1, v: 'https://ex.org/T' });
    expect(doc.geo).toEqual([
      { n: 'https://uri.etsi.org/ngsi-ld/location', g: { type: 'Point', coordinates: [5, 6] }, x0: 5, y0: 6, x1: 5, y1: 6 },
      { n: 'https://uri.etsi.org/ngsi-ld/location', g: { type: 'LineString', coordinates: [[0, 1], [2, -3]] }, x0: 0, y0: -3, x1: 2, y1: 1 },
    ]);
  });
});
