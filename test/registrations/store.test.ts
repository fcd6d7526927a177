import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { NgsiError } from '../../src/common/errors.js';
import { NO_STATS, type StoredRegistration } from '../../src/model/registration.js';
import { openStores, type Stores } from '../../src/store/index.js';
import { TempDirs } from '../store/helpers.js';

const dirs = new TempDirs();
let dataDir: string;
let stores: Stores;

beforeEach(async () => {
  dataDir = await dirs.make();
  stores = await openStores({ store: 'embedded', dataDir });
});
afterEach(async () => {
  await stores.close();
  await dirs.cleanup();
});

const reg = (tenant: string, id: string, description?: string): StoredRegistration => ({
  id,
  tenant,
  spec: { information: [{ propertyNames: ['https://example.org/p'] }], endpoint: 'http://cs.example', ...(description && { description }) },
  context: 'https://example.org/ctx.jsonld',
  createdAt: '2030-01-01T00:00:00.000Z',
  modifiedAt: '2030-01-01T00:00:00.000Z',
  stats: NO_STATS,
});

describe('EmbeddedRegistrationStore (RegistrationStore contract)', () => {
  it('round-trips registrations per tenant in creation order, across a reopen, updates keeping their place', async () => {
    const r = stores.registrations;
    await r.create(reg('', 'urn:r:b'));
    await r.create(reg('', 'urn:r:a'));
    await r.create(reg('t', 'urn:r:a'));
    await r.mutate('', 'urn:r:b', (current) => ({ change: { kind: 'put', registration: { ...current!, spec: { ...current!.spec, description: 'changed' } } }, result: undefined }));
    await stores.close();
    stores = await openStores({ store: 'embedded', dataDir });
    const again = stores.registrations;
    expect((await again.list('')).map((x) => x.id)).toEqual(['urn:r:b', 'urn:r:a']);
    expect((await again.get('', 'urn:r:b'))?.spec.description).toBe('changed');
    expect((await again.list('t')).map((x) => x.id)).toEqual(['urn:r:a']);
    expect((await again.all()).length).toBe(3);
    expect(await again.get('t', 'urn:r:b')).toBeUndefined();
  });

  it('create of a taken id is AlreadyExists; delete says whether there was one', async () => {
    const r = stores.registrations;
    await r.create(reg('', 'urn:r:a'));
    await expect(r.create(reg('', 'urn:r:a'))).rejects.toSatisfy((e: unknown) => e instanceof NgsiError && e.kind === 'AlreadyExists');
    expect(await r.delete('', 'urn:r:a')).toBe(true);
    expect(await r.delete('', 'urn:r:a')).toBe(false);
    expect(await r.list('')).toEqual([]);
  });

  it('a decide that throws writes nothing; a put for another key is refused', async () => {
    const r = stores.registrations;
    await r.create(reg('', 'urn:r:a', 'before'));
    await expect(r.mutate('', 'urn:r:a', () => {
      throw new NgsiError('Conflict', 'no');
    })).rejects.toThrow('no');
    await expect(r.mutate('', 'urn:r:a', () => ({ change: { kind: 'put', registration: reg('', 'urn:r:other') }, result: undefined }))).rejects.toThrow(/decided to put/);
    expect((await r.get('', 'urn:r:a'))?.spec.description).toBe('before');
    expect(await r.get('', 'urn:r:other')).toBeUndefined();
  });

  it('hands out frozen values', async () => {
    await stores.registrations.create(reg('', 'urn:r:a'));
    const got = (await stores.registrations.get('', 'urn:r:a'))!;
    expect(Object.isFrozen(got)).toBe(true);
    expect(Object.isFrozen(got.spec.information)).toBe(true);
  });

  it('CSource subscriptions live apart from entity subscriptions', async () => {
    const sub = {
      id: 'urn:s:1',
      tenant: '',
      spec: { entities: [{ type: '*' as const }], notification: { endpoint: { uri: 'http://x.example' } } },
      queries: {},
      context: 'https://example.org/ctx.jsonld',
      createdAt: 'c',
      modifiedAt: 'm',
      delivery: { timesSent: 0, timesFailed: 0 },
    };
    await stores.csourceSubscriptions!.create(sub);
    expect((await stores.csourceSubscriptions!.get('', 'urn:s:1'))?.id).toBe('urn:s:1');
    expect(await stores.subscriptions.get('', 'urn:s:1')).toBeUndefined();
  });
});
