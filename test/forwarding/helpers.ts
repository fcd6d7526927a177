import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { DEFAULT_CONFIG, type Config } from '../../src/config/config.js';
import { startBroker, type RunningBroker } from '../../src/server.js';
import { brokerStoreFromEnv } from '../helpers/store-env.js';

export const API = '/ngsi-ld/v1';
/** Table 4.20-2: without operations a registration offers federationOps, which hold no provision operations. */
export const PROVISION_OPS = ['redirectionOps'];

/**
 * A musubi broker in-process on a free port over a throw-away data directory, on the backend the environment selects
 * (MUSUBI_STORE=mongo: a database of its own, dropped at close).
 */
export async function startCity(overrides: Partial<Config> = {}): Promise<RunningBroker> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'musubi-fwd-'));
  const store = brokerStoreFromEnv();
  let broker: RunningBroker;
  try {
    broker = await startBroker({ ...DEFAULT_CONFIG, port: 0, host: '127.0.0.1', dataDir, logLevel: 'silent', ...store.config, ...overrides });
  } catch (err) {
    await store.cleanup();
    await rm(dataDir, { recursive: true, force: true });
    throw err;
  }
  return {
    ...broker,
    close: async () => {
      await broker.close();
      await store.cleanup();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * For one describe block: a broker (startCity with `overrides`) up before its tests and the stub sources they start
 * with `stub`, all stopped after it.
 */
export function useCityWithStubs(overrides: Partial<Config>): { readonly url: string; stub(handler: StubHandler): Promise<Stub> } {
  let broker: RunningBroker | undefined;
  const stubs: Stub[] = [];
  beforeAll(async () => {
    broker = await startCity(overrides);
  });
  afterAll(async () => {
    await Promise.all(stubs.map((s) => s.close()));
    await broker?.close();
  });
  return {
    get url() {
      if (!broker) throw new Error('the broker is not started yet: use it inside a test');
      return broker.url;
    },
    async stub(handler) {
      const s = await startStub(handler);
      stubs.push(s);
      return s;
    },
  };
}

export interface Recorded {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: unknown;
}

export type StubHandler = (req: Recorded) => { status: number; body?: unknown; headers?: Record<string, string>; delayMs?: number };

export interface Stub {
  url: string;
  requests: Recorded[];
  handler: StubHandler;
  close(): Promise<void>;
}

/** A plain node:http context source: records every request and answers as the handler says. */
export async function startStub(handler: StubHandler): Promise<Stub> {
  const requests: Recorded[] = [];
  const stub = {
    url: '',
    requests,
    handler,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const recorded: Recorded = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: text ? JSON.parse(text) : undefined };
      requests.push(recorded);
      const answer = stub.handler(recorded);
      const send = () => {
        if (res.destroyed) return;
        const payload = answer.body === undefined ? '' : JSON.stringify(answer.body);
        res.writeHead(answer.status, { ...(payload ? { 'content-type': 'application/json' } : {}), ...answer.headers });
        res.end(payload);
      };
      if (answer.delayMs) setTimeout(send, answer.delayMs).unref();
      else send();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  stub.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return stub;
}

/** A port nothing listens on (connection refused). */
export async function deadEndpoint(): Promise<string> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

export interface Call {
  status: number;
  headers: Headers;
  body: any;
}

export async function call(base: string, method: string, url: string, opts: { json?: unknown; headers?: Record<string, string> } = {}): Promise<Call> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.json !== undefined) headers['content-type'] ??= 'application/json';
  const res = await fetch(base + url, { method, headers, body: opts.json === undefined ? undefined : JSON.stringify(opts.json) });
  const text = await res.text();
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = text;
  }
  return { status: res.status, headers: res.headers, body };
}

/** Registers `endpoint` at `broker` (clause 5.9.2); returns the registration id. */
export async function register(broker: string, registration: Record<string, unknown>, headers: Record<string, string> = {}): Promise<string> {
  const res = await call(broker, 'POST', `${API}/csourceRegistrations`, { json: { type: 'ContextSourceRegistration', ...registration }, headers });
  if (res.status !== 201) throw new Error(`registration failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.headers.get('location')!.split('/').pop()!;
}
