import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Entity } from '../../../src/model/entity.js';
import { compileSelection, type EntitySelection } from '../../../src/query/entity-query.js';
import type { QExpression, QPath, QTerm } from '../../../src/query/q-ast.js';
import { parseScopeQ } from '../../../src/query/scope-q.js';
import { encodeKey } from '../../../src/store/mongo/document.js';
import { andFilters, nativeSort, planQuery, translateSelection } from '../../../src/store/mongo/translate/index.js';
import { docsOf, mingoIds, operatorKeys, TENANT } from './translate-fixtures.js';

/**
 * Injection (issue 7): attribute names, compound keys, values, ids, id patterns and scopes that look like MongoDB
 * operators, paths or prototype keys never become one. Every "$" key of a translated filter is one of the operators
 * the translation writes, at a place it writes it; the names travel encoded and still find their entities.
 */

const NASTY = ['$where', '$gt', '$ne', 'a.b', 'x.$where', '{"$ne":null}', '__proto__', 'constructor', 'prototype', '0', '1.2', '', '$', '.', '%24where', 'toString'];
const OPERATORS = new Set(['$and', '$or', '$nor', '$in', '$elemMatch', '$exists', '$gt', '$gte', '$lt', '$lte', '$not', '$type', '$regex', '$options']);
const T0 = '2024-01-01T00:00:00.000Z';

function assertSafe(filter: unknown): void {
  for (const { key, path } of operatorKeys(filter)) {
    expect(OPERATORS, `${key} at ${path.join(' > ')}`).toContain(key);
  }
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) return v.forEach(walk);
    if (v === null || typeof v !== 'object') return;
    expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
    for (const [k, x] of Object.entries(v)) {
      expect(k).not.toBe('__proto__');
      // A field path: its segments never start with "$" (operators are keys of their own), never hold a raw name.
      if (!k.startsWith('$')) for (const seg of k.split('.')) expect(seg.startsWith('$'), k).toBe(false);
      walk(x);
    }
  };
  walk(filter);
}

const nameArb = fc.oneof(fc.constantFrom(...NASTY), fc.string({ unit: fc.constantFrom('$', '.', '_', 'p', '{', '"', '0', '%') , maxLength: 8 }));
const pathArb: fc.Arbitrary<QPath> = fc.record(
  {
    attr: nameArb,
    subAttrs: fc.array(nameArb, { minLength: 1, maxLength: 2 }),
    members: fc.array(nameArb, { minLength: 1, maxLength: 2 }).map((k) => ({ raw: k, expanded: k })),
  },
  { requiredKeys: ['attr'] },
);
const valueArb = fc.constantFrom(...NASTY).map((value) => ({ type: 'string' as const, value }));
const termArb: fc.Arbitrary<QTerm> = fc.oneof(
  pathArb.map((path) => ({ kind: 'exists' as const, path })),
  pathArb.map((path) => ({ kind: 'notExists' as const, path })),
  fc.tuple(pathArb, fc.constantFrom('==' as const, '!=' as const, '>' as const), valueArb).map(([path, op, value]) => ({ kind: 'compare' as const, path, op, value })),
  fc.tuple(pathArb, fc.array(valueArb, { minLength: 2, maxLength: 3 })).map(([path, values]) => ({ kind: 'list' as const, path, op: '==' as const, values })),
  fc.tuple(pathArb, fc.constantFrom('$where', '{"$ne":null}', '.*', '\\$gt')).map(([path, pattern]) => ({ kind: 'pattern' as const, path, op: '~=' as const, pattern })),
);

describe('no user input becomes a MongoDB operator or path (issue 7)', () => {
  it('q terms over operator-like names, keys and values', () => {
    fc.assert(
      fc.property(fc.array(termArb, { minLength: 1, maxLength: 3 }), (terms) => {
        const q: QExpression = terms.length === 1 ? terms[0]! : { kind: 'or', of: terms };
        const t = translateSelection({ q });
        assertSafe(t.filter);
      }),
      { numRuns: 500 },
    );
  });

  it('ids, id patterns, types, attrs, scopes and geoproperty names', () => {
    fc.assert(
      fc.property(fc.constantFrom(...NASTY), fc.constantFrom(...NASTY), (a, b) => {
        const sel: EntitySelection = {
          entities: [{ ids: [a, b], idPattern: `${a.replace(/[^\w$]/g, '')}|\\$where`, types: { op: 'or', of: [{ op: 'type', iri: a }, { op: 'type', iri: b }] } }],
          attrs: [a, b],
          scopeQ: parseScopeQ('/$where/{"$ne":null}/+|/__proto__/#'),
          geo: { georel: 'near', maxDistance: 10, geometry: { type: 'Point', coordinates: [0, 0] }, geoproperty: a },
        };
        assertSafe(translateSelection(sel).filter);
        assertSafe(planQuery(a, { selection: sel, limit: 5, offset: 0, count: true, after: b }));
        assertSafe(nativeSort([{ member: a, direction: 'asc' }, { member: b, direction: 'desc' }]));
      }),
      { numRuns: 300 },
    );
  });

  it('entities with operator-like names are found by them, and only by them', () => {
    // Not the names of Object.prototype members: the embedded evaluator, the reference here, reads `entity.attrs[name]`
    // through the prototype (parsed q names are expanded IRIs, so only a hand-built plan can hold them).
    for (const name of NASTY.filter((n) => !(n in Object.prototype))) {
      const entity = (id: string, attr: string, value: unknown): Entity => ({
        id,
        type: ['https://ex.org/T'],
        createdAt: T0,
        modifiedAt: T0,
        attrs: { [attr]: [{ type: 'Property', value, createdAt: T0, modifiedAt: T0 }] },
      });
      const entities = [
        entity('urn:1', name, { [name]: '{"$ne":null}' }),
        entity('urn:2', `${name}x`, { [name]: 'other' }),
        entity('urn:3', 'plain', { x: '{"$ne":null}' }),
      ];
      const docs = docsOf(entities);
      const path: QPath = { attr: name, members: { raw: [name], expanded: [name] } };
      for (const q of [
        { kind: 'exists', path: { attr: name } },
        { kind: 'compare', path, op: '==', value: { type: 'string', value: '{"$ne":null}' } },
        { kind: 'notExists', path: { attr: name } },
      ] as QExpression[]) {
        const sel = { q };
        const accepts = compileSelection(sel);
        const t = translateSelection(sel);
        assertSafe(t.filter);
        const got = mingoIds(docs, andFilters([{ t: TENANT }, t.filter])).filter((id) => accepts(entities.find((e) => e.id === id)!));
        expect(got, `${name}: ${JSON.stringify(q)}`).toEqual(entities.filter(accepts).map((e) => e.id));
      }
      expect(encodeKey(name)).not.toMatch(/^\$|\./);
    }
  });
});
