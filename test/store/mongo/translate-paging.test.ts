import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { ContextResolver } from '../../../src/jsonld/resolver.js';
import type { LdContext } from '../../../src/jsonld/types.js';
import type { Entity } from '../../../src/model/entity.js';
import { compileSelection, type EntityQuery, type EntitySelection, type OrderKey } from '../../../src/query/entity-query.js';
import { parseQ } from '../../../src/query/q-parser.js';
import { parseTypeSelector } from '../../../src/query/type-selector.js';
import { runQuery } from '../../../src/store/embedded/query-engine.js';
import { signatureOf, TenantIndex } from '../../../src/store/embedded/tenant-index.js';
import { find } from 'mingo';
import { fromDocument, toDocument, type EntityDocument } from '../../../src/store/mongo/document.js';
import { planQuery, projectionFor, translateTenantSelection } from '../../../src/store/mongo/translate/index.js';
import { D, docsOf, entitiesArb, LOCATION, runPlan, TENANT } from './translate-fixtures.js';

/**
 * Sorting, paging and counting of translated queries (issue 7; clauses 4.23 orderBy, 5.5.9 pagination, 6.3.13
 * count): the plan run the way a store runs it (mingo in place of MongoDB) returns the same page and count as the
 * embedded engine (runQuery over a TenantIndex) for generated entities and queries.
 */

let ctx: LdContext;
beforeAll(async () => {
  ctx = await new ContextResolver({ timeoutMs: 1000, cacheTtlSec: 60 }).resolve(undefined);
});

const ids = Array.from({ length: 9 }, (_, i) => `urn:ngsi-ld:E:${i}`);

const selectionArb = fc.constantFrom<(c: LdContext) => EntitySelection>(
  () => ({}),
  (c) => ({ entities: [{ types: parseTypeSelector('T1,T2', (t) => c.expand(t)) }] }),
  (c) => ({ q: parseQ('temperature', c) }),
  (c) => ({ q: parseQ('temperature>0|name', c) }),
  // Inexact: the store pages in memory.
  (c) => ({ q: parseQ('temperature<2025-01-01T00:00:00Z|a~="\\\\s"', c) }),
  (c) => ({ q: parseQ('!name', c), entities: [{ idPattern: 'E:[2-7]' }] }),
);

const orderArb: fc.Arbitrary<OrderKey[] | undefined> = fc.oneof(
  { weight: 2, arbitrary: fc.constant(undefined) },
  fc.array(
    fc.record({
      member: fc.constantFrom('id', 'type', 'scope', D + 'temperature', D + 'name', D + 'a'),
      direction: fc.constantFrom('asc' as const, 'desc' as const),
    }),
    { minLength: 1, maxLength: 2 },
  ),
  fc.constantFrom<OrderKey[]>([{ member: LOCATION, direction: 'dist-asc', from: { type: 'Point', coordinates: [0, 0] } }]),
);

const queryArb = fc.record({
  selection: selectionArb,
  limit: fc.integer({ min: 0, max: 5 }),
  offset: fc.integer({ min: 0, max: 3 }),
  after: fc.option(fc.constantFrom(...ids, 'urn:ngsi-ld:E:4a'), { nil: undefined }),
  before: fc.option(fc.constantFrom(...ids), { nil: undefined }),
  count: fc.boolean(),
  orderBy: orderArb,
});

function embedded(entities: Entity[], query: EntityQuery) {
  const index = new TenantIndex();
  const byId = new Map(entities.map((e) => [e.id, e]));
  for (const e of entities) index.apply(e.id, undefined, signatureOf(e));
  return runQuery(index, (id) => byId.get(id), query);
}

