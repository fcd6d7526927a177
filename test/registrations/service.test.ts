import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { NgsiError } from '../../src/common/errors.js';
import { ContextResolver } from '../../src/jsonld/resolver.js';
import type { LdContext } from '../../src/jsonld/types.js';
import type { StoredRegistration } from '../../src/model/registration.js';
import { RegistrationService } from '../../src/registrations/service.js';
import { EntityService } from '../../src/entities/service.js';
import { openStores, type Stores } from '../../src/store/index.js';
import { TempDirs } from '../store/helpers.js';

const EX = 'https://example.org/ns#';
const limits = { defaultLimit: 20, maxLimit: 100 };
const dirs = new TempDirs();
let ctx: LdContext;
let dataDir: string;
let stores: Stores;
let service: RegistrationService;
const changes: Array<{ tenant: string; before?: string; after?: string }> = [];

beforeAll(async () => {
  ctx = await new ContextResolver({ timeoutMs: 100, cacheTtlSec: 60 }).resolve({ Vehicle: `${EX}Vehicle`, speed: `${EX}speed` });
});

async function open(): Promise<void> {
  stores = await openStores({ store: 'embedded', dataDir });
  service = await RegistrationService.open(stores.registrations, { entities: stores.entities, limits });
  service.onChange((tenant, before, after) => changes.push({ tenant, before: before?.id, after: after?.id }));
}

beforeEach(async () => {
  dataDir = await dirs.make();
  changes.length = 0;
  await open();
});
afterEach(async () => {
  await service.close();
  await stores.close();
  await dirs.cleanup();
});

const scope = (tenant = '') => ({ tenant, ctx });
const body = (extra: Record<string, unknown> = {}) => ({
  type: 'ContextSourceRegistration',
  information: [{ entities: [{ type: 'Vehicle' }], propertyNames: ['speed'] }],
  endpoint: 'http://cs.example',
  ...extra,
});

async function kind(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    if (e instanceof NgsiError) return e.kind;
    throw e;
  }
  return 'ok';
}

