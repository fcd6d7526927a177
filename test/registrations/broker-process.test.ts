import { mkdtemp, rm } from 'node:fs/promises';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort, startBrokerProcess } from '../helpers/broker-process.js';
import { missingAfter, sendJson, startJsonReceiver } from '../helpers/json-receiver.js';

// The registration guarantees against a real broker process: the Conflict rule holds under concurrent requests, and
// a CSourceNotification is not lost when the process is killed (SIGKILL, no shutdown work) right after the change.

const API = '/ngsi-ld/v1';
const dirs: string[] = [];
let receiver: Server | undefined;

afterAll(async () => {
  await new Promise<void>((ok) => (receiver ? receiver.close(() => ok()) : ok()));
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

const post = (url: string, path: string, body: unknown) => sendJson(url, 'POST', path, body);

async function dataDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'musubi-csr-process-'));
  dirs.push(dir);
  return dir;
}

describe('Context Source Registrations in a broker process', () => {
  it('4.3.6.3, 5.9.2.4: two conflicting exclusive registrations posted at once: one 201, one 409', { timeout: 60_000 }, async () => {
    const broker = await startBrokerProcess(await dataDir());
    try {
      for (let round = 0; round < 5; round++) {
        const exclusive = (n: number) => ({
          id: `urn:ngsi-ld:ContextSourceRegistration:r${round}-${n}`,
          type: 'ContextSourceRegistration',
          mode: 'exclusive',
          information: [{ entities: [{ id: `urn:ngsi-ld:Vehicle:${round}`, type: 'Vehicle' }], propertyNames: ['speed'] }],
          endpoint: 'http://cs.example',
        });
        const statuses = await Promise.all([1, 2].map((n) => post(broker.url, `${API}/csourceRegistrations`, exclusive(n))));
        expect(statuses.sort(), `round ${round}`).toEqual([201, 409]);
      }
    } finally {
      broker.child.kill('SIGKILL');
      await broker.exited;
    }
  });

  it('5.11.7: CSourceNotifications of registrations made just before a SIGKILL arrive after the restart', { timeout: 90_000 }, async () => {
    const dir = await dataDir();
    const receiverPort = await freePort();
    const args = ['--notification-backoff-ms', '50', '--notification-max-backoff-ms', '200', '--notification-max-attempts', '1000'];
    const first = await startBrokerProcess(dir, args);
    expect(
      await post(first.url, `${API}/csourceSubscriptions`, {
        type: 'Subscription',
        entities: [{ type: 'Vehicle' }],
        notification: { endpoint: { uri: `http://127.0.0.1:${receiverPort}/notify`, accept: 'application/json' } },
      }),
    ).toBe(201);
    const expected = new Set<string>();
    for (let i = 0; i < 20; i++) {
      const id = `urn:ngsi-ld:ContextSourceRegistration:${i}`;
      const status = await post(first.url, `${API}/csourceRegistrations`, {
        id,
        type: 'ContextSourceRegistration',
        information: [{ entities: [{ type: 'Vehicle' }], propertyNames: ['speed'] }],
        endpoint: 'http://cs.example',
      });
      expect(status).toBe(201);
      expected.add(id);
    }
    // Killed at once after the last 201: its notification may not have reached the delivery queue yet.
    first.child.kill('SIGKILL');
    await first.exited;

    const received = new Set<string>();
    receiver = await startJsonReceiver<{ triggerReason?: string; data?: { id: string }[] }>(receiverPort, (body) => {
      if (body.triggerReason === 'newlyMatching') for (const r of body.data ?? []) received.add(r.id);
    });
    const second = await startBrokerProcess(dir, args);
    try {
      expect(await missingAfter(expected, received, 30_000), `broker output:\n${second.output()}`).toEqual([]);
    } finally {
      second.child.kill('SIGKILL');
      await second.exited;
    }
  });
});
