import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningBroker } from '../../src/server.js';
import { API, call, register, startCity } from './helpers.js';

/**
 * Two musubi brokers, city A redirecting a type to city B (clause 4.3.6.3): entities of that type are created,
 * replaced, trimmed and deleted through A but live in B. Everything goes over HTTP between two real brokers.
 */
describe('provision over a redirect registration between two musubi brokers (4.3.6.3, 5.6.1.4, 5.6.5.4, 5.6.6.4, 5.6.18.4)', () => {
  let a: RunningBroker;
  let b: RunningBroker;
  const id = 'urn:ngsi-ld:Bike:1';

  beforeAll(async () => {
    [a, b] = await Promise.all([startCity({ forwardTimeoutMs: 2000 }), startCity({ forwardTimeoutMs: 2000 })]);
    await register(a.url, { endpoint: b.url, mode: 'redirect', operations: ['redirectionOps'], information: [{ entities: [{ type: 'Bike' }] }] });
  });
  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
  });

  it('5.6.1.4: Create Entity through A creates the entity in B only', async () => {
    const res = await call(a.url, 'POST', `${API}/entities`, { json: { id, type: 'Bike', dock: { type: 'Property', value: 'north' }, charge: { type: 'Property', value: 80 } } });
    expect(res.status).toBe(201);
    expect((await call(b.url, 'GET', `${API}/entities/${id}`)).body.dock.value).toBe('north');
    expect((await call(a.url, 'GET', `${API}/entities/${id}?local=true`)).status).toBe(404);
    expect((await call(a.url, 'GET', `${API}/entities/${id}`)).body.charge.value).toBe(80);
  });

  it('5.6.18.4, 5.6.5.4: Replace Entity and Delete Attribute through A change the entity in B', async () => {
    const replaced = await call(a.url, 'PUT', `${API}/entities/${id}`, { json: { type: 'Bike', dock: { type: 'Property', value: 'south' }, charge: { type: 'Property', value: 50 } } });
    expect(replaced.status).toBe(204);
    expect((await call(b.url, 'GET', `${API}/entities/${id}`)).body.dock.value).toBe('south');
    // A holds no Bike:1 and the request names no type: a registration of the type Bike cannot be said to hold it (5.12).
    expect((await call(a.url, 'DELETE', `${API}/entities/${id}/attrs/charge`)).status).toBe(404);
    expect((await call(b.url, 'GET', `${API}/entities/${id}`)).body.charge.value).toBe(50);
    expect((await call(a.url, 'DELETE', `${API}/entities/${id}/attrs/charge?type=Bike`)).status).toBe(204);
    const inB = await call(b.url, 'GET', `${API}/entities/${id}`);
    expect(inB.body.charge).toBeUndefined();
    expect(inB.body.dock.value).toBe('south');
    // B had no such attribute any more: its 404 is A's answer.
    expect((await call(a.url, 'DELETE', `${API}/entities/${id}/attrs/charge?type=Bike`)).status).toBe(404);
  });

  it('5.6.6.4: Delete Entity through A deletes it in B; a second time nobody has it: 404', async () => {
    expect((await call(a.url, 'DELETE', `${API}/entities/${id}?type=Bike`)).status).toBe(204);
    expect((await call(b.url, 'GET', `${API}/entities/${id}`)).status).toBe(404);
    expect((await call(a.url, 'DELETE', `${API}/entities/${id}?type=Bike`)).status).toBe(404);
  });

  it('5.7.5.4, 5.7.11: A lists the redirected type although it holds no such entity', async () => {
    expect((await call(a.url, 'GET', `${API}/types`)).body.typeList).toContain('Bike');
    expect((await call(a.url, 'GET', `${API}/types?local=true`)).body.typeList).not.toContain('Bike');
  });
});
