import { beforeAll, describe, expect, it } from 'vitest';
import { NgsiError } from '../../src/common/errors.js';
import { ContextResolver } from '../../src/jsonld/resolver.js';
import type { LdContext } from '../../src/jsonld/types.js';
import { addDuration, parseDuration, parseTemporalParams, parseTemporalQuery } from '../../src/temporal/params.js';

let ctx: LdContext;
beforeAll(async () => {
  ctx = await new ContextResolver({ timeoutMs: 100, cacheTtlSec: 60 }).resolve(undefined);
});

function bad(f: () => unknown, detail: RegExp): void {
  try {
    f();
  } catch (err) {
    expect(err).toBeInstanceOf(NgsiError);
    expect((err as NgsiError).toProblem().status).toBe(400);
    expect((err as NgsiError).toProblem().detail).toMatch(detail);
    return;
  }
  throw new Error('expected a BadRequestData');
}

describe('temporal query (4.11)', () => {
  it('before: exclusive upper bound; after: inclusive lower; between: both', () => {
    expect(parseTemporalQuery({ timerel: 'before', timeAt: '2024-01-01T00:00:00Z' }, { required: true })).toMatchObject({ to: '2024-01-01T00:00:00.000Z' });
    expect(parseTemporalQuery({ timerel: 'after', timeAt: '2024-01-01T00:00:00Z' }, { required: true })).toMatchObject({ from: '2024-01-01T00:00:00.000Z' });
    expect(parseTemporalQuery({ timerel: 'between', timeAt: '2024-01-01T00:00:00Z', endTimeAt: '2024-01-02T00:00:00Z' }, { required: true })).toMatchObject({
      from: '2024-01-01T00:00:00.000Z',
      to: '2024-01-02T00:00:00.000Z',
      timeproperty: 'observedAt',
    });
  });
  it('timeproperty defaults to observedAt and accepts the four temporal properties', () => {
    for (const tp of ['observedAt', 'createdAt', 'modifiedAt', 'deletedAt']) expect(parseTemporalQuery({ timeproperty: tp }, { required: false }).timeproperty).toBe(tp);
    bad(() => parseTemporalQuery({ timeproperty: 'foo' }, { required: false }), /timeproperty="foo" is not known/);
  });
  it('rejects every bad combination with a detail', () => {
    bad(() => parseTemporalQuery({}, { required: true }), /temporal query is required/);
    bad(() => parseTemporalQuery({ timeAt: '2024-01-01T00:00:00Z' }, { required: false }), /need a timerel/);
    bad(() => parseTemporalQuery({ timerel: 'after' }, { required: false }), /timerel=after needs a timeAt/);
    bad(() => parseTemporalQuery({ timerel: 'during', timeAt: '2024-01-01T00:00:00Z' }, { required: false }), /timerel="during" is not known/);
    bad(() => parseTemporalQuery({ timerel: 'between', timeAt: '2024-01-01T00:00:00Z' }, { required: false }), /needs an endTimeAt/);
    bad(() => parseTemporalQuery({ timerel: 'between', timeAt: '2024-01-02T00:00:00Z', endTimeAt: '2024-01-01T00:00:00Z' }, { required: false }), /must be later than timeAt/);
    // endTimeAt is only used by between (4.11): ignored with before/after, as the ETSI suite sends it (TP/NGSI-LD/CI/Cons/TE/021_01_02)
    expect(parseTemporalQuery({ timerel: 'before', timeAt: '2024-01-02T00:00:00Z', endTimeAt: '' }, { required: false }).to).toBe('2024-01-02T00:00:00.000Z');
    bad(() => parseTemporalQuery({ timerel: 'after', timeAt: '', endTimeAt: '' }, { required: false }), /timeAt="" is not a DateTime/);
    bad(() => parseTemporalQuery({ timerel: 'after', timeAt: 'yesterday' }, { required: false }), /timeAt="yesterday" is not a DateTime/);
    bad(() => parseTemporalQuery({ timerel: 'between', timeAt: '2024-01-01T00:00:00Z', endTimeAt: '2024-13-01' }, { required: false }), /endTimeAt=.* is not a DateTime/);
  });
  it('lastN is a positive integer', () => {
    expect(parseTemporalQuery({ lastN: '3' }, { required: false }).lastN).toBe(3);
    for (const v of ['0', '-1', '1.5', 'x', '']) bad(() => parseTemporalQuery({ lastN: v }, { required: false }), /lastN=.* must be a positive integer/);
  });
});

