import { beforeAll, describe, expect, it } from 'vitest';
import { ContextResolver } from '../../src/jsonld/resolver.js';
import type { LdContext } from '../../src/jsonld/types.js';
import { NO_STATS, type StoredRegistration } from '../../src/model/registration.js';
import { mergeRegistration, parseRegistration } from '../../src/registrations/parse.js';
import { renderRegistration } from '../../src/registrations/render.js';
import { badRequestDetail } from '../helpers/errors.js';

const EX = 'https://example.org/ns#';
const NOW = Date.parse('2030-01-01T00:00:00Z');
let ctx: LdContext;
let core: LdContext;
beforeAll(async () => {
  const resolver = new ContextResolver({ timeoutMs: 100, cacheTtlSec: 60 });
  core = await resolver.resolve();
  ctx = await resolver.resolve({ Vehicle: `${EX}Vehicle`, speed: `${EX}speed`, owner: `${EX}owner`, brand: `${EX}brand` });
});

const body = (extra: Record<string, unknown> = {}) => ({
  type: 'ContextSourceRegistration',
  information: [{ entities: [{ type: 'Vehicle', id: 'urn:x:A1' }], propertyNames: ['speed'], relationshipNames: ['owner'] }],
  endpoint: 'http://cs.example:1026',
  ...extra,
});

describe('parseRegistration (5.2.9, 5.2.10, 5.9.2.4)', () => {
  it('expands entity types, propertyNames, relationshipNames and Context Source Property names', () => {
    const { id, spec } = parseRegistration(body({ id: 'urn:ngsi-ld:ContextSourceRegistration:1', brand: 'acme' }), ctx, NOW);
    expect(id).toBe('urn:ngsi-ld:ContextSourceRegistration:1');
    expect(spec.information).toEqual([{ entities: [{ id: 'urn:x:A1', type: [`${EX}Vehicle`] }], propertyNames: [`${EX}speed`], relationshipNames: [`${EX}owner`] }]);
    expect(spec.properties).toEqual({ [`${EX}brand`]: 'acme' });
  });

  it('5.2.9: read-only members given by the client are ignored', () => {
    const { spec } = parseRegistration(body({ status: 'failed', timesSent: 3, lastSuccess: '2020-01-01T00:00:00Z' }), ctx, NOW);
    expect(spec.properties).toBeUndefined();
  });

  it.each([
    ['information missing', { information: undefined }, /information/],
    ['information empty (5.2.9)', { information: [] }, /information/],
    ['RegistrationInfo empty (5.2.10)', { information: [{}] }, /information\.0/],
    ['EntityInfo id not a URI (5.2.8)', { information: [{ entities: [{ type: 'V', id: 'nope' }] }] }, /5\.2\.8/],
    ['idPattern not RE2 (5.2.8)', { information: [{ entities: [{ type: 'V', idPattern: '(?<=a)b' }] }] }, /idPattern/],
    ['endpoint not http(s) (5.2.9)', { endpoint: 'ftp://x' }, /endpoint/],
    ['expiresAt in the past (5.9.2.4)', { expiresAt: '2029-01-01T00:00:00Z' }, /future/],
    ['unknown operation (4.20)', { operations: ['teleport'] }, /Table 4\.20-1/],
    ['contextSourceInfo contentType (4.3.6.6)', { contextSourceInfo: [{ key: 'contentType', value: 'text/xml' }] }, /4\.3\.6\.6/],
    ['contextSourceInfo ngsildConformance (4.3.6.6)', { contextSourceInfo: [{ key: 'ngsildConformance', value: 'one' }] }, /4\.3\.6\.6/],
    ['refreshRate not a duration', { refreshRate: '10 seconds' }, /ISO 8601/],
    ['scope not a path (4.18)', { scope: 'Madrid' }, /4\.18/],
    ['datasetId not a URI', { datasetId: ['ds 1'] }, /datasetId/],
    ['management.timeout not positive (5.2.34)', { management: { timeout: 0 } }, /management/],
    ['auxiliary without operations (5.9.2.4)', { mode: 'auxiliary' }, /auxiliary/],
    ['auxiliary with updateOps (5.9.2.4)', { mode: 'auxiliary', operations: ['retrieveOps', 'updateOps'] }, /auxiliary/],
    ['exclusive without entity id (4.3.6.3)', { mode: 'exclusive', information: [{ entities: [{ type: 'V' }], propertyNames: ['p'] }] }, /4\.3\.6\.3/],
    ['exclusive without attributes (4.3.6.3)', { mode: 'exclusive', information: [{ entities: [{ type: 'V', id: 'urn:x:1' }] }] }, /Attributes/],
    ['interval ending before it starts (5.2.11)', { managementInterval: { startAt: '2021-02-01T00:00:00Z', endAt: '2021-01-01T00:00:00Z' } }, /5\.2\.11/],
  ])('%s is BadRequestData with a detail', (_what, extra, detail) => {
    const b: Record<string, unknown> = body(extra);
    for (const [k, v] of Object.entries(extra)) if (v === undefined) delete b[k];
    expect(badRequestDetail(() => parseRegistration(b, ctx, NOW))).toMatch(detail);
  });

  it('accepts the retrieve-only operations of an auxiliary registration', () => {
    expect(parseRegistration(body({ mode: 'auxiliary', operations: ['retrieveOps', 'queryEntity'] }), ctx, NOW).spec.mode).toBe('auxiliary');
  });
});

