import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Collection, IndexDescription } from 'mongodb';
import { NgsiError } from '../../../src/common/errors.js';
import type { Entity } from '../../../src/model/entity.js';
import { MongoChangeLog, encodeChange, type ChangeDoc } from '../../../src/store/mongo/change-log.js';
import { ensureCollectionIndexes } from '../../../src/store/mongo/connection.js';
import { GEO_2DSPHERE_INDEX, toDocument } from '../../../src/store/mongo/document.js';
import { MONGO_INDEXES } from '../../../src/store/mongo/indexes.js';
import { storeError, type CounterDoc } from '../../../src/store/mongo/transaction.js';
import { entity, put } from '../helpers.js';
import { openTestBackend, type TestBackend } from './store-backend.js';
import { StandinCollection, StandinMongo } from './store-standin.js';
import { checkChangeStreamPipeline, checkIndexSpec, checkParallelArrays } from './standin-rules.js';

// What a real MongoDB 7 server and the mongodb 7 driver refuse or change, which the stand-in now enforces too (so
// that the backend's tests fail here as they would on the workflow's replica set), and the backend's answers to it.

const asCollection = (c: StandinCollection) => c as unknown as Collection;

describe('index specs MongoDB 7 accepts', () => {
  it('every index the backend creates, the optional 2dsphere one included', () => {
    for (const indexes of Object.values(MONGO_INDEXES)) for (const index of indexes) expect(() => checkIndexSpec(index)).not.toThrow();
    expect(() => checkIndexSpec(GEO_2DSPHERE_INDEX)).not.toThrow();
  });

  it('the stand-in refuses partial filters MongoDB refuses ($exists: false, $ne, $not, $nin, $regex)', async () => {
    const refused = [{ o: { $exists: false } }, { o: { $ne: 1 } }, { o: { $not: { $gt: 1 } } }, { o: { $nin: [1] } }, { o: { $regex: 'a' } }, { $nor: [{ o: 1 }] }];
    for (const partialFilterExpression of refused) {
      const c = new StandinCollection('x');
      await expect(c.createIndexes([{ key: { t: 1, o: 1 }, name: 'p', partialFilterExpression }])).rejects.toMatchObject({ code: 67 });
    }
    const accepted = { $and: [{ o: { $exists: true } }, { k: { $gte: 1, $lt: 5 } }, { z: { $type: 'string' } }, { y: { $in: [1, 2] } }, { w: 3 }] };
    await expect(new StandinCollection('x').createIndexes([{ key: { t: 1, o: 1 }, name: 'p', partialFilterExpression: accepted }])).resolves.toEqual(['p']);
  });

  it('refuses a unique wildcard index and a compound TTL index', () => {
    expect(() => checkIndexSpec({ key: { 'attrs.$**': 1 }, name: 'w', unique: true })).toThrow(/unique/);
    expect(() => checkIndexSpec({ key: { a: 1, b: 1 }, name: 'ttl', expireAfterSeconds: 60 })).toThrow(/TTL/);
  });
});

describe('ensureCollectionIndexes (start-up after an index spec changed)', () => {
  const current: IndexDescription[] = [
    { key: { t: 1, e: 1, o: 1 }, name: 'instances_o', partialFilterExpression: { o: { $exists: true } } },
    { key: { t: 1, id: 1 }, name: 'tenant_id', unique: true },
  ];

  it('is a no-op when the indexes exist as specified', async () => {
    const c = new StandinCollection('x');
    await ensureCollectionIndexes(asCollection(c), current);
    await ensureCollectionIndexes(asCollection(c), current);
    expect(c.indexes.map((i) => i.name)).toEqual(['instances_o', 'tenant_id']);
  });

  it('replaces an index whose options, key or name changed, where createIndexes alone fails with a conflict', async () => {
    const c = new StandinCollection('x');
    await c.createIndexes([
      { key: { t: 1, e: 1, o: 1 }, name: 'instances_o' },
      { key: { t: 1, id: 1 }, name: 'by_tenant_and_id', unique: true },
      { key: { other: 1 }, name: 'unrelated' },
    ]);
    await expect(c.createIndexes(current)).rejects.toMatchObject({ code: 86 });
    await ensureCollectionIndexes(asCollection(c), current);
    expect(c.indexes.map((i) => i.name).sort()).toEqual(['instances_o', 'tenant_id', 'unrelated']);
    expect(c.indexes.find((i) => i.name === 'instances_o')?.partialFilterExpression).toEqual({ o: { $exists: true } });
  });
});

