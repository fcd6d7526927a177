import { describe, expect, it } from 'vitest';
import type { Attribute, Entity } from '../../src/model/entity.js';
import type { EntityQuery, EntitySelection } from '../../src/query/entity-query.js';
import { parseGeoQuery } from '../../src/query/geo-query.js';
import { parseQ } from '../../src/query/q-parser.js';
import { parseScopeQ } from '../../src/query/scope-q.js';
import { parseTypeSelector } from '../../src/query/type-selector.js';
import { runQuery } from '../../src/store/embedded/query-engine.js';
import { signatureOf, TenantIndex } from '../../src/store/embedded/tenant-index.js';
import type { LdContext } from '../../src/jsonld/types.js';

const V = 'https://uri.etsi.org/ngsi-ld/default-context/';
const LOCATION = 'https://uri.etsi.org/ngsi-ld/location';
const T = '2026-01-01T00:00:00.000Z';
const ctx = { expand: (t: string) => (t.includes(':') ? t : t === 'location' ? LOCATION : V + t) } as unknown as LdContext;
const prop = (value: unknown): Attribute[] => [{ type: 'Property', value, createdAt: T, modifiedAt: T }];

/** n entities: even ones are Cars, odd ones Bikes; speed = i; Cars have a location along the equator. */
function fixture(n: number): { index: TenantIndex; byId: Map<string, Entity>; reads: { n: number }; read: (id: string) => Entity | undefined } {
  const index = new TenantIndex();
  const byId = new Map<string, Entity>();
  for (let i = 0; i < n; i++) {
    const id = `urn:ngsi-ld:E:${String(i).padStart(6, '0')}`;
    const car = i % 2 === 0;
    const attrs: Entity['attrs'] = { [V + 'speed']: prop(i) };
    if (car) attrs[LOCATION] = [{ type: 'GeoProperty', value: { type: 'Point', coordinates: [i * 0.001, 0] }, createdAt: T, modifiedAt: T }];
    const e: Entity = { id, type: [V + (car ? 'Car' : 'Bike')], createdAt: T, modifiedAt: T, attrs, scope: car ? ['/city/north'] : ['/city/south'] };
    byId.set(id, e);
    index.apply(id, undefined, signatureOf(e));
  }
  const reads = { n: 0 };
  return { index, byId, reads, read: (id) => (reads.n++, byId.get(id)) };
}

const q = (selection: EntitySelection, extra: Partial<EntityQuery> = {}): EntityQuery => ({ selection, limit: 20, offset: 0, count: false, ...extra });
const ids = (es: Entity[]) => es.map((e) => Number(e.id.slice(-6)));

describe('embedded query engine (clause 5.7.2.4)', () => {
  it('selects by type through the index and reads only what the page needs', () => {
    const f = fixture(10_000);
    const page = runQuery(f.index, f.read, q({ entities: [{ types: parseTypeSelector('Car', ctx.expand) }] }, { limit: 5 }));
    expect(ids(page.entities)).toEqual([0, 2, 4, 6, 8]);
    expect(f.reads.n).toBe(5);
  });

  it('counts every match and pages with offset', () => {
    const f = fixture(100);
    const page = runQuery(f.index, f.read, q({ entities: [{ types: parseTypeSelector('Bike', ctx.expand) }] }, { limit: 3, offset: 2, count: true }));
    expect(ids(page.entities)).toEqual([5, 7, 9]);
    expect(page.count).toBe(50);
  });

  it('applies q, scopeQ, attrs, ids and idPattern together', () => {
    const f = fixture(100);
    const sel: EntitySelection = {
      entities: [{ idPattern: '[24][0-4]$' }],
      q: parseQ('speed>=20;speed<60', ctx),
      scopeQ: parseScopeQ('/city/north'),
      attrs: [V + 'speed'],
    };
    expect(ids(runQuery(f.index, f.read, q(sel, { limit: 100 })).entities)).toEqual([20, 22, 24, 40, 42, 44]);
    const byIds: EntitySelection = { entities: [{ ids: ['urn:ngsi-ld:E:000007', 'urn:ngsi-ld:E:000003', 'urn:x:none'] }] };
    expect(ids(runQuery(f.index, f.read, q(byIds)).entities)).toEqual([3, 7]);
  });

  it('narrows a geo-query with the spatial index', () => {
    const f = fixture(10_000);
    const geo = parseGeoQuery({ georel: 'near;maxDistance==300', geometry: 'Point', coordinates: '[1,0]' }, ctx.expand)!;
    const page = runQuery(f.index, f.read, q({ geo }, { limit: 100 }));
    // Cars sit every 0.002° (~222 m) along the equator: within 300 m of 1° lie 998, 1000 and 1002.
    expect(ids(page.entities)).toEqual([998, 1000, 1002]);
    expect(f.reads.n).toBeLessThan(20);
  });

  it('pages by keyset cursors, forwards and backwards', () => {
    const f = fixture(30);
    const sel = { entities: [{ types: parseTypeSelector('Car', ctx.expand) }] };
    expect(ids(runQuery(f.index, f.read, q(sel, { limit: 3, after: 'urn:ngsi-ld:E:000004' })).entities)).toEqual([6, 8, 10]);
    expect(ids(runQuery(f.index, f.read, q(sel, { limit: 3, before: 'urn:ngsi-ld:E:000010' })).entities)).toEqual([4, 6, 8]);
    // A cursor that names no entity still splits the id order where it would be.
    expect(ids(runQuery(f.index, f.read, q(sel, { limit: 2, after: 'urn:ngsi-ld:E:000005' })).entities)).toEqual([6, 8]);
    // NGSILD-Results-Count counts every match, wherever the page starts (6.3.13).
    expect(runQuery(f.index, f.read, q(sel, { limit: 2, after: 'urn:ngsi-ld:E:000005', count: true })).count).toBe(15);
    const filtered = { ...sel, q: parseQ('speed>3', ctx) };
    expect(runQuery(f.index, f.read, q(filtered, { limit: 2, after: 'urn:ngsi-ld:E:000010', count: true })).count).toBe(13);
    expect(runQuery(f.index, f.read, q(filtered, { limit: 2, before: 'urn:ngsi-ld:E:000010', count: true })).count).toBe(13);
  });

  it('orders by attribute values (clause 4.23), then by id', () => {
    const f = fixture(10);
    const page = runQuery(f.index, f.read, q({ attrs: [V + 'speed'] }, { orderBy: [{ member: V + 'speed', direction: 'desc' }], limit: 3, count: true }));
    expect(ids(page.entities)).toEqual([9, 8, 7]);
    expect(page.count).toBe(10);
  });

  it('or-ed type selectors and selectors without an index both work', () => {
    const f = fixture(10);
    const sel: EntitySelection = { entities: [{ types: parseTypeSelector('Car|Bike', ctx.expand) }] };
    expect(runQuery(f.index, f.read, q(sel, { limit: 100 })).entities).toHaveLength(10);
    expect(ids(runQuery(f.index, f.read, q({ entities: [{ idPattern: '00000[12]$' }] })).entities)).toEqual([1, 2]);
  });
});
