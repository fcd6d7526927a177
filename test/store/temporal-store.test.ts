import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Attribute, Entity } from '../../src/model/entity.js';
import type { EmbeddedEntityStore } from '../../src/store/embedded/index.js';
import type { EmbeddedTemporalStore } from '../../src/store/embedded/temporal-store.js';
import { newInstanceId } from '../../src/store/history-changes.js';
import { openStores, type Stores } from '../../src/store/index.js';
import type { InstanceQuery, TemporalInstance } from '../../src/store/temporal-store.js';
import { startRetention } from '../../src/store/retention.js';
import { del, entity, NS, put, TempDirs } from './helpers.js';

// A full garbage collection on demand, without a node flag on the test runner: the heap measurements need one.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const dirs = new TempDirs();
let dataDir = '';
let stores: Stores;
const es = () => stores.entities as EmbeddedEntityStore;
const ts = () => stores.temporal as EmbeddedTemporalStore;

beforeEach(async () => {
  dataDir = await dirs.make();
  stores = await openStores({ store: 'embedded', dataDir });
});
afterEach(async () => {
  vi.restoreAllMocks();
  await stores.close();
});
afterAll(() => dirs.cleanup());

const reopen = async () => {
  await stores.close();
  stores = await openStores({ store: 'embedded', dataDir });
};

const A = NS + 'a';
const B = NS + 'b';
const all = (q: Partial<InstanceQuery> = {}): InstanceQuery => ({ timeproperty: 'createdAt', limit: 1000, ...q });
const values = (list: TemporalInstance[]) => list.map((i) => i.attribute.value);

function withAttr(e: Entity, name: string, instances: Attribute[]): Entity {
  return { ...e, attrs: { ...e.attrs, [name]: instances } };
}

function inst(value: unknown, observedAt: string | undefined, extra: Partial<Attribute> = {}): TemporalInstance {
  const at = extra.createdAt ?? observedAt ?? '2024-01-01T00:00:00.000Z';
  const attribute: Attribute = { type: 'Property', value, createdAt: at, modifiedAt: at, ...extra };
  if (observedAt) attribute.observedAt = observedAt;
  return { instanceId: '', attribute };
}