describe('documents MongoDB refuses to store', () => {
  it('a compound index over two different arrays ("cannot index parallel arrays") fails the write', async () => {
    const c = new StandinCollection('x');
    await c.createIndexes([{ key: { a: 1, b: 1 }, name: 'ab' }, { key: { 'g.n': 1, 'g.x': 1 }, name: 'g' }]);
    await expect(c.insertOne({ a: [1], b: [2] })).rejects.toMatchObject({ code: 171 });
    // One array, or several fields reached through the same array, are fine.
    await c.insertOne({ a: [1, 2], b: 3 });
    await c.insertOne({ g: [{ n: 'p', x: 1 }, { n: 'q', x: 2 }] });
    expect(c.docs).toHaveLength(2);
  });

  it('no entity document has parallel arrays under the entity indexes', () => {
    const e: Entity = {
      ...entity('urn:p', ['A', 'B'], { n: [1, 2] }),
      scope: ['/a', '/b'],
    };
    e.attrs['https://example.org/ns#loc'] = [
      { type: 'GeoProperty', value: { type: 'Point', coordinates: [1, 2] }, createdAt: e.createdAt, modifiedAt: e.createdAt },
      { type: 'GeoProperty', value: { type: 'Point', coordinates: [3, 4] }, datasetId: 'urn:d', createdAt: e.createdAt, modifiedAt: e.createdAt },
    ];
    const doc = toDocument('', e, 1) as unknown as Record<string, unknown>;
    for (const index of MONGO_INDEXES.entities) expect(() => checkParallelArrays(doc, index)).not.toThrow();
  });

  it('maps too large and too deeply nested documents to BadRequestData, as the server reports them', () => {
    const errors = [
      Object.assign(new Error('object to insert too large. size in bytes: 17000000'), { code: 2, codeName: 'BadValue' }),
      Object.assign(new Error('Resulting document after update is larger than 16777216'), { code: 17419 }),
      Object.assign(new Error('BSONObj size: 17000000 is invalid'), { code: 10334, codeName: 'BSONObjectTooLarge' }),
      Object.assign(new Error('cannot insert document because it exceeds 180 levels of nesting'), { code: 15, codeName: 'Overflow' }),
    ];
    for (const error of errors) expect(storeError(error)).toMatchObject({ kind: 'BadRequestData' });
    const badValue = Object.assign(new Error('unknown operator'), { code: 2 });
    expect(storeError(badValue)).toBe(badValue);
  });
});

