import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningBroker } from '../../src/server.js';
import { API, call, register, startCity } from './helpers.js';

/**
 * 5.7.2.4 with attrs and a filter on other attributes: the broker filters the merged entities again, so the sources
 * are asked for the tested attributes too, and the answer is still projected to attrs. Two real brokers, B an
 * inclusive source of A.
 */
describe('distributed query with attrs and a q or geo-query on other attributes (5.7.2.4, 4.3.6.7)', () => {
  let a: RunningBroker;
  let b: RunningBroker;
  const point = (lon: number, lat: number) => ({ type: 'GeoProperty', value: { type: 'Point', coordinates: [lon, lat] } });
  const meter = (id: string, level: number) => ({ id, type: 'QfMeter', a: { type: 'Property', value: 1 }, b: { type: 'Property', value: level }, location: point(2.35, 48.85) });

  beforeAll(async () => {
    [a, b] = await Promise.all([startCity({ forwardTimeoutMs: 2000 }), startCity({ forwardTimeoutMs: 2000 })]);
    for (const e of [meter('urn:ngsi-ld:QfMeter:local', 5), meter('urn:ngsi-ld:QfMeter:local-low', 0)]) expect((await call(a.url, 'POST', `${API}/entities`, { json: e })).status).toBe(201);
    for (const e of [meter('urn:ngsi-ld:QfMeter:remote', 5), meter('urn:ngsi-ld:QfMeter:remote-low', 0)]) expect((await call(b.url, 'POST', `${API}/entities`, { json: e })).status).toBe(201);
    await register(a.url, { endpoint: b.url, information: [{ entities: [{ type: 'QfMeter' }] }], mode: 'inclusive' });
  });

  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
  });

  it('5.7.2.4: attrs=a&q=b>1 keeps the remote match, and returns only a', async () => {
    const res = await call(a.url, 'GET', `${API}/entities?type=QfMeter&attrs=a&q=b>1`);
    expect(res.status).toBe(200);
    expect(res.body.map((e: { id: string }) => e.id)).toEqual(['urn:ngsi-ld:QfMeter:local', 'urn:ngsi-ld:QfMeter:remote']);
    for (const e of res.body) expect(Object.keys(e).sort()).toEqual(['a', 'id', 'type']);
    expect(res.headers.get('ngsild-warning')).toBeNull();
  });

  it('5.7.2.4: attrs=a with a geo-query on location keeps the remote match, and returns only a', async () => {
    const geo = 'georel=near%3BmaxDistance%3D%3D1000&geometry=Point&coordinates=%5B2.35%2C48.85%5D';
    const res = await call(a.url, 'GET', `${API}/entities?type=QfMeter&attrs=a&${geo}`);
    expect(res.status).toBe(200);
    expect(res.body.map((e: { id: string }) => e.id)).toEqual([
      'urn:ngsi-ld:QfMeter:local',
      'urn:ngsi-ld:QfMeter:local-low',
      'urn:ngsi-ld:QfMeter:remote',
      'urn:ngsi-ld:QfMeter:remote-low',
    ]);
    for (const e of res.body) expect(Object.keys(e).sort()).toEqual(['a', 'id', 'type']);
  });

  it('5.7.2 POST /entityOperations/query with attrs and q is distributed the same way', async () => {
    const res = await call(a.url, 'POST', `${API}/entityOperations/query`, { json: { type: 'Query', entities: [{ type: 'QfMeter' }], attrs: ['a'], q: 'b>1' } });
    expect(res.status).toBe(200);
    expect(res.body.map((e: { id: string }) => e.id)).toEqual(['urn:ngsi-ld:QfMeter:local', 'urn:ngsi-ld:QfMeter:remote']);
    for (const e of res.body) expect(e.b).toBeUndefined();
  });
});
