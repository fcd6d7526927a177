import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Entity } from '../../src/model/entity.js';
import type { Mutation } from '../../src/store/entity-store.js';
import { del, entity, NS, put, sorted, useEmbeddedStore } from './helpers.js';

const ctx = useEmbeddedStore();
const reopen = () => ctx.reopen();

const byType = (tenant: string, t: string) => sorted(ctx.store.idsByType(tenant, NS + t));
const byAttr = (tenant: string, a: string) => sorted(ctx.store.idsByAttribute(tenant, NS + a));

describe('EmbeddedEntityStore: indexes', () => {
  it('follow updates that change types and attributes, and deletes, and survive a reopen', async () => {
    await ctx.store.mutate('', 'urn:a', put(entity('urn:a', ['T1', 'T2'], { a: 1, b: 2 })));
    await ctx.store.mutate('', 'urn:b', put(entity('urn:b', ['T1'], { b: 3 })));
    expect(byType('', 'T1')).toEqual(['urn:a', 'urn:b']);
    expect(byType('', 'T2')).toEqual(['urn:a']);
    expect(byAttr('', 'b')).toEqual(['urn:a', 'urn:b']);

    await ctx.store.mutate('', 'urn:a', put(entity('urn:a', ['T3'], { c: 1 })));
    expect(byType('', 'T1')).toEqual(['urn:b']);
    expect(byType('', 'T2')).toEqual([]);
    expect(byType('', 'T3')).toEqual(['urn:a']);
    expect(byAttr('', 'a')).toEqual([]);
    expect(byAttr('', 'b')).toEqual(['urn:b']);
    expect(byAttr('', 'c')).toEqual(['urn:a']);
    expect(sorted(ctx.store.types(''))).toEqual([NS + 'T1', NS + 'T3']);
    expect(sorted(ctx.store.attributes(''))).toEqual([NS + 'b', NS + 'c']);

    await ctx.store.mutate('', 'urn:b', del);
    expect(byType('', 'T1')).toEqual([]);
    expect(byAttr('', 'b')).toEqual([]);
    expect(ctx.store.allIds('')).toEqual(['urn:a']);
    expect(ctx.store.count('')).toBe(1);

    await reopen();
    expect(byType('', 'T3')).toEqual(['urn:a']);
    expect(byAttr('', 'c')).toEqual(['urn:a']);
    expect(byType('', 'T1')).toEqual([]);
    expect(ctx.store.allIds('')).toEqual(['urn:a']);
  });

  it('does not index an attribute with no instances', async () => {
    const e = entity('urn:a', ['T'], { a: 1 });
    e.attrs[NS + 'gone'] = [];
    await ctx.store.mutate('', 'urn:a', put(e));
    expect(byAttr('', 'gone')).toEqual([]);
    expect(byAttr('', 'a')).toEqual(['urn:a']);
  });

  it('hands out sorted id snapshots that later writes do not disturb', async () => {
    for (const id of ['urn:m', 'urn:c', 'urn:x']) await ctx.store.mutate('', id, put(entity(id, ['T'])));
    const before = ctx.store.allIds('');
    expect(before).toEqual(['urn:c', 'urn:m', 'urn:x']);
    await ctx.store.mutate('', 'urn:a', put(entity('urn:a', ['T'])));
    await ctx.store.mutate('', 'urn:m', del);
    expect(before).toEqual(['urn:c', 'urn:m', 'urn:x']);
    expect(ctx.store.allIds('')).toEqual(['urn:a', 'urn:c', 'urn:x']);
    // Re-adding a just-deleted id, and deleting a just-added one, between two reads.
    await ctx.store.mutate('', 'urn:m', put(entity('urn:m', ['T'])));
    await ctx.store.mutate('', 'urn:b', put(entity('urn:b', ['T'])));
    await ctx.store.mutate('', 'urn:b', del);
    expect(ctx.store.allIds('')).toEqual(['urn:a', 'urn:c', 'urn:m', 'urn:x']);
    expect(ctx.store.allIds('')).toBe(ctx.store.allIds(''));
  });

  it('match a sequential model under random concurrent operations, before and after reopening', async () => {
    type Op = { kind: 'put'; id: string; types: string[]; attrs: string[] } | { kind: 'delete'; id: string } | { kind: 'none'; id: string };
    const ids = ['urn:1', 'urn:2', 'urn:3', 'urn:4'];
    const opArb: fc.Arbitrary<Op> = fc.oneof(
      fc.record({
        kind: fc.constant('put' as const),
        id: fc.constantFrom(...ids),
        types: fc.uniqueArray(fc.constantFrom('A', 'B', 'C'), { minLength: 1 }),
        attrs: fc.uniqueArray(fc.constantFrom('p', 'q', 'r')),
      }),
      fc.record({ kind: fc.constant('delete' as const), id: fc.constantFrom(...ids) }),
      fc.record({ kind: fc.constant('none' as const), id: fc.constantFrom(...ids) }),
    );
    let run = 0;
    const check = (tenant: string, model: Map<string, Entity>) => {
      expect(ctx.store.allIds(tenant)).toEqual(sorted(model.keys()));
      for (const t of ['A', 'B', 'C']) {
        expect(byType(tenant, t)).toEqual(sorted([...model.values()].filter((e) => e.type.includes(NS + t)).map((e) => e.id)));
      }
      for (const a of ['p', 'q', 'r']) {
        expect(byAttr(tenant, a)).toEqual(sorted([...model.values()].filter((e) => NS + a in e.attrs).map((e) => e.id)));
      }
    };
    const models = new Map<string, Map<string, Entity>>();
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { maxLength: 40 }), async (ops) => {
        const tenant = `run${run++}`;
        const model = new Map<string, Entity>();
        // Fired all at once: the store must behave as if they ran one by one in call order.
        await Promise.all(
          ops.map((op) =>
            ctx.store.mutate(tenant, op.id, (): Mutation<null> => {
              if (op.kind === 'put') return { change: { kind: 'put', entity: entity(op.id, op.types, Object.fromEntries(op.attrs.map((a) => [a, 1]))) }, result: null };
              return { change: { kind: op.kind }, result: null };
            }),
          ),
        );
        for (const op of ops) {
          if (op.kind === 'put') model.set(op.id, entity(op.id, op.types, Object.fromEntries(op.attrs.map((a) => [a, 1]))));
          if (op.kind === 'delete') model.delete(op.id);
        }
        for (const id of ids) expect(await ctx.store.get(tenant, id)).toEqual(model.get(id));
        check(tenant, model);
        models.set(tenant, model);
      }),
      { numRuns: 60 },
    );
    await reopen();
    for (const [tenant, model] of models) check(tenant, model);
  });
});
