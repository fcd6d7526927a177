import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../../src/config/config.js';
import { startBroker, type RunningBroker } from '../../../src/server.js';
import { openTestBackend, type TestBackend } from './store-backend.js';

// A whole broker (HTTP, services, subscription engine, delivery) on the MongoDB backend: a real replica set when
// MUSUBI_MONGO_URL is set, otherwise the in-process stand-in (store-standin.ts) — the backend's code either way.

let backend: TestBackend;
let broker: RunningBroker;
let receiver: Server;
let receiverUrl: string;
const received: unknown[] = [];

beforeAll(async () => {
  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      received.push(JSON.parse(body));
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((ok) => receiver.listen(0, '127.0.0.1', ok));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/notify`;
  backend = await openTestBackend();
  broker = await startBroker({ ...DEFAULT_CONFIG, port: 0, host: '127.0.0.1', logLevel: 'silent', store: 'mongo', mongoUrl: 'mongodb://unused' }, { openStores: async () => backend.stores });
});

afterAll(async () => {
  await broker?.close();
  await backend?.close();
  await new Promise<void>((ok) => receiver.close(() => ok()));
});

const json = { 'Content-Type': 'application/json' };
const post = (path: string, body: unknown) => fetch(`${broker.url}${path}`, { method: 'POST', headers: json, body: JSON.stringify(body) });

describe('a broker on the MongoDB backend', () => {
  it('creates (5.6.1), retrieves (5.7.1), queries with q (5.7.2) and refuses a duplicate with 409 ProblemDetails (5.5.2)', async () => {
    expect((await post('/ngsi-ld/v1/entities', { id: 'urn:ngsi-ld:V:1', type: 'V', speed: { type: 'Property', value: 50 } })).status).toBe(201);
    expect((await post('/ngsi-ld/v1/entities', { id: 'urn:ngsi-ld:V:2', type: 'V', speed: { type: 'Property', value: 90 } })).status).toBe(201);
    const dup = await post('/ngsi-ld/v1/entities', { id: 'urn:ngsi-ld:V:1', type: 'V' });
    expect(dup.status).toBe(409);
    expect(((await dup.json()) as { type: string }).type).toBe('https://uri.etsi.org/ngsi-ld/errors/AlreadyExists');
    const one = (await (await fetch(`${broker.url}/ngsi-ld/v1/entities/urn:ngsi-ld:V:1?format=keyValues`)).json()) as { speed: number };
    expect(one.speed).toBe(50);
    const res = await fetch(`${broker.url}/ngsi-ld/v1/entities?type=V&q=speed%3E60&count=true`);
    expect(res.headers.get('NGSILD-Results-Count')).toBe('1');
    expect(((await res.json()) as Array<{ id: string }>).map((e) => e.id)).toEqual(['urn:ngsi-ld:V:2']);
  });

  it('notifies a subscriber of a change through the change log and the durable queue (5.8.1, 5.11)', async () => {
    const sub = await post('/ngsi-ld/v1/subscriptions', {
      type: 'Subscription',
      entities: [{ type: 'V' }],
      watchedAttributes: ['speed'],
      notification: { endpoint: { uri: receiverUrl } },
    });
    expect(sub.status).toBe(201);
    const patch = await fetch(`${broker.url}/ngsi-ld/v1/entities/urn:ngsi-ld:V:1/attrs`, { method: 'PATCH', headers: json, body: JSON.stringify({ speed: { type: 'Property', value: 70 } }) });
    expect(patch.status).toBe(204);
    const deadline = Date.now() + 10_000;
    while (received.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const note = received[0] as { type: string; data: Array<{ id: string; speed: { value: number } }> };
    expect(note.type).toBe('Notification');
    expect(note.data.map((e) => [e.id, e.speed.value])).toEqual([['urn:ngsi-ld:V:1', 70]]);
  });

  it('keeps the history of every write for the temporal API (5.7.3)', async () => {
    const res = await fetch(`${broker.url}/ngsi-ld/v1/temporal/entities/urn:ngsi-ld:V:1?format=temporalValues&timeproperty=modifiedAt&timerel=after&timeAt=2000-01-01T00:00:00Z`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { speed: { values: Array<[number, string]> } };
    expect(body.speed.values.map((v) => v[0])).toEqual([50, 70]);
  });
});
