import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Attribute, Entity } from '../../src/model/entity.js';
import type { CompiledSubscription, Trigger } from '../../src/subscriptions/compiled.js';
import { diffEntities, isLive, sameInstance, triggeredBy } from '../../src/subscriptions/engine-match.js';

const NS = 'https://example.org/ns#';
const T0 = '2024-01-01T00:00:00.000Z';

const json = fc.jsonValue({ maxDepth: 2 });
const attribute: fc.Arbitrary<Attribute> = fc.record(
  {
    type: fc.constant('Property' as const),
    value: json,
    observedAt: fc.constantFrom(T0, '2024-02-02T00:00:00.000Z'),
    createdAt: fc.constant(T0),
    modifiedAt: fc.constant(T0),
  },
  { requiredKeys: ['type', 'value', 'createdAt', 'modifiedAt'] },
);
const entity: fc.Arbitrary<Entity> = fc
  .dictionary(fc.constantFrom('a', 'b', 'c', 'd'), fc.tuple(attribute, fc.option(attribute, { nil: undefined })), { maxKeys: 4 })
  .map((attrs) => ({
    id: 'urn:e',
    type: [NS + 'T'],
    createdAt: T0,
    modifiedAt: T0,
    attrs: Object.fromEntries(
      Object.entries(attrs).map(([k, [a, b]]) => [NS + k, b ? [a, { ...b, datasetId: 'urn:ds' }] : [a]]),
    ),
  }));

function sub(triggers: Trigger[], extra: Partial<CompiledSubscription> = {}): CompiledSubscription {
  return {
    id: 'urn:s',
    tenant: '',
    selection: {},
    triggers: new Set(triggers),
    active: true,
    context: [],
    notification: { format: 'normalized', sysAttrs: false, showChanges: false, endpoint: { uri: 'http://x', accept: 'application/json' } },
    ...extra,
  };
}

describe('engine-match: what a change is (5.2.12, 5.8.6)', () => {
  it('5.8.6 an entity compared with itself, or with only its system timestamps moved, has no change', () => {
    fc.assert(
      fc.property(entity, (e) => {
        expect(diffEntities(e, e)).toEqual([]);
        const touched = structuredClone(e);
        for (const list of Object.values(touched.attrs)) for (const a of list) a.modifiedAt = '2030-01-01T00:00:00.000Z';
        expect(diffEntities(e, touched)).toEqual([]);
      }),
    );
  });

  it('creation creates every instance, deletion deletes every instance, diff(a,b) mirrors diff(b,a)', () => {
    fc.assert(
      fc.property(entity, entity, (a, b) => {
        const count = (e: Entity) => Object.values(e.attrs).reduce((n, l) => n + l.length, 0);
        expect(diffEntities(undefined, a).map((c) => c.kind)).toEqual(Array(count(a)).fill('created'));
        expect(diffEntities(a, undefined).map((c) => c.kind)).toEqual(Array(count(a)).fill('deleted'));
        const key = (c: { name: string; datasetId?: string }) => `${c.name}|${c.datasetId ?? ''}`;
        const forward = diffEntities(a, b);
        const backward = diffEntities(b, a);
        const flip = { created: 'deleted', deleted: 'created', updated: 'updated' } as const;
        expect(new Set(forward.map((c) => `${key(c)}|${flip[c.kind]}`))).toEqual(new Set(backward.map((c) => `${key(c)}|${c.kind}`)));
      }),
    );
  });

  it('sameInstance compares compound values regardless of key order, and sub-attributes without their timestamps', () => {
    const a: Attribute = { type: 'Property', value: { x: 1, y: [1, { z: 2 }] }, createdAt: T0, modifiedAt: T0, sub: { [NS + 's']: { type: 'Property', value: 1, createdAt: T0, modifiedAt: T0 } } };
    const b: Attribute = { ...a, value: { y: [1, { z: 2 }], x: 1 }, sub: { [NS + 's']: { type: 'Property', value: 1, createdAt: T0, modifiedAt: '2030-01-01T00:00:00Z' } } };
    expect(sameInstance(a, b)).toBe(true);
    expect(sameInstance(a, { ...a, value: { x: 1, y: [{ z: 2 }, 1] } })).toBe(false);
    expect(sameInstance(a, { ...a, unitCode: 'KMH' })).toBe(false);
    expect(sameInstance(a, { ...a, sub: {} })).toBe(false);
  });

  it('5.2.12 triggers: entityCreated/Deleted and the attribute triggers, watchedAttributes restricting all of them', () => {
    const before: Entity = { id: 'urn:e', type: [NS + 'T'], createdAt: T0, modifiedAt: T0, attrs: { [NS + 'a']: [{ type: 'Property', value: 1, createdAt: T0, modifiedAt: T0 }] } };
    const after: Entity = { ...before, attrs: { [NS + 'a']: [{ type: 'Property', value: 2, createdAt: T0, modifiedAt: T0 }] } };
    const fires = (s: CompiledSubscription, b: Entity | undefined, a: Entity | undefined) => triggeredBy(s, b, a, diffEntities(b, a));
    expect(fires(sub(['entityCreated']), undefined, before)).toBe(true);
    expect(fires(sub(['entityCreated']), before, after)).toBe(false);
    expect(fires(sub(['attributeUpdated']), before, after)).toBe(true);
    expect(fires(sub(['attributeCreated']), before, after)).toBe(false);
    expect(fires(sub(['attributeCreated']), undefined, before)).toBe(true);
    expect(fires(sub(['entityDeleted']), before, undefined)).toBe(true);
    expect(fires(sub(['attributeDeleted']), before, undefined)).toBe(true);
    expect(fires(sub(['attributeCreated', 'attributeUpdated']), before, undefined)).toBe(false);
    expect(fires(sub(['attributeUpdated'], { watchedAttributes: [NS + 'b'] }), before, after)).toBe(false);
    expect(fires(sub(['entityCreated'], { watchedAttributes: [NS + 'b'] }), undefined, before)).toBe(false);
    expect(fires(sub(['entityCreated'], { watchedAttributes: [NS + 'a'] }), undefined, before)).toBe(true);
  });

  it('5.8.6 isLive: isActive and not past expiresAt', () => {
    const now = Date.parse('2030-01-01T00:00:00Z');
    expect(isLive(sub([]), now)).toBe(true);
    expect(isLive(sub([], { active: false }), now)).toBe(false);
    expect(isLive(sub([], { expiresAt: '2030-01-01T00:00:00Z' }), now)).toBe(false);
    expect(isLive(sub([], { expiresAt: '2030-01-01T00:00:01Z' }), now)).toBe(true);
  });
});
