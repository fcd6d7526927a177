/**
 * musubi extension, not part of ETSI GS CIM 009: the FIWARE header "Fiware-Service" names the tenant when
 * NGSILD-Tenant is absent, so IoT Agents written for Orion/Orion-LD work unchanged.
 * Skipped when MUSUBI_CONFORMANCE_EXTENSIONS=0 (e.g. against other brokers).
 */
import { describe, expect, test } from 'vitest';
import { ENTITIES, createEntity, entityPath, expectProblem, expectStatus, extensionsEnabled, get, post, retrieve, tenant, uid } from '../lib/index.js';

describe.skipIf(!extensionsEnabled)('musubi extension: Fiware-Service as an alias of NGSILD-Tenant', () => {
  test('an entity created with Fiware-Service is in the tenant of that name', async () => {
    const t = tenant();
    const id = uid('Device');
    const res = await post(ENTITIES, { json: { id, type: 'Device' }, headers: { 'fiware-service': t } });
    expectStatus(res, 201);
    expect((await retrieve(id, {}, { tenant: t })).id).toBe(id);
  });

  test('Fiware-Service selects the tenant on reads', async () => {
    const t = tenant();
    const id = uid('Device');
    await createEntity({ id, type: 'Device' }, { tenant: t });
    const res = await get(entityPath(id), { headers: { 'fiware-service': t } });
    expectStatus(res, 200);
    expect(res.body.id).toBe(id);
  });

  test('an entity created with Fiware-Service is not in the default tenant', async () => {
    const t = tenant();
    const id = uid('Device');
    await createEntity({ id, type: 'Device' }, { headers: { 'fiware-service': t } });
    expectProblem(await get(entityPath(id)), 404, 'ResourceNotFound');
  });

  test('NGSILD-Tenant wins when both headers are present', async () => {
    const ngsild = tenant();
    const fiware = tenant();
    const id = uid('Device');
    await createEntity({ id, type: 'Device' }, { tenant: ngsild, headers: { 'fiware-service': fiware } });
    expect((await retrieve(id, {}, { tenant: ngsild })).id).toBe(id);
    const other = await get(entityPath(id), { tenant: fiware });
    expect(other.status).toBe(404);
  });

  test('Fiware-Service pointing to an unknown tenant gives 404 NonexistentTenant', async () => {
    expectProblem(await get(entityPath(uid('Device')), { headers: { 'fiware-service': tenant() } }), 404, 'NonexistentTenant');
  });
});
