import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { StoredSubscription } from '../../../src/model/subscription.js';
import { NO_DELIVERIES } from '../../../src/model/subscription.js';
import type { StoredRegistration } from '../../../src/model/registration.js';
import { historyOf } from '../../../src/store/history-changes.js';
import { del, entity, NS, property, put } from '../helpers.js';
import { openTestBackend, type TestBackend } from './store-backend.js';

// Subscription and registration stores, and the history (TemporalStore) of the MongoDB backend, against a real
// replica set when MUSUBI_MONGO_URL is set, otherwise the in-process stand-in (store-standin.ts).

let backend: TestBackend;
beforeEach(async () => {
  backend = await openTestBackend();
});
afterEach(async () => {
  await backend.close();
});

const subscription = (id: string, tenant = '', name = 'x'): StoredSubscription => ({
  id,
  tenant,
  spec: { subscriptionName: name, watchedAttributes: [NS + 'a.b'], notification: { endpoint: { uri: 'http://127.0.0.1:1/n' } } },
  queries: {},
  context: { 'x.y': 'https://e.org/$z' },
  createdAt: '2024-01-01T00:00:00.000Z',
  modifiedAt: '2024-01-01T00:00:00.000Z',
  delivery: NO_DELIVERIES,
});

describe('subscription store (clause 5.8)', () => {
  it('creates, refuses a taken id with AlreadyExists, lists in creation order with the count, updates in place', async () => {
    const subs = backend.stores.subscriptions;
    for (const id of ['urn:s:3', 'urn:s:1', 'urn:s:2']) await subs.create(subscription(id));
    await subs.create(subscription('urn:s:9', 'other'));
    await expect(subs.create(subscription('urn:s:1'))).rejects.toMatchObject({ kind: 'AlreadyExists' });
    await subs.mutate('', 'urn:s:3', (cur) => ({ change: { kind: 'put', subscription: { ...cur!, spec: { ...cur!.spec, subscriptionName: 'renamed' } } }, result: undefined }));
    const page = await subs.list('', { limit: 2, offset: 0 });
    expect(page.count).toBe(3);
    expect(page.items.map((s) => [s.id, s.spec.subscriptionName])).toEqual([
      ['urn:s:3', 'renamed'],
      ['urn:s:1', 'x'],
    ]);
    expect((await subs.list('', { limit: 5, offset: 2 })).items.map((s) => s.id)).toEqual(['urn:s:2']);
    expect(await subs.get('', 'urn:s:1')).toEqual(subscription('urn:s:1'));
    expect((await subs.all()).map((s) => s.id).sort()).toEqual(['urn:s:1', 'urn:s:2', 'urn:s:3', 'urn:s:9']);
    expect(await subs.delete('', 'urn:s:1')).toBe(true);
    expect(await subs.delete('', 'urn:s:1')).toBe(false);
  });

  it('keeps every one of 20 concurrent read-modify-writes (compare-and-swap on the version)', async () => {
    const subs = backend.stores.subscriptions;
    await subs.create(subscription('urn:s:c'));
    await Promise.all(
      Array.from({ length: 20 }, () =>
        subs.mutate('', 'urn:s:c', (cur) => ({
          change: { kind: 'put', subscription: { ...cur!, delivery: { ...cur!.delivery, timesSent: cur!.delivery.timesSent + 1 } } },
          result: undefined,
        })),
      ),
    );
    expect((await subs.get('', 'urn:s:c'))!.delivery.timesSent).toBe(20);
  });

  it('writes nothing when decide throws', async () => {
    const subs = backend.stores.subscriptions;
    await expect(
      subs.mutate('', 'urn:s:x', () => {
        throw new Error('no');
      }),
    ).rejects.toThrow('no');
    expect(await subs.get('', 'urn:s:x')).toBeUndefined();
  });
});

