import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { NgsiError } from '../../../src/common/errors.js';
import type { Entity } from '../../../src/model/entity.js';
import type { EntityQuery } from '../../../src/query/entity-query.js';
import type { QExpression } from '../../../src/query/q-ast.js';
import { del, entity, NS, put } from '../helpers.js';
import { openTestBackend, type TestBackend } from './store-backend.js';

// The MongoDB backend's EntityStore (src/store/mongo/entity-store.ts) against a real replica set when
// MUSUBI_MONGO_URL is set, otherwise the in-process stand-in (store-standin.ts).

let backend: TestBackend;
beforeEach(async () => {
  backend = await openTestBackend();
});
afterEach(async () => {
  await backend.close();
});

const store = () => backend.stores.entities;
const query = (q: Partial<EntityQuery>): EntityQuery => ({ selection: {}, limit: 100, offset: 0, count: false, ...q });
const ids = (es: Entity[]) => es.map((e) => e.id);

describe('MongoEntityStore mutate (compare-and-swap on version, one transaction)', () => {
  it('creates, reads, updates and deletes', async () => {
    const a = entity('urn:a', ['T'], { n: 1 });
    expect(await store().mutate('', 'urn:a', put(a))).toBe('put');
    expect(await store().get('', 'urn:a')).toEqual(a);
    const b = entity('urn:a', ['T'], { n: 2 });
    await store().mutate('', 'urn:a', put(b));
    expect(await store().get('', 'urn:a')).toEqual(b);
    expect(await store().mutate('', 'urn:a', del)).toBe('deleted');
    expect(await store().get('', 'urn:a')).toBeUndefined();
  });

  it('round-trips names with dots and $, compound keys and __proto__ exactly', async () => {
    const e: Entity = {
      id: 'urn:x',
      type: [NS + 'T'],
      createdAt: '2024-01-01T00:00:00.000Z',
      modifiedAt: '2024-01-01T00:00:00.000Z',
      attrs: {
        'https://a.b/c.d$e': [{ type: 'Property', value: { 'x.y': 1, $set: 2, ['__proto__']: 3, '0': 4 }, createdAt: 't', modifiedAt: 't' }],
        [NS + 'j']: [{ type: 'JsonProperty', json: { 'a.b': [1, { $c: null }] }, createdAt: 't', modifiedAt: 't' }],
      },
    };
    // A computed key makes "__proto__" an own data property, as JSON.parse does for a request body.
    expect(Object.keys(e.attrs['https://a.b/c.d$e']![0]!.value as object)).toContain('__proto__');
    await store().mutate('', 'urn:x', put(e));
    expect(JSON.stringify(await store().get('', 'urn:x'))).toBe(JSON.stringify(e));
  });

  it('hands out frozen entities', async () => {
    await store().mutate('', 'urn:a', put(entity('urn:a', ['T'], { n: 1 })));
    const got = (await store().get('', 'urn:a'))!;
    expect(Object.isFrozen(got) && Object.isFrozen(got.attrs)).toBe(true);
  });

  it('rejects with what decide throws and writes nothing (entity, history or change log)', async () => {
    store().setChangeLogging(true);
    await expect(
      store().mutate('', 'urn:a', () => {
        throw new NgsiError('BadRequestData', 'no');
      }),
    ).rejects.toThrow('no');
    expect(await store().get('', 'urn:a')).toBeUndefined();
    expect(await store().readChanges(0, 10)).toEqual([]);
    expect(await backend.stores.temporal.getEntity('', 'urn:a')).toBeUndefined();
  });

  it('refuses to put an entity under another id, writing nothing', async () => {
    await expect(store().mutate('', 'urn:a', put(entity('urn:b', ['T'])))).rejects.toThrow(/another id|with id urn:b/);
    expect(await store().get('', 'urn:a')).toBeUndefined();
  });

  it('keeps every one of 30 concurrent increments of one entity (decide re-run on conflict)', async () => {
    await store().mutate('', 'urn:c', put(entity('urn:c', ['T'], { n: 0 })));
    await Promise.all(
      Array.from({ length: 30 }, () =>
        store().mutate('', 'urn:c', (cur) => {
          const n = cur!.attrs[NS + 'n']![0]!.value as number;
          return { change: { kind: 'put', entity: entity('urn:c', ['T'], { n: n + 1 }) }, result: n };
        }),
      ),
    );
    expect((await store().get('', 'urn:c'))!.attrs[NS + 'n']![0]!.value).toBe(30);
  });

  it('refuses ids with lone surrogates or NUL (BSON would alter them) with BadRequestData', async () => {
    for (const id of ['urn:\uD800x', 'urn:a\u0000b']) {
      await expect(store().mutate('', id, put(entity(id, ['T'])))).rejects.toMatchObject({ kind: 'BadRequestData' });
      expect(await store().get('', id)).toBeUndefined();
    }
  });

  it('has the default tenant from the start and others from their first write; tenants are isolated', async () => {
    expect(await store().hasTenant('')).toBe(true);
    expect(await store().hasTenant('city')).toBe(false);
    await store().mutate('city', 'urn:a', put(entity('urn:a', ['T'], { n: 1 })));
    expect(await store().hasTenant('city')).toBe(true);
    expect(await store().get('', 'urn:a')).toBeUndefined();
    expect((await store().query('', query({ selection: { entities: [{ types: { op: 'type', iri: NS + 'T' } }] } }))).entities).toEqual([]);
  });

  it('lists the types and attribute names in use (5.7.5, 5.7.8)', async () => {
    await store().mutate('', 'urn:a', put(entity('urn:a', ['T', 'U'], { n: 1 })));
    await store().mutate('', 'urn:b', put(entity('urn:b', ['V'], { m: 1 })));
    await store().mutate('other', 'urn:c', put(entity('urn:c', ['W'], { o: 1 })));
    expect(await store().typeNames('')).toEqual([NS + 'T', NS + 'U', NS + 'V']);
    expect(await store().attributeNames('')).toEqual([NS + 'm', NS + 'n']);
  });
});

