import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningBroker } from '../../src/server.js';
import { API, call, register, startCity } from './helpers.js';

/**
 * Two musubi brokers as two cities: city B registers its sensors at city A (inclusive, clause 4.3.6.2), so that
 * A answers for both. Everything goes over HTTP between two real brokers.
 */
describe('federation of two musubi brokers (clauses 4.3.6.2, 4.3.6.4, 5.7.1.4, 5.7.2.4)', () => {
  let a: RunningBroker;
  let b: RunningBroker;

  beforeAll(async () => {
    [a, b] = await Promise.all([startCity({ forwardTimeoutMs: 2000 }), startCity({ forwardTimeoutMs: 2000 })]);
    const sensor = (id: string, value: number, extra: Record<string, unknown> = {}) => ({ id, type: 'AirSensor', no2: { type: 'Property', value }, ...extra });
    for (const e of [sensor('urn:ngsi-ld:AirSensor:a1', 10), sensor('urn:ngsi-ld:AirSensor:shared', 11, { localOnly: { type: 'Property', value: 'A' } })]) {
      expect((await call(a.url, 'POST', `${API}/entities`, { json: e })).status).toBe(201);
    }
    for (const e of [sensor('urn:ngsi-ld:AirSensor:b1', 20), sensor('urn:ngsi-ld:AirSensor:b2', 80), sensor('urn:ngsi-ld:AirSensor:shared', 21, { remoteOnly: { type: 'Property', value: 'B' } })]) {
      expect((await call(b.url, 'POST', `${API}/entities`, { json: e })).status).toBe(201);
    }
    await register(a.url, { endpoint: b.url, information: [{ entities: [{ type: 'AirSensor' }] }], mode: 'inclusive' });
  });

  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
  });

  it('5.7.2.4: a query on A returns A\'s and B\'s entities, merged by id', async () => {
    const res = await call(a.url, 'GET', `${API}/entities?type=AirSensor`);
    expect(res.status).toBe(200);
    expect(res.body.map((e: { id: string }) => e.id)).toEqual([
      'urn:ngsi-ld:AirSensor:a1',
      'urn:ngsi-ld:AirSensor:b1',
      'urn:ngsi-ld:AirSensor:b2',
      'urn:ngsi-ld:AirSensor:shared',
    ]);
    const shared = res.body.find((e: { id: string }) => e.id === 'urn:ngsi-ld:AirSensor:shared');
    expect(shared.localOnly.value).toBe('A');
    expect(shared.remoteOnly.value).toBe('B');
    expect(res.headers.get('ngsild-warning')).toBeNull();
  });

  it('5.7.2.4: q filters the merged result; count and paging cover both brokers', async () => {
    const res = await call(a.url, 'GET', `${API}/entities?type=AirSensor&q=no2>15&count=true&limit=2`);
    expect(res.status).toBe(200);
    expect(res.headers.get('ngsild-results-count')).toBe('3');
    expect(res.body.map((e: { id: string }) => e.id)).toEqual(['urn:ngsi-ld:AirSensor:b1', 'urn:ngsi-ld:AirSensor:b2']);
    const next = /<([^>]*)>; rel="next"/.exec(res.headers.get('link') ?? '')?.[1];
    expect(next).toBeDefined();
    const page2 = await call(a.url, 'GET', next!);
    expect(page2.body.map((e: { id: string }) => e.id)).toEqual(['urn:ngsi-ld:AirSensor:shared']);
  });

  it('5.7.2 POST /entityOperations/query is distributed too', async () => {
    const res = await call(a.url, 'POST', `${API}/entityOperations/query`, { json: { type: 'Query', entities: [{ type: 'AirSensor' }], q: 'no2>50' } });
    expect(res.status).toBe(200);
    expect(res.body.map((e: { id: string }) => e.id)).toEqual(['urn:ngsi-ld:AirSensor:b2']);
  });

  it('6.3.18: local=true keeps the query on A', async () => {
    const res = await call(a.url, 'GET', `${API}/entities?type=AirSensor&local=true`);
    expect(res.body.map((e: { id: string }) => e.id)).toEqual(['urn:ngsi-ld:AirSensor:a1', 'urn:ngsi-ld:AirSensor:shared']);
  });

  it('5.7.1.4: Retrieve Entity on A returns an entity held only by B', async () => {
    const res = await call(a.url, 'GET', `${API}/entities/urn:ngsi-ld:AirSensor:b1`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: 'urn:ngsi-ld:AirSensor:b1', type: 'AirSensor', no2: { type: 'Property', value: 20 } });
  });

  it('5.7.1.4, 4.5.5.3: Retrieve Entity merges the parts of A and B; the later modified instance wins', async () => {
    const res = await call(a.url, 'GET', `${API}/entities/urn:ngsi-ld:AirSensor:shared?options=sysAttrs`);
    expect(res.status).toBe(200);
    expect(res.body.localOnly.value).toBe('A');
    expect(res.body.remoteOnly.value).toBe('B');
    // B's entity was created after A's, so its no2 is the more recently modified instance.
    expect(res.body.no2.value).toBe(21);
  });

  it('5.7.1.4: an id nobody holds is ResourceNotFound; local=true does not ask B', async () => {
    expect((await call(a.url, 'GET', `${API}/entities/urn:ngsi-ld:AirSensor:nowhere`)).status).toBe(404);
    expect((await call(a.url, 'GET', `${API}/entities/urn:ngsi-ld:AirSensor:b1?local=true`)).status).toBe(404);
  });

  it('4.3.6.4: mutual registrations do not loop: Via stops the request from coming back', async () => {
    await register(b.url, { endpoint: a.url, information: [{ entities: [{ type: 'AirSensor' }] }], mode: 'inclusive' });
    const started = Date.now();
    const res = await call(a.url, 'GET', `${API}/entities?type=AirSensor`);
    expect(res.status).toBe(200);
    expect(res.body).toHaveLength(4);
    expect(Date.now() - started).toBeLessThan(1500);
    const fromB = await call(b.url, 'GET', `${API}/entities/urn:ngsi-ld:AirSensor:a1`);
    expect(fromB.status).toBe(200);
    expect(fromB.body.no2.value).toBe(10);
  });
});
