import { beforeAll, describe, expect, it } from 'vitest';
import { NgsiError } from '../../src/common/errors.js';
import { ContextResolver } from '../../src/jsonld/resolver.js';
import type { LdContext } from '../../src/jsonld/types.js';
import { NO_STATS, type RegistrationSpec, type StoredRegistration } from '../../src/model/registration.js';
import { parseRegistration } from '../../src/registrations/parse.js';
import { parseTemporalQMember } from '../../src/query/temporal-q.js';
import { matchesRegistrationQuery, parseRegistrationQuery } from '../../src/registrations/query.js';

const EX = 'https://example.org/ns#';
const NOW = Date.parse('2030-01-01T00:00:00Z');
let ctx: LdContext;
beforeAll(async () => {
  ctx = await new ContextResolver({ timeoutMs: 100, cacheTtlSec: 60 }).resolve({ Vehicle: `${EX}Vehicle`, speed: `${EX}speed`, brand: `${EX}brand` });
});

function reg(extra: Record<string, unknown> = {}): StoredRegistration {
  const { spec } = parseRegistration(
    { type: 'ContextSourceRegistration', information: [{ entities: [{ type: 'Vehicle' }], propertyNames: ['speed', 'location'] }], endpoint: 'http://cs.example', ...extra },
    ctx,
    NOW,
  );
  return { id: 'urn:r:1', tenant: '', spec: spec as RegistrationSpec, context: 'x', createdAt: 'c', modifiedAt: 'm', stats: NO_STATS };
}
const matches = (r: StoredRegistration, params: Record<string, string>) => matchesRegistrationQuery(r, parseRegistrationQuery(params, ctx), NOW);

