import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startBrokerProcess as startBroker } from './helpers/broker-process.js';

// "A test starts the broker as a child process, writes, kills it with SIGKILL, restarts it and reads every
// acknowledged write back." A 201 must mean the entity is on disk: nothing the broker does after answering
// (or fails to do, being killed) may lose it.

const TOTAL = 300;
const CONCURRENCY = 16;
/** Kill once this many creates were acknowledged, so that about CONCURRENCY more are in flight. */
const KILL_AFTER = 150;

const dirs: string[] = [];

afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

const idOf = (i: number) => `urn:ngsi-ld:T:${i}`;

async function create(url: string, i: number): Promise<number> {
  const res = await fetch(`${url}/ngsi-ld/v1/entities`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ id: idOf(i), type: 'T', n: { type: 'Property', value: i } }),
  });
  await res.arrayBuffer();
  return res.status;
}

describe('durability', () => {
  it('reads back every acknowledged write after the broker is killed with SIGKILL', { timeout: 90_000 }, async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'musubi-durability-'));
    dirs.push(dataDir);

    const first = await startBroker(dataDir);
    const acknowledged: number[] = [];
    const failedStatuses: number[] = [];
    let next = 0;
    let killed = false;
    const worker = async () => {
      while (next < TOTAL && first.child.exitCode === null && first.child.signalCode === null) {
        const i = next++;
        try {
          const status = await create(first.url, i);
          // Only an answer received before the kill counts; anything later cannot come from this broker.
          if (status === 201) acknowledged.push(i);
          else failedStatuses.push(status);
        } catch {
          // Connection reset or refused by the kill: never acknowledged, so the broker owes us nothing.
        }
        if (!killed && acknowledged.length >= KILL_AFTER) {
          killed = true;
          first.child.kill('SIGKILL');
        }
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    if (!killed) first.child.kill('SIGKILL');
    await first.exited;
    expect(first.child.signalCode).toBe('SIGKILL');
    expect(failedStatuses, `unexpected statuses; broker output:\n${first.output()}`).toEqual([]);
    expect(acknowledged.length).toBeGreaterThanOrEqual(KILL_AFTER);
    expect(acknowledged.length).toBeLessThan(TOTAL);

    const second = await startBroker(dataDir);
    const lost: string[] = [];
    for (let k = 0; k < acknowledged.length; k += CONCURRENCY) {
      await Promise.all(
        acknowledged.slice(k, k + CONCURRENCY).map(async (i) => {
          const res = await fetch(`${second.url}/ngsi-ld/v1/entities/${idOf(i)}`, {
            headers: { Accept: 'application/json' },
          });
          const body = res.status === 200 ? ((await res.json()) as { id?: string; n?: { value?: unknown } }) : undefined;
          if (res.status !== 200) await res.arrayBuffer();
          if (body?.id !== idOf(i) || body?.n?.value !== i) lost.push(`${idOf(i)}: ${res.status} ${JSON.stringify(body)}`);
        }),
      );
    }
    expect(lost).toEqual([]);
    second.child.kill('SIGKILL');
    await second.exited;
  });
});
