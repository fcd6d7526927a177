import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DeliveryEngine } from '../../src/notifications/delivery-engine.js';
import { openEmbeddedQueue } from '../../src/store/embedded/notification-queue.js';
import { HttpSender } from '../../src/notifications/http-sender.js';
import type { DeliveryOutcome } from '../../src/notifications/types.js';
import { openEmbeddedStore, type EmbeddedEntityStore } from '../../src/store/embedded/index.js';
import { TempDirs } from '../store/helpers.js';
import { notification, range, Receiver, sleep, until } from './helpers.js';

// "Restart the broker with a queue of pending notifications and they are delivered after the restart."

const ROOT = resolve(import.meta.dirname, '../..');
const dirs = new TempDirs();
const receivers: Receiver[] = [];
afterAll(async () => {
  await Promise.all(receivers.map((r) => r.stop()));
  await dirs.cleanup();
});

async function downReceiver(): Promise<Receiver> {
  const r = new Receiver();
  await r.start();
  await r.stop();
  receivers.push(r);
  return r;
}

function engineOn(store: EmbeddedEntityStore, outcomes: DeliveryOutcome[] = []) {
  return openEmbeddedQueue(store.environment).then((queue) => {
    const sender = new HttpSender();
    const engine = new DeliveryEngine(queue, { http: sender }, {
      maxAttempts: 50,
      baseBackoffMs: 20,
      maxBackoffMs: 100,
      perEndpointConcurrency: 4,
      breakerThreshold: 5,
      breakerOpenMs: 100,
      defaultTimeoutMs: 1000,
      streamWindow: 16,
      onOutcome: (o) => outcomes.push(o),
    });
    return { queue, engine };
  });
}

/** Runs the fixture that enqueues `total` notifications; kills it with SIGKILL once `killAfter` are acknowledged. */
async function enqueueInChild(dataDir: string, uri: string, total: number, killAfter: number): Promise<number> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/fixtures/enqueue-notifications.ts', dataDir, uri, String(total)], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  let acked = 0;
  child.stderr!.on('data', (chunk) => (output += chunk));
  const exited = new Promise<void>((ok) => child.once('exit', () => ok()));
  await new Promise<void>((ok, fail) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      for (const m of chunk.toString().matchAll(/acked (\d+)/g)) acked = Math.max(acked, Number(m[1]));
      if (acked >= killAfter) ok();
    });
    void exited.then(() => fail(new Error(`fixture exited before ${killAfter} were acknowledged:\n${output}`)));
  });
  child.kill('SIGKILL');
  await exited;
  return acked;
}

describe('pending notifications survive a restart', () => {
  it('after a clean stop, including the attempts already made', async () => {
    const dataDir = await dirs.make();
    const r = await downReceiver();
    let store = await openEmbeddedStore({ dataDir });
    let { engine } = await engineOn(store);
    await engine.start();
    await engine.enqueue(range(200).map((n) => notification(r.url, n, { subscriptionId: `urn:ngsi-ld:Subscription:${n % 4}` })));
    await sleep(200);
    await engine.close();
    await store.close();

    store = await openEmbeddedStore({ dataDir });
    const outcomes: DeliveryOutcome[] = [];
    ({ engine } = await engineOn(store, outcomes));
    const pending = await (await openEmbeddedQueue(store.environment)).pending();
    expect(pending).toHaveLength(200);
    // The heads of the four streams were tried before the stop; their attempts count on.
    expect(pending.filter((p) => p.attempt > 0).length).toBeGreaterThanOrEqual(4);
    await r.start();
    await engine.start();
    expect(await until(() => r.received.length >= 200)).toBe(true);
    for (const s of range(4)) expect(r.ns(`urn:ngsi-ld:Subscription:${s}`)).toEqual(range(200).filter((n) => n % 4 === s));
    expect(outcomes.some((o) => o.ok && o.notification.attempt > 1)).toBe(true);
    await engine.close();
    expect(await (await openEmbeddedQueue(store.environment)).pending()).toEqual([]);
    await store.close();
  });

  it('after SIGKILL of the process that queued them: every acknowledged notification is delivered', async () => {
    const dataDir = await dirs.make();
    const r = await downReceiver();
    const acked = await enqueueInChild(dataDir, r.url, 2000, 500);
    const store = await openEmbeddedStore({ dataDir });
    const { engine, queue } = await engineOn(store);
    // Batches are atomic: what survived is the first k batches, k covering at least the acknowledged ones.
    const survived = (await queue.pending()).length;
    expect(survived).toBeGreaterThanOrEqual(acked);
    expect(survived % 25).toBe(0);
    await r.start();
    await engine.start();
    expect(await until(() => r.received.length >= survived, 20_000)).toBe(true);
    expect(r.ns()).toEqual(range(survived));
    await engine.close();
    await store.close();
  });
});