describe('EmbeddedTemporalStore: recording entity writes', () => {
  it('records every attribute on create, and the entity', async () => {
    await es().mutate('', 'urn:e', put(entity('urn:e', ['T'], { a: 1, b: 'x' })));
    expect(await ts().attributes('', 'urn:e')).toEqual([A, B]);
    const a = await ts().instances('', 'urn:e', A, all());
    expect(a).toHaveLength(1);
    expect(a[0]!.instanceId).toMatch(/^urn:ngsi-ld:[0-9a-f-]{36}$/);
    expect(a[0]!.attribute.value).toBe(1);
    expect(a[0]!.attribute.createdAt).toBe(a[0]!.attribute.modifiedAt);
    expect(a[0]!.deletedAt).toBeUndefined();
    const te = await ts().getEntity('', 'urn:e');
    expect(te).toMatchObject({ id: 'urn:e', type: [NS + 'T'] });
    expect(te!.deletedAt).toBeUndefined();
  });

  it('records changed instances on update, and nothing when only timestamps change', async () => {
    await es().mutate('', 'urn:e', put(entity('urn:e', ['T'], { a: 1, b: 'x' })));
    const changed = entity('urn:e', ['T', 'U'], { a: 2, b: 'x' });
    await es().mutate('', 'urn:e', put(changed));
    expect(values(await ts().instances('', 'urn:e', A, all()))).toEqual([1, 2]);
    expect(values(await ts().instances('', 'urn:e', B, all()))).toEqual(['x']);
    expect((await ts().getEntity('', 'urn:e'))!.type).toEqual([NS + 'T', NS + 'U']);
    // Same content, new modifiedAt: nothing new.
    const touched: Entity = {
      ...changed,
      modifiedAt: '2025-01-01T00:00:00.000Z',
      attrs: Object.fromEntries(Object.entries(changed.attrs).map(([k, v]) => [k, v.map((i) => ({ ...i, modifiedAt: '2025-01-01T00:00:00.000Z' }))])),
    };
    await es().mutate('', 'urn:e', put(touched));
    expect(values(await ts().instances('', 'urn:e', A, all()))).toEqual([1, 2]);
    expect(values(await ts().instances('', 'urn:e', B, all()))).toEqual(['x']);
  });

  it('records sub-attribute and observedAt changes as new instances', async () => {
    const base = entity('urn:e', ['T']);
    const p = (value: unknown, obs: string, unit?: string): Attribute => ({
      type: 'Property', value, observedAt: obs, createdAt: base.createdAt, modifiedAt: base.createdAt, ...(unit ? { sub: { [NS + 'u']: { type: 'Property', value: unit, createdAt: 'x', modifiedAt: 'x' } } } : {}),
    });
    await es().mutate('', 'urn:e', put(withAttr(base, A, [p(1, '2024-01-01T00:00:00Z')])));
    await es().mutate('', 'urn:e', put(withAttr(base, A, [p(1, '2024-01-01T00:01:00Z')])));
    await es().mutate('', 'urn:e', put(withAttr(base, A, [p(1, '2024-01-01T00:01:00Z', 'C')])));
    expect(await ts().instances('', 'urn:e', A, all())).toHaveLength(3);
  });

  it('records datasetId instances separately and filters on them', async () => {
    const base = entity('urn:e', ['T']);
    const p = (value: unknown, datasetId?: string): Attribute => ({ type: 'Property', value, createdAt: base.createdAt, modifiedAt: base.createdAt, ...(datasetId ? { datasetId } : {}) });
    await es().mutate('', 'urn:e', put(withAttr(base, A, [p(1), p(10, 'urn:ds:1')])));
    await es().mutate('', 'urn:e', put(withAttr(base, A, [p(1), p(11, 'urn:ds:1')])));
    const list = await ts().instances('', 'urn:e', A, all());
    expect(list.map((i) => [i.attribute.value, i.attribute.datasetId])).toEqual([
      [1, undefined],
      [10, 'urn:ds:1'],
      [11, 'urn:ds:1'],
    ]);
    expect(values(await ts().instances('', 'urn:e', A, all({ datasetIds: new Set([undefined]) })))).toEqual([1]);
    expect(values(await ts().instances('', 'urn:e', A, all({ datasetIds: new Set(['urn:ds:1']) })))).toEqual([10, 11]);
    // Dropping one dataset records its deletion, datasetId kept.
    await es().mutate('', 'urn:e', put(withAttr(base, A, [p(1)])));
    const deleted = await ts().instances('', 'urn:e', A, { timeproperty: 'deletedAt', limit: 10 });
    expect(deleted).toHaveLength(1);
    expect(deleted[0]!.attribute).toMatchObject({ value: 'urn:ngsi-ld:null', datasetId: 'urn:ds:1' });
  });

  it('records an attribute deletion as a "urn:ngsi-ld:null" instance with deletedAt', async () => {
    await es().mutate('', 'urn:e', put(entity('urn:e', ['T'], { a: 1, b: 2 })));
    await es().mutate('', 'urn:e', put(entity('urn:e', ['T'], { b: 2 })));
    const a = await ts().instances('', 'urn:e', A, all());
    expect(values(a)).toEqual([1, 'urn:ngsi-ld:null']);
    expect(a[1]!.deletedAt).toBeDefined();
    expect(a[1]!.attribute.createdAt).toBe(a[1]!.deletedAt);
    // deletedAt queries see deletion records only.
    expect(values(await ts().instances('', 'urn:e', A, { timeproperty: 'deletedAt', limit: 10 }))).toEqual(['urn:ngsi-ld:null']);
    expect(await ts().instances('', 'urn:e', B, { timeproperty: 'deletedAt', limit: 10 })).toEqual([]);
  });

  it('uses the null value member of each attribute type', async () => {
    const base = entity('urn:e', ['T']);
    const rel: Attribute = { type: 'Relationship', object: 'urn:x', createdAt: base.createdAt, modifiedAt: base.createdAt };
    await es().mutate('', 'urn:e', put(withAttr(base, A, [rel])));
    await es().mutate('', 'urn:e', put(base));
    const list = await ts().instances('', 'urn:e', A, all());
    expect(list[1]!.attribute).toMatchObject({ type: 'Relationship', object: 'urn:ngsi-ld:null' });
  });

  it('records deletions of every attribute and deletedAt on the entity when it is deleted', async () => {
    await es().mutate('', 'urn:e', put(entity('urn:e', ['T'], { a: 1, b: 2 })));
    await es().mutate('', 'urn:e', del);
    for (const name of [A, B]) expect(values(await ts().instances('', 'urn:e', name, all())).at(-1)).toBe('urn:ngsi-ld:null');
    const te = await ts().getEntity('', 'urn:e');
    expect(te!.deletedAt).toBeDefined();
    expect(te!.modifiedAt).toBe(te!.deletedAt);
    // Deleting an absent entity records nothing.
    await es().mutate('', 'urn:none', del);
    expect(await ts().getEntity('', 'urn:none')).toBeUndefined();
  });

  it('records nothing when decide throws (atomic with the entity write)', async () => {
    await es().mutate('', 'urn:e', put(entity('urn:e', ['T'], { a: 1 })));
    await expect(
      es().mutate('', 'urn:e', () => {
        throw new Error('no');
      }),
    ).rejects.toThrow('no');
    await es().mutate('', 'urn:f', () => ({ change: { kind: 'none' }, result: undefined }));
    expect(values(await ts().instances('', 'urn:e', A, all()))).toEqual([1]);
    expect(await ts().getEntity('', 'urn:f')).toBeUndefined();
  });

  it('keeps tenants apart', async () => {
    await es().mutate('t1', 'urn:e', put(entity('urn:e', ['T'], { a: 1 })));
    expect(await ts().getEntity('', 'urn:e')).toBeUndefined();
    expect(values(await ts().instances('t1', 'urn:e', A, all()))).toEqual([1]);
    expect(await ts().instances('', 'urn:e', A, all())).toEqual([]);
  });

  it('survives a reopen', async () => {
    await es().mutate('', 'urn:e', put(entity('urn:e', ['T'], { a: 1 })));
    await es().mutate('', 'urn:e', put(entity('urn:e', ['T'], { a: 2 })));
    await reopen();
    expect(values(await ts().instances('', 'urn:e', A, all()))).toEqual([1, 2]);
    await es().mutate('', 'urn:e', put(entity('urn:e', ['T'], { a: 3 })));
    expect(values(await ts().instances('', 'urn:e', A, all()))).toEqual([1, 2, 3]);
  });
});

