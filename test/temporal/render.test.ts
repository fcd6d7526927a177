import { beforeAll, describe, expect, it } from 'vitest';
import { ContextResolver } from '../../src/jsonld/resolver.js';
import type { LdContext } from '../../src/jsonld/types.js';
import type { Attribute } from '../../src/model/entity.js';
import type { TemporalEntity, TemporalInstance } from '../../src/store/temporal-store.js';
import { aggregate, periodsOf, renderTemporalEntity, type TemporalRenderOptions } from '../../src/temporal/render.js';

const V = 'https://uri.etsi.org/ngsi-ld/default-context/';
let ctx: LdContext;
beforeAll(async () => {
  ctx = await new ContextResolver({ timeoutMs: 100, cacheTtlSec: 60 }).resolve(undefined);
});

const entity: TemporalEntity = { id: 'urn:ngsi-ld:V:1', type: [`${V}Vehicle`], createdAt: '2024-01-01T00:00:00Z', modifiedAt: '2024-01-03T00:00:00Z' };
let n = 0;
function inst(a: Partial<Attribute> & { type: Attribute['type'] }, extra: Partial<TemporalInstance> = {}): TemporalInstance {
  return { instanceId: `urn:ngsi-ld:i${++n}`, attribute: { createdAt: '2024-01-01T00:00:00Z', modifiedAt: '2024-01-01T00:00:00Z', ...a }, ...extra };
}
const speed = [
  inst({ type: 'Property', value: 30, observedAt: '2024-01-01T12:00:00Z', unitCode: 'KMH' }),
  inst({ type: 'Property', value: 10, observedAt: '2024-01-01T00:00:00Z', unitCode: 'KMH' }),
  inst({ type: 'Property', value: 20, observedAt: '2024-01-02T06:00:00Z', unitCode: 'KMH' }),
];
const owner = [
  inst({ type: 'Relationship', object: 'urn:ngsi-ld:P:a', observedAt: '2024-01-01T00:00:00Z' }),
  inst({ type: 'Relationship', object: 'urn:ngsi-ld:P:b', observedAt: '2024-01-01T10:00:00Z' }),
  inst({ type: 'Relationship', object: 'urn:ngsi-ld:P:a', observedAt: '2024-01-02T10:00:00Z' }),
];
const base: TemporalRenderOptions = { format: 'normalized', sysAttrs: false, timeproperty: 'observedAt' };
const attrs = () => new Map([[`${V}speed`, speed], [`${V}owner`, owner]]);

describe('normalized temporal representation (4.5.6-4.5.8)', () => {
  it('gives every instance, oldest first, with instanceId and compacted names', () => {
    const out = renderTemporalEntity(entity, attrs(), ctx, base);
    expect(out.id).toBe('urn:ngsi-ld:V:1');
    expect(out.type).toBe('Vehicle');
    expect(out.speed).toEqual([
      { type: 'Property', value: 10, observedAt: '2024-01-01T00:00:00Z', unitCode: 'KMH', instanceId: speed[1]!.instanceId },
      { type: 'Property', value: 30, observedAt: '2024-01-01T12:00:00Z', unitCode: 'KMH', instanceId: speed[0]!.instanceId },
      { type: 'Property', value: 20, observedAt: '2024-01-02T06:00:00Z', unitCode: 'KMH', instanceId: speed[2]!.instanceId },
    ]);
    expect((out.owner as unknown[])[1]).toEqual({ type: 'Relationship', object: 'urn:ngsi-ld:P:b', observedAt: '2024-01-01T10:00:00Z', instanceId: owner[1]!.instanceId });
  });
  it('sysAttrs adds createdAt/modifiedAt to entity and instances; deletions show deletedAt', () => {
    const deleted = inst({ type: 'Property', value: 'urn:ngsi-ld:null', observedAt: '2024-01-03T00:00:00Z' }, { deletedAt: '2024-01-03T00:00:00Z' });
    const out = renderTemporalEntity(entity, new Map([[`${V}speed`, [deleted]]]), ctx, { ...base, sysAttrs: true });
    expect(out.createdAt).toBe('2024-01-01T00:00:00Z');
    expect((out.speed as Record<string, unknown>[])[0]).toMatchObject({ value: 'urn:ngsi-ld:null', deletedAt: '2024-01-03T00:00:00Z', createdAt: '2024-01-01T00:00:00Z' });
  });
});