describe('MongoDB query plans: order, pages and counts as the embedded engine (issue 7, clauses 4.23, 5.5.9, 6.3.13)', () => {
  it('same page and count for generated entities and queries', () => {
    const modes = new Set<string>();
    fc.assert(
      fc.property(entitiesArb(9), queryArb, (entities, q) => {
        const { selection, orderBy, after, before, ...rest } = q;
        const query: EntityQuery = {
          ...rest,
          selection: selection(ctx),
          ...(orderBy ? { orderBy } : {}),
          ...(after ? { after } : {}),
          ...(before ? { before } : {}),
        };
        const byId = new Map(entities.map((e) => [e.id, e]));
        const got = runPlan(docsOf(entities), query, compileSelection(query.selection, (id) => byId.get(id)));
        const want = embedded(entities, query);
        modes.add(got.mode);
        expect(got.entities.map((e) => e.id)).toEqual(want.entities.map((e) => e.id));
        expect(got.count).toEqual(want.count);
      }),
      { numRuns: 1500 },
    );
    expect([...modes].sort()).toEqual(['database', 'memory']);
  });

  it('pages in the database only when the filter is exact and the order native', () => {
    const base = { limit: 10, offset: 0, count: true };
    const exactPlan = planQuery(TENANT, { ...base, selection: { q: parseQ('temperature>1', ctx) }, after: 'urn:a' });
    expect(exactPlan).toMatchObject({ mode: 'database', sort: { id: 1 }, skip: 0, limit: 10, reverse: false });
    if (exactPlan.mode === 'database') {
      expect(exactPlan.filter).toEqual({ $and: [{ t: TENANT }, expect.anything(), { id: { $gt: 'urn:a' } }] });
      expect(exactPlan.countFilter).toEqual({ $and: [{ t: TENANT }, expect.anything()] });
    }
    expect(planQuery(TENANT, { ...base, selection: {}, before: 'urn:b' })).toMatchObject({ mode: 'database', sort: { id: -1 }, reverse: true });
    expect(planQuery(TENANT, { ...base, selection: {}, orderBy: [{ member: D + 'temperature', direction: 'desc' }] })).toMatchObject({
      mode: 'database',
      sort: { [`ord.${'https://uri%2Eetsi%2Eorg/ngsi-ld/default-context/temperature'}.r`]: 1, [`ord.${'https://uri%2Eetsi%2Eorg/ngsi-ld/default-context/temperature'}.v`]: -1, id: 1 },
    });
    expect(planQuery(TENANT, { ...base, selection: { q: parseQ('temperature>2024-01-01T00:00:00Z', ctx) } }).mode).toBe('memory');
    expect(planQuery(TENANT, { ...base, selection: {}, orderBy: [{ member: LOCATION, direction: 'dist-asc', from: { type: 'Point', coordinates: [0, 0] } }] }).mode).toBe('memory');
  });

  it('keeps tenants apart: the same ids in another tenant are never selected', () => {
    fc.assert(
      fc.property(entitiesArb(5), entitiesArb(5), (mine, theirs) => {
        const docs = [...mine.map((e) => toDocument('A', e, 1)), ...theirs.map((e) => toDocument('B', e, 1))];
        for (const sel of [{}, { q: parseQ('temperature|!temperature', ctx) }]) {
          const { filter } = translateTenantSelection('A', sel);
          const got = find(docs, filter).all() as unknown as EntityDocument[];
          expect(got.every((d) => d.t === 'A')).toBe(true);
          expect(got.map((d) => d.id).sort()).toEqual(mine.map((e) => e.id).sort());
        }
      }),
      { numRuns: 200 },
    );
  });

  it('projections read the picked attributes and those the post-filter and order need', () => {
    fc.assert(
      fc.property(entitiesArb(5), fc.subarray([D + 'temperature', D + 'name', D + 'a', D + 'nothing']), (entities, pick) => {
        const selection = { q: parseQ('x==1', ctx) };
        const projection = projectionFor(pick, selection, [{ member: D + 'b', direction: 'asc' }])!;
        const wanted = new Set([...pick, D + 'x', D + 'b']);
        const got = find(docsOf(entities), {}, projection).all().map((d) => fromDocument(d as unknown as EntityDocument));
        expect(got).toEqual(
          entities.map((e) => ({ ...e, attrs: Object.fromEntries(Object.entries(e.attrs).filter(([name]) => wanted.has(name))) })),
        );
      }),
      { numRuns: 200 },
    );
    expect(projectionFor(undefined, {})).toBeUndefined();
  });
});