describe('Query CSourceRegistrations filters (5.10.2.4)', () => {
  it('5.10.2.4: attributes of q match RegistrationInfo like attrs', () => {
    expect(matches(reg(), { q: 'speed>10' })).toBe(true);
    expect(matches(reg(), { q: 'brand=="x"' })).toBe(false);
  });

  it('5.10.2.4: a geo-query matches when the location may contain matches; no location may hold anything', () => {
    const berlin = reg({ location: { type: 'Polygon', coordinates: [[[13, 52], [14, 52], [14, 53], [13, 53], [13, 52]]] } });
    const inside = { georel: 'near;maxDistance==1000', geometry: 'Point', coordinates: '[13.4,52.5]', type: 'Vehicle' };
    const outside = { georel: 'within', geometry: 'Polygon', coordinates: '[[[0,0],[1,0],[1,1],[0,1],[0,0]]]', type: 'Vehicle' };
    expect(matches(berlin, inside)).toBe(true);
    expect(matches(berlin, outside)).toBe(false);
    expect(matches(reg(), outside)).toBe(true);
  });

  it('4.19: scopeQ matches the scope member', () => {
    expect(matches(reg({ scope: '/Madrid/Gardens' }), { type: 'Vehicle', scopeQ: '/Madrid/#' })).toBe(true);
    expect(matches(reg({ scope: ['/Tokyo'] }), { type: 'Vehicle', scopeQ: '/Madrid/#' })).toBe(false);
    expect(matches(reg(), { type: 'Vehicle', scopeQ: '/Madrid/#' })).toBe(false);
  });

  it('5.10.2.4: temporal queries match observationInterval (observedAt) or managementInterval (createdAt, ...)', () => {
    const r = reg({ observationInterval: { startAt: '2021-01-01T00:00:00Z', endAt: '2021-12-31T00:00:00Z' }, managementInterval: { startAt: '2022-01-01T00:00:00Z' } });
    const t = (params: Record<string, string>) => matches(r, { type: 'Vehicle', ...params });
    expect(t({})).toBe(false);
    expect(t({ timerel: 'after', timeAt: '2021-06-01T00:00:00Z' })).toBe(true);
    expect(t({ timerel: 'after', timeAt: '2022-06-01T00:00:00Z' })).toBe(false);
    expect(t({ timerel: 'between', timeAt: '2020-06-01T00:00:00Z', endTimeAt: '2021-02-01T00:00:00Z' })).toBe(true);
    expect(t({ timerel: 'between', timeAt: '2020-06-01T00:00:00Z', endTimeAt: '2020-12-01T00:00:00Z' })).toBe(false);
    expect(t({ timerel: 'after', timeAt: '2030-01-01T00:00:00Z', timeproperty: 'modifiedAt' })).toBe(true);
    expect(t({ timerel: 'before', timeAt: '2021-06-01T00:00:00Z', timeproperty: 'modifiedAt' })).toBe(false);
  });

  it('4.9 csf: Context Source Properties (bare or as Property) and members such as mode', () => {
    const r = reg({ brand: { type: 'Property', value: 'acme' }, mode: 'redirect' });
    expect(matches(r, { type: 'Vehicle', csf: 'brand=="acme"' })).toBe(true);
    expect(matches(r, { type: 'Vehicle', csf: 'brand=="other"' })).toBe(false);
    expect(matches(r, { type: 'Vehicle', csf: 'mode=="redirect";brand=="acme"' })).toBe(true);
    expect(matches(r, { type: 'Vehicle', csf: 'mode=="inclusive"' })).toBe(false);
  });

  it('5.12: a datasetId parameter matches registrations sharing one of its datasetIds, or naming none', () => {
    const some = reg({ datasetId: ['urn:ds:a', 'urn:ds:b'] });
    expect(matches(some, { type: 'Vehicle', datasetId: 'urn:ds:b' })).toBe(true);
    expect(matches(some, { type: 'Vehicle', datasetId: 'urn:ds:c,urn:ds:a' })).toBe(true);
    expect(matches(some, { type: 'Vehicle', datasetId: 'urn:ds:c' })).toBe(false);
    expect(matches(some, { type: 'Vehicle', datasetId: '@none' })).toBe(false);
    expect(matches(some, { type: 'Vehicle' })).toBe(true);
    expect(matches(reg(), { type: 'Vehicle', datasetId: 'urn:ds:c' })).toBe(true);
  });

  it.each([
    [{}, /Too wide a query: give at least one of type, attrs, q or a geo-query/],
    [{ csf: 'brand=="x"' }, /Too wide a query/],
    [{ scopeQ: '/Madrid' }, /Too wide a query/],
    [{ timerel: 'after', timeAt: '2021-01-01T00:00:00Z' }, /Too wide a query/],
    [{ idPattern: 'urn:x:.*' }, /ids or an idPattern alone/],
    [{ type: 'Vehicle', datasetId: 'not a uri' }, /datasetId "not a uri" is neither a URI nor "@none"/],
    [{ type: 'Vehicle', timerel: 'between', timeAt: '2021-02-01T00:00:00Z', endTimeAt: '2021-01-01T00:00:00Z' }, /endTimeAt must be later/],
    [{ type: 'Vehicle', timerel: 'after', timeAt: 'yesterday' }, /timeAt "yesterday" is not a DateTime/],
    [{ id: 'urn:x:1' }, /ids or an idPattern alone/],
    [{ type: 'Vehicle', timerel: 'during', timeAt: '2021-01-01T00:00:00Z' }, /timerel/],
    [{ type: 'Vehicle', timerel: 'between', timeAt: '2021-01-01T00:00:00Z' }, /endTimeAt/],
    [{ type: 'Vehicle', timeAt: '2021-01-01T00:00:00Z' }, /need timerel/],
    [{ type: 'Vehicle', timerel: 'after', timeAt: '2021-01-01T00:00:00Z', timeproperty: 'observed' }, /timeproperty/],
    [{ type: 'Vehicle', csf: 'brand==' }, /.+/],
  ])('%j is BadRequestData', (params, detail) => {
    let error: unknown;
    try {
      parseRegistrationQuery(params, ctx);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(NgsiError);
    expect((error as NgsiError).kind).toBe('BadRequestData');
    expect((error as NgsiError).message).toMatch(detail);
  });
});

describe('temporalQ of CSource subscriptions (5.2.12, 5.2.21)', () => {
  it('a TemporalQuery becomes the temporal query of discovery; timeproperty defaults to observedAt', () => {
    expect(parseTemporalQMember({ timerel: 'before', timeAt: '2021-08-01T22:00:00Z' })).toEqual({ timerel: 'before', timeAt: '2021-08-01T22:00:00Z', timeproperty: 'observedAt' });
    expect(parseTemporalQMember({ timerel: 'between', timeAt: '2021-01-01T00:00:00Z', endTimeAt: '2021-02-01T00:00:00Z', timeproperty: 'modifiedAt' })).toEqual({
      timerel: 'between',
      timeAt: '2021-01-01T00:00:00Z',
      endTimeAt: '2021-02-01T00:00:00Z',
      timeproperty: 'modifiedAt',
    });
  });

  it.each([
    ['x', /temporalQ must be a TemporalQuery object/],
    [[], /temporalQ must be a TemporalQuery object/],
    [{ timeAt: '2021-01-01T00:00:00Z' }, /temporalQ.timerel must be before, after or between/],
    [{ timerel: 'during', timeAt: '2021-01-01T00:00:00Z' }, /temporalQ.timerel/],
    [{ timerel: 'after' }, /temporalQ.timeAt undefined is not a DateTime/],
    [{ timerel: 'after', timeAt: 42 }, /temporalQ.timeAt 42 is not a DateTime/],
    [{ timerel: 'between', timeAt: '2021-01-01T00:00:00Z' }, /needs temporalQ.endTimeAt/],
    [{ timerel: 'after', timeAt: '2021-01-01T00:00:00Z', timeproperty: 'observed' }, /temporalQ.timeproperty must be one of/],
  ])('%j is BadRequestData', (value, detail) => {
    let error: unknown;
    try {
      parseTemporalQMember(value);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(NgsiError);
    expect((error as NgsiError).kind).toBe('BadRequestData');
    expect((error as NgsiError).message).toMatch(detail);
  });
});
