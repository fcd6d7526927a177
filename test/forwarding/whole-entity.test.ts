import { describe, expect, it } from 'vitest';
import { API, call, deadEndpoint, PROVISION_OPS, register, useCityWithStubs } from './helpers.js';

const TIMEOUT = 300;
const enc = encodeURIComponent;

/** Create Entity and Replace Entity split between the broker and context sources (clauses 5.6.1.4, 5.6.18.4, 6.4.3.1, 6.5.3.3). */
describe('forwarded Create Entity and Replace Entity', () => {
  const broker = useCityWithStubs({ forwardTimeoutMs: TIMEOUT, forwardAlias: 'city-whole' });
  const stub = broker.stub;

  it('5.6.1.4, 4.3.6.3: Create Entity sends the attributes an exclusive registration owns to the source, creates the rest here', async () => {
    const source = await stub(() => ({ status: 201 }));
    const id = 'urn:ngsi-ld:NewLamp:1';
    await register(broker.url, { endpoint: source.url, mode: 'exclusive', operations: PROVISION_OPS, information: [{ entities: [{ id, type: 'NewLamp' }], propertyNames: ['switch'] }] });
    const res = await call(broker.url, 'POST', `${API}/entities`, {
      json: { id, type: 'NewLamp', switch: { type: 'Property', value: 'on' }, color: { type: 'Property', value: 'red' } },
    });
    expect(res.status).toBe(201);
    expect(res.headers.get('location')).toBe(`${API}/entities/${id}`);
    expect(source.requests).toHaveLength(1);
    const sent = source.requests[0]!;
    expect(`${sent.method} ${sent.url}`).toBe('POST /ngsi-ld/v1/entities');
    expect(sent.body).toEqual({ id, type: 'NewLamp', switch: { type: 'Property', value: 'on' } });
    expect(sent.headers.via).toBe('1.1 city-whole (tenant=)');
    const local = await call(broker.url, 'GET', `${API}/entities/${id}?local=true`);
    expect(local.body.color.value).toBe('red');
    expect(local.body.switch).toBeUndefined();
  });

  it('5.6.1.4, 4.3.6.3: a redirect registration of the whole entity by type takes the whole Create Entity; nothing is stored here', async () => {
    const source = await stub(() => ({ status: 201 }));
    const id = 'urn:ngsi-ld:Redirected:1';
    await register(broker.url, { endpoint: source.url, mode: 'redirect', operations: PROVISION_OPS, information: [{ entities: [{ type: 'Redirected' }] }] });
    const res = await call(broker.url, 'POST', `${API}/entities`, { json: { id, type: 'Redirected', a: { type: 'Property', value: 1 }, b: { type: 'Property', value: 2 } } });
    expect(res.status).toBe(201);
    expect(source.requests.map((r) => r.body)).toEqual([{ id, type: 'Redirected', a: { type: 'Property', value: 1 }, b: { type: 'Property', value: 2 } }]);
    expect((await call(broker.url, 'GET', `${API}/entities/${id}?local=true`)).status).toBe(404);
  });

  it('5.6.1.4, 6.4.3.1, 6.3.17: an owner that is down makes Create Entity 207 with Location; alone it is 502; slow is 504', async () => {
    const down = await deadEndpoint();
    const id = 'urn:ngsi-ld:NewLamp:2';
    await register(broker.url, { endpoint: down, mode: 'exclusive', operations: PROVISION_OPS, information: [{ entities: [{ id, type: 'NewLamp' }], propertyNames: ['switch'] }] });
    const res = await call(broker.url, 'POST', `${API}/entities`, {
      json: { id, type: 'NewLamp', switch: { type: 'Property', value: 'on' }, color: { type: 'Property', value: 'red' } },
    });
    expect(res.status).toBe(207);
    expect(res.headers.get('location')).toBe(`${API}/entities/${id}`);
    expect(res.body.success).toEqual([id]);
    expect(res.body.errors[0]).toMatchObject({ entityId: id, error: { status: 502 } });
    expect(res.body.errors[0].error.detail).toMatch(/switch/);
    const only = await call(broker.url, 'POST', `${API}/entities`, { json: { id: 'urn:ngsi-ld:NewLamp:2b', type: 'NewLamp', switch: { type: 'Property', value: 'on' } } });
    expect(only.status).toBe(201); // no registration matches this id
    const alone = 'urn:ngsi-ld:NewLamp:3';
    await register(broker.url, { endpoint: down, mode: 'exclusive', operations: PROVISION_OPS, information: [{ entities: [{ id: alone, type: 'NewLamp' }], propertyNames: ['switch'] }] });
    const failed = await call(broker.url, 'POST', `${API}/entities`, { json: { id: alone, type: 'NewLamp', switch: { type: 'Property', value: 'on' } } });
    expect(failed.status).toBe(502);
    expect((await call(broker.url, 'GET', `${API}/entities/${alone}?local=true`)).status).toBe(404);
    const slow = await stub(() => ({ status: 201, delayMs: 5000 }));
    const slowId = 'urn:ngsi-ld:NewLamp:slow';
    await register(broker.url, { endpoint: slow.url, mode: 'exclusive', operations: PROVISION_OPS, information: [{ entities: [{ id: slowId, type: 'NewLamp' }], propertyNames: ['switch'] }] });
    const started = Date.now();
    expect((await call(broker.url, 'POST', `${API}/entities`, { json: { id: slowId, type: 'NewLamp', switch: { type: 'Property', value: 'on' } } })).status).toBe(504);
    expect(Date.now() - started).toBeLessThan(TIMEOUT + 1500);
  });

  it('5.6.1.4: an owner whose registration does not offer createEntity makes Create Entity a Conflict, or a 207 beside local attributes', async () => {
    const source = await stub(() => ({ status: 201 }));
    const id = 'urn:ngsi-ld:NewLamp:ro';
    await register(broker.url, { endpoint: source.url, mode: 'exclusive', operations: ['retrieveOps'], information: [{ entities: [{ id, type: 'NewLamp' }], propertyNames: ['switch'] }] });
    const conflict = await call(broker.url, 'POST', `${API}/entities`, { json: { id, type: 'NewLamp', switch: { type: 'Property', value: 'on' } } });
    expect(conflict.status).toBe(409);
    expect(conflict.body.type).toBe('https://uri.etsi.org/ngsi-ld/errors/Conflict');
    const partial = await call(broker.url, 'POST', `${API}/entities`, { json: { id, type: 'NewLamp', switch: { type: 'Property', value: 'on' }, color: { type: 'Property', value: 'red' } } });
    expect(partial.status).toBe(207);
    expect(partial.body.errors[0].error.type).toBe('https://uri.etsi.org/ngsi-ld/errors/Conflict');
    expect(source.requests).toHaveLength(0);
  });

  it('5.6.18.4, 6.5.3.3: Replace Entity sends owned attributes with the type to PUT /entities/{id} of the source and replaces the rest here', async () => {
    const source = await stub(() => ({ status: 204 }));
    const id = 'urn:ngsi-ld:RepLamp:1';
    expect((await call(broker.url, 'POST', `${API}/entities`, { json: { id, type: 'RepLamp', color: { type: 'Property', value: 'red' }, old: { type: 'Property', value: 1 } } })).status).toBe(201);
    await register(broker.url, { endpoint: source.url, mode: 'exclusive', operations: PROVISION_OPS, information: [{ entities: [{ id, type: 'RepLamp' }], propertyNames: ['switch'] }] });
    const res = await call(broker.url, 'PUT', `${API}/entities/${id}`, { json: { type: 'RepLamp', switch: { type: 'Property', value: 'off' }, color: { type: 'Property', value: 'blue' } } });
    expect(res.status).toBe(204);
    expect(source.requests.map((r) => `${r.method} ${r.url}`)).toEqual([`PUT /ngsi-ld/v1/entities/${enc(id)}`]);
    expect(source.requests[0]!.body).toEqual({ type: 'RepLamp', switch: { type: 'Property', value: 'off' } });
    const local = await call(broker.url, 'GET', `${API}/entities/${id}?local=true`);
    expect(local.body.color.value).toBe('blue');
    expect(local.body.old).toBeUndefined();
    expect(local.body.switch).toBeUndefined();
  });

  it('5.6.18.4, 6.3.17: Replace Entity of an entity only a redirect source holds goes there; a failing owner beside local data is 207; nobody is 404', async () => {
    const source = await stub(() => ({ status: 204 }));
    const id = 'urn:ngsi-ld:RepRemote:1';
    await register(broker.url, { endpoint: source.url, mode: 'redirect', operations: PROVISION_OPS, information: [{ entities: [{ id, type: 'RepRemote' }] }] });
    expect((await call(broker.url, 'PUT', `${API}/entities/${id}`, { json: { type: 'RepRemote', a: { type: 'Property', value: 1 } } })).status).toBe(204);
    expect(source.requests).toHaveLength(1);

    const down = await deadEndpoint();
    const mixed = 'urn:ngsi-ld:RepLamp:2';
    expect((await call(broker.url, 'POST', `${API}/entities`, { json: { id: mixed, type: 'RepLamp', color: { type: 'Property', value: 'red' } } })).status).toBe(201);
    await register(broker.url, { endpoint: down, mode: 'exclusive', operations: PROVISION_OPS, information: [{ entities: [{ id: mixed, type: 'RepLamp' }], propertyNames: ['switch'] }] });
    const res = await call(broker.url, 'PUT', `${API}/entities/${mixed}`, { json: { type: 'RepLamp', switch: { type: 'Property', value: 'on' }, color: { type: 'Property', value: 'green' } } });
    expect(res.status).toBe(207);
    expect(res.body.errors[0].error.status).toBe(502);
    expect((await call(broker.url, 'GET', `${API}/entities/${mixed}?local=true`)).body.color.value).toBe('green');
    expect((await call(broker.url, 'PUT', `${API}/entities/urn:ngsi-ld:RepLamp:none`, { json: { type: 'RepLamp', c: { type: 'Property', value: 1 } } })).status).toBe(404);
  });

  it('5.6.7, 6.14.3.1: Batch Entity Creation sends owned attributes to their source; a failing owner makes the element an error', async () => {
    const source = await stub(() => ({ status: 201 }));
    const down = await deadEndpoint();
    const ok = 'urn:ngsi-ld:BatchNew:ok';
    const bad = 'urn:ngsi-ld:BatchNew:bad';
    await register(broker.url, { endpoint: source.url, mode: 'exclusive', operations: PROVISION_OPS, information: [{ entities: [{ id: ok, type: 'BatchNew' }], propertyNames: ['switch'] }] });
    await register(broker.url, { endpoint: down, mode: 'exclusive', operations: PROVISION_OPS, information: [{ entities: [{ id: bad, type: 'BatchNew' }], propertyNames: ['switch'] }] });
    const entity = (id: string) => ({ id, type: 'BatchNew', switch: { type: 'Property', value: 'on' }, color: { type: 'Property', value: 'red' } });
    const res = await call(broker.url, 'POST', `${API}/entityOperations/create`, { json: [entity(ok), entity(bad)] });
    expect(res.status).toBe(207);
    expect(res.body.success).toEqual([ok]);
    expect(res.body.errors[0].entityId).toBe(bad);
    expect(res.body.errors[0].error.status).toBe(502);
    expect(source.requests.map((r) => r.body)).toEqual([{ id: ok, type: 'BatchNew', switch: { type: 'Property', value: 'on' } }]);
  });
});
