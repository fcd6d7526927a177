import { describe, expect, it } from 'vitest';
import { NgsiError } from '../../src/common/errors.js';
import * as apply from '../../src/entities/apply.js';
import type { ParsedEntity } from '../../src/entities/parse-entity.js';
import type { Attribute, Entity } from '../../src/model/entity.js';

const T0 = '2026-01-01T00:00:00.000Z';
const T1 = '2026-01-02T00:00:00.000Z';
const prop = (value: unknown, extra: Partial<Attribute> = {}): Attribute => ({ type: 'Property', value, createdAt: T0, modifiedAt: T0, ...extra });

function entity(attrs: Entity['attrs'], extra: Partial<Entity> = {}): Entity {
  return { id: 'urn:x:1', type: ['T'], createdAt: T0, modifiedAt: T0, attrs, ...extra };
}

function fragment(attrs: Record<string, ParsedEntity['attrs'] extends Map<string, infer V> ? V : never>, extra: Partial<ParsedEntity> = {}): ParsedEntity {
  return { attrs: new Map(Object.entries(attrs)), names: new Map(Object.keys(attrs).map((k) => [k, k])), ...extra };
}
const value = (attr: Attribute) => ({ kind: 'value' as const, attr });

describe('Update Attributes (5.6.2, 5.5.8)', () => {
  it('replaces the default instance keeping createdAt, appends new ones, deletes with NGSI-LD Null', () => {
    const current = entity({ a: [prop(1, { unitCode: 'CEL' })], b: [prop(2)] });
    const { entity: next, result } = apply.updateAttributes(
      current,
      fragment({ a: [value(prop(10, { createdAt: T1, modifiedAt: T1 }))], b: [{ kind: 'null' }], c: [value(prop(3))] }),
      T1,
    );
    expect(next.attrs.a).toEqual([{ type: 'Property', value: 10, createdAt: T0, modifiedAt: T1 }]);
    expect(next.attrs.b).toBeUndefined();
    expect(next.attrs.c).toHaveLength(1);
    expect(result).toEqual({ updated: ['a', 'b', 'c'], notUpdated: [] });
    expect(next.modifiedAt).toBe(T1);
  });

  it('targets instances by datasetId (4.5.5)', () => {
    const current = entity({ a: [prop(1), prop(2, { datasetId: 'urn:ds:1' })] });
    const { entity: next } = apply.updateAttributes(current, fragment({ a: [value(prop(5, { datasetId: 'urn:ds:1' }))] }), T1);
    expect(next.attrs.a!.map((x) => x.value)).toEqual([1, 5]);
  });

  it('reports deleting a missing instance as not updated', () => {
    const { result, changed } = apply.updateAttributes(entity({}), fragment({ a: [{ kind: 'null' }] }), T1);
    expect(changed).toBe(false);
    expect(result.notUpdated).toEqual([{ attributeName: 'a', reason: expect.stringMatching(/no default instance/) }]);
  });

  it('adds new entity types and replaces scope only when the entity has one', () => {
    const { entity: next } = apply.updateAttributes(entity({}), fragment({}, { type: ['T', 'U'], scope: ['/a'] }), T1);
    expect(next.type).toEqual(['T', 'U']);
    expect(next.scope).toBeUndefined();
  });
});

describe('Append Attributes (5.6.3)', () => {
  it('skips existing attributes with noOverwrite and says so', () => {
    const { entity: next, result } = apply.appendAttributes(entity({ a: [prop(1)] }), fragment({ a: [value(prop(2))], b: [value(prop(3))] }), T1, true);
    expect(next.attrs.a![0]!.value).toBe(1);
    expect(next.attrs.b![0]!.value).toBe(3);
    expect(result.updated).toEqual(['b']);
    expect(result.notUpdated[0]!.attributeName).toBe('a');
  });
});

describe('Merge Entity (5.6.17, 5.5.12)', () => {
  it('merges members of an existing attribute and keeps the rest', () => {
    const current = entity({ a: [prop(1, { unitCode: 'CEL', observedAt: T0 })] });
    const { entity: next } = apply.mergeEntity(current, fragment({ a: [value(prop(2))] }), T1, {});
    expect(next.attrs.a![0]).toMatchObject({ value: 2, unitCode: 'CEL', observedAt: T0, createdAt: T0 });
  });

  it('keeps the type of the attribute for simplified payloads and applies the common observedAt', () => {
    const current = entity({ r: [{ type: 'Relationship', object: 'urn:a:1', observedAt: T0, createdAt: T0, modifiedAt: T0 }] });
    const { entity: next } = apply.mergeEntity(current, fragment({ r: [{ kind: 'simplified', value: 'urn:a:2' }] }), T1, { observedAt: T1 });
    expect(next.attrs.r![0]).toMatchObject({ type: 'Relationship', object: 'urn:a:2', observedAt: T1 });
  });

  it('puts a plain string into one language of a LanguageProperty', () => {
    const current = entity({ n: [{ type: 'LanguageProperty', languageMap: { en: 'Bridge', fr: 'Pont' }, createdAt: T0, modifiedAt: T0 }] });
    const { entity: next } = apply.mergeEntity(current, fragment({ n: [value(prop('Brücke'))] }), T1, { lang: 'de' });
    expect(next.attrs.n![0]!.languageMap).toEqual({ en: 'Bridge', fr: 'Pont', de: 'Brücke' });
  });
});

describe('attribute resource operations (5.6.4, 5.6.5, 5.6.19)', () => {
  it('partial update overwrites given members only and refuses a type change', () => {
    const current = entity({ a: [prop(1, { unitCode: 'CEL' })] });
    const next = apply.partialAttributeUpdate(current, 'a', 'a', prop(100, { observedAt: T1 }), T1);
    expect(next.attrs.a![0]).toMatchObject({ value: 100, unitCode: 'CEL', observedAt: T1, createdAt: T0, modifiedAt: T1 });
    expect(() => apply.partialAttributeUpdate(current, 'a', 'a', { type: 'Relationship', object: 'urn:a:1', createdAt: T1, modifiedAt: T1 }, T1)).toThrow(NgsiError);
    expect(() => apply.partialAttributeUpdate(current, 'zz', 'zz', prop(1), T1)).toThrow(/no default instance/);
  });

  it('replace attribute swaps the whole instance', () => {
    const next = apply.replaceAttribute(entity({ a: [prop(1, { unitCode: 'CEL' })] }), 'a', 'a', prop(2), T1);
    expect(next.attrs.a![0]).toEqual({ type: 'Property', value: 2, createdAt: T0, modifiedAt: T1 });
  });

  it('delete attribute removes the default, one dataset, or all (deleteAll)', () => {
    const current = entity({ a: [prop(1), prop(2, { datasetId: 'urn:ds:1' })] });
    expect(apply.deleteAttribute(current, 'a', 'a', { deleteAll: false }, T1).attrs.a!.map((x) => x.value)).toEqual([2]);
    expect(apply.deleteAttribute(current, 'a', 'a', { datasetId: 'urn:ds:1', deleteAll: false }, T1).attrs.a!.map((x) => x.value)).toEqual([1]);
    expect(apply.deleteAttribute(current, 'a', 'a', { deleteAll: true }, T1).attrs.a).toBeUndefined();
    expect(() => apply.deleteAttribute(current, 'a', 'a', { datasetId: 'urn:ds:9', deleteAll: false }, T1)).toThrow(/urn:ds:9/);
  });
});
