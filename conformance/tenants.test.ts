/**
 * Multi-tenancy: the NGSILD-Tenant header (clause 6.3.14) and Multi-Tenant Behaviour (clause 5.5.10).
 * Tenants are created implicitly by Create Entity (the implementation option described in 5.5.10).
 */
import { describe, expect, test } from 'vitest';
import {
  ENTITIES,
  attrsPath,
  createEntity,
  del,
  entityPath,
  expectNoContent,
  expectProblem,
  expectStatus,
  get,
  patch,
  post,
  retrieve,
  tenant,
  uid,
} from './lib/index.js';

const TENANT_HEADER = 'ngsild-tenant';

describe('NGSILD-Tenant header (6.3.14, 5.5.10)', () => {
  test('6.3.14 an entity created in a tenant is retrievable there; the header is echoed on 201 and 200', async () => {
    const t = tenant();
    const id = uid('Room');
    const created = await post(ENTITIES, { json: { id, type: 'Room', temp: { type: 'Property', value: 20 } }, tenant: t });
    expectStatus(created, 201);
    expect(created.headers.get(TENANT_HEADER), 'echoed on 201').toBe(t);
    const got = await get(entityPath(id), { tenant: t });
    expectStatus(got, 200);
    expect(got.headers.get(TENANT_HEADER), 'echoed on 200').toBe(t);
    expect(got.body).toEqual({ id, type: 'Room', temp: { type: 'Property', value: 20 } });
  });

  test('5.5.10 an entity created in a tenant is not visible in the default tenant', async () => {
    const t = tenant();
    const id = uid('Room');
    await createEntity({ id, type: 'Room' }, { tenant: t });
    expectProblem(await get(entityPath(id)), 404, 'ResourceNotFound');
  });

  test('5.5.10 an entity created in tenant A is not visible in tenant B', async () => {
    const a = tenant();
    const b = tenant();
    const id = uid('Room');
    await createEntity({ id, type: 'Room' }, { tenant: a });
    await createEntity({ id: uid('Room'), type: 'Room' }, { tenant: b });
    const res = await get(entityPath(id), { tenant: b });
    expectProblem(res, 404, 'ResourceNotFound');
  });

  test('5.5.10 an entity created in the default tenant is not visible in another tenant', async () => {
    const t = tenant();
    const id = uid('Room');
    await createEntity({ id, type: 'Room' });
    await createEntity({ id: uid('Room'), type: 'Room' }, { tenant: t });
    expectProblem(await get(entityPath(id), { tenant: t }), 404, 'ResourceNotFound');
  });

  test('5.5.10 the same id lives independently in several tenants', async () => {
    const a = tenant();
    const b = tenant();
    const id = uid('Room');
    await createEntity({ id, type: 'Room', temp: { type: 'Property', value: 1 } });
    await createEntity({ id, type: 'Room', temp: { type: 'Property', value: 2 } }, { tenant: a });
    await createEntity({ id, type: 'Room', temp: { type: 'Property', value: 3 } }, { tenant: b });
    expect((await retrieve(id)).temp.value).toBe(1);
    expect((await retrieve(id, {}, { tenant: a })).temp.value).toBe(2);
    expect((await retrieve(id, {}, { tenant: b })).temp.value).toBe(3);
  });

  test('5.5.10 an update in one tenant leaves the same id in another tenant alone', async () => {
    const t = tenant();
    const id = uid('Room');
    await createEntity({ id, type: 'Room', temp: { type: 'Property', value: 1 } });
    await createEntity({ id, type: 'Room', temp: { type: 'Property', value: 2 } }, { tenant: t });
    expectNoContent(await patch(attrsPath(id), { json: { temp: { type: 'Property', value: 99 } }, tenant: t }));
    expect((await retrieve(id)).temp.value).toBe(1);
    expect((await retrieve(id, {}, { tenant: t })).temp.value).toBe(99);
  });

  test('5.5.10 deleting in one tenant leaves the same id in another tenant alone', async () => {
    const t = tenant();
    const id = uid('Room');
    await createEntity({ id, type: 'Room' });
    await createEntity({ id, type: 'Room' }, { tenant: t });
    expectNoContent(await del(entityPath(id), { tenant: t }));
    expect((await retrieve(id)).id).toBe(id);
    expectProblem(await get(entityPath(id), { tenant: t }), 404, 'ResourceNotFound');
  });

  test('5.5.10 creating a second entity with an existing id in the same tenant gives 409', async () => {
    const t = tenant();
    const id = uid('Room');
    await createEntity({ id, type: 'Room' }, { tenant: t });
    expectProblem(await post(ENTITIES, { json: { id, type: 'Room' }, tenant: t }), 409, 'AlreadyExists');
  });

  test('5.5.10 Retrieve Entity in a tenant that does not exist gives 404 NonexistentTenant', async () => {
    expectProblem(await get(entityPath(uid('Room')), { tenant: tenant() }), 404, 'NonexistentTenant');
  });

  test('5.5.10 Update Attributes in a tenant that does not exist gives 404 NonexistentTenant', async () => {
    const res = await patch(attrsPath(uid('Room')), { json: { temp: { type: 'Property', value: 1 } }, tenant: tenant() });
    expectProblem(res, 404, 'NonexistentTenant');
  });

  test('5.5.10 Append Attributes in a tenant that does not exist gives 404 NonexistentTenant', async () => {
    const res = await post(attrsPath(uid('Room')), { json: { temp: { type: 'Property', value: 1 } }, tenant: tenant() });
    expectProblem(res, 404, 'NonexistentTenant');
  });

  test('5.5.10 Delete Entity in a tenant that does not exist gives 404 NonexistentTenant', async () => {
    expectProblem(await del(entityPath(uid('Room')), { tenant: tenant() }), 404, 'NonexistentTenant');
  });

  test('5.5.10 reading a tenant does not create it', async () => {
    const t = tenant();
    expectProblem(await get(entityPath(uid('Room')), { tenant: t }), 404, 'NonexistentTenant');
    expectProblem(await get(entityPath(uid('Room')), { tenant: t }), 404, 'NonexistentTenant');
  });

  test('6.3.14 the header is echoed on 204 responses', async () => {
    const t = tenant();
    const id = uid('Room');
    await createEntity({ id, type: 'Room', temp: { type: 'Property', value: 1 } }, { tenant: t });
    const res = await patch(attrsPath(id), { json: { temp: { type: 'Property', value: 2 } }, tenant: t });
    expectNoContent(res);
    expect(res.headers.get(TENANT_HEADER)).toBe(t);
  });

  test('6.3.14 the header is echoed on error responses too', async () => {
    const t = tenant();
    await createEntity({ id: uid('Room'), type: 'Room' }, { tenant: t });
    const res = await get(entityPath(uid('Room')), { tenant: t });
    expectProblem(res, 404, 'ResourceNotFound');
    expect(res.headers.get(TENANT_HEADER)).toBe(t);
  });

  test('6.3.14 without the header no NGSILD-Tenant header is returned (default tenant)', async () => {
    const id = uid('Room');
    const res = await post(ENTITIES, { json: { id, type: 'Room' } });
    expectStatus(res, 201);
    expect(res.headers.get(TENANT_HEADER)).toBeNull();
  });
});
