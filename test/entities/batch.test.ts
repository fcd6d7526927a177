import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { NgsiError } from '../../src/common/errors.js';
import { EntityService, type BatchItem, type RequestScope } from '../../src/entities/service.js';
import { ContextResolver } from '../../src/jsonld/resolver.js';
import type { LdContext } from '../../src/jsonld/types.js';
import type { Entity } from '../../src/model/entity.js';
import type { EntityStore, Mutation } from '../../src/store/entity-store.js';
import { useEmbeddedStore } from '../store/helpers.js';

const V = 'https://uri.etsi.org/ngsi-ld/default-context/';
const ERR = 'https://uri.etsi.org/ngsi-ld/errors/';
let ctx: LdContext;
beforeAll(async () => {
  ctx = await new ContextResolver({ timeoutMs: 1000, cacheTtlSec: 60 }).resolve(undefined);
});

const db = useEmbeddedStore();
const scope = (tenant = ''): RequestScope => ({ tenant, ctx });
const items = (...bodies: unknown[]): BatchItem[] => bodies.map((body) => ({ body, ctx }));
const prop = (value: unknown) => ({ type: 'Property', value });

/**
 * The real store behind a wrapper that can delay or fail mutations and records how many run at once, per id and
 * overall. Methods other than mutate pass through, so the wrapper follows the store interface as it grows.
 */