describe('registration store (clause 5.9)', () => {
  it('keeps a tenant\'s registrations in creation order', async () => {
    const regs = backend.stores.registrations;
    const reg = (id: string): StoredRegistration =>
      ({ id, tenant: '', spec: { information: [{ propertyNames: [NS + 'p'] }], endpoint: 'http://127.0.0.1:1' }, context: 'x', createdAt: 't', modifiedAt: 't' }) as unknown as StoredRegistration;
    await regs.create(reg('urn:r:2'));
    await regs.create(reg('urn:r:1'));
    await expect(regs.create(reg('urn:r:1'))).rejects.toMatchObject({ kind: 'AlreadyExists' });
    expect((await regs.list('')).map((r) => r.id)).toEqual(['urn:r:2', 'urn:r:1']);
    expect(await regs.list('other')).toEqual([]);
  });

  it('logs every change but unlogged puts, with the write, until acknowledged (5.11.7)', async () => {
    const regs = backend.stores.registrations;
    const reg = (id: string, name: string): StoredRegistration =>
      ({ id, tenant: '', spec: { registrationName: name, information: [{ propertyNames: [NS + 'p'] }], endpoint: 'http://127.0.0.1:1' }, context: 'x', createdAt: 't', modifiedAt: 't' }) as unknown as StoredRegistration;
    let wakes = 0;
    const off = regs.onChanges(() => wakes++);
    await regs.create(reg('urn:r:a', 'one'));
    await regs.mutate('', 'urn:r:a', () => ({ change: { kind: 'put', registration: reg('urn:r:a', 'stats'), unlogged: true }, result: undefined }));
    await regs.mutate('', 'urn:r:a', () => ({ change: { kind: 'put', registration: reg('urn:r:a', 'two') }, result: undefined }));
    await regs.delete('', 'urn:r:a');
    const changes = await regs.readChanges(0, 10);
    expect(changes.map((c) => [c.before?.spec.registrationName, c.after?.spec.registrationName])).toEqual([
      [undefined, 'one'],
      ['stats', 'two'],
      ['two', undefined],
    ]);
    expect(wakes).toBeGreaterThanOrEqual(3);
    await regs.ackChanges(changes[1]!.seq);
    expect((await regs.readChanges(0, 10)).map((c) => c.seq)).toEqual([changes[2]!.seq]);
    off();
  });
});

