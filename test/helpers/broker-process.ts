import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { afterAll } from 'vitest';
import { dropDatabase, storeFromEnv, testDatabaseName } from './store-env.js';

/** The broker as a separate process (src/main.ts under tsx), for tests that kill it. */
export interface BrokerProcess {
  child: ChildProcess;
  url: string;
  exited: Promise<void>;
  output: () => string;
}

const ROOT = resolve(import.meta.dirname, '..', '..');
const children = new Set<ChildProcess>();

/** MongoDB databases of the brokers started here (MUSUBI_STORE=mongo), dropped once the brokers are gone. */
const databases = new Set<string>();

afterAll(async () => {
  const exits = [...children].map((child) => new Promise<void>((ok) => (child.exitCode !== null || child.signalCode !== null ? ok() : child.once('exit', () => ok()))));
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  const store = storeFromEnv();
  if (store.store === 'mongo') {
    await Promise.all(exits);
    await Promise.all([...databases].map((db) => dropDatabase(store.mongoUrl, db)));
  }
});

export async function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => ok(port));
    });
  });
}

/**
 * Starts the broker on a free port over `dataDir` and waits until /health answers. With MUSUBI_STORE=mongo in the
 * environment (inherited by the child) the broker runs on MongoDB, in a database named after `dataDir`: a restart
 * over the same directory finds the same data.
 */
export async function startBrokerProcess(dataDir: string, extraArgs: string[] = []): Promise<BrokerProcess> {
  const port = await freePort();
  const storeArgs: string[] = [];
  if (storeFromEnv().store === 'mongo') {
    const db = testDatabaseName(dataDir);
    databases.add(db);
    storeArgs.push('--mongo-db', db);
  }
  const args = ['--import', 'tsx', 'src/main.ts', '--port', String(port), '--host', '127.0.0.1', '--data-dir', dataDir, '--log-level', 'warn', ...storeArgs, ...extraArgs];
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