function instrumented(store: EntityStore, opts: { delay?: () => number; failFor?: string } = {}) {
  const stats = { maxInFlight: 0, maxSameId: 0 };
  let inFlight = 0;
  const perId = new Map<string, number>();
  const mutate = async <R>(tenant: string, id: string, decide: (current: Entity | undefined) => Mutation<R>): Promise<R> => {
    inFlight++;
    perId.set(id, (perId.get(id) ?? 0) + 1);
    stats.maxInFlight = Math.max(stats.maxInFlight, inFlight);
    stats.maxSameId = Math.max(stats.maxSameId, perId.get(id)!);
    try {
      const ms = opts.delay?.() ?? 0;
      if (ms > 0) await new Promise((r) => setTimeout(r, ms));
      if (id === opts.failFor) throw new Error('disk on fire');
      return await store.mutate(tenant, id, decide);
    } finally {
      inFlight--;
      perId.set(id, perId.get(id)! - 1);
    }
  };
  const wrapped = new Proxy(store, {
    get(target, key) {
      if (key === 'mutate') return mutate;
      const value = Reflect.get(target, key, target) as unknown;
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return { store: wrapped, stats };
}

describe('EntityService.upsert (5.6.8)', () => {
  it('creates an absent entity and says so', async () => {
    const service = new EntityService(db.store);
    const out = await service.upsert(scope(), { id: 'urn:x:1', type: 'T', a: prop(1) }, 'replace');
    expect(out).toEqual({ id: 'urn:x:1', created: true });
    expect((await db.store.get('', 'urn:x:1'))?.attrs[`${V}a`]?.[0]?.value).toBe(1);
  });

  it("mode 'replace' replaces the whole entity, keeping its createdAt (5.6.18)", async () => {
    const service = new EntityService(db.store);
    await service.upsert({ ...scope(), now: '2026-01-01T00:00:00.000Z' }, { id: 'urn:x:1', type: 'T', a: prop(1) }, 'replace');
    const out = await service.upsert({ ...scope(), now: '2026-01-02T00:00:00.000Z' }, { id: 'urn:x:1', type: 'U', b: prop(2) }, 'replace');
    expect(out).toEqual({ id: 'urn:x:1', created: false });
    const e = (await db.store.get('', 'urn:x:1'))!;
    expect(e.type).toEqual([`${V}U`]);
    expect(Object.keys(e.attrs)).toEqual([`${V}b`]);
    expect(e.createdAt).toBe('2026-01-01T00:00:00.000Z');
    expect(e.modifiedAt).toBe('2026-01-02T00:00:00.000Z');
  });

  it("mode 'update' runs Update Attributes (5.6.2): attributes of the body replaced or added, the others kept, types added", async () => {
    const service = new EntityService(db.store);
    await service.upsert(scope(), { id: 'urn:x:1', type: 'T', a: prop(1), b: prop(1) }, 'update');
    const out = await service.upsert(scope(), { id: 'urn:x:1', type: 'U', b: prop(2), c: prop(3) }, 'update');
    expect(out).toEqual({ id: 'urn:x:1', created: false, result: { updated: [`${V}b`, `${V}c`], notUpdated: [] } });
    const e = (await db.store.get('', 'urn:x:1'))!;
    expect(e.type).toEqual([`${V}T`, `${V}U`]);
    expect(Object.fromEntries(Object.entries(e.attrs).map(([k, v]) => [k.slice(V.length), v[0]!.value]))).toEqual({ a: 1, b: 2, c: 3 });
  });

  it('validates the body as a whole entity in both modes and writes nothing when it is invalid', async () => {
    const service = new EntityService(db.store);
    await service.upsert(scope(), { id: 'urn:x:1', type: 'T', a: prop(1) }, 'replace');
    for (const mode of ['replace', 'update'] as const) {
      await expect(service.upsert(scope(), { id: 'urn:x:1', a: prop(5) }, mode)).rejects.toMatchObject({ kind: 'BadRequestData' });
      await expect(service.upsert(scope(), { id: 'urn:x:1', type: 'T', a: prop(5), b: { type: 'Property' } }, mode)).rejects.toBeInstanceOf(NgsiError);
    }
    expect((await db.store.get('', 'urn:x:1'))!.attrs[`${V}a`]![0]!.value).toBe(1);
  });

  it('creates the tenant with its first entity (5.5.10)', async () => {
    const service = new EntityService(db.store);
    expect(await db.store.hasTenant('iot')).toBe(false);
    await service.upsert(scope('iot'), { id: 'urn:x:1', type: 'T' }, 'update');
    expect(await db.store.hasTenant('iot')).toBe(true);
  });
});

describe('EntityService.batch (5.6.7-5.6.10, 5.6.20, 5.5.11)', () => {
  it('reports each element on its own: valid ones written, invalid ones not at all, errors as ProblemDetails', async () => {
    const service = new EntityService(db.store);
    const out = await service.batch('', items({ id: 'urn:x:1', type: 'T' }, { id: 'urn:x:2', type: 'T', a: { type: 'Property' } }, { id: 'urn:x:3', type: 'T' }), {
      kind: 'create',
    });
    expect(out.success).toEqual(['urn:x:1', 'urn:x:3']);
    expect(out.created).toEqual(['urn:x:1', 'urn:x:3']);
    expect(out.errors).toHaveLength(1);
    expect(out.errors[0]).toMatchObject({ entityId: 'urn:x:2', error: { type: `${ERR}BadRequestData`, status: 400 } });
    expect(await db.store.get('', 'urn:x:2')).toBeUndefined();
  });

  it('passes on the errors the HTTP layer found for an element, and reports an element without id', async () => {
    const service = new EntityService(db.store);
    const out = await service.batch(
      '',
      [
        { body: { id: 'urn:x:1', type: 'T' }, error: new NgsiError('LdContextNotAvailable', 'gone') },
        { body: { type: 'T' }, ctx },
        { body: { id: 'urn:x:2', type: 'T' }, ctx },
      ],
      { kind: 'upsert', mode: 'replace' },
    );
    expect(out.success).toEqual(['urn:x:2']);
    expect(out.errors.map((e) => [e.entityId, e.error.type])).toEqual([
      ['urn:x:1', `${ERR}LdContextNotAvailable`],
      ['', `${ERR}BadRequestData`],
    ]);
    expect(out.errors[1]!.error.detail).toMatch(/index 1/);
    expect(await db.store.get('', 'urn:x:1')).toBeUndefined();
  });

  it('gives every entity and attribute of a batch the same timestamp (5.5.11.0)', async () => {
    const service = new EntityService(db.store);
    const ids = Array.from({ length: 20 }, (_, i) => `urn:x:${i}`);
    await service.batch('', items(...ids.map((id) => ({ id, type: 'T', a: prop(1) }))), { kind: 'create' });
    const stamps = new Set<string>();
    for (const id of ids) {
      const e = (await db.store.get('', id))!;
      stamps.add(e.modifiedAt).add(e.createdAt).add(e.attrs[`${V}a`]![0]!.modifiedAt);
    }
    expect(stamps.size).toBe(1);
  });

  it('create: the first instance of an id creates, later ones are AlreadyExists (5.5.11.1)', async () => {
    const service = new EntityService(db.store);
    const out = await service.batch('', items({ id: 'urn:x:1', type: 'T', a: prop('first') }, { id: 'urn:x:1', type: 'T', a: prop('second') }), { kind: 'create' });
    expect(out.success).toEqual(['urn:x:1']);
    expect(out.errors.map((e) => e.error.type)).toEqual([`${ERR}AlreadyExists`]);
    expect((await db.store.get('', 'urn:x:1'))!.attrs[`${V}a`]![0]!.value).toBe('first');
  });

  it('upsert: created ids are listed once even when later instances update them (5.5.11.2)', async () => {
    const service = new EntityService(db.store);
    await service.batch('', items({ id: 'urn:x:old', type: 'T' }), { kind: 'create' });
    const out = await service.batch('', items({ id: 'urn:x:1', type: 'T' }, { id: 'urn:x:old', type: 'T' }, { id: 'urn:x:1', type: 'T', b: prop(2) }), {
      kind: 'upsert',
      mode: 'update',
    });
    expect(out).toEqual({ success: ['urn:x:1', 'urn:x:old'], errors: [], created: ['urn:x:1'] });
  });

  it('update with noOverwrite: attributes kept make the entity an error naming them; the new ones are written', async () => {
    const service = new EntityService(db.store);
    await service.batch('', items({ id: 'urn:x:1', type: 'T', a: prop(1) }), { kind: 'create' });
    const out = await service.batch('', items({ id: 'urn:x:1', type: 'T', a: prop(9), b: prop(2) }), { kind: 'update', noOverwrite: true });
    expect(out.success).toEqual([]);
    expect(out.errors[0]!.error).toMatchObject({
      type: `${ERR}AlreadyExists`,
      updated: [`${V}b`],
      notUpdated: [{ attributeName: `${V}a`, reason: expect.any(String) }],
    });
    const e = (await db.store.get('', 'urn:x:1'))!;
    expect(e.attrs[`${V}a`]![0]!.value).toBe(1);
    expect(e.attrs[`${V}b`]![0]!.value).toBe(2);
  });

  it('delete: a repeated id is ResourceNotFound the second time (5.5.11.4)', async () => {
    const service = new EntityService(db.store);
    await service.batch('', items({ id: 'urn:x:1', type: 'T' }), { kind: 'create' });
    const out = await service.batch('', items('urn:x:1', 'urn:x:1', 'nope'), { kind: 'delete' });
    expect(out.success).toEqual(['urn:x:1']);
    expect(out.errors.map((e) => [e.entityId, e.error.type])).toEqual([
      ['urn:x:1', `${ERR}ResourceNotFound`],
      ['nope', `${ERR}BadRequestData`],
    ]);
  });

  it('update, merge and delete in a tenant that does not exist fail as a whole with NonexistentTenant; create and upsert create it', async () => {
    const service = new EntityService(db.store);
    for (const op of [{ kind: 'update', noOverwrite: false }, { kind: 'merge' }] as const) {
      await expect(service.batch('t1', items({ id: 'urn:x:1', type: 'T', a: prop(1) }), op)).rejects.toMatchObject({ kind: 'NonexistentTenant' });
    }
    await expect(service.batch('t1', items('urn:x:1'), { kind: 'delete' })).rejects.toMatchObject({ kind: 'NonexistentTenant' });
    expect((await service.batch('t1', items({ id: 'urn:x:1', type: 'T' }), { kind: 'create' })).success).toEqual(['urn:x:1']);
    expect((await service.batch('t2', items({ id: 'urn:x:1', type: 'T' }), { kind: 'upsert', mode: 'update' })).created).toEqual(['urn:x:1']);
  });

  it('an unexpected failure of one element is an InternalError of that element only, handed to onUnexpected', async () => {
    const { store } = instrumented(db.store, { failFor: 'urn:x:2' });
    const service = new EntityService(store);
    const seen: unknown[] = [];
    const out = await service.batch('', items({ id: 'urn:x:1', type: 'T' }, { id: 'urn:x:2', type: 'T' }, { id: 'urn:x:3', type: 'T' }), { kind: 'create' }, (e) =>
      seen.push(e),
    );
    expect(out.success).toEqual(['urn:x:1', 'urn:x:3']);
    expect(out.errors).toMatchObject([{ entityId: 'urn:x:2', error: { type: `${ERR}InternalError`, status: 500 } }]);
    expect(seen).toHaveLength(1);
    expect(String(seen[0])).toMatch(/disk on fire/);
  });

  it('runs different entities concurrently and the instances of one entity one after the other', async () => {
    const { store, stats } = instrumented(db.store, { delay: () => Math.floor(Math.random() * 3) });
    const service = new EntityService(store);
    const bodies = Array.from({ length: 30 }, (_, i) => ({ id: `urn:x:${i % 5}`, type: 'T', n: prop(i) }));
    const out = await service.batch('', items(...bodies), { kind: 'upsert', mode: 'update' });
    expect(out.errors).toEqual([]);
    expect(stats.maxInFlight).toBeGreaterThan(1);
    expect(stats.maxSameId).toBe(1);
    for (let k = 0; k < 5; k++) expect((await db.store.get('', `urn:x:${k}`))!.attrs[`${V}n`]![0]!.value).toBe(25 + k);
  });

  it('property: a batch ends in the same state as its elements sent one by one, in order (5.5.11.0)', async () => {
    const op = fc.constantFrom('upsert-replace', 'upsert-update', 'merge', 'update', 'delete', 'create');
    const element = fc.record({ id: fc.integer({ min: 0, max: 3 }), attr: fc.constantFrom('a', 'b', 'c'), value: fc.integer({ min: 0, max: 9 }) });
    let run = 0;
    await fc.assert(
      fc.asyncProperty(op, fc.array(element, { minLength: 1, maxLength: 12 }), async (kind, elements) => {
        run++;
        const tenantBatch = `b${run}`;
        const tenantSeq = `s${run}`;
        const { store } = instrumented(db.store, { delay: () => Math.floor(Math.random() * 2) });
        const service = new EntityService(store);
        // Both tenants start with entities 0 and 1.
        for (const t of [tenantBatch, tenantSeq]) {
          for (const id of ['urn:x:0', 'urn:x:1']) await service.create(scope(t), { id, type: 'T', a: prop(-1) });
        }
        const body = (e: { id: number; attr: string; value: number }) => ({ id: `urn:x:${e.id}`, type: 'T', [e.attr]: prop(e.value) });
        const batchOp =
          kind === 'upsert-replace'
            ? ({ kind: 'upsert', mode: 'replace' } as const)
            : kind === 'upsert-update'
              ? ({ kind: 'upsert', mode: 'update' } as const)
              : kind === 'update'
                ? ({ kind: 'update', noOverwrite: false } as const)
                : ({ kind } as { kind: 'merge' | 'delete' | 'create' });
        const bodies = elements.map((e) => (kind === 'delete' ? `urn:x:${e.id}` : body(e)));
        const out = await service.batch(tenantBatch, items(...bodies), batchOp);
        // The same elements, one request each, in order.
        const sequential = new EntityService(db.store);
        const seqErrors: string[] = [];
        for (const b of bodies) {
          for (const e of (await sequential.batch(tenantSeq, items(b), batchOp)).errors) seqErrors.push(`${e.entityId} ${e.error.type}`);
        }
        expect(out.errors.map((e) => `${e.entityId} ${e.error.type}`)).toEqual(seqErrors);
        for (let k = 0; k < 4; k++) {
          const [x, y] = [await db.store.get(tenantBatch, `urn:x:${k}`), await db.store.get(tenantSeq, `urn:x:${k}`)];
          expect(strip(x), `entity ${k} after ${kind}`).toEqual(strip(y));
        }
      }),
      { numRuns: 40 },
    );
  });
});

/** An entity without its timestamps (the batch and the one-by-one run happen at different times). */
function strip(e: Entity | undefined): unknown {
  if (!e) return undefined;
  return { id: e.id, type: e.type, attrs: Object.fromEntries(Object.entries(e.attrs).map(([k, v]) => [k, v.map((a) => a.value)])) };
}