describe('history (clauses 4.5.7, 5.7.3, 5.7.4)', () => {
  it('records every entity write with it: new and changed instances, deletions, the temporal entity', async () => {
    const store = backend.stores.entities;
    const temporal = backend.stores.temporal;
    await store.mutate('', 'urn:a', put(entity('urn:a', ['T'], { n: 1, m: 'x' })));
    await store.mutate('', 'urn:a', put(entity('urn:a', ['T'], { n: 2, m: 'x' })));
    await store.mutate('', 'urn:a', del);
    expect(await temporal.attributes('', 'urn:a')).toEqual([NS + 'm', NS + 'n']);
    const n = await temporal.instances('', 'urn:a', NS + 'n', { timeproperty: 'createdAt', limit: 10 });
    expect(n.map((i) => i.attribute.value)).toEqual([1, 2, 'urn:ngsi-ld:null']);
    expect(n[2]!.deletedAt).toBeDefined();
    const m = await temporal.instances('', 'urn:a', NS + 'm', { timeproperty: 'createdAt', limit: 10 });
    expect(m.map((i) => i.attribute.value)).toEqual(['x', 'urn:ngsi-ld:null']);
    expect((await temporal.getEntity('', 'urn:a'))!.deletedAt).toBeDefined();
    const last = await temporal.instances('', 'urn:a', NS + 'n', { timeproperty: 'createdAt', lastN: 1, limit: 10 });
    expect(last.map((i) => i.attribute.value)).toEqual(['urn:ngsi-ld:null']);
  });

  it('appends, updates and deletes instances through the temporal API and filters by time range and dataset', async () => {
    const temporal = backend.stores.temporal;
    const at = (value: number, observedAt: string, datasetId?: string) => ({
      instanceId: `urn:ngsi-ld:i${value}`,
      attribute: { ...property(value), observedAt, ...(datasetId ? { datasetId } : {}) },
    });
    await temporal.append('', { id: 'urn:b', type: [NS + 'T'] }, {
      [NS + 'p']: [at(1, '2024-01-01T00:00:00Z'), at(2, '2024-01-02T00:00:00Z', 'urn:ds'), at(3, '2024-01-03T00:00:00Z')],
    });
    const range = await temporal.instances('', 'urn:b', NS + 'p', { timeproperty: 'observedAt', from: '2024-01-02T00:00:00Z', to: '2024-01-03T00:00:00Z', limit: 10 });
    expect(range.map((i) => i.attribute.value)).toEqual([2]);
    const defaultOnly = await temporal.instances('', 'urn:b', NS + 'p', { timeproperty: 'observedAt', datasetIds: new Set([undefined]), limit: 10 });
    expect(defaultOnly.map((i) => i.attribute.value)).toEqual([1, 3]);
    const firstOdd = await temporal.instances('', 'urn:b', NS + 'p', { timeproperty: 'observedAt', where: (i) => (i.attribute.value as number) % 2 === 1, limit: 1 });
    expect(firstOdd.map((i) => i.attribute.value)).toEqual([1]);
    const lastOdd = await temporal.instances('', 'urn:b', NS + 'p', { timeproperty: 'observedAt', where: (i) => (i.attribute.value as number) % 2 === 1, lastN: 1, limit: 5 });
    expect(lastOdd.map((i) => i.attribute.value)).toEqual([3]);
    expect(await temporal.updateInstance('', 'urn:b', NS + 'p', 'urn:ngsi-ld:i1', { ...property(10), observedAt: '2024-01-01T00:00:00Z' })).toBe(true);
    expect(await temporal.updateInstance('', 'urn:b', NS + 'p', 'urn:ngsi-ld:nope', property(0))).toBe(false);
    expect(await temporal.deleteInstance('', 'urn:b', NS + 'p', 'urn:ngsi-ld:i3')).toBe(true);
    const all = await temporal.instances('', 'urn:b', NS + 'p', { timeproperty: 'observedAt', limit: 10 });
    expect(all.map((i) => i.attribute.value)).toEqual([10, 2]);
    expect(await temporal.deleteAttribute('', 'urn:b', NS + 'p', { datasetId: 'urn:ds', all: false })).toBe(true);
    expect((await temporal.instances('', 'urn:b', NS + 'p', { timeproperty: 'observedAt', limit: 10 })).map((i) => i.attribute.value)).toEqual([10]);
    expect(await temporal.listEntities('', { attrs: [NS + 'p'] }, { limit: 10 })).toHaveLength(1);
    expect(await temporal.deleteEntity('', 'urn:b')).toBe(true);
    expect(await temporal.getEntity('', 'urn:b')).toBeUndefined();
    expect(await temporal.deleteEntity('', 'urn:b')).toBe(false);
  });

  it('lists entities with history in id order, by keyset, type and idPattern, and purges by recording time', async () => {
    const store = backend.stores.entities;
    const temporal = backend.stores.temporal;
    for (const id of ['urn:c', 'urn:a', 'urn:b']) await store.mutate('', id, put(entity(id, [id === 'urn:b' ? 'U' : 'T'], { n: 1 })));
    expect((await temporal.listEntities('', {}, { limit: 10 })).map((e) => e.id)).toEqual(['urn:a', 'urn:b', 'urn:c']);
    expect((await temporal.listEntities('', {}, { limit: 1, after: 'urn:a' })).map((e) => e.id)).toEqual(['urn:b']);
    expect((await temporal.listEntities('', { types: { op: 'type', iri: NS + 'T' } }, { limit: 10 })).map((e) => e.id)).toEqual(['urn:a', 'urn:c']);
    expect((await temporal.listEntities('', { idPattern: 'urn:[bc]' }, { limit: 1 })).map((e) => e.id)).toEqual(['urn:b']);
    expect(await temporal.purgeBefore(new Date(Date.now() + 60_000).toISOString())).toBe(3);
    expect(await temporal.instances('', 'urn:a', NS + 'n', { timeproperty: 'createdAt', limit: 10 })).toEqual([]);
  });

  it('records nothing for an unchanged instance (createdAt/modifiedAt ignored)', () => {
    const a = entity('urn:a', ['T'], { n: 1 });
    const b = { ...a, attrs: { [NS + 'n']: [{ ...a.attrs[NS + 'n']![0]!, modifiedAt: '2030-01-01T00:00:00Z' }] } };
    expect(historyOf(a, b, '2030-01-01T00:00:00Z')).toEqual([]);
  });
});
