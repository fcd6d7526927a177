import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { NgsiError } from '../../src/common/errors.js';
import { openStores, type Stores } from '../../src/store/index.js';
import type { StoredSubscription } from '../../src/model/subscription.js';
import { TempDirs } from './helpers.js';

const T0 = '2030-01-01T00:00:00.000Z';

function sub(id: string, tenant = '', extra: Partial<StoredSubscription> = {}): StoredSubscription {
  return {
    id,
    tenant,
    spec: { watchedAttributes: ['https://example.org/speed'], notification: { endpoint: { uri: 'http://r.example/n' } } },
    queries: {},
    context: 'https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.9.jsonld',
    createdAt: T0,
    modifiedAt: T0,
    delivery: { timesSent: 0, timesFailed: 0 },
    ...extra,
  };
}

const dirs = new TempDirs();
let dataDir: string;
let stores: Stores;
const store = () => stores.subscriptions;

beforeEach(async () => {
  dataDir = await dirs.make();
  stores = await openStores({ store: 'embedded', dataDir });
});
afterEach(() => stores.close());
afterAll(() => dirs.cleanup());

async function reopen(): Promise<void> {
  await stores.close();
  stores = await openStores({ store: 'embedded', dataDir });
}

describe('EmbeddedSubscriptionStore', () => {
  it('creates, reads, updates and deletes', async () => {
    await store().create(sub('urn:s:1'));
    expect(await store().get('', 'urn:s:1')).toEqual(sub('urn:s:1'));
    const updated = await store().mutate('', 'urn:s:1', (cur) => ({ change: { kind: 'put', subscription: { ...cur!, modifiedAt: 'later' } }, result: 'ok' }));
    expect(updated).toBe('ok');
    expect((await store().get('', 'urn:s:1'))!.modifiedAt).toBe('later');
    expect(await store().delete('', 'urn:s:1')).toBe(true);
    expect(await store().delete('', 'urn:s:1')).toBe(false);
    expect(await store().get('', 'urn:s:1')).toBeUndefined();
  });

  it('refuses a duplicate id with AlreadyExists, per tenant', async () => {
    await store().create(sub('urn:s:1'));
    const err = await store().create(sub('urn:s:1')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NgsiError);
    expect((err as NgsiError).kind).toBe('AlreadyExists');
    await store().create(sub('urn:s:1', 'city'));
    expect((await store().get('city', 'urn:s:1'))!.tenant).toBe('city');
  });

  it('writes nothing when decide throws, and refuses keys lmdb cannot hold', async () => {
    await expect(store().mutate('', 'urn:s:1', () => {
      throw new Error('no');
    })).rejects.toThrow('no');
    expect(await store().all()).toEqual([]);
    await expect(store().create(sub(`urn:s:${'x'.repeat(2000)}`))).rejects.toThrow(/subscription id and tenant together exceed/);
    await expect(store().mutate('', 'urn:s:2', () => ({ change: { kind: 'put', subscription: sub('urn:s:3') }, result: 0 }))).rejects.toThrow(/decided to put/);
  });

  it('hands out frozen subscriptions', async () => {
    await store().create(sub('urn:s:1'));
    const got = (await store().get('', 'urn:s:1'))!;
    expect(() => got.spec.watchedAttributes!.push('x')).toThrow(TypeError);
  });

  it('lists in creation order with limit, offset and the total; an update keeps the place', async () => {
    for (const id of ['urn:s:c', 'urn:s:a', 'urn:s:b']) await store().create(sub(id));
    await store().create(sub('urn:s:z', 'other'));
    await store().mutate('', 'urn:s:c', (cur) => ({ change: { kind: 'put', subscription: { ...cur!, modifiedAt: 'x' } }, result: undefined }));
    const page = await store().list('', { limit: 2, offset: 1 });
    expect(page.count).toBe(3);
    expect(page.items.map((s) => s.id)).toEqual(['urn:s:a', 'urn:s:b']);
    expect(await store().list('nobody', { limit: 5, offset: 0 })).toEqual({ items: [], count: 0 });
    expect((await store().all()).map((s) => `${s.tenant}/${s.id}`)).toEqual(['/urn:s:c', '/urn:s:a', '/urn:s:b', 'other/urn:s:z']);
  });

  it('keeps concurrent updates of one subscription (one commit) in order', async () => {
    await store().create(sub('urn:s:1'));
    const bump = () =>
      store().mutate('', 'urn:s:1', (cur) => ({
        change: { kind: 'put', subscription: { ...cur!, delivery: { ...cur!.delivery, timesSent: cur!.delivery.timesSent + 1 } } },
        result: undefined,
      }));
    await Promise.all(Array.from({ length: 50 }, bump));
    expect((await store().get('', 'urn:s:1'))!.delivery.timesSent).toBe(50);
  });

  it('survives a restart, creation order included', async () => {
    for (const id of ['urn:s:2', 'urn:s:1', 'urn:s:3']) await store().create(sub(id, 't'));
    await store().delete('t', 'urn:s:1');
    await store().create(sub('urn:s:1', 't'));
    await reopen();
    expect((await store().list('t', { limit: 10, offset: 0 })).items.map((s) => s.id)).toEqual(['urn:s:2', 'urn:s:3', 'urn:s:1']);
    expect(await store().get('t', 'urn:s:2')).toEqual(sub('urn:s:2', 't'));
    // Entities in the same environment are unaffected.
    expect(await stores.entities.hasTenant('')).toBe(true);
  });

  it('refuses use after close', async () => {
    await store().close();
    await expect(store().get('', 'urn:s:1')).rejects.toThrow(/closed/);
  });
});