describe('simplified temporal representation (4.5.9)', () => {
  it('uses values for Properties and objects for Relationships, pairs of [value, time]', () => {
    const out = renderTemporalEntity(entity, attrs(), ctx, { ...base, format: 'temporalValues' });
    expect(out.speed).toEqual({ type: 'Property', values: [[10, '2024-01-01T00:00:00Z'], [30, '2024-01-01T12:00:00Z'], [20, '2024-01-02T06:00:00Z']] });
    expect(out.owner).toEqual({ type: 'Relationship', objects: [['urn:ngsi-ld:P:a', '2024-01-01T00:00:00Z'], ['urn:ngsi-ld:P:b', '2024-01-01T10:00:00Z'], ['urn:ngsi-ld:P:a', '2024-01-02T10:00:00Z']] });
  });
  it('names the member per attribute type', () => {
    const t = '2024-01-01T00:00:00Z';
    const m = new Map<string, TemporalInstance[]>([
      [`${V}says`, [inst({ type: 'LanguageProperty', languageMap: { en: 'yes' }, observedAt: t })]],
      [`${V}period`, [inst({ type: 'ListProperty', valueList: [1, 2], observedAt: t })]],
      [`${V}tickets`, [inst({ type: 'JsonProperty', json: { a: 1 }, observedAt: t })]],
      [`${V}gender`, [inst({ type: 'VocabProperty', vocab: `${V}Male`, observedAt: t })]],
      [`${V}members`, [inst({ type: 'ListRelationship', objectList: ['urn:a', 'urn:b'], observedAt: t })]],
      [`${V}where`, [inst({ type: 'GeoProperty', value: { type: 'Point', coordinates: [1, 2] }, observedAt: t })]],
    ]);
    const out = renderTemporalEntity(entity, m, ctx, { ...base, format: 'temporalValues' });
    expect(out.says).toEqual({ type: 'LanguageProperty', languageMaps: [[{ languageMap: { en: 'yes' } }, t]] });
    expect(out.period).toEqual({ type: 'ListProperty', valueLists: [[[1, 2], t]] });
    expect(out.tickets).toEqual({ type: 'JsonProperty', jsons: [[{ json: { a: 1 } }, t]] });
    expect(out.gender).toEqual({ type: 'VocabProperty', vocabs: [[{ vocab: 'Male' }, t]] });
    expect(out.members).toEqual({ type: 'ListRelationship', objectLists: [[['urn:a', 'urn:b'], t]] });
    expect(out.where).toEqual({ type: 'GeoProperty', values: [[{ type: 'Point', coordinates: [1, 2] }, t]] });
  });
  it('uses the requested timeproperty and gives one object per dataset', () => {
    const a = inst({ type: 'Property', value: 1, datasetId: 'urn:ds:a', modifiedAt: '2024-02-01T00:00:00Z' });
    const b = inst({ type: 'Property', value: 2, modifiedAt: '2024-02-02T00:00:00Z' });
    const out = renderTemporalEntity(entity, new Map([[`${V}x`, [a, b]]]), ctx, { ...base, format: 'temporalValues', timeproperty: 'modifiedAt' });
    expect(out.x).toEqual([
      { type: 'Property', values: [[1, '2024-02-01T00:00:00Z']], datasetId: 'urn:ds:a' },
      { type: 'Property', values: [[2, '2024-02-02T00:00:00Z']] },
    ]);
  });
});

