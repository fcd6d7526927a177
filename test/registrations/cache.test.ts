import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ContextResolver } from '../../src/jsonld/resolver.js';
import type { LdContext } from '../../src/jsonld/types.js';
import { NO_STATS, type StoredRegistration } from '../../src/model/registration.js';
import { RegistrationService } from '../../src/registrations/service.js';
import { RegistrationCache } from '../../src/registrations/tenant-cache.js';
import { openStores, type Stores } from '../../src/store/index.js';
import type { RegistrationStore } from '../../src/store/registration-store.js';
import { TempDirs } from '../store/helpers.js';

/**
 * The per-tenant registration cache behind allOf/matching (what forwarding reads on every entity request), over the
 * real embedded store: the store's `list` calls are counted through a wrapper around it.
 */

const EX = 'https://example.org/ns#';
const limits = { defaultLimit: 20, maxLimit: 100 };
const dirs = new TempDirs();
let ctx: LdContext;
let stores: Stores;
let counted: { store: RegistrationStore; lists: string[] };
let service: RegistrationService;
let now: number;
const published: Array<{ tenant: string; id: string }> = [];

/** The store itself, with each `list(tenant)` recorded. */
function countingStore(store: RegistrationStore): { store: RegistrationStore; lists: string[] } {
  const lists: string[] = [];
  const wrapped = new Proxy(store, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property, target);
      if (property === 'list') {
        return (tenant: string) => {
          lists.push(tenant);
          return target.list(tenant);
        };
      }
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
  return { store: wrapped, lists };
}

beforeAll(async () => {
  ctx = await new ContextResolver({ timeoutMs: 100, cacheTtlSec: 60 }).resolve({ Vehicle: `${EX}Vehicle`, speed: `${EX}speed` });
});

beforeEach(async () => {
  now = Date.parse('2026-01-01T00:00:00Z');
  stores = await openStores({ store: 'embedded', dataDir: await dirs.make() });
  counted = countingStore(stores.registrations);
  service = await RegistrationService.open(counted.store, { entities: stores.entities, limits, clock: () => now });
  published.length = 0;
  service.onChange((tenant, before, after) => published.push({ tenant, id: (after ?? before)!.id }));
});
afterEach(async () => {
  await service.close();
  await stores.close();
  await dirs.cleanup();
});

const scope = (tenant = '') => ({ tenant, ctx });
const body = (id: string, extra: Record<string, unknown> = {}) => ({
  id,
  type: 'ContextSourceRegistration',
  information: [{ entities: [{ type: 'Vehicle' }], propertyNames: ['speed'] }],
  endpoint: 'http://cs.example',
  ...extra,
});
const vehicles = { types: { op: 'type' as const, iri: `${EX}Vehicle` }, operation: 'retrieveEntity' as const };
const ids = (regs: readonly StoredRegistration[]) => regs.map((r) => r.id);

/** How many store reads `read` made. */
async function readsOf<T>(read: () => Promise<T>): Promise<{ value: T; reads: number }> {
  const before = counted.lists.length;
  const value = await read();
  return { value, reads: counted.lists.length - before };
}

/** A registration written to the store behind the service's back, as another broker instance does. */
function foreign(id: string, tenant = ''): StoredRegistration {
  const at = new Date(now).toISOString();
  return {
    id,
    tenant,
    spec: { information: [{ entities: [{ type: [`${EX}Vehicle`] }] }], endpoint: 'http://other.example' },
    context: [],
    createdAt: at,
    modifiedAt: at,
    stats: NO_STATS,
  };
}