describe('operations inside transactions (stand-in checks)', () => {
  it('refuses an operation without the transaction session, and a per-operation write concern', async () => {
    const m = new StandinMongo();
    const c = m.collection('x');
    const session = m.client.startSession();
    await expect(session.withTransaction(async () => c.insertOne({ a: 1 }))).rejects.toThrow(/without the transaction's session/);
    await expect(session.withTransaction(async (s) => c.insertOne({ a: 1 }, { session: s, writeConcern: { w: 'majority' } }))).rejects.toMatchObject({ code: 72 });
    await session.withTransaction(async (s) => c.insertOne({ a: 1 }, { session: s }));
    expect(await c.countDocuments({})).toBe(1);
  });

  it('findOneAndUpdate gives the document before the update unless returnDocument is "after" (driver 7)', async () => {
    const c = new StandinMongo().collection<{ _id: string; seq: number }>('counters');
    expect(await c.findOneAndUpdate({ _id: 'k' }, { $inc: { seq: 1 } }, { upsert: true })).toBeNull();
    expect(await c.findOneAndUpdate({ _id: 'k' }, { $inc: { seq: 1 } })).toEqual({ _id: 'k', seq: 1 });
    expect(await c.findOneAndUpdate({ _id: 'k' }, { $inc: { seq: 1 } }, { returnDocument: 'after' })).toEqual({ _id: 'k', seq: 3 });
  });
});

describe('change streams', () => {
  it('the stand-in refuses stages a change stream refuses and a $project dropping the resume token', () => {
    expect(() => checkChangeStreamPipeline([{ $match: { operationType: 'insert' } }, { $project: { operationType: 1 } }])).not.toThrow();
    expect(() => checkChangeStreamPipeline([{ $group: { _id: null } }])).toThrow(/not permitted/);
    expect(() => checkChangeStreamPipeline([{ $project: { _id: 0 } }])).toThrow(/resume token/);
  });

  it('a change stream the server ends (invalidate) is replaced, with polling meanwhile: other instances still wake us', async () => {
    const m = new StandinMongo();
    const changes = m.collection<ChangeDoc>('changes');
    const raw = m.collections.get('changes')!;
    const log = new MongoChangeLog<unknown>(changes, m.collection<CounterDoc>('counters'));
    let wakes = 0;
    const off = log.onChanges(() => wakes++);
    const waitFor = async (ok: () => boolean, ms: number) => {
      for (const end = Date.now() + ms; !ok() && Date.now() < end; ) await new Promise((r) => setTimeout(r, 10));
      return ok();
    };
    // Records written by another broker instance: only the stream (or the poll) tells this one.
    await changes.insertOne(encodeChange(1, '', 'urn:a', undefined, { n: 1 }, '2024-01-01T00:00:00.000Z'));
    expect(await waitFor(() => wakes >= 1, 500)).toBe(true);
    raw.invalidateStreams();
    const before = wakes;
    await changes.insertOne(encodeChange(2, '', 'urn:a', { n: 1 }, { n: 2 }, '2024-01-01T00:00:01.000Z'));
    expect(await waitFor(() => wakes > before, 2500)).toBe(true);
    expect(await waitFor(() => raw.events.listenerCount('insert') === 1, 3000)).toBe(true);
    off();
    await log.close();
    expect(raw.events.listenerCount('insert')).toBe(0);
  });
});

describe('the entity store on what the server stores (stand-in or replica set)', () => {
  let backend: TestBackend;
  beforeEach(async () => {
    backend = await openTestBackend();
  });
  afterEach(async () => {
    await backend.close();
  });

  it('drops undefined members instead of storing null (ignoreUndefined), so that they read back absent', async () => {
    const e = entity('urn:u', ['T'], { n: 1 });
    const attr = e.attrs['https://example.org/ns#n']![0]!;
    Object.assign(attr, { datasetId: undefined, observedAt: undefined });
    await backend.stores.entities.mutate('', 'urn:u', put(e));
    const stored = (await backend.stores.entities.get('', 'urn:u'))!.attrs['https://example.org/ns#n']![0]!;
    expect('datasetId' in stored).toBe(false);
    expect('observedAt' in stored).toBe(false);
    expect(stored.value).toBe(1);
  });

  it('refuses an entity nested deeper than MongoDB stores with BadRequestData, writing nothing', async () => {
    let value: unknown = 1;
    for (let i = 0; i < 185; i++) value = { [`k${i}`]: value };
    const e = entity('urn:deep', ['T'], { n: value });
    const error = await backend.stores.entities.mutate('', 'urn:deep', put(e)).catch((x: unknown) => x);
    expect(error).toBeInstanceOf(NgsiError);
    expect((error as NgsiError).kind).toBe('BadRequestData');
    expect(await backend.stores.entities.get('', 'urn:deep')).toBeUndefined();
  });
});