describe('ISO 8601 durations (4.5.19.1)', () => {
  it('parses the date, time and week forms', () => {
    expect(parseDuration('P1Y2M')).toEqual({ years: 1, months: 2, ms: 0 });
    expect(parseDuration('P1DT2H30M5S')).toEqual({ years: 0, months: 0, ms: ((24 + 2) * 60 + 30) * 60_000 + 5000 });
    expect(parseDuration('P2W')).toEqual({ years: 0, months: 0, ms: 14 * 86_400_000 });
    expect(parseDuration('PT0S')).toEqual({ years: 0, months: 0, ms: 0 });
    expect(parseDuration('P0D')).toEqual({ years: 0, months: 0, ms: 0 });
    expect(parseDuration('PT0.5S')?.ms).toBe(500);
  });
  it('rejects what is not a duration', () => {
    for (const d of ['', 'P', 'PT', '1D', 'P1H', 'P1W2D', 'PT1D', '2024-01-01T00:00:00Z/P1D', 'P-1D']) expect(parseDuration(d), d).toBeUndefined();
  });
  it('adds calendar months clamping the day', () => {
    expect(new Date(addDuration(Date.parse('2024-01-31T00:00:00Z'), { years: 0, months: 1, ms: 0 })).toISOString()).toBe('2024-02-29T00:00:00.000Z');
    expect(new Date(addDuration(Date.parse('2024-01-01T00:00:00Z'), { years: 1, months: 0, ms: 0 }, 2)).toISOString()).toBe('2026-01-01T00:00:00.000Z');
  });
});

describe('representation and aggregation parameters', () => {
  it('format and options select the representation', () => {
    expect(parseTemporalParams({}, ctx, { requireTemporalQuery: false }).format).toBe('normalized');
    expect(parseTemporalParams({ options: 'temporalValues' }, ctx, { requireTemporalQuery: false }).format).toBe('temporalValues');
    expect(parseTemporalParams({ format: 'temporalValues' }, ctx, { requireTemporalQuery: false }).format).toBe('temporalValues');
    expect(parseTemporalParams({ options: 'sysAttrs' }, ctx, { requireTemporalQuery: false }).sysAttrs).toBe(true);
    bad(() => parseTemporalParams({ format: 'keyValues' }, ctx, { requireTemporalQuery: false }), /format=keyValues is not a temporal representation/);
    bad(() => parseTemporalParams({ options: 'foo' }, ctx, { requireTemporalQuery: false }), /options=foo is not known/);
  });
  it('aggregatedValues needs known aggrMethods and a valid duration', () => {
    const p = parseTemporalParams({ format: 'aggregatedValues', aggrMethods: 'sum,avg', aggrPeriodDuration: 'P1D' }, ctx, { requireTemporalQuery: false });
    expect(p.aggrMethods).toEqual(['sum', 'avg']);
    expect(p.aggrPeriod).toEqual({ years: 0, months: 0, ms: 86_400_000 });
    expect(parseTemporalParams({ options: 'aggregatedValues', aggrMethods: 'max' }, ctx, { requireTemporalQuery: false }).aggrPeriod).toEqual({ years: 0, months: 0, ms: 0 });
    bad(() => parseTemporalParams({ format: 'aggregatedValues' }, ctx, { requireTemporalQuery: false }), /needs aggrMethods/);
    bad(() => parseTemporalParams({ format: 'aggregatedValues', aggrMethods: 'median' }, ctx, { requireTemporalQuery: false }), /"median" is not an aggregation method/);
    bad(() => parseTemporalParams({ format: 'aggregatedValues', aggrMethods: 'sum', aggrPeriodDuration: '1 day' }, ctx, { requireTemporalQuery: false }), /aggrPeriodDuration="1 day" is not an ISO 8601 duration/);
    bad(() => parseTemporalParams({ aggrMethods: 'sum' }, ctx, { requireTemporalQuery: false }), /apply only with format=aggregatedValues/);
  });
  it('attrs are expanded; datasetId must be URIs or @none', () => {
    const p = parseTemporalParams({ attrs: 'speed', datasetId: '@none,urn:ds:1' }, ctx, { requireTemporalQuery: false });
    expect(p.attrs).toEqual(['https://uri.etsi.org/ngsi-ld/default-context/speed']);
    expect([...p.datasetIds!]).toEqual([undefined, 'urn:ds:1']);
    bad(() => parseTemporalParams({ datasetId: 'not a uri' }, ctx, { requireTemporalQuery: false }), /datasetId "not a uri" is not a URI/);
  });
});
