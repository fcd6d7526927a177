import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningBroker } from '../../src/server.js';
import { API, call, register, startCity } from './helpers.js';

/** Retrieve Available Entity Types / Attributes with registrations (clauses 5.7.5, 5.7.6, 5.7.8, 5.7.9, 5.7.11). */
describe('discovery includes what registrations declare', () => {
  let broker: RunningBroker;
  const tenant = { 'NGSILD-Tenant': 'discofwd' };
  beforeAll(async () => {
    broker = await startCity();
    const created = await call(broker.url, 'POST', `${API}/entities`, { json: { id: 'urn:ngsi-ld:Local:1', type: 'LocalThing', level: { type: 'Property', value: 1 } }, headers: tenant });
    expect(created.status).toBe(201);
    await register(
      broker.url,
      {
        endpoint: 'http://127.0.0.1:9',
        information: [
          { entities: [{ type: 'RemoteThing' }], propertyNames: ['speed', 'level'], relationshipNames: ['owner'] },
          { entities: [{ type: 'LocalThing' }], propertyNames: ['battery'] },
          { entities: [{ type: 'Bare' }] },
        ],
      },
      tenant,
    );
  });
  afterAll(async () => {
    await broker?.close();
  });

  it('5.7.5.4, 5.7.11: the entity type list holds local and registered types; local=true only local ones', async () => {
    const res = await call(broker.url, 'GET', `${API}/types`, { headers: tenant });
    expect(res.status).toBe(200);
    expect(res.body.typeList).toEqual(['Bare', 'LocalThing', 'RemoteThing']);
    const local = await call(broker.url, 'GET', `${API}/types?local=true`, { headers: tenant });
    expect(local.status).toBe(200);
    expect(local.body.typeList).toEqual(['LocalThing']);
  });

  it('5.7.8.4, 5.7.11: the attribute list holds local and registered attributes; local=true only local ones', async () => {
    const res = await call(broker.url, 'GET', `${API}/attributes`, { headers: tenant });
    expect(res.status).toBe(200);
    expect(res.body.attributeList).toEqual(['battery', 'level', 'owner', 'speed']);
    const local = await call(broker.url, 'GET', `${API}/attributes?local=true`, { headers: tenant });
    expect(local.body.attributeList).toEqual(['level']);
  });

  it('5.7.6, 5.7.9, 5.7.11: the detailed lists merge registered attributes into types and types into attributes', async () => {
    const types = await call(broker.url, 'GET', `${API}/types?details=true`, { headers: tenant });
    expect(types.status).toBe(200);
    const byType = Object.fromEntries(types.body.map((t: { typeName: string; attributeNames: string[] }) => [t.typeName, t.attributeNames]));
    expect(byType).toEqual({ Bare: [], LocalThing: ['battery', 'level'], RemoteThing: ['level', 'owner', 'speed'] });
    const attrs = await call(broker.url, 'GET', `${API}/attributes?details=true`, { headers: tenant });
    const byAttr = Object.fromEntries(attrs.body.map((a: { attributeName: string; typeNames: string[] }) => [a.attributeName, a.typeNames]));
    expect(byAttr).toEqual({ battery: ['LocalThing'], level: ['LocalThing', 'RemoteThing'], owner: ['RemoteThing'], speed: ['RemoteThing'] });
  });
});