describe('MongoEntityStore query (5.7.2: translated filter, post-filter, paging, count)', () => {
  beforeEach(async () => {
    for (let i = 0; i < 12; i++) {
      const id = `urn:e:${String(i).padStart(2, '0')}`;
      await store().mutate('', id, put(entity(id, [i % 2 ? 'Odd' : 'Even'], { n: i, ...(i % 3 === 0 ? { three: true } : {}) })));
    }
  });
  const type = (t: string) => ({ entities: [{ types: { op: 'type' as const, iri: NS + t } }] });

  it('selects by type in id order, with offset and limit and the count of every match (6.3.13)', async () => {
    const page = await store().query('', query({ selection: type('Odd'), offset: 1, limit: 2, count: true }));
    expect(ids(page.entities)).toEqual(['urn:e:03', 'urn:e:05']);
    expect(page.count).toBe(6);
  });

  it('pages by keyset after and before an id', async () => {
    expect(ids((await store().query('', query({ selection: type('Even'), after: 'urn:e:04', limit: 2 }))).entities)).toEqual(['urn:e:06', 'urn:e:08']);
    expect(ids((await store().query('', query({ selection: type('Even'), before: 'urn:e:08', limit: 2 }))).entities)).toEqual(['urn:e:04', 'urn:e:06']);
  });

  it('post-filters what the translation cannot express (q, idPattern) and pages and counts after it', async () => {
    const q: QExpression = { kind: 'compare', op: '>', path: { attr: NS + 'n' }, value: { type: 'number', value: 6 } };
    const page = await store().query('', query({ selection: { ...type('Even'), q }, limit: 1, offset: 1, count: true }));
    expect(ids(page.entities)).toEqual(['urn:e:10']);
    expect(page.count).toBe(2);
    const pattern = await store().query('', query({ selection: { entities: [{ idPattern: '0[1-3]$' }] }, count: true }));
    expect(ids(pattern.entities)).toEqual(['urn:e:01', 'urn:e:02', 'urn:e:03']);
    expect(pattern.count).toBe(3);
  });

  it('selects by attrs (any of them) and orders by value (4.23)', async () => {
    const page = await store().query('', query({ selection: { attrs: [NS + 'three'] }, orderBy: [{ member: NS + 'n', direction: 'desc' }], count: true }));
    expect(ids(page.entities)).toEqual(['urn:e:09', 'urn:e:06', 'urn:e:03', 'urn:e:00']);
    expect(page.count).toBe(4);
  });
});