describe('mergeRegistration (5.9.3.4, 5.5.8)', () => {
  const current = (): { id: string; spec: StoredRegistration['spec'] } => ({ id: 'urn:r:1', ...parseRegistration(body({ description: 'd', brand: 'acme' }), ctx, NOW) });

  it('replaces given members, deletes those set to NGSI-LD Null, keeps the rest', () => {
    const merged = mergeRegistration(current(), { endpoint: 'http://new.example', description: 'urn:ngsi-ld:null', brand: null }, ctx, NOW);
    expect(merged.endpoint).toBe('http://new.example');
    expect(merged.description).toBeUndefined();
    expect(merged.properties).toBeUndefined();
    expect(merged.information).toEqual(current().spec.information);
  });

  it('refuses to delete mandatory members, to change the id, or to change nothing', () => {
    expect(badRequestDetail(() => mergeRegistration(current(), { endpoint: null }, ctx, NOW))).toMatch(/mandatory/);
    expect(badRequestDetail(() => mergeRegistration(current(), { id: 'urn:r:2' }, ctx, NOW))).toMatch(/cannot be changed/);
    expect(badRequestDetail(() => mergeRegistration(current(), { type: 'ContextSourceRegistration' }, ctx, NOW))).toMatch(/changes nothing/);
    expect(badRequestDetail(() => mergeRegistration(current(), [], ctx, NOW))).toMatch(/JSON object/);
  });

  it('checks the result as a whole (a mode change needs what the mode requires)', () => {
    expect(badRequestDetail(() => mergeRegistration(current(), { mode: 'auxiliary' }, ctx, NOW))).toMatch(/auxiliary/);
  });
});

describe('renderRegistration (5.10.1.4)', () => {
  it('compacts names with the request @context and shows counters only once used', () => {
    const { spec } = parseRegistration(body({ brand: 'acme' }), ctx, NOW);
    const reg: StoredRegistration = { id: 'urn:r:1', tenant: '', spec, context: 'x', createdAt: 'c', modifiedAt: 'm', stats: NO_STATS };
    const out = renderRegistration(reg, NO_STATS, ctx, { sysAttrs: false });
    expect(out).toMatchObject({ id: 'urn:r:1', type: 'ContextSourceRegistration', information: [{ entities: [{ type: 'Vehicle' }], propertyNames: ['speed'] }], brand: 'acme' });
    expect(out.timesSent).toBeUndefined();
    expect(out.createdAt).toBeUndefined();
    const expanded = renderRegistration(reg, { timesSent: 2, timesFailed: 1, status: 'failed', lastFailure: 'f' }, core, { sysAttrs: true });
    expect((expanded.information as Array<{ entities: Array<{ type: string }> }>)[0]!.entities[0]!.type).toBe(`${EX}Vehicle`);
    expect(expanded).toMatchObject({ timesSent: 2, timesFailed: 1, status: 'failed', lastFailure: 'f', createdAt: 'c', modifiedAt: 'm' });
  });
});
