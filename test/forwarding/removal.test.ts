import { describe, expect, it } from 'vitest';
import { API, call, deadEndpoint, PROVISION_OPS, register, useCityWithStubs } from './helpers.js';

const TIMEOUT = 300;
const enc = encodeURIComponent;

/** Delete Attribute, Delete Entity and Batch Entity Delete over registrations (clauses 5.6.5.4, 5.6.6.4, 5.6.10, 6.3.17). */
describe('forwarded deletions', () => {
  const broker = useCityWithStubs({ forwardTimeoutMs: TIMEOUT, forwardAlias: 'city-del' });
  const stub = broker.stub;
  const create = async (entity: Record<string, unknown>) => expect((await call(broker.url, 'POST', `${API}/entities`, { json: entity })).status).toBe(201);

  it('5.6.5.4: Delete Attribute of an attribute an exclusive registration owns goes to the source only, with datasetId/deleteAll', async () => {
    const source = await stub(() => ({ status: 204 }));
    const id = 'urn:ngsi-ld:DelLamp:1';
    await create({ id, type: 'DelLamp', color: { type: 'Property', value: 'red' } });
    await register(broker.url, { endpoint: source.url, mode: 'exclusive', operations: PROVISION_OPS, information: [{ entities: [{ id, type: 'DelLamp' }], propertyNames: ['switch'] }] });
    const res = await call(broker.url, 'DELETE', `${API}/entities/${id}/attrs/switch?deleteAll=true`);
    expect(res.status).toBe(204);
    expect(source.requests).toHaveLength(1);
    expect(source.requests[0]!.method).toBe('DELETE');
    expect(source.requests[0]!.url).toBe(`/ngsi-ld/v1/entities/${enc(id)}/attrs/switch?deleteAll=true`);
    expect(source.requests[0]!.headers.via).toBe('1.1 city-del (tenant=)');
    // A local attribute is deleted here and not sent to the owner of another attribute.
    expect((await call(broker.url, 'DELETE', `${API}/entities/${id}/attrs/color`)).status).toBe(204);
    expect(source.requests).toHaveLength(1);
    expect((await call(broker.url, 'GET', `${API}/entities/${id}?local=true`)).body.color).toBeUndefined();
  });

  it('5.6.5.4, 6.3.17: the owner of the attribute down is 502, slow is 504, without the entity is 404; local=true stays local', async () => {
    const down = await deadEndpoint();
    const slow = await stub(() => ({ status: 204, delayMs: 5000 }));
    const missing = await stub(() => ({ status: 404, body: { type: 'https://uri.etsi.org/ngsi-ld/errors/ResourceNotFound', title: 'not found' } }));
    const reg = (endpoint: string, id: string) => register(broker.url, { endpoint, mode: 'exclusive', operations: PROVISION_OPS, information: [{ entities: [{ id, type: 'DelLamp' }], propertyNames: ['switch'] }] });
    await reg(down, 'urn:ngsi-ld:DelLamp:down');
    await reg(slow.url, 'urn:ngsi-ld:DelLamp:slow');
    await reg(missing.url, 'urn:ngsi-ld:DelLamp:missing');
    expect((await call(broker.url, 'DELETE', `${API}/entities/urn:ngsi-ld:DelLamp:down/attrs/switch`)).status).toBe(502);
    const started = Date.now();
    expect((await call(broker.url, 'DELETE', `${API}/entities/urn:ngsi-ld:DelLamp:slow/attrs/switch`)).status).toBe(504);
    expect(Date.now() - started).toBeLessThan(TIMEOUT + 1500);
    const notFound = await call(broker.url, 'DELETE', `${API}/entities/urn:ngsi-ld:DelLamp:missing/attrs/switch`);
    expect(notFound.status).toBe(404);
    expect(notFound.body.type).toBe('https://uri.etsi.org/ngsi-ld/errors/ResourceNotFound');
    expect((await call(broker.url, 'DELETE', `${API}/entities/urn:ngsi-ld:DelLamp:missing/attrs/switch?local=true`)).status).toBe(404);
    expect(missing.requests).toHaveLength(1);
  });

  it('5.6.5.4: an owner whose registration does not offer deleteAttrs makes Delete Attribute a Conflict', async () => {
    const source = await stub(() => ({ status: 204 }));
    const id = 'urn:ngsi-ld:DelLamp:ro';
    await register(broker.url, { endpoint: source.url, mode: 'redirect', operations: ['retrieveOps'], information: [{ entities: [{ id, type: 'DelLamp' }], propertyNames: ['switch'] }] });
    const res = await call(broker.url, 'DELETE', `${API}/entities/${id}/attrs/switch`);
    expect(res.status).toBe(409);
    expect(res.body.type).toBe('https://uri.etsi.org/ngsi-ld/errors/Conflict');
    expect(source.requests).toHaveLength(0);
  });

  it('5.6.6.4: Delete Entity goes to the matching exclusive source and deletes locally; a whole-entity redirect alone is enough', async () => {
    const source = await stub(() => ({ status: 204 }));
    const id = 'urn:ngsi-ld:DelLamp:2';
    await create({ id, type: 'DelLamp', color: { type: 'Property', value: 'red' } });
    await register(broker.url, { endpoint: source.url, mode: 'exclusive', operations: PROVISION_OPS, information: [{ entities: [{ id, type: 'DelLamp' }], propertyNames: ['switch'] }] });
    expect((await call(broker.url, 'DELETE', `${API}/entities/${id}`)).status).toBe(204);
    expect(source.requests.map((r) => `${r.method} ${r.url}`)).toEqual([`DELETE /ngsi-ld/v1/entities/${enc(id)}`]);
    expect((await call(broker.url, 'GET', `${API}/entities/${id}?local=true`)).status).toBe(404);

    const redirect = await stub(() => ({ status: 204 }));
    const remoteOnly = 'urn:ngsi-ld:DelRemote:1';
    await register(broker.url, { endpoint: redirect.url, mode: 'redirect', operations: PROVISION_OPS, information: [{ entities: [{ id: remoteOnly, type: 'DelRemote' }] }] });
    expect((await call(broker.url, 'DELETE', `${API}/entities/${remoteOnly}`)).status).toBe(204);
    expect(redirect.requests).toHaveLength(1);
  });

  it('5.6.6.4, 6.5.3.2, 6.3.17: a failing source beside a local deletion gives 207 naming its registration; alone it is its error; nobody having it is 404', async () => {
    const down = await deadEndpoint();
    const id = 'urn:ngsi-ld:DelLamp:3';
    await create({ id, type: 'DelLamp', color: { type: 'Property', value: 'red' } });
    const reg = await register(broker.url, { endpoint: down, mode: 'exclusive', operations: PROVISION_OPS, information: [{ entities: [{ id, type: 'DelLamp' }], propertyNames: ['switch'] }] });
    const res = await call(broker.url, 'DELETE', `${API}/entities/${id}`);
    expect(res.status).toBe(207);
    expect(res.body.success).toEqual([id]);
    expect(res.body.errors).toHaveLength(1);
    expect(res.body.errors[0]).toMatchObject({ entityId: id, registrationId: reg, error: { status: 502 } });
    expect(res.body.errors[0].error.detail).toMatch(/could not be reached/);
    expect((await call(broker.url, 'GET', `${API}/entities/${id}?local=true`)).status).toBe(404);
    expect((await call(broker.url, 'DELETE', `${API}/entities/${id}`)).status).toBe(502);

    const missing = await stub(() => ({ status: 404 }));
    const gone = 'urn:ngsi-ld:DelGone:1';
    await register(broker.url, { endpoint: missing.url, mode: 'redirect', operations: PROVISION_OPS, information: [{ entities: [{ id: gone, type: 'DelGone' }] }] });
    expect((await call(broker.url, 'DELETE', `${API}/entities/${gone}`)).status).toBe(404);
  });

  it('4.3.6.2, 5.6.6.4, 4.20: inclusive registrations get Delete Entity only when they offer deleteEntity', async () => {
    const id = 'urn:ngsi-ld:DelIncl:1';
    // A type-only registration matches any id when the request names no type: the source says 404 for others.
    const offering = await stub((r) => ({ status: r.url.includes(enc(id)) ? 204 : 404 }));
    const readOnly = await stub(() => ({ status: 204 }));
    await create({ id, type: 'DelIncl', p: { type: 'Property', value: 1 } });
    await register(broker.url, { endpoint: offering.url, operations: ['retrieveOps', 'deleteEntity'], information: [{ entities: [{ type: 'DelIncl' }] }] });
    await register(broker.url, { endpoint: readOnly.url, operations: ['retrieveOps'], information: [{ entities: [{ type: 'DelIncl' }] }] });
    expect((await call(broker.url, 'DELETE', `${API}/entities/${id}`)).status).toBe(204);
    expect(offering.requests.map((r) => `${r.method} ${r.url}`)).toEqual([`DELETE /ngsi-ld/v1/entities/${enc(id)}`]);
    expect(readOnly.requests).toHaveLength(0);
  });

  it('5.6.10, 6.17.3.1: Batch Entity Delete forwards each element; a failing source makes that element an error of the 207', async () => {
    const source = await stub(() => ({ status: 204 }));
    const down = await deadEndpoint();
    const ok = 'urn:ngsi-ld:DelBatch:ok';
    const bad = 'urn:ngsi-ld:DelBatch:bad';
    const remote = 'urn:ngsi-ld:DelBatch:remote';
    await create({ id: ok, type: 'DelBatch', p: { type: 'Property', value: 1 } });
    await create({ id: bad, type: 'DelBatch', p: { type: 'Property', value: 1 } });
    await register(broker.url, { endpoint: source.url, mode: 'redirect', operations: PROVISION_OPS, information: [{ entities: [{ id: remote, type: 'DelBatch' }] }] });
    await register(broker.url, { endpoint: down, mode: 'exclusive', operations: PROVISION_OPS, information: [{ entities: [{ id: bad, type: 'DelBatch' }], propertyNames: ['q'] }] });
    const res = await call(broker.url, 'POST', `${API}/entityOperations/delete`, { json: [ok, bad, remote, 'urn:ngsi-ld:DelBatch:none'] });
    expect(res.status).toBe(207);
    expect(res.body.success.sort()).toEqual([ok, remote].sort());
    const errors = Object.fromEntries(res.body.errors.map((e: { entityId: string; error: { status: number; detail: string } }) => [e.entityId, e.error]));
    expect(errors[bad].status).toBe(502);
    expect(errors[bad].detail).toMatch(/deleted locally/);
    expect(errors['urn:ngsi-ld:DelBatch:none'].status).toBe(404);
    expect(source.requests.map((r) => `${r.method} ${r.url}`)).toEqual([`DELETE /ngsi-ld/v1/entities/${enc(remote)}`]);
  });
});
