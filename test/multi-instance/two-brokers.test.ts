import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBrokerProcess, type BrokerProcess } from '../helpers/broker-process.js';
import { storeFromEnv } from '../helpers/store-env.js';
import { Receiver, sleep, until } from '../notifications/helpers.js';

// Issue 7: "musubi's instances must behave as one broker". Two broker processes share one MongoDB database (same
// --data-dir, so broker-process.ts gives both the same database) and one Redis (MUSUBI_REDIS_URL, inherited).

const redisUrl = process.env.MUSUBI_REDIS_URL ?? process.env.REDIS_URL;
const receiver = new Receiver();
let dataDir: string;
let a: BrokerProcess;
let b: BrokerProcess;

beforeAll(async () => {
  if (storeFromEnv().store !== 'mongo' || !redisUrl) {
    throw new Error('test/multi-instance needs MUSUBI_STORE=mongo, MUSUBI_MONGO_URL and MUSUBI_REDIS_URL (see .github/workflows/ci.yml)');
  }
  dataDir = await mkdtemp(join(tmpdir(), 'musubi-two-'));
  await receiver.start();
  a = await startBrokerProcess(dataDir, ['--redis-url', redisUrl]);
  b = await startBrokerProcess(dataDir, ['--redis-url', redisUrl]);
});
afterAll(async () => {
  for (const p of [a, b]) if (p && p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGTERM');
  await Promise.all([a?.exited, b?.exited]);
  await receiver.stop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

const JSON_HEADERS = { 'Content-Type': 'application/json' };
const send = (broker: BrokerProcess, method: string, path: string, body?: unknown) =>
  fetch(broker.url + path, { method, headers: JSON_HEADERS, body: body === undefined ? undefined : JSON.stringify(body) });

/** Create Subscription (5.8.1) `id` through `via`, notifying the receiver in plain JSON; `notification` adds to its endpoint. */
async function subscribe(via: BrokerProcess, id: string, members: Record<string, unknown>, notification: Record<string, unknown> = {}): Promise<void> {
  const body = { id, type: 'Subscription', ...members, notification: { ...notification, endpoint: { uri: receiver.url, accept: 'application/json' } } };
  expect((await send(via, 'POST', '/ngsi-ld/v1/subscriptions', body)).status).toBe(201);
}

interface NotificationBody {
  subscriptionId: string;
  data: Array<{ id: string; speed?: { value: number } }>;
}
const speedsOf = (subscriptionId: string) =>
  receiver.received
    .map((r) => r.body as unknown as NotificationBody)
    .filter((n) => n.subscriptionId === subscriptionId)
    .flatMap((n) => n.data.map((e) => e.speed?.value));

describe('two broker processes on one MongoDB and one Redis (issue 7)', () => {
  it('an entity written through one instance is read through the other (majority reads, 5.7.1)', async () => {
    expect((await send(a, 'POST', '/ngsi-ld/v1/entities', { id: 'urn:ngsi-ld:Vehicle:two-1', type: 'Vehicle', speed: { type: 'Property', value: 0 } })).status).toBe(201);
    const res = await send(b, 'GET', '/ngsi-ld/v1/entities/urn:ngsi-ld:Vehicle:two-1');
    expect(res.status).toBe(200);
    expect(((await res.json()) as { speed: { value: number } }).speed.value).toBe(0);
  });

  it('each change notifies once, whichever instance it was made on (5.8.6)', async () => {
    const subId = 'urn:ngsi-ld:Subscription:two-once';
    await subscribe(a, subId, { entities: [{ id: 'urn:ngsi-ld:Vehicle:two-1', type: 'Vehicle' }], watchedAttributes: ['speed'] }, { attributes: ['speed'], format: 'normalized' });
    // The follower learns of the subscription through Redis; the leader's engine notifies either way.
    await sleep(500);
    for (let speed = 1; speed <= 20; speed++) {
      const via = speed % 2 === 0 ? a : b;
      expect((await send(via, 'PATCH', '/ngsi-ld/v1/entities/urn:ngsi-ld:Vehicle:two-1/attrs', { speed: { type: 'Property', value: speed } })).status).toBe(204);
    }
    expect(await until(() => speedsOf(subId).filter((s) => s === 20).length > 0, 20_000)).toBe(true);
    await sleep(1000);
    const speeds = speedsOf(subId).filter((s): s is number => typeof s === 'number' && s >= 1);
    expect([...speeds].sort((x, y) => x - y)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
  });

  it('a subscription deleted on one instance no longer fires on the other', async () => {
    const subId = 'urn:ngsi-ld:Subscription:two-deleted';
    await subscribe(a, subId, { entities: [{ type: 'Vehicle' }] });
    expect((await send(b, 'DELETE', `/ngsi-ld/v1/subscriptions/${encodeURIComponent(subId)}`)).status).toBe(204);
    await sleep(500);
    await send(a, 'PATCH', '/ngsi-ld/v1/entities/urn:ngsi-ld:Vehicle:two-1/attrs', { speed: { type: 'Property', value: 100 } });
    await send(b, 'PATCH', '/ngsi-ld/v1/entities/urn:ngsi-ld:Vehicle:two-1/attrs', { speed: { type: 'Property', value: 101 } });
    await sleep(2000);
    expect(speedsOf(subId)).toEqual([]);
  });

  it('a registration made on one instance is served by the other (5.10.1)', async () => {
    const regId = 'urn:ngsi-ld:ContextSourceRegistration:two-1';
    const made = await send(b, 'POST', '/ngsi-ld/v1/csourceRegistrations', {
      id: regId,
      type: 'ContextSourceRegistration',
      information: [{ entities: [{ type: 'Room' }] }],
      endpoint: 'http://127.0.0.1:9/unreachable',
    });
    expect(made.status).toBe(201);
    const res = await send(a, 'GET', `/ngsi-ld/v1/csourceRegistrations/${encodeURIComponent(regId)}`);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { id: string }).id).toBe(regId);
  });

  it('when one instance is killed, the other notifies the changes made on it (at-least-once)', async () => {
    const subId = 'urn:ngsi-ld:Subscription:two-failover';
    await subscribe(b, subId, { entities: [{ id: 'urn:ngsi-ld:Vehicle:two-1', type: 'Vehicle' }], watchedAttributes: ['speed'] }, { attributes: ['speed'] });
    await sleep(500);
    a.child.kill('SIGKILL');
    await a.exited;
    for (const speed of [201, 202, 203]) {
      expect((await send(b, 'PATCH', '/ngsi-ld/v1/entities/urn:ngsi-ld:Vehicle:two-1/attrs', { speed: { type: 'Property', value: speed } })).status).toBe(204);
    }
    // The lease (10 s) runs out, b leads, and resumes from the change log.
    expect(await until(() => speedsOf(subId).includes(203), 40_000)).toBe(true);
    expect(speedsOf(subId)).toEqual(expect.arrayContaining([201, 202, 203]));
  });
});
