import { mkdtemp, rm } from 'node:fs/promises';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort, startBrokerProcess } from '../helpers/broker-process.js';
import { missingAfter, sendJson as send, startJsonReceiver } from '../helpers/json-receiver.js';

// Issue: "restart the broker with a queue of pending notifications and they are delivered after the restart",
// and nothing may be lost in between. The broker is killed with SIGKILL (no shutdown work at all) while its
// receiver is down and notifications are pending; after the restart every change must reach the receiver.

const ENTITIES = 40;
const dirs: string[] = [];
let receiver: Server | undefined;

afterAll(async () => {
  await new Promise<void>((ok) => (receiver ? receiver.close(() => ok()) : ok()));
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

describe('pending notifications survive a broker crash (clause 5.8, delivery engine)', () => {
  it('delivers every change made before a SIGKILL once the broker and the receiver are back', { timeout: 90_000 }, async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'musubi-notify-restart-'));
    dirs.push(dataDir);
    const receiverPort = await freePort();
    // Quick retries, so that attempts really fail (and get rescheduled) before the kill.
    const args = ['--notification-backoff-ms', '50', '--notification-max-backoff-ms', '200', '--notification-max-attempts', '1000'];

    const first = await startBrokerProcess(dataDir, args);
    expect(
      await send(first.url, 'POST', '/ngsi-ld/v1/subscriptions', {
        type: 'Subscription',
        entities: [{ type: 'T' }],
        watchedAttributes: ['n'],
        notification: { format: 'keyValues', attributes: ['n'], endpoint: { uri: `http://127.0.0.1:${receiverPort}/notify`, accept: 'application/json' } },
      }),
    ).toBe(201);
    const expected = new Set<string>();
    for (let i = 0; i < ENTITIES; i++) {
      const id = `urn:ngsi-ld:T:${i}`;
      expect(await send(first.url, 'POST', '/ngsi-ld/v1/entities', { id, type: 'T', n: { type: 'Property', value: 0 } })).toBe(201);
      expected.add(`${id}=0`);
      expect(await send(first.url, 'PATCH', `/ngsi-ld/v1/entities/${id}/attrs`, { n: { type: 'Property', value: 1 } })).toBe(204);
      expected.add(`${id}=1`);
    }
    // Let some deliveries fail against the absent receiver, then kill without any chance to clean up.
    await new Promise((r) => setTimeout(r, 300));
    first.child.kill('SIGKILL');
    await first.exited;

    const received = new Set<string>();
    receiver = await startJsonReceiver<{ data?: { id: string; n?: number }[] }>(receiverPort, (body) => {
      for (const e of body.data ?? []) received.add(`${e.id}=${e.n}`);
    });
    const second = await startBrokerProcess(dataDir, args);

    expect(await missingAfter(expected, received, 30_000), `broker output:\n${second.output()}`).toEqual([]);
    second.child.kill('SIGKILL');
    await second.exited;
  });
});
