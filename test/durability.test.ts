import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

// "A test starts the broker as a child process, writes, kills it with SIGKILL, restarts it and reads every
// acknowledged write back." A 201 must mean the entity is on disk: nothing the broker does after answering
// (or fails to do, being killed) may lose it.

const ROOT = resolve(import.meta.dirname, '..');
const TOTAL = 300;
const CONCURRENCY = 16;
/** Kill once this many creates were acknowledged, so that about CONCURRENCY more are in flight. */
const KILL_AFTER = 150;

interface Broker {
  child: ChildProcess;
  url: string;
  exited: Promise<void>;
  output: () => string;
}

const children = new Set<ChildProcess>();
const dirs: string[] = [];

afterAll(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

async function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => ok(port));
    });
  });
}

async function startBroker(dataDir: string): Promise<Broker> {
  const port = await freePort();
  const args = ['--import', 'tsx', 'src/main.ts', '--port', String(port), '--host', '127.0.0.1', '--data-dir', dataDir, '--log-level', 'warn'];
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const exited = new Promise<void>((ok) => child.once('exit', () => ok()));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`broker exited with ${child.exitCode} before it was ready:\n${output}`);
    try {
      const res = await fetch(`${url}/health`);
      if (res.status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`broker did not answer /health within 20s:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { child, url, exited, output: () => output };
}

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