describe('RegistrationService registration cache (allOf, matching)', () => {
  it('reads a tenant from the store once; later allOf and matching calls are cache hits', async () => {
    await service.create(scope(), body('urn:r:a'));
    const first = await readsOf(() => service.allOf(''));
    expect(ids(first.value)).toEqual(['urn:r:a']);
    expect(first.reads).toBe(1);
    const again = await readsOf(async () => [await service.allOf(''), await service.matching('', vehicles), await service.allOf('')]);
    expect(again.reads).toBe(0);
    expect(again.value.map(ids)).toEqual([['urn:r:a'], ['urn:r:a'], ['urn:r:a']]);
  });

  it('keeps tenants apart and shares one store read between callers that miss at the same time', async () => {
    await service.create(scope('t1'), body('urn:r:t1'));
    await service.create(scope('t2'), body('urn:r:t2'));
    const { value, reads } = await readsOf(() => Promise.all([service.allOf('t1'), service.allOf('t1'), service.allOf('t2')]));
    expect(value.map(ids)).toEqual([['urn:r:t1'], ['urn:r:t1'], ['urn:r:t2']]);
    expect(reads).toBe(2);
  });

  it('applies local creations, updates and deletions (5.9.2, 5.9.3, 5.9.4) to the cache without reading the store', async () => {
    await service.create(scope(), body('urn:r:a'));
    await service.allOf('');
    await service.create(scope(), body('urn:r:b'));
    await service.update(scope(), 'urn:r:a', { endpoint: 'http://moved.example' });
    const afterWrites = await readsOf(() => service.allOf(''));
    expect(afterWrites.reads).toBe(0);
    expect(afterWrites.value.map((r) => [r.id, r.spec.endpoint])).toEqual([
      ['urn:r:a', 'http://moved.example'],
      ['urn:r:b', 'http://cs.example'],
    ]);
    await service.delete(scope(), 'urn:r:a');
    const afterDelete = await readsOf(() => service.matching('', vehicles));
    expect(afterDelete.reads).toBe(0);
    expect(ids(afterDelete.value)).toEqual(['urn:r:b']);
    expect(published).toEqual([
      { tenant: '', id: 'urn:r:a' },
      { tenant: '', id: 'urn:r:b' },
      { tenant: '', id: 'urn:r:a' },
      { tenant: '', id: 'urn:r:a' },
    ]);
  });

  it('hides a cached registration once its expiresAt passed, and drops it from the cache at expiry (5.9.2.4)', async () => {
    await service.create(scope(), body('urn:r:short', { expiresAt: new Date(now + 1000).toISOString() }));
    await service.create(scope(), body('urn:r:long'));
    expect(ids(await service.allOf(''))).toEqual(['urn:r:short', 'urn:r:long']);
    now += 2000;
    const hidden = await readsOf(() => service.allOf(''));
    expect(ids(hidden.value)).toEqual(['urn:r:long']);
    expect(hidden.reads).toBe(0);
  });

  it('does not announce statistics-only writes (recordOutcome) as registration changes', async () => {
    await service.create(scope(), body('urn:r:a'));
    published.length = 0;
    await service.recordOutcome('', 'urn:r:a', true);
    await service.recordOutcome('', 'urn:r:a', false);
    expect(published).toEqual([]);
    expect((await service.retrieve(scope(), 'urn:r:a')).stats.timesSent).toBe(2);
    expect(ids(await service.allOf(''))).toEqual(['urn:r:a']);
  });

  it('reads the tenant from the store again after a remote change, and only that tenant', async () => {
    await service.create(scope(), body('urn:r:a'));
    await service.create(scope('t2'), body('urn:r:t2'));
    expect(ids(await service.allOf(''))).toEqual(['urn:r:a']);
    expect(ids(await service.allOf('t2'))).toEqual(['urn:r:t2']);
    await stores.registrations.create(foreign('urn:r:remote'));
    // Not announced yet: the cache still answers.
    expect(ids(await service.allOf(''))).toEqual(['urn:r:a']);
    await service.onRemoteChange('');
    const reloaded = await readsOf(async () => [await service.allOf(''), await service.allOf('t2')]);
    expect(reloaded.value.map(ids)).toEqual([['urn:r:a', 'urn:r:remote'], ['urn:r:t2']]);
    expect(reloaded.reads).toBe(1);
    await stores.registrations.delete('', 'urn:r:a');
    await service.onRemoteChange('');
    expect(ids(await service.matching('', vehicles))).toEqual(['urn:r:remote']);
  });

  it('reads every tenant again after a resync (invalidations may have been missed)', async () => {
    await service.create(scope('t1'), body('urn:r:t1'));
    await service.create(scope('t2'), body('urn:r:t2'));
    await service.allOf('t1');
    await service.allOf('t2');
    await stores.registrations.create(foreign('urn:r:t1b', 't1'));
    await stores.registrations.delete('t2', 'urn:r:t2');
    await service.resync();
    const reloaded = await readsOf(async () => [await service.allOf('t1'), await service.allOf('t2')]);
    expect(reloaded.value.map(ids)).toEqual([['urn:r:t1', 'urn:r:t1b'], []]);
    expect(reloaded.reads).toBe(2);
  });
});

describe('RegistrationCache', () => {
  const reg = (id: string) => foreign(id);

  /** A load that resolves when the test says so, with whatever the "store" held when it was called. */
  function controlledLoad(contents: () => StoredRegistration[]) {
    const pending: Array<() => void> = [];
    let calls = 0;
    const load = (tenant: string) => {
      calls++;
      void tenant;
      const snapshot = contents();
      return new Promise<StoredRegistration[]>((resolve) => pending.push(() => resolve(snapshot)));
    };
    return { load, release: () => pending.splice(0).forEach((go) => go()), calls: () => calls };
  }

  it('does not keep a store read that was under way when the tenant was invalidated', async () => {
    let stored = [reg('urn:r:old')];
    const load = controlledLoad(() => stored);
    const cache = new RegistrationCache(load.load);
    const stale = cache.get('');
    stored = [reg('urn:r:new')];
    cache.invalidate('');
    load.release();
    // The caller that asked before the invalidation gets what it read; the cache does not keep it.
    expect(ids(await stale)).toEqual(['urn:r:old']);
    const fresh = cache.get('');
    load.release();
    expect(ids(await fresh)).toEqual(['urn:r:new']);
    expect(load.calls()).toBe(2);
    expect(ids(await cache.get(''))).toEqual(['urn:r:new']);
    expect(load.calls()).toBe(2);
  });

  it('does not keep a store read that was under way when a local write was applied, nor one before invalidateAll', async () => {
    let stored = [reg('urn:r:a')];
    const load = controlledLoad(() => stored);
    const cache = new RegistrationCache(load.load);
    const before = cache.get('');
    stored = [reg('urn:r:a'), reg('urn:r:b')];
    cache.apply('', 'urn:r:b', reg('urn:r:b'));
    load.release();
    await before;
    const second = cache.get('');
    cache.invalidateAll();
    load.release();
    await second;
    const third = cache.get('');
    load.release();
    expect(ids(await third)).toEqual(['urn:r:a', 'urn:r:b']);
    expect(load.calls()).toBe(3);
  });

  it('forgets a failed store read: the next call reads again', async () => {
    let fail = true;
    const cache = new RegistrationCache(async () => {
      if (fail) throw new Error('store down');
      return [reg('urn:r:a')];
    });
    await expect(cache.get('')).rejects.toThrow('store down');
    fail = false;
    expect(ids(await cache.get(''))).toEqual(['urn:r:a']);
  });
});