describe('newInstanceId', () => {
  it('makes urn:ngsi-ld:<UUIDv7>, ordered by time', () => {
    const a = newInstanceId(1_700_000_000_000);
    const b = newInstanceId(1_700_000_000_001);
    expect(a).toMatch(/^urn:ngsi-ld:[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(a < b).toBe(true);
    expect(new Set(Array.from({ length: 1000 }, () => newInstanceId())).size).toBe(1000);
  });
});

describe('EmbeddedTemporalStore: queries and the temporal API', () => {
  const minute = (m: number) => new Date(Date.UTC(2024, 0, 1) + m * 60_000).toISOString();
  const seed = async (n: number, from = 0) => {
    const list = Array.from({ length: n }, (_, k) => inst(from + k, minute(from + k)));
    await ts().append('', { id: 'urn:e', type: [NS + 'T'] }, { [A]: list });
  };

  it('reads a range per time property: from inclusive, to exclusive', async () => {
    await seed(10);
    expect(values(await ts().instances('', 'urn:e', A, { timeproperty: 'observedAt', from: minute(2), to: minute(5), limit: 100 }))).toEqual([2, 3, 4]);
    expect(values(await ts().instances('', 'urn:e', A, { timeproperty: 'observedAt', from: minute(8), limit: 100 }))).toEqual([8, 9]);
    expect(values(await ts().instances('', 'urn:e', A, { timeproperty: 'observedAt', to: minute(2), limit: 100 }))).toEqual([0, 1]);
    expect(values(await ts().instances('', 'urn:e', A, { timeproperty: 'createdAt', from: minute(3), to: minute(4), limit: 100 }))).toEqual([3]);
    expect(values(await ts().instances('', 'urn:e', A, { timeproperty: 'modifiedAt', from: minute(9), limit: 100 }))).toEqual([9]);
    expect(await ts().instances('', 'urn:e', A, { timeproperty: 'deletedAt', limit: 100 })).toEqual([]);
    // Time zones and precision do not matter: bounds compare as instants.
    expect(values(await ts().instances('', 'urn:e', A, { timeproperty: 'observedAt', from: '2024-01-01T01:02:00+01:00', to: '2024-01-01T00:03:00Z', limit: 100 }))).toEqual([2]);
  });

  it('leaves instances without observedAt out of observedAt queries', async () => {
    await ts().append('', { id: 'urn:e', type: [NS + 'T'] }, { [A]: [inst(1, undefined), inst(2, minute(1))] });
    expect(values(await ts().instances('', 'urn:e', A, { timeproperty: 'observedAt', limit: 100 }))).toEqual([2]);
    expect(values(await ts().instances('', 'urn:e', A, all()))).toHaveLength(2);
  });

  it('returns lastN newest first, within the range, and honours limit', async () => {
    await seed(10);
    expect(values(await ts().instances('', 'urn:e', A, { timeproperty: 'observedAt', lastN: 3, limit: 100 }))).toEqual([9, 8, 7]);
    expect(values(await ts().instances('', 'urn:e', A, { timeproperty: 'observedAt', lastN: 3, to: minute(5), limit: 100 }))).toEqual([4, 3, 2]);
    expect(values(await ts().instances('', 'urn:e', A, { timeproperty: 'observedAt', lastN: 3, from: minute(8), limit: 100 }))).toEqual([9, 8]);
    expect(values(await ts().instances('', 'urn:e', A, { timeproperty: 'observedAt', lastN: 5, limit: 2 }))).toEqual([9, 8]);
    expect(values(await ts().instances('', 'urn:e', A, { timeproperty: 'observedAt', limit: 4 }))).toEqual([0, 1, 2, 3]);
  });

  it('keeps instances of the same instant in recording order', async () => {
    const list = [1, 2, 3].map((v) => inst(v, minute(0)));
    await ts().append('', { id: 'urn:e', type: [NS + 'T'] }, { [A]: list });
    expect(values(await ts().instances('', 'urn:e', A, { timeproperty: 'observedAt', limit: 100 }))).toEqual([1, 2, 3]);
    expect(values(await ts().instances('', 'urn:e', A, { timeproperty: 'observedAt', lastN: 2, limit: 100 }))).toEqual([3, 2]);
  });

  it('appends to an entity that exists, creating its temporal entity when absent', async () => {
    await ts().append('', { id: 'urn:n', type: [NS + 'T'], scope: ['/a'] }, { [A]: [inst(1, minute(0))] });
    expect(await ts().getEntity('', 'urn:n')).toMatchObject({ id: 'urn:n', type: [NS + 'T'], scope: ['/a'] });
    await es().mutate('', 'urn:n', put(entity('urn:n', ['T'], { a: 5 })));
    expect(values(await ts().instances('', 'urn:n', A, all()))).toEqual([1, 5]);
  });

  it('updates and deletes one instance by instanceId', async () => {
    await seed(3);
    const [first] = await ts().instances('', 'urn:e', A, { timeproperty: 'observedAt', limit: 1 });
    const id = first!.instanceId;
    expect(id).toMatch(/^urn:ngsi-ld:/);
    expect(await ts().updateInstance('', 'urn:e', A, id, { ...first!.attribute, value: 'changed', observedAt: minute(100) })).toBe(true);
    expect(values(await ts().instances('', 'urn:e', A, { timeproperty: 'observedAt', limit: 100 }))).toEqual([1, 2, 'changed']);
    expect((await ts().instances('', 'urn:e', A, { timeproperty: 'observedAt', lastN: 1, limit: 100 }))[0]!.instanceId).toBe(id);
    expect(await ts().updateInstance('', 'urn:e', A, 'urn:ngsi-ld:nope', first!.attribute)).toBe(false);
    expect(await ts().deleteInstance('', 'urn:e', A, id)).toBe(true);
    expect(await ts().deleteInstance('', 'urn:e', A, id)).toBe(false);
    expect(values(await ts().instances('', 'urn:e', A, { timeproperty: 'observedAt', limit: 100 }))).toEqual([1, 2]);
    expect(values(await ts().instances('', 'urn:e', A, all()))).toEqual([1, 2]);
  });

  it('deletes an attribute history: one dataset, or all', async () => {
    await ts().append('', { id: 'urn:e', type: [NS + 'T'] }, {
      [A]: [inst(1, minute(0)), inst(2, minute(1), { datasetId: 'urn:ds:1' }), inst(3, minute(2), { datasetId: 'urn:ds:2' })],
      [B]: [inst(9, minute(0))],
    });
    expect(await ts().deleteAttribute('', 'urn:e', A, { datasetId: 'urn:ds:1', all: false })).toBe(true);
    expect(values(await ts().instances('', 'urn:e', A, all()))).toEqual([1, 3]);
    expect(await ts().deleteAttribute('', 'urn:e', A, { all: false })).toBe(true);
    expect(values(await ts().instances('', 'urn:e', A, all()))).toEqual([3]);
    expect(await ts().deleteAttribute('', 'urn:e', A, { datasetId: 'urn:ds:9', all: false })).toBe(false);
    expect(await ts().deleteAttribute('', 'urn:e', A, { all: true })).toBe(true);
    expect(await ts().instances('', 'urn:e', A, { timeproperty: 'observedAt', limit: 100 })).toEqual([]);
    expect(await ts().attributes('', 'urn:e')).toEqual([B]);
  });

  it('deletes an entity history', async () => {
    await seed(5);
    await es().mutate('', 'urn:other', put(entity('urn:other', ['T'], { a: 1 })));
    expect(await ts().deleteEntity('', 'urn:e')).toBe(true);
    expect(await ts().getEntity('', 'urn:e')).toBeUndefined();
    expect(await ts().attributes('', 'urn:e')).toEqual([]);
    expect(await ts().instances('', 'urn:e', A, { timeproperty: 'observedAt', limit: 100 })).toEqual([]);
    expect(await ts().deleteEntity('', 'urn:e')).toBe(false);
    expect(values(await ts().instances('', 'urn:other', A, all()))).toEqual([1]);
  });

  it('purges instances recorded before a cutoff, also from the background retention', async () => {
    await seed(10);
    expect(await ts().purgeBefore(minute(4))).toBe(4);
    expect(values(await ts().instances('', 'urn:e', A, { timeproperty: 'observedAt', limit: 100 }))).toEqual([4, 5, 6, 7, 8, 9]);
    expect(values(await ts().instances('', 'urn:e', A, all()))).toEqual([4, 5, 6, 7, 8, 9]);
    expect(await ts().purgeBefore(minute(4))).toBe(0);
    const retention = startRetention(ts(), { days: 1, now: () => Date.parse(minute(8)) + 86_400_000, intervalMs: 3_600_000 });
    expect(await retention.runOnce()).toBe(4);
    await retention.stop();
    expect(values(await ts().instances('', 'urn:e', A, all()))).toEqual([8, 9]);
    const off = startRetention(ts(), { days: 0 });
    expect(await off.runOnce()).toBe(0);
    await off.stop();
  });

  it('lists entities in id order with keyset paging and filters', async () => {
    for (const [id, types, attrs] of [
      ['urn:c', ['T'], { a: 1 }],
      ['urn:a', ['T', 'U'], { b: 1 }],
      ['urn:b', ['U'], { a: 1, b: 1 }],
      ['urn:x:1', ['T'], {}],
    ] as const) {
      await es().mutate('', id, put(entity(id, [...types], attrs)));
    }
    const ids = async (filter: Parameters<EmbeddedTemporalStore['listEntities']>[1], page = { limit: 10 } as { limit: number; after?: string }) =>
      (await ts().listEntities('', filter, page)).map((e) => e.id);
    expect(await ids({})).toEqual(['urn:a', 'urn:b', 'urn:c', 'urn:x:1']);
    expect(await ids({}, { limit: 2 })).toEqual(['urn:a', 'urn:b']);
    expect(await ids({}, { limit: 2, after: 'urn:b' })).toEqual(['urn:c', 'urn:x:1']);
    expect(await ids({ types: { op: 'type', iri: NS + 'U' } })).toEqual(['urn:a', 'urn:b']);
    expect(await ids({ idPattern: '^urn:x:.*' })).toEqual(['urn:x:1']);
    expect(await ids({ ids: ['urn:c', 'urn:a', 'urn:zzz'] })).toEqual(['urn:a', 'urn:c']);
    expect(await ids({ attrs: [A] })).toEqual(['urn:b', 'urn:c']);
    expect(await ids({ attrs: [B], types: { op: 'type', iri: NS + 'T' } })).toEqual(['urn:a']);
    expect(await ts().listEntities('t2', {}, { limit: 10 })).toEqual([]);
  });

  it('reads only the requested window of a long history, in memory that does not grow with the history', async () => {
    // 100k instances on urn:e and 10k on urn:short, written through the store directly.
    const total = 100_000;
    for (let from = 0; from < total; from += 5000) await seed(5000, from);
    const short = Array.from({ length: total / 10 }, (_, k) => inst(k, minute(k)));
    await ts().append('', { id: 'urn:short', type: [NS + 'T'] }, { [A]: short });
    const db = ts().timesDb;
    const original = db.getRange.bind(db);
    let read = 0;
    vi.spyOn(db, 'getRange').mockImplementation(((options: Parameters<typeof db.getRange>[0]) => {
      const inner = original(options);
      return (function* () {
        for (const entry of inner) {
          read++;
          yield entry;
        }
      })();
    }) as unknown as typeof db.getRange);
    const window = await ts().instances('', 'urn:e', A, { timeproperty: 'observedAt', from: minute(50_000), to: minute(50_060), limit: 1000 });
    expect(values(window)).toEqual(Array.from({ length: 60 }, (_, k) => 50_000 + k));
    expect(read).toBe(60);
    read = 0;
    const last = await ts().instances('', 'urn:e', A, { timeproperty: 'observedAt', lastN: 5, limit: 1000 });
    expect(values(last)).toEqual([99_999, 99_998, 99_997, 99_996, 99_995]);
    expect(read).toBe(5);
    read = 0;
    // With a dataset filter the range is still bounded by the window.
    const filtered = await ts().instances('', 'urn:e', A, { timeproperty: 'observedAt', from: minute(500), to: minute(560), datasetIds: new Set(['urn:none']), limit: 1000 });
    expect(filtered).toEqual([]);
    expect(read).toBe(60);
    read = 0;
    // So is it with a `where` test (the q / geo-query of a temporal query), also under lastN.
    const even = (i: TemporalInstance) => (i.attribute.value as number) % 2 === 0;
    const matching = await ts().instances('', 'urn:e', A, { timeproperty: 'observedAt', from: minute(70_000), to: minute(70_060), where: even, limit: 1000 });
    expect(values(matching)).toEqual(Array.from({ length: 30 }, (_, k) => 70_000 + 2 * k));
    expect(read).toBe(60);
    read = 0;
    const lastEven = await ts().instances('', 'urn:e', A, { timeproperty: 'observedAt', to: minute(70_060), lastN: 3, where: even, limit: 1000 });
    expect(values(lastEven)).toEqual([70_058, 70_056, 70_054]);
    expect(read).toBe(6);
    vi.restoreAllMocks();

    // Heap: what a window query allocates (measured before any collection) is small and the same for a history of
    // 10k and of 100k; reading 20k instances, measured the same way, shows what growth with the history looks like.
    const heapOf = async (query: () => Promise<TemporalInstance[]>, expected: number): Promise<number> => {
      gc();
      const before = process.memoryUsage().heapUsed;
      const result = await query();
      const grown = process.memoryUsage().heapUsed - before;
      expect(result).toHaveLength(expected);
      return grown;
    };
    const windowOf = (id: string, at: number) => () => ts().instances('', id, A, { timeproperty: 'observedAt', from: minute(at), to: minute(at + 60), limit: 1000 });
    const ofShort = Math.max(await heapOf(windowOf('urn:short', 5000), 60), await heapOf(windowOf('urn:short', 9000), 60));
    const ofLong = Math.max(await heapOf(windowOf('urn:e', 50_000), 60), await heapOf(windowOf('urn:e', 90_000), 60));
    const bulk = await heapOf(() => ts().instances('', 'urn:e', A, { timeproperty: 'observedAt', limit: 20_000 }), 20_000);
    expect(ofShort).toBeLessThan(2 * 1024 * 1024);
    expect(ofLong).toBeLessThan(2 * 1024 * 1024);
    expect(bulk).toBeGreaterThan(4 * 1024 * 1024);
  }, 60_000);
});
