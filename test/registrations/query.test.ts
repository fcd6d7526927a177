import { beforeAll, describe, expect, it } from 'vitest';
import { NgsiError } from '../../src/common/errors.js';
import { ContextResolver } from '../../src/jsonld/resolver.js';
import type { LdContext } from '../../src/jsonld/types.js';
import { NO_STATS, type RegistrationSpec, type StoredRegistration } from '../../src/model/registration.js';
import { parseRegistration } from '../../src/registrations/parse.js';
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

  it.each([
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
