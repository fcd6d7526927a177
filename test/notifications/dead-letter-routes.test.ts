import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../src/config/config.js';
import { openEmbeddedQueue } from '../../src/store/embedded/notification-queue.js';
import { startBroker, type RunningBroker } from '../../src/server.js';
import { openEmbeddedStore } from '../../src/store/embedded/index.js';
import { TempDirs } from '../store/helpers.js';
import { notification, range, Receiver, until } from './helpers.js';

// The dead letter extension through the real broker: notifications queued before it starts (as a previous run
// would have left them) are delivered at start, refused with a 400, and so become dead letters.

const dirs = new TempDirs();
const receiver = new Receiver();
let broker: RunningBroker;
const ids: Record<string, string[]> = { '': [], city: [] };
const BASE = '/ngsi-ld/ex/v1/deadLetters';

beforeAll(async () => {
  await receiver.start();
  receiver.mode = 'reject';
  const dataDir = await dirs.make();
  const store = await openEmbeddedStore({ dataDir });
  const queue = await openEmbeddedQueue(store.environment);
  const items = range(7).map((n) => notification(receiver.url, n, { tenant: n < 5 ? 'city' : '' }));
  for (const item of items) ids[item.tenant]!.push(item.id);
  await queue.enqueue(items);
  await store.close();
  broker = await startBroker({ ...DEFAULT_CONFIG, port: 0, host: '127.0.0.1', dataDir, logLevel: 'silent' });
  expect(await until(() => receiver.attempts.length === 7)).toBe(true);
});

afterAll(async () => {
  await broker?.close();
  await receiver.stop();
  await dirs.cleanup();
});

const get = (path: string, tenant?: string) => fetch(broker.url + path, { headers: tenant ? { 'NGSILD-Tenant': tenant } : {} });
const call = (method: string, path: string, tenant?: string) => fetch(broker.url + path, { method, headers: tenant ? { 'NGSILD-Tenant': tenant } : {} });

async function listed(tenant?: string): Promise<string[]> {
  const res = await get(`${BASE}?limit=100`, tenant);
  return ((await res.json()) as { id: string }[]).map((d) => d.id);
}

describe('GET /ngsi-ld/ex/v1/deadLetters', () => {
  it('lists the dead letters of the tenant, with limit, offset, count and paging links', async () => {
    expect(await until(async () => (await listed('city')).length === 5)).toBe(true);
    expect((await listed()).sort()).toEqual([...ids['']!].sort());

    const res = await get(`${BASE}?limit=2&offset=0&count=true`, 'city');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(res.headers.get('ngsild-results-count')).toBe('5');
    expect(res.headers.get('link')).toContain('offset=2>; rel="next"');
    const page = (await res.json()) as Record<string, unknown>[];
    expect(page).toHaveLength(2);
    expect(page[0]).toMatchObject({
      subscriptionId: 'urn:ngsi-ld:Subscription:s1',
      endpoint: { uri: receiver.url, accept: 'application/json' },
      attempts: 1,
      lastError: expect.stringContaining('400'),
      contentType: 'application/json',
      notification: { type: 'Notification' },
    });
    expect(Date.parse(page[0]!.failedAt as string)).toBeGreaterThan(0);

    const last = await get(`${BASE}?limit=2&offset=4`, 'city');
    expect(last.headers.get('ngsild-results-count')).toBeNull();
    expect(last.headers.get('link')).toContain('offset=2>; rel="prev"');
    expect(await last.json()).toHaveLength(1);
    expect(await (await get(BASE, 'nobody')).json()).toEqual([]);
  });

  it('refuses bad paging parameters with ProblemDetails', async () => {
    const bad = await get(`${BASE}?limit=abc`);
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ type: 'https://uri.etsi.org/ngsi-ld/errors/BadRequestData' });
    expect((await get(`${BASE}?limit=0`)).status).toBe(400);
    expect((await get(`${BASE}?limit=0&count=true`)).headers.get('ngsild-results-count')).toBe('2');
    expect((await get(`${BASE}?limit=100000`)).status).toBe(403);
  });
});

describe('one dead letter', () => {
  it('is read by id within its tenant only', async () => {
    const id = ids.city![0]!;
    const res = await get(`${BASE}/${id}`, 'city');
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ id, notification: { n: 0 } });
    const other = await get(`${BASE}/${id}`);
    expect(other.status).toBe(404);
    expect(await other.json()).toMatchObject({ type: 'https://uri.etsi.org/ngsi-ld/errors/ResourceNotFound', status: 404 });
  });

  it('is replayed: queued again and delivered', async () => {
    const id = ids.city![1]!;
    receiver.mode = 'ok';
    const res = await call('POST', `${BASE}/${id}/replay`, 'city');
    expect(res.status).toBe(202);
    expect(await until(() => receiver.received.length === 1)).toBe(true);
    expect(receiver.received[0]!.body.n).toBe(1);
    expect((await get(`${BASE}/${id}`, 'city')).status).toBe(404);
    expect((await call('POST', `${BASE}/${id}/replay`, 'city')).status).toBe(404);
    expect(await listed('city')).not.toContain(id);
  });

  it('is deleted', async () => {
    const id = ids.city![2]!;
    expect((await call('DELETE', `${BASE}/${id}`)).status).toBe(404);
    const res = await call('DELETE', `${BASE}/${id}`, 'city');
    expect(res.status).toBe(204);
    expect(await res.text()).toBe('');
    expect((await call('DELETE', `${BASE}/${id}`, 'city')).status).toBe(404);
    expect((await call('PUT', `${BASE}/${id}`, 'city')).status).toBe(405);
  });
});