describe('aggregated temporal representation (4.5.19)', () => {
  it('aggregates numbers over daily periods from timeAt (hand-computed)', () => {
    const out = renderTemporalEntity(entity, attrs(), ctx, {
      ...base,
      format: 'aggregatedValues',
      aggrMethods: ['totalCount', 'distinctCount', 'sum', 'avg', 'min', 'max', 'stddev', 'sumsq'],
      aggrPeriod: { years: 0, months: 0, ms: 86_400_000 },
      from: '2024-01-01T00:00:00.000Z',
      to: '2024-01-03T00:00:00.000Z',
    });
    const d1 = ['2024-01-01T00:00:00.000Z', '2024-01-02T00:00:00.000Z'];
    const d2 = ['2024-01-02T00:00:00.000Z', '2024-01-03T00:00:00.000Z'];
    // day 1: 10, 30; day 2: 20
    expect(out.speed).toEqual({
      type: 'Property',
      totalCount: [[2, ...d1], [1, ...d2]],
      distinctCount: [[2, ...d1], [1, ...d2]],
      sum: [[40, ...d1], [20, ...d2]],
      avg: [[20, ...d1], [20, ...d2]],
      min: [[10, ...d1], [20, ...d2]],
      max: [[30, ...d1], [20, ...d2]],
      stddev: [[10, ...d1], [0, ...d2]],
      sumsq: [[1000, ...d1], [400, ...d2]],
    });
    // relationships: only the counts apply (table 4.5.19.1-3)
    expect((out.owner as Record<string, unknown>).totalCount).toEqual([[2, ...d1], [1, ...d2]]);
    expect((out.owner as Record<string, unknown>).distinctCount).toEqual([[2, ...d1], [1, ...d2]]);
    expect((out.owner as Record<string, unknown>).sum).toEqual([[null, ...d1], [null, ...d2]]);
  });
  it('a zero duration is one period over the whole range; without range it starts at the oldest instance', () => {
    const out = renderTemporalEntity(entity, attrs(), ctx, { ...base, format: 'aggregatedValues', aggrMethods: ['avg'], aggrPeriod: { years: 0, months: 0, ms: 0 } });
    expect((out.speed as Record<string, unknown>).avg).toEqual([[20, '2024-01-01T00:00:00.000Z', '2024-01-02T06:00:00.001Z']]);
  });
  it('follows tables 4.5.19.1-1/2 for strings, booleans and arrays', () => {
    expect(aggregate('max', ['b', 'c', 'a'])).toBe('c');
    expect(aggregate('min', ['b', 'c', 'a'])).toBe('a');
    expect(aggregate('avg', ['b'])).toBeNull();
    expect(aggregate('sum', [true, false, true])).toBe(2);
    expect(aggregate('avg', [[1, 2], [1, 2, 3, 4]])).toBe(3);
    expect(aggregate('max', [[1], [1, 2, 3]])).toBe(3);
    expect(aggregate('stddev', [[1], [2]])).toBeNull();
    expect(aggregate('distinctCount', [{ a: 1 }, { a: 1 }, { a: 2 }])).toBe(2);
    expect(aggregate('totalCount', ['x', 'x'])).toBe(2);
    expect(aggregate('stddev', [2, 4, 4, 4, 5, 5, 7, 9])).toBe(2);
  });
  it('periods follow calendar months and skip empty periods', () => {
    const pts = [Date.parse('2024-01-15T00:00:00Z'), Date.parse('2024-03-10T00:00:00Z')].map((t) => ({ t, v: 1 }));
    const ps = periodsOf(pts, { aggrPeriod: { years: 0, months: 1, ms: 0 }, from: '2024-01-01T00:00:00Z' });
    expect(ps.map((p) => [new Date(p.start).toISOString(), new Date(p.end).toISOString()])).toEqual([
      ['2024-01-01T00:00:00.000Z', '2024-02-01T00:00:00.000Z'],
      ['2024-03-01T00:00:00.000Z', '2024-04-01T00:00:00.000Z'],
    ]);
  });
});
