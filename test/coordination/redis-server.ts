import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll } from 'vitest';
import { freePort } from '../helpers/broker-process.js';

/** A real redis-server (Debian's, see .ci/run) on a free port of 127.0.0.1, in a temporary directory. */
export interface RedisServer {
  url: string;
  port: number;
  /** Stops the server (SIGTERM, then SIGKILL after 5 s) and removes its directory unless it was given. */
  stop(): Promise<void>;
  /** SIGKILL: a crash, nothing flushed beyond what appendfsync already wrote. */
  kill(): Promise<void>;
}

/** `dir`: the data directory (kept at stop), for a restart over the same append-only file. */
export async function startRedisServer(options: { appendonly?: boolean; dir?: string } = {}): Promise<RedisServer> {
  const port = await freePort();
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'musubi-redis-'));
  const removeDir = () => {
    if (!options.dir) rmSync(dir, { recursive: true, force: true });
  };
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', options.appendonly ? 'yes' : 'no'];
  if (options.appendonly) args.push('--appendfsync', 'always');
  const child: ChildProcess = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `redis://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    removeDir();
  };
  const kill = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
    removeDir();
  };
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) {
      removeDir();
      throw new Error(`redis-server exited with ${child.exitCode} before it was ready:\n${output}`);
    }
    const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    probe.on('error', () => undefined);
    try {
      await probe.connect();
      if ((await probe.ping()) === 'PONG') break;
    } catch {
      // not listening yet
    } finally {
      probe.disconnect();
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`redis-server did not answer PING within 10 s:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { url, port, stop, kill };
}

/**
 * One redis-server for the whole test file, with an admin connection for looking at its keys: started in beforeAll,
 * stopped in afterAll (after the file's later afterAll hooks, which run first). Read the fields inside tests and hooks.
 */
export function useRedisServer(): { readonly url: string; readonly admin: Redis } {
  let server: RedisServer | undefined;
  let admin: Redis | undefined;
  beforeAll(async () => {
    server = await startRedisServer();
    admin = new Redis(server.url);
  });
  afterAll(async () => {
    admin?.disconnect();
    await server?.stop();
  });
  return {
    get url() {
      return server!.url;
    },
    get admin() {
      return admin!;
    },
  };
}
