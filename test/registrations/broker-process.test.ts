import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort, startBrokerProcess } from '../helpers/broker-process.js';

// The registration guarantees against a real broker process: the Conflict rule holds under concurrent requests, and
// a CSourceNotification is not lost when the process is killed (SIGKILL, no shutdown work) right after the change.

const API = '/ngsi-ld/v1';
const dirs: string[] = [];
let receiver: Server | undefined;

afterAll(async () => {
  await new Promise<void>((ok) => (receiver ? receiver.close(() => ok()) : ok()));
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

async function post(url: string, path: string, body: unknown): Promise<number> {
  const res = await fetch(`${url}${path}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  await res.arrayBuffer();
  return res.status;
}

function readJson(req: IncomingMessage): Promise<{ triggerReason?: string; data?: { id: string }[] }> {
  return new Promise((ok, fail) => {
    let text = '';
    req.on('data', (c) => (text += c));
    req.on('end', () => {
      try {
        ok(JSON.parse(text));
      } catch (err) {
        fail(err);
      }
    });
  });
}

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
    receiver = createServer(async (req, res) => {
      const body = await readJson(req);
      if (body.triggerReason === 'newlyMatching') for (const r of body.data ?? []) received.add(r.id);
      res.writeHead(204).end();
    });
    await new Promise<void>((ok) => receiver!.listen(receiverPort, '127.0.0.1', ok));
    const second = await startBrokerProcess(dir, args);
    try {
      const deadline = Date.now() + 30_000;
      while ([...expected].some((id) => !received.has(id)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect([...expected].filter((id) => !received.has(id)), `broker output:\n${second.output()}`).toEqual([]);
    } finally {
      second.child.kill('SIGKILL');
      await second.exited;
    }
  });
});
