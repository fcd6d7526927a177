import { describe, expect, it } from 'vitest';
import { API, call, PROVISION_OPS, register, useCityWithStubs } from './helpers.js';

const enc = encodeURIComponent;
const speed = (value: number) => ({ type: 'Property', value });

/**
 * Writes by entity id match registrations by the entity's type too (5.12, 4.3.6.3): a registration for other types
 * neither gets the write nor takes it away from this broker.
 */
describe('forwarded writes match registrations by the entity type', () => {
  const broker = useCityWithStubs({ forwardTimeoutMs: 1000, forwardAlias: 'city-types' });
  const local = async (id: string) => (await call(broker.url, 'GET', `${API}/entities/${enc(id)}?local=true`)).body as Record<string, any>;

  it('5.12, 4.3.6.3: upsert, update, append, merge, partial update, replace and delete of a Building attribute stay local beside a Vehicle registration', async () => {
    const source = await stub204();
    await register(broker.url, { endpoint: source.url, mode: 'redirect', operations: PROVISION_OPS, information: [{ entities: [{ type: 'TmVehicle' }], propertyNames: ['speed'] }] });
    const id = 'urn:ngsi-ld:TmBuilding:1';
    expect((await call(broker.url, 'POST', `${API}/entities`, { json: { id, type: 'TmBuilding', speed: speed(1) } })).status).toBe(201);

    expect((await call(broker.url, 'POST', `${API}/entityOperations/upsert?options=update`, { json: [{ id, type: 'TmBuilding', speed: speed(2) }] })).status).toBe(204);
    expect((await local(id)).speed.value).toBe(2);
    expect((await call(broker.url, 'PATCH', `${API}/entities/${enc(id)}/attrs`, { json: { speed: speed(3) } })).status).toBe(204);
    expect((await local(id)).speed.value).toBe(3);
    expect((await call(broker.url, 'POST', `${API}/entities/${enc(id)}/attrs`, { json: { speed: speed(4) } })).status).toBe(204);
    expect((await local(id)).speed.value).toBe(4);
    expect((await call(broker.url, 'PATCH', `${API}/entities/${enc(id)}`, { json: { speed: speed(5) } })).status).toBe(204);
    expect((await local(id)).speed.value).toBe(5);
    expect((await call(broker.url, 'PATCH', `${API}/entities/${enc(id)}/attrs/speed`, { json: { value: 6 } })).status).toBe(204);
    expect((await local(id)).speed.value).toBe(6);
    expect((await call(broker.url, 'PUT', `${API}/entities/${enc(id)}/attrs/speed`, { json: speed(7) })).status).toBe(204);
    expect((await local(id)).speed.value).toBe(7);
    expect((await call(broker.url, 'POST', `${API}/entityOperations/update`, { json: [{ id, type: 'TmBuilding', speed: speed(8) }] })).status).toBe(204);
    expect((await local(id)).speed.value).toBe(8);
    expect((await call(broker.url, 'DELETE', `${API}/entities/${enc(id)}/attrs/speed`)).status).toBe(204);
    expect((await local(id)).speed).toBeUndefined();
    expect((await call(broker.url, 'DELETE', `${API}/entities/${enc(id)}`)).status).toBe(204);
    expect(source.requests).toEqual([]);
  });

  it('5.12: the same writes of a Vehicle held here do go to the Vehicle registration', async () => {
    const source = await stub204();
    await register(broker.url, { endpoint: source.url, mode: 'redirect', operations: PROVISION_OPS, information: [{ entities: [{ type: 'TmCar' }], propertyNames: ['speed'] }] });
    const id = 'urn:ngsi-ld:TmCar:1';
    expect((await call(broker.url, 'POST', `${API}/entities`, { json: { id, type: 'TmCar', name: { type: 'Property', value: 'c' } } })).status).toBe(201);
    expect((await call(broker.url, 'POST', `${API}/entityOperations/upsert?options=update`, { json: [{ id, type: 'TmCar', speed: speed(2) }] })).status).toBe(204);
    expect((await call(broker.url, 'PATCH', `${API}/entities/${enc(id)}/attrs`, { json: { speed: speed(3) } })).status).toBe(204);
    expect((await call(broker.url, 'DELETE', `${API}/entities/${enc(id)}/attrs/speed`)).status).toBe(204);
    expect(source.requests.map((r) => `${r.method} ${r.url}`)).toEqual([
      `PATCH /ngsi-ld/v1/entities/${enc(id)}/attrs`,
      `PATCH /ngsi-ld/v1/entities/${enc(id)}/attrs`,
      `DELETE /ngsi-ld/v1/entities/${enc(id)}/attrs/speed`,
    ]);
    expect((await local(id)).speed).toBeUndefined();
  });

  it('5.12: for an entity not held here and a request naming no type, only registrations by id or idPattern match', async () => {
    const byType = await stub204();
    const byPattern = await stub204();
    await register(broker.url, { endpoint: byType.url, mode: 'redirect', operations: PROVISION_OPS, information: [{ entities: [{ type: 'TmTruck' }], propertyNames: ['load'] }] });
    await register(broker.url, { endpoint: byPattern.url, mode: 'redirect', operations: PROVISION_OPS, information: [{ entities: [{ idPattern: '^urn:ngsi-ld:TmBus:', type: 'TmBus' }], propertyNames: ['load'] }] });
    const load = { load: { type: 'Property', value: 1 } };
    // Nobody can be said to hold urn:ngsi-ld:TmThing:1: the Truck registration does not take it.
    expect((await call(broker.url, 'PATCH', `${API}/entities/urn:ngsi-ld:TmThing:1/attrs`, { json: load })).status).toBe(404);
    expect((await call(broker.url, 'DELETE', `${API}/entities/urn:ngsi-ld:TmThing:1/attrs/load`)).status).toBe(404);
    expect(byType.requests).toEqual([]);
    // The idPattern registration names the id, so it holds the Bus even though its type is unknown here.
    expect((await call(broker.url, 'PATCH', `${API}/entities/urn:ngsi-ld:TmBus:1/attrs`, { json: load })).status).toBe(204);
    expect(byPattern.requests.map((r) => `${r.method} ${r.url}`)).toEqual([`PATCH /ngsi-ld/v1/entities/${enc('urn:ngsi-ld:TmBus:1')}/attrs`]);
    // An upsert names the type: the Truck registration takes an entity of its type that is not held here.
    expect((await call(broker.url, 'POST', `${API}/entityOperations/upsert?options=update`, { json: [{ id: 'urn:ngsi-ld:TmTruck:1', type: 'TmTruck', ...load }] })).status).toBeLessThan(300);
    expect(byType.requests.map((r) => `${r.method} ${r.url}`)).toEqual([`PATCH /ngsi-ld/v1/entities/${enc('urn:ngsi-ld:TmTruck:1')}/attrs`]);
  });

  function stub204() {
    return broker.stub(() => ({ status: 204 }));
  }
});
