import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ContextResolver } from '../../src/jsonld/resolver.js';
import type { LdContext } from '../../src/jsonld/types.js';
import { NO_STATS, type StoredRegistration } from '../../src/model/registration.js';
import { mergeRegistration, parseRegistration } from '../../src/registrations/parse.js';
import { RegistrationService } from '../../src/registrations/service.js';
import { RegistrationCache } from '../../src/registrations/tenant-cache.js';
import { openStores, type Stores } from '../../src/store/index.js';
import { TempDirs } from '../store/helpers.js';
import { badRequestDetail } from '../helpers/errors.js';

/**
 * Registration members that end up in HTTP headers (contextSourceAlias in Via and NGSILD-Warning, endpoint in
 * warning texts) and the per-tenant registration cache, whose tenants come from client headers.
 */

const EX = 'https://example.org/ns#';
const NOW = Date.parse('2030-01-01T00:00:00Z');
let ctx: LdContext;
beforeAll(async () => {
  ctx = await new ContextResolver({ timeoutMs: 100, cacheTtlSec: 60 }).resolve({ Vehicle: `${EX}Vehicle` });
});

const body = (extra: Record<string, unknown> = {}) => ({
  type: 'ContextSourceRegistration',
  information: [{ entities: [{ type: 'Vehicle' }] }],
  endpoint: 'http://cs.example:1026',
  ...extra,
});

describe('registration members that become header text (5.2.9, 6.3.17, 6.3.18)', () => {
  it('5.2.9: contextSourceAlias must be a Via pseudonym (token); "city-a.example:1026" style names without spaces pass', () => {
    expect(parseRegistration(body({ contextSourceAlias: 'city-b_1.example' }), ctx, NOW).spec.contextSourceAlias).toBe('city-b_1.example');
    for (const bad of ['has space', 'bad\r\nX-Injected: yes', '都市', '', 'a,b']) {
      expect(badRequestDetail(() => parseRegistration(body({ contextSourceAlias: bad }), ctx, NOW))).toMatch(/contextSourceAlias/);
    }
  });

  it('5.9.3: an update cannot set an invalid contextSourceAlias either', () => {
    const { id, spec } = parseRegistration(body({ id: 'urn:ngsi-ld:ContextSourceRegistration:h1' }), ctx, NOW);
    const current: StoredRegistration = { id: id!, tenant: '', spec, context: [], createdAt: '2030-01-01T00:00:00Z', modifiedAt: '2030-01-01T00:00:00Z', stats: NO_STATS };
    expect(badRequestDetail(() => mergeRegistration(current, { contextSourceAlias: 'x y' }, ctx, NOW))).toMatch(/contextSourceAlias/);
  });

  it('5.2.9: endpoint must be a URI: raw non-ASCII or control characters are refused, percent-encoded ones accepted', () => {
    expect(badRequestDetail(() => parseRegistration(body({ endpoint: 'http://127.0.0.1:9/日本' }), ctx, NOW))).toMatch(/endpoint/);
    expect(badRequestDetail(() => parseRegistration(body({ endpoint: 'http://127.0.0.1:9/a\r\nb' }), ctx, NOW))).toMatch(/endpoint/);
    const ok = parseRegistration(body({ endpoint: 'http://127.0.0.1:9/%E6%97%A5%E6%9C%AC' }), ctx, NOW);
    expect(ok.spec.endpoint).toBe('http://127.0.0.1:9/%E6%97%A5%E6%9C%AC');
  });
});

describe('the registration cache of tenants without registrations is bounded', () => {
  const dirs = new TempDirs();
  let stores: Stores;
  beforeEach(async () => {
    stores = await openStores({ store: 'embedded', dataDir: await dirs.make() });
  });
  afterEach(async () => {
    await stores.close();
    await dirs.cleanup();
  });

  it('keeps at most maxEmptyTenants empty tenants (least recently used go), whatever NGSILD-Tenant values clients send', async () => {
    const reads: string[] = [];
    const cache = new RegistrationCache((tenant) => {
      reads.push(tenant);
      return stores.registrations.list(tenant);
    }, 3);
    for (let i = 0; i < 50; i++) expect(await cache.get(`t${i}`)).toEqual([]);
    expect(cache.emptyTenants).toBe(3);
    expect(cache.peek('t49')).toEqual([]);
    expect(cache.peek('t0')).toBeUndefined();
    reads.length = 0;
    await cache.get('t47');
    expect(reads).toEqual([]);
    await cache.get('t0');
    expect(reads).toEqual(['t0']);
  });

  it('hasNone stays synchronous for known-empty tenants, and a registration in such a tenant ends "none" at once', async () => {
    const service = await RegistrationService.open(stores.registrations, { entities: stores.entities, limits: { defaultLimit: 20, maxLimit: 100 }, clock: () => NOW });
    try {
      expect(service.hasNone('flood')).toBe(false); // unknown yet: "maybe"
      expect(await service.allOf('flood')).toEqual([]);
      expect(service.hasNone('flood')).toBe(true);
      await service.create({ tenant: 'flood', ctx }, body({ id: 'urn:ngsi-ld:ContextSourceRegistration:f1' }));
      expect(service.hasNone('flood')).toBe(false);
      expect((await service.allOf('flood')).map((r) => r.id)).toEqual(['urn:ngsi-ld:ContextSourceRegistration:f1']);
      await service.delete({ tenant: 'flood', ctx }, 'urn:ngsi-ld:ContextSourceRegistration:f1');
      expect(service.hasNone('flood')).toBe(true);
      await service.onRemoteChange('flood');
      expect(service.hasNone('flood')).toBe(false);
    } finally {
      await service.close();
    }
  });
});