describe('RegistrationService with the embedded store', () => {
  it('stores registrations durably: they are there, in creation order, after a reopen', async () => {
    const a = await service.create(scope(), body({ id: 'urn:r:a' }));
    const b = await service.create(scope(), body());
    await service.create(scope('t2'), body({ id: 'urn:r:c' }));
    await service.close();
    await stores.close();
    await open();
    expect((await service.list(scope(), { type: 'Vehicle' })).items.map((r) => r.id)).toEqual([a, b]);
    expect((await service.list(scope('t2'), { type: 'Vehicle' })).items.map((r) => r.id)).toEqual(['urn:r:c']);
    const got = await service.retrieve(scope(), a);
    expect(got.spec.information[0]!.entities![0]!.type).toEqual([`${EX}Vehicle`]);
  });

  it('5.9.2.4, 5.9.3.4, 5.9.4.4: AlreadyExists, ResourceNotFound and BadRequestData for bad ids', async () => {
    await service.create(scope(), body({ id: 'urn:r:a' }));
    expect(await kind(service.create(scope(), body({ id: 'urn:r:a' })))).toBe('AlreadyExists');
    expect(await kind(service.retrieve(scope(), 'urn:r:none'))).toBe('ResourceNotFound');
    expect(await kind(service.update(scope(), 'urn:r:none', { description: 'x' }))).toBe('ResourceNotFound');
    expect(await kind(service.delete(scope(), 'urn:r:none'))).toBe('ResourceNotFound');
    expect(await kind(service.retrieve(scope(), 'no uri'))).toBe('BadRequestData');
  });

  it('a refused update writes nothing', async () => {
    await service.create(scope(), body({ id: 'urn:r:a', description: 'before' }));
    expect(await kind(service.update(scope(), 'urn:r:a', { description: 'after', mode: 'auxiliary' }))).toBe('BadRequestData');
    expect((await service.retrieve(scope(), 'urn:r:a')).spec.description).toBe('before');
  });

  it('tells listeners of creations, updates and deletions', async () => {
    await service.create(scope(), body({ id: 'urn:r:a' }));
    await service.update(scope(), 'urn:r:a', { description: 'x' });
    await service.delete(scope(), 'urn:r:a');
    expect(changes).toEqual([
      { tenant: '', before: undefined, after: 'urn:r:a' },
      { tenant: '', before: 'urn:r:a', after: 'urn:r:a' },
      { tenant: '', before: 'urn:r:a', after: undefined },
    ]);
  });

  it('4.3.6.3: conflicts with exclusive registrations and with entities held here', async () => {
    const exclusive = (attr: string) => body({ mode: 'exclusive', information: [{ entities: [{ id: 'urn:v:1', type: 'Vehicle' }], propertyNames: [attr] }] });
    await service.create(scope(), exclusive('speed'));
    expect(await kind(service.create(scope(), exclusive('speed')))).toBe('Conflict');
    expect(await kind(service.create(scope('other'), exclusive('speed')))).toBe('ok');
    await new EntityService(stores.entities).create(scope(), { id: 'urn:v:2', type: 'Vehicle', fuel: { type: 'Property', value: 1 } });
    const held = body({ mode: 'exclusive', information: [{ entities: [{ id: 'urn:v:2', type: 'Vehicle' }], propertyNames: ['fuel'] }] });
    expect(await kind(service.create(scope(), held))).toBe('Conflict');
    // A redirect registration conflicts with an entity held here that it covers (5.9.2.4): here, Vehicles' fuel.
    expect(await kind(service.create(scope(), body({ mode: 'redirect', information: [{ entities: [{ type: 'Vehicle' }], propertyNames: ['fuel'] }] })))).toBe('Conflict');
    expect(await kind(service.create(scope(), body({ mode: 'redirect', information: [{ entities: [{ idPattern: '^urn:v:', type: 'Vehicle' }] }] })))).toBe('Conflict');
    expect(await kind(service.create(scope(), body({ mode: 'redirect', information: [{ propertyNames: ['fuel'] }] })))).toBe('Conflict');
    expect(await kind(service.create(scope(), body({ mode: 'redirect', information: [{ entities: [{ type: 'Vehicle' }], propertyNames: ['tyres'] }] })))).toBe('ok');
    // An update into a conflicting mode is refused as well (5.9.3.4).
    const id = await service.create(scope(), body({ information: [{ entities: [{ id: 'urn:v:1', type: 'Vehicle' }], propertyNames: ['speed'] }] }));
    expect(await kind(service.update(scope(), id, { mode: 'exclusive' }))).toBe('Conflict');
  });

  it('4.3.6.3, 5.9.2.4: of two conflicting exclusive registrations created at the same moment exactly one succeeds', async () => {
    const exclusive = (id: string) => body({ id, mode: 'exclusive', information: [{ entities: [{ id: 'urn:v:1', type: 'Vehicle' }], propertyNames: ['speed'] }] });
    const outcomes = await Promise.all([1, 2, 3, 4].map((n) => kind(service.create(scope(), exclusive(`urn:r:${n}`)))));
    expect(outcomes.filter((o) => o === 'ok')).toHaveLength(1);
    expect(outcomes.filter((o) => o === 'Conflict')).toHaveLength(3);
    expect((await service.list(scope(), { type: 'Vehicle' })).items).toHaveLength(1);
    // Updates into a conflict are serialized with creations the same way (5.9.3.4).
    const inclusive = (id: string) => body({ id, information: [{ entities: [{ id: 'urn:v:9', type: 'Vehicle' }], propertyNames: ['speed'] }] });
    await service.create(scope(), inclusive('urn:r:u1'));
    await service.create(scope(), inclusive('urn:r:u2'));
    const updates = await Promise.all(['urn:r:u1', 'urn:r:u2'].map((id) => kind(service.update(scope(), id, { mode: 'exclusive' }))));
    expect(updates.sort()).toEqual(['Conflict', 'ok']);
    // Other tenants are not held up by, nor in conflict with, this one.
    expect(await kind(service.create(scope('other'), exclusive('urn:r:1')))).toBe('ok');
  });

  it('matching: the candidates of a distributed request (clause 5.12, 4.20)', async () => {
    const vehicle = { op: 'type' as const, iri: `${EX}Vehicle` };
    const a = await service.create(scope(), body());
    const b = await service.create(scope(), body({ operations: ['updateOps'] }));
    await service.create(scope(), body({ information: [{ entities: [{ type: 'Building' }] }] }));
    expect((await service.matching('', { types: vehicle, operation: 'retrieveEntity' })).map((r) => r.id)).toEqual([a]);
    expect((await service.matching('', { types: vehicle, attrs: [`${EX}speed`], operation: 'updateAttrs' })).map((r) => r.id)).toEqual([b]);
    expect(await service.matching('other', { types: vehicle })).toEqual([]);
  });

  it('Table 5.2.9-2: recordOutcome keeps timesSent, timesFailed, lastSuccess, lastFailure and status', async () => {
    const id = await service.create(scope(), body());
    await service.recordOutcome('', id, true, '2030-01-01T00:00:00.000Z');
    await service.recordOutcome('', id, false, '2030-01-01T00:00:01.000Z');
    expect((await service.retrieve(scope(), id)).stats).toEqual({
      timesSent: 2,
      timesFailed: 1,
      lastSuccess: '2030-01-01T00:00:00.000Z',
      lastFailure: '2030-01-01T00:00:01.000Z',
      status: 'failed',
    });
  });

  it('5.9.2.4: a registration is deleted when its expiresAt is reached, and listeners hear of it', async () => {
    const id = await service.create(scope(), body({ expiresAt: new Date(Date.now() + 300).toISOString() }));
    const deadline = Date.now() + 5000;
    while (!changes.some((c) => c.before === id && c.after === undefined) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(changes.at(-1)).toEqual({ tenant: '', before: id, after: undefined });
    expect(await stores.registrations.get('', id)).toBeUndefined();
  });

  it('5.5.9: paging with limit, offset and count', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(await service.create(scope(), body()));
    const page = await service.list(scope(), { type: 'Vehicle', limit: '2', offset: '2', count: 'true' });
    expect(page.items.map((r: StoredRegistration) => r.id)).toEqual(ids.slice(2, 4));
    expect(page.count).toBe(5);
    expect(page.next).toEqual({ limit: '2', offset: '4' });
    expect(page.prev).toEqual({ limit: '2', offset: '0' });
  });
});
