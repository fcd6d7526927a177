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

describe('EmbeddedRegistrationStore change log (RegistrationChangeLog, for CSourceNotifications 5.11.7)', () => {
  const withDescription = (description: string) => (current: StoredRegistration | undefined) => ({
    change: { kind: 'put' as const, registration: { ...current!, spec: { ...current!.spec, description } } },
    result: undefined,
  });

  it('logs creation, update and deletion in commit order with before and after; counter writes and refused writes are not logged', async () => {
    const r = stores.registrations;
    let woken = 0;
    const off = r.onChanges(() => woken++);
    await r.create(reg('', 'urn:r:a'));
    await r.mutate('', 'urn:r:a', withDescription('changed'));
    await r.mutate('', 'urn:r:a', (current) => ({ change: { kind: 'put', registration: { ...current!, stats: { ...current!.stats, timesSent: 1 } }, unlogged: true }, result: undefined }));
    await expect(r.create(reg('', 'urn:r:a'))).rejects.toThrow(/already exists/);
    await r.mutate('', 'urn:r:none', () => ({ change: { kind: 'none' }, result: undefined }));
    expect(await r.delete('', 'urn:r:a')).toBe(true);
    expect(await r.delete('', 'urn:r:a')).toBe(false);
    await r.create(reg('t', 'urn:r:b'));
    off();

    const log = await r.readChanges(0, 100);
    expect(log.map((c) => [c.tenant, c.id, c.before?.spec.description ?? c.before?.id, c.after?.spec.description ?? c.after?.id])).toEqual([
      ['', 'urn:r:a', undefined, 'urn:r:a'],
      ['', 'urn:r:a', 'urn:r:a', 'changed'],
      // The deletion's before is the registration with the unlogged counter write in it.
      ['', 'urn:r:a', 'changed', undefined],
      ['t', 'urn:r:b', undefined, 'urn:r:b'],
    ]);
    expect(log[2]!.before!.stats.timesSent).toBe(1);
    expect(log.map((c) => c.seq)).toEqual([...log.map((c) => c.seq)].sort((a, b) => a - b));
    expect(new Set(log.map((c) => c.seq)).size).toBe(4);
    expect(log.every((c) => !Number.isNaN(Date.parse(c.at)))).toBe(true);
    expect(woken).toBe(4);
    expect((await r.readChanges(log[1]!.seq, 1)).map((c) => c.seq)).toEqual([log[2]!.seq]);
  });

  it('unacknowledged changes are read again after a reopen; acknowledged ones are gone, and seqs keep increasing', async () => {
    await stores.registrations.create(reg('', 'urn:r:a'));
    await stores.registrations.create(reg('', 'urn:r:b'));
    await stores.registrations.mutate('', 'urn:r:a', withDescription('x'));
    const first = await stores.registrations.readChanges(0, 100);
    await stores.registrations.ackChanges(first[0]!.seq);
    await stores.close();

    stores = await openStores({ store: 'embedded', dataDir });
    const again = await stores.registrations.readChanges(0, 100);
    expect(again.map((c) => [c.seq, c.id, c.after?.spec.description])).toEqual([
      [first[1]!.seq, 'urn:r:b', undefined],
      [first[2]!.seq, 'urn:r:a', 'x'],
    ]);
    await stores.registrations.delete('', 'urn:r:b');
    const next = await stores.registrations.readChanges(first[2]!.seq, 100);
    expect(next.map((c) => [c.id, c.after])).toEqual([['urn:r:b', undefined]]);
    expect(next[0]!.seq).toBeGreaterThan(first[2]!.seq);
    await stores.registrations.ackChanges(next[0]!.seq);
    expect(await stores.registrations.readChanges(0, 100)).toEqual([]);
  });
});
